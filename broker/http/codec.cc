#include "broker/http/codec.h"

#include <charconv>
#include <exception>

#include "zoomq/common/base64.h"
#include "zoomq/common/json_get.h"
#include "zoomq/common/names.h"

namespace zoomq::broker::http {

using nlohmann::json;

namespace {
constexpr size_t kMaxIdLength = 256;
constexpr size_t kMaxIdsPerRequest = 10'000;

std::string Field(size_t i, const char* name) {
  return "messages[" + std::to_string(i) + "]." + name;
}
// nlohmann's parser is iterative, but destroying and dumping a value recurse: a body of
// 100,000 '[' would overflow the stack. Nesting is checked before parsing.
constexpr int kMaxDepth = 64;

bool NestingWithin(const std::string& text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

}  // namespace

Result<json> ParseObject(const std::string& body, bool allow_empty) {
  if (body.empty()) {
    if (allow_empty) return json::object();
    return Status::Invalid("request body must be a JSON object");
  }
  if (!NestingWithin(body, kMaxDepth)) {
    return Status::Invalid("request body is nested deeper than 64 levels");
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::Invalid("request body is not valid JSON");
  if (!j.is_object()) return Status::Invalid("request body must be a JSON object");
  return j;
}

Result<std::vector<ProduceMessage>> ParseProduce(const std::string& body) {
  auto parsed = ParseObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = parsed.value();
  auto it = j.find("messages");
  if (it == j.end()) return Status::Invalid("field 'messages' is required");
  if (!it->is_array()) return Status::Invalid("field 'messages' must be an array");
  if (it->empty()) return Status::Invalid("field 'messages' must not be empty");
  std::vector<ProduceMessage> out;
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    const json& m = (*it)[i];
    if (!m.is_object()) {
      return Status::Invalid("messages[" + std::to_string(i) + "] must be an object");
    }
    ProduceMessage pm;
    auto value = m.find("value");
    auto b64 = m.find("value_b64");
    if ((value == m.end()) == (b64 == m.end())) {
      return Status::Invalid("messages[" + std::to_string(i) +
                             "] must have exactly one of 'value' and 'value_b64'");
    }
    size_t encoded = 0;
    if (value != m.end()) {
      pm.value = value->dump(-1, ' ', false, json::error_handler_t::replace);
      encoded = pm.value.size();
    } else {
      if (!b64->is_string()) return Status::Invalid(Field(i, "value_b64") + " must be a string");
      const std::string& text = b64->get_ref<const std::string&>();
      auto bytes = Base64Decode(text);
      if (!bytes) return Status::Invalid(Field(i, "value_b64") + " is not valid base64");
      pm.value = std::move(*bytes);
      pm.value_is_bytes = true;
      encoded = text.size();
    }
    if (auto k = m.find("key"); k != m.end() && !k->is_null()) {
      if (!k->is_string()) return Status::Invalid(Field(i, "key") + " must be a string");
      pm.key = k->get<std::string>();
    }
    if (auto h = m.find("headers"); h != m.end() && !h->is_null()) {
      if (!h->is_object()) return Status::Invalid(Field(i, "headers") + " must be an object");
      for (auto& [hk, hv] : h->items()) {
        if (!hv.is_string()) {
          return Status::Invalid(Field(i, "headers") + "['" + hk + "'] must be a string");
        }
      }
      pm.headers_json = h->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    if (auto id = m.find("id"); id != m.end() && !id->is_null()) {
      if (!id->is_string()) return Status::Invalid(Field(i, "id") + " must be a string");
      pm.id = id->get<std::string>();
      if (pm.id->empty() || pm.id->size() > kMaxIdLength) {
        return Status::Invalid(Field(i, "id") + " must be 1-256 characters");
      }
    }
    if (auto p = m.find("partition"); p != m.end() && !p->is_null()) {
      if (!p->is_number_integer() || (p->is_number_unsigned() && p->get<uint64_t>() > 1u << 30)) {
        return Status::Invalid(Field(i, "partition") + " must be a non-negative integer");
      }
      if (p->get<int64_t>() < 0) {
        return Status::Invalid(Field(i, "partition") + " must be a non-negative integer");
      }
      pm.partition = p->get<int64_t>();
    }
    size_t bytes =
        encoded + (pm.key ? pm.key->size() : 0) + (pm.headers_json ? pm.headers_json->size() : 0);
    pm.bytes = static_cast<uint32_t>(std::min<size_t>(bytes, UINT32_MAX));
    out.push_back(std::move(pm));
  }
  return out;
}

Result<IdsRequest> ParseIds(const std::string& body, const char* number_field, int64_t min,
                            int64_t max) {
  auto parsed = ParseObject(body);
  if (!parsed.ok()) return parsed.status();
  const json& j = parsed.value();
  auto it = j.find("ids");
  if (it == j.end()) return Status::Invalid("field 'ids' is required");
  if (!it->is_array()) return Status::Invalid("field 'ids' must be an array of strings");
  if (it->size() > kMaxIdsPerRequest) {
    return Status::Invalid("field 'ids' holds more than 10000 ids");
  }
  IdsRequest out;
  for (const json& v : *it) {
    if (!v.is_string()) return Status::Invalid("field 'ids' must be an array of strings");
    const std::string& s = v.get_ref<const std::string&>();
    // "<partition>-<offset>", both decimal.
    size_t dash = s.find('-');
    MessageRef ref{0, 0, s};
    bool ok = dash != std::string::npos && dash > 0 && dash + 1 < s.size();
    if (ok) {
      auto r1 = std::from_chars(s.data(), s.data() + dash, ref.partition);
      auto r2 = std::from_chars(s.data() + dash + 1, s.data() + s.size(), ref.offset);
      ok = r1.ec == std::errc() && r1.ptr == s.data() + dash && r2.ec == std::errc() &&
           r2.ptr == s.data() + s.size() && ref.partition >= 0 && s[0] != '+' && s[dash + 1] != '+';
    }
    if (!ok) return Status::Invalid("id '" + s + "' is malformed (expected <partition>-<offset>)");
    out.ids.push_back(std::move(ref));
  }
  if (number_field != nullptr) {
    if (auto n = j.find(number_field); n != j.end() && !n->is_null()) {
      bool ok = n->is_number_integer() &&
                !(n->is_number_unsigned() && n->get<uint64_t>() > static_cast<uint64_t>(max));
      if (ok) {
        int64_t v = n->get<int64_t>();
        ok = v >= min && v <= max;
        out.number = v;
      }
      if (!ok) {
        return Status::Invalid(std::string("field '") + number_field + "' must be an integer in " +
                               std::to_string(min) + "-" + std::to_string(max));
      }
    }
  }
  return out;
}

Result<int64_t> ParseNumber(const std::optional<std::string>& text, const char* name, int64_t min,
                            int64_t max, int64_t fallback) {
  if (!text) return fallback;
  int64_t v = 0;
  const std::string& s = *text;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < min || v > max) {
    return Status::Invalid(std::string("query parameter '") + name + "' must be an integer in " +
                           std::to_string(min) + "-" + std::to_string(max));
  }
  return v;
}

Status ValidateTopicRef(const std::string& name) {
  if (IsDlqName(name)) {
    return ValidateName(std::string_view(name).substr(0, name.size() - kDlqSuffix.size()), "topic");
  }
  return ValidateName(name, "topic");
}

std::string RenderMessage(const StoredMessage& m, std::optional<uint32_t> delivery) {
  std::string s;
  s.reserve(m.value.size() + 160);
  s += "{\"id\":\"";
  s += std::to_string(m.partition);
  s += '-';
  s += std::to_string(m.offset);
  s += "\",\"partition\":";
  s += std::to_string(m.partition);
  s += ",\"offset\":";
  s += std::to_string(m.offset);
  if (m.key) {
    s += ",\"key\":";
    s += json(*m.key).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (m.value_is_bytes) {
    s += ",\"value_b64\":\"";
    s += Base64Encode(m.value);
    s += '"';
  } else {
    s += ",\"value\":";  // stored as the JSON text the broker itself wrote
    s += m.value;
  }
  s += ",\"headers\":";
  s += m.headers_json ? *m.headers_json : "{}";
  if (m.id) {
    s += ",\"message_id\":";
    s += json(*m.id).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  s += ",\"timestamp_ms\":";
  s += std::to_string(m.timestamp_ms);
  if (delivery) {
    s += ",\"delivery\":";
    s += std::to_string(*delivery);
  }
  s += '}';
  return s;
}

std::string RenderMessages(const std::vector<DeliveredMessage>& msgs,
                           std::optional<size_t> in_flight) {
  std::string s = "{\"messages\":[";
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (i) s += ',';
    s += RenderMessage(msgs[i].message, msgs[i].delivery);
  }
  s += ']';
  if (in_flight) s += ",\"in_flight\":" + std::to_string(*in_flight);
  s += '}';
  return s;
}

Result<std::string> ParseUserCreate(const std::string& body) {
  auto j = ParseObject(body);
  if (!j.ok()) return j.status();
  for (const auto& [key, value] : j->items()) {
    if (key != "name") return Status::Invalid("unknown field '" + key + "'");
  }
  auto it = j->find("name");
  if (it == j->end() || !it->is_string()) {
    return Status::Invalid("field 'name' (a string) is required");
  }
  return it->get<std::string>();
}

Result<std::string> ParseTokenCreate(const std::string& body) {
  constexpr size_t kMaxDescription = 256;
  auto j = ParseObject(body, /*allow_empty=*/true);
  if (!j.ok()) return j.status();
  std::string description;
  for (const auto& [key, value] : j->items()) {
    if (key != "description") return Status::Invalid("unknown field '" + key + "'");
    if (!value.is_string()) return Status::Invalid("field 'description' must be a string");
    description = value.get<std::string>();
  }
  if (description.size() > kMaxDescription) {
    return Status::Invalid("field 'description' is at most 256 bytes");
  }
  return description;
}

Result<std::set<int32_t>> ParsePartitionList(const std::string& text) {
  const Status bad = Status::Invalid(
      "query parameter 'partitions' must be comma-separated partition numbers (e.g. 0,2,5)");
  std::set<int32_t> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    size_t end = comma == std::string::npos ? text.size() : comma;
    int32_t p = 0;
    auto r = std::from_chars(text.data() + start, text.data() + end, p);
    if (end == start || r.ec != std::errc() || r.ptr != text.data() + end || p < 0 ||
        p > (1 << 30)) {
      return bad;
    }
    out.insert(p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string RenderStreamRead(const StreamRead& r) {
  std::string body = "{\"messages\":[";
  for (size_t i = 0; i < r.messages.size(); ++i) {
    if (i) body += ',';
    body += RenderMessage(r.messages[i], std::nullopt);
  }
  body += "],\"high_watermark\":" + std::to_string(r.high_watermark) +
          ",\"first_offset\":" + std::to_string(r.first_offset) + "}";
  return body;
}

zoomq::TopicInfo ApiTopic(const TopicInfo& t) {
  zoomq::TopicInfo out;
  out.name = t.name;
  out.partitions = t.config.partitions;
  out.replication_factor = t.config.replication_factor;
  out.min_insync_replicas = t.config.min_insync_replicas;
  out.retention_ms = t.config.retention_ms;
  out.retention_bytes = t.config.retention_bytes;
  out.visibility_timeout_ms = t.config.visibility_timeout_ms;
  out.max_deliveries = t.config.max_deliveries;
  out.created_ms = t.created_ms;
  for (const PartitionInfo& p : t.partitions) {
    zoomq::PartitionInfo api;
    api.partition = p.partition;
    api.first_offset = static_cast<int64_t>(p.first_offset);
    api.high_watermark = static_cast<int64_t>(p.high_watermark);
    api.log_end_offset = static_cast<int64_t>(p.log_end_offset);
    out.partition_info.push_back(api);
  }
  out.groups = t.groups;
  return out;
}

TopicInfo ServiceTopic(const zoomq::TopicInfo& t) {
  TopicInfo out;
  out.name = t.name;
  out.config.partitions = t.partitions;
  out.config.replication_factor = t.replication_factor;
  out.config.min_insync_replicas = t.min_insync_replicas;
  out.config.retention_ms = t.retention_ms;
  out.config.retention_bytes = t.retention_bytes;
  out.config.visibility_timeout_ms = t.visibility_timeout_ms;
  out.config.max_deliveries = t.max_deliveries;
  out.created_ms = t.created_ms;
  for (const zoomq::PartitionInfo& p : t.partition_info) {
    out.partitions.push_back(PartitionInfo{p.partition, static_cast<uint64_t>(p.first_offset),
                                           static_cast<uint64_t>(p.high_watermark),
                                           static_cast<uint64_t>(p.log_end_offset)});
  }
  out.groups = t.groups;
  return out;
}

// --- Reading answers back -----------------------------------------------------------------

namespace {

Status Unexpected(const char* what, const std::string& detail) {
  return Status::Unavailable(std::string("unexpected ") + what + " answer: " + detail);
}

// Parses an answer that must be a JSON object.
Result<json> AnswerObject(const std::string& body, const char* what) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return Unexpected(what, "not a JSON object");
  return j;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

StoredMessage MessageFromJson(const json& m) {
  StoredMessage s;
  s.partition = JsonIntAt<int32_t>(m, "partition");
  s.offset = JsonIntAt<uint64_t>(m, "offset");
  if (auto k = m.find("key"); k != m.end() && !k->is_null()) s.key = k->get<std::string>();
  if (auto b = m.find("value_b64"); b != m.end()) {
    auto bytes = Base64Decode(b->get<std::string>());
    if (!bytes) throw std::runtime_error("value_b64 is not base64");
    s.value = std::move(*bytes);
    s.value_is_bytes = true;
  } else {
    s.value = Dump(m.at("value"));
  }
  if (auto h = m.find("headers"); h != m.end() && h->is_object() && !h->empty()) {
    s.headers_json = Dump(*h);
  }
  if (auto id = m.find("message_id"); id != m.end() && !id->is_null()) {
    s.id = id->get<std::string>();
  }
  s.timestamp_ms = m.value("timestamp_ms", TimeMs{0});
  return s;
}

}  // namespace

std::string EncodeProduce(const std::vector<const ProduceMessage*>& messages) {
  std::string out = "{\"messages\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    const ProduceMessage& m = *messages[i];
    if (i) out += ',';
    out += '{';
    if (m.value_is_bytes) {
      out += "\"value_b64\":\"" + Base64Encode(m.value) + '"';
    } else {
      out += "\"value\":" + m.value;  // the JSON text ParseProduce wrote
    }
    if (m.key) out += ",\"key\":" + Dump(json(*m.key));
    if (m.headers_json) out += ",\"headers\":" + *m.headers_json;
    if (m.id) out += ",\"id\":" + Dump(json(*m.id));
    if (m.partition) out += ",\"partition\":" + std::to_string(*m.partition);
    out += '}';
  }
  out += "]}";
  return out;
}

Result<std::vector<DeliveredMessage>> DecodeMessages(const std::string& body,
                                                     std::optional<size_t>* in_flight,
                                                     StreamRead* read) {
  auto j = AnswerObject(body, "messages");
  if (!j.ok()) return j.status();
  try {
    std::vector<DeliveredMessage> out;
    const json& list = j->at("messages");
    if (!list.is_array()) return Unexpected("messages", "'messages' is not an array");
    out.reserve(list.size());
    for (const json& m : list) {
      out.push_back(DeliveredMessage{MessageFromJson(m), JsonGet<uint32_t>(m, "delivery", 0)});
    }
    if (in_flight) {
      auto f = j->find("in_flight");
      if (f != j->end() && f->is_number_unsigned()) *in_flight = f->get<size_t>();
    }
    if (read) {
      read->high_watermark = JsonIntAt<uint64_t>(*j, "high_watermark");
      read->first_offset = JsonIntAt<uint64_t>(*j, "first_offset");
    }
    return out;
  } catch (const std::exception& e) {
    return Unexpected("messages", e.what());
  }
}

}  // namespace zoomq::broker::http
