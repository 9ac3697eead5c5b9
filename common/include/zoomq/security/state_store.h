// Where the SecurityState document lives (docs/security.md): ZooKeeper in a cluster
// (coordinator/), the broker's SQLite store standalone (broker/security/). One document with a
// version; a write names the version it read, so concurrent changes from two brokers never
// lose one another.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "zoomq/common/status.h"

namespace zoomq::security {

struct StoredState {
  std::string document;  // EncodeState(); "" when nothing was ever stored
  int64_t version = -1;  // -1: nothing stored yet
};

// Thread-safety: implementations are called from any thread.
class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual Result<StoredState> Load() = 0;
  // Stores `document` if the stored version is still `expected_version` (-1: nothing stored).
  // STALE_EPOCH when another writer was first (read again and retry).
  virtual Status Save(const std::string& document, int64_t expected_version) = 0;
  // `on_change` runs (on some thread, possibly more often than needed) after the document may
  // have changed; the caller then Load()s. Stores without notifications never call it.
  virtual void Watch(std::function<void()> on_change) = 0;
};

}  // namespace zoomq::security
