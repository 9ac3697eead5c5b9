// ZkSession: the only file in zoomq that talks to the ZooKeeper C client directly.
//
// Threads:
//   - ZooKeeper's IO thread and completion thread (two per handle). Our C callbacks run on the
//     completion thread; they only push an Event and return (a blocked callback would stall
//     every later callback of the handle).
//   - The coordinator thread (Impl::Run): drains the events, runs listeners, watch callbacks,
//     posted tasks and timers, sends lease heartbeats, and replaces the handle after expiry.
//   - Any caller thread: synchronous operations. They hold handle_mu shared for the whole call,
//     so the coordinator thread (exclusive) never closes a handle that is in use.
//
// Lock order: handle_mu -> state_mu; handle_mu -> watch_mu; q_mu and listeners_mu are leaves.
// No lock is held while user code (listener, watch, task) runs.
#include "zoomq/coordinator/zk_session.h"
#include "zoomq/coordinator/znodes.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "zk_acl.h"
#include "zk_rc.h"
#include "zoomq/coordinator/session_lease.h"

namespace zoomq::coordinator {

namespace {

// Return codes that only the server can produce for a request of this session: proof that the
// server heard from us (SessionLease contact).
bool IsServerReply(int rc) {
  return rc == ZOK || rc == ZNONODE || rc == ZNODEEXISTS || rc == ZBADVERSION || rc == ZNOTEMPTY ||
         rc == ZNOCHILDRENFOREPHEMERALS || rc == ZNOAUTH;
}

NodeStat ToNodeStat(const struct Stat& s) {
  NodeStat n;
  n.czxid = s.czxid;
  n.mzxid = s.mzxid;
  n.version = s.version;
  n.cversion = s.cversion;
  n.ephemeral_owner = s.ephemeralOwner;
  n.data_length = s.dataLength;
  n.num_children = s.numChildren;
  return n;
}

int ModeFlags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent:
      return ZOO_PERSISTENT;
    case CreateMode::kEphemeral:
      return ZOO_EPHEMERAL;
    case CreateMode::kPersistentSequential:
      return ZOO_PERSISTENT_SEQUENTIAL;
    case CreateMode::kEphemeralSequential:
      return ZOO_EPHEMERAL_SEQUENTIAL;
  }
  return ZOO_PERSISTENT;
}

int CreateRaw(zhandle_t* zh, const std::string& path, const std::string& data, int flags,
              const struct ACL_vector* acl, std::string* created) {
  std::vector<char> buf(path.size() + 64);
  int rc = zoo_create(zh, path.c_str(), data.data(), static_cast<int>(data.size()), acl, flags,
                      buf.data(), static_cast<int>(buf.size()));
  if (rc == ZOK && created != nullptr) *created = buf.data();
  return rc;
}

// A private handle used only to wait for one state: chroot creation and the expiry trick.
// Its watcher only records the state and wakes the waiter.
struct TempHandleWaiter {
  std::mutex mu;
  std::condition_variable cv;
  int state = 0;

  static void Watcher(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* self = static_cast<TempHandleWaiter*>(ctx);
    std::lock_guard<std::mutex> lock(self->mu);
    self->state = state;
    self->cv.notify_all();
  }
  // True once connected; false on expiry/auth failure or timeout.
  bool WaitConnected(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
      return state == ZOO_CONNECTED_STATE || state == ZOO_EXPIRED_SESSION_STATE ||
             state == ZOO_AUTH_FAILED_STATE;
    });
    return state == ZOO_CONNECTED_STATE;
  }
};

void SetLogLevelOnce() {
  static std::once_flag once;
  // Process-wide: the C client logs every connection step at INFO otherwise.
  std::call_once(once, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
}

}  // namespace

// --- public helpers -------------------------------------------------------------------------

const char* SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kConnecting:
      return "CONNECTING";
    case SessionState::kConnected:
      return "CONNECTED";
    case SessionState::kSuspended:
      return "SUSPENDED";
    case SessionState::kExpired:
      return "EXPIRED";
    case SessionState::kClosed:
      return "CLOSED";
  }
  return "?";
}

std::string JoinPath(const std::string& parent, const std::string& child) {
  if (parent.empty() || parent == "/") return "/" + child;
  return parent + "/" + child;
}

int64_t SequenceOf(const std::string& name) {
  if (name.size() < 10) return -1;
  int64_t seq = 0;
  for (size_t i = name.size() - 10; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    seq = seq * 10 + (name[i] - '0');
  }
  return seq;
}

std::string SessionTag(int64_t session_id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016llx-", static_cast<unsigned long long>(session_id));
  return buf;
}

ZkOp ZkOp::Create(std::string path, std::string data, CreateMode mode) {
  ZkOp op{Type::kCreate, std::move(path), std::move(data)};
  op.mode = mode;
  return op;
}
ZkOp ZkOp::Delete(std::string path, int32_t version) {
  ZkOp op{Type::kDelete, std::move(path), ""};
  op.version = version;
  return op;
}
ZkOp ZkOp::Set(std::string path, std::string data, int32_t version) {
  ZkOp op{Type::kSet, std::move(path), std::move(data)};
  op.version = version;
  return op;
}
ZkOp ZkOp::Check(std::string path, int32_t version) {
  ZkOp op{Type::kCheck, std::move(path), ""};
  op.version = version;
  return op;
}

// --- Impl -----------------------------------------------------------------------------------

struct ZkSession::Impl {
  // What a handle's callbacks need: its owner and which handle it was (stale events of a
  // replaced handle are dropped by comparing generations).
  struct HandleContext {
    Impl* impl;
    uint64_t generation;
  };
  struct HeartbeatContext {
    Impl* impl;
    uint64_t generation;
    TimeMs sent_at;
  };
  struct Event {
    enum class Kind { kSession, kWatch, kHeartbeat, kTask };
    Kind kind = Kind::kTask;
    uint64_t generation = 0;
    int state = 0;  // kSession
    int type = 0;   // kWatch
    int rc = 0;     // kHeartbeat
    uint64_t watch_id = 0;
    TimeMs sent_at = 0;
    std::string path;
    std::function<void()> task;
  };

  explicit Impl(ZkSessionOptions o) : options(std::move(o)), lease(options.safe_fraction) {}

  // Constant after Start().
  ZkSessionOptions options;
  std::string hosts;
  std::string chroot;
  int nodes_locked_at_start = 0;

  // The handle. Guarded by handle_mu: operations hold it shared for their whole call; the
  // coordinator thread (expiry) and Stop() hold it exclusively to close or replace the handle.
  mutable std::shared_mutex handle_mu;
  zhandle_t* zh = nullptr;
  std::unique_ptr<HandleContext> handle_ctx;
  uint64_t generation = 0;  // +1 per handle
  bool closed = false;      // Stop() was called: never open a handle again

  // Session state and the fencing lease. Guarded by state_mu.
  mutable std::mutex state_mu;
  mutable std::condition_variable state_cv;
  SessionState state = SessionState::kConnecting;
  int64_t session_id = 0;
  int negotiated_timeout_ms = 0;
  uint64_t lease_generation = 0;  // only contacts through this handle generation count
  uint64_t suspensions = 0;       // kSuspended transitions so far (ExpireSessionForTesting)
  SessionLease lease;

  // Listeners. Guarded by listeners_mu.
  std::mutex listeners_mu;
  std::vector<std::pair<int, SessionListener>> listeners;
  int next_listener_id = 1;

  // Armed watches, by id (the id is the C watcher's context). Guarded by watch_mu. Cleared
  // when the handle is replaced: a watch never outlives its session.
  std::mutex watch_mu;
  std::unordered_map<uint64_t, WatchFn> watches;
  uint64_t next_watch_id = 1;

  // The coordinator thread's inbox. Guarded by q_mu.
  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Event> queue;
  std::multimap<TimeMs, std::function<void()>> timers;
  bool stop_requested = false;
  bool loop_done = false;
  int64_t closed_session_id = 0;  // reported with kClosed

  // Lifecycle. Guarded by lifecycle_mu.
  std::mutex lifecycle_mu;
  bool started = false;
  bool stopped = false;

  std::thread thread;
  std::atomic<std::thread::id> thread_id{};

  // Coordinator thread only.
  int64_t last_session_id = 0;  // to tell a new session from a reconnection
  TimeMs next_heartbeat = 0;    // 0: no heartbeat scheduled (not connected)

  // --- callbacks from ZooKeeper's completion thread: push and return ---

  static void GlobalWatcher(zhandle_t*, int type, int state, const char*, void* ctx) {
    if (type != ZOO_SESSION_EVENT) return;
    auto* hc = static_cast<HandleContext*>(ctx);
    Event e;
    e.kind = Event::Kind::kSession;
    e.generation = hc->generation;
    e.state = state;
    hc->impl->Push(std::move(e));
  }

  static void PathWatcher(zhandle_t* zh, int type, int, const char* path, void* ctx) {
    // Every watcher also receives the session events; the global watcher handles those.
    if (type == ZOO_SESSION_EVENT) return;
    auto* hc = static_cast<HandleContext*>(const_cast<void*>(zoo_get_context(zh)));
    Event e;
    e.kind = Event::Kind::kWatch;
    e.generation = hc->generation;
    e.type = type;
    e.watch_id = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ctx));
    e.path = path != nullptr ? path : "";
    hc->impl->Push(std::move(e));
  }

  static void HeartbeatDone(int rc, const struct Stat*, const void* data) {
    std::unique_ptr<HeartbeatContext> hb(static_cast<HeartbeatContext*>(const_cast<void*>(data)));
    Event e;
    e.kind = Event::Kind::kHeartbeat;
    e.generation = hb->generation;
    e.rc = rc;
    e.sent_at = hb->sent_at;
    hb->impl->Push(std::move(e));
  }

  bool Push(Event e) {
    std::lock_guard<std::mutex> lock(q_mu);
    if (loop_done) return false;
    queue.push_back(std::move(e));
    q_cv.notify_one();
    return true;
  }

  // --- handle management (REQUIRES: handle_mu held exclusively) ---

  void OpenHandleLocked() {
    ++generation;
    handle_ctx = std::make_unique<HandleContext>(HandleContext{this, generation});
    std::string connect = hosts + chroot;
    zh = zookeeper_init(connect.c_str(), &Impl::GlobalWatcher, options.session_timeout_ms, nullptr,
                        handle_ctx.get(), 0);
    // Before any request of the handle (none can come: handle_mu is held exclusively), so
    // that every request of every session it opens is made as the digest identity.
    if (zh != nullptr && digest() && AddDigestAuth(zh, options.digest_auth) != ZOK) {
      zookeeper_close(zh);
      zh = nullptr;
    }
    std::lock_guard<std::mutex> lock(state_mu);
    state = SessionState::kConnecting;
    session_id = 0;
    lease.OnDisconnected();
    state_cv.notify_all();
  }

  void CloseHandleLocked() {
    if (zh != nullptr) {
      // Joins ZooKeeper's threads: no callback of this handle runs after it returns.
      zookeeper_close(zh);
      zh = nullptr;
    }
    handle_ctx.reset();
    std::lock_guard<std::mutex> lock(watch_mu);
    watches.clear();
  }

  // Runs `fn(zh)` with the handle pinned. Counts a server reply as lease contact.
  template <typename Fn>
  int Call(Fn&& fn) {
    std::shared_lock<std::shared_mutex> hl(handle_mu);
    if (zh == nullptr || closed) return ZCLOSING;
    TimeMs sent = MonotonicNowMs();
    int rc = fn(zh);
    if (IsServerReply(rc)) {
      std::lock_guard<std::mutex> lock(state_mu);
      if (lease_generation == generation) lease.OnContact(sent);
    }
    return rc;
  }

  // REQUIRES: handle_mu held (shared is enough: watch_mu protects the map).
  uint64_t AddWatchLocked(WatchFn fn) {
    std::lock_guard<std::mutex> lock(watch_mu);
    uint64_t id = next_watch_id++;
    watches.emplace(id, std::move(fn));
    return id;
  }
  void DropWatch(uint64_t id) {
    std::lock_guard<std::mutex> lock(watch_mu);
    watches.erase(id);
  }

  // --- the coordinator thread ---

  void Run() {
    thread_id = std::this_thread::get_id();
    for (;;) {
      Event ev;
      bool have_event = false;
      bool heartbeat_due = false;
      std::function<void()> timer_task;
      {
        std::unique_lock<std::mutex> lock(q_mu);
        for (;;) {
          if (!queue.empty()) {
            ev = std::move(queue.front());
            queue.pop_front();
            have_event = true;
            break;
          }
          if (stop_requested) break;
          TimeMs now = MonotonicNowMs();
          if (!timers.empty() && timers.begin()->first <= now) {
            timer_task = std::move(timers.begin()->second);
            timers.erase(timers.begin());
            break;
          }
          if (next_heartbeat != 0 && next_heartbeat <= now) {
            heartbeat_due = true;
            break;
          }
          TimeMs wake = 0;
          if (!timers.empty()) wake = timers.begin()->first;
          if (next_heartbeat != 0 && (wake == 0 || next_heartbeat < wake)) wake = next_heartbeat;
          if (wake == 0) {
            q_cv.wait(lock);
          } else {
            q_cv.wait_for(lock, std::chrono::milliseconds(wake - now));
          }
        }
      }
      if (have_event) {
        Dispatch(ev);
      } else if (timer_task) {
        timer_task();
      } else if (heartbeat_due) {
        SendHeartbeat();
      } else {
        break;  // stop requested and the queue is drained
      }
    }
    FinishAfterStop();
  }

  void FinishAfterStop() {
    int64_t sid;
    {
      std::lock_guard<std::mutex> lock(q_mu);
      sid = closed_session_id;
    }
    Notify(SessionEvent{SessionState::kClosed, sid, false});
    // Run what listeners (or anyone) posted meanwhile, so RunOnCoordinator() callers return.
    for (;;) {
      Event ev;
      {
        std::lock_guard<std::mutex> lock(q_mu);
        if (queue.empty()) {
          loop_done = true;
          timers.clear();
          return;
        }
        ev = std::move(queue.front());
        queue.pop_front();
      }
      if (ev.kind == Event::Kind::kTask && ev.task) ev.task();
    }
  }

  void Dispatch(Event& ev) {
    switch (ev.kind) {
      case Event::Kind::kSession:
        HandleSessionEvent(ev);
        break;
      case Event::Kind::kWatch:
        HandleWatchEvent(ev);
        break;
      case Event::Kind::kHeartbeat:
        HandleHeartbeat(ev);
        break;
      case Event::Kind::kTask:
        if (ev.task) ev.task();
        break;
    }
  }

  void HandleSessionEvent(const Event& ev) {
    if (ev.state == ZOO_CONNECTED_STATE) {
      int64_t sid;
      int timeout;
      {
        std::shared_lock<std::shared_mutex> hl(handle_mu);
        if (closed || ev.generation != generation || zh == nullptr) return;
        if (zoo_state(zh) != ZOO_CONNECTED_STATE) return;  // already lost again; wait
        sid = zoo_client_id(zh)->client_id;
        timeout = zoo_recv_timeout(zh);
        std::lock_guard<std::mutex> lock(state_mu);
        state = SessionState::kConnected;
        const bool same = sid == last_session_id && lease_generation == ev.generation;
        session_id = sid;
        negotiated_timeout_ms = timeout;
        if (same) {
          lease.OnReconnected();  // the same session on another server: keep the window
        } else {
          lease.OnConnected(timeout);
        }
        lease_generation = ev.generation;
        state_cv.notify_all();
      }
      bool new_session = sid != last_session_id;
      last_session_id = sid;
      next_heartbeat = MonotonicNowMs();  // start the lease with a fresh round trip
      Notify(SessionEvent{SessionState::kConnected, sid, new_session});
    } else if (ev.state == ZOO_CONNECTING_STATE) {
      int64_t sid;
      {
        std::shared_lock<std::shared_mutex> hl(handle_mu);
        if (closed || ev.generation != generation) return;
        std::lock_guard<std::mutex> lock(state_mu);
        if (state != SessionState::kConnected) return;  // not yet connected, or already lost
        state = SessionState::kSuspended;
        ++suspensions;
        lease.OnSuspended();
        sid = session_id;
        state_cv.notify_all();
      }
      next_heartbeat = 0;
      Notify(SessionEvent{SessionState::kSuspended, sid, false});
    } else if (ev.state == ZOO_EXPIRED_SESSION_STATE || ev.state == ZOO_AUTH_FAILED_STATE) {
      int64_t sid;
      {
        std::shared_lock<std::shared_mutex> hl(handle_mu);
        if (closed || ev.generation != generation) return;
        std::lock_guard<std::mutex> lock(state_mu);
        state = SessionState::kExpired;
        lease.OnDisconnected();
        sid = session_id != 0 ? session_id : last_session_id;
        session_id = 0;
        state_cv.notify_all();
      }
      next_heartbeat = 0;
      Notify(SessionEvent{SessionState::kExpired, sid, false});
      Reopen();
    }
    // ASSOCIATING, NOTCONNECTED: transitional, nothing to report.
  }

  void Reopen() {
    {
      std::unique_lock<std::shared_mutex> hl(handle_mu);
      if (closed) return;
      CloseHandleLocked();
      OpenHandleLocked();
      if (zh != nullptr) return;
    }
    // zookeeper_init failed (e.g. resources); try again shortly.
    std::lock_guard<std::mutex> lock(q_mu);
    timers.emplace(MonotonicNowMs() + 1000, [this] { Reopen(); });
  }

  void HandleWatchEvent(const Event& ev) {
    WatchFn fn;
    {
      std::lock_guard<std::mutex> lock(watch_mu);
      auto it = watches.find(ev.watch_id);
      if (it == watches.end()) return;  // its session is gone
      fn = std::move(it->second);
      watches.erase(it);
    }
    WatchType type;
    if (ev.type == ZOO_CREATED_EVENT) {
      type = WatchType::kCreated;
    } else if (ev.type == ZOO_DELETED_EVENT) {
      type = WatchType::kDeleted;
    } else if (ev.type == ZOO_CHANGED_EVENT) {
      type = WatchType::kChanged;
    } else if (ev.type == ZOO_CHILD_EVENT) {
      type = WatchType::kChildren;
    } else {
      return;  // ZOO_NOTWATCHING_EVENT: the watch was removed
    }
    if (fn) fn(WatchEvent{type, ev.path});
  }

  void HandleHeartbeat(const Event& ev) {
    if (!IsServerReply(ev.rc)) return;
    std::lock_guard<std::mutex> lock(state_mu);
    if (ev.generation == lease_generation) lease.OnContact(ev.sent_at);
  }

  void SendHeartbeat() {
    int interval;
    {
      std::lock_guard<std::mutex> lock(state_mu);
      if (state != SessionState::kConnected) {
        next_heartbeat = 0;
        return;
      }
      interval = options.heartbeat_interval_ms > 0 ? options.heartbeat_interval_ms
                                                   : negotiated_timeout_ms / 6;
    }
    if (interval < 10) interval = 10;
    next_heartbeat = MonotonicNowMs() + interval;
    std::shared_lock<std::shared_mutex> hl(handle_mu);
    if (zh == nullptr || closed) return;
    auto* hb = new HeartbeatContext{this, generation, MonotonicNowMs()};
    // Asynchronous: the coordinator thread never waits for the server here.
    if (zoo_aexists(zh, "/", 0, &Impl::HeartbeatDone, hb) != ZOK) delete hb;
  }

  void Notify(const SessionEvent& event) {
    std::vector<SessionListener> copy;
    {
      std::lock_guard<std::mutex> lock(listeners_mu);
      for (const auto& [id, fn] : listeners) copy.push_back(fn);
    }
    for (const auto& fn : copy) fn(event);
  }

  bool IsCoordinatorThread() const { return thread_id.load() == std::this_thread::get_id(); }

  bool digest() const { return !options.digest_auth.empty(); }
  // The ACL a node at `path` (inside the chroot) is created with.
  const struct ACL_vector* Acl(const std::string& path) const { return AclFor(path, digest()); }

  // On a handle without chroot: creates the chroot and its missing ancestors, then, with
  // digest, locks whatever the tree still has open (LockOpenTree), the chroot node included.
  // Ancestors keep the open ACL: they may be shared with other applications (another zoomq
  // cluster with other credentials next to this one). ZooKeeper checks a delete against the
  // parent's ACL, so the chroot node itself stays deletable from its open parent while it is
  // empty, i.e. until the first broker's EnsureRoots(); nothing inside it is.
  Status EnsureChroot() {
    TempHandleWaiter waiter;
    zhandle_t* root = zookeeper_init(hosts.c_str(), &TempHandleWaiter::Watcher,
                                     options.session_timeout_ms, nullptr, &waiter, 0);
    if (root == nullptr) {
      return Status::Unavailable("zookeeper_init(" + hosts + ") failed: " + std::strerror(errno));
    }
    Status st;
    if (!waiter.WaitConnected(options.connect_timeout_ms)) {
      st = MakeZkStatus(ZkError::kConnectionLoss,
                        "no ZooKeeper session with " + hosts + " within " +
                            std::to_string(options.connect_timeout_ms) + " ms");
    } else if (digest() && AddDigestAuth(root, options.digest_auth) != ZOK) {
      st = MakeZkStatus(ZkError::kOther, "cannot add the digest credentials");
    } else {
      for (size_t pos = 1; pos <= chroot.size(); ++pos) {
        if (pos != chroot.size() && chroot[pos] != '/') continue;
        std::string prefix = chroot.substr(0, pos);
        const struct ACL_vector* acl = pos == chroot.size() ? Acl("/") : &ZOO_OPEN_ACL_UNSAFE;
        int rc = zoo_create(root, prefix.c_str(), "", 0, acl, ZOO_PERSISTENT, nullptr, 0);
        if (rc != ZOK && rc != ZNODEEXISTS) {
          st = ZkRcStatus(rc, "create chroot " + prefix);
          break;
        }
      }
      if (st.ok() && digest()) {
        auto locked = LockOpenTree(root, chroot);
        if (locked.ok()) {
          nodes_locked_at_start = *locked;
        } else {
          st = locked.status();
        }
      }
    }
    zookeeper_close(root);
    return st;
  }
};

// --- ZkSession --------------------------------------------------------------------------------

ZkSession::ZkSession(ZkSessionOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ZkSession::~ZkSession() {
  Stop();
  if (impl_->thread.joinable()) {
    if (impl_->IsCoordinatorThread()) {
      // Destroyed from one of its own callbacks: the thread would run on freed memory.
      std::fprintf(stderr, "ZkSession destroyed on its coordinator thread\n");
      std::abort();
    } else {
      impl_->thread.join();
    }
  }
}

TimeMs ZkSession::MonotonicNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status ZkSession::Start() {
  {
    std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
    if (impl_->started) return Status::Invalid("ZkSession::Start called twice");
    impl_->started = true;
  }
  SetLogLevelOnce();
  const std::string& cs = impl_->options.connect_string;
  size_t slash = cs.find('/');
  impl_->hosts = cs.substr(0, slash);
  impl_->chroot = slash == std::string::npos ? "" : cs.substr(slash);
  while (impl_->chroot.size() > 1 && impl_->chroot.back() == '/') impl_->chroot.pop_back();
  if (impl_->chroot == "/") impl_->chroot.clear();
  if (impl_->hosts.empty()) return Status::Invalid("empty ZooKeeper connect string");

  if (!impl_->chroot.empty()) {
    Status st = impl_->EnsureChroot();
    if (!st.ok()) {
      Stop();
      return st;
    }
  }
  impl_->thread = std::thread([this] { impl_->Run(); });
  {
    std::unique_lock<std::shared_mutex> hl(impl_->handle_mu);
    impl_->OpenHandleLocked();
    if (impl_->zh == nullptr) {
      hl.unlock();
      Stop();
      return Status::Unavailable("zookeeper_init failed: " + std::string(std::strerror(errno)));
    }
  }
  if (!WaitUntilConnected(impl_->options.connect_timeout_ms)) {
    Stop();
    return MakeZkStatus(ZkError::kConnectionLoss,
                        "no ZooKeeper session with " + impl_->options.connect_string + " within " +
                            std::to_string(impl_->options.connect_timeout_ms) + " ms");
  }
  // Let the first kConnected reach the listeners before returning, so a listener added after
  // Start() sees only later changes.
  RunOnCoordinator([] {});
  return Status::Ok();
}

void ZkSession::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // REQUIRES says otherwise, but do not deadlock in release builds: on the coordinator thread
  // the loop ends after the current callback, and the destructor joins (or detaches) it.
  const bool on_coordinator = impl_->IsCoordinatorThread();
  assert(!on_coordinator && "ZkSession::Stop() on the coordinator thread");
  {
    std::unique_lock<std::shared_mutex> hl(impl_->handle_mu);
    impl_->closed = true;
    impl_->CloseHandleLocked();
  }
  int64_t sid;
  {
    std::lock_guard<std::mutex> lock(impl_->state_mu);
    sid = impl_->session_id;
    impl_->state = SessionState::kClosed;
    impl_->session_id = 0;
    impl_->lease.OnDisconnected();
    impl_->state_cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(impl_->q_mu);
    impl_->stop_requested = true;
    impl_->closed_session_id = sid;
    if (!impl_->thread.joinable()) impl_->loop_done = true;  // never started
    impl_->q_cv.notify_all();
  }
  if (impl_->thread.joinable() && !on_coordinator) impl_->thread.join();
}

SessionState ZkSession::state() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->state;
}

int64_t ZkSession::session_id() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->session_id;
}

int ZkSession::negotiated_timeout_ms() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->negotiated_timeout_ms;
}

bool ZkSession::WaitUntilConnected(int timeout_ms) const {
  std::unique_lock<std::mutex> lock(impl_->state_mu);
  return impl_->state_cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] {
    return impl_->state == SessionState::kConnected || impl_->state == SessionState::kClosed;
  }) && impl_->state == SessionState::kConnected;
}

bool ZkSession::IsSafeToAct(TimeMs mono_now) const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  // Suspended (reconnecting, possibly to another server of the ensemble, with the same
  // session): the server cannot expire the session before the last contact + its timeout, so
  // the lease's window holds (a ZooKeeper server failover is invisible to clients). Expired
  // or closed: never.
  return (impl_->state == SessionState::kConnected ||
          impl_->state == SessionState::kSuspended) &&
         impl_->lease.IsSafeToAct(mono_now);
}

TimeMs ZkSession::SafeUntilMs() const {
  std::lock_guard<std::mutex> lock(impl_->state_mu);
  return impl_->lease.SafeUntil();
}

int ZkSession::AddListener(SessionListener listener) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  int id = impl_->next_listener_id++;
  impl_->listeners.emplace_back(id, std::move(listener));
  return id;
}

void ZkSession::RemoveListener(int id) {
  std::lock_guard<std::mutex> lock(impl_->listeners_mu);
  auto& v = impl_->listeners;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->first == id) {
      v.erase(it);
      return;
    }
  }
}

bool ZkSession::Post(std::function<void()> task) {
  Impl::Event e;
  e.kind = Impl::Event::Kind::kTask;
  e.task = std::move(task);
  return impl_->Push(std::move(e));
}

bool ZkSession::PostAfter(int delay_ms, std::function<void()> task) {
  std::lock_guard<std::mutex> lock(impl_->q_mu);
  if (impl_->loop_done || impl_->stop_requested) return false;
  impl_->timers.emplace(MonotonicNowMs() + delay_ms, std::move(task));
  impl_->q_cv.notify_one();
  return true;
}

void ZkSession::RunOnCoordinator(const std::function<void()>& fn) {
  if (impl_->IsCoordinatorThread()) {
    fn();
    return;
  }
  struct Done {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  bool posted = Post([&fn, done] {
    fn();
    std::lock_guard<std::mutex> lock(done->mu);
    done->done = true;
    done->cv.notify_all();
  });
  if (!posted) {
    fn();  // the thread has ended: nothing runs concurrently any more
    return;
  }
  std::unique_lock<std::mutex> lock(done->mu);
  done->cv.wait(lock, [&] { return done->done; });
}

bool ZkSession::IsCoordinatorThread() const { return impl_->IsCoordinatorThread(); }

const std::string& ZkSession::hosts() const { return impl_->hosts; }
const std::string& ZkSession::chroot() const { return impl_->chroot; }
int ZkSession::nodes_locked_at_start() const { return impl_->nodes_locked_at_start; }

// --- operations -----------------------------------------------------------------------------

Result<std::string> ZkSession::Create(const std::string& path, const std::string& data,
                                      CreateMode mode) {
  if (mode == CreateMode::kEphemeralSequential) {
    // Tagged with the session id, so that a create whose reply was lost can be found again
    // (DEPENDENCIES.md: after ZCONNECTIONLOSS the node may exist).
    const std::string parent = znodes::ParentOf(path);
    const std::string base = znodes::BaseName(path);
    Status last;
    for (int attempt = 0; attempt < 3; ++attempt) {
      int64_t sid = 0;
      std::string created;
      int rc = impl_->Call([&](zhandle_t* zh) -> int {
        sid = zoo_client_id(zh)->client_id;
        if (sid == 0) return ZCONNECTIONLOSS;  // no session yet: the tag would be ambiguous
        return CreateRaw(zh, path + SessionTag(sid), data, ZOO_EPHEMERAL_SEQUENTIAL,
                         impl_->Acl(path), &created);
      });
      if (rc == ZOK) return created;
      last = ZkRcStatus(rc, "create " + path);
      if (!IsRetriable(last) || sid == 0) return last;
      // The create may have been applied: look for a child carrying our tag. (If the session
      // expired meanwhile the node is gone with it, and the lookup cannot match.)
      auto children = GetChildren(parent);
      if (!children.ok()) {
        if (IsRetriable(children.status())) continue;
        return children.status();
      }
      const std::string tagged = base + SessionTag(sid);
      for (const auto& c : *children) {
        if (c.compare(0, tagged.size(), tagged) == 0) return JoinPath(parent, c);
      }
    }
    return last;
  }

  const bool may_retry = mode == CreateMode::kEphemeral || mode == CreateMode::kPersistent;
  bool lost = false;
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int64_t sid = 0;
    std::string created;
    int rc = impl_->Call([&](zhandle_t* zh) -> int {
      sid = zoo_client_id(zh)->client_id;
      return CreateRaw(zh, path, data, ModeFlags(mode), impl_->Acl(path), &created);
    });
    if (rc == ZOK) return created;
    if (rc == ZNODEEXISTS && lost && mode == CreateMode::kEphemeral) {
      // Our lost create may have succeeded: it is ours if this session owns it.
      auto st = Exists(path);
      if (st.ok() && st->has_value() && (*st)->ephemeral_owner == sid && sid != 0) return path;
    }
    last = ZkRcStatus(rc, "create " + path);
    if (!IsRetriable(last) || !may_retry) return last;
    lost = true;
  }
  return last;
}

Status ZkSession::EnsurePath(const std::string& path) {
  if (path.empty() || path[0] != '/') return MakeZkStatus(ZkError::kBadArguments, path);
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (prefix == "/") continue;
    auto r = Create(prefix, "", CreateMode::kPersistent);
    if (!r.ok() && !IsNodeExists(r.status())) return r.status();
  }
  return Status::Ok();
}

Result<NodeData> ZkSession::Get(const std::string& path, WatchFn watch) {
  NodeData out;
  uint64_t watch_id = 0;
  int size = 16 * 1024;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::vector<char> buf(size);
    int len = size;
    struct Stat stat {};
    int rc = impl_->Call([&](zhandle_t* zh) -> int {
      if (!watch) return zoo_get(zh, path.c_str(), 0, buf.data(), &len, &stat);
      // The same watcher context on a retry: the C client keeps one registration per
      // (watcher, context) pair, so a re-read does not arm a second watch.
      if (watch_id == 0) watch_id = impl_->AddWatchLocked(watch);
      return zoo_wget(zh, path.c_str(), &Impl::PathWatcher,
                      reinterpret_cast<void*>(static_cast<uintptr_t>(watch_id)), buf.data(), &len,
                      &stat);
    });
    if (rc != ZOK) {
      // zoo_wget leaves no watch when it fails.
      if (watch_id != 0) impl_->DropWatch(watch_id);
      return ZkRcStatus(rc, "get " + path);
    }
    if (stat.dataLength > size) {  // truncated: read again with room for all of it
      size = stat.dataLength;
      continue;
    }
    out.data.assign(buf.data(), len > 0 ? len : 0);
    out.stat = ToNodeStat(stat);
    return out;
  }
  if (watch_id != 0) impl_->DropWatch(watch_id);
  return MakeZkStatus(ZkError::kOther, "get " + path + ": data kept changing size");
}

Result<NodeStat> ZkSession::Set(const std::string& path, const std::string& data, int32_t version) {
  struct Stat stat {};
  int rc = impl_->Call([&](zhandle_t* zh) -> int {
    return zoo_set2(zh, path.c_str(), data.data(), static_cast<int>(data.size()), version, &stat);
  });
  if (rc != ZOK) {
    return ZkRcStatus(rc, "set " + path + " (expected version " + std::to_string(version) + ")");
  }
  return ToNodeStat(stat);
}

Status ZkSession::Delete(const std::string& path, int32_t version) {
  int rc = impl_->Call([&](zhandle_t* zh) -> int { return zoo_delete(zh, path.c_str(), version); });
  if (rc != ZOK) {
    return ZkRcStatus(rc, "delete " + path + " (expected version " + std::to_string(version) + ")");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ZkSession::GetChildren(const std::string& path, WatchFn watch) {
  struct String_vector sv {};
  uint64_t watch_id = 0;
  int rc = impl_->Call([&](zhandle_t* zh) -> int {
    if (!watch) return zoo_get_children(zh, path.c_str(), 0, &sv);
    watch_id = impl_->AddWatchLocked(watch);
    return zoo_wget_children(zh, path.c_str(), &Impl::PathWatcher,
                             reinterpret_cast<void*>(static_cast<uintptr_t>(watch_id)), &sv);
  });
  if (rc != ZOK) {
    if (watch_id != 0) impl_->DropWatch(watch_id);
    return ZkRcStatus(rc, "get children " + path);
  }
  std::vector<std::string> out;
  out.reserve(sv.count);
  for (int32_t i = 0; i < sv.count; ++i) out.emplace_back(sv.data[i]);
  deallocate_String_vector(&sv);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<NodeStat>> ZkSession::Exists(const std::string& path, WatchFn watch) {
  struct Stat stat {};
  uint64_t watch_id = 0;
  int rc = impl_->Call([&](zhandle_t* zh) -> int {
    if (!watch) return zoo_exists(zh, path.c_str(), 0, &stat);
    watch_id = impl_->AddWatchLocked(watch);
    return zoo_wexists(zh, path.c_str(), &Impl::PathWatcher,
                       reinterpret_cast<void*>(static_cast<uintptr_t>(watch_id)), &stat);
  });
  if (rc == ZOK) return std::optional<NodeStat>(ToNodeStat(stat));
  if (rc == ZNONODE) return std::optional<NodeStat>();  // the watch stays: it fires on create
  if (watch_id != 0) impl_->DropWatch(watch_id);
  return ZkRcStatus(rc, "exists " + path);
}

Status ZkSession::Multi(const std::vector<ZkOp>& ops, std::vector<std::string>* created_paths,
                        int* failed_index) {
  if (failed_index != nullptr) *failed_index = -1;
  if (ops.empty()) return Status::Ok();
  const int n = static_cast<int>(ops.size());
  std::vector<zoo_op_t> zops(n);
  std::vector<zoo_op_result_t> results(n);
  std::vector<std::vector<char>> path_bufs(n);
  std::vector<struct Stat> stats(n);
  for (int i = 0; i < n; ++i) {
    const ZkOp& op = ops[i];
    switch (op.type) {
      case ZkOp::Type::kCreate:
        path_bufs[i].assign(op.path.size() + 64, '\0');
        zoo_create_op_init(&zops[i], op.path.c_str(), op.data.data(),
                           static_cast<int>(op.data.size()), impl_->Acl(op.path),
                           ModeFlags(op.mode), path_bufs[i].data(),
                           static_cast<int>(path_bufs[i].size()));
        break;
      case ZkOp::Type::kDelete:
        zoo_delete_op_init(&zops[i], op.path.c_str(), op.version);
        break;
      case ZkOp::Type::kSet:
        zoo_set_op_init(&zops[i], op.path.c_str(), op.data.data(), static_cast<int>(op.data.size()),
                        op.version, &stats[i]);
        break;
      case ZkOp::Type::kCheck:
        zoo_check_op_init(&zops[i], op.path.c_str(), op.version);
        break;
    }
  }
  int rc = impl_->Call(
      [&](zhandle_t* zh) -> int { return zoo_multi(zh, n, zops.data(), results.data()); });
  if (rc == ZOK) {
    if (created_paths != nullptr) {
      created_paths->assign(n, "");
      for (int i = 0; i < n; ++i) {
        if (ops[i].type == ZkOp::Type::kCreate) (*created_paths)[i] = path_bufs[i].data();
      }
    }
    return Status::Ok();
  }
  // The first op whose own error is not the "rolled back" marker is the one that failed.
  int failed = -1;
  if (IsServerReply(rc)) {
    for (int i = 0; i < n; ++i) {
      if (results[i].err != ZOK && results[i].err != ZRUNTIMEINCONSISTENCY) {
        failed = i;
        break;
      }
    }
  }
  if (failed_index != nullptr) *failed_index = failed;
  static const char* kNames[] = {"create", "delete", "set", "check"};
  std::string context = "multi";
  if (failed >= 0) {
    context += " op " + std::to_string(failed) + " " + kNames[static_cast<int>(ops[failed].type)] +
               " " + ops[failed].path;
  }
  return ZkRcStatus(rc, context);
}

Status ZkSession::ExpireSessionForTesting() {
  // The trick races with our own handle: the second handle's connect takes the session over
  // and drops our connection, and if our client reconnects before the second handle is
  // closed, it takes the session back; the second handle, no longer connected, then closes
  // without ending the session. So: verify that the session really ended, and repeat if not.
  clientid_t id;
  {
    std::shared_lock<std::shared_mutex> hl(impl_->handle_mu);
    if (impl_->zh == nullptr || impl_->closed) return MakeZkStatus(ZkError::kClosing, "expire");
    id = *zoo_client_id(impl_->zh);
  }
  if (id.client_id == 0) return MakeZkStatus(ZkError::kConnectionLoss, "expire: no session");
  // Our client has learned of the expiry (kExpired, then a new handle: kConnecting, or already
  // a new session). A lost connection of the same session is kSuspended, not kConnecting.
  auto ended = [&] {
    return impl_->state == SessionState::kExpired || impl_->state == SessionState::kClosed ||
           impl_->state == SessionState::kConnecting ||
           (impl_->session_id != 0 && impl_->session_id != id.client_id);
  };
  const auto learn_timeout = std::chrono::milliseconds(impl_->options.connect_timeout_ms);
  for (int attempt = 0; attempt < 5; ++attempt) {
    uint64_t suspensions_before;
    {
      std::lock_guard<std::mutex> lock(impl_->state_mu);
      if (ended()) return Status::Ok();
      suspensions_before = impl_->suspensions;
    }
    TempHandleWaiter waiter;
    zhandle_t* other = zookeeper_init(impl_->hosts.c_str(), &TempHandleWaiter::Watcher,
                                      impl_->options.session_timeout_ms, &id, &waiter, 0);
    if (other == nullptr) return Status::Unavailable("zookeeper_init failed");
    bool connected = waiter.WaitConnected(impl_->options.connect_timeout_ms);
    // Closing a connected handle closes its session on the server: the one we share.
    zookeeper_close(other);
    bool already_expired;
    {
      std::lock_guard<std::mutex> lock(waiter.mu);
      already_expired = waiter.state == ZOO_EXPIRED_SESSION_STATE;
    }
    std::unique_lock<std::mutex> lock(impl_->state_mu);
    if (already_expired) {
      // The server says the session is gone (an earlier attempt won after all): wait for our
      // client to learn it.
      if (impl_->state_cv.wait_for(lock, learn_timeout, ended)) return Status::Ok();
      break;
    }
    if (!connected) continue;
    // If our client got back into the same session (kSuspended, then kConnected), the trick
    // probably lost the race: give the server a moment to prove otherwise, then try again.
    impl_->state_cv.wait_for(lock, std::chrono::milliseconds(2000), [&] {
      return ended() ||
             (impl_->suspensions > suspensions_before && impl_->state == SessionState::kConnected);
    });
    if (!ended()) impl_->state_cv.wait_for(lock, std::chrono::milliseconds(300), ended);
    if (ended()) return Status::Ok();
  }
  return MakeZkStatus(ZkError::kOther, "expire: the session survived every attempt");
}

}  // namespace zoomq::coordinator
