// ReplicaManager: the follower's side: agree with the leader where the logs diverge (KIP-279),
// then fetch, append, commit locally, repeat.
#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/service/replica_manager.h"

namespace zoomq::broker {

namespace {
constexpr TimeMs kFetchWaitMs = 500;  // a fetch long-polls this long at the leader
constexpr TimeMs kRetryMs = 100;      // after a failed fetch or truncation check
}  // namespace

bool ReplicaManager::RoleCurrent(Partition* p, uint64_t generation) {
  std::lock_guard<std::mutex> lock(p->mu);
  return p->role_generation == generation && !s_.stopping;
}

Status ReplicaManager::TruncateByEpoch(const std::shared_ptr<Topic>& t, Partition* p,
                                       uint64_t generation, const std::string& leader_url,
                                       bool group_log) {
  int64_t ask;
  uint64_t log_end;
  EpochCache mine;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    mine = (group_log ? p->group_log : p->log).epochs();
    ask = mine.LatestEpoch();
    log_end = group_log ? p->group_end : p->index.log_end();
  }
  if (ask < 0 || log_end == 0) return Status::Ok();  // nothing to compare
  uint64_t point = log_end;
  // KIP-279: ask for our latest epoch; when the leader only knows an older one, ask again
  // for the largest epoch of ours not above it, until both sides talk about the same epoch.
  for (int round = 0; round < 16; ++round) {
    auto answer = transport_->EpochEnd(leader_url, t->name, p->number, ask, group_log);
    if (!answer.ok()) return answer.status();
    TruncationStep step = NextTruncationStep(mine, log_end, ask, answer.value());
    point = step.point;
    if (step.done) break;
    ask = step.next_ask;
  }
  if (point >= log_end) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(p->mu);
    if (p->role_generation != generation) return Status::Unavailable("role changed");
    spdlog::warn("topic={} partition={} epoch={} truncating divergent {} suffix [{}, {})", t->name,
                 p->number, p->epoch, group_log ? "group log" : "log", point, log_end);
    if (group_log) {
      // Only committed entries are applied to the tables, and those are never cut.
      if (point < p->group_applied) {
        spdlog::error(
            "topic={} partition={} epoch={} cutting the group log at {} below its "
            "applied position {}: committed entries diverge",
            t->name, p->number, p->epoch, point, p->group_applied);
      }
      while (!p->group_unapplied.empty() && p->group_unapplied.back().seq >= point) {
        p->group_unapplied.pop_back();
      }
      p->group_end = std::min(p->group_end, point);
      p->group_log.TruncateTo(point);
    } else {
      p->index.TruncateTail(point);
      p->log.TruncateTo(point);
    }
  }
  if (group_log) return s_.store->Write(WriteBatch{{OpTruncateGroupLog{t->id, p->number, point}}});
  return s_.store->Write(WriteBatch{{OpTruncateTail{t->id, p->number, point}}});
}

void ReplicaManager::FollowerLoop(std::shared_ptr<Topic> t, Partition* p, uint64_t generation) {
  std::string leader_url;
  int64_t epoch;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    leader_url = p->leader_url;
    epoch = p->epoch;
  }
  // Retries wait this long, or less when the broker stops or the topic goes.
  auto pause = [&] {
    t->WaitForChange(t->Generation(),
                     std::chrono::steady_clock::now() + std::chrono::milliseconds(kRetryMs),
                     s_.stopping);
  };
  // 1. Agree with the leader on where our logs diverge, and cut there.
  for (;;) {
    if (!RoleCurrent(p, generation) || t->deleted) return;
    Status st = TruncateByEpoch(t, p, generation, leader_url, false);
    if (st.ok()) st = TruncateByEpoch(t, p, generation, leader_url, true);
    if (st.ok()) break;
    spdlog::debug("topic={} partition={} truncation check failed: {}", t->name, p->number,
                  st.ToString());
    pause();
  }
  // 2. Fetch, append, commit locally, repeat: the next fetch's offset tells the leader what
  // we hold durably.
  FetchRequest req;
  req.topic = t->name;
  req.partition = p->number;
  req.replica = s_.options.broker_id;
  req.epoch = epoch;
  req.wait_ms = kFetchWaitMs;
  while (RoleCurrent(p, generation) && !t->deleted) {
    {
      std::lock_guard<std::mutex> lock(p->mu);
      req.offset = p->log.durable();
      req.group_offset = p->group_log.durable();
    }
    auto r = transport_->Fetch(leader_url, req);
    if (!r.ok()) {
      spdlog::debug("topic={} partition={} fetch from {} failed: {}", t->name, p->number,
                    leader_url, r.status().ToString());
      pause();
      continue;
    }
    FetchResponse& resp = r.value();
    WriteBatch batch;
    uint64_t end = 0;
    std::shared_ptr<std::promise<Status>> done;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      if (p->role_generation != generation) return;
      if (resp.log_start > p->index.log_end()) {
        // We are behind the leader's retention: start over at its first offset.
        p->index.TruncateTail(p->index.first_offset());
        p->index.ResetStart(resp.log_start);
        p->log.Restart(resp.log_start);
        batch.ops.push_back(OpTruncateTail{t->id, p->number, 0});
        batch.ops.push_back(OpTruncateHead{t->id, p->number, resp.log_start});
      }
      for (StoredMessage& m : resp.entries) {
        if (m.offset != p->index.log_end()) break;  // not contiguous: fetch again
        m.topic_id = t->id;
        m.partition = p->number;
        p->index.Append({m.key_hash, m.timestamp_ms, m.bytes}, m.id ? &*m.id : nullptr);
        p->log.Assign(m.epoch, m.offset);
        batch.ops.push_back(OpAppend{std::move(m)});
      }
      end = p->index.log_end();
      for (GroupLogEntry& e : resp.group_entries) {
        if (e.seq != p->group_end) break;
        // Applied to the tables once committed (CollectAppliesLocked), never before: an
        // entry cut later never reaches them.
        p->group_log.Assign(e.epoch, e.seq);
        p->group_unapplied.push_back(e);
        batch.ops.push_back(OpGroupLog{t->id, p->number, e.seq, e.epoch, std::move(e.ops)});
        ++p->group_end;
      }
      p->log.OnLeaderHighWatermark(resp.high_watermark);
      p->group_log.OnLeaderHighWatermark(resp.group_high_watermark);
      groups_.CollectAppliesLocked(*t, *p, &batch);
      if (batch.ops.empty()) {
        p->OnDurableLocked(0, 0);
      } else {
        // Submitted under the lock: a role change after this sees the batch queued ahead
        // of its own barrier (RebuildGroups).
        done = std::make_shared<std::promise<Status>>();
        s_.SubmitAndCommit(std::move(batch), {{t, p, end, p->group_end}}, done);
      }
    }
    if (!done) {
      t->Notify();
      continue;
    }
    if (Status st = done->get_future().get(); !st.ok()) return;  // storage failed
  }
}

}  // namespace zoomq::broker
