#include "render.h"

#include <algorithm>

#include "zoomq/common/api_codec.h"
#include "zoomq/common/base64.h"

namespace zoomq::ctl {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kTopicNotFound:
    case Code::kGroupNotFound:
    case Code::kPartitionNotFound:
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kTimedOut:
      return kExitUnavailable;
    case Code::kUnauthenticated:
    case Code::kForbidden:
      return kExitDenied;
    default:
      return IsRetriable(status) ? kExitUnavailable : kExitRejected;
  }
}

std::string ValueAsJson(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, false);
  if (!parsed.is_discarded()) return text;
  return Json(text).dump();
}

std::optional<std::pair<std::string, std::string>> ParseHeader(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

Json ErrorJson(const Status& status) {
  return {{"code", CodeName(status.code())}, {"message", status.message()}};
}

Json ToJson(const PartitionInfo& p) {
  return {{"partition", p.partition},
          {"leader", p.leader},
          {"epoch", p.epoch},
          {"replicas", p.replicas},
          {"isr", p.isr},
          {"first_offset", p.first_offset},
          {"high_watermark", p.high_watermark},
          {"log_end_offset", p.log_end_offset},
          {"lag", p.log_end_offset - p.high_watermark}};
}

Json ToJson(const TopicInfo& t) {
  Json partitions = Json::array();
  for (const PartitionInfo& p : t.partition_info) partitions.push_back(ToJson(p));
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
          {"partitions", partitions},
          {"groups", t.groups}};
}

Json ToJson(const ClusterInfo& c) {
  Json brokers = Json::array();
  for (const BrokerInfo& b : c.brokers) {
    brokers.push_back({{"id", b.id}, {"url", b.url}, {"alive", b.alive}});
  }
  Json topics = Json::array();
  for (const TopicInfo& t : c.topics) {
    Json partitions = Json::array();
    for (const PartitionInfo& p : t.partition_info) partitions.push_back(ToJson(p));
    topics.push_back({{"name", t.name}, {"partitions", partitions}});
  }
  return {
      {"broker", c.broker}, {"controller", c.controller}, {"brokers", brokers}, {"topics", topics}};
}

// The API's own shape (docs/api.md), from its one encoder.
Json ToJson(const GroupInfo& g) { return Json::parse(api::EncodeGroup(g)); }

Json ToJson(const ReceivedMessage& m) {
  Json out = {
      {"topic", m.topic}, {"id", m.handle}, {"partition", m.partition}, {"offset", m.offset}};
  if (m.key) out["key"] = *m.key;
  Json value = m.value_is_json ? Json::parse(m.value, nullptr, false) : Json();
  if (m.value_is_json && !value.is_discarded()) {
    out["value"] = value;
  } else {
    out["value_b64"] = Base64Encode(m.value);
  }
  out["headers"] = m.headers;
  if (!m.message_id.empty()) out["message_id"] = m.message_id;
  out["timestamp_ms"] = m.timestamp_ms;
  if (m.delivery > 0) out["delivery"] = m.delivery;
  return out;
}

Json ToJson(const DeliveryReport& r) {
  if (r.status.ok()) {
    return {
        {"partition", r.partition}, {"offset", r.offset}, {"duplicate", r.duplicate}, {"id", r.id}};
  }
  return {{"error", ErrorJson(r.status)},
          {"retriable", r.retriable},
          {"possibly_persisted", r.persistence == Persistence::kPossiblyPersisted},
          {"partition", r.partition},
          {"id", r.id}};
}

std::string MessageLine(const ReceivedMessage& m) {
  std::string line = m.handle;
  if (m.key) line += " key=" + *m.key;
  line += " " + (m.value_is_json ? m.value : "b64:" + Base64Encode(m.value));
  if (!m.headers.empty()) line += " headers=" + Json(m.headers).dump();
  if (m.delivery > 1) line += " delivery=" + std::to_string(m.delivery);
  return line;
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

std::string JoinIds(const std::vector<int>& ids) {
  std::string out;
  for (int id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return out.empty() ? "-" : out;
}

}  // namespace zoomq::ctl
