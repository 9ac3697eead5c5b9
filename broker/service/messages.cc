// Messages: produce (place, append, replicate, answer once committed) and stream reads.
#include "broker/service/messages.h"

#include <algorithm>
#include <chrono>

#include "zoomq/common/names.h"

namespace zoomq::broker {

using SteadyClock = std::chrono::steady_clock;

Result<std::vector<int32_t>> Messages::Place(const std::string& topic_name,
                                             const std::vector<ProduceMessage>& messages) {
  auto t = s_.FindTopic(topic_name);
  if (!t) return TopicNotFound(topic_name);
  if (messages.empty()) return Status::Invalid("field 'messages' must not be empty");
  const int32_t n = t->config.partitions;
  std::vector<int32_t> placed(messages.size());
  int32_t sticky = -1;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ProduceMessage& m = messages[i];
    if (m.bytes > s_.options.max_message_bytes) {
      return Status(Code::kPayloadTooLarge, "messages[" + std::to_string(i) + "] is " +
                                                std::to_string(m.bytes) +
                                                " bytes, over max_message_bytes " +
                                                std::to_string(s_.options.max_message_bytes));
    }
    if (m.partition) {
      if (*m.partition < 0 || *m.partition >= n) {
        return Status(Code::kPartitionNotFound, "messages[" + std::to_string(i) + "].partition " +
                                                    std::to_string(*m.partition) +
                                                    " does not exist (topic has " +
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

Result<std::vector<ProduceResult>> Messages::Produce(const std::string& topic_name,
                                                     std::vector<ProduceMessage> messages) {
  ZOOMQ_RETURN_IF_ERROR(s_.health());
  if (s_.stopping) return Status::Unavailable("broker is shutting down");
  auto t = s_.FindTopic(topic_name);
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
  std::vector<uint64_t> need_end(n, 0);    // hwm each partition must reach before we answer
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
    const TimeMs now = s_.clock->NowMs();
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
      t->partitions[p]->RememberLocked(sm);
      batch.ops.push_back(OpAppend{std::move(sm)});
      ++appended;
    }
    if (appended > 0) {
      std::vector<Commit> commits;
      for (int32_t p : involved) {
        commits.push_back({t, t->partitions[p].get(), t->partitions[p]->index.log_end()});
        replicated = replicated || !t->partitions[p]->tail.empty();
      }
      s_.SubmitAndCommit(std::move(batch), std::move(commits), nullptr);
    }
  }
  // Followers fetch the new entries now, while this broker commits them.
  if (replicated) {
    for (int32_t p : involved) t->partitions[p]->fetch_cv.notify_all();
  }
  // Answer only once every message (new or a duplicate's original) is committed.
  auto deadline = SteadyClock::now() + std::chrono::milliseconds(s_.options.write_timeout_ms);
  for (int32_t p : involved) {
    Partition& part = *t->partitions[p];
    std::unique_lock<std::mutex> lock(part.mu);
    for (;;) {
      // The offsets were assigned under this leadership; once it changed, the entries may
      // have been truncated and the same offsets may hold other messages.
      if (part.role_generation != generation[p]) {
        return Status(Code::kNotLeader, "leadership of " + topic_name + "/" + std::to_string(p) +
                                            " changed while the write was replicated; it may "
                                            "or may not be written: retry with the same ids");
      }
      if (part.log.high_watermark() >= need_end[p]) {
        ZOOMQ_RETURN_IF_ERROR(part.CheckEnoughReplicasLocked(t->config, topic_name));
        break;
      }
      ZOOMQ_RETURN_IF_ERROR(s_.health());
      if (s_.stopping) return Status::Unavailable("broker is shutting down; retry");
      if (part.hwm_cv.wait_until(lock, deadline) == std::cv_status::timeout) {
        return Status::Unavailable("timed out waiting for the write to be committed");
      }
    }
  }
  s_.produced += appended;
  ZOOMQ_RETURN_IF_ERROR(s_.CheckAckGuard());
  return results;
}

int32_t Messages::StickyPartition(Topic& t) {
  const int32_t n = t.config.partitions;
  const int32_t start = static_cast<int32_t>(t.round_robin.fetch_add(1) % n);
  for (int32_t k = 0; k < n; ++k) {
    Partition& p = *t.partitions[(start + k) % n];
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.leading()) return p.number;
  }
  return start;
}

Result<StreamRead> Messages::Read(const std::string& topic, int64_t partition, uint64_t from,
                                  size_t max, TimeMs wait_ms) {
  auto t = s_.FindTopic(topic);
  if (!t) return TopicNotFound(topic);
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "partition " + std::to_string(partition) +
                                                " of topic '" + topic + "' does not exist");
  }
  Partition& part = *t->partitions[partition];
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(wait_ms);
  bool admitted = false;
  for (;;) {
    const uint64_t seen = t->Generation();
    StreamRead r;
    {
      std::lock_guard<std::mutex> lock(part.mu);
      r.first_offset = part.index.first_offset();
      r.high_watermark = part.log.high_watermark();
    }
    const uint64_t start = std::max(from, r.first_offset);
    if (start < r.high_watermark || s_.stopping || t->deleted || SteadyClock::now() >= deadline) {
      if (admitted) s_.ReleaseWaiter();
      if (start < r.high_watermark) {
        ZOOMQ_RETURN_IF_ERROR(s_.store->ReadRange(t->id, static_cast<int32_t>(partition), start,
                                                  r.high_watermark, max, &r.messages));
      }
      return r;
    }
    if (!admitted) {
      if (!s_.AdmitWaiter())
        return Status(Code::kOverloaded, "too many waiting readers; retry later");
      admitted = true;
    }
    t->WaitForChange(seen, deadline, s_.stopping);
  }
}

}  // namespace zoomq::broker
