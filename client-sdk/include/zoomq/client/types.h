// Plain data types of the zoomq client SDK: what goes in, what comes out. No httplib or JSON
// types appear in the SDK's public headers; JSON values travel as JSON text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/common/status.h"

namespace zoomq {

// Where a message stands after the producer gave up or succeeded (librdkafka's vocabulary):
// kNotPersisted: no broker holds it; kPossiblyPersisted: an attempt may have been written
// (a retry with the same id would not duplicate it); kPersisted: acknowledged.
enum class Persistence { kNotPersisted, kPossiblyPersisted, kPersisted };

// True when repeating the same request may succeed (429, 503s, transport failures, 500).
bool IsRetriable(const Status& status);

// A message to produce. `value` is JSON text when `value_is_json`, else raw bytes (sent as
// value_b64). `id` is the idempotency key; the Producer fills it when empty.
struct OutgoingMessage {
  std::string topic;
  std::optional<std::string> key;
  std::string value;
  bool value_is_json = false;
  std::map<std::string, std::string> headers;
  std::optional<int> partition;
  std::string id;

  // Helpers: a JSON value (text must parse as JSON) or raw bytes.
  static OutgoingMessage Json(std::string topic, std::string json_text,
                              std::optional<std::string> key = std::nullopt);
  static OutgoingMessage Bytes(std::string topic, std::string bytes,
                               std::optional<std::string> key = std::nullopt);
};

// The final outcome of one produced message, reported exactly once.
struct DeliveryReport {
  Status status;  // ok() when persisted
  Persistence persistence = Persistence::kNotPersisted;
  bool retriable = false;  // the last error was retriable (the delivery timeout ran out)
  std::string topic;
  std::string id;          // the message's idempotency id
  int partition = -1;      // -1 when never assigned
  int64_t offset = -1;     // set when persisted
  bool duplicate = false;  // the broker already had this id (a retry of a written message)
  int attempts = 0;
};

// A message read from a group or a stream.
struct ReceivedMessage {
  std::string topic;
  std::string handle;  // "<partition>-<offset>": what Ack/Nack/Extend take
  int partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::string value;  // JSON text when value_is_json, else the bytes
  bool value_is_json = true;
  std::map<std::string, std::string> headers;
  std::string message_id;  // the producer's id ("" when none was given)
  int64_t timestamp_ms = 0;
  int delivery = 0;  // 1 for the first delivery to the group; 0 for stream reads
};

// Outcome of Ack/Nack/Extend: how many were applied, and the ids that were not leased.
struct AckResult {
  int64_t applied = 0;
  std::vector<std::string> unknown;
};

struct TopicSpec {
  std::string name;
  std::optional<int> partitions;
  std::optional<int> replication_factor;
  std::optional<int> min_insync_replicas;
  std::optional<int64_t> retention_ms;
  std::optional<int64_t> retention_bytes;
  std::optional<int64_t> visibility_timeout_ms;
  std::optional<int> max_deliveries;
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
