#include "zoomq/coordinator/zk_state_store.h"

#include "zoomq/coordinator/zk_status.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::coordinator {

Result<security::StoredState> ZkStateStore::Load() {
  auto watch = [this](const WatchEvent&) { Changed(); };
  auto node = session_->Get(znodes::kSecurityState, watch);
  if (node.ok()) return security::StoredState{node->data, node->stat.version};
  if (!IsNoNode(node.status())) return node.status();
  // Not created yet: watch for its creation (Exists leaves a watch either way).
  auto exists = session_->Exists(znodes::kSecurityState, watch);
  if (!exists.ok()) return exists.status();
  if (exists.value()) return Status::Unavailable("the security document changed while read");
  return security::StoredState{};
}

Status ZkStateStore::Save(const std::string& document, int64_t expected_version) {
  if (expected_version < 0) {
    ZOOMQ_RETURN_IF_ERROR(session_->EnsurePath(znodes::kSecurityRoot));
    auto created = session_->Create(znodes::kSecurityState, document, CreateMode::kPersistent);
    if (created.ok()) return Status::Ok();
    if (IsNodeExists(created.status())) {
      return Status(Code::kStaleEpoch, "the security document was created meanwhile");
    }
    return created.status();
  }
  auto set =
      session_->Set(znodes::kSecurityState, document, static_cast<int32_t>(expected_version));
  if (set.ok()) return Status::Ok();
  if (IsBadVersion(set.status())) {
    return Status(Code::kStaleEpoch, "the security document changed meanwhile");
  }
  return set.status();
}

void ZkStateStore::Watch(std::function<void()> on_change) {
  std::lock_guard<std::mutex> lock(mu_);
  on_change_ = std::move(on_change);
}

void ZkStateStore::Changed() {
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn = on_change_;
  }
  if (fn) fn();
}

}  // namespace zoomq::coordinator
