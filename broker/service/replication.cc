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

std::string Tp(const std::string& topic, int32_t p) { return topic + "/" + std::to_string(p); }
}  // namespace

void BrokerService::OnDurableLocked(Partition& p, uint64_t end) {
  if (end > p.durable_end) p.durable_end = end;
  if (p.leader) {
    p.index.Commit(p.leader->OnAppend(p.durable_end));
  } else {
    p.index.Commit(std::min(p.leader_hwm, p.durable_end));
  }
}

void BrokerService::MakeLeaderLocked(Partition& p, int64_t epoch, std::vector<int32_t> replicas,
                                     std::vector<int32_t> isr) {
  p.leading = true;
  p.epoch = epoch;
  p.leader_id = options_.broker_id;
  p.leader_url = options_.advertised_url;
  ++p.role_generation;
  // Entries from here on carry the new epoch (KIP-101: the epoch starts at the log end).
  p.epochs.Assign(epoch, p.index.log_end());
  p.leader.emplace(options_.broker_id, epoch, std::move(replicas), std::move(isr),
                   p.durable_end, p.index.high_watermark(), clock_->NowMs());
  p.index.Commit(p.leader->OnAppend(p.durable_end));
}

Status BrokerService::BecomeLeader(const std::string& topic, int32_t partition, int64_t epoch,
                                   std::vector<int32_t> replicas, std::vector<int32_t> isr) {
  auto t = FindTopic(topic);
  if (!t) return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(topic, partition));
  }
  Partition& p = *t->partitions[partition];
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch < p.epoch || (epoch == p.epoch && p.leading)) {
      if (epoch == p.epoch) return Status::Ok();
      return Status(Code::kStaleEpoch, "epoch " + std::to_string(epoch) + " is older than " +
                                           std::to_string(p.epoch));
    }
    MakeLeaderLocked(p, epoch, std::move(replicas), std::move(isr));
    spdlog::info("topic={} partition={} epoch={} leading: log_end={} hwm={}", topic, partition,
                 epoch, p.index.log_end(), p.index.high_watermark());
  }
  t->Notify();
  return Status::Ok();
}

Status BrokerService::BecomeFollower(const std::string& topic, int32_t partition, int64_t epoch,
                                     int32_t leader_id, std::string leader_url) {
  auto t = FindTopic(topic);
  if (!t) return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(topic, partition));
  }
  if (transport_ == nullptr) return Status::Internal("no peer transport for following");
  Partition& p = *t->partitions[partition];
  uint64_t generation;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (epoch < p.epoch) {
      return Status(Code::kStaleEpoch, "epoch " + std::to_string(epoch) + " is older than " +
                                           std::to_string(p.epoch));
    }
    if (epoch == p.epoch && !p.leading && p.leader_id == leader_id) return Status::Ok();
    p.leading = false;
    p.leader.reset();
    p.epoch = epoch;
    p.leader_id = leader_id;
    p.leader_url = std::move(leader_url);
    generation = ++p.role_generation;
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

bool BrokerService::RoleCurrent(Partition* p, uint64_t generation) {
  std::lock_guard<std::mutex> lock(p->mu);
  return p->role_generation == generation && !stopping_;
}

Status BrokerService::TruncateByEpoch(const std::shared_ptr<Topic>& t, Partition* p,
                                      uint64_t generation, const std::string& leader_url) {
  int64_t ask;
  uint64_t log_end;
  EpochCache mine;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    ask = p->epochs.LatestEpoch();
    log_end = p->index.log_end();
    mine = p->epochs;
  }
  if (ask < 0 || log_end == 0) return Status::Ok();  // nothing to compare
  uint64_t point = log_end;
  // KIP-279: ask for our latest epoch; when the leader only knows an older one, ask again
  // for the largest epoch of ours not above it, until both sides talk about the same epoch.
  for (int round = 0; round < 16; ++round) {
    auto answer = transport_->EpochEnd(leader_url, t->name, p->number, ask);
    if (!answer.ok()) return answer.status();
    point = TruncationPoint(mine, log_end, answer.value());
    if (answer->first < 0 || answer->first == ask) break;
    auto [own, own_end] = mine.EndOffsetFor(answer->first, log_end);
    if (own < 0) {
      point = 0;
      break;
    }
    ask = own;
  }
  if (point >= log_end) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(p->mu);
    if (p->role_generation != generation) return Status::Unavailable("role changed");
    spdlog::warn("topic={} partition={} epoch={} truncating divergent suffix [{}, {})", t->name,
                 p->number, p->epoch, point, p->index.log_end());
    p->index.TruncateTail(point);
    p->epochs.TruncateTo(point);
    if (p->durable_end > point) p->durable_end = point;
  }
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
    Status st = TruncateByEpoch(t, p, generation, leader_url);
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
      req.offset = p->durable_end;
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
    {
      std::lock_guard<std::mutex> lock(p->mu);
      if (p->role_generation != generation) return;
      if (resp.log_start > p->index.log_end()) {
        // We are behind the leader's retention: start over at its first offset.
        p->index.TruncateTail(p->index.first_offset());
        p->index.ResetStart(resp.log_start);
        p->epochs = EpochCache();
        p->durable_end = resp.log_start;
        batch.ops.push_back(OpTruncateTail{t->id, p->number, 0});
        batch.ops.push_back(OpTruncateHead{t->id, p->number, resp.log_start});
      }
      for (StoredMessage& m : resp.entries) {
        if (m.offset != p->index.log_end()) break;  // not contiguous: fetch again
        m.topic_id = t->id;
        m.partition = p->number;
        p->index.Append({m.key_hash, m.timestamp_ms, m.bytes}, m.id ? &*m.id : nullptr);
        p->epochs.Assign(m.epoch, m.offset);
        batch.ops.push_back(OpAppend{std::move(m)});
      }
      end = p->index.log_end();
      p->leader_hwm = std::max(p->leader_hwm, resp.high_watermark);
      if (batch.ops.empty()) {
        p->index.Commit(std::min(p->leader_hwm, p->durable_end));
      }
    }
    if (batch.ops.empty()) {
      t->Notify();
      continue;
    }
    auto done = std::make_shared<std::promise<Status>>();
    auto f = done->get_future();
    SubmitAndCommit(std::move(batch), {{t, p, end}}, done);
    if (Status st = f.get(); !st.ok()) return;  // storage failed: the broker is unhealthy
  }
}

Result<FetchResponse> BrokerService::Fetch(const FetchRequest& req) {
  auto t = FindTopic(req.topic);
  if (!t) return Status(Code::kTopicNotFound, "topic '" + req.topic + "' does not exist");
  if (req.partition < 0 || req.partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(req.topic, req.partition));
  }
  Partition& p = *t->partitions[req.partition];
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(req.wait_ms);
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(t->change_mu);
      seen = t->generation;
    }
    FetchResponse resp;
    uint64_t start, end;
    bool advanced = false;
    {
      std::lock_guard<std::mutex> lock(p.mu);
      if (!p.leading) {
        return Status(Code::kNotLeader, "broker " + std::to_string(options_.broker_id) +
                                            " does not lead " + Tp(req.topic, req.partition));
      }
      if (req.epoch != p.epoch) {
        return Status(Code::kStaleEpoch, "fetch for epoch " + std::to_string(req.epoch) +
                                             " but the leader epoch is " +
                                             std::to_string(p.epoch));
      }
      uint64_t before = p.index.high_watermark();
      uint64_t hwm = p.leader->OnFetch(req.replica, req.offset, clock_->NowMs());
      p.index.Commit(hwm);
      advanced = p.index.high_watermark() != before;
      resp.epoch = p.epoch;
      resp.high_watermark = p.index.high_watermark();
      resp.log_start = p.index.first_offset();
      start = std::max(req.offset, resp.log_start);
      end = p.durable_end;
    }
    if (advanced) t->Notify();  // producers waiting for this high watermark
    if (start < end || stopping_ || t->deleted || SteadyClock::now() >= deadline) {
      if (start < end) {
        size_t max = std::max<size_t>(1, req.max_bytes / 128);
        ZOOMQ_RETURN_IF_ERROR(store_->ReadRange(t->id, req.partition, start, end,
                                                std::min<size_t>(max, 5000), &resp.entries));
        size_t bytes = 0, keep = 0;
        for (; keep < resp.entries.size(); ++keep) {
          bytes += resp.entries[keep].value.size() + 64;
          if (keep > 0 && bytes > req.max_bytes) break;
        }
        resp.entries.resize(keep);
      }
      return resp;
    }
    std::unique_lock<std::mutex> lock(t->change_mu);
    t->change_cv.wait_until(lock, deadline, [&] {
      return t->generation != seen || stopping_ || t->deleted;
    });
  }
}

Result<std::pair<int64_t, uint64_t>> BrokerService::EpochEnd(const std::string& topic,
                                                             int32_t partition, int64_t epoch) {
  auto t = FindTopic(topic);
  if (!t) return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(topic, partition));
  }
  Partition& p = *t->partitions[partition];
  std::lock_guard<std::mutex> lock(p.mu);
  if (!p.leading) return Status(Code::kNotLeader, "not the leader of " + Tp(topic, partition));
  return p.epochs.EndOffsetFor(epoch, p.durable_end);
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
      if (!p->leader) continue;
      if (auto want = p->leader->ProposedIsr(now, options_.replica_lag_max_ms)) {
        out.push_back({t->name, p->number, p->epoch, std::move(*want)});
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
    if (!p.leader || p.epoch != epoch) return;
    std::string list;
    for (int32_t r : isr) list += (list.empty() ? "" : ",") + std::to_string(r);
    spdlog::info("topic={} partition={} epoch={} isr=[{}]", topic, partition, epoch, list);
    p.index.Commit(p.leader->OnIsrCommitted(std::move(isr)));
  }
  t->Notify();
}

Result<std::vector<StoredMessage>> BrokerService::ReplicaLog(const std::string& topic,
                                                             int32_t partition,
                                                             uint64_t* high_watermark) {
  auto t = FindTopic(topic);
  if (!t) return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(topic, partition));
  }
  uint64_t first, hwm;
  {
    std::lock_guard<std::mutex> lock(t->partitions[partition]->mu);
    first = t->partitions[partition]->index.first_offset();
    hwm = t->partitions[partition]->index.high_watermark();
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
