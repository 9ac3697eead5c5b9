// JSON <-> SDK request types and messages, and HTTP answers -> Status. Internal to the SDK
// (nlohmann_json stays out of the public headers). The answer types shared with the broker
// (topics, groups, cluster, produce and ack results) are read by zoomq/common/api_codec.h.
#pragma once

#include <string>
#include <vector>

#include "zoomq/client/transport.h"
#include "zoomq/client/types.h"
#include "zoomq/common/api_codec.h"

namespace zoomq::client_internal {

// A non-2xx answer (or status 0) as a Status: the API's error code when the body has one
// ({"error":{"code","message"}}), else by HTTP status; status 0 → kUnavailable with the
// transport error. 2xx → Ok.
Status StatusOf(const HttpResponse& response);

// {"messages":[...]} body of a produce request (partition set on each message).
std::string EncodeProduce(const std::vector<const OutgoingMessage*>& messages);

// {"messages":[...]} of a group pull or a stream read; `topic` fills ReceivedMessage::topic.
// For a stream read, `high_watermark` / `first_offset` are set when the answer has them.
Result<std::vector<ReceivedMessage>> DecodeMessages(const std::string& topic,
                                                    const std::string& body,
                                                    int64_t* high_watermark = nullptr,
                                                    int64_t* first_offset = nullptr);

std::string EncodeIds(const std::vector<std::string>& ids, const char* extra_key = nullptr,
                      int64_t extra_value = 0);

std::string EncodeTopicSpec(const TopicSpec& spec);

// Percent-encodes a path segment or query value.
std::string UrlEncode(const std::string& s);

}  // namespace zoomq::client_internal
