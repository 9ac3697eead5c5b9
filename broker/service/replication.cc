// BrokerService: the replication half (leader and follower roles of each partition).
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "broker/service/internal.h"

namespace zoomq::broker {

namespace {
using SteadyClock = std::chrono::steady_clock;
constexpr TimeMs kFetchWaitMs = 500;
constexpr TimeMs kRetryMs = 100;
// The leader's in-memory tail keeps at least the entries not committed yet, and beyond them
// at most this much (older entries are read from SQLite).
constexpr size_t kTailMaxEntries = 4096;
constexpr size_t kTailMaxBytes = 4 << 20;

size_t EntryBytes(const StoredMessage& m) { return m.value.size() + 64; }

std::string Tp(const std::string& topic, int32_t p) { return topic + "/" + std::to_string(p); }
}  // namespace

Status BrokerService::CheckPartition(const Topic* t, const std::string& topic,
                                     int32_t partition) {
  if (!t) return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(topic, partition));
  }
  return Status::Ok();
}

Status BrokerService::CheckEnoughReplicasLocked(const Partition& p, const TopicConfig& config,
                                                const std::string& topic) {
  // Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND: the ISR shrank below min_insync_replicas after
  // the append, so the high watermark passed it with fewer copies than promised. Not
  // acknowledged: 503 UNAVAILABLE, "maybe written" like a write timeout (NOT_ENOUGH_REPLICAS
  // means nothing was written); the client retries with the same ids, and the dedup window
  // answers the retry once the ISR is back.
  const size_t isr = p.log.isr_size();
  if (isr >= static_cast<size_t>(config.min_insync_replicas)) return Status::Ok();
  return Status::Unavailable(Tp(topic, p.number) + " has " + std::to_string(isr) +
                             " in-sync replica(s) now, min_insync_replicas is " +
                             std::to_string(config.min_insync_replicas) +
                             ": it may be written but is not acknowledged; retry with the same "
                             "ids");
}

void BrokerService::OnDurableLocked(Partition& p, uint64_t end, uint64_t group_end) {
  // A commit queued before a truncation may land after it: never past the log's end.
  end = std::min(end, p.index.log_end());
  group_end = std::min(group_end, p.group_end);
  // Fetches wait for new group log entries, and for log entries not in the tail (a new
  // leader's uncommitted entries are served from SQLite once committed).
  const uint64_t durable = p.log.durable();
  if (group_end > p.group_log.durable() || (end > durable && durable < p.tail_start)) {
    WakeFetchersLocked(p);
  }
  const bool moved = p.log.OnDurable(end, p.index.log_end());
  const bool group_moved = p.group_log.OnDurable(group_end, p.group_end);
  // Waiters only care about the high watermarks (role and health changes notify on their
  // own): waking them for nothing costs a context switch each.
  if (moved || group_moved) p.hwm_cv.notify_all();
}

void BrokerService::RememberLocked(Partition& p, const StoredMessage& m) {
  if (!p.leading() || p.log.leader().replicas().size() <= 1) return;  // nobody fetches
  if (p.tail_start + p.tail.size() != m.offset) ResetTailLocked(p);
  if (p.tail.empty()) p.tail_start = m.offset;
  p.tail.push_back(m);
  p.tail_bytes += EntryBytes(m);
  while (p.tail_start < p.log.durable() &&
         (p.tail.size() > kTailMaxEntries || p.tail_bytes > kTailMaxBytes)) {
    p.tail_bytes -= EntryBytes(p.tail.front());
    p.tail.pop_front();
    ++p.tail_start;
  }
  p.log.OnAppend(m.offset + 1);
  ++p.fetch_signal;  // the caller notifies fetch_cv after unlocking
}

void BrokerService::WakeFetchersLocked(Partition& p) {
  ++p.fetch_signal;
  p.fetch_cv.notify_all();
}

void BrokerService::ResetTailLocked(Partition& p) {
  p.tail.clear();
  p.tail_bytes = 0;
  p.tail_start = p.index.log_end();
}

uint64_t BrokerService::AppendGroupLog(const std::shared_ptr<Topic>& t, int32_t partition,
                                       std::vector<WriteOp> ops, WriteBatch* batch,
                                       std::vector<Commit>* commits) {
  if (ops.empty()) return 0;
  Partition& p = *t->partitions[partition];
  std::lock_guard<std::mutex> lock(p.mu);
  if (!p.leading()) return kNotLeading;  // only the leader writes the group log
  const uint64_t seq = p.group_end++;
  p.group_log.Assign(p.epoch, seq);
  std::string text = EncodeGroupOps(ops);
  p.group_unapplied.push_back({seq, p.epoch, text});
  batch->ops.push_back(OpGroupLog{t->id, partition, seq, p.epoch, std::move(text)});
  commits->push_back({t, &p, 0, seq + 1});
  return seq + 1;
}

void BrokerService::CollectAppliesLocked(const Topic& t, Partition& p, WriteBatch* batch) {
  const uint64_t committed = std::min(p.group_log.high_watermark(), p.group_log.durable());
  const uint64_t before = p.group_applied;
  while (!p.group_unapplied.empty() && p.group_unapplied.front().seq < committed) {
    const GroupLogEntry& e = p.group_unapplied.front();
    auto ops = DecodeGroupOps(e.ops, t.id, p.number);
    if (ops.ok()) {
      for (WriteOp& op : ops.value()) batch->ops.push_back(std::move(op));
    } else {
      spdlog::error("topic={} partition={} group log entry {} unreadable, not applied: {}",
                    t.name, p.number, e.seq, ops.status().ToString());
    }
    p.group_applied = e.seq + 1;
    p.group_unapplied.pop_front();
  }
  if (p.group_applied != before) {
    batch->ops.push_back(OpGroupApplied{t.id, p.number, p.group_applied});
  }
}

Status BrokerService::WaitGroupLog(const std::shared_ptr<Topic>& t,
                                   const std::vector<uint64_t>& need) {
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(options_.write_timeout_ms);
  std::vector<uint64_t> generation(need.size(), 0);
  for (size_t p = 0; p < need.size(); ++p) {
    std::lock_guard<std::mutex> plock(t->partitions[p]->mu);
    generation[p] = t->partitions[p]->role_generation;
  }
  for (size_t p = 0; p < need.size(); ++p) {
    if (need[p] == 0) continue;
    Partition& part = *t->partitions[p];
    std::unique_lock<std::mutex> lock(part.mu);
    for (;;) {
      if (part.role_generation != generation[p] || !part.leading()) {
        return Status(Code::kNotLeader, "leadership changed before the in-sync replicas "
                                        "confirmed; retry");
      }
      if (part.group_log.high_watermark() >= need[p]) {
        ZOOMQ_RETURN_IF_ERROR(CheckEnoughReplicasLocked(part, t->config, t->name));
        break;
      }
      ZOOMQ_RETURN_IF_ERROR(health());
      if (stopping_) return Status::Unavailable("broker is shutting down");
      if (part.hwm_cv.wait_until(lock, deadline) == std::cv_status::timeout) {
        return Status::Unavailable("timed out waiting for the in-sync replicas");
      }
    }
  }
  return Status::Ok();
}

Status BrokerService::LoadGroupState(const std::shared_ptr<Topic>& t,
                                     const std::vector<int32_t>& partitions,
                                     std::vector<LoadedGroup>* out) {
  // The unapplied entries first, then a barrier, then the tables. Applies are submitted under
  // the partition lock (CollectAppliesLocked), so an entry is either still in this snapshot,
  // or in a batch submitted before it, which the barrier commits before the tables are read.
  // Without the barrier, an apply submitted just before the snapshot and not yet committed
  // was in neither: a new leader lost a committed ack (chaos seed 350407). Entries applied
  // after the snapshot are in both: replaying an applied op changes nothing.
  std::vector<std::pair<int32_t, std::string>> replay;  // partition, ops text, in log order
  for (int32_t p : partitions) {
    Partition& part = *t->partitions[p];
    std::lock_guard<std::mutex> lock(part.mu);
    for (const GroupLogEntry& e : part.group_unapplied) replay.emplace_back(p, e.ops);
  }
  ZOOMQ_RETURN_IF_ERROR(store_->Write(WriteBatch{}));
  ZOOMQ_RETURN_IF_ERROR(store_->LoadGroups(t->id, t->config.partitions, out));
  for (const auto& [p, text] : replay) {
    auto ops = DecodeGroupOps(text, t->id, p);
    if (!ops.ok()) return ops.status();
    ApplyGroupOps(ops.value(), t->config.partitions, out);
  }
  return Status::Ok();
}

Status BrokerService::RebuildGroups(const std::shared_ptr<Topic>& t, int32_t partition) {
  // LoadGroupState's barrier also commits everything the follower loop submitted.
  std::vector<LoadedGroup> loaded;
  ZOOMQ_RETURN_IF_ERROR(LoadGroupState(t, {partition}, &loaded));
  Partition& part = *t->partitions[partition];
  uint64_t first;
  {
    std::lock_guard<std::mutex> lock(part.mu);
    first = part.index.first_offset();
  }
  for (const LoadedGroup& lg : loaded) {
    std::shared_ptr<ConsumerGroup> g;
    {
      std::lock_guard<std::mutex> lock(t->groups_mu);
      auto& slot = t->groups[lg.name];
      if (!slot) {
        slot = std::make_shared<ConsumerGroup>();
        slot->name = lg.name;
        slot->created_ms = lg.created_ms;
        for (int32_t p = 0; p < t->config.partitions; ++p) {
          slot->parts.emplace_back(lg.partitions[p].floor);
          slot->persisted_floor.push_back(lg.partitions[p].floor);
        }
      }
      g = slot;
    }
    const LoadedGroupPartition& lp = lg.partitions[partition];
    GroupPartition gp = RestoreGroupPartition(lp, first);
    std::lock_guard<std::mutex> lock(g->mu);
    g->parts[partition] = std::move(gp);
    g->persisted_floor[partition] = lp.floor;
  }
  std::lock_guard<std::mutex> lock(part.mu);
  part.groups_ready = true;
  return Status::Ok();
}

void BrokerService::MakeLeaderLocked(Partition& p, int64_t epoch, std::vector<int32_t> replicas,
                                     std::vector<int32_t> isr) {
  p.epoch = epoch;
  p.leader_id = options_.broker_id;
  p.leader_url = options_.advertised_url;
  ++p.role_generation;
  p.groups_ready = false;  // until RebuildGroups (standalone: loaded at start)
  const TimeMs now = clock_->NowMs();
  p.group_log.BecomeLeader(options_.broker_id, epoch, replicas, isr, p.group_end, now);
  p.log.BecomeLeader(options_.broker_id, epoch, std::move(replicas), std::move(isr),
                     p.index.log_end(), now);
  // Entries appended as a follower but not committed yet are served from SQLite once they
  // are: the tail starts at the log end.
  ResetTailLocked(p);
  p.hwm_cv.notify_all();
  WakeFetchersLocked(p);
}

Status BrokerService::BecomeLeader(const std::string& topic, int32_t partition, int64_t epoch,
                                   std::vector<int32_t> replicas, std::vector<int32_t> isr) {
  auto t = FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  Partition& p = *t->partitions[partition];
  // A barrier: every commit queued before this leadership lands first. A follower's append
  // queued before its truncation could otherwise land after this leader appended at the
  // truncated offsets, and its end would count the new entries as durable while the disk
  // holds the old ones (found by the simulation, seed 553331).
  ZOOMQ_RETURN_IF_ERROR(store_->Write(WriteBatch{}));
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch == p.epoch && p.leading()) return Status::Ok();
    if (epoch < p.epoch) {
      return Status(Code::kStaleEpoch, "epoch " + std::to_string(epoch) + " is older than " +
                                           std::to_string(p.epoch));
    }
    // An epoch is led once, by one incarnation: a grant must be newer than every epoch this
    // replica has seen, in its role or in its logs (defence in depth behind the controller's
    // incarnation check, docs/replication.md "One leader per epoch").
    if (!CanLeadEpoch(epoch, p.epoch, p.log.epochs(), p.group_log.epochs())) {
      spdlog::error("topic={} partition={} epoch={} refused: not newer than this replica's "
                    "epochs (role {}, log {}, group log {})",
                    topic, partition, epoch, p.epoch, p.log.epochs().LatestEpoch(),
                    p.group_log.epochs().LatestEpoch());
      return Status(Code::kStaleEpoch, "epoch " + std::to_string(epoch) +
                                           " was already seen by this replica");
    }
    MakeLeaderLocked(p, epoch, std::move(replicas), std::move(isr));
    spdlog::info("topic={} partition={} epoch={} leading: log_end={} hwm={} group_log_end={}",
                 topic, partition, epoch, p.index.log_end(), p.log.high_watermark(),
                 p.group_end);
  }
  Status st = RebuildGroups(t, partition);
  if (!st.ok()) spdlog::error("topic={} partition={} cannot load groups: {}", topic, partition,
                              st.ToString());
  t->Notify();
  return st;
}

Status BrokerService::BecomeFollower(const std::string& topic, int32_t partition, int64_t epoch,
                                     int32_t leader_id, std::string leader_url) {
  auto t = FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  if (transport_ == nullptr) return Status::Internal("no peer transport for following");
  Partition& p = *t->partitions[partition];
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch < p.epoch) {
      return Status(Code::kStaleEpoch, "epoch " + std::to_string(epoch) + " is older than " +
                                           std::to_string(p.epoch));
    }
    if (epoch == p.epoch && !p.leading() && p.leader_id == leader_id) return Status::Ok();
    p.log.StopLeading();
    p.group_log.StopLeading();
    p.groups_ready = false;
    ResetTailLocked(p);
    p.epoch = epoch;
    p.leader_id = leader_id;
    p.leader_url = std::move(leader_url);
    generation = ++p.role_generation;
    p.hwm_cv.notify_all();
    WakeFetchersLocked(p);
    spdlog::info("topic={} partition={} epoch={} following broker {} at {}: log_end={}", topic,
                 partition, epoch, leader_id, p.leader_url, p.index.log_end());
  }
  {
    std::lock_guard<std::mutex> lock(fetchers_mu_);
    if (stopping_) return Status::Unavailable("broker is shutting down");
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

Status BrokerService::Resign(const std::string& topic, int32_t partition, int64_t epoch) {
  auto t = FindTopic(topic);
  ZOOMQ_RETURN_IF_ERROR(CheckPartition(t.get(), topic, partition));
  Partition& p = *t->partitions[partition];
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch < p.epoch) return Status(Code::kStaleEpoch, "older epoch");
    if (!p.leading() && p.epoch == epoch) return Status::Ok();
    p.log.StopLeading();
    p.group_log.StopLeading();
    p.groups_ready = false;
    ResetTailLocked(p);
    p.epoch = epoch;
    p.leader_id = -1;
    p.leader_url.clear();
    ++p.role_generation;
    p.hwm_cv.notify_all();
    WakeFetchersLocked(p);
    spdlog::warn("topic={} partition={} epoch={} no leader: this broker stops serving it",
                 topic, partition, epoch);
  }
  t->Notify();
  return Status::Ok();
}

bool BrokerService::RoleCurrent(Partition* p, uint64_t generation) {
  std::lock_guard<std::mutex> lock(p->mu);
  return p->role_generation == generation && !stopping_;
}

Status BrokerService::TruncateByEpoch(const std::shared_ptr<Topic>& t, Partition* p,
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
    spdlog::warn("topic={} partition={} epoch={} truncating divergent {} suffix [{}, {})",
                 t->name, p->number, p->epoch, group_log ? "group log" : "log", point, log_end);
    if (group_log) {
      // Only committed entries are applied to the tables, and those are never cut.
      if (point < p->group_applied) {
        spdlog::error("topic={} partition={} epoch={} cutting the group log at {} below its "
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
  if (group_log) return store_->Write(WriteBatch{{OpTruncateGroupLog{t->id, p->number, point}}});
  return store_->Write(WriteBatch{{OpTruncateTail{t->id, p->number, point}}});
}

void BrokerService::FollowerLoop(std::shared_ptr<Topic> t, Partition* p, uint64_t generation) {
  std::string leader_url;
  int64_t epoch;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    leader_url = p->leader_url;
    epoch = p->epoch;
  }
  auto pause = [&] {
    std::unique_lock<std::mutex> lock(t->change_mu);
    t->change_cv.wait_for(lock, std::chrono::milliseconds(kRetryMs),
                          [&] { return stopping_.load() || t->deleted.load(); });
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
  req.replica = options_.broker_id;
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
      CollectAppliesLocked(*t, *p, &batch);
      if (batch.ops.empty()) {
        OnDurableLocked(*p, 0, 0);
      } else {
        // Submitted under the lock: a role change after this sees the batch queued ahead
        // of its own barrier (RebuildGroups).
        done = std::make_shared<std::promise<Status>>();
        SubmitAndCommit(std::move(batch), {{t, p, end, p->group_end}}, done);
      }
    }
    if (!done) {
      t->Notify();
      continue;
    }
    if (Status st = done->get_future().get(); !st.ok()) return;  // storage failed
  }
}

Result<FetchResponse> BrokerService::Fetch(const FetchRequest& req) {
  auto t = FindTopic(req.topic);
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
        return Status(Code::kNotLeader, "broker " + std::to_string(options_.broker_id) +
                                            " does not lead " + Tp(req.topic, req.partition));
      }
      if (req.epoch != p.epoch) {
        return Status(Code::kStaleEpoch, "fetch for epoch " + std::to_string(req.epoch) +
                                             " but the leader epoch is " +
                                             std::to_string(p.epoch));
      }
      seen = p.fetch_signal;
      const TimeMs now = clock_->NowMs();
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
      ZOOMQ_RETURN_IF_ERROR(store_->ReadGroupLog(t->id, req.partition, group_start, group_end,
                                                 1000, &resp.group_entries));
    }
    if (start < end || !resp.entries.empty() || !resp.group_entries.empty() || stopping_ ||
        t->deleted || SteadyClock::now() >= deadline) {
      if (start < end) {
        size_t max = std::max<size_t>(1, req.max_bytes / 128);
        ZOOMQ_RETURN_IF_ERROR(store_->ReadRange(t->id, req.partition, start, end,
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
    p.fetch_cv.wait_until(lock, deadline, [&] {
      return p.fetch_signal != seen || stopping_ || t->deleted;
    });
  }
}

Result<std::pair<int64_t, uint64_t>> BrokerService::EpochEnd(const std::string& topic,
                                                             int32_t partition, int64_t epoch,
                                                             bool group_log) {
  auto t = FindTopic(topic);
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

Status BrokerService::EnsureTopic(int64_t id, const std::string& name, const TopicConfig& config,
                                  TimeMs created_ms) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  if (auto it = topics_.find(name); it != topics_.end()) {
    if (it->second->id == id) return Status::Ok();
    return Status(Code::kTopicExists, "topic '" + name + "' exists locally with another id");
  }
  auto t = std::make_shared<Topic>();
  t->id = id;
  t->name = name;
  t->config = config;
  t->created_ms = created_ms;
  for (int32_t p = 0; p < config.partitions; ++p) {
    t->partitions.push_back(std::make_unique<Partition>(p, options_.dedup_window_ms));
  }
  ZOOMQ_RETURN_IF_ERROR(store_->Write(WriteBatch{
      {OpPutTopic{id, name, config.ToJson().dump(), created_ms, config.partitions}}}));
  next_topic_id_ = std::max(next_topic_id_, id + 1);
  topics_[name] = t;
  spdlog::info("topic={} id={} created from cluster metadata", name, id);
  return Status::Ok();
}

std::vector<BrokerService::IsrChange> BrokerService::ProposedIsrChanges() {
  std::vector<IsrChange> out;
  const TimeMs now = clock_->NowMs();
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::lock_guard<std::mutex> lock(topics_mu_);
    for (auto& [name, t] : topics_) topics.push_back(t);
  }
  for (auto& t : topics) {
    for (auto& p : t->partitions) {
      std::lock_guard<std::mutex> lock(p->mu);
      if (!p->leading()) continue;
      if (auto want = ProposedIsr(p->log.leader(), p->group_log.leader(), now,
                                  options_.replica_lag_max_ms)) {
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

void BrokerService::OnIsrCommitted(const std::string& topic, int32_t partition, int64_t epoch,
                                   std::vector<int32_t> isr) {
  auto t = FindTopic(topic);
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

void BrokerService::OnIsrAbandoned(const std::string& topic, int32_t partition, int64_t epoch) {
  auto t = FindTopic(topic);
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

Result<std::vector<StoredMessage>> BrokerService::CommittedLog(const std::string& topic,
                                                               int32_t partition,
                                                               uint64_t* high_watermark) {
  auto t = FindTopic(topic);
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
    ZOOMQ_RETURN_IF_ERROR(store_->ReadRange(t->id, partition, from, hwm, 5000, &out));
    if (out.size() == before) break;
    from = out.back().offset + 1;
  }
  return out;
}

}  // namespace zoomq::broker
