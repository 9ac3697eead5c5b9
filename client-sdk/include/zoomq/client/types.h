// Plain data types of the zoomq client SDK: what goes in, what comes out. No httplib or JSON
// types appear in the SDK's public headers; JSON values travel as JSON text.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/common/api.h"  // TopicInfo, GroupInfo, ClusterInfo, AckResult (shared with the broker)
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

}  // namespace zoomq
