// Store: zoomq's SQLite storage adapter (one database file per broker, WAL).
//
// All writes go through one writer connection and the GroupCommitter: concurrent batches
// share one IMMEDIATE transaction and one fsync (synchronous=FULL), or no fsync at commit
// (synchronous=NORMAL: survives a process crash, not an OS crash). Reads use a pool of
// read-only connections. SQLiteCpp exceptions stop here and become Status.
// The schema is documented in docs/storage.md.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "broker/core/group_commit.h"
#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace zoomq::broker {

enum class SyncMode { kFull, kNormal };

// One message as stored.
struct StoredMessage {
  int64_t topic_id = 0;
  int32_t partition = 0;
  uint64_t offset = 0;
  int64_t epoch = 0;  // leader epoch that wrote it (0 on a standalone broker)
  TimeMs timestamp_ms = 0;
  std::optional<std::string> key;
  uint64_t key_hash = 0;
  std::string value;            // JSON text, or raw bytes when value_is_bytes
  bool value_is_bytes = false;  // came as value_b64
  std::optional<std::string> headers_json;  // a JSON object of strings
  std::optional<std::string> id;
  uint32_t bytes = 0;
};

// --- Write operations: data, not code, so they can be logged and replicated. -----------
struct OpPutTopic {
  int64_t topic_id;
  std::string name;
  std::string config_json;
  TimeMs created_ms;
  int32_t partitions;
};
struct OpDeleteTopic {
  int64_t topic_id;
};
struct OpAppend {
  StoredMessage message;
};
struct OpTruncateHead {  // retention: drop offsets below first_offset
  int64_t topic_id;
  int32_t partition;
  uint64_t first_offset;
};
struct OpTruncateTail {  // a follower drops a divergent suffix: offsets >= end
  int64_t topic_id;
  int32_t partition;
  uint64_t end;
};
struct OpPutGroup {
  int64_t topic_id;
  std::string group;
  TimeMs created_ms;
  std::vector<uint64_t> floors;  // per partition (from first_partition on)
  int32_t first_partition = 0;   // a replicated op carries one partition's floor
};
// state: 0 delivered (pending), 1 acked, 2 dead-lettered
struct OpGroupMessage {
  int64_t topic_id;
  std::string group;
  int32_t partition;
  uint64_t offset;
  int32_t state;
  uint32_t deliveries;
};
// Everything below floor is done: forget its rows, keep the counters.
struct OpGroupFloor {
  int64_t topic_id;
  std::string group;
  int32_t partition;
  uint64_t floor;
  uint64_t acked_total;
  uint64_t dead_total;
};
// One entry of a partition's group log: the group ops of that partition, replicated to the
// followers like the messages (docs/replication.md). `ops` is EncodeGroupOps() text.
struct OpGroupLog {
  int64_t topic_id;
  int32_t partition;
  uint64_t seq;
  int64_t epoch;
  std::string ops;
};
struct OpTruncateGroupLog {  // drop seq >= end
  int64_t topic_id;
  int32_t partition;
  uint64_t end;
};
// The partition's group log entries below `applied` are applied to the group tables. Only
// committed entries are applied (they are never cut), so every replica's tables hold the same
// prefix; the rest is replayed in memory when groups are loaded (docs/replication.md).
struct OpGroupApplied {
  int64_t topic_id;
  int32_t partition;
  uint64_t applied;
};
using WriteOp = std::variant<OpPutTopic, OpDeleteTopic, OpAppend, OpTruncateHead,
                             OpTruncateTail, OpPutGroup, OpGroupMessage, OpGroupFloor,
                             OpGroupLog, OpTruncateGroupLog, OpGroupApplied>;

// Group ops <-> the text of a group log entry (only OpPutGroup, OpGroupMessage, OpGroupFloor).
std::string EncodeGroupOps(const std::vector<WriteOp>& ops);
Result<std::vector<WriteOp>> DecodeGroupOps(const std::string& text, int64_t topic_id,
                                            int32_t partition);

struct GroupLogEntry {
  uint64_t seq = 0;
  int64_t epoch = 0;
  std::string ops;
};
struct WriteBatch {
  std::vector<WriteOp> ops;
};

// --- What Load() returns. ---------------------------------------------------------------
struct LoadedTopic {
  int64_t topic_id;
  std::string name;
  std::string config_json;
  TimeMs created_ms;
  std::vector<uint64_t> first_offsets;  // per partition
};
struct LoadedGroupPartition {
  bool has_floor = false;  // a group_partitions row exists (else the floor is 0)
  uint64_t floor = 0;
  uint64_t acked_total = 0;
  uint64_t dead_total = 0;
  std::vector<std::pair<uint64_t, int32_t>> rows_state;       // offset, state
  std::vector<std::pair<uint64_t, uint32_t>> rows_deliveries;  // offset, deliveries
};
struct LoadedGroup {
  int64_t topic_id;
  std::string name;
  TimeMs created_ms;
  std::vector<LoadedGroupPartition> partitions;
};

// Applies group ops (OpPutGroup, OpGroupMessage, OpGroupFloor; others are ignored) to groups
// loaded from the tables, with the tables' semantics (a floor only rises, a done row stays
// done): the in-memory replay of group log entries not applied to the tables yet.
void ApplyGroupOps(const std::vector<WriteOp>& ops, int32_t partitions,
                   std::vector<LoadedGroup>* groups);

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& data_dir, SyncMode sync);
  ~Store();

  // Queues a batch; `done` runs (on the writer thread) once it is durable or failed.
  void Submit(WriteBatch batch, std::function<void(const Status&)> done);
  // Submit and wait.
  Status Write(WriteBatch batch);
  // Commits what is queued and closes the writer. Idempotent.
  void Close();
  // Fault hook for tests (`--fault-hold-commits-while`): while `file` exists, commits wait
  // before writing, like an fsync that does not return; a kill -9 then loses them. Call
  // before the first Submit.
  void SetFaultHold(std::string file) { fault_hold_file_ = std::move(file); }

  Status LoadTopics(std::vector<LoadedTopic>* out);
  // Calls `fn` for each retained message of the partition, in offset order (no value).
  Status ScanPartition(int64_t topic_id, int32_t partition,
                       const std::function<void(const StoredMessage&)>& fn);
  Status LoadGroups(int64_t topic_id, int32_t partitions, std::vector<LoadedGroup>* out);
  // The group log's epochs (epoch, first seq) in order, and its end (next seq).
  Status GroupLogEpochs(int64_t topic_id, int32_t partition,
                        std::vector<std::pair<int64_t, uint64_t>>* epochs, uint64_t* end);
  // Where the partition's group log is applied to the group tables (OpGroupApplied; 0 when
  // nothing was). A store written before that was recorded is migrated at open.
  Result<uint64_t> GroupApplied(int64_t topic_id, int32_t partition);
  // Group log entries with from <= seq < end, at most max, in order.
  Status ReadGroupLog(int64_t topic_id, int32_t partition, uint64_t from, uint64_t end,
                      size_t max, std::vector<GroupLogEntry>* out);

  // Messages with from <= offset < end, at most max.
  Status ReadRange(int64_t topic_id, int32_t partition, uint64_t from, uint64_t end, size_t max,
                   std::vector<StoredMessage>* out);
  // The listed offsets that exist, in the given order.
  Status ReadOffsets(int64_t topic_id, int32_t partition, const std::vector<uint64_t>& offsets,
                     std::vector<StoredMessage>* out);

  int64_t MaxTopicId();
  uint64_t commit_rounds() const { return committer_ ? committer_->rounds() : 0; }
  uint64_t committed_batches() const { return committer_ ? committer_->batches() : 0; }

 private:
  struct Reader;
  Store(std::string path, SyncMode sync);
  Status Init();
  Status Apply(const std::vector<WriteBatch*>& batches);  // writer thread only
  // Runs `fn` with a pooled read connection; SQLiteCpp exceptions become Unavailable.
  Status WithReader(const std::function<void(Reader&)>& fn);
  std::unique_ptr<Reader> AcquireReader();
  void ReleaseReader(std::unique_ptr<Reader> r);

  const std::string path_;
  const SyncMode sync_;
  std::unique_ptr<SQLite::Database> writer_;  // used by the committer thread only
  struct WriterStatements;
  std::unique_ptr<WriterStatements> ws_;
  std::unique_ptr<GroupCommitter<WriteBatch>> committer_;
  std::string fault_hold_file_;
  std::atomic<bool> closing_{false};
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Reader>> readers_;  // idle read connections, guarded
};

}  // namespace zoomq::broker
