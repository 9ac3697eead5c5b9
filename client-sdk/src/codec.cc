#include "codec.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "zoomq/common/base64.h"
#include "zoomq/common/error_json.h"
#include "zoomq/common/json_get.h"

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


Result<ReceivedMessage> MessageFromJson(const std::string& topic, const json& m) {
  if (!m.is_object()) return Status::Internal("message is not a JSON object");
  ReceivedMessage r;
  r.topic = topic;
  r.partition = JsonGet<int>(m, "partition", 0);
  r.offset = JsonGet<int64_t>(m, "offset", 0);
  r.handle = JsonGet<std::string>(m, "id", std::to_string(r.partition) + "-" + std::to_string(r.offset));
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
  r.message_id = JsonGet<std::string>(m, "message_id", "");
  r.timestamp_ms = JsonGet<int64_t>(m, "timestamp_ms", 0);
  r.delivery = JsonGet<int>(m, "delivery", 0);
  return r;
}

}  // namespace

Status StatusOf(const HttpResponse& response) {
  if (response.status == 0) {
    return Status::Unavailable(response.error.empty() ? "no answer" : response.error);
  }
  return StatusOfAnswer(response.status, response.body);
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
    *high_watermark = JsonGet<int64_t>(*j, "high_watermark", *high_watermark);
  }
  if (first_offset && j->contains("first_offset")) {
    *first_offset = JsonGet<int64_t>(*j, "first_offset", *first_offset);
  }
  return out;
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
