#include "zoomq/common/api_codec.h"

#include <nlohmann/json.hpp>

#include "zoomq/common/json_get.h"

namespace zoomq::api {

using nlohmann::json;

namespace {

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Result<json> ParseObject(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Internal("broker answer is not a JSON object: " + body.substr(0, 200));
  }
  return j;
}


std::vector<int> IntList(const json& j, const char* key) {
  std::vector<int> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (int n = 0; JsonIntegerOf(v, &n)) out.push_back(n);
  }
  return out;
}

PartitionInfo PartitionFromJson(const json& p) {
  PartitionInfo info;
  info.partition = JsonGet<int>(p, "partition", 0);
  info.leader = JsonGet<int>(p, "leader", -1);
  info.epoch = JsonGet<int64_t>(p, "epoch", 0);
  info.replicas = IntList(p, "replicas");
  info.isr = IntList(p, "isr");
  info.first_offset = JsonGet<int64_t>(p, "first_offset", 0);
  info.high_watermark = JsonGet<int64_t>(p, "high_watermark", 0);
  info.log_end_offset = JsonGet<int64_t>(p, "log_end_offset", 0);
  return info;
}

Result<TopicInfo> TopicFromJson(const json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    return Status::Internal("topic without a name in the broker's answer");
  }
  TopicInfo t;
  t.name = j["name"].get<std::string>();
  // describe/create carry "config"; /v1/cluster's topics only name + partitions.
  const json cfg = j.contains("config") && j["config"].is_object() ? j["config"] : json::object();
  t.replication_factor = JsonGet<int>(cfg, "replication_factor", 0);
  t.min_insync_replicas = JsonGet<int>(cfg, "min_insync_replicas", 0);
  t.retention_ms = JsonGet<int64_t>(cfg, "retention_ms", 0);
  t.retention_bytes = JsonGet<int64_t>(cfg, "retention_bytes", 0);
  t.visibility_timeout_ms = JsonGet<int64_t>(cfg, "visibility_timeout_ms", 0);
  t.max_deliveries = JsonGet<int>(cfg, "max_deliveries", 0);
  t.created_ms = JsonGet<int64_t>(j, "created_ms", 0);
  if (auto it = j.find("partitions"); it != j.end() && it->is_array()) {
    for (const json& p : *it) {
      if (p.is_object()) t.partition_info.push_back(PartitionFromJson(p));
    }
  }
  t.partitions = JsonGet<int>(cfg, "partitions", static_cast<int>(t.partition_info.size()));
  if (auto it = j.find("groups"); it != j.end() && it->is_array()) {
    for (const json& g : *it) {
      if (g.is_string()) t.groups.push_back(g.get<std::string>());
    }
  }
  return t;
}

json TopicToJson(const TopicInfo& t) {
  json parts = json::array();
  for (const PartitionInfo& p : t.partition_info) {
    parts.push_back({{"partition", p.partition},
                     {"first_offset", p.first_offset},
                     {"high_watermark", p.high_watermark},
                     {"log_end_offset", p.log_end_offset}});
  }
  return {{"name", t.name},
          {"config",
           {{"partitions", t.partitions},
            {"replication_factor", t.replication_factor},
            {"min_insync_replicas", t.min_insync_replicas},
            {"retention_ms", t.retention_ms},
            {"retention_bytes", t.retention_bytes},
            {"visibility_timeout_ms", t.visibility_timeout_ms},
            {"max_deliveries", t.max_deliveries}}},
          {"created_ms", t.created_ms},
          {"partitions", parts},
          {"groups", t.groups}};
}

}  // namespace

std::string EncodeProduceResults(const std::vector<ProduceResult>& results) {
  std::string body = "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const ProduceResult& pr = results[i];
    if (i) body += ',';
    body += "{\"partition\":" + std::to_string(pr.partition) +
            ",\"offset\":" + std::to_string(pr.offset) +
            ",\"duplicate\":" + (pr.duplicate ? "true" : "false") + "}";
  }
  body += "]}";
  return body;
}

Result<std::vector<ProduceResult>> DecodeProduceResults(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  auto it = j->find("results");
  if (it == j->end() || !it->is_array()) return Status::Internal("produce answer lacks results");
  std::vector<ProduceResult> out;
  for (const json& r : *it) {
    if (!r.is_object()) return Status::Internal("produce result is not an object");
    out.push_back({JsonGet<int>(r, "partition", 0), JsonGet<int64_t>(r, "offset", -1),
                   JsonGet<bool>(r, "duplicate", false)});
  }
  return out;
}

std::string EncodeAck(const AckResult& result, const std::string& count_key) {
  json j = {{"acked", result.applied}, {"unknown", result.unknown}};
  j[count_key] = result.applied;
  return Dump(j);
}

Result<AckResult> DecodeAck(const std::string& body, const std::string& count_key) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  AckResult r;
  // Older answers of nack/extend only had "acked" (the shape of ack).
  if (j->contains(count_key)) {
    r.applied = JsonGet<int64_t>(*j, count_key.c_str(), 0);
  } else {
    r.applied = JsonGet<int64_t>(*j, "acked", 0);
  }
  if (auto it = j->find("unknown"); it != j->end() && it->is_array()) {
    for (const json& u : *it) {
      if (u.is_string()) r.unknown.push_back(u.get<std::string>());
    }
  }
  return r;
}

std::string EncodeTopic(const TopicInfo& topic) { return Dump(TopicToJson(topic)); }

Result<TopicInfo> DecodeTopic(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  return TopicFromJson(*j);
}

std::string EncodeTopicList(const std::vector<TopicInfo>& topics) {
  json list = json::array();
  for (const TopicInfo& t : topics) list.push_back(TopicToJson(t));
  return Dump(json{{"topics", list}});
}

Result<std::vector<TopicInfo>> DecodeTopicList(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  auto it = j->find("topics");
  if (it == j->end() || !it->is_array()) return Status::Internal("answer lacks topics");
  std::vector<TopicInfo> out;
  for (const json& t : *it) {
    Result<TopicInfo> info = TopicFromJson(t);
    if (!info.ok()) return info.status();
    out.push_back(std::move(info).value());
  }
  return out;
}

std::string EncodeCluster(const ClusterInfo& cluster) {
  json brokers = json::array();
  for (const BrokerInfo& b : cluster.brokers) {
    brokers.push_back({{"id", b.id}, {"url", b.url}, {"alive", b.alive}});
  }
  json topics = json::array();
  for (const TopicInfo& t : cluster.topics) {
    json parts = json::array();
    for (const PartitionInfo& p : t.partition_info) {
      parts.push_back({{"partition", p.partition},
                       {"leader", p.leader},
                       {"epoch", p.epoch},
                       {"replicas", p.replicas},
                       {"isr", p.isr},
                       {"high_watermark", p.high_watermark},
                       {"log_end_offset", p.log_end_offset},
                       {"first_offset", p.first_offset}});
    }
    topics.push_back({{"name", t.name}, {"partitions", parts}});
  }
  return Dump({{"broker", cluster.broker},
               {"controller", cluster.controller},
               {"mode", cluster.mode},
               {"brokers", brokers},
               {"topics", topics}});
}

Result<ClusterInfo> DecodeCluster(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  ClusterInfo c;
  c.broker = JsonGet<int>(*j, "broker", 0);
  c.controller = JsonGet<int>(*j, "controller", -1);
  c.mode = JsonGet<std::string>(*j, "mode", "");
  if (auto it = j->find("brokers"); it != j->end() && it->is_array()) {
    for (const json& b : *it) {
      if (!b.is_object()) continue;
      c.brokers.push_back(
          {JsonGet<int>(b, "id", 0), JsonGet<std::string>(b, "url", ""), JsonGet<bool>(b, "alive", true)});
    }
  }
  if (auto it = j->find("topics"); it != j->end() && it->is_array()) {
    for (const json& t : *it) {
      Result<TopicInfo> info = TopicFromJson(t);
      if (!info.ok()) return info.status();
      c.topics.push_back(std::move(info).value());
    }
  }
  return c;
}

std::string EncodeGroup(const GroupInfo& g) {
  json consumers = json::array();
  for (const GroupConsumerInfo& c : g.consumers) {
    consumers.push_back({{"consumer", c.consumer}, {"last_seen_ms", c.last_seen_ms}});
  }
  return Dump({{"topic", g.topic},
               {"group", g.group},
               {"created_ms", g.created_ms},
               {"backlog", g.backlog},
               {"in_flight", g.in_flight},
               {"acked", g.acked},
               {"dead_lettered", g.dead_lettered},
               {"consumers", consumers}});
}

Result<GroupInfo> DecodeGroup(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  GroupInfo g;
  g.topic = JsonGet<std::string>(*j, "topic", "");
  g.group = JsonGet<std::string>(*j, "group", "");
  g.created_ms = JsonGet<int64_t>(*j, "created_ms", 0);
  g.backlog = JsonGet<int64_t>(*j, "backlog", 0);
  g.in_flight = JsonGet<int64_t>(*j, "in_flight", 0);
  g.acked = JsonGet<int64_t>(*j, "acked", 0);
  g.dead_lettered = JsonGet<int64_t>(*j, "dead_lettered", 0);
  if (auto it = j->find("consumers"); it != j->end() && it->is_array()) {
    for (const json& c : *it) {
      if (!c.is_object()) continue;
      g.consumers.push_back(
          {JsonGet<std::string>(c, "consumer", ""), JsonGet<int64_t>(c, "last_seen_ms", 0)});
    }
  }
  return g;
}

}  // namespace zoomq::api
