// TopicManager: loading, creating, describing and deleting topics; retention.
#include "broker/service/topics.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace zoomq::broker {

Result<CreateOutcome> TopicManager::CreateTopic(const TopicSpec& spec) {
  ZOOMQ_RETURN_IF_ERROR(s_.health());
  if (s_.stopping) return Status::Unavailable("broker is shutting down");
  // A topic created here (standalone) lives on this one broker; in a cluster the controller
  // resolves the spec against the live brokers and calls EnsureTopic instead.
  auto config = spec.Resolve(/*live_brokers=*/1);
  if (!config.ok()) return config.status();
  std::lock_guard<std::mutex> lock(s_.topics_mu);
  if (auto it = s_.topics.find(spec.name); it != s_.topics.end()) {
    if (!spec.Matches(it->second->config)) {
      return Status(Code::kTopicExists,
                    "topic '" + spec.name +
                        "' exists with a different config: " + it->second->config.ToJson().dump());
    }
    return CreateOutcome{false, Info(*it->second)};
  }
  const TimeMs now = s_.clock->NowMs();
  auto make = [&](const std::string& name, const TopicConfig& c) {
    auto t = std::make_shared<Topic>();
    t->id = s_.next_topic_id++;
    t->name = name;
    t->config = c;
    t->created_ms = now;
    for (int32_t p = 0; p < c.partitions; ++p) {
      t->partitions.push_back(std::make_unique<Partition>(p, s_.options.dedup_window_ms));
      if (s_.options.standalone) LeadAlone(*t->partitions.back());
    }
    return t;
  };
  std::vector<std::shared_ptr<Topic>> created{make(spec.name, config.value())};
  if (config->max_deliveries > 0 && !s_.topics.count(DlqName(spec.name))) {
    TopicConfig dlq = config.value();
    dlq.max_deliveries = 0;
    created.push_back(make(DlqName(spec.name), dlq));
  }
  WriteBatch batch;
  for (auto& t : created) {
    batch.ops.push_back(
        OpPutTopic{t->id, t->name, t->config.ToJson().dump(), t->created_ms, t->config.partitions});
  }
  ZOOMQ_RETURN_IF_ERROR(s_.store->Write(std::move(batch)));
  for (auto& t : created) {
    s_.topics[t->name] = t;
    spdlog::info("topic={} created id={} config={}", t->name, t->id, t->config.ToJson().dump());
  }
  return CreateOutcome{true, Info(*created.front())};
}

Status TopicManager::DeleteTopic(const std::string& name) {
  ZOOMQ_RETURN_IF_ERROR(s_.health());
  std::shared_ptr<Topic> t;
  {
    std::lock_guard<std::mutex> lock(s_.topics_mu);
    auto it = s_.topics.find(name);
    if (it == s_.topics.end()) return TopicNotFound(name);
    t = it->second;
    // Produces check `deleted` under the partition lock, so none is submitted after the
    // delete below and no row of the topic outlives it.
    for (auto& p : t->partitions) {
      std::lock_guard<std::mutex> plock(p->mu);
      t->deleted = true;
      p->WakeFetchersLocked();
    }
    s_.topics.erase(it);
    Status st = s_.store->Write(WriteBatch{{OpDeleteTopic{t->id}}});
    if (!st.ok()) return st;
  }
  t->Notify();
  spdlog::info("topic={} deleted", name);
  return Status::Ok();
}

std::vector<TopicInfo> TopicManager::ListTopics() {
  std::vector<TopicInfo> out;
  for (auto& t : s_.AllTopics()) out.push_back(Info(*t));
  return out;
}

Result<TopicInfo> TopicManager::DescribeTopic(const std::string& name) {
  auto t = s_.FindTopic(name);
  if (!t) return TopicNotFound(name);
  return Info(*t);
}

Status TopicManager::EnsureTopic(int64_t id, const std::string& name, const TopicConfig& config,
                                 TimeMs created_ms) {
  std::lock_guard<std::mutex> lock(s_.topics_mu);
  if (auto it = s_.topics.find(name); it != s_.topics.end()) {
    if (it->second->id == id) return Status::Ok();
    return Status(Code::kTopicExists, "topic '" + name + "' exists locally with another id");
  }
  auto t = std::make_shared<Topic>();
  t->id = id;
  t->name = name;
  t->config = config;
  t->created_ms = created_ms;
  for (int32_t p = 0; p < config.partitions; ++p) {
    t->partitions.push_back(std::make_unique<Partition>(p, s_.options.dedup_window_ms));
  }
  ZOOMQ_RETURN_IF_ERROR(s_.store->Write(
      WriteBatch{{OpPutTopic{id, name, config.ToJson().dump(), created_ms, config.partitions}}}));
  s_.next_topic_id = std::max(s_.next_topic_id, id + 1);
  s_.topics[name] = t;
  spdlog::info("topic={} id={} created from cluster metadata", name, id);
  return Status::Ok();
}

void TopicManager::RetentionOnce() {
  const TimeMs now = s_.clock->NowMs();
  for (auto& t : s_.AllTopics()) {
    for (auto& part : t->partitions) {
      std::lock_guard<std::mutex> lock(part->mu);
      PartitionIndex& index = part->index;
      uint64_t cut = index.RetentionCut(now, t->config.retention_ms, t->config.retention_bytes,
                                        part->log.high_watermark());
      if (cut <= index.first_offset() || t->deleted) continue;
      spdlog::info("topic={} partition={} retention removed offsets [{}, {})", t->name,
                   part->number, index.first_offset(), cut);
      index.TruncateHead(cut);
      s_.store->Submit(WriteBatch{{OpTruncateHead{t->id, part->number, cut}}},
                       [this](const Status& st) {
                         if (!st.ok()) s_.Fail(st);
                       });
    }
  }
}

TopicInfo TopicManager::Info(const Topic& t) {
  TopicInfo info{t.name, t.config, t.created_ms, {}, {}};
  for (auto& p : t.partitions) {
    std::lock_guard<std::mutex> lock(p->mu);
    info.partitions.push_back(
        {p->number, p->index.first_offset(), p->log.high_watermark(), p->index.log_end()});
  }
  std::lock_guard<std::mutex> lock(const_cast<Topic&>(t).groups_mu);
  for (auto& [name, g] : t.groups) info.groups.push_back(name);
  return info;
}

Result<std::shared_ptr<Topic>> TopicManager::Load(const LoadedTopic& lt, uint64_t* messages) {
  auto config = TopicConfigFromJson(lt.config_json);
  if (!config.ok()) return config.status();
  auto t = std::make_shared<Topic>();
  t->id = lt.topic_id;
  t->name = lt.name;
  t->config = config.value();
  t->created_ms = lt.created_ms;
  for (int32_t p = 0; p < t->config.partitions; ++p) {
    auto part = std::make_unique<Partition>(p, s_.options.dedup_window_ms);
    PartitionIndex& index = part->index;
    index.ResetStart(p < static_cast<int32_t>(lt.first_offsets.size()) ? lt.first_offsets[p] : 0);
    Status gap;
    ZOOMQ_RETURN_IF_ERROR(s_.store->ScanPartition(t->id, p, [&](const StoredMessage& m) {
      if (m.offset < index.log_end()) return;
      if (m.offset > index.log_end()) {
        if (index.log_end() != index.first_offset()) {
          gap = Status::Internal("gap in the log of " + Tp(t->name, p));
          return;
        }
        index.ResetStart(m.offset);
      }
      part->log.Assign(m.epoch, m.offset);
      index.Append({m.key_hash, m.timestamp_ms, m.bytes}, m.id ? &*m.id : nullptr);
      ++*messages;
    }));
    ZOOMQ_RETURN_IF_ERROR(gap);
    // Everything on disk is durable. A standalone broker was its only replica, so all of
    // it is committed; in a cluster the high watermark comes back from the leader (or,
    // leading, from the followers' fetches): a local suffix may not be committed.
    part->log.Recover(index.first_offset(), index.log_end(), s_.options.standalone);
    std::vector<std::pair<int64_t, uint64_t>> group_epochs;
    ZOOMQ_RETURN_IF_ERROR(s_.store->GroupLogEpochs(t->id, p, &group_epochs, &part->group_end));
    for (auto [e, seq] : group_epochs) part->group_log.Assign(e, seq);
    part->group_log.Recover(0, part->group_end, s_.options.standalone);
    // Entries not applied to the group tables yet: replayed when groups are loaded.
    auto applied = s_.store->GroupApplied(t->id, p);
    if (!applied.ok()) return applied.status();
    part->group_applied = std::min(applied.value(), part->group_end);
    if (part->group_applied < part->group_end) {
      std::vector<GroupLogEntry> entries;
      ZOOMQ_RETURN_IF_ERROR(s_.store->ReadGroupLog(t->id, p, part->group_applied, part->group_end,
                                                   part->group_end - part->group_applied,
                                                   &entries));
      part->group_unapplied.assign(entries.begin(), entries.end());
    }
    // Standalone: groups are loaded next, before anything is served.
    if (s_.options.standalone) LeadAlone(*part);
    t->partitions.push_back(std::move(part));
  }
  return t;
}

void TopicManager::LeadAlone(Partition& p) {
  const int32_t self = s_.options.broker_id;
  p.BecomeLeaderLocked(self, s_.options.advertised_url, 0, {self}, {self}, s_.clock->NowMs());
  p.groups_ready = true;
}

}  // namespace zoomq::broker
