#include "broker/storage/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <SQLiteCpp/VariadicBind.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "zoomq/common/json_get.h"

namespace zoomq::broker {

namespace {

// Binds `args` to the statement's parameters 1..n (SQLiteCpp's variadic bind) and runs it.
template <typename... Args>
void Run(SQLite::Statement& q, const Args&... args) {
  q.reset();
  SQLite::bind(q, args...);
  q.exec();
}

// Prepares `sql`, binds `args` and runs it once.
template <typename... Args>
void RunOnce(SQLite::Database& db, const std::string& sql, const Args&... args) {
  SQLite::Statement q(db, sql);
  SQLite::bind(q, args...);
  q.exec();
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS topics(
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, config TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS partitions(
  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, first_offset INTEGER NOT NULL,
  PRIMARY KEY(topic_id, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS messages(
  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
  epoch INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL, key TEXT, key_hash INTEGER NOT NULL,
  value BLOB NOT NULL, value_is_bytes INTEGER NOT NULL, headers TEXT, msg_id TEXT,
  bytes INTEGER NOT NULL,
  PRIMARY KEY(topic_id, partition, offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS groups(
  topic_id INTEGER NOT NULL, name TEXT NOT NULL, created_ms INTEGER NOT NULL,
  PRIMARY KEY(topic_id, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_partitions(
  topic_id INTEGER NOT NULL, group_name TEXT NOT NULL, partition INTEGER NOT NULL,
  floor INTEGER NOT NULL, acked_total INTEGER NOT NULL, dead_total INTEGER NOT NULL,
  PRIMARY KEY(topic_id, group_name, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_log(
  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, seq INTEGER NOT NULL,
  epoch INTEGER NOT NULL, ops TEXT NOT NULL,
  PRIMARY KEY(topic_id, partition, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_applied(
  topic_id INTEGER NOT NULL, partition INTEGER NOT NULL, applied INTEGER NOT NULL,
  PRIMARY KEY(topic_id, partition)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS group_messages(
  topic_id INTEGER NOT NULL, group_name TEXT NOT NULL, partition INTEGER NOT NULL,
  offset INTEGER NOT NULL, state INTEGER NOT NULL, deliveries INTEGER NOT NULL,
  PRIMARY KEY(topic_id, group_name, partition, offset)) WITHOUT ROWID;
)sql";

constexpr const char* kSelectMessage =
    "SELECT offset, epoch, timestamp_ms, key, key_hash, value, value_is_bytes, headers, msg_id, "
    "bytes FROM messages ";

void ReadRow(SQLite::Statement& q, int64_t topic_id, int32_t partition, bool with_value,
             StoredMessage* m) {
  m->topic_id = topic_id;
  m->partition = partition;
  m->offset = static_cast<uint64_t>(q.getColumn(0).getInt64());
  m->epoch = q.getColumn(1).getInt64();
  m->timestamp_ms = q.getColumn(2).getInt64();
  if (q.getColumn(3).isNull()) {
    m->key.reset();
  } else {
    m->key = q.getColumn(3).getString();
  }
  m->key_hash = static_cast<uint64_t>(q.getColumn(4).getInt64());
  if (with_value) {
    auto v = q.getColumn(5);
    m->value.assign(static_cast<const char*>(v.getBlob()), v.getBytes());
  }
  m->value_is_bytes = q.getColumn(6).getInt() != 0;
  if (q.getColumn(7).isNull()) {
    m->headers_json.reset();
  } else {
    m->headers_json = q.getColumn(7).getString();
  }
  if (q.getColumn(8).isNull()) {
    m->id.reset();
  } else {
    m->id = q.getColumn(8).getString();
  }
  m->bytes = static_cast<uint32_t>(q.getColumn(9).getInt64());
}

}  // namespace

struct Store::Reader {
  explicit Reader(const std::string& path)
      : db(path, SQLite::OPEN_READONLY, 5000),
        range(db, std::string(kSelectMessage) +
                      "WHERE topic_id=? AND partition=? AND offset>=? AND offset<? "
                      "ORDER BY offset LIMIT ?"),
        point(db, std::string(kSelectMessage) + "WHERE topic_id=? AND partition=? AND offset=?") {}
  SQLite::Database db;
  SQLite::Statement range;
  SQLite::Statement point;
};

struct Store::WriterStatements {
  explicit WriterStatements(SQLite::Database& db)
      : append(db,
               "INSERT OR REPLACE INTO messages(topic_id, partition, offset, epoch, timestamp_ms, "
               "key, key_hash, value, value_is_bytes, headers, msg_id, bytes) "
               "VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"),
        // Group state only moves towards "done": a row that is acked or dead stays so, and a
        // floor only moves up. A follower applies group log entries when it appends them, and
        // an entry it later cuts (a deposed leader's) must not undo acks of the log it then
        // follows: a cut floor op deleted rows below it, a later lower floor would bring those
        // offsets back as never delivered (chaos seed 917318).
        group_message(db,
                      "INSERT INTO group_messages(topic_id, group_name, partition, offset, "
                      "state, deliveries) VALUES(?,?,?,?,?,?) "
                      "ON CONFLICT(topic_id, group_name, partition, offset) DO UPDATE SET "
                      "state=CASE WHEN state<>0 THEN state ELSE excluded.state END, "
                      "deliveries=MAX(deliveries, excluded.deliveries)"),
        group_floor(db,
                    "INSERT INTO group_partitions(topic_id, group_name, partition, floor, "
                    "acked_total, dead_total) VALUES(?,?,?,?,?,?) "
                    "ON CONFLICT(topic_id, group_name, partition) DO UPDATE SET "
                    "floor=MAX(floor, excluded.floor), "
                    "acked_total=MAX(acked_total, excluded.acked_total), "
                    "dead_total=MAX(dead_total, excluded.dead_total)"),
        group_forget(db,
                     "DELETE FROM group_messages WHERE topic_id=? AND group_name=? AND "
                     "partition=? AND offset<?") {}
  SQLite::Statement append;
  SQLite::Statement group_message;
  SQLite::Statement group_floor;
  SQLite::Statement group_forget;
};

Store::Store(std::string path, SyncMode sync) : path_(std::move(path)), sync_(sync) {}

Store::~Store() { Close(); }

Result<std::unique_ptr<Store>> Store::Open(const std::string& data_dir, SyncMode sync) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::Internal("cannot create data dir " + data_dir + ": " + ec.message());
  std::unique_ptr<Store> store(new Store(data_dir + "/zoomq.db", sync));
  ZOOMQ_RETURN_IF_ERROR(store->Init());
  return store;
}

Status Store::Init() {
  try {
    writer_ = std::make_unique<SQLite::Database>(
        path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 5000);
    writer_->exec("PRAGMA journal_mode=WAL");
    writer_->exec(sync_ == SyncMode::kFull ? "PRAGMA synchronous=FULL"
                                           : "PRAGMA synchronous=NORMAL");
    writer_->exec("PRAGMA foreign_keys=OFF");
    const bool had_applied = writer_->tableExists("group_applied");
    const bool had_group_log = writer_->tableExists("group_log");
    writer_->exec(kSchema);
    if (had_group_log && !had_applied) {
      // A store from before the applied position was recorded applied every group log
      // entry as it was appended.
      writer_->exec(
          "INSERT OR IGNORE INTO group_applied(topic_id, partition, applied) "
          "SELECT topic_id, partition, MAX(seq) + 1 FROM group_log GROUP BY topic_id, partition");
    }
    ws_ = std::make_unique<WriterStatements>(*writer_);
  } catch (const std::exception& e) {
    return Status::Internal("cannot open " + path_ + ": " + e.what());
  }
  // Large enough that one round holds many requests, small enough to bound a transaction.
  committer_ = std::make_unique<GroupCommitter<WriteBatch>>(
      [this](const std::vector<WriteBatch*>& b) { return Apply(b); }, 512);
  return Status::Ok();
}

void Store::Close() {
  closing_ = true;
  if (committer_) committer_->Stop();
  std::lock_guard<std::mutex> lock(readers_mu_);
  readers_.clear();
}

void Store::Submit(WriteBatch batch, std::function<void(const Status&)> done) {
  committer_->Submit(std::move(batch), std::move(done));
}

Status Store::Write(WriteBatch batch) {
  std::promise<Status> p;
  auto f = p.get_future();
  Submit(std::move(batch), [&p](const Status& st) { p.set_value(st); });
  return f.get();
}

namespace {

template <typename... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void Bind(SQLite::Statement& q, int i, const std::optional<std::string>& s) {
  if (s) {
    q.bind(i, *s);
  } else {
    q.bind(i);  // NULL
  }
}

}  // namespace

Status Store::Apply(const std::vector<WriteBatch*>& batches) {
  // Fault hook (tests only): the commit "hangs" while the file exists. Polling is the hook's
  // own mechanism; nothing waits on it for synchronization.
  while (!fault_hold_file_.empty() && !closing_ && std::filesystem::exists(fault_hold_file_)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  SQLite::Database& db = *writer_;
  WriterStatements& ws = *ws_;
  try {
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    for (WriteBatch* batch : batches) {
      for (const WriteOp& op : batch->ops) {
        std::visit(
            Overloaded{
                [&](const OpPutTopic& o) {
                  RunOnce(db,
                          "INSERT OR REPLACE INTO topics(id, name, config, created_ms) "
                          "VALUES(?,?,?,?)",
                          o.topic_id, o.name, o.config_json, o.created_ms);
                  for (int32_t p = 0; p < o.partitions; ++p) {
                    RunOnce(db,
                            "INSERT OR IGNORE INTO partitions(topic_id, partition, first_offset) "
                            "VALUES(?,?,0)",
                            o.topic_id, p);
                  }
                },
                [&](const OpDeleteTopic& o) {
                  for (const char* table : {"topics WHERE id=?", "partitions WHERE topic_id=?",
                                            "messages WHERE topic_id=?", "groups WHERE topic_id=?",
                                            "group_partitions WHERE topic_id=?",
                                            "group_messages WHERE topic_id=?",
                                            "group_log WHERE topic_id=?",
                                            "group_applied WHERE topic_id=?"}) {
                    RunOnce(db, std::string("DELETE FROM ") + table, o.topic_id);
                  }
                },
                [&](const OpAppend& o) {
                  const StoredMessage& m = o.message;
                  auto& q = ws.append;
                  q.reset();
                  q.bind(1, m.topic_id);
                  q.bind(2, m.partition);
                  q.bind(3, static_cast<int64_t>(m.offset));
                  q.bind(4, m.epoch);
                  q.bind(5, m.timestamp_ms);
                  Bind(q, 6, m.key);
                  q.bind(7, static_cast<int64_t>(m.key_hash));
                  q.bindNoCopy(8, static_cast<const void*>(m.value.data()),
                               static_cast<int>(m.value.size()));
                  q.bind(9, m.value_is_bytes ? 1 : 0);
                  Bind(q, 10, m.headers_json);
                  Bind(q, 11, m.id);
                  q.bind(12, static_cast<int64_t>(m.bytes));
                  q.exec();
                },
                [&](const OpTruncateHead& o) {
                  RunOnce(db, "DELETE FROM messages WHERE topic_id=? AND partition=? AND offset<?",
                          o.topic_id, o.partition, static_cast<int64_t>(o.first_offset));
                  RunOnce(db,
                          "UPDATE partitions SET first_offset=max(first_offset, ?) "
                          "WHERE topic_id=? AND partition=?",
                          static_cast<int64_t>(o.first_offset), o.topic_id, o.partition);
                },
                [&](const OpTruncateTail& o) {
                  RunOnce(db, "DELETE FROM messages WHERE topic_id=? AND partition=? AND offset>=?",
                          o.topic_id, o.partition, static_cast<int64_t>(o.end));
                },
                [&](const OpPutGroup& o) {
                  RunOnce(db, "INSERT OR IGNORE INTO groups(topic_id, name, created_ms) VALUES(?,?,?)",
                          o.topic_id, o.group, o.created_ms);
                  for (size_t p = 0; p < o.floors.size(); ++p) {
                    RunOnce(db,
                            "INSERT OR IGNORE INTO group_partitions(topic_id, group_name, "
                            "partition, floor, acked_total, dead_total) VALUES(?,?,?,?,0,0)",
                            o.topic_id, o.group, static_cast<int32_t>(p) + o.first_partition,
                            static_cast<int64_t>(o.floors[p]));
                  }
                },
                [&](const OpGroupMessage& o) {
                  Run(ws.group_message, o.topic_id, o.group, o.partition,
                      static_cast<int64_t>(o.offset), o.state, static_cast<int64_t>(o.deliveries));
                },
                [&](const OpGroupLog& o) {
                  RunOnce(db,
                          "INSERT OR REPLACE INTO group_log(topic_id, partition, seq, epoch, ops) "
                          "VALUES(?,?,?,?,?)",
                          o.topic_id, o.partition, static_cast<int64_t>(o.seq), o.epoch, o.ops);
                },
                [&](const OpTruncateGroupLog& o) {
                  RunOnce(db, "DELETE FROM group_log WHERE topic_id=? AND partition=? AND seq>=?",
                          o.topic_id, o.partition, static_cast<int64_t>(o.end));
                },
                [&](const OpGroupApplied& o) {
                  RunOnce(db,
                          "INSERT INTO group_applied(topic_id, partition, applied) VALUES(?,?,?) "
                          "ON CONFLICT(topic_id, partition) DO UPDATE SET "
                          "applied=MAX(applied, excluded.applied)",
                          o.topic_id, o.partition, static_cast<int64_t>(o.applied));
                },
                [&](const OpGroupFloor& o) {
                  Run(ws.group_floor, o.topic_id, o.group, o.partition,
                      static_cast<int64_t>(o.floor), static_cast<int64_t>(o.acked_total),
                      static_cast<int64_t>(o.dead_total));
                  Run(ws.group_forget, o.topic_id, o.group, o.partition,
                      static_cast<int64_t>(o.floor));
                },
            },
            op);
      }
    }
    tx.commit();
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("storage write failed: ") + e.what());
  }
  return Status::Ok();
}

Status Store::WithReader(const std::function<void(Reader&)>& fn) {
  try {
    auto r = AcquireReader();
    fn(*r);
    ReleaseReader(std::move(r));  // not reached after an exception: that connection is dropped
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("storage read failed: ") + e.what());
  }
  return Status::Ok();
}

std::unique_ptr<Store::Reader> Store::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mu_);
    if (!readers_.empty()) {
      auto r = std::move(readers_.back());
      readers_.pop_back();
      return r;
    }
  }
  return std::make_unique<Reader>(path_);
}

void Store::ReleaseReader(std::unique_ptr<Reader> r) {
  std::lock_guard<std::mutex> lock(readers_mu_);
  if (readers_.size() < 32) readers_.push_back(std::move(r));
}

Status Store::ReadRange(int64_t topic_id, int32_t partition, uint64_t from, uint64_t end,
                        size_t max, std::vector<StoredMessage>* out) {
  return WithReader([&](Reader& r) {
    auto& q = r.range;
    q.reset();
    q.bind(1, topic_id);
    q.bind(2, partition);
    q.bind(3, static_cast<int64_t>(from));
    q.bind(4, static_cast<int64_t>(end));
    q.bind(5, static_cast<int64_t>(max));
    while (q.executeStep()) {
      out->emplace_back();
      ReadRow(q, topic_id, partition, true, &out->back());
    }
    q.reset();
  });
}

Status Store::ReadOffsets(int64_t topic_id, int32_t partition,
                          const std::vector<uint64_t>& offsets, std::vector<StoredMessage>* out) {
  return WithReader([&](Reader& r) {
    auto& q = r.point;
    for (uint64_t offset : offsets) {
      q.reset();
      q.bind(1, topic_id);
      q.bind(2, partition);
      q.bind(3, static_cast<int64_t>(offset));
      if (q.executeStep()) {
        out->emplace_back();
        ReadRow(q, topic_id, partition, true, &out->back());
      }
    }
    q.reset();
  });
}

Status Store::LoadTopics(std::vector<LoadedTopic>* out) {
  try {
    SQLite::Database db(path_, SQLite::OPEN_READONLY, 5000);
    SQLite::Statement q(db, "SELECT id, name, config, created_ms FROM topics ORDER BY id");
    while (q.executeStep()) {
      LoadedTopic t;
      t.topic_id = q.getColumn(0).getInt64();
      t.name = q.getColumn(1).getString();
      t.config_json = q.getColumn(2).getString();
      t.created_ms = q.getColumn(3).getInt64();
      SQLite::Statement p(
          db, "SELECT first_offset FROM partitions WHERE topic_id=? ORDER BY partition");
      p.bind(1, t.topic_id);
      while (p.executeStep()) t.first_offsets.push_back(p.getColumn(0).getInt64());
      out->push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot load topics: ") + e.what());
  }
  return Status::Ok();
}

Status Store::ScanPartition(int64_t topic_id, int32_t partition,
                            const std::function<void(const StoredMessage&)>& fn) {
  try {
    SQLite::Database db(path_, SQLite::OPEN_READONLY, 5000);
    SQLite::Statement q(db, std::string(kSelectMessage) +
                                "WHERE topic_id=? AND partition=? ORDER BY offset");
    q.bind(1, topic_id);
    q.bind(2, partition);
    StoredMessage m;
    while (q.executeStep()) {
      ReadRow(q, topic_id, partition, false, &m);
      fn(m);
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot scan partition: ") + e.what());
  }
  return Status::Ok();
}

Status Store::LoadGroups(int64_t topic_id, int32_t partitions, std::vector<LoadedGroup>* out) {
  try {
    SQLite::Database db(path_, SQLite::OPEN_READONLY, 5000);
    // One snapshot: a commit between reading a floor and its rows would pair an old floor
    // with rows already forgotten below a newer one (ended by the destructor's rollback).
    SQLite::Transaction snapshot(db);
    SQLite::Statement q(db, "SELECT name, created_ms FROM groups WHERE topic_id=? ORDER BY name");
    q.bind(1, topic_id);
    while (q.executeStep()) {
      LoadedGroup g;
      g.topic_id = topic_id;
      g.name = q.getColumn(0).getString();
      g.created_ms = q.getColumn(1).getInt64();
      g.partitions.resize(partitions);
      SQLite::Statement f(db,
                          "SELECT partition, floor, acked_total, dead_total FROM group_partitions "
                          "WHERE topic_id=? AND group_name=?");
      f.bind(1, topic_id);
      f.bind(2, g.name);
      while (f.executeStep()) {
        int p = f.getColumn(0).getInt();
        if (p < 0 || p >= partitions) continue;
        g.partitions[p].has_floor = true;
        g.partitions[p].floor = f.getColumn(1).getInt64();
        g.partitions[p].acked_total = f.getColumn(2).getInt64();
        g.partitions[p].dead_total = f.getColumn(3).getInt64();
      }
      SQLite::Statement m(db,
                          "SELECT partition, offset, state, deliveries FROM group_messages "
                          "WHERE topic_id=? AND group_name=? ORDER BY partition, offset");
      m.bind(1, topic_id);
      m.bind(2, g.name);
      while (m.executeStep()) {
        int p = m.getColumn(0).getInt();
        if (p < 0 || p >= partitions) continue;
        uint64_t offset = m.getColumn(1).getInt64();
        g.partitions[p].rows_state.emplace_back(offset, m.getColumn(2).getInt());
        g.partitions[p].rows_deliveries.emplace_back(offset, m.getColumn(3).getInt64());
      }
      out->push_back(std::move(g));
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot load groups: ") + e.what());
  }
  return Status::Ok();
}

Status Store::GroupLogEpochs(int64_t topic_id, int32_t partition,
                             std::vector<std::pair<int64_t, uint64_t>>* epochs, uint64_t* end) {
  return WithReader([&](Reader& r) {
    SQLite::Statement q(r.db,
                        "SELECT epoch, MIN(seq), MAX(seq) FROM group_log WHERE topic_id=? AND "
                        "partition=? GROUP BY epoch ORDER BY epoch");
    q.bind(1, topic_id);
    q.bind(2, partition);
    *end = 0;
    while (q.executeStep()) {
      epochs->emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getInt64());
      *end = std::max<uint64_t>(*end, q.getColumn(2).getInt64() + 1);
    }
    q.reset();
  });
}

Result<uint64_t> Store::GroupApplied(int64_t topic_id, int32_t partition) {
  uint64_t applied = 0;
  Status st = WithReader([&](Reader& r) {
    SQLite::Statement q(r.db,
                        "SELECT applied FROM group_applied WHERE topic_id=? AND partition=?");
    SQLite::bind(q, topic_id, partition);
    if (q.executeStep()) applied = static_cast<uint64_t>(q.getColumn(0).getInt64());
  });
  if (!st.ok()) return st;
  return applied;
}

void ApplyGroupOps(const std::vector<WriteOp>& ops, int32_t partitions,
                   std::vector<LoadedGroup>* groups) {
  auto find = [&](const std::string& name) -> LoadedGroup* {
    for (LoadedGroup& g : *groups) {
      if (g.name == name) return &g;
    }
    return nullptr;
  };
  auto part = [&](const std::string& name, int32_t p) -> LoadedGroupPartition* {
    LoadedGroup* g = find(name);
    if (g == nullptr || p < 0 || p >= partitions) return nullptr;
    return &g->partitions[p];
  };
  // Rows stay sorted by offset (as LoadGroups reads them).
  auto upsert = [](LoadedGroupPartition* lp, uint64_t offset, int32_t state,
                   uint32_t deliveries) {
    auto& rs = lp->rows_state;
    auto& rd = lp->rows_deliveries;
    auto it = std::lower_bound(rs.begin(), rs.end(), std::make_pair(offset, INT32_MIN));
    const size_t i = static_cast<size_t>(it - rs.begin());
    if (it != rs.end() && it->first == offset) {
      if (rs[i].second == 0) rs[i].second = state;
      rd[i].second = std::max(rd[i].second, deliveries);
      return;
    }
    rs.insert(it, {offset, state});
    rd.insert(rd.begin() + static_cast<std::ptrdiff_t>(i), {offset, deliveries});
  };
  for (const WriteOp& op : ops) {
    if (const auto* o = std::get_if<OpPutGroup>(&op)) {
      // INSERT OR IGNORE of the group and of each partition's floor row.
      LoadedGroup* g = find(o->group);
      if (g == nullptr) {
        groups->push_back(LoadedGroup{o->topic_id, o->group, o->created_ms, {}});
        g = &groups->back();
        g->partitions.resize(partitions);
      }
      for (size_t i = 0; i < o->floors.size(); ++i) {
        const int32_t p = static_cast<int32_t>(i) + o->first_partition;
        if (p < 0 || p >= partitions || g->partitions[p].has_floor) continue;
        g->partitions[p].has_floor = true;
        g->partitions[p].floor = o->floors[i];
      }
    } else if (const auto* o = std::get_if<OpGroupMessage>(&op)) {
      if (LoadedGroupPartition* lp = part(o->group, o->partition)) {
        upsert(lp, o->offset, o->state, o->deliveries);
      }
    } else if (const auto* o = std::get_if<OpGroupFloor>(&op)) {
      if (LoadedGroupPartition* lp = part(o->group, o->partition)) {
        lp->has_floor = true;
        lp->floor = std::max(lp->floor, o->floor);
        lp->acked_total = std::max(lp->acked_total, o->acked_total);
        lp->dead_total = std::max(lp->dead_total, o->dead_total);
        size_t keep = 0;
        while (keep < lp->rows_state.size() && lp->rows_state[keep].first < o->floor) ++keep;
        lp->rows_state.erase(lp->rows_state.begin(),
                             lp->rows_state.begin() + static_cast<std::ptrdiff_t>(keep));
        lp->rows_deliveries.erase(
            lp->rows_deliveries.begin(),
            lp->rows_deliveries.begin() + static_cast<std::ptrdiff_t>(keep));
      }
    }
  }
}

Status Store::ReadGroupLog(int64_t topic_id, int32_t partition, uint64_t from, uint64_t end,
                           size_t max, std::vector<GroupLogEntry>* out) {
  return WithReader([&](Reader& r) {
    SQLite::Statement q(r.db,
                        "SELECT seq, epoch, ops FROM group_log WHERE topic_id=? AND partition=? "
                        "AND seq>=? AND seq<? ORDER BY seq LIMIT ?");
    q.bind(1, topic_id);
    q.bind(2, partition);
    q.bind(3, static_cast<int64_t>(from));
    q.bind(4, static_cast<int64_t>(end));
    q.bind(5, static_cast<int64_t>(max));
    while (q.executeStep()) {
      out->push_back({static_cast<uint64_t>(q.getColumn(0).getInt64()), q.getColumn(1).getInt64(),
                      q.getColumn(2).getString()});
    }
    q.reset();
  });
}

std::string EncodeGroupOps(const std::vector<WriteOp>& ops) {
  nlohmann::json list = nlohmann::json::array();
  for (const WriteOp& op : ops) {
    if (auto* g = std::get_if<OpPutGroup>(&op)) {
      list.push_back({{"k", "put"}, {"g", g->group}, {"c", g->created_ms},
                      {"f", g->floors.empty() ? 0 : g->floors.front()}});
    } else if (auto* m = std::get_if<OpGroupMessage>(&op)) {
      list.push_back({{"k", "msg"}, {"g", m->group}, {"o", m->offset}, {"s", m->state},
                      {"d", m->deliveries}});
    } else if (auto* f = std::get_if<OpGroupFloor>(&op)) {
      list.push_back({{"k", "floor"}, {"g", f->group}, {"f", f->floor}, {"a", f->acked_total},
                      {"x", f->dead_total}});
    }
  }
  return list.dump();
}

Result<std::vector<WriteOp>> DecodeGroupOps(const std::string& text, int64_t topic_id,
                                            int32_t partition) {
  auto list = nlohmann::json::parse(text, nullptr, false);
  if (list.is_discarded() || !list.is_array()) return Status::Internal("corrupt group log entry");
  std::vector<WriteOp> ops;
  try {
    for (const auto& e : list) {
      std::string k = e.at("k").get<std::string>();
      std::string g = e.at("g").get<std::string>();
      if (k == "put") {
        ops.push_back(OpPutGroup{topic_id, g, JsonIntAt<int64_t>(e, "c"),
                                 {JsonIntAt<uint64_t>(e, "f")}, partition});
      } else if (k == "msg") {
        ops.push_back(OpGroupMessage{topic_id, g, partition, JsonIntAt<uint64_t>(e, "o"),
                                     JsonIntAt<int32_t>(e, "s"), JsonIntAt<uint32_t>(e, "d")});
      } else if (k == "floor") {
        ops.push_back(OpGroupFloor{topic_id, g, partition, JsonIntAt<uint64_t>(e, "f"),
                                   JsonIntAt<uint64_t>(e, "a"), JsonIntAt<uint64_t>(e, "x")});
      }
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("corrupt group log entry: ") + e.what());
  }
  return ops;
}

int64_t Store::MaxTopicId() {
  try {
    SQLite::Database db(path_, SQLite::OPEN_READONLY, 5000);
    SQLite::Statement q(db, "SELECT COALESCE(MAX(id), 0) FROM topics");
    if (q.executeStep()) return q.getColumn(0).getInt64();
  } catch (const std::exception&) {
  }
  return 0;
}

}  // namespace zoomq::broker
