// PartitionIndex: the in-memory view of one partition's log (pure, no I/O).
//
// The message bodies live in SQLite; this keeps, per retained offset, what the decisions
// need without a read: the key hash (per-key order), the timestamp and size (retention).
// It also holds the dedup window (message id -> offset). How far the log is replicated and
// committed (the high watermark) is its ReplicaLog's.
//
// Thread-safety: none; the owner (broker::Partition) guards it with its mutex.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "zoomq/common/clock.h"

namespace zoomq::broker {

// Key hash 0 means "no key"; real keys never hash to 0 (see KeyHash()).
inline constexpr uint64_t kNoKey = 0;
uint64_t KeyHash(const std::string* key);

struct EntryMeta {
  uint64_t key_hash = kNoKey;
  TimeMs timestamp_ms = 0;
  uint32_t bytes = 0;  // encoded value + key + headers
};

class PartitionIndex {
 public:
  // Ids are remembered for `dedup_window_ms`, and at most `max_ids` of them (the oldest
  // are forgotten first), so memory stays bounded under any produce rate.
  explicit PartitionIndex(TimeMs dedup_window_ms, size_t max_ids = 1'000'000)
      : dedup_window_ms_(dedup_window_ms), max_ids_(max_ids) {}

  uint64_t first_offset() const { return first_offset_; }
  uint64_t log_end() const { return first_offset_ + entries_.size(); }
  uint64_t retained_bytes() const { return retained_bytes_; }

  // REQUIRES: first_offset <= offset < log_end().
  const EntryMeta& Meta(uint64_t offset) const { return entries_[offset - first_offset_]; }

  // Offset of a message with this id written within the dedup window, if any.
  std::optional<uint64_t> FindId(const std::string& id, TimeMs now);

  // Appends one entry at log_end() and returns its offset. `id` may be null.
  uint64_t Append(const EntryMeta& meta, const std::string* id);

  // Used while loading from disk: the log starts at `first` (empty so far).
  void ResetStart(uint64_t first) {
    first_offset_ = first;
    entries_.clear();
    retained_bytes_ = 0;
  }
  // Registers an id loaded from disk (same as Append's, without appending).
  void RememberId(const std::string& id, uint64_t offset, TimeMs ts);

  // The first offset to keep under the retention rules (<= high_watermark, the log's
  // committed end: nothing uncommitted is ever dropped). retention_ms/bytes <= 0 disable a
  // rule.
  uint64_t RetentionCut(TimeMs now, int64_t retention_ms, int64_t retention_bytes,
                        uint64_t high_watermark) const;
  // Drops entries below `new_first`. REQUIRES: new_first is committed.
  void TruncateHead(uint64_t new_first);
  // Drops entries at and above `new_end` (a follower removing a divergent suffix) and
  // forgets their ids.
  void TruncateTail(uint64_t new_end);

 private:
  void ExpireIds(TimeMs now);
  void PopOldestId();

  const TimeMs dedup_window_ms_;
  const size_t max_ids_;
  uint64_t first_offset_ = 0;
  uint64_t retained_bytes_ = 0;
  std::deque<EntryMeta> entries_;  // offsets [first_offset_, log_end())

  struct IdEntry {
    uint64_t offset;
    TimeMs timestamp_ms;
  };
  std::unordered_map<std::string, IdEntry> ids_;
  // Ids in the order they were written, to expire them from the front.
  std::deque<std::pair<TimeMs, std::string>> id_order_;
};

}  // namespace zoomq::broker
