// ZkStateStore: the cluster's security document (docs/security.md) in one znode,
// znodes::kSecurityState, written by compare-and-set on the znode's version. Every Load() arms
// a watch, so a change made through any broker reaches the others at once; the SecurityManager
// also re-reads on a timer, which covers watches lost with an expired session.
#pragma once

#include <functional>
#include <mutex>

#include "zoomq/coordinator/zk_session.h"
#include "zoomq/security/state_store.h"

namespace zoomq::coordinator {

// Thread-safety: any thread. `session` must outlive the store.
class ZkStateStore : public security::StateStore {
 public:
  explicit ZkStateStore(ZkSession* session) : session_(session) {}

  Result<security::StoredState> Load() override;
  Status Save(const std::string& document, int64_t expected_version) override;
  void Watch(std::function<void()> on_change) override;

 private:
  void Changed();

  ZkSession* const session_;
  std::mutex mu_;
  std::function<void()> on_change_;  // guarded by mu_
};

}  // namespace zoomq::coordinator
