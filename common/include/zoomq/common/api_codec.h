// The JSON form of the API's answer types (api.h), both ways: the broker encodes, the SDK (and
// a broker reading another broker's answer) decodes. One codec, so the two sides cannot drift.
// Decoders tolerate fields they do not know and optional fields that are missing; a body that
// is not a JSON object, or lacks the answer's list, is an error.
#pragma once

#include <string>
#include <vector>

#include "zoomq/common/api.h"
#include "zoomq/common/status.h"

namespace zoomq::api {

// {"results":[{"partition","offset","duplicate"}...]}
std::string EncodeProduceResults(const std::vector<ProduceResult>& results);
Result<std::vector<ProduceResult>> DecodeProduceResults(const std::string& body);

// {"acked": n, "<verb_key>": n, "unknown": [...]}: ack, nack and extend answer one shape, so
// "acked" is always there and nack/extend also name their own count ("nacked", "extended").
std::string EncodeAck(const AckResult& result, const std::string& count_key);
Result<AckResult> DecodeAck(const std::string& body, const std::string& count_key);

// A topic (create, describe): {"name","config":{...},"created_ms","partitions":[{"partition",
// "first_offset","high_watermark","log_end_offset"}],"groups"}.
std::string EncodeTopic(const TopicInfo& topic);
Result<TopicInfo> DecodeTopic(const std::string& body);
std::string EncodeTopicList(const std::vector<TopicInfo>& topics);  // {"topics":[...]}
Result<std::vector<TopicInfo>> DecodeTopicList(const std::string& body);

// GET /v1/cluster: brokers, controller, and per topic its partitions with leader, epoch,
// replicas, ISR and the answering broker's offsets.
std::string EncodeCluster(const ClusterInfo& cluster);
Result<ClusterInfo> DecodeCluster(const std::string& body);

std::string EncodeGroup(const GroupInfo& group);
Result<GroupInfo> DecodeGroup(const std::string& body);

}  // namespace zoomq::api
