// GroupCoordinator: consumer groups on the partitions this broker leads: leases (pull),
// ack/nack/extend, dead-lettering, descriptions, and the group log that replicates their
// changes (groups.cc: the groups; group_log.cc: the log, its applies and reloads).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/service/state.h"

namespace zoomq::broker {

class GroupCoordinator {
 public:
  explicit GroupCoordinator(ServiceState& s) : s_(s) {}

  // An empty consumer name means "anonymous".
  Result<bool> CreateGroup(const std::string& topic, const std::string& group, bool latest);
  Result<std::vector<DeliveredMessage>> Pull(const std::string& topic, const std::string& group,
                                             const std::string& consumer, size_t max,
                                             TimeMs wait_ms, std::optional<TimeMs> visibility_ms);
  // Non-blocking pull of at most `max` (used by SSE), creating the group.
  Result<std::vector<DeliveredMessage>> PullNow(const std::string& topic, const std::string& group,
                                                const std::string& consumer, size_t max,
                                                std::optional<TimeMs> visibility_ms);
  // Ack, nack (arg: delay) or extend (arg: visibility) leased messages.
  Result<AckResult> Apply(const std::string& topic, const std::string& group,
                          const std::vector<MessageRef>& ids, LeaseVerb verb, TimeMs arg);
  Result<GroupInfo> DescribeGroup(const std::string& topic, const std::string& group);
  // Leases currently held by `consumer` in the group (SSE prefetch accounting).
  size_t InFlight(const std::string& topic, const std::string& group, const std::string& consumer);
  std::vector<GroupInfo> AllGroups();
  // Leases that fell due and nack delays (dead-lettering what reached max_deliveries), and
  // committed group log entries to the tables.
  void TickOnce();

  // --- The group log (group_log.cc)
  // Loads the groups of a topic being loaded (the tables, the unapplied entries replayed).
  Status LoadGroups(const std::shared_ptr<Topic>& topic);
  // Reloads the partition's group state from this broker's tables (a new leader).
  Status RebuildGroups(const std::shared_ptr<Topic>& topic, int32_t partition);
  // Adds to `batch` the ops of group log entries that became committed since the last call,
  // and the new applied position. REQUIRES: p.mu held, and `batch` submitted before it is
  // released (applies reach the store in log order).
  void CollectAppliesLocked(const Topic& topic, Partition& p, WriteBatch* batch);

 private:
  Result<std::shared_ptr<ConsumerGroup>> GetGroup(const std::shared_ptr<Topic>& topic,
                                                  const std::string& group, bool create,
                                                  bool latest, bool* created);
  // Leases up to max messages now; reads their bodies. REQUIRES: no lock held.
  Result<std::vector<DeliveredMessage>> TryPull(const std::shared_ptr<Topic>& topic,
                                                ConsumerGroup& group, const std::string& consumer,
                                                size_t max, TimeMs visibility_ms);
  // Moves dead offsets of one partition to the dead-letter topic: appends the messages to
  // `batch` and the group's "dead" rows to `replicated`. REQUIRES: group.mu held.
  void DeadLetterLocked(const std::shared_ptr<Topic>& topic, ConsumerGroup& group,
                        int32_t partition, const std::vector<GroupChange>& dead,
                        const std::string& reason, WriteBatch* batch, std::vector<Commit>* commits,
                        std::vector<WriteOp>* replicated);
  // The ops for `changes` of one group partition: acks and floors to `replicated` (for the
  // group log), leader-local delivery counts to `batch`. REQUIRES: group.mu held.
  void GroupOpsLocked(const Topic& topic, ConsumerGroup& group, int32_t partition,
                      const std::vector<GroupChange>& changes, WriteBatch* batch,
                      std::vector<WriteOp>* replicated);
  // The topic's max_deliveries for `partition`, or 0 (no dead-lettering now) while the
  // matching dead-letter partition is led by another broker. REQUIRES: no partition lock.
  uint32_t MaxDeliveries(const Topic& topic, int32_t partition);
  // True when this broker leads the partition and its group state is ready.
  static bool ServesGroups(Partition& p);

  // Appends `ops` to the partition's group log (every replica applies them to its tables once
  // committed: the follower loop and the ticker); returns the group log end to wait for (0 if
  // no ops), or kNotLeading when the partition stopped being led here since the caller
  // checked: the ops are in no log, so nothing may be confirmed. REQUIRES: no partition lock.
  static constexpr uint64_t kNotLeading = ~uint64_t{0};
  uint64_t AppendGroupLog(const std::shared_ptr<Topic>& topic, int32_t partition,
                          std::vector<WriteOp> ops, WriteBatch* batch,
                          std::vector<Commit>* commits);
  // Waits until each partition's group log high watermark reaches need[p] (replicated).
  Status WaitGroupLog(const std::shared_ptr<Topic>& topic, const std::vector<uint64_t>& need);
  // The groups of `topic` as the tables hold them, with the unapplied group log entries of
  // `partitions` replayed on top (in memory).
  Status LoadGroupState(const std::shared_ptr<Topic>& topic, const std::vector<int32_t>& partitions,
                        std::vector<LoadedGroup>* out);

  ServiceState& s_;
  std::atomic<uint64_t> anon_counter_{0};
};

}  // namespace zoomq::broker
