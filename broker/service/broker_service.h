// BrokerService: the broker's behaviour, without HTTP (parse -> call this -> render).
//
// It owns the store and the topics (ServiceState), and composes the parts that act on them,
// one job each:
//   TopicManager      topics: load, create, describe, delete, retention   (topics.h)
//   Messages          produce and stream reads of the message logs        (messages.h)
//   GroupCoordinator  consumer groups, leases, dead letters, the group log (groups.h)
//   ReplicaManager    leader and follower roles, fetches, ISR proposals   (replica_manager.h)
// This class is their one front door (what the HTTP layer, the cluster frontend and node and
// the tests call) and runs what spans them: opening, the ticker, stopping.
//
// Every state change is applied in memory under the owning object's mutex and submitted to
// the Store in the same critical section, so the order on disk is the order in memory.
// Answers that promise durability (produce, ack, topic changes) wait for the group commit.
// Lock order: topic_state.h.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "broker/service/types.h"

namespace zoomq::broker {

class ServiceState;
class TopicManager;
class Messages;
class GroupCoordinator;
class ReplicaManager;

class BrokerService {
 public:
  // Opens the store and loads every topic and group. `clock` must outlive the service.
  static Result<std::unique_ptr<BrokerService>> Open(const BrokerOptions& options,
                                                     const std::string& data_dir, SyncMode sync,
                                                     const Clock* clock);

  // Starts the ticker thread (lease expiry, nack delays, retention).
  void Start();
  // Wakes every waiter (they answer at once), stops the ticker, commits and closes the
  // store. Idempotent.
  void Stop();
  bool stopping() const;
  // Storage failed: every write is refused until restart (as LevelDB's bg_error).
  Status health() const;

  // Topics.
  Result<CreateOutcome> CreateTopic(const TopicSpec& spec);
  Status DeleteTopic(const std::string& name);
  std::vector<TopicInfo> ListTopics();
  Result<TopicInfo> DescribeTopic(const std::string& name);

  // Validates a produce batch and returns each message's partition (explicit, key hash, id
  // hash, else one partition per request). Produce does this itself; the cluster frontend uses
  // it to split a batch by partition leader before forwarding.
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
  Result<std::vector<DeliveredMessage>> PullNow(const std::string& topic, const std::string& group,
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
  size_t InFlight(const std::string& topic, const std::string& group, const std::string& consumer);

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
  void SetPeerTransport(PeerTransport* transport);
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
  using IsrChange = broker::IsrChange;
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
  const BrokerOptions& options() const;
  const Clock* clock() const;
  std::vector<GroupInfo> AllGroups();

  // Self-fencing: when set, an answer that promises durability (produce, ack) or a lease
  // (group pull) is given only if guard() is OK at that moment (e.g. the ZooKeeper session is
  // still safely ours).
  void SetAckGuard(std::function<Status()> guard);
  // Stops leading (the partition has no leader now, or another broker leads it without us
  // among its replicas).
  Status Resign(const std::string& topic, int32_t partition, int64_t epoch);

  // Runs one tick now (tests drive this with a fake clock instead of the thread).
  void TickOnce();
  void RetentionOnce();

  ~BrokerService();

 private:
  BrokerService(const BrokerOptions& options, std::unique_ptr<Store> store, const Clock* clock);
  Status Load();
  void TickerLoop();

  // The parts (their headers are the service's own, not its callers').
  const std::unique_ptr<ServiceState> state_;
  const std::unique_ptr<TopicManager> topics_;
  const std::unique_ptr<Messages> messages_;
  const std::unique_ptr<GroupCoordinator> groups_;
  const std::unique_ptr<ReplicaManager> replicas_;

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  std::thread ticker_;
};

}  // namespace zoomq::broker
