// Partition: the changes of one partition's replication state that several parts of the
// service make (commit, append for followers, role changes).
#include "broker/service/topic_state.h"

#include <spdlog/spdlog.h>

namespace zoomq::broker {

namespace {
// The leader's in-memory tail keeps at least the entries not committed yet, and beyond them
// at most this much (older entries are read from SQLite).
constexpr size_t kTailMaxEntries = 4096;
constexpr size_t kTailMaxBytes = 4 << 20;
}  // namespace

Status Partition::CheckEnoughReplicasLocked(const TopicConfig& config,
                                            const std::string& topic) const {
  // Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank below min_insync_replicas after
  // the append, so the high watermark passed it with fewer copies than promised. Not
  // acknowledged: 503 UNAVAILABLE, "maybe written" like a write timeout (NOT_ENOUGH_REPLICAS
  // means nothing was written); the client retries with the same ids, and the dedup window
  // answers the retry once the ISR is back.
  const size_t isr = log.isr_size();
  if (isr >= static_cast<size_t>(config.min_insync_replicas)) return Status::Ok();
  return Status::Unavailable(topic + "/" + std::to_string(number) + " has " + std::to_string(isr) +
                             " in-sync replica(s) now, min_insync_replicas is " +
                             std::to_string(config.min_insync_replicas) +
                             ": it may be written but is not acknowledged; retry with the same "
                             "ids");
}

void Partition::OnDurableLocked(uint64_t end, uint64_t group_log_end) {
  // A commit queued before a truncation may land after it: never past the log's end.
  end = std::min(end, index.log_end());
  group_log_end = std::min(group_log_end, group_end);
  // Fetches wait for new group log entries, and for log entries not in the tail (a new
  // leader's uncommitted entries are served from SQLite once committed).
  const uint64_t durable = log.durable();
  if (group_log_end > group_log.durable() || (end > durable && durable < tail_start)) {
    WakeFetchersLocked();
  }
  const bool moved = log.OnDurable(end, index.log_end());
  const bool group_moved = group_log.OnDurable(group_log_end, group_end);
  // Waiters only care about the high watermarks (role and health changes notify on their
  // own): waking them for nothing costs a context switch each.
  if (moved || group_moved) hwm_cv.notify_all();
}

void Partition::RememberLocked(const StoredMessage& m) {
  if (!leading() || log.leader().replicas().size() <= 1) return;  // nobody fetches
  if (tail_start + tail.size() != m.offset) ResetTailLocked();
  if (tail.empty()) tail_start = m.offset;
  tail.push_back(m);
  tail_bytes += EntryBytes(m);
  while (tail_start < log.durable() &&
         (tail.size() > kTailMaxEntries || tail_bytes > kTailMaxBytes)) {
    tail_bytes -= EntryBytes(tail.front());
    tail.pop_front();
    ++tail_start;
  }
  log.OnAppend(m.offset + 1);
  ++fetch_signal;  // the caller notifies fetch_cv after unlocking
}

void Partition::WakeFetchersLocked() {
  ++fetch_signal;
  fetch_cv.notify_all();
}

void Partition::ResetTailLocked() {
  tail.clear();
  tail_bytes = 0;
  tail_start = index.log_end();
}

void Partition::BecomeLeaderLocked(int32_t self, const std::string& url, int64_t new_epoch,
                                   std::vector<int32_t> replicas, std::vector<int32_t> isr,
                                   TimeMs now) {
  epoch = new_epoch;
  leader_id = self;
  leader_url = url;
  ++role_generation;
  groups_ready = false;  // until the groups are rebuilt (standalone: loaded at start)
  group_log.BecomeLeader(self, new_epoch, replicas, isr, group_end, now);
  log.BecomeLeader(self, new_epoch, std::move(replicas), std::move(isr), index.log_end(), now);
  // Entries appended as a follower but not committed yet are served from SQLite once they
  // are: the tail starts at the log end.
  ResetTailLocked();
  hwm_cv.notify_all();
  WakeFetchersLocked();
}

void Partition::StopLeadingLocked(int64_t new_epoch, int32_t new_leader_id, std::string url) {
  log.StopLeading();
  group_log.StopLeading();
  groups_ready = false;
  ResetTailLocked();
  epoch = new_epoch;
  leader_id = new_leader_id;
  leader_url = std::move(url);
  ++role_generation;
  hwm_cv.notify_all();
  WakeFetchersLocked();
}

}  // namespace zoomq::broker
