#include "zoomq/coordinator/membership.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>

#include "zoomq/common/json_get.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::coordinator {

using Json = nlohmann::json;

std::string EncodeBrokerInfo(const BrokerInfo& info) {
  Json j = {{"id", info.id}, {"url", info.url}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<BrokerInfo> ParseBrokerInfo(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Invalid("broker info is not a JSON object");
  }
  auto id = j.find("id");
  auto url = j.find("url");
  int32_t id_value = 0;
  if (id == j.end() || !JsonIntegerOf(*id, &id_value)) {
    return Status::Invalid("broker info: no integer id");
  }
  if (url == j.end() || !url->is_string()) return Status::Invalid("broker info: no string url");
  BrokerInfo info;
  info.id = id_value;
  info.url = url->get<std::string>();
  return info;
}

namespace {
// Same brokers, same URLs and same registrations (a reclaimed node has the same id and URL).
bool SameIncarnations(const std::vector<BrokerInfo>& a, const std::vector<BrokerInfo>& b) {
  if (a != b) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].incarnation != b[i].incarnation) return false;
  }
  return true;
}
}  // namespace

// All methods run on the coordinator thread, except where noted. Callbacks hold a shared_ptr,
// so a Core outlives every callback queued for it; `stopped` turns them into no-ops.
struct Membership::Core : std::enable_shared_from_this<Membership::Core> {
  Core(ZkSession* s, BrokerInfo b, ChangeFn fn)
      : session(s),
        self(std::move(b)),
        ids_path(znodes::kBrokerIds),
        path(znodes::BrokerIdPath(self.id)),
        data(EncodeBrokerInfo(self)),
        on_change(std::move(fn)) {}

  // Constant after construction.
  ZkSession* const session;
  const BrokerInfo self;
  const std::string ids_path;
  const std::string path;
  const std::string data;
  const ChangeFn on_change;

  // Coordinator thread only.
  bool stopped = false;
  bool watch_armed = false;  // a children watch of this session is pending
  bool reported_once = false;
  bool reclaim_done = false;  // a stale node with our URL is reclaimed before the first
                              // registration only
  std::vector<BrokerInfo> last_reported;
  std::string conflict;  // why registration is waiting ("" if it is not)

  // Read by other threads. Guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  bool registered = false;
  int64_t incarnation = 0;  // czxid of our node while registered
  std::vector<BrokerInfo> live;

  // `czxid`: our node's when registering; 0 leaves the known one (or reads it later).
  void SetRegistered(bool value, int64_t czxid = 0) {
    std::lock_guard<std::mutex> lock(mu);
    registered = value;
    if (!value) incarnation = 0;
    if (czxid != 0) incarnation = czxid;
    cv.notify_all();
  }
  // The czxid of our node if this session owns it (0 if it cannot be read now: Refresh
  // fills it in).
  int64_t OwnCzxid() {
    auto st = session->Exists(path);
    if (st.ok() && st->has_value() && (*st)->ephemeral_owner == session->session_id()) {
      return (*st)->czxid;
    }
    return 0;
  }
  bool IsRegistered() const {
    std::lock_guard<std::mutex> lock(mu);
    return registered;
  }

  // Retries `fn` soon if the session is connected; otherwise the next kConnected does it.
  void RetryLater(void (Core::*fn)()) {
    if (stopped || session->state() != SessionState::kConnected) return;
    auto me = shared_from_this();
    session->PostAfter(200, [me, fn] { ((*me).*fn)(); });
  }

  void Register() {
    if (stopped || IsRegistered()) return;
    Status st = session->EnsurePath(ids_path);
    if (!st.ok()) return RetryLater(&Core::Register);
    auto created = session->Create(path, data, CreateMode::kEphemeral);
    if (created.ok()) {
      conflict.clear();
      reclaim_done = true;
      SetRegistered(true, OwnCzxid());
      return;
    }
    if (!IsNodeExists(created.status())) return RetryLater(&Core::Register);

    auto me = shared_from_this();
    auto old = session->Get(path);
    if (!old.ok()) {
      if (IsNoNode(old.status())) {
        session->Post([me] { me->Register(); });  // just vanished
      } else {
        RetryLater(&Core::Register);
      }
      return;
    }
    if (old->stat.ephemeral_owner == session->session_id()) {  // ours (a lost reply)
      conflict.clear();
      SetRegistered(true, old->stat.czxid);
      return;
    }
    auto info = ParseBrokerInfo(old->data);
    if (!reclaim_done && info.ok() && info->url == self.url) {
      // A previous incarnation of this broker: we hold its URL's port, so it is gone. Delete
      // and create in one multi: no gap in which anyone else could take the id, and the
      // version check spares a node re-created meanwhile. Only before our first
      // registration: a node with our URL that appears after it belongs to a newer
      // incarnation, and taking turns deleting each other's node would never end.
      reclaim_done = true;
      Status st = session->Multi({ZkOp::Delete(path, old->stat.version),
                                  ZkOp::Create(path, data, CreateMode::kEphemeral)});
      if (st.ok()) {
        conflict.clear();
        SetRegistered(true, OwnCzxid());
      } else if (IsNoNode(st) || IsBadVersion(st)) {
        reclaim_done = false;  // it changed under us: look again
        session->Post([me] { me->Register(); });
      } else {
        reclaim_done = false;
        RetryLater(&Core::Register);
      }
      return;
    }
    // Someone else holds the id: wait for its session to end.
    conflict = "node " + path + " is held by session " + std::to_string(old->stat.ephemeral_owner) +
               " (" + old->data + ")";
    auto exists = session->Exists(path, [me](const WatchEvent&) { me->Register(); });
    if (exists.ok() && !exists->has_value()) {
      session->Post([me] { me->Register(); });
    } else if (!exists.ok()) {
      RetryLater(&Core::Register);
    }
  }

  void Refresh() {
    if (stopped) return;
    auto me = shared_from_this();
    WatchFn watch;
    if (!watch_armed) {
      watch = [me](const WatchEvent&) {
        me->watch_armed = false;
        me->Refresh();
      };
    }
    auto children = session->GetChildren(ids_path, watch);
    if (!children.ok()) {
      if (IsNoNode(children.status()) && session->EnsurePath(ids_path).ok()) {
        session->Post([me] { me->Refresh(); });
      } else {
        RetryLater(&Core::Refresh);
      }
      return;
    }
    if (watch) watch_armed = true;

    std::vector<BrokerInfo> list;
    bool self_listed = false;
    for (const auto& child : *children) {
      auto node = session->Get(JoinPath(ids_path, child));
      if (!node.ok()) continue;  // gone since the listing (the watch reports it)
      auto info = ParseBrokerInfo(node->data);
      if (!info.ok()) continue;  // not written by zoomq
      info->incarnation = node->stat.czxid;
      if (info->id == self.id && node->stat.ephemeral_owner == session->session_id()) {
        self_listed = true;
        std::lock_guard<std::mutex> lock(mu);
        if (registered) incarnation = node->stat.czxid;
      }
      list.push_back(std::move(*info));
    }
    std::sort(list.begin(), list.end(),
              [](const BrokerInfo& a, const BrokerInfo& b) { return a.id < b.id; });
    {
      std::lock_guard<std::mutex> lock(mu);
      live = list;
    }
    // Our node was deleted under us (not by expiry: that is handled by the listener).
    if (IsRegistered() && !self_listed) {
      SetRegistered(false);
      session->Post([me] { me->Register(); });
    }
    if (!reported_once || !SameIncarnations(list, last_reported)) {
      reported_once = true;
      last_reported = list;
      if (on_change) on_change(list);
    }
  }

  void OnSession(const SessionEvent& e) {
    if (stopped) return;
    switch (e.state) {
      case SessionState::kConnected:
        if (e.new_session) {
          SetRegistered(false);
          watch_armed = false;
        }
        Register();
        Refresh();
        break;
      case SessionState::kExpired:
      case SessionState::kClosed:
        // The session's ephemeral node and watches are gone with it.
        SetRegistered(false);
        watch_armed = false;
        break;
      case SessionState::kSuspended:
      case SessionState::kConnecting:
        break;  // still registered unless the session expires
    }
  }

  void Leave() {
    if (stopped) return;
    stopped = true;
    auto st = session->Exists(path);
    if (st.ok() && st->has_value() && (*st)->ephemeral_owner == session->session_id()) {
      (void)session->Delete(path, (*st)->version);
    }
    SetRegistered(false);
  }
};

Membership::Membership(ZkSession* session, BrokerInfo self, ChangeFn on_change)
    : session_(session),
      core_(std::make_shared<Core>(session, std::move(self), std::move(on_change))) {}

Membership::~Membership() { Stop(); }

Status Membership::Start(int timeout_ms) {
  auto core = core_;
  listener_id_ = session_->AddListener([core](const SessionEvent& e) { core->OnSession(e); });
  session_->Post([core] {
    core->Register();
    core->Refresh();
  });
  std::unique_lock<std::mutex> lock(core_->mu);
  if (core_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return core_->registered; })) {
    return Status::Ok();
  }
  lock.unlock();
  std::string why;
  session_->RunOnCoordinator([&] { why = core->conflict; });
  return Status::Unavailable("broker " + std::to_string(core_->self.id) + " not registered after " +
                             std::to_string(timeout_ms) + " ms" + (why.empty() ? "" : ": " + why));
}

void Membership::Stop() {
  if (listener_id_ != 0) {
    session_->RemoveListener(listener_id_);
    listener_id_ = 0;
  }
  auto core = core_;
  // Also a barrier: no callback of this Membership runs after it returns.
  session_->RunOnCoordinator([core] { core->Leave(); });
}

bool Membership::registered() const { return core_->IsRegistered(); }

int64_t Membership::incarnation() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->registered ? core_->incarnation : 0;
}

std::vector<BrokerInfo> Membership::LiveBrokers() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->live;
}

}  // namespace zoomq::coordinator
