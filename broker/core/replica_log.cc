#include "broker/core/replica_log.h"

#include <algorithm>

namespace zoomq::broker {

bool ReplicaLog::Raise(uint64_t hwm) {
  if (hwm <= high_watermark_) return false;
  high_watermark_ = hwm;
  return true;
}

void ReplicaLog::Recover(uint64_t start, uint64_t end, bool committed) {
  durable_ = end;
  high_watermark_ = committed ? end : start;
}

bool ReplicaLog::OnDurable(uint64_t end, uint64_t log_end) {
  durable_ = std::max(durable_, std::min(end, log_end));
  if (leader_) return Raise(leader_->OnDurable(durable_));
  return Raise(std::min(leader_hwm_, durable_));
}

void ReplicaLog::TruncateTo(uint64_t end) {
  epochs_.TruncateTo(end);
  durable_ = std::min(durable_, end);
  high_watermark_ = std::min(high_watermark_, end);
}

void ReplicaLog::Restart(uint64_t start) {
  epochs_ = EpochCache();
  durable_ = start;
  high_watermark_ = start;
}

void ReplicaLog::BecomeLeader(int32_t self, int64_t epoch, std::vector<int32_t> replicas,
                              std::vector<int32_t> isr, uint64_t log_end, TimeMs now) {
  // Entries from here on carry the new epoch (KIP-101: the epoch starts at the log end).
  epochs_.Assign(epoch, log_end);
  leader_.emplace(self, epoch, std::move(replicas), std::move(isr), log_end, durable_,
                  high_watermark_, now);
  leader_->OnAppend(log_end);
  Raise(leader_->OnDurable(durable_));
}

void ReplicaLog::OnAppend(uint64_t log_end) {
  if (leader_) leader_->OnAppend(log_end);
}

bool ReplicaLog::OnFetch(int32_t follower, uint64_t position, TimeMs now) {
  return Raise(leader_->OnFetch(follower, position, now));
}

void ReplicaLog::OnIsrProposed(const std::vector<int32_t>& isr) { leader_->OnIsrProposed(isr); }

void ReplicaLog::OnIsrCommitted(const std::vector<int32_t>& isr) {
  Raise(leader_->OnIsrCommitted(isr));
}

void ReplicaLog::OnIsrAbandoned() { Raise(leader_->OnIsrAbandoned()); }

}  // namespace zoomq::broker
