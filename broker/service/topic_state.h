// The in-memory state of topics, their partitions and consumer groups, shared by the parts of
// BrokerService (topics, messages, groups, replicas). Not a public header.
//
// Locks, always taken in this order: ConsumerGroup::mu -> ServiceState::topics_mu ->
// Topic::groups_mu -> Partition::mu (several partitions: ascending index) ->
// Topic::change_mu. No callback runs under a lock it does not own.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/group_partition.h"
#include "broker/core/partition_index.h"
#include "broker/core/replica_log.h"
#include "broker/service/types.h"

namespace zoomq::broker {

// What an entry counts for in the leader's tail and in a fetch answer's size.
inline size_t EntryBytes(const StoredMessage& m) { return m.value.size() + 64; }

// One partition of a topic: its log index and its replication role.
struct Partition {
  Partition(int32_t n, TimeMs dedup_window_ms) : number(n), index(dedup_window_ms) {}
  const int32_t number;  // constant after construction
  std::mutex mu;
  // Notified (with mu held) whenever the high watermarks, the role or the broker's health
  // change: requests waiting for their commit wait here, per partition, instead of being
  // woken by every change of the topic.
  std::condition_variable hwm_cv;
  // Everything below is guarded by mu.
  // The message log: its entries (index) and how far they are replicated (log);
  // log.high_watermark() is what readers may see.
  PartitionIndex index;
  ReplicaLog log;
  int64_t epoch = -1;  // leader epoch of the current role (-1: no role yet)
  int32_t leader_id = 0;
  std::string leader_url;  // follower: where to fetch from
  // The group log (acks, dead-letters, floors of this partition's groups), replicated the
  // same way: entries [0, group_end) with their own sequence numbers, and group_log for how
  // far they are replicated.
  uint64_t group_end = 0;  // next sequence number
  ReplicaLog group_log;
  // Entries below group_applied are applied to this broker's group tables; only committed
  // entries are (min(high watermark, durable)): a cut entry never reaches the tables, so
  // every replica's tables hold the same prefix of the log. group_unapplied holds the
  // entries [group_applied, group_end) (ops text), replayed in memory when groups are loaded.
  uint64_t group_applied = 0;
  std::deque<GroupLogEntry> group_unapplied;
  // Both logs are led together: this broker leads the partition.
  bool leading() const { return log.leading(); }
  bool groups_ready = false;     // leader: group state rebuilt for this role
  uint64_t role_generation = 0;  // bumped on every role change; fetchers of an older
                                 // generation stop
  // Leader with followers: copies of the latest entries [tail_start, tail_start + tail.size())
  // (up to the log end), so followers fetch them from memory, before the local commit too
  // (pipelining: the leader's fsync and the followers' fetch + fsync overlap). Only entries
  // below log.durable() are dropped (those are in SQLite).
  std::deque<StoredMessage> tail;
  uint64_t tail_start = 0;
  size_t tail_bytes = 0;
  // Followers' fetches long-poll here (with mu), not on the topic's change_cv: they are
  // woken by what they can fetch (appends, commits they wait for, role changes, stop),
  // not by every high watermark move or commit of the topic. fetch_signal moves on each.
  std::condition_variable fetch_cv;
  uint64_t fetch_signal = 0;

  // Everything below REQUIRES mu held.
  // Entries below `end` (group log: below `group_log_end`) are committed locally: advances
  // the high watermarks, wakes the waiters and the fetches that wait for it.
  void OnDurableLocked(uint64_t end, uint64_t group_log_end);
  // Leader: keeps a copy of the entry just appended at m.offset for followers' fetches and
  // tells the replication state about the new log end. The caller notifies fetch_cv after
  // unlocking.
  void RememberLocked(const StoredMessage& m);
  // Drops the in-memory tail (role change).
  void ResetTailLocked();
  // Wakes the fetches long-polling here (new entries, role change, stop).
  void WakeFetchersLocked();
  // OK if the ISR still has min_insync_replicas members (checked when a write's high
  // watermark is reached, before it is acknowledged).
  Status CheckEnoughReplicasLocked(const TopicConfig& config, const std::string& topic) const;
  // Takes the lead of both logs for `epoch` (this broker: `self` at `url`).
  void BecomeLeaderLocked(int32_t self, const std::string& url, int64_t epoch,
                          std::vector<int32_t> replicas, std::vector<int32_t> isr, TimeMs now);
  // Stops leading and takes the role `epoch` under `leader_id` (-1: none) at `url`.
  void StopLeadingLocked(int64_t epoch, int32_t leader_id, std::string url);
};

// One group partition as loaded (the tables with the unapplied group log replayed): floor
// (never below the log's first offset), totals, done offsets, delivery counts.
inline GroupPartition RestoreGroupPartition(const LoadedGroupPartition& lp, uint64_t first_offset) {
  GroupPartition gp(std::max(lp.floor, first_offset));
  gp.SetTotals(lp.acked_total, lp.dead_total);
  for (size_t i = 0; i < lp.rows_state.size(); ++i) {
    if (lp.rows_state[i].second != 0) {
      gp.RestoreDone(lp.rows_state[i].first);
    } else {
      gp.RestoreDeliveries(lp.rows_deliveries[i].first, lp.rows_deliveries[i].second);
    }
  }
  return gp;
}

struct ConsumerGroup {
  std::string name;
  TimeMs created_ms = 0;
  std::mutex mu;
  std::vector<GroupPartition> parts;        // guarded by mu; one per partition
  std::vector<uint64_t> persisted_floor;    // guarded by mu; floor last written
  std::map<std::string, TimeMs> consumers;  // guarded by mu; named consumer -> last seen
  size_t next_partition = 0;                // guarded by mu; where the next pull starts
};

struct Topic {
  int64_t id = 0;
  std::string name;
  TopicConfig config;
  TimeMs created_ms = 0;
  std::vector<std::unique_ptr<Partition>> partitions;  // constant after construction
  std::atomic<bool> deleted{false};
  std::atomic<uint64_t> round_robin{0};

  std::mutex groups_mu;
  std::map<std::string, std::shared_ptr<ConsumerGroup>> groups;  // guarded by groups_mu

  // Waiters (long polls, SSE, stream reads) wait here for any change of the topic.
  std::mutex change_mu;
  std::condition_variable change_cv;
  uint64_t generation = 0;  // guarded by change_mu

  void Notify() {
    std::lock_guard<std::mutex> lock(change_mu);
    ++generation;
    change_cv.notify_all();
  }
  uint64_t Generation() {
    std::lock_guard<std::mutex> lock(change_mu);
    return generation;
  }
  // Waits until the generation moved past `seen`, `deadline`, `stopping`, or deletion.
  void WaitForChange(uint64_t seen, std::chrono::steady_clock::time_point deadline,
                     const std::atomic<bool>& stopping) {
    std::unique_lock<std::mutex> lock(change_mu);
    change_cv.wait_until(lock, deadline,
                         [&] { return generation != seen || stopping.load() || deleted.load(); });
  }
};

}  // namespace zoomq::broker
