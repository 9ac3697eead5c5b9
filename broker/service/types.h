// The broker service's requests, answers and options: what its callers (the HTTP layer, the
// cluster frontend and node, the tests) and its parts speak.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "broker/core/topic_config.h"
#include "broker/storage/store.h"
#include "zoomq/common/api.h"  // ProduceResult, AckResult, GroupInfo: the API's answer types
#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"

namespace zoomq::broker {

struct BrokerOptions {
  int32_t broker_id = 1;
  std::string advertised_url;
  TimeMs dedup_window_ms = 10 * 60 * 1000;
  uint32_t max_message_bytes = 1 << 20;
  TimeMs tick_ms = 50;  // lease expiry / nack delay resolution
  TimeMs retention_check_ms = 5000;
  TimeMs write_timeout_ms = 30000;  // longest a produce waits for its commit
  size_t max_waiters = 900;         // long-polls + SSE streams at once
  // Standalone: this broker leads every partition (ISR = itself). Otherwise roles come
  // from BecomeLeader/BecomeFollower (the cluster layer).
  bool standalone = true;
  TimeMs replica_lag_max_ms = 10000;  // a follower not caught up for this long leaves the ISR
  // Testing only (Store::SetFaultHold): while this file exists, commits wait.
  std::string fault_hold_commits_file;
};

// --- Replication between brokers ------------------------------------------------------------
struct FetchRequest {
  std::string topic;
  int32_t partition = 0;
  int32_t replica = 0;        // the fetching follower's broker id
  uint64_t offset = 0;        // the follower holds every entry below
  uint64_t group_offset = 0;  // ...and every group log entry below
  int64_t epoch = 0;          // the leader epoch the follower follows
  size_t max_bytes = 1 << 20;
  TimeMs wait_ms = 0;  // long-poll while nothing is past `offset`
};
struct FetchResponse {
  int64_t epoch = 0;
  uint64_t high_watermark = 0;
  uint64_t log_start = 0;
  std::vector<StoredMessage> entries;  // consecutive, from max(offset, log_start)
  uint64_t group_high_watermark = 0;
  std::vector<GroupLogEntry> group_entries;  // consecutive, from group_offset
};
// How a follower reaches its leader (HTTP in production, direct calls in tests).
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  virtual Result<FetchResponse> Fetch(const std::string& leader_url, const FetchRequest& req) = 0;
  // The leader's answer to "where does `epoch` end in your log?" (EpochCache::EndOffsetFor).
  virtual Result<std::pair<int64_t, uint64_t>> EpochEnd(const std::string& leader_url,
                                                        const std::string& topic, int32_t partition,
                                                        int64_t epoch, bool group_log) = 0;
};

// --- Requests and answers ----------------------------------------------------------------
struct ProduceMessage {
  std::optional<std::string> key;
  std::string value;  // JSON text, or raw bytes when value_is_bytes
  bool value_is_bytes = false;
  std::optional<std::string> headers_json;
  std::optional<std::string> id;
  std::optional<int64_t> partition;
  uint32_t bytes = 0;  // encoded value + key + headers
};
struct DeliveredMessage {
  StoredMessage message;
  uint32_t delivery;
};
struct MessageRef {  // "P-O"
  int32_t partition;
  uint64_t offset;
  std::string text;
};
// What a consumer does with messages leased to it: one route each.
enum class LeaseVerb { kAck, kNack, kExtend };
// "ack", "nack", "extend": the route's last path segment.
inline const char* LeaseVerbPath(LeaseVerb v) {
  return v == LeaseVerb::kAck ? "ack" : v == LeaseVerb::kNack ? "nack" : "extend";
}
// "acked", "nacked", "extended": the answer's count field.
inline const char* LeaseVerbDone(LeaseVerb v) {
  return v == LeaseVerb::kAck ? "acked" : v == LeaseVerb::kNack ? "nacked" : "extended";
}
// The request's optional number field: delay_ms (nack), visibility_ms (extend); none for ack.
inline const char* LeaseVerbNumberField(LeaseVerb v) {
  return v == LeaseVerb::kAck ? nullptr : v == LeaseVerb::kNack ? "delay_ms" : "visibility_ms";
}
struct PartitionInfo {
  int32_t partition;
  uint64_t first_offset;
  uint64_t high_watermark;
  uint64_t log_end_offset;
};
struct TopicInfo {
  std::string name;
  TopicConfig config;
  TimeMs created_ms;
  std::vector<PartitionInfo> partitions;
  std::vector<std::string> groups;
};
struct StreamRead {
  std::vector<StoredMessage> messages;
  uint64_t high_watermark;
  uint64_t first_offset;
};
struct CreateOutcome {
  bool created;
  TopicInfo topic;
};
struct Counters {
  uint64_t produced = 0;
  uint64_t delivered = 0;
  uint64_t acked = 0;
  uint64_t dead_lettered = 0;
  uint64_t commit_rounds = 0;
  uint64_t committed_batches = 0;
};

// An ISR a led partition wants now (lag or catch-up), for the cluster layer to write.
// Pending until OnIsrCommitted or OnIsrAbandoned: meanwhile the high watermark also waits
// for the replicas it adds (LeaderState::OnIsrProposed).
struct IsrChange {
  std::string topic;
  int32_t partition;
  int64_t epoch;
  std::vector<int32_t> isr;
  std::vector<int32_t> from;  // the ISR the proposal was computed from
};

}  // namespace zoomq::broker
