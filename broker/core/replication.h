// Replication state of one partition (pure, no I/O): Kafka's ZooKeeper-era model with
// KIP-101/279 epoch-based truncation.
//
// LeaderState: the leader's view of its followers. A follower that fetches from offset F
// holds every entry below F durably. Followers may fetch entries the leader appended but has
// not committed yet (pipelining), so the leader tracks two ends: its log end (what a follower
// can hold at most) and its durable end. The high watermark is the smallest durable end among
// the in-sync replicas (the leader's own included); a produce is acknowledged once the high
// watermark passes it and the in-sync set has at least min_insync_replicas members. A follower is caught up
// when it fetched from the leader's log end; one that was last caught up longer than
// `lag_max_ms` ago is proposed for removal from the ISR, and a follower outside it that holds
// the high watermark and the start of the leader's epoch is proposed for addition. ISR changes are proposals: the broker writes them to
// ZooKeeper with a version check and calls OnIsrCommitted() when that succeeds.
//
// EpochCache: leader epoch -> first offset written in that epoch. A follower that (re)joins
// asks the leader where its own latest epoch ends and truncates its log there, so a suffix
// written by a deposed leader is removed even when it is below the old high watermark.
//
// Thread-safety: none; the owning partition guards them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "zoomq/common/clock.h"

namespace zoomq::broker {

class LeaderState {
 public:
  // `epoch_start`: the leader's log end when it takes over, where its epoch starts (entries
  // below may not be durable yet: `durable_end` <= it). A follower outside the ISR comes back
  // only once it holds everything up to there (Kafka's rule too): the leader's high
  // watermark can lag far behind what was committed before it took over (a restarted leader
  // starts from 0), so "holds the high watermark" alone could re-admit a replica that lacks
  // acknowledged entries and later elect it (found by the simulation, seed 854).
  LeaderState(int32_t self, int64_t epoch, std::vector<int32_t> replicas, std::vector<int32_t> isr,
              uint64_t epoch_start, uint64_t durable_end, uint64_t high_watermark, TimeMs now);

  int32_t self() const { return self_; }
  int64_t epoch() const { return epoch_; }
  const std::vector<int32_t>& replicas() const { return replicas_; }
  const std::vector<int32_t>& isr() const { return isr_; }
  uint64_t high_watermark() const { return high_watermark_; }
  uint64_t log_end() const { return log_end_; }
  uint64_t epoch_start() const { return epoch_start_; }
  uint64_t durable_end() const { return durable_end_; }

  // The leader appended entries below `log_end` (not committed yet): followers may hold them.
  void OnAppend(uint64_t log_end);
  // The leader committed entries below `durable_end` locally; returns the new high watermark.
  uint64_t OnDurable(uint64_t durable_end);
  // A follower fetched from `fetch_offset` (holds everything below). Returns the new
  // high watermark (never moves back).
  uint64_t OnFetch(int32_t follower, uint64_t fetch_offset, TimeMs now);
  // The ISR this leader wants now (shrunk by lag, grown by catch-up), or nullopt if it is
  // fine as it is.
  std::optional<std::vector<int32_t>> ProposedIsr(TimeMs now, TimeMs lag_max_ms) const;
  // The ISR written to ZooKeeper; the high watermark is recomputed. Clears a proposal.
  uint64_t OnIsrCommitted(std::vector<int32_t> isr);
  // The broker is about to write `isr` (a ProposedIsr result): until it is committed or
  // abandoned, the high watermark also waits for the replicas it adds (Kafka's "maximal
  // ISR", KIP-497). Else the high watermark could pass entries a joining replica lacks
  // while the write is on its way, and that replica, in the ISR once it lands, could be
  // elected without them (found by the simulation, seed 3758).
  void OnIsrProposed(const std::vector<int32_t>& isr);
  // The proposal was not written (lost to a newer partition state).
  uint64_t OnIsrAbandoned();
  // Where `follower` has matched up to (0 if never fetched).
  uint64_t MatchOf(int32_t follower) const;

 private:
  struct Follower {
    uint64_t match = 0;         // holds every entry below
    // Last fetch at the leader's log end, or at the log end of its previous fetch (Kafka's
    // rule: under steady appends a follower is never exactly at the moving end).
    TimeMs last_caught_up = 0;
    TimeMs last_fetch = 0;
    uint64_t last_fetch_log_end = 0;  // the leader's log end at the last fetch
    // Fetched since it last left the ISR: only a live, fetching follower may come back (a
    // dead one's old position must not re-admit it).
    bool fresh = false;
  };
  uint64_t Recompute();

  const int32_t self_;
  const int64_t epoch_;
  const std::vector<int32_t> replicas_;
  const uint64_t epoch_start_;
  std::vector<int32_t> isr_;
  uint64_t log_end_;      // appended; bounds what a follower can claim to hold
  uint64_t durable_end_;  // committed locally; bounds the high watermark
  uint64_t high_watermark_;
  std::map<int32_t, Follower> followers_;
  std::vector<int32_t> joining_;  // proposed additions to the ISR, not committed yet
};

// The ISR a partition's leader wants, from the states of both its logs (the message log and
// the group log share one ISR): a follower stays only while caught up in both, and comes back
// only once it holds what both require; nullopt if the ISR is fine as it is. (Deciding on the
// message log alone re-admitted a follower that lacked acknowledged group log entries, and it
// was then elected: found by the simulation, seed 1255.)
std::optional<std::vector<int32_t>> ProposedIsr(const LeaderState& log,
                                                const LeaderState& group_log, TimeMs now,
                                                TimeMs lag_max_ms);

class EpochCache {
 public:
  // Records that entries from `start_offset` on carry `epoch` (epochs only increase). Epochs
  // recorded at or after `start_offset` with no entries (a lead taken at the log end and
  // never written in) are dropped: the log's entry there carries `epoch`.
  void Assign(int64_t epoch, uint64_t start_offset);
  // The latest epoch, or -1 when the log has no entries.
  int64_t LatestEpoch() const { return entries_.empty() ? -1 : entries_.rbegin()->first; }
  // KIP-101/279: for a follower whose latest epoch is `epoch`, the largest epoch <= it that
  // this log knows and the offset where that epoch ends here (the start of the next epoch,
  // or `log_end` for the latest). (-1, 0) if this log knows no such epoch.
  std::pair<int64_t, uint64_t> EndOffsetFor(int64_t epoch, uint64_t log_end) const;
  // The log was truncated to `log_end`: forget epochs that start at or after it.
  void TruncateTo(uint64_t log_end);
  // The log's head was removed below `first_offset`.
  void TruncateHead(uint64_t first_offset);
  const std::map<int64_t, uint64_t>& entries() const { return entries_; }

 private:
  std::map<int64_t, uint64_t> entries_;  // epoch -> first offset of that epoch
};

// Whether a replica may lead `epoch`: only if it is newer than the epoch of its current role
// (-1: none) and than every epoch in its logs. Leader epochs are granted in increasing order,
// each to one incarnation of one broker, so a grant that is not newer is a reused epoch:
// leading it again could write an entry at an offset where a follower holds another entry
// of the same epoch (Log Matching broken, chaos seed 97312).
bool CanLeadEpoch(int64_t epoch, int64_t role_epoch, const EpochCache& log,
                  const EpochCache& group_log);

// The follower's side of KIP-101/279: given its own cache and log end, and the leader's
// answer for the follower's latest epoch, where to truncate the follower's log.
uint64_t TruncationPoint(const EpochCache& follower, uint64_t follower_log_end,
                         std::pair<int64_t, uint64_t> leader_answer);

// One round of the follower's conversation with its leader (KIP-279): it asked where epoch
// `asked` ends and got `leader_answer`. Either it knows where to cut (`done`, at `point`), or
// the leader only knows an older epoch and it must ask again for `next_ask` (the largest of
// its own epochs not above the leader's). The first question is the follower's latest epoch
// (nothing to do when its log is empty). Used by the broker and by the simulation.
struct TruncationStep {
  bool done = true;
  uint64_t point = 0;     // truncate the follower's log to this end (when done)
  int64_t next_ask = -1;  // the next epoch to ask about (when not done)
};
TruncationStep NextTruncationStep(const EpochCache& follower, uint64_t follower_log_end,
                                  int64_t asked, std::pair<int64_t, uint64_t> leader_answer);

}  // namespace zoomq::broker
