// The API's answer types (docs/api.md): what the broker renders and the SDK reads, defined
// once. Their JSON form is in api_codec.h. Plain data: no JSON types here, so the SDK's public
// headers include it as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace zoomq {

// One message's outcome in a produce answer.
struct ProduceResult {
  int partition = 0;
  int64_t offset = -1;
  bool duplicate = false;  // the broker already had this id (the original offset)
};

// Outcome of Ack/Nack/Extend: how many were applied, and the ids that were not leased.
struct AckResult {
  int64_t applied = 0;
  std::vector<std::string> unknown;
};

struct PartitionInfo {
  int partition = 0;
  int leader = -1;  // -1: none
  int64_t epoch = 0;
  std::vector<int> replicas;
  std::vector<int> isr;
  int64_t first_offset = 0;
  int64_t high_watermark = 0;
  int64_t log_end_offset = 0;
};

struct TopicInfo {
  std::string name;
  int partitions = 0;
  int replication_factor = 0;
  int min_insync_replicas = 0;
  int64_t retention_ms = 0;
  int64_t retention_bytes = 0;
  int64_t visibility_timeout_ms = 0;
  int max_deliveries = 0;
  int64_t created_ms = 0;
  std::vector<PartitionInfo> partition_info;
  std::vector<std::string> groups;
  bool created = false;  // CreateTopic: true when this call created it (201)
};

struct BrokerInfo {
  int id = 0;
  std::string url;
  bool alive = false;
};

struct ClusterInfo {
  int broker = 0;       // the broker that answered
  int controller = -1;  // -1: none elected
  std::string mode;     // "cluster" or "standalone"
  std::vector<BrokerInfo> brokers;
  std::vector<TopicInfo> topics;  // name + partition_info (leader, epoch, replicas, isr, hwm)
};

struct GroupConsumerInfo {
  std::string consumer;
  int64_t last_seen_ms = 0;
};

struct GroupInfo {
  std::string topic;
  std::string group;
  int64_t created_ms = 0;
  int64_t backlog = 0;
  int64_t in_flight = 0;
  int64_t acked = 0;
  int64_t dead_lettered = 0;
  std::vector<GroupConsumerInfo> consumers;
};

}  // namespace zoomq
