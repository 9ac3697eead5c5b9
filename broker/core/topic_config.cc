#include "broker/core/topic_config.h"

#include <algorithm>

#include "zoomq/common/names.h"

namespace zoomq::broker {

namespace {

struct Field {
  const char* name;
  std::optional<int64_t> TopicSpec::*member;
  int64_t min;
  int64_t max;
};

constexpr int64_t kMaxMs = 10LL * 365 * 24 * 3600 * 1000;  // ten years
const Field kFields[] = {
    {"partitions", &TopicSpec::partitions, 1, 1024},
    {"replication_factor", &TopicSpec::replication_factor, 1, 16},
    {"min_insync_replicas", &TopicSpec::min_insync_replicas, 1, 16},
    {"retention_ms", &TopicSpec::retention_ms, 0, kMaxMs},
    {"retention_bytes", &TopicSpec::retention_bytes, 0, 1LL << 50},
    {"visibility_timeout_ms", &TopicSpec::visibility_timeout_ms, 1, 43'200'000},
    {"max_deliveries", &TopicSpec::max_deliveries, 0, 1000},
};

}  // namespace

nlohmann::json TopicConfig::ToJson() const {
  return {{"partitions", partitions},
          {"replication_factor", replication_factor},
          {"min_insync_replicas", min_insync_replicas},
          {"retention_ms", retention_ms},
          {"retention_bytes", retention_bytes},
          {"visibility_timeout_ms", visibility_timeout_ms},
          {"max_deliveries", max_deliveries}};
}

Result<TopicSpec> TopicSpec::FromJson(const nlohmann::json& body) {
  if (!body.is_object()) return Status::Invalid("body must be a JSON object");
  TopicSpec spec;
  auto name = body.find("name");
  if (name == body.end()) return Status::Invalid("field 'name' is required");
  if (!name->is_string()) return Status::Invalid("field 'name' must be a string");
  spec.name = name->get<std::string>();
  ZOOMQ_RETURN_IF_ERROR(ValidateName(spec.name, "topic"));
  if (IsDlqName(spec.name)) {
    return Status::Invalid("topic names ending in .dlq are reserved for dead-letter topics");
  }
  for (const Field& f : kFields) {
    auto it = body.find(f.name);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_number_integer()) {
      return Status::Invalid(std::string("field '") + f.name + "' must be an integer");
    }
    // Unsigned values above int64 max and negative values are both caught here.
    if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(f.max)) {
      return Status::Invalid(std::string("field '") + f.name + "' must be between " +
                             std::to_string(f.min) + " and " + std::to_string(f.max));
    }
    int64_t v = it->get<int64_t>();
    if (v < f.min || v > f.max) {
      return Status::Invalid(std::string("field '") + f.name + "' must be between " +
                             std::to_string(f.min) + " and " + std::to_string(f.max));
    }
    spec.*(f.member) = v;
  }
  return spec;
}

Result<TopicConfig> TopicSpec::Resolve(int32_t live_brokers) const {
  TopicConfig c;
  if (partitions) c.partitions = static_cast<int32_t>(*partitions);
  c.replication_factor = replication_factor ? static_cast<int32_t>(*replication_factor)
                                            : std::min<int32_t>(3, live_brokers);
  c.min_insync_replicas = min_insync_replicas ? static_cast<int32_t>(*min_insync_replicas)
                                              : std::min<int32_t>(2, c.replication_factor);
  if (c.min_insync_replicas > c.replication_factor) {
    return Status::Invalid("min_insync_replicas (" + std::to_string(c.min_insync_replicas) +
                           ") must not exceed replication_factor (" +
                           std::to_string(c.replication_factor) + ")");
  }
  if (c.replication_factor > live_brokers) {
    return Status(Code::kNotEnoughReplicas,
                  "replication_factor " + std::to_string(c.replication_factor) + " exceeds the " +
                      std::to_string(live_brokers) + " live broker(s)");
  }
  if (retention_ms) c.retention_ms = *retention_ms;
  if (retention_bytes) c.retention_bytes = *retention_bytes;
  if (visibility_timeout_ms) c.visibility_timeout_ms = *visibility_timeout_ms;
  if (max_deliveries) c.max_deliveries = static_cast<int32_t>(*max_deliveries);
  return c;
}

bool TopicSpec::Matches(const TopicConfig& e) const {
  auto same = [](const std::optional<int64_t>& given, int64_t actual) {
    return !given || *given == actual;
  };
  return same(partitions, e.partitions) && same(replication_factor, e.replication_factor) &&
         same(min_insync_replicas, e.min_insync_replicas) && same(retention_ms, e.retention_ms) &&
         same(retention_bytes, e.retention_bytes) &&
         same(visibility_timeout_ms, e.visibility_timeout_ms) &&
         same(max_deliveries, e.max_deliveries);
}

nlohmann::json TopicSpec::ToJson() const {
  nlohmann::json j = {{"name", name}};
  for (const Field& f : kFields) {
    if (this->*(f.member)) j[f.name] = *(this->*(f.member));
  }
  return j;
}

Result<TopicConfig> TopicConfigFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Internal("corrupt topic config");
  TopicConfig c;
  c.partitions = j.value("partitions", c.partitions);
  c.replication_factor = j.value("replication_factor", c.replication_factor);
  c.min_insync_replicas = j.value("min_insync_replicas", c.min_insync_replicas);
  c.retention_ms = j.value("retention_ms", c.retention_ms);
  c.retention_bytes = j.value("retention_bytes", c.retention_bytes);
  c.visibility_timeout_ms = j.value("visibility_timeout_ms", c.visibility_timeout_ms);
  c.max_deliveries = j.value("max_deliveries", c.max_deliveries);
  return c;
}

}  // namespace zoomq::broker
