// Codec: request bodies and query strings in, JSON out. No behaviour, only shapes.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/service/broker_service.h"
#include "zoomq/common/api.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::http {

// Parses a body that must be a JSON object ("" is an error unless allow_empty).
Result<nlohmann::json> ParseObject(const std::string& body, bool allow_empty = false);

Result<std::vector<ProduceMessage>> ParseProduce(const std::string& body);

// {"ids": ["0-17", ...]} plus one optional integer field (delay_ms / visibility_ms).
struct IdsRequest {
  std::vector<MessageRef> ids;
  std::optional<int64_t> number;
};
Result<IdsRequest> ParseIds(const std::string& body, const char* number_field, int64_t min,
                            int64_t max);

// A decimal query parameter in [min, max]; `fallback` when absent.
Result<int64_t> ParseNumber(const std::optional<std::string>& text, const char* name, int64_t min,
                            int64_t max, int64_t fallback);

// Parses `partitions=0,2,5`.
Result<std::set<int32_t>> ParsePartitionList(const std::string& text);

// Topic names in routes: user names, or "<user name>.dlq".
Status ValidateTopicRef(const std::string& name);

// Security admin bodies (docs/api.md, "Security"); the ACL rule body is security::DecodeRule.
// POST /v1/security/users: {"name": "..."}, nothing else; the name (its syntax is checked
// where the user is added).
Result<std::string> ParseUserCreate(const std::string& body);
// POST /v1/security/users/{name}/tokens: "" or {"description": "..."} (at most 256 bytes).
Result<std::string> ParseTokenCreate(const std::string& body);

std::string RenderMessage(const StoredMessage& m, std::optional<uint32_t> delivery);
// {"messages":[...]} (each message rendered once, as stored); `in_flight`, when given, adds
// the consumer's lease count for a forwarding broker's SSE prefetch.
std::string RenderMessages(const std::vector<DeliveredMessage>& msgs,
                           std::optional<size_t> in_flight = std::nullopt);
// {"messages":[...],"high_watermark":H,"first_offset":F}
std::string RenderStreamRead(const StreamRead& r);

// The service's topic as the API's answer type (rendered by zoomq/common/api_codec.h), and
// back (a topic another broker answered).
zoomq::TopicInfo ApiTopic(const TopicInfo& t);
TopicInfo ServiceTopic(const zoomq::TopicInfo& t);

// --- Read back (a broker reading another broker's answer): UNAVAILABLE for a body that does
// not have the shape. The answer types shared with the SDK are read by api_codec.h.

// The body of a produce request for messages already placed (partition set on each).
std::string EncodeProduce(const std::vector<const ProduceMessage*>& messages);
// A pull answer or a stream read (high_watermark / first_offset set when `read` is given).
Result<std::vector<DeliveredMessage>> DecodeMessages(const std::string& body,
                                                     std::optional<size_t>* in_flight,
                                                     StreamRead* read);

}  // namespace zoomq::broker::http
