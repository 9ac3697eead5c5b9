#include "broker/core/partition_index.h"

#include <algorithm>

#include "zoomq/common/names.h"

namespace zoomq::broker {

uint64_t KeyHash(const std::string* key) {
  if (key == nullptr) return kNoKey;
  uint64_t h = Fnv1a64(*key);
  return h == kNoKey ? 1 : h;  // a collision only makes ordering stricter
}

std::optional<uint64_t> PartitionIndex::FindId(const std::string& id, TimeMs now) {
  ExpireIds(now);
  auto it = ids_.find(id);
  if (it == ids_.end()) return std::nullopt;
  return it->second.offset;
}

uint64_t PartitionIndex::Append(const EntryMeta& meta, const std::string* id) {
  uint64_t offset = log_end();
  entries_.push_back(meta);
  retained_bytes_ += meta.bytes;
  if (id != nullptr) RememberId(*id, offset, meta.timestamp_ms);
  return offset;
}

void PartitionIndex::RememberId(const std::string& id, uint64_t offset, TimeMs ts) {
  auto [it, inserted] = ids_.try_emplace(id, IdEntry{offset, ts});
  if (!inserted) return;
  id_order_.emplace_back(ts, id);
  while (ids_.size() > max_ids_) PopOldestId();
}

void PartitionIndex::PopOldestId() {
  auto it = ids_.find(id_order_.front().second);
  // The map entry belongs to this queue entry only if the timestamps agree.
  if (it != ids_.end() && it->second.timestamp_ms == id_order_.front().first) ids_.erase(it);
  id_order_.pop_front();
}

void PartitionIndex::ExpireIds(TimeMs now) {
  while (!id_order_.empty() && id_order_.front().first < now - dedup_window_ms_) PopOldestId();
}

uint64_t PartitionIndex::RetentionCut(TimeMs now, int64_t retention_ms, int64_t retention_bytes,
                                      uint64_t high_watermark) const {
  uint64_t cut = first_offset_;
  uint64_t bytes = retained_bytes_;
  while (cut < std::min(high_watermark, log_end())) {
    const EntryMeta& m = Meta(cut);
    bool too_old = retention_ms > 0 && m.timestamp_ms < now - retention_ms;
    bool too_big = retention_bytes > 0 && bytes > static_cast<uint64_t>(retention_bytes);
    if (!too_old && !too_big) break;
    bytes -= m.bytes;
    ++cut;
  }
  return cut;
}

void PartitionIndex::TruncateHead(uint64_t new_first) {
  while (first_offset_ < new_first && !entries_.empty()) {
    retained_bytes_ -= entries_.front().bytes;
    entries_.pop_front();
    ++first_offset_;
  }
}

void PartitionIndex::TruncateTail(uint64_t new_end) {
  if (new_end < first_offset_) new_end = first_offset_;
  while (log_end() > new_end) {
    retained_bytes_ -= entries_.back().bytes;
    entries_.pop_back();
  }
  std::erase_if(ids_, [new_end](const auto& e) { return e.second.offset >= new_end; });
}

}  // namespace zoomq::broker
