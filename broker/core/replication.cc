#include "broker/core/replication.h"

#include <algorithm>

namespace zoomq::broker {

LeaderState::LeaderState(int32_t self, int64_t epoch, std::vector<int32_t> replicas,
                         std::vector<int32_t> isr, uint64_t epoch_start, uint64_t durable_end,
                         uint64_t high_watermark, TimeMs now)
    : self_(self),
      epoch_(epoch),
      replicas_(std::move(replicas)),
      epoch_start_(epoch_start),
      isr_(std::move(isr)),
      log_end_(std::max(epoch_start, durable_end)),
      durable_end_(durable_end),
      high_watermark_(high_watermark) {
  for (int32_t r : replicas_) {
    // Followers start "caught up now" so none is dropped before it had a chance to fetch.
    if (r != self_) followers_[r] = Follower{0, now};
  }
}

uint64_t LeaderState::MatchOf(int32_t follower) const {
  auto it = followers_.find(follower);
  return it == followers_.end() ? 0 : it->second.match;
}

uint64_t LeaderState::Recompute() {
  uint64_t hw = durable_end_;
  for (int32_t r : isr_) {
    if (r == self_) continue;
    hw = std::min(hw, MatchOf(r));
  }
  for (int32_t r : joining_) hw = std::min(hw, MatchOf(r));
  high_watermark_ = std::max(high_watermark_, hw);
  return high_watermark_;
}

void LeaderState::OnAppend(uint64_t log_end) { log_end_ = std::max(log_end_, log_end); }

uint64_t LeaderState::OnDurable(uint64_t durable_end) {
  durable_end_ = durable_end;
  log_end_ = std::max(log_end_, durable_end);
  return Recompute();
}

uint64_t LeaderState::OnFetch(int32_t follower, uint64_t fetch_offset, TimeMs now) {
  auto it = followers_.find(follower);
  if (it == followers_.end()) return high_watermark_;  // not a replica: ignored
  Follower& f = it->second;
  f.match = std::min(fetch_offset, log_end_);
  if (fetch_offset >= log_end_) {
    f.last_caught_up = now;
  } else if (fetch_offset >= f.last_fetch_log_end) {
    f.last_caught_up = std::max(f.last_caught_up, f.last_fetch);
  }
  f.last_fetch = now;
  f.last_fetch_log_end = log_end_;
  f.fresh = true;
  return Recompute();
}

std::optional<std::vector<int32_t>> LeaderState::ProposedIsr(TimeMs now,
                                                            TimeMs lag_max_ms) const {
  std::vector<int32_t> want;
  for (int32_t r : replicas_) {
    if (r == self_) {
      want.push_back(r);
      continue;
    }
    const Follower& f = followers_.at(r);
    bool in = std::find(isr_.begin(), isr_.end(), r) != isr_.end();
    if (in) {
      if (now - f.last_caught_up <= lag_max_ms) want.push_back(r);
    } else if (f.fresh && f.match >= high_watermark_ && f.match >= epoch_start_ &&
               now - f.last_fetch <= lag_max_ms) {
      // Kafka's rule: a fetching follower that holds everything committed (the high
      // watermark, and everything the leader held when its epoch began) comes back; the
      // high watermark then waits for it, never moves back.
      want.push_back(r);
    }
  }
  std::vector<int32_t> cur = isr_;
  std::sort(cur.begin(), cur.end());
  std::vector<int32_t> sorted = want;
  std::sort(sorted.begin(), sorted.end());
  if (sorted == cur) return std::nullopt;
  return want;
}

std::optional<std::vector<int32_t>> ProposedIsr(const LeaderState& log,
                                                const LeaderState& group_log, TimeMs now,
                                                TimeMs lag_max_ms) {
  auto a = log.ProposedIsr(now, lag_max_ms);
  auto b = group_log.ProposedIsr(now, lag_max_ms);
  if (!a && !b) return std::nullopt;
  const std::vector<int32_t> want_a = a ? *a : log.isr();
  const std::vector<int32_t> want_b = b ? *b : group_log.isr();
  std::vector<int32_t> want;
  for (int32_t r : want_a) {
    if (std::find(want_b.begin(), want_b.end(), r) != want_b.end()) want.push_back(r);
  }
  std::vector<int32_t> sorted = want, cur = log.isr();
  std::sort(sorted.begin(), sorted.end());
  std::sort(cur.begin(), cur.end());
  if (sorted == cur) return std::nullopt;
  return want;
}

void LeaderState::OnIsrProposed(const std::vector<int32_t>& isr) {
  joining_.clear();
  for (int32_t r : isr) {
    if (r != self_ && std::find(isr_.begin(), isr_.end(), r) == isr_.end()) joining_.push_back(r);
  }
}

uint64_t LeaderState::OnIsrAbandoned() {
  joining_.clear();
  return Recompute();
}

uint64_t LeaderState::OnIsrCommitted(std::vector<int32_t> isr) {
  joining_.clear();
  for (auto& [r, f] : followers_) {
    if (std::find(isr.begin(), isr.end(), r) == isr.end()) f.fresh = false;
  }
  isr_ = std::move(isr);
  return Recompute();
}

void EpochCache::Assign(int64_t epoch, uint64_t start_offset) {
  // Epochs that start at or after this entry's offset have no entries below it: an epoch
  // assigned on taking the lead at the log end, never written in, and now superseded by
  // the entry a follower appends there (Kafka drops them the same way). Keeping one made
  // the cache claim an epoch for entries of another, and a follower asking where its epoch
  // ends was told to truncate acknowledged entries (found by the simulation, seed 170190).
  while (!entries_.empty() && entries_.rbegin()->second >= start_offset &&
         entries_.rbegin()->first != epoch) {
    entries_.erase(std::prev(entries_.end()));
  }
  if (!entries_.empty() && entries_.rbegin()->first >= epoch) return;  // already known
  entries_[epoch] = start_offset;
}

std::pair<int64_t, uint64_t> EpochCache::EndOffsetFor(int64_t epoch, uint64_t log_end) const {
  auto it = entries_.upper_bound(epoch);  // first epoch > requested
  if (it == entries_.begin()) return {-1, 0};
  uint64_t end = it == entries_.end() ? log_end : it->second;
  --it;
  return {it->first, end};
}

void EpochCache::TruncateTo(uint64_t log_end) {
  while (!entries_.empty() && entries_.rbegin()->second >= log_end) {
    entries_.erase(std::prev(entries_.end()));
  }
}

void EpochCache::TruncateHead(uint64_t first_offset) {
  // Keep the epoch that covers first_offset, starting it there.
  while (entries_.size() >= 2 && std::next(entries_.begin())->second <= first_offset) {
    entries_.erase(entries_.begin());
  }
  if (!entries_.empty() && entries_.begin()->second < first_offset) {
    entries_.begin()->second = first_offset;
  }
}

bool CanLeadEpoch(int64_t epoch, int64_t role_epoch, const EpochCache& log,
                  const EpochCache& group_log) {
  return epoch > role_epoch && epoch > log.LatestEpoch() && epoch > group_log.LatestEpoch();
}

uint64_t TruncationPoint(const EpochCache& follower, uint64_t follower_log_end,
                         std::pair<int64_t, uint64_t> leader_answer) {
  auto [leader_epoch, leader_end] = leader_answer;
  if (leader_epoch < 0) return 0;  // the leader knows none of our epochs: start over
  // KIP-279: if the leader answered for an older epoch than ours, our log may diverge
  // inside that older epoch's range too: also bound by where that epoch ends here.
  auto [mine, my_end] = follower.EndOffsetFor(leader_epoch, follower_log_end);
  uint64_t point = std::min(leader_end, follower_log_end);
  if (mine == leader_epoch) point = std::min(point, my_end);
  return point;
}

TruncationStep NextTruncationStep(const EpochCache& follower, uint64_t follower_log_end,
                                  int64_t asked, std::pair<int64_t, uint64_t> leader_answer) {
  TruncationStep step;
  step.point = TruncationPoint(follower, follower_log_end, leader_answer);
  if (leader_answer.first < 0 || leader_answer.first == asked) return step;
  auto [own, own_end] = follower.EndOffsetFor(leader_answer.first, follower_log_end);
  if (own < 0) {
    step.point = 0;  // no epoch of ours is as old as the leader's: nothing is shared
    return step;
  }
  step.done = false;
  step.next_ask = own;
  return step;
}

}  // namespace zoomq::broker
