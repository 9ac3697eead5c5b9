#include "broker/core/group_partition.h"

#include <algorithm>
#include <climits>

#include "broker/core/partition_index.h"

namespace zoomq::broker {

namespace {
// Offsets looked at per Pull beyond the ones delivered: bounds the time a pull can take
// when one busy key defers everything behind it.
constexpr uint64_t kScanBudget = 10'000;
}  // namespace

void GroupPartition::Pull(const PartitionIndex& log, uint64_t high_watermark,
                          const std::string& consumer, size_t max, TimeMs now,
                          TimeMs visibility_ms, std::vector<Delivery>* out,
                          std::vector<GroupChange>* changes) {
  if (log.first_offset() > floor_) OnHeadTruncated(log.first_offset());
  size_t taken = 0;
  // Redeliveries (and offsets handed a key) first, in offset order.
  while (taken < max && !ready_.empty()) {
    uint64_t offset = *ready_.begin();
    ready_.erase(ready_.begin());
    Lease(offset, pending_.at(offset), consumer, now, visibility_ms, out, changes);
    ++taken;
  }
  const uint64_t hwm = std::min(high_watermark, log.log_end());
  uint64_t budget = kScanBudget + max;
  while (taken < max && cursor_ < hwm && budget-- > 0) {
    uint64_t offset = cursor_++;
    if (done_.count(offset)) continue;  // acked before a restart
    uint64_t key = log.Meta(offset).key_hash;
    if (key != kNoKey) {
      auto [owner, inserted] = key_owner_.try_emplace(key, offset);
      if (!inserted) {
        deferred_[key].push_back(offset);
        ++deferred_count_;
        continue;
      }
    }
    uint32_t deliveries = 0;
    if (auto it = restored_deliveries_.find(offset); it != restored_deliveries_.end()) {
      deliveries = it->second;
      restored_deliveries_.erase(it);
    }
    auto [it, inserted] =
        pending_.emplace(offset, Pending{key, deliveries, State::kReady, std::string(), 0});
    Lease(offset, it->second, consumer, now, visibility_ms, out, changes);
    ++taken;
  }
  AdvanceFloor();
}

void GroupPartition::Lease(uint64_t offset, Pending& p, const std::string& consumer, TimeMs now,
                           TimeMs visibility_ms, std::vector<Delivery>* out,
                           std::vector<GroupChange>* changes) {
  p.state = State::kLeased;
  p.deliveries++;
  p.consumer = consumer;
  p.due = now + visibility_ms;
  leases_by_expiry_.emplace(p.due, offset);
  leased_by_[consumer]++;
  out->push_back({offset, p.deliveries});
  changes->push_back({GroupChange::Kind::kDelivered, offset, p.deliveries});
}

void GroupPartition::ClearState(uint64_t offset, const Pending& p) {
  switch (p.state) {
    case State::kLeased: {
      leases_by_expiry_.erase({p.due, offset});
      auto it = leased_by_.find(p.consumer);
      if (it != leased_by_.end() && --it->second == 0) leased_by_.erase(it);
      break;
    }
    case State::kDelayed:
      delayed_.erase({p.due, offset});
      break;
    case State::kReady:
      ready_.erase(offset);
      break;
  }
}

void GroupPartition::Finish(uint64_t offset) {
  auto it = pending_.find(offset);
  uint64_t key = it->second.key_hash;
  pending_.erase(it);
  done_.insert(offset);
  if (key == kNoKey) return;
  key_owner_.erase(key);
  auto d = deferred_.find(key);
  if (d == deferred_.end()) return;
  uint64_t next = d->second.front();
  d->second.pop_front();
  --deferred_count_;
  if (d->second.empty()) deferred_.erase(d);
  key_owner_[key] = next;
  uint32_t deliveries = 0;
  if (auto r = restored_deliveries_.find(next); r != restored_deliveries_.end()) {
    deliveries = r->second;
    restored_deliveries_.erase(r);
  }
  pending_.emplace(next, Pending{key, deliveries, State::kReady, std::string(), 0});
  ready_.insert(next);
}

void GroupPartition::AdvanceFloor() {
  while (floor_ < cursor_ && !done_.empty() && *done_.begin() == floor_) {
    done_.erase(done_.begin());
    ++floor_;
  }
}

GroupPartition::Result GroupPartition::Ack(uint64_t offset, std::vector<GroupChange>* changes) {
  auto it = pending_.find(offset);
  if (it == pending_.end() || it->second.deliveries == 0) return Result::kUnknown;
  ClearState(offset, it->second);
  uint32_t deliveries = it->second.deliveries;
  Finish(offset);
  ++acked_total_;
  changes->push_back({GroupChange::Kind::kAcked, offset, deliveries});
  AdvanceFloor();
  return Result::kOk;
}

GroupPartition::Result GroupPartition::Nack(uint64_t offset, TimeMs now, TimeMs delay_ms,
                                            uint32_t max_deliveries,
                                            std::vector<GroupChange>* changes) {
  auto it = pending_.find(offset);
  if (it == pending_.end() || it->second.state != State::kLeased) return Result::kUnknown;
  Pending& p = it->second;
  ClearState(offset, p);
  if (max_deliveries > 0 && p.deliveries >= max_deliveries) {
    uint32_t deliveries = p.deliveries;
    Finish(offset);
    ++dead_total_;
    changes->push_back({GroupChange::Kind::kDead, offset, deliveries});
    AdvanceFloor();
    return Result::kDeadLetter;
  }
  p.consumer.clear();
  if (delay_ms <= 0) {
    p.state = State::kReady;
    ready_.insert(offset);
  } else {
    p.state = State::kDelayed;
    p.due = now + delay_ms;
    delayed_.emplace(p.due, offset);
  }
  return Result::kOk;
}

GroupPartition::Result GroupPartition::Extend(uint64_t offset, TimeMs now, TimeMs visibility_ms) {
  auto it = pending_.find(offset);
  if (it == pending_.end()) return Result::kUnknown;
  Pending& p = it->second;
  if (p.state != State::kLeased || p.due <= now) return Result::kUnknown;
  leases_by_expiry_.erase({p.due, offset});
  p.due = now + visibility_ms;
  leases_by_expiry_.emplace(p.due, offset);
  return Result::kOk;
}

bool GroupPartition::Tick(TimeMs now, uint32_t max_deliveries, std::vector<uint64_t>* dead,
                          std::vector<GroupChange>* changes) {
  bool became_ready = false;
  while (!leases_by_expiry_.empty() && leases_by_expiry_.begin()->first <= now) {
    uint64_t offset = leases_by_expiry_.begin()->second;
    Pending& p = pending_.at(offset);
    ClearState(offset, p);
    if (max_deliveries > 0 && p.deliveries >= max_deliveries) {
      uint32_t deliveries = p.deliveries;
      Finish(offset);
      ++dead_total_;
      changes->push_back({GroupChange::Kind::kDead, offset, deliveries});
      dead->push_back(offset);
      became_ready = true;  // the key's next message may be deliverable now
      continue;
    }
    p.state = State::kReady;
    p.consumer.clear();
    ready_.insert(offset);
    became_ready = true;
  }
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    uint64_t offset = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    pending_.at(offset).state = State::kReady;
    ready_.insert(offset);
    became_ready = true;
  }
  AdvanceFloor();
  return became_ready;
}

void GroupPartition::OnHeadTruncated(uint64_t first) {
  if (first <= floor_) return;
  // Pending entries below `first` are gone; their keys are free again.
  while (!pending_.empty() && pending_.begin()->first < first) {
    auto it = pending_.begin();
    ClearState(it->first, it->second);
    if (it->second.key_hash != kNoKey) key_owner_.erase(it->second.key_hash);
    pending_.erase(it);
  }
  for (auto it = deferred_.begin(); it != deferred_.end();) {
    auto& q = it->second;
    while (!q.empty() && q.front() < first) {
      q.pop_front();
      --deferred_count_;
    }
    if (q.empty()) {
      it = deferred_.erase(it);
      continue;
    }
    if (!key_owner_.count(it->first)) {  // hand the key to its oldest remaining offset
      uint64_t next = q.front();
      q.pop_front();
      --deferred_count_;
      key_owner_[it->first] = next;
      pending_.emplace(next, Pending{it->first, 0, State::kReady, std::string(), 0});
      ready_.insert(next);
      if (q.empty()) {
        it = deferred_.erase(it);
        continue;
      }
    }
    ++it;
  }
  done_.erase(done_.begin(), done_.lower_bound(first));
  std::erase_if(restored_deliveries_, [first](const auto& e) { return e.first < first; });
  floor_ = first;
  cursor_ = std::max(cursor_, first);
  AdvanceFloor();
}

uint64_t GroupPartition::Backlog(uint64_t high_watermark) const {
  if (high_watermark <= floor_) return 0;
  uint64_t n = high_watermark - floor_;
  uint64_t done_below = std::distance(done_.begin(), done_.lower_bound(high_watermark));
  uint64_t sub = done_below + leases_by_expiry_.size();
  return n > sub ? n - sub : 0;
}

size_t GroupPartition::LeasedTo(const std::string& consumer) const {
  auto it = leased_by_.find(consumer);
  return it == leased_by_.end() ? 0 : it->second;
}

bool GroupPartition::HasReady(TimeMs now) const {
  if (!ready_.empty()) return true;
  if (!delayed_.empty() && delayed_.begin()->first <= now) return true;
  return !leases_by_expiry_.empty() && leases_by_expiry_.begin()->first <= now;
}

TimeMs GroupPartition::NextDeadline() const {
  TimeMs t = INT64_MAX;
  if (!leases_by_expiry_.empty()) t = std::min(t, leases_by_expiry_.begin()->first);
  if (!delayed_.empty()) t = std::min(t, delayed_.begin()->first);
  return t;
}

}  // namespace zoomq::broker
