// ReplicaManager: roles (leader, follower, none), the leader's side of fetches, ISR proposals.
#include "broker/service/replica_manager.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace zoomq::broker {

using SteadyClock = std::chrono::steady_clock;

Status ReplicaManager::BecomeLeader(const std::string& topic, int32_t partition, int64_t epoch,
                                    std::vector<int32_t> replicas, std::vector<int32_t> isr) {
  auto t = s_.FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  Partition& p = *t->partitions[partition];
  // A barrier: every commit queued before this leadership lands first. A follower's append
  // queued before its truncation could otherwise land after this leader appended at the
  // truncated offsets, and its end would count the new entries as durable while the disk
  // holds the old ones (found by the simulation, seed 553331).
  ZOOMQ_RETURN_IF_ERROR(s_.store->Write(WriteBatch{}));
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch == p.epoch && p.leading()) return Status::Ok();
    if (epoch < p.epoch) {
      return Status(Code::kStaleEpoch,
                    "epoch " + std::to_string(epoch) + " is older than " + std::to_string(p.epoch));
    }
    // An epoch is led once, by one incarnation: a grant must be newer than every epoch this
    // replica has seen, in its role or in its logs (defence in depth behind the controller's
    // incarnation check, docs/replication.md "One leader per epoch").
    if (!CanLeadEpoch(epoch, p.epoch, p.log.epochs(), p.group_log.epochs())) {
      spdlog::error(
          "topic={} partition={} epoch={} refused: not newer than this replica's "
          "epochs (role {}, log {}, group log {})",
          topic, partition, epoch, p.epoch, p.log.epochs().LatestEpoch(),
          p.group_log.epochs().LatestEpoch());
      return Status(Code::kStaleEpoch,
                    "epoch " + std::to_string(epoch) + " was already seen by this replica");
    }
    p.BecomeLeaderLocked(s_.options.broker_id, s_.options.advertised_url, epoch,
                         std::move(replicas), std::move(isr), s_.clock->NowMs());
    spdlog::info("topic={} partition={} epoch={} leading: log_end={} hwm={} group_log_end={}",
                 topic, partition, epoch, p.index.log_end(), p.log.high_watermark(), p.group_end);
  }
  Status st = groups_.RebuildGroups(t, partition);
  if (!st.ok())
    spdlog::error("topic={} partition={} cannot load groups: {}", topic, partition, st.ToString());
  t->Notify();
  return st;
}

Status ReplicaManager::BecomeFollower(const std::string& topic, int32_t partition, int64_t epoch,
                                      int32_t leader_id, std::string leader_url) {
  auto t = s_.FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  if (transport_ == nullptr) return Status::Internal("no peer transport for following");
  Partition& p = *t->partitions[partition];
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch < p.epoch) {
      return Status(Code::kStaleEpoch,
                    "epoch " + std::to_string(epoch) + " is older than " + std::to_string(p.epoch));
    }
    if (epoch == p.epoch && !p.leading() && p.leader_id == leader_id) return Status::Ok();
    p.StopLeadingLocked(epoch, leader_id, std::move(leader_url));
    generation = p.role_generation;
    spdlog::info("topic={} partition={} epoch={} following broker {} at {}: log_end={}", topic,
                 partition, epoch, leader_id, p.leader_url, p.index.log_end());
  }
  {
    std::lock_guard<std::mutex> lock(fetchers_mu_);
    if (s_.stopping) return Status::Unavailable("broker is shutting down");
    ++fetchers_;
  }
  std::thread([this, t, pp = &p, generation] {
    FollowerLoop(t, pp, generation);
    std::lock_guard<std::mutex> lock(fetchers_mu_);
    --fetchers_;
    fetchers_cv_.notify_all();
  }).detach();
  return Status::Ok();
}

Status ReplicaManager::Resign(const std::string& topic, int32_t partition, int64_t epoch) {
  auto t = s_.FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  Partition& p = *t->partitions[partition];
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch < p.epoch) return Status(Code::kStaleEpoch, "older epoch");
    if (!p.leading() && p.epoch == epoch) return Status::Ok();
    p.StopLeadingLocked(epoch, -1, "");
    spdlog::warn("topic={} partition={} epoch={} no leader: this broker stops serving it", topic,
                 partition, epoch);
  }
  t->Notify();
  return Status::Ok();
}

Result<FetchResponse> ReplicaManager::Fetch(const FetchRequest& req) {
  auto t = s_.FindTopic(req.topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), req.topic, req.partition));
  Partition& p = *t->partitions[req.partition];
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(req.wait_ms);
  for (;;) {
    uint64_t seen;  // p.fetch_signal when the state below was read
    FetchResponse resp;
    uint64_t start, end, group_start, group_end;
    bool advanced = false;
    {
      std::lock_guard<std::mutex> lock(p.mu);
      if (!p.leading()) {
        return Status(Code::kNotLeader, "broker " + std::to_string(s_.options.broker_id) +
                                            " does not lead " + Tp(req.topic, req.partition));
      }
      if (req.epoch != p.epoch) {
        return Status(Code::kStaleEpoch, "fetch for epoch " + std::to_string(req.epoch) +
                                             " but the leader epoch is " + std::to_string(p.epoch));
      }
      seen = p.fetch_signal;
      const TimeMs now = s_.clock->NowMs();
      advanced = p.log.OnFetch(req.replica, req.offset, now);
      advanced = p.group_log.OnFetch(req.replica, req.group_offset, now) || advanced;
      if (advanced) p.hwm_cv.notify_all();
      resp.epoch = p.epoch;
      resp.high_watermark = p.log.high_watermark();
      resp.group_high_watermark = p.group_log.high_watermark();
      resp.log_start = p.index.first_offset();
      start = std::max(req.offset, resp.log_start);
      end = p.log.durable();
      if (start >= p.tail_start && start < p.tail_start + p.tail.size()) {
        // Pipelining: from memory, up to the log end, committed here or not (the high
        // watermark still waits for this broker's own commit).
        size_t bytes = 0;
        for (uint64_t o = start; o < p.tail_start + p.tail.size() && o - start < 5000; ++o) {
          const StoredMessage& m = p.tail[o - p.tail_start];
          bytes += EntryBytes(m);
          if (o > start && bytes > req.max_bytes) break;
          resp.entries.push_back(m);
        }
        end = start;  // nothing more from SQLite
      }
      group_start = req.group_offset;
      group_end = p.group_log.durable();
    }
    if (advanced) t->Notify();  // producers and ackers waiting for these high watermarks
    if (group_start < group_end) {
      ZOOMQ_RETURN_IF_ERROR(s_.store->ReadGroupLog(t->id, req.partition, group_start, group_end,
                                                   1000, &resp.group_entries));
    }
    if (start < end || !resp.entries.empty() || !resp.group_entries.empty() || s_.stopping ||
        t->deleted || SteadyClock::now() >= deadline) {
      if (start < end) {
        size_t max = std::max<size_t>(1, req.max_bytes / 128);
        ZOOMQ_RETURN_IF_ERROR(s_.store->ReadRange(t->id, req.partition, start, end,
                                                  std::min<size_t>(max, 5000), &resp.entries));
        size_t bytes = 0, keep = 0;
        for (; keep < resp.entries.size(); ++keep) {
          bytes += EntryBytes(resp.entries[keep]);
          if (keep > 0 && bytes > req.max_bytes) break;
        }
        resp.entries.resize(keep);
      }
      return resp;
    }
    std::unique_lock<std::mutex> lock(p.mu);
    p.fetch_cv.wait_until(lock, deadline,
                          [&] { return p.fetch_signal != seen || s_.stopping || t->deleted; });
  }
}

Result<std::pair<int64_t, uint64_t>> ReplicaManager::EpochEnd(const std::string& topic,
                                                              int32_t partition, int64_t epoch,
                                                              bool group_log) {
  auto t = s_.FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  Partition& p = *t->partitions[partition];
  std::lock_guard<std::mutex> lock(p.mu);
  if (!p.leading()) return Status(Code::kNotLeader, "not the leader of " + Tp(topic, partition));
  // The latest epoch ends at the log end, committed here or not (as Kafka's leader answers
  // with its log end offset): a follower keeps what it fetched from this leader's tail. An
  // answer at the durable end made a restarted follower drop entries the leader still
  // counted it for (its position from before the restart), so the high watermark passed
  // entries that replica no longer held (found by the simulation, seed 1985).
  if (group_log) return p.group_log.EpochEnd(epoch, p.group_end);
  return p.log.EpochEnd(epoch, p.index.log_end());
}

std::vector<IsrChange> ReplicaManager::ProposedIsrChanges() {
  std::vector<IsrChange> out;
  const TimeMs now = s_.clock->NowMs();
  for (auto& t : s_.AllTopics()) {
    for (auto& p : t->partitions) {
      std::lock_guard<std::mutex> lock(p->mu);
      if (!p->leading()) continue;
      if (auto want = ProposedIsr(p->log.leader(), p->group_log.leader(), now,
                                  s_.options.replica_lag_max_ms)) {
        // From now until it is committed or abandoned, the high watermarks also wait for
        // the replicas the proposal adds.
        p->log.OnIsrProposed(*want);
        p->group_log.OnIsrProposed(*want);
        out.push_back({t->name, p->number, p->epoch, std::move(*want), p->log.leader().isr()});
      }
    }
  }
  return out;
}

void ReplicaManager::OnIsrCommitted(const std::string& topic, int32_t partition, int64_t epoch,
                                    std::vector<int32_t> isr) {
  auto t = s_.FindTopic(topic);
  if (!t || partition < 0 || partition >= t->config.partitions) return;
  Partition& p = *t->partitions[partition];
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (!p.leading() || p.epoch != epoch) return;
    std::string list;
    for (int32_t r : isr) list += (list.empty() ? "" : ",") + std::to_string(r);
    spdlog::info("topic={} partition={} epoch={} isr=[{}]", topic, partition, epoch, list);
    p.group_log.OnIsrCommitted(isr);
    p.log.OnIsrCommitted(isr);
    p.hwm_cv.notify_all();
  }
  t->Notify();
}

void ReplicaManager::OnIsrAbandoned(const std::string& topic, int32_t partition, int64_t epoch) {
  auto t = s_.FindTopic(topic);
  if (!t || partition < 0 || partition >= t->config.partitions) return;
  Partition& p = *t->partitions[partition];
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (!p.leading() || p.epoch != epoch) return;
    p.group_log.OnIsrAbandoned();
    p.log.OnIsrAbandoned();
    p.hwm_cv.notify_all();
  }
  t->Notify();
}

Result<std::vector<StoredMessage>> ReplicaManager::CommittedLog(const std::string& topic,
                                                                int32_t partition,
                                                                uint64_t* high_watermark) {
  auto t = s_.FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  uint64_t first, hwm;
  {
    std::lock_guard<std::mutex> lock(t->partitions[partition]->mu);
    first = t->partitions[partition]->index.first_offset();
    hwm = t->partitions[partition]->log.high_watermark();
  }
  *high_watermark = hwm;
  std::vector<StoredMessage> out;
  for (uint64_t from = first; from < hwm;) {
    size_t before = out.size();
    ZOOMQ_RETURN_IF_ERROR(s_.store->ReadRange(t->id, partition, from, hwm, 5000, &out));
    if (out.size() == before) break;
    from = out.back().offset + 1;
  }
  return out;
}

void ReplicaManager::WaitForFollowers() {
  // Follower threads see `stopping` within one fetch wait; their last commits must land
  // before the store closes.
  std::unique_lock<std::mutex> lock(fetchers_mu_);
  fetchers_cv_.wait(lock, [this] { return fetchers_ == 0; });
}

}  // namespace zoomq::broker
