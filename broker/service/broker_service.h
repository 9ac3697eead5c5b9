// BrokerService: the broker's behaviour, without HTTP (parse -> call this -> render).
//
// It owns the topics, their partitions (PartitionIndex) and consumer groups
// (GroupPartition), and the Store. Every state change is applied in memory under the
// owning object's mutex and submitted to the Store in the same critical section, so the
// order on disk is the order in memory. Answers that promise durability (produce, ack,
// topic changes) wait for the group commit.
//
// Locks, always taken in this order: topics_mu_ -> ConsumerGroup::mu -> Partition::mu
// (several partitions: ascending index). No callback runs under a lock it does not own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/core/group_partition.h"
#include "broker/core/partition_index.h"
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
  TimeMs tick_ms = 50;                // lease expiry / nack delay resolution
  TimeMs retention_check_ms = 5000;
  TimeMs write_timeout_ms = 30000;    // longest a produce waits for its commit
  size_t max_waiters = 900;           // long-polls + SSE streams at once
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
  int32_t replica = 0;      // the fetching follower's broker id
  uint64_t offset = 0;      // the follower holds every entry below
  uint64_t group_offset = 0;  // ...and every group log entry below
  int64_t epoch = 0;        // the leader epoch the follower follows
  size_t max_bytes = 1 << 20;
  TimeMs wait_ms = 0;       // long-poll while nothing is past `offset`
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
                                                         const std::string& topic,
                                                         int32_t partition, int64_t epoch,
                                                         bool group_log) = 0;
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

class BrokerService {
 public:
  // Opens the store and loads every topic and group. `clock` must outlive the service.
  static Result<std::unique_ptr<BrokerService>> Open(const BrokerOptions& options,
                                                     const std::string& data_dir, SyncMode sync,
                                                     const Clock* clock);
  ~BrokerService();

  // Starts the ticker thread (lease expiry, nack delays, retention).
  void Start();
  // Wakes every waiter (they answer at once), stops the ticker, commits and closes the
  // store. Idempotent.
  void Stop();
  bool stopping() const { return stopping_.load(); }
  // Storage failed: every write is refused until restart (as LevelDB's bg_error).
  Status health() const;

  // Topics.
  Result<CreateOutcome> CreateTopic(const TopicSpec& spec);
  Status DeleteTopic(const std::string& name);
  std::vector<TopicInfo> ListTopics();
  Result<TopicInfo> DescribeTopic(const std::string& name);

  // Validates a produce batch and returns each message's partition (explicit, key hash, id
  // hash, else one partition per request: StickyPartition). Produce does this itself; the HTTP layer uses it to split a
  // batch by partition leader before forwarding.
  Result<std::vector<int32_t>> Place(const std::string& topic,
                                     const std::vector<ProduceMessage>& messages);
  // Produce. The whole batch is validated before anything is written.
  Result<std::vector<ProduceResult>> Produce(const std::string& topic,
                                             std::vector<ProduceMessage> messages);

  // Groups. An empty consumer name means "anonymous".
  Result<bool> CreateGroup(const std::string& topic, const std::string& group, bool latest);
  Result<std::vector<DeliveredMessage>> Pull(const std::string& topic, const std::string& group,
                                             const std::string& consumer, size_t max,
                                             TimeMs wait_ms, std::optional<TimeMs> visibility_ms);
  // Non-blocking pull of at most `max` (used by SSE), creating the group.
  Result<std::vector<DeliveredMessage>> PullNow(const std::string& topic,
                                                const std::string& group,
                                                const std::string& consumer, size_t max,
                                                std::optional<TimeMs> visibility_ms);
  Result<AckResult> Ack(const std::string& topic, const std::string& group,
                         const std::vector<MessageRef>& ids);
  Result<AckResult> Nack(const std::string& topic, const std::string& group,
                          const std::vector<MessageRef>& ids, TimeMs delay_ms);
  Result<AckResult> Extend(const std::string& topic, const std::string& group,
                            const std::vector<MessageRef>& ids, TimeMs visibility_ms);
  Result<GroupInfo> DescribeGroup(const std::string& topic, const std::string& group);
  // Leases currently held by `consumer` in the group (SSE prefetch accounting).
  size_t InFlight(const std::string& topic, const std::string& group,
                  const std::string& consumer);

  // Stream read by offset; long-polls up to wait_ms when `from` is at the high watermark.
  Result<StreamRead> Read(const std::string& topic, int64_t partition, uint64_t from, size_t max,
                          TimeMs wait_ms);

  // Change notification for waiters outside the service (SSE): the generation moves on
  // every commit and every lease that falls due; WaitForChange returns when it differs
  // from `seen`, at `deadline`, or when stopping.
  uint64_t Generation(const std::string& topic);
  void WaitForChange(const std::string& topic, uint64_t seen, TimeMs wait_ms);

  // Waiter admission: false when max_waiters are already waiting (answer 429).
  bool AdmitWaiter();
  void ReleaseWaiter();

  // --- Replication ---------------------------------------------------------------------
  // Must be set before any BecomeFollower; borrowed, must outlive the service.
  void SetPeerTransport(PeerTransport* transport) { transport_ = transport; }
  // Leader side of replication: records the follower's progress (advancing the high
  // watermark), then returns entries from req.offset (long-polling up to req.wait_ms).
  // STALE_EPOCH when the follower's epoch is not this leader's; NOT_LEADER when this broker
  // does not lead the partition.
  Result<FetchResponse> Fetch(const FetchRequest& req);
  Result<std::pair<int64_t, uint64_t>> EpochEnd(const std::string& topic, int32_t partition,
                                                int64_t epoch, bool group_log = false);
  // Role changes from the cluster layer. A change with an epoch older than the partition's
  // current one is refused (STALE_EPOCH).
  Status BecomeLeader(const std::string& topic, int32_t partition, int64_t epoch,
                      std::vector<int32_t> replicas, std::vector<int32_t> isr);
  Status BecomeFollower(const std::string& topic, int32_t partition, int64_t epoch,
                        int32_t leader_id, std::string leader_url);
  // Creates the topic locally with the cluster-wide id (metadata from the controller);
  // a no-op if it exists with that id.
  Status EnsureTopic(int64_t id, const std::string& name, const TopicConfig& config,
                     TimeMs created_ms);
  // The ISR each led partition wants now (lag or catch-up), for the cluster layer to write.
  // Each proposal is pending until OnIsrCommitted or OnIsrAbandoned: meanwhile the high
  // watermark also waits for the replicas it adds (LeaderState::OnIsrProposed).
  struct IsrChange {
    std::string topic;
    int32_t partition;
    int64_t epoch;
    std::vector<int32_t> isr;
    std::vector<int32_t> from;  // the ISR the proposal was computed from
  };
  std::vector<IsrChange> ProposedIsrChanges();
  // The cluster layer wrote `isr` for (topic, partition, epoch).
  void OnIsrCommitted(const std::string& topic, int32_t partition, int64_t epoch,
                      std::vector<int32_t> isr);
  // The cluster layer did not write the proposal (the partition state moved on).
  void OnIsrAbandoned(const std::string& topic, int32_t partition, int64_t epoch);
  // Every stored entry of a partition up to its high watermark (checks and tests).
  Result<std::vector<StoredMessage>> CommittedLog(const std::string& topic, int32_t partition,
                                                  uint64_t* high_watermark);

  Counters counters() const;
  const BrokerOptions& options() const { return options_; }
  const Clock* clock() const { return clock_; }
  std::vector<GroupInfo> AllGroups();

  // Self-fencing: when set, an answer that promises durability (produce, ack) or a lease
  // (group pull) is given only if guard() is OK at that moment (e.g. the ZooKeeper session is
  // still safely ours).
  void SetAckGuard(std::function<Status()> guard) { ack_guard_ = std::move(guard); }
  // Stops leading (the partition has no leader now, or another broker leads it without us
  // among its replicas).
  Status Resign(const std::string& topic, int32_t partition, int64_t epoch);

  // Runs one tick now (tests drive this with a fake clock instead of the thread).
  void TickOnce();
  void RetentionOnce();

  struct Topic;
  struct Partition;
  struct ConsumerGroup;

 private:
  BrokerService(const BrokerOptions& options, std::unique_ptr<Store> store, const Clock* clock);
  Status Load();
  std::shared_ptr<Topic> FindTopic(const std::string& name);
  Result<std::shared_ptr<ConsumerGroup>> GetGroup(const std::shared_ptr<Topic>& topic,
                                                  const std::string& group, bool create,
                                                  bool latest, bool* created);
  // Leases up to max messages now; reads their bodies. REQUIRES: no lock held.
  Result<std::vector<DeliveredMessage>> TryPull(const std::shared_ptr<Topic>& topic,
                                                ConsumerGroup& group,
                                                const std::string& consumer, size_t max,
                                                TimeMs visibility_ms);
  // Moves dead offsets of one partition to the dead-letter topic: appends the messages to
  // `batch` and the group's "dead" rows to `replicated`. REQUIRES: group.mu held.
  struct Commit {
    std::shared_ptr<Topic> topic;
    Partition* partition;
    uint64_t end;            // the partition's log is durable below this (0: unchanged)
    uint64_t group_end = 0;  // its group log is durable below this (0: unchanged)
  };
  void DeadLetterLocked(const std::shared_ptr<Topic>& topic, ConsumerGroup& group,
                        int32_t partition, const std::vector<GroupChange>& dead,
                        const std::string& reason, WriteBatch* batch, std::vector<Commit>* commits,
                        std::vector<WriteOp>* replicated);
  // The ops for `changes` of one group partition: acks and floors to `replicated` (for the
  // group log), leader-local delivery counts to `batch`. REQUIRES: group.mu held.
  void GroupOpsLocked(const Topic& topic, ConsumerGroup& group, int32_t partition,
                      const std::vector<GroupChange>& changes, WriteBatch* batch,
                      std::vector<WriteOp>* replicated);
  // Appends `ops` to the partition's group log (every replica applies them to its tables once
  // committed: the follower loop and the ticker); returns the group log end to wait for (0 if no ops), or
  // kNotLeading when the partition stopped being led here since the caller checked: the ops
  // are in no log, so nothing may be confirmed. REQUIRES: no partition lock held.
  static constexpr uint64_t kNotLeading = ~uint64_t{0};
  uint64_t AppendGroupLog(const std::shared_ptr<Topic>& topic, int32_t partition,
                          std::vector<WriteOp> ops, WriteBatch* batch,
                          std::vector<Commit>* commits);
  // Waits until each partition's group log high watermark reaches need[p] (replicated).
  Status WaitGroupLog(const std::shared_ptr<Topic>& topic, const std::vector<uint64_t>& need);
  // The partition for a request's messages that have neither key nor id: round robin per
  // request over the partitions this broker leads (any partition if it leads none).
  int32_t StickyPartition(Topic& topic);
  // The topic's max_deliveries for `partition`, or 0 (no dead-lettering now) while the
  // matching dead-letter partition is led by another broker. REQUIRES: no partition lock.
  uint32_t MaxDeliveries(const Topic& topic, int32_t partition);
  // True when this broker leads the partition and its group state is ready.
  bool ServesGroups(Partition& p);
  // Reloads the partition's group state from this broker's tables (a new leader).
  Status RebuildGroups(const std::shared_ptr<Topic>& topic, int32_t partition);
  // The groups of `topic` as the tables hold them, with the unapplied group log entries of
  // `partitions` replayed on top (in memory).
  Status LoadGroupState(const std::shared_ptr<Topic>& topic, const std::vector<int32_t>& partitions,
                        std::vector<LoadedGroup>* out);
  // Adds to `batch` the ops of group log entries that became committed since the last call,
  // and the new applied position. REQUIRES: p.mu held, and `batch` submitted before it is
  // released (applies reach the store in log order).
  void CollectAppliesLocked(const Topic& topic, Partition& p, WriteBatch* batch);
  // Submits `batch`; after commit advances the listed partitions and wakes their waiters.
  void SubmitAndCommit(WriteBatch batch, std::vector<Commit> commits,
                       std::shared_ptr<std::promise<Status>> done);
  Result<AckResult> GroupOp(const std::string& topic, const std::string& group,
                             const std::vector<MessageRef>& ids, LeaseVerb verb, TimeMs arg);
  TopicInfo InfoLocked(const Topic& topic);
  Result<std::shared_ptr<Topic>> EnsureDlqTopic(const std::shared_ptr<Topic>& topic);
  void Fail(const Status& st);
  void TickerLoop();
  // TOPIC_NOT_FOUND / PARTITION_NOT_FOUND for a missing topic (null) or partition.
  static Status CheckPartition(const Topic* topic, const std::string& name, int32_t partition);
  // Local commit of entries below `end` (REQUIRES: p.mu held): advances the high watermark.
  void OnDurableLocked(Partition& p, uint64_t end, uint64_t group_end);
  // Leader: keeps a copy of the entry just appended at m.offset for followers' fetches and
  // tells the replication state about the new log end. REQUIRES: p.mu held.
  void RememberLocked(Partition& p, const StoredMessage& m);
  // Drops the in-memory tail (role change). REQUIRES: p.mu held.
  void ResetTailLocked(Partition& p);
  // Wakes the fetches long-polling on p (new entries, role change, stop). REQUIRES: p.mu held.
  static void WakeFetchersLocked(Partition& p);
  // REQUIRES: p.mu held.
  // OK if the partition's ISR still has min_insync_replicas members (checked when a write's
  // high watermark is reached, before it is acknowledged).
  Status CheckEnoughReplicasLocked(const Partition& p, const TopicConfig& config,
                                   const std::string& topic);
  void MakeLeaderLocked(Partition& p, int64_t epoch, std::vector<int32_t> replicas,
                        std::vector<int32_t> isr);
  void FollowerLoop(std::shared_ptr<Topic> topic, Partition* p, uint64_t generation);
  // Truncates the follower's log to where it agrees with the leader (KIP-101/279).
  Status TruncateByEpoch(const std::shared_ptr<Topic>& topic, Partition* p, uint64_t generation,
                         const std::string& leader_url, bool group_log);
  bool RoleCurrent(Partition* p, uint64_t generation);

  PeerTransport* transport_ = nullptr;
  std::function<Status()> ack_guard_;
  std::mutex fetchers_mu_;
  std::condition_variable fetchers_cv_;
  int fetchers_ = 0;  // guarded by fetchers_mu_: follower threads still running

  const BrokerOptions options_;
  const Clock* const clock_;
  std::unique_ptr<Store> store_;

  mutable std::mutex topics_mu_;
  std::map<std::string, std::shared_ptr<Topic>> topics_;  // guarded by topics_mu_
  int64_t next_topic_id_ = 1;                             // guarded by topics_mu_

  mutable std::mutex fail_mu_;
  Status failure_;  // guarded by fail_mu_; non-OK once storage failed

  std::atomic<bool> stopping_{false};
  std::atomic<size_t> waiters_{0};
  std::atomic<uint64_t> produced_{0}, delivered_{0}, acked_{0}, dead_lettered_{0};
  std::atomic<uint64_t> anon_counter_{0};

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  std::thread ticker_;
};

}  // namespace zoomq::broker
