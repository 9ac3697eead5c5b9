#include "codec.h"

#include <cctype>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "zoomq/common/base64.h"

namespace zoomq::client_internal {

using nlohmann::json;

namespace {

// Parses `body` as a JSON object (no exceptions: the SDK never throws on a broker's answer).
Result<json> ParseObject(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Internal("broker answer is not a JSON object: " + body.substr(0, 200));
  }
  return j;
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Reads j[key] as T when present and of a matching type, else `fallback`: the SDK tolerates
// fields it does not know and older brokers lacking optional ones.
template <typename T>
T Get(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return fallback;
  } else {
    if (!it->is_number()) return fallback;
  }
  return it->get<T>();
}

std::vector<int> IntList(const json& j, const char* key) {
  std::vector<int> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const json& v : *it) {
    if (v.is_number_integer()) out.push_back(v.get<int>());
  }
  return out;
}

Code CodeFromName(const std::string& name) {
  for (int c = static_cast<int>(Code::kOk); c <= static_cast<int>(Code::kTimedOut); ++c) {
    if (name == CodeName(static_cast<Code>(c))) return static_cast<Code>(c);
  }
  return Code::kOk;  // unknown name: the caller falls back to the HTTP status
}

Code CodeFromHttp(int status) {
  switch (status) {
    case 400: return Code::kInvalidRequest;
    case 404: return Code::kNotFound;
    case 405: return Code::kMethodNotAllowed;
    case 409: return Code::kTopicExists;
    case 413: return Code::kPayloadTooLarge;
    case 429: return Code::kOverloaded;
    case 503: return Code::kUnavailable;
    case 504: return Code::kTimedOut;
    default: return status >= 500 ? Code::kInternal : Code::kInvalidRequest;
  }
}

PartitionInfo DecodePartition(const json& p) {
  PartitionInfo info;
  info.partition = Get<int>(p, "partition", 0);
  info.leader = Get<int>(p, "leader", -1);
  info.epoch = Get<int64_t>(p, "epoch", 0);
  info.replicas = IntList(p, "replicas");
  info.isr = IntList(p, "isr");
  info.first_offset = Get<int64_t>(p, "first_offset", 0);
  info.high_watermark = Get<int64_t>(p, "high_watermark", 0);
  info.log_end_offset = Get<int64_t>(p, "log_end_offset", 0);
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
  t.replication_factor = Get<int>(cfg, "replication_factor", 0);
  t.min_insync_replicas = Get<int>(cfg, "min_insync_replicas", 0);
  t.retention_ms = Get<int64_t>(cfg, "retention_ms", 0);
  t.retention_bytes = Get<int64_t>(cfg, "retention_bytes", 0);
  t.visibility_timeout_ms = Get<int64_t>(cfg, "visibility_timeout_ms", 0);
  t.max_deliveries = Get<int>(cfg, "max_deliveries", 0);
  t.created_ms = Get<int64_t>(j, "created_ms", 0);
  if (auto it = j.find("partitions"); it != j.end() && it->is_array()) {
    for (const json& p : *it) {
      if (p.is_object()) t.partition_info.push_back(DecodePartition(p));
    }
  }
  t.partitions = Get<int>(cfg, "partitions", static_cast<int>(t.partition_info.size()));
  if (auto it = j.find("groups"); it != j.end() && it->is_array()) {
    for (const json& g : *it) {
      if (g.is_string()) t.groups.push_back(g.get<std::string>());
    }
  }
  return t;
}

Result<ReceivedMessage> MessageFromJson(const std::string& topic, const json& m) {
  if (!m.is_object()) return Status::Internal("message is not a JSON object");
  ReceivedMessage r;
  r.topic = topic;
  r.partition = Get<int>(m, "partition", 0);
  r.offset = Get<int64_t>(m, "offset", 0);
  r.handle = Get<std::string>(m, "id", std::to_string(r.partition) + "-" + std::to_string(r.offset));
  if (auto it = m.find("key"); it != m.end() && it->is_string()) r.key = it->get<std::string>();
  if (auto it = m.find("value_b64"); it != m.end()) {
    if (!it->is_string()) return Status::Internal("value_b64 is not a string");
    std::optional<std::string> bytes = Base64Decode(it->get_ref<const std::string&>());
    if (!bytes) return Status::Internal("value_b64 is not valid base64");
    r.value = std::move(*bytes);
    r.value_is_json = false;
  } else if (auto v = m.find("value"); v != m.end()) {
    r.value = Dump(*v);
    r.value_is_json = true;
  } else {
    r.value = "null";
  }
  if (auto it = m.find("headers"); it != m.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      r.headers[k] = v.is_string() ? v.get<std::string>() : Dump(v);
    }
  }
  r.message_id = Get<std::string>(m, "message_id", "");
  r.timestamp_ms = Get<int64_t>(m, "timestamp_ms", 0);
  r.delivery = Get<int>(m, "delivery", 0);
  return r;
}

}  // namespace

Status StatusOf(const HttpResponse& response) {
  if (response.status == 0) {
    return Status::Unavailable(response.error.empty() ? "no answer" : response.error);
  }
  if (response.status >= 200 && response.status < 300) return Status::Ok();
  Code code = Code::kOk;
  std::string message = "HTTP " + std::to_string(response.status);
  json j = json::parse(response.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object()) {
    const json& e = j["error"];
    code = CodeFromName(Get<std::string>(e, "code", ""));
    std::string m = Get<std::string>(e, "message", "");
    if (!m.empty()) message = m;
  }
  if (code == Code::kOk) code = CodeFromHttp(response.status);
  return Status(code, std::move(message));
}

std::string EncodeProduce(const std::vector<const OutgoingMessage*>& messages) {
  json list = json::array();
  for (const OutgoingMessage* m : messages) {
    json o = json::object();
    if (m->key) o["key"] = *m->key;
    if (m->value_is_json) {
      json v = json::parse(m->value, nullptr, false);
      // Validated by Send(); a value that still fails to parse goes as a JSON string.
      o["value"] = v.is_discarded() ? json(m->value) : std::move(v);
    } else {
      o["value_b64"] = Base64Encode(m->value);
    }
    if (!m->headers.empty()) o["headers"] = m->headers;
    if (!m->id.empty()) o["id"] = m->id;
    if (m->partition) o["partition"] = *m->partition;
    list.push_back(std::move(o));
  }
  return Dump(json{{"messages", std::move(list)}});
}

Result<std::vector<ProduceResult>> DecodeProduce(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  auto it = j->find("results");
  if (it == j->end() || !it->is_array()) return Status::Internal("produce answer lacks results");
  std::vector<ProduceResult> out;
  for (const json& r : *it) {
    if (!r.is_object()) return Status::Internal("produce result is not an object");
    out.push_back({Get<int>(r, "partition", 0), Get<int64_t>(r, "offset", -1),
                   Get<bool>(r, "duplicate", false)});
  }
  return out;
}

Result<std::vector<ReceivedMessage>> DecodeMessages(const std::string& topic,
                                                    const std::string& body,
                                                    int64_t* high_watermark,
                                                    int64_t* first_offset) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  auto it = j->find("messages");
  if (it == j->end() || !it->is_array()) return Status::Internal("answer lacks messages");
  std::vector<ReceivedMessage> out;
  out.reserve(it->size());
  for (const json& m : *it) {
    Result<ReceivedMessage> r = MessageFromJson(topic, m);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r).value());
  }
  if (high_watermark && j->contains("high_watermark")) {
    *high_watermark = Get<int64_t>(*j, "high_watermark", *high_watermark);
  }
  if (first_offset && j->contains("first_offset")) {
    *first_offset = Get<int64_t>(*j, "first_offset", *first_offset);
  }
  return out;
}

Result<AckResult> DecodeAck(const std::string& body, const std::string& count_key) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  AckResult r;
  // Older answers of nack/extend only had "acked" (the shape of ack).
  if (j->contains(count_key)) {
    r.applied = Get<int64_t>(*j, count_key.c_str(), 0);
  } else {
    r.applied = Get<int64_t>(*j, "acked", 0);
  }
  if (auto it = j->find("unknown"); it != j->end() && it->is_array()) {
    for (const json& u : *it) {
      if (u.is_string()) r.unknown.push_back(u.get<std::string>());
    }
  }
  return r;
}

std::string EncodeIds(const std::vector<std::string>& ids, const char* extra_key,
                      int64_t extra_value) {
  json j = {{"ids", ids}};
  if (extra_key != nullptr) j[extra_key] = extra_value;
  return Dump(j);
}

std::string EncodeTopicSpec(const TopicSpec& spec) {
  json j = {{"name", spec.name}};
  if (spec.partitions) j["partitions"] = *spec.partitions;
  if (spec.replication_factor) j["replication_factor"] = *spec.replication_factor;
  if (spec.min_insync_replicas) j["min_insync_replicas"] = *spec.min_insync_replicas;
  if (spec.retention_ms) j["retention_ms"] = *spec.retention_ms;
  if (spec.retention_bytes) j["retention_bytes"] = *spec.retention_bytes;
  if (spec.visibility_timeout_ms) j["visibility_timeout_ms"] = *spec.visibility_timeout_ms;
  if (spec.max_deliveries) j["max_deliveries"] = *spec.max_deliveries;
  return Dump(j);
}

Result<TopicInfo> DecodeTopic(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  return TopicFromJson(*j);
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

Result<ClusterInfo> DecodeCluster(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  ClusterInfo c;
  c.broker = Get<int>(*j, "broker", 0);
  c.controller = Get<int>(*j, "controller", -1);
  if (auto it = j->find("brokers"); it != j->end() && it->is_array()) {
    for (const json& b : *it) {
      if (!b.is_object()) continue;
      c.brokers.push_back(
          {Get<int>(b, "id", 0), Get<std::string>(b, "url", ""), Get<bool>(b, "alive", true)});
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

Result<GroupInfo> DecodeGroup(const std::string& body) {
  Result<json> j = ParseObject(body);
  if (!j.ok()) return j.status();
  GroupInfo g;
  g.topic = Get<std::string>(*j, "topic", "");
  g.group = Get<std::string>(*j, "group", "");
  g.created_ms = Get<int64_t>(*j, "created_ms", 0);
  g.backlog = Get<int64_t>(*j, "backlog", 0);
  g.in_flight = Get<int64_t>(*j, "in_flight", 0);
  g.acked = Get<int64_t>(*j, "acked", 0);
  g.dead_lettered = Get<int64_t>(*j, "dead_lettered", 0);
  if (auto it = j->find("consumers"); it != j->end() && it->is_array()) {
    for (const json& c : *it) {
      if (!c.is_object()) continue;
      g.consumers.push_back(
          {Get<std::string>(c, "consumer", ""), Get<int64_t>(c, "last_seen_ms", 0)});
    }
  }
  return g;
}

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    // RFC 3986 unreserved characters stay; everything else is %XX.
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace zoomq::client_internal
