// TopicConfig: a topic's settings, their defaults and limits (pure).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "zoomq/common/status.h"

namespace zoomq::broker {

struct TopicConfig {
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  int32_t min_insync_replicas = 1;
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // 7 days; 0 = keep forever
  int64_t retention_bytes = 0;                    // per partition; 0 = no limit
  int64_t visibility_timeout_ms = 30000;
  int32_t max_deliveries = 0;                     // 0 = unlimited (no dead-lettering)

  nlohmann::json ToJson() const;
  bool operator==(const TopicConfig&) const = default;
};

// A create request: only the fields the client gave are set.
struct TopicSpec {
  std::string name;
  std::optional<int64_t> partitions, replication_factor, min_insync_replicas, retention_ms,
      retention_bytes, visibility_timeout_ms, max_deliveries;

  // Parses and range-checks the body of POST /v1/topics (name is validated too).
  static Result<TopicSpec> FromJson(const nlohmann::json& body);
  // The body of POST /v1/topics that FromJson reads back as this spec.
  nlohmann::json ToJson() const;
  // Fills defaults; `live_brokers` bounds the replication factor.
  Result<TopicConfig> Resolve(int32_t live_brokers) const;
  // True when every field given equals `existing` (an idempotent repeat of the create).
  bool Matches(const TopicConfig& existing) const;
};

Result<TopicConfig> TopicConfigFromJson(const std::string& text);

}  // namespace zoomq::broker
