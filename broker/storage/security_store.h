// SqliteStateStore: a standalone broker's security document (docs/security.md) in its own
// SQLite file beside the message store (<data_dir>/security.db), one row, replaced by
// compare-and-set on its version inside an IMMEDIATE transaction, synchronous=FULL (a change
// of who may do what is rare and must survive power loss).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "zoomq/security/state_store.h"

namespace SQLite {
class Database;
}

namespace zoomq::broker {

// Thread-safety: any thread (one connection behind a mutex).
class SqliteStateStore : public zoomq::security::StateStore {
 public:
  static Result<std::unique_ptr<SqliteStateStore>> Open(const std::string& path);
  ~SqliteStateStore() override;

  Result<zoomq::security::StoredState> Load() override;
  Status Save(const std::string& document, int64_t expected_version) override;
  // Only this broker writes the file: its own Saves are all the changes there are.
  void Watch(std::function<void()>) override {}

 private:
  explicit SqliteStateStore(std::unique_ptr<SQLite::Database> db);

  std::mutex mu_;
  std::unique_ptr<SQLite::Database> db_;
};

}  // namespace zoomq::broker
