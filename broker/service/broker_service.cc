#include "broker/service/broker_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "broker/service/internal.h"
#include "zoomq/common/names.h"

namespace zoomq::broker {

using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr int32_t kRowDelivered = 0;
constexpr int32_t kRowAcked = 1;
constexpr int32_t kRowDead = 2;

std::string DlqName(const std::string& topic) { return topic + std::string(kDlqSuffix); }

}  // namespace

BrokerService::BrokerService(const BrokerOptions& options, std::unique_ptr<Store> store,
                             const Clock* clock)
    : options_(options), clock_(clock), store_(std::move(store)) {}

BrokerService::~BrokerService() { Stop(); }

Result<std::unique_ptr<BrokerService>> BrokerService::Open(const BrokerOptions& options,
                                                           const std::string& data_dir,
                                                           SyncMode sync, const Clock* clock) {
  auto store = Store::Open(data_dir, sync);
  if (!store.ok()) return store.status();
  if (!options.fault_hold_commits_file.empty()) {
    (*store)->SetFaultHold(options.fault_hold_commits_file);
  }
  std::unique_ptr<BrokerService> svc(new BrokerService(options, std::move(store).value(), clock));
  ZOOMQ_RETURN_IF_ERROR(svc->Load());
  return svc;
}

Status BrokerService::Load() {
  std::vector<LoadedTopic> loaded;
  ZOOMQ_RETURN_IF_ERROR(store_->LoadTopics(&loaded));
  next_topic_id_ = store_->MaxTopicId() + 1;
  for (auto& lt : loaded) {
    auto config = TopicConfigFromJson(lt.config_json);
    if (!config.ok()) return config.status();
    auto t = std::make_shared<Topic>();
    t->id = lt.topic_id;
    t->name = lt.name;
    t->config = config.value();
    t->created_ms = lt.created_ms;
    uint64_t messages = 0;
    for (int32_t p = 0; p < t->config.partitions; ++p) {
      auto part = std::make_unique<Partition>(p, options_.dedup_window_ms);
      PartitionIndex& index = part->index;
      index.ResetStart(p < static_cast<int32_t>(lt.first_offsets.size()) ? lt.first_offsets[p] : 0);
      Status gap;
      ZOOMQ_RETURN_IF_ERROR(store_->ScanPartition(t->id, p, [&](const StoredMessage& m) {
        if (m.offset < index.log_end()) return;
        if (m.offset > index.log_end()) {
          if (index.log_end() != index.first_offset()) {
            gap = Status::Internal("gap in the log of " + t->name + "/" + std::to_string(p));
            return;
          }
          index.ResetStart(m.offset);
        }
        part->log.Assign(m.epoch, m.offset);
        index.Append({m.key_hash, m.timestamp_ms, m.bytes}, m.id ? &*m.id : nullptr);
        ++messages;
      }));
      ZOOMQ_RETURN_IF_ERROR(gap);
      // Everything on disk is durable. A standalone broker was its only replica, so all of
      // it is committed; in a cluster the high watermark comes back from the leader (or,
      // leading, from the followers' fetches): a local suffix may not be committed.
      part->log.Recover(index.first_offset(), index.log_end(), options_.standalone);
      std::vector<std::pair<int64_t, uint64_t>> group_epochs;
      ZOOMQ_RETURN_IF_ERROR(
          store_->GroupLogEpochs(t->id, p, &group_epochs, &part->group_end));
      for (auto [e, seq] : group_epochs) part->group_log.Assign(e, seq);
      part->group_log.Recover(0, part->group_end, options_.standalone);
      // Entries not applied to the group tables yet: replayed when groups are loaded.
      auto applied = store_->GroupApplied(t->id, p);
      if (!applied.ok()) return applied.status();
      part->group_applied = std::min(applied.value(), part->group_end);
      if (part->group_applied < part->group_end) {
        std::vector<GroupLogEntry> entries;
        ZOOMQ_RETURN_IF_ERROR(store_->ReadGroupLog(t->id, p, part->group_applied,
                                                   part->group_end,
                                                   part->group_end - part->group_applied,
                                                   &entries));
        part->group_unapplied.assign(entries.begin(), entries.end());
      }
      if (options_.standalone) {
        MakeLeaderLocked(*part, 0, {options_.broker_id}, {options_.broker_id});
        part->groups_ready = true;  // groups are loaded below, before anything is served
      }
      t->partitions.push_back(std::move(part));
    }
    std::vector<LoadedGroup> groups;
    std::vector<int32_t> all(t->config.partitions);
    for (int32_t p = 0; p < t->config.partitions; ++p) all[p] = p;
    ZOOMQ_RETURN_IF_ERROR(LoadGroupState(t, all, &groups));
    for (auto& lg : groups) {
      auto g = std::make_shared<ConsumerGroup>();
      g->name = lg.name;
      g->created_ms = lg.created_ms;
      for (int32_t p = 0; p < t->config.partitions; ++p) {
        const LoadedGroupPartition& lp = lg.partitions[p];
        g->parts.push_back(RestoreGroupPartition(lp, t->partitions[p]->index.first_offset()));
        g->persisted_floor.push_back(lp.floor);
      }
      t->groups[g->name] = g;
    }
    spdlog::info("loaded topic={} id={} partitions={} messages={} groups={}", t->name, t->id,
                 t->config.partitions, messages, t->groups.size());
    topics_[t->name] = t;
  }
  return Status::Ok();
}

void BrokerService::Start() {
  ticker_ = std::thread([this] { TickerLoop(); });
}

void BrokerService::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(ticker_mu_);
    ticker_cv_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::lock_guard<std::mutex> lock(topics_mu_);
    for (auto& [name, t] : topics_) topics.push_back(t);
  }
  for (auto& t : topics) {
    t->Notify();
    for (auto& p : t->partitions) {
      std::lock_guard<std::mutex> lock(p->mu);
      p->hwm_cv.notify_all();
      WakeFetchersLocked(*p);
    }
  }
  {
    // Follower threads see stopping_ within one fetch wait; their last commits must land
    // before the store closes.
    std::unique_lock<std::mutex> lock(fetchers_mu_);
    fetchers_cv_.wait(lock, [this] { return fetchers_ == 0; });
  }
  store_->Close();
}

Status BrokerService::health() const {
  std::lock_guard<std::mutex> lock(fail_mu_);
  return failure_;
}

void BrokerService::Fail(const Status& st) {
  if (stopping_) return;  // the store refuses new batches while closing; that is no failure
  std::lock_guard<std::mutex> lock(fail_mu_);
  if (failure_.ok()) {
    spdlog::critical("storage failed, refusing writes until restart: {}",
                     st.message());
    failure_ = Status::Unavailable("storage failed: " + st.message());
  }
}

std::shared_ptr<BrokerService::Topic> BrokerService::FindTopic(const std::string& name) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second;
}

int32_t BrokerService::StickyPartition(Topic& t) {
  const int32_t n = t.config.partitions;
  const int32_t start = static_cast<int32_t>(t.round_robin.fetch_add(1) % n);
  for (int32_t k = 0; k < n; ++k) {
    Partition& p = *t.partitions[(start + k) % n];
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.leading()) return p.number;
  }
  return start;
}

uint32_t BrokerService::MaxDeliveries(const Topic& t, int32_t partition) {
  if (t.config.max_deliveries <= 0) return 0;
  auto dlq = FindTopic(DlqName(t.name));
  if (dlq && !dlq->deleted) {
    Partition& dp = *dlq->partitions[partition % dlq->config.partitions];
    std::lock_guard<std::mutex> lock(dp.mu);
    // Dead-lettering appends to the DLQ partition, which must be led here; until it is,
    // the message stays in the group and is redelivered (never lost).
    if (!dp.leading()) return 0;
  }
  return static_cast<uint32_t>(t.config.max_deliveries);
}

bool BrokerService::ServesGroups(Partition& p) {
  std::lock_guard<std::mutex> lock(p.mu);
  return p.leading() && p.groups_ready;
}

static Status TopicNotFound(const std::string& name) {
  return Status(Code::kTopicNotFound, "topic '" + name + "' does not exist");
}

// ---------------------------------------------------------------------------------------
// Topics

TopicInfo BrokerService::InfoLocked(const Topic& t) {
  TopicInfo info{t.name, t.config, t.created_ms, {}, {}};
  for (auto& p : t.partitions) {
    std::lock_guard<std::mutex> lock(p->mu);
    info.partitions.push_back({p->number, p->index.first_offset(), p->log.high_watermark(),
                               p->index.log_end()});
  }
  std::lock_guard<std::mutex> lock(const_cast<Topic&>(t).groups_mu);
  for (auto& [name, g] : t.groups) info.groups.push_back(name);
  return info;
}

Result<CreateOutcome> BrokerService::CreateTopic(const TopicSpec& spec) {
  ZOOMQ_RETURN_IF_ERROR(health());
  if (stopping_) return Status::Unavailable("broker is shutting down");
  // A topic created here (standalone) lives on this one broker; in a cluster the controller
  // resolves the spec against the live brokers and calls EnsureTopic instead.
  auto config = spec.Resolve(/*live_brokers=*/1);
  if (!config.ok()) return config.status();
  std::lock_guard<std::mutex> lock(topics_mu_);
  if (auto it = topics_.find(spec.name); it != topics_.end()) {
    if (!spec.Matches(it->second->config)) {
      return Status(Code::kTopicExists,
                    "topic '" + spec.name + "' exists with a different config: " +
                        it->second->config.ToJson().dump());
    }
    return CreateOutcome{false, InfoLocked(*it->second)};
  }
  const TimeMs now = clock_->NowMs();
  auto make = [&](const std::string& name, const TopicConfig& c) {
    auto t = std::make_shared<Topic>();
    t->id = next_topic_id_++;
    t->name = name;
    t->config = c;
    t->created_ms = now;
    for (int32_t p = 0; p < c.partitions; ++p) {
      t->partitions.push_back(std::make_unique<Partition>(p, options_.dedup_window_ms));
      if (options_.standalone) {
        MakeLeaderLocked(*t->partitions.back(), 0, {options_.broker_id}, {options_.broker_id});
        t->partitions.back()->groups_ready = true;
      }
    }
    return t;
  };
  std::vector<std::shared_ptr<Topic>> created{make(spec.name, config.value())};
  if (config->max_deliveries > 0 && !topics_.count(DlqName(spec.name))) {
    TopicConfig dlq = config.value();
    dlq.max_deliveries = 0;
    created.push_back(make(DlqName(spec.name), dlq));
  }
  WriteBatch batch;
  for (auto& t : created) {
    batch.ops.push_back(OpPutTopic{t->id, t->name, t->config.ToJson().dump(), t->created_ms,
                                   t->config.partitions});
  }
  ZOOMQ_RETURN_IF_ERROR(store_->Write(std::move(batch)));
  for (auto& t : created) {
    topics_[t->name] = t;
    spdlog::info("topic={} created id={} config={}", t->name, t->id,
                 t->config.ToJson().dump());
  }
  return CreateOutcome{true, InfoLocked(*created.front())};
}

Status BrokerService::DeleteTopic(const std::string& name) {
  ZOOMQ_RETURN_IF_ERROR(health());
  std::shared_ptr<Topic> t;
  {
    std::lock_guard<std::mutex> lock(topics_mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) return TopicNotFound(name);
    t = it->second;
    // Produces check `deleted` under the partition lock, so none is submitted after the
    // delete below and no row of the topic outlives it.
    for (auto& p : t->partitions) {
      std::lock_guard<std::mutex> plock(p->mu);
      t->deleted = true;
      WakeFetchersLocked(*p);
    }
    topics_.erase(it);
    Status st = store_->Write(WriteBatch{{OpDeleteTopic{t->id}}});
    if (!st.ok()) return st;
  }
  t->Notify();
  spdlog::info("topic={} deleted", name);
  return Status::Ok();
}

std::vector<TopicInfo> BrokerService::ListTopics() {
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::lock_guard<std::mutex> lock(topics_mu_);
    for (auto& [name, t] : topics_) topics.push_back(t);
  }
  std::vector<TopicInfo> out;
  for (auto& t : topics) out.push_back(InfoLocked(*t));
  return out;
}

Result<TopicInfo> BrokerService::DescribeTopic(const std::string& name) {
  auto t = FindTopic(name);
  if (!t) return TopicNotFound(name);
  return InfoLocked(*t);
}

// ---------------------------------------------------------------------------------------
// Produce

void BrokerService::SubmitAndCommit(WriteBatch batch, std::vector<Commit> commits,
                                    std::shared_ptr<std::promise<Status>> done) {
  store_->Submit(std::move(batch), [this, commits = std::move(commits), done](const Status& st) {
    if (!st.ok()) Fail(st);
    for (const Commit& c : commits) {
      if (st.ok()) {
        std::lock_guard<std::mutex> lock(c.partition->mu);
        OnDurableLocked(*c.partition, c.end, c.group_end);
      } else {
        // No lock: a refused Submit (store closing) runs this inline, under the caller's
        // partition locks. Waiters re-check health() at least every write timeout.
        c.partition->hwm_cv.notify_all();
      }
      c.topic->Notify();
    }
    if (done) done->set_value(st);
  });
}

Result<std::vector<int32_t>> BrokerService::Place(const std::string& topic_name,
                                                  const std::vector<ProduceMessage>& messages) {
  auto t = FindTopic(topic_name);
  if (!t) return TopicNotFound(topic_name);
  if (messages.empty()) return Status::Invalid("field 'messages' must not be empty");
  const int32_t n = t->config.partitions;
  std::vector<int32_t> placed(messages.size());
  int32_t sticky = -1;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ProduceMessage& m = messages[i];
    if (m.bytes > options_.max_message_bytes) {
      return Status(Code::kPayloadTooLarge,
                    "messages[" + std::to_string(i) + "] is " + std::to_string(m.bytes) +
                        " bytes, over max_message_bytes " +
                        std::to_string(options_.max_message_bytes));
    }
    if (m.partition) {
      if (*m.partition < 0 || *m.partition >= n) {
        return Status(Code::kPartitionNotFound,
                      "messages[" + std::to_string(i) + "].partition " +
                          std::to_string(*m.partition) + " does not exist (topic has " +
                          std::to_string(n) + ")");
      }
      placed[i] = static_cast<int32_t>(*m.partition);
    } else if (m.key) {
      placed[i] = static_cast<int32_t>(Fnv1a64(*m.key) % n);
    } else if (m.id) {
      placed[i] = static_cast<int32_t>(Fnv1a64(*m.id) % n);
    } else {
      // Sticky partitioning (Kafka's KIP-480): the messages of a request without key or
      // id all go to one partition, chosen round robin per request, preferring partitions
      // this broker leads (no forwarding hop, one commit).
      if (sticky < 0) sticky = StickyPartition(*t);
      placed[i] = sticky;
    }
  }
  return placed;
}

Result<std::vector<ProduceResult>> BrokerService::Produce(const std::string& topic_name,
                                                          std::vector<ProduceMessage> messages) {
  ZOOMQ_RETURN_IF_ERROR(health());
  if (stopping_) return Status::Unavailable("broker is shutting down");
  auto t = FindTopic(topic_name);
  if (!t) return TopicNotFound(topic_name);
  // Validate and place every message before touching anything.
  auto placement = Place(topic_name, messages);
  if (!placement.ok()) return placement.status();
  const std::vector<int32_t>& placed = placement.value();
  const int32_t n = t->config.partitions;
  std::vector<int32_t> involved(placed);
  std::sort(involved.begin(), involved.end());
  involved.erase(std::unique(involved.begin(), involved.end()), involved.end());

  std::vector<ProduceResult> results(messages.size());
  std::vector<uint64_t> need_end(n, 0);  // hwm each partition must reach before we answer
  std::vector<uint64_t> generation(n, 0);  // the leadership the answer depends on
  size_t appended = 0;
  bool replicated = false;  // some partition has followers fetching from memory
  {
    std::vector<std::unique_lock<std::mutex>> locks;
    for (int32_t p : involved) locks.emplace_back(t->partitions[p]->mu);
    if (t->deleted) return TopicNotFound(topic_name);
    for (int32_t p : involved) {
      Partition& part = *t->partitions[p];
      generation[p] = part.role_generation;
      if (!part.leading()) {
        return Status(Code::kNotLeader, "this broker does not lead " + topic_name + "/" +
                                            std::to_string(p) + " (leader: broker " +
                                            std::to_string(part.leader_id) + ")");
      }
      const size_t isr = part.log.isr_size();
      if (isr < static_cast<size_t>(t->config.min_insync_replicas)) {
        return Status(Code::kNotEnoughReplicas,
                      topic_name + "/" + std::to_string(p) + " has " + std::to_string(isr) +
                          " in-sync replica(s), min_insync_replicas is " +
                          std::to_string(t->config.min_insync_replicas) + "; nothing written");
      }
    }
    const TimeMs now = clock_->NowMs();
    WriteBatch batch;
    for (size_t i = 0; i < messages.size(); ++i) {
      ProduceMessage& m = messages[i];
      const int32_t p = placed[i];
      PartitionIndex& index = t->partitions[p]->index;
      if (m.id) {
        if (auto offset = index.FindId(*m.id, now)) {
          results[i] = {p, static_cast<int64_t>(*offset), true};
          need_end[p] = std::max(need_end[p], *offset + 1);
          continue;
        }
      }
      StoredMessage sm;
      sm.key_hash = KeyHash(m.key ? &*m.key : nullptr);
      sm.offset = index.Append({sm.key_hash, now, m.bytes}, m.id ? &*m.id : nullptr);
      sm.epoch = t->partitions[p]->epoch;
      t->partitions[p]->log.Assign(sm.epoch, sm.offset);
      sm.topic_id = t->id;
      sm.partition = p;
      sm.timestamp_ms = now;
      sm.key = std::move(m.key);
      sm.value = std::move(m.value);
      sm.value_is_bytes = m.value_is_bytes;
      sm.headers_json = std::move(m.headers_json);
      sm.id = std::move(m.id);
      sm.bytes = m.bytes;
      results[i] = {p, static_cast<int64_t>(sm.offset), false};
      need_end[p] = sm.offset + 1;
      RememberLocked(*t->partitions[p], sm);
      batch.ops.push_back(OpAppend{std::move(sm)});
      ++appended;
    }
    if (appended > 0) {
      std::vector<Commit> commits;
      for (int32_t p : involved) {
        commits.push_back({t, t->partitions[p].get(), t->partitions[p]->index.log_end()});
        replicated = replicated || !t->partitions[p]->tail.empty();
      }
      SubmitAndCommit(std::move(batch), std::move(commits), nullptr);
    }
  }
  // Followers fetch the new entries now, while this broker commits them.
  if (replicated) {
    for (int32_t p : involved) t->partitions[p]->fetch_cv.notify_all();
  }
  // Answer only once every message (new or a duplicate's original) is committed.
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(options_.write_timeout_ms);
  for (int32_t p : involved) {
    Partition& part = *t->partitions[p];
    std::unique_lock<std::mutex> lock(part.mu);
    for (;;) {
      // The offsets were assigned under this leadership; once it changed, the entries may
      // have been truncated and the same offsets may hold other messages.
      if (part.role_generation != generation[p]) {
        return Status(Code::kNotLeader, "leadership of " + topic_name + "/" +
                                            std::to_string(p) +
                                            " changed while the write was replicated; it may "
                                            "or may not be written: retry with the same ids");
      }
      if (part.log.high_watermark() >= need_end[p]) {
        ZOOMQ_RETURN_IF_ERROR(CheckEnoughReplicasLocked(part, t->config, topic_name));
        break;
      }
      ZOOMQ_RETURN_IF_ERROR(health());
      if (stopping_) return Status::Unavailable("broker is shutting down; retry");
      if (part.hwm_cv.wait_until(lock, deadline) == std::cv_status::timeout) {
        return Status::Unavailable("timed out waiting for the write to be committed");
      }
    }
  }
  produced_ += appended;
  if (ack_guard_) ZOOMQ_RETURN_IF_ERROR(ack_guard_());
  return results;
}

// ---------------------------------------------------------------------------------------
// Groups

Result<std::shared_ptr<BrokerService::ConsumerGroup>> BrokerService::GetGroup(
    const std::shared_ptr<Topic>& t, const std::string& name, bool create, bool latest,
    bool* created) {
  if (created) *created = false;
  std::lock_guard<std::mutex> lock(t->groups_mu);
  if (auto it = t->groups.find(name); it != t->groups.end()) return it->second;
  if (!create) {
    return Status(Code::kGroupNotFound,
                  "group '" + name + "' of topic '" + t->name + "' does not exist");
  }
  auto g = std::make_shared<ConsumerGroup>();
  g->name = name;
  g->created_ms = clock_->NowMs();
  std::vector<uint64_t> floors;
  for (auto& p : t->partitions) {
    std::lock_guard<std::mutex> plock(p->mu);
    floors.push_back(latest ? p->log.high_watermark() : p->index.first_offset());
  }
  for (uint64_t f : floors) g->parts.emplace_back(f);
  g->persisted_floor = floors;
  WriteBatch batch;
  std::vector<Commit> commits;
  batch.ops.push_back(OpPutGroup{t->id, name, g->created_ms, floors});
  for (int32_t p = 0; p < t->config.partitions; ++p) {
    AppendGroupLog(t, p, {OpPutGroup{t->id, name, g->created_ms, {floors[p]}, p}}, &batch,
                   &commits);
  }
  SubmitAndCommit(std::move(batch), std::move(commits), nullptr);
  t->groups[name] = g;
  if (created) *created = true;
  spdlog::info("topic={} group={} created start={}", t->name, name,
               latest ? "latest" : "earliest");
  return g;
}

Result<bool> BrokerService::CreateGroup(const std::string& topic, const std::string& group,
                                        bool latest) {
  ZOOMQ_RETURN_IF_ERROR(health());
  auto t = FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  bool created = false;
  auto g = GetGroup(t, group, true, latest, &created);
  if (!g.ok()) return g.status();
  // Make the creation durable before answering: a no-op batch commits after it.
  ZOOMQ_RETURN_IF_ERROR(store_->Write(WriteBatch{}));
  return created;
}

void BrokerService::GroupOpsLocked(const Topic& t, ConsumerGroup& g, int32_t p,
                                   const std::vector<GroupChange>& changes, WriteBatch* batch,
                                   std::vector<WriteOp>* replicated) {
  GroupPartition& gp = g.parts[p];
  bool counters_changed = false;
  for (const GroupChange& c : changes) {
    if (c.kind == GroupChange::Kind::kDead) continue;  // written by DeadLetterLocked
    if (c.kind == GroupChange::Kind::kAcked) counters_changed = true;
    if (c.offset < gp.floor()) continue;  // the floor row below covers it
    OpGroupMessage row{t.id, g.name, p, c.offset,
                       c.kind == GroupChange::Kind::kAcked ? kRowAcked : kRowDelivered,
                       c.deliveries};
    // Acks are replicated (the group log; the tables get them once committed: replication.cc
    // CollectAppliesLocked); delivery counts stay with the leader, written at once.
    if (c.kind == GroupChange::Kind::kAcked) {
      replicated->push_back(std::move(row));
    } else {
      batch->ops.push_back(std::move(row));
    }
  }
  if (counters_changed || gp.floor() != g.persisted_floor[p]) {
    replicated->push_back(
        OpGroupFloor{t.id, g.name, p, gp.floor(), gp.acked_total(), gp.dead_total()});
    g.persisted_floor[p] = gp.floor();
  }
}

void BrokerService::DeadLetterLocked(const std::shared_ptr<Topic>& t, ConsumerGroup& g,
                                     int32_t p, const std::vector<GroupChange>& dead,
                                     const std::string& reason, WriteBatch* batch,
                                     std::vector<Commit>* commits,
                                     std::vector<WriteOp>* replicated) {
  if (dead.empty()) return;
  std::shared_ptr<Topic> dlq = FindTopic(DlqName(t->name));
  std::vector<uint64_t> offsets;
  for (const GroupChange& c : dead) offsets.push_back(c.offset);
  std::vector<StoredMessage> originals;
  Status st = store_->ReadOffsets(t->id, p, offsets, &originals);
  if (!st.ok()) spdlog::error("topic={} partition={} dead-letter read failed: {}",
                              t->name, p, st.message());
  std::map<uint64_t, StoredMessage*> by_offset;
  for (auto& m : originals) by_offset[m.offset] = &m;
  const TimeMs now = clock_->NowMs();
  for (const GroupChange& c : dead) {
    replicated->push_back(OpGroupMessage{t->id, g.name, p, c.offset, kRowDead, c.deliveries});
    ++dead_lettered_;
    auto it = by_offset.find(c.offset);
    if (!dlq || dlq->deleted || it == by_offset.end()) {
      spdlog::warn("topic={} partition={} offset={} group={} dropped after {} "
                   "deliveries: {} (no dead-letter topic or message gone)",
                   t->name, p, c.offset, g.name, c.deliveries, reason);
      continue;
    }
    StoredMessage m = std::move(*it->second);
    auto headers = m.headers_json ? nlohmann::json::parse(*m.headers_json, nullptr, false)
                                  : nlohmann::json::object();
    if (!headers.is_object()) headers = nlohmann::json::object();
    headers["zoomq-dlq-reason"] = reason;
    headers["zoomq-original-topic"] = t->name;
    headers["zoomq-original-partition"] = std::to_string(p);
    headers["zoomq-original-offset"] = std::to_string(c.offset);
    headers["zoomq-deliveries"] = std::to_string(c.deliveries);
    headers["zoomq-dlq-group"] = g.name;
    m.headers_json = headers.dump();
    m.bytes = static_cast<uint32_t>(m.value.size() + (m.key ? m.key->size() : 0) +
                                    m.headers_json->size());
    m.id.reset();
    m.topic_id = dlq->id;
    m.partition = p % dlq->config.partitions;
    m.timestamp_ms = now;
    Partition* dp = dlq->partitions[m.partition].get();
    std::lock_guard<std::mutex> lock(dp->mu);
    if (!dp->leading()) {
      // MaxDeliveries() prevents this; reaching it means the leadership moved in between.
      spdlog::error("topic={} partition={} offset={} group={} dead-lettered while {}/{} is "
                    "led by broker {}: the copy is missing from the dead-letter topic",
                    t->name, p, c.offset, g.name, dlq->name, m.partition, dp->leader_id);
      continue;
    }
    m.offset = dp->index.Append({m.key_hash, now, m.bytes}, nullptr);
    m.epoch = dp->epoch;
    dp->log.Assign(m.epoch, m.offset);
    RememberLocked(*dp, m);
    dp->fetch_cv.notify_all();
    commits->push_back({dlq, dp, dp->index.log_end()});
    spdlog::info("topic={} partition={} offset={} group={} dead-lettered to {} "
                 "offset={} after {} deliveries: {}",
                 t->name, p, c.offset, g.name, dlq->name, m.offset,
                 c.deliveries, reason);
    batch->ops.push_back(OpAppend{std::move(m)});
  }
}

namespace {
void SplitDead(std::vector<GroupChange>* changes, std::vector<GroupChange>* dead) {
  for (const auto& c : *changes) {
    if (c.kind == GroupChange::Kind::kDead) dead->push_back(c);
  }
}
}  // namespace

Result<std::vector<DeliveredMessage>> BrokerService::TryPull(const std::shared_ptr<Topic>& t,
                                                             ConsumerGroup& g,
                                                             const std::string& consumer,
                                                             size_t max, TimeMs visibility_ms) {
  // A lease is a promise too (no other member gets the message meanwhile), and a leader
  // whose session may have expired could lease a message the new leader already acked: a
  // paused leader resumed must not serve from its stale group state (chaos seed 3).
  if (ack_guard_) ZOOMQ_RETURN_IF_ERROR(ack_guard_());
  const TimeMs now = clock_->NowMs();
  const int32_t n = t->config.partitions;
  std::vector<std::vector<Delivery>> got(n);
  size_t total = 0;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    if (!consumer.starts_with("anon-")) g.consumers[consumer] = now;
    WriteBatch batch;
    std::vector<Commit> commits;
    const size_t start = g.next_partition++ % n;
    for (int32_t k = 0; k < n; ++k) {
      const int32_t p = static_cast<int32_t>((start + k) % n);
      if (!ServesGroups(*t->partitions[p])) continue;
      GroupPartition& gp = g.parts[p];
      std::vector<GroupChange> changes, dead;
      std::vector<uint64_t> dead_offsets;
      gp.Tick(now, MaxDeliveries(*t, p), &dead_offsets, &changes);
      if (total < max) {
        Partition& part = *t->partitions[p];
        std::lock_guard<std::mutex> plock(part.mu);
        gp.Pull(part.index, part.log.high_watermark(), consumer, max - total, now, visibility_ms, &got[p], &changes);
        total += got[p].size();
      }
      SplitDead(&changes, &dead);
      std::vector<WriteOp> replicated;
      DeadLetterLocked(t, g, p, dead, "max_deliveries reached (visibility timeout expired)",
                       &batch, &commits, &replicated);
      GroupOpsLocked(*t, g, p, changes, &batch, &replicated);
      AppendGroupLog(t, p, std::move(replicated), &batch, &commits);
    }
    if (!batch.ops.empty()) SubmitAndCommit(std::move(batch), std::move(commits), nullptr);
  }
  std::vector<DeliveredMessage> out;
  if (total == 0) return out;
  out.reserve(total);
  for (int32_t p = 0; p < n; ++p) {
    if (got[p].empty()) continue;
    std::vector<uint64_t> offsets;
    for (const Delivery& d : got[p]) offsets.push_back(d.offset);
    std::vector<StoredMessage> msgs;
    ZOOMQ_RETURN_IF_ERROR(store_->ReadOffsets(t->id, p, offsets, &msgs));
    // ReadOffsets keeps the order and skips only offsets removed by retention meanwhile.
    size_t j = 0;
    for (const Delivery& d : got[p]) {
      if (j < msgs.size() && msgs[j].offset == d.offset) {
        out.push_back({std::move(msgs[j]), d.delivery});
        ++j;
      }
    }
  }
  // Checked again after leasing: the process may have been paused in between.
  if (ack_guard_) ZOOMQ_RETURN_IF_ERROR(ack_guard_());
  delivered_ += out.size();
  return out;
}

bool BrokerService::AdmitWaiter() {
  size_t cur = waiters_.load();
  do {
    if (cur >= options_.max_waiters) return false;
  } while (!waiters_.compare_exchange_weak(cur, cur + 1));
  return true;
}

void BrokerService::ReleaseWaiter() { --waiters_; }

uint64_t BrokerService::Generation(const std::string& topic) {
  auto t = FindTopic(topic);
  if (!t) return 0;
  std::lock_guard<std::mutex> lock(t->change_mu);
  return t->generation;
}

void BrokerService::WaitForChange(const std::string& topic, uint64_t seen, TimeMs wait_ms) {
  auto t = FindTopic(topic);
  if (!t || wait_ms <= 0) return;
  std::unique_lock<std::mutex> lock(t->change_mu);
  t->change_cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
    return t->generation != seen || stopping_ || t->deleted;
  });
}

Result<std::vector<DeliveredMessage>> BrokerService::PullNow(
    const std::string& topic, const std::string& group, const std::string& consumer, size_t max,
    std::optional<TimeMs> visibility_ms) {
  auto t = FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  auto g = GetGroup(t, group, true, false, nullptr);
  if (!g.ok()) return g.status();
  return TryPull(t, *g.value(), consumer, max,
                 visibility_ms.value_or(t->config.visibility_timeout_ms));
}

Result<std::vector<DeliveredMessage>> BrokerService::Pull(const std::string& topic,
                                                          const std::string& group,
                                                          const std::string& consumer_in,
                                                          size_t max, TimeMs wait_ms,
                                                          std::optional<TimeMs> visibility_ms) {
  auto t = FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  auto g = GetGroup(t, group, true, false, nullptr);
  if (!g.ok()) return g.status();
  const std::string consumer =
      consumer_in.empty() ? "anon-" + std::to_string(++anon_counter_) : consumer_in;
  const TimeMs vis = visibility_ms.value_or(t->config.visibility_timeout_ms);
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(wait_ms);
  bool admitted = false;
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(t->change_mu);
      seen = t->generation;
    }
    auto r = TryPull(t, *g.value(), consumer, max, vis);
    if (!r.ok() || !r->empty() || stopping_ || t->deleted || SteadyClock::now() >= deadline) {
      if (admitted) ReleaseWaiter();
      return r;
    }
    if (!admitted) {
      if (!AdmitWaiter()) {
        return Status(Code::kOverloaded, "too many waiting consumers; retry later");
      }
      admitted = true;
    }
    std::unique_lock<std::mutex> lock(t->change_mu);
    t->change_cv.wait_until(lock, deadline, [&] {
      return t->generation != seen || stopping_ || t->deleted;
    });
  }
}

Result<AckResult> BrokerService::GroupOp(const std::string& topic, const std::string& group,
                                          const std::vector<MessageRef>& ids, LeaseVerb verb,
                                          TimeMs arg) {
  ZOOMQ_RETURN_IF_ERROR(health());
  auto t = FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  auto gr = GetGroup(t, group, false, false, nullptr);
  if (!gr.ok()) return gr.status();
  ConsumerGroup& g = *gr.value();
  const int32_t n = t->config.partitions;
  AckResult outcome;
  std::vector<uint64_t> need_group(n, 0);
  bool lost_lead = false;
  std::shared_ptr<std::promise<Status>> done;
  std::future<Status> committed;
  {
    std::lock_guard<std::mutex> lock(g.mu);
    const TimeMs now = clock_->NowMs();
    std::vector<std::vector<GroupChange>> changes(n);
    for (const MessageRef& id : ids) {
      if (id.partition >= 0 && id.partition < n && !ServesGroups(*t->partitions[id.partition])) {
        return Status(Code::kNotLeader, "broker " + std::to_string(options_.broker_id) +
                                            " does not serve the groups of " + topic + "/" +
                                            std::to_string(id.partition));
      }
    }
    for (const MessageRef& id : ids) {
      GroupPartition::Result r = GroupPartition::Result::kUnknown;
      if (id.partition >= 0 && id.partition < n) {
        GroupPartition& gp = g.parts[id.partition];
        switch (verb) {
          case LeaseVerb::kAck:
            r = gp.Ack(id.offset, &changes[id.partition]);
            break;
          case LeaseVerb::kNack:
            r = gp.Nack(id.offset, now, arg, MaxDeliveries(*t, id.partition),
                         &changes[id.partition]);
            break;
          case LeaseVerb::kExtend:
            r = gp.Extend(id.offset, now, arg);
            break;
        }
      }
      if (r == GroupPartition::Result::kUnknown) {
        outcome.unknown.push_back(id.text);
      } else {
        ++outcome.applied;
      }
    }
    WriteBatch batch;
    std::vector<Commit> commits;
    for (int32_t p = 0; p < n; ++p) {
      if (changes[p].empty()) continue;
      std::vector<GroupChange> dead;
      SplitDead(&changes[p], &dead);
      std::vector<WriteOp> replicated;
      DeadLetterLocked(t, g, p, dead, "max_deliveries reached (nack)", &batch, &commits,
                       &replicated);
      GroupOpsLocked(*t, g, p, changes[p], &batch, &replicated);
      need_group[p] = AppendGroupLog(t, p, std::move(replicated), &batch, &commits);
      // Leadership moved between the check above and the append: the changes are in no
      // log, so they are answered "maybe" (chaos seed 917318 found acks confirmed this way).
      if (need_group[p] == kNotLeading) {
        need_group[p] = 0;
        lost_lead = true;
      }
    }
    if (!batch.ops.empty()) {
      done = std::make_shared<std::promise<Status>>();
      committed = done->get_future();
      SubmitAndCommit(std::move(batch), std::move(commits), done);
    }
  }
  if (verb == LeaseVerb::kAck) acked_ += static_cast<uint64_t>(outcome.applied);
  if (verb != LeaseVerb::kExtend && outcome.applied > 0) t->Notify();  // keys and messages were freed
  if (done) ZOOMQ_RETURN_IF_ERROR(committed.get());
  if (lost_lead) {
    return Status(Code::kNotLeader, "leadership changed before the in-sync replicas "
                                    "confirmed; retry");
  }
  // Acks and dead-letters count once the in-sync replicas hold them.
  ZOOMQ_RETURN_IF_ERROR(WaitGroupLog(t, need_group));
  if (ack_guard_) ZOOMQ_RETURN_IF_ERROR(ack_guard_());
  return outcome;
}

Result<AckResult> BrokerService::Ack(const std::string& topic, const std::string& group,
                                      const std::vector<MessageRef>& ids) {
  return GroupOp(topic, group, ids, LeaseVerb::kAck, 0);
}
Result<AckResult> BrokerService::Nack(const std::string& topic, const std::string& group,
                                       const std::vector<MessageRef>& ids, TimeMs delay_ms) {
  return GroupOp(topic, group, ids, LeaseVerb::kNack, delay_ms);
}
Result<AckResult> BrokerService::Extend(const std::string& topic, const std::string& group,
                                         const std::vector<MessageRef>& ids,
                                         TimeMs visibility_ms) {
  return GroupOp(topic, group, ids, LeaseVerb::kExtend, visibility_ms);
}

Result<GroupInfo> BrokerService::DescribeGroup(const std::string& topic,
                                               const std::string& group) {
  auto t = FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  auto gr = GetGroup(t, group, false, false, nullptr);
  if (!gr.ok()) return gr.status();
  ConsumerGroup& g = *gr.value();
  GroupInfo info;
  info.topic = t->name;
  info.group = g.name;
  std::lock_guard<std::mutex> lock(g.mu);
  info.created_ms = g.created_ms;
  for (auto& [name, seen] : g.consumers) info.consumers.push_back({name, seen});
  for (int32_t p = 0; p < t->config.partitions; ++p) {
    uint64_t first, hwm;
    {
      std::lock_guard<std::mutex> plock(t->partitions[p]->mu);
      // Only the leader's view of a partition's group state is current.
      if (!(t->partitions[p]->leading() && t->partitions[p]->groups_ready)) continue;
      first = t->partitions[p]->index.first_offset();
      hwm = t->partitions[p]->log.high_watermark();
    }
    GroupPartition& gp = g.parts[p];
    gp.OnHeadTruncated(first);
    info.backlog += gp.Backlog(hwm);
    info.in_flight += gp.in_flight();
    info.acked += gp.acked_total();
    info.dead_lettered += gp.dead_total();
  }
  return info;
}

size_t BrokerService::InFlight(const std::string& topic, const std::string& group,
                               const std::string& consumer) {
  auto t = FindTopic(topic);
  if (!t) return 0;
  auto gr = GetGroup(t, group, false, false, nullptr);
  if (!gr.ok()) return 0;
  std::lock_guard<std::mutex> lock(gr.value()->mu);
  size_t n = 0;
  for (auto& gp : gr.value()->parts) n += gp.LeasedTo(consumer);
  return n;
}

std::vector<GroupInfo> BrokerService::AllGroups() {
  std::vector<GroupInfo> out;
  for (const TopicInfo& t : ListTopics()) {
    for (const std::string& g : t.groups) {
      auto info = DescribeGroup(t.name, g);
      if (info.ok()) out.push_back(std::move(info).value());
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Stream

Result<StreamRead> BrokerService::Read(const std::string& topic, int64_t partition,
                                       uint64_t from, size_t max, TimeMs wait_ms) {
  auto t = FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "partition " + std::to_string(partition) +
                                                " of topic '" + topic + "' does not exist");
  }
  Partition& part = *t->partitions[partition];
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(wait_ms);
  bool admitted = false;
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(t->change_mu);
      seen = t->generation;
    }
    StreamRead r;
    {
      std::lock_guard<std::mutex> lock(part.mu);
      r.first_offset = part.index.first_offset();
      r.high_watermark = part.log.high_watermark();
    }
    const uint64_t start = std::max(from, r.first_offset);
    if (start < r.high_watermark || stopping_ || t->deleted ||
        SteadyClock::now() >= deadline) {
      if (admitted) ReleaseWaiter();
      if (start < r.high_watermark) {
        ZOOMQ_RETURN_IF_ERROR(
            store_->ReadRange(t->id, static_cast<int32_t>(partition), start, r.high_watermark,
                              max, &r.messages));
      }
      return r;
    }
    if (!admitted) {
      if (!AdmitWaiter()) return Status(Code::kOverloaded, "too many waiting readers; retry later");
      admitted = true;
    }
    std::unique_lock<std::mutex> lock(t->change_mu);
    t->change_cv.wait_until(lock, deadline, [&] {
      return t->generation != seen || stopping_ || t->deleted;
    });
  }
}

// ---------------------------------------------------------------------------------------
// Time-driven work

void BrokerService::TickOnce() {
  const TimeMs now = clock_->NowMs();
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::lock_guard<std::mutex> lock(topics_mu_);
    for (auto& [name, t] : topics_) topics.push_back(t);
  }
  for (auto& t : topics) {
    // Group log entries committed since the last tick reach the group tables (the leader's;
    // a follower's loop applies its own).
    for (auto& part : t->partitions) {
      std::lock_guard<std::mutex> lock(part->mu);
      WriteBatch applies;
      CollectAppliesLocked(*t, *part, &applies);
      if (!applies.ops.empty()) SubmitAndCommit(std::move(applies), {}, nullptr);
    }
    std::vector<std::shared_ptr<ConsumerGroup>> groups;
    {
      std::lock_guard<std::mutex> lock(t->groups_mu);
      for (auto& [name, g] : t->groups) groups.push_back(g);
    }
    bool ready = false;
    for (auto& g : groups) {
      std::lock_guard<std::mutex> lock(g->mu);
      WriteBatch batch;
      std::vector<Commit> commits;
      for (int32_t p = 0; p < t->config.partitions; ++p) {
        if (!ServesGroups(*t->partitions[p])) continue;
        std::vector<GroupChange> changes, dead;
        std::vector<uint64_t> dead_offsets;
        ready |= g->parts[p].Tick(now, MaxDeliveries(*t, p), &dead_offsets, &changes);
        SplitDead(&changes, &dead);
        std::vector<WriteOp> replicated;
        DeadLetterLocked(t, *g, p, dead, "max_deliveries reached (visibility timeout expired)",
                         &batch, &commits, &replicated);
        GroupOpsLocked(*t, *g, p, changes, &batch, &replicated);
        AppendGroupLog(t, p, std::move(replicated), &batch, &commits);
      }
      if (!batch.ops.empty()) SubmitAndCommit(std::move(batch), std::move(commits), nullptr);
    }
    if (ready) t->Notify();
  }
}

void BrokerService::RetentionOnce() {
  const TimeMs now = clock_->NowMs();
  std::vector<std::shared_ptr<Topic>> topics;
  {
    std::lock_guard<std::mutex> lock(topics_mu_);
    for (auto& [name, t] : topics_) topics.push_back(t);
  }
  for (auto& t : topics) {
    for (auto& part : t->partitions) {
      std::lock_guard<std::mutex> lock(part->mu);
      PartitionIndex& index = part->index;
      uint64_t cut = index.RetentionCut(now, t->config.retention_ms, t->config.retention_bytes,
                                        part->log.high_watermark());
      if (cut <= index.first_offset() || t->deleted) continue;
      spdlog::info("topic={} partition={} retention removed offsets [{}, {})",
                   t->name, part->number, index.first_offset(), cut);
      index.TruncateHead(cut);
      store_->Submit(WriteBatch{{OpTruncateHead{t->id, part->number, cut}}},
                     [this](const Status& st) {
                       if (!st.ok()) Fail(st);
                     });
    }
  }
}

void BrokerService::TickerLoop() {
  auto next_retention = SteadyClock::now();
  std::unique_lock<std::mutex> lock(ticker_mu_);
  while (!stopping_) {
    ticker_cv_.wait_for(lock, std::chrono::milliseconds(options_.tick_ms));
    if (stopping_) break;
    lock.unlock();
    TickOnce();
    if (SteadyClock::now() >= next_retention) {
      RetentionOnce();
      next_retention = SteadyClock::now() + std::chrono::milliseconds(options_.retention_check_ms);
    }
    lock.lock();
  }
}

Counters BrokerService::counters() const {
  Counters c;
  c.produced = produced_;
  c.delivered = delivered_;
  c.acked = acked_;
  c.dead_lettered = dead_lettered_;
  c.commit_rounds = store_->commit_rounds();
  c.committed_batches = store_->committed_batches();
  return c;
}

}  // namespace zoomq::broker
