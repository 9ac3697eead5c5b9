// ReplicaLog: how far one replicated log has come on this replica (pure, no I/O).
//
// A partition replicates two logs the same way: its messages and its group log (acks,
// dead-letters, floors of its consumer groups). Each has its own positions, epochs and
// followers, so the partition keeps one ReplicaLog per log. What the log holds (the message
// index, the group log's entries) is not here: the owner keeps it and passes the log's end
// where a decision needs it.
//
//   durable         entries below are committed to this broker's disk
//   high_watermark  entries below are committed by the in-sync replicas: readers see them
//   epochs          leader epoch -> first position written in it (KIP-101/279 truncation)
//   leader          while this replica leads: the followers' progress (LeaderState)
//
// A follower's high watermark is the leader's as last fetched, capped by what it holds
// durably itself. The high watermark moves up only, except when the log is cut below it.
//
// Thread-safety: none; the owning partition guards it.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "broker/core/replication.h"
#include "zoomq/common/clock.h"

namespace zoomq::broker {

class ReplicaLog {
 public:
  uint64_t durable() const { return durable_; }
  uint64_t high_watermark() const { return high_watermark_; }
  const EpochCache& epochs() const { return epochs_; }
  bool leading() const { return leader_.has_value(); }
  // REQUIRES: leading().
  const LeaderState& leader() const { return *leader_; }
  // The ISR while leading; empty otherwise.
  size_t isr_size() const { return leader_ ? leader_->isr().size() : 0; }

  // --- Every replica
  // Loading from disk: the log holds [start, end) durably; with `committed` (a standalone
  // broker, its only replica) all of it is committed, else nothing beyond `start` is yet
  // (the leader or the followers' fetches tell). Epochs come through Assign.
  void Recover(uint64_t start, uint64_t end, bool committed);
  // The entry at `position` carries `epoch` (appended here, as leader or follower).
  void Assign(int64_t epoch, uint64_t position) { epochs_.Assign(epoch, position); }
  // Entries below `end` are committed to this broker's disk. `log_end` caps it: a commit
  // queued before a truncation may land after it. Returns true if the high watermark moved.
  bool OnDurable(uint64_t end, uint64_t log_end);
  // The log was cut to `end` (a follower removing a divergent suffix).
  void TruncateTo(uint64_t end);
  // The log starts over, empty, at `start` (a follower behind the leader's retention).
  void Restart(uint64_t start);

  // --- Follower
  // The leader's high watermark as just fetched; it counts at the next OnDurable.
  void OnLeaderHighWatermark(uint64_t hwm) { leader_hwm_ = std::max(leader_hwm_, hwm); }

  // --- Leader
  // Takes the lead of `epoch` at `log_end` (entries from there on carry it).
  void BecomeLeader(int32_t self, int64_t epoch, std::vector<int32_t> replicas,
                    std::vector<int32_t> isr, uint64_t log_end, TimeMs now);
  void StopLeading() { leader_.reset(); }
  // Entries below `log_end` were appended (not committed yet): followers may fetch them.
  void OnAppend(uint64_t log_end);
  // A follower fetched from `position`: it holds everything below. Returns true if the high
  // watermark moved.
  bool OnFetch(int32_t follower, uint64_t position, TimeMs now);
  // ISR changes (LeaderState): proposed, then written (committed) or not (abandoned).
  void OnIsrProposed(const std::vector<int32_t>& isr);
  void OnIsrCommitted(const std::vector<int32_t>& isr);
  void OnIsrAbandoned();
  // KIP-101/279: where `epoch` ends in this log (EpochCache::EndOffsetFor at `log_end`).
  std::pair<int64_t, uint64_t> EpochEnd(int64_t epoch, uint64_t log_end) const {
    return epochs_.EndOffsetFor(epoch, log_end);
  }

 private:
  // Raises the high watermark to `hwm` if above; true if it moved.
  bool Raise(uint64_t hwm);

  EpochCache epochs_;
  uint64_t durable_ = 0;
  uint64_t high_watermark_ = 0;
  uint64_t leader_hwm_ = 0;  // follower: the leader's, as last fetched
  std::optional<LeaderState> leader_;
};

}  // namespace zoomq::broker
