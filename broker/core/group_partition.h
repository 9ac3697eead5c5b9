// GroupPartition: one consumer group's progress through one partition (pure, no I/O).
//
// Every offset of the partition is in exactly one state for the group:
//   offset <  floor_                       done (acked, dead-lettered or removed by retention)
//   floor_ <= offset < cursor_             one of: in done_, in pending_, in deferred_
//   cursor_ <= offset                      not looked at yet (or, after a restart, maybe in done_)
// pending_ is the pending-entries list (as in Redis streams): offsets that own their key and
// wait for an ack. Each pending entry is either leased (to one consumer, until expires_at),
// delayed (nacked or lease expired; becomes ready at available_at) or ready (deliverable now).
// Per-key order: at most one pending entry per key (key_owner_); later offsets of a key wait
// in deferred_ until the owner is done, so a key's messages go out in offset order, one at a
// time. Messages without a key (kNoKey) are never deferred.
//
// Thread-safety: none; the owner (broker::ConsumerGroup) guards it with its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "zoomq/common/clock.h"

namespace zoomq::broker {

class PartitionIndex;

struct Delivery {
  uint64_t offset;
  uint32_t delivery;  // 1 for the first delivery
};

// What a change to the group means for storage (each is persisted by the caller).
struct GroupChange {
  enum class Kind { kDelivered, kAcked, kDead };
  Kind kind;
  uint64_t offset;
  uint32_t deliveries;
};

class GroupPartition {
 public:
  explicit GroupPartition(uint64_t floor = 0) : floor_(floor), cursor_(floor) {}

  // --- Restore from storage (before any other call) -------------------------------
  void RestoreDone(uint64_t offset) {
    if (offset >= floor_) done_.insert(offset);
  }
  void RestoreDeliveries(uint64_t offset, uint32_t n) {
    if (offset >= floor_) restored_deliveries_[offset] = n;
  }

  // --- Operations; `now` is read once by the caller ---------------------------------
  // Leases up to `max` messages of `log` below `high_watermark` (its committed end) to
  // `consumer`, in offset order (redeliveries first), appending to `out` and recording
  // changes in `changes`.
  void Pull(const PartitionIndex& log, uint64_t high_watermark, const std::string& consumer,
            size_t max, TimeMs now, TimeMs visibility_ms, std::vector<Delivery>* out,
            std::vector<GroupChange>* changes);

  enum class Result { kOk, kUnknown, kDeadLetter };
  // Ack of a pending (leased or waiting for redelivery) offset. kUnknown otherwise.
  Result Ack(uint64_t offset, std::vector<GroupChange>* changes);
  // Nack of a leased offset: redeliverable at now + delay, or kDeadLetter when it reached
  // max_deliveries (0 = unlimited); then the offset is done for the group and the caller
  // must move the message to the dead-letter topic.
  Result Nack(uint64_t offset, TimeMs now, TimeMs delay_ms, uint32_t max_deliveries,
              std::vector<GroupChange>* changes);
  // New lease end for an unexpired lease.
  Result Extend(uint64_t offset, TimeMs now, TimeMs visibility_ms);
  // Expires leases and delays due at `now`. Offsets over max_deliveries are appended to
  // `dead` (done for the group; the caller moves them). Returns true if anything became
  // deliverable.
  bool Tick(TimeMs now, uint32_t max_deliveries, std::vector<uint64_t>* dead,
            std::vector<GroupChange>* changes);
  // Retention removed every offset below `first`.
  void OnHeadTruncated(uint64_t first);

  // --- Observers ---------------------------------------------------------------------
  uint64_t floor() const { return floor_; }
  size_t in_flight() const { return leases_by_expiry_.size(); }
  // Messages below `high_watermark` not done and not leased.
  uint64_t Backlog(uint64_t high_watermark) const;
  size_t LeasedTo(const std::string& consumer) const;
  bool HasReady(TimeMs now) const;
  // Earliest time a lease or delay falls due (INT64_MAX if none).
  TimeMs NextDeadline() const;
  uint64_t acked_total() const { return acked_total_; }
  uint64_t dead_total() const { return dead_total_; }
  // Restored counters.
  void SetTotals(uint64_t acked, uint64_t dead) {
    acked_total_ = acked;
    dead_total_ = dead;
  }

 private:
  enum class State { kLeased, kDelayed, kReady };
  struct Pending {
    uint64_t key_hash;
    uint32_t deliveries;   // leases so far
    State state;
    std::string consumer;  // kLeased: who holds it
    TimeMs due;            // kLeased: lease end; kDelayed: when it becomes ready
  };

  void Lease(uint64_t offset, Pending& p, const std::string& consumer, TimeMs now,
             TimeMs visibility_ms, std::vector<Delivery>* out, std::vector<GroupChange>* changes);
  void ClearState(uint64_t offset, const Pending& p);  // removes p from the state indexes
  // The offset is done: leaves pending_, hands its key to the next deferred offset.
  void Finish(uint64_t offset);
  void AdvanceFloor();

  uint64_t floor_;
  uint64_t cursor_;
  std::set<uint64_t> done_;  // done offsets >= floor_
  std::map<uint64_t, Pending> pending_;
  std::set<std::pair<TimeMs, uint64_t>> leases_by_expiry_;
  std::set<std::pair<TimeMs, uint64_t>> delayed_;
  std::set<uint64_t> ready_;
  std::unordered_map<std::string, size_t> leased_by_;  // consumer -> leases held
  std::unordered_map<uint64_t, uint64_t> key_owner_;   // key hash -> pending offset
  std::unordered_map<uint64_t, std::deque<uint64_t>> deferred_;  // key hash -> offsets, in order
  size_t deferred_count_ = 0;
  // Delivery counts read from storage, consumed when the cursor reaches the offset.
  std::unordered_map<uint64_t, uint32_t> restored_deliveries_;
  uint64_t acked_total_ = 0;
  uint64_t dead_total_ = 0;
};

}  // namespace zoomq::broker
