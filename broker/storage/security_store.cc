#include "broker/storage/security_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

namespace zoomq::broker {

SqliteStateStore::SqliteStateStore(std::unique_ptr<SQLite::Database> db) : db_(std::move(db)) {}
SqliteStateStore::~SqliteStateStore() = default;

Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::Open(const std::string& path) {
  try {
    auto db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
                                                 5000);
    db->exec("PRAGMA journal_mode=WAL");
    db->exec("PRAGMA synchronous=FULL");
    db->exec(
        "CREATE TABLE IF NOT EXISTS security(id INTEGER PRIMARY KEY CHECK(id = 1), "
        "version INTEGER NOT NULL, document TEXT NOT NULL)");
    return std::unique_ptr<SqliteStateStore>(new SqliteStateStore(std::move(db)));
  } catch (const std::exception& e) {
    return Status::Unavailable("cannot open " + path + ": " + e.what());
  }
}

Result<zoomq::security::StoredState> SqliteStateStore::Load() {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Statement q(*db_, "SELECT document, version FROM security WHERE id = 1");
    if (!q.executeStep()) return zoomq::security::StoredState{};
    return zoomq::security::StoredState{q.getColumn(0).getString(), q.getColumn(1).getInt64()};
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("cannot read the security document: ") + e.what());
  }
}

Status SqliteStateStore::Save(const std::string& document, int64_t expected_version) {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    int64_t current = -1;
    {
      SQLite::Statement q(*db_, "SELECT version FROM security WHERE id = 1");
      if (q.executeStep()) current = q.getColumn(0).getInt64();
    }
    if (current != expected_version) {
      return Status(Code::kStaleEpoch, "the security document changed meanwhile");
    }
    SQLite::Statement put(*db_,
                          "INSERT OR REPLACE INTO security(id, version, document) VALUES(1,?,?)");
    put.bind(1, current + 1);
    put.bind(2, document);
    put.exec();
    tx.commit();
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("cannot write the security document: ") + e.what());
  }
}

}  // namespace zoomq::broker
