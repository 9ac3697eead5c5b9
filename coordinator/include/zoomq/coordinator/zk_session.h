// ZkSession: one ZooKeeper session that outlives expiry, and the synchronous operations on it.
//
// It owns a ZooKeeper C handle and ONE coordinator thread. ZooKeeper's C callbacks (session
// events, watches, heartbeat replies) only push events onto a queue; the coordinator thread
// drains it and runs everything user-visible: session listeners, watch callbacks, tasks given
// to Post()/PostAfter(). So user code never runs on ZooKeeper's threads and never runs under a
// lock of this class.
//
// Session states, as listeners see them:
//   kConnecting -> kConnected          first connection (new_session = true)
//   kConnected  -> kSuspended          the client lost the server (ZooKeeper's CONNECTING state).
//                                      The session may already be expired on the server: a
//                                      leader must stop acting until it is connected again.
//   kSuspended  -> kConnected          reconnected in time: same session id, ephemerals and
//                                      watches survived (new_session = false).
//   any         -> kExpired            the server expired the session: its ephemerals and
//                                      watches are gone. The session then closes the handle and
//                                      opens a new one by itself:
//   kExpired    -> kConnected          new_session = true: listeners must re-register everything
//                                      (ephemeral nodes, election candidacy, watches).
//   any         -> kClosed             Stop().
//
// Operations are synchronous and callable from any thread, including the coordinator thread
// (from a listener or watch callback; they then block that thread for one round trip, or up to
// about 2/3 of the session timeout while the client reconnects). They return Status/Result; a
// ZooKeeper error is mapped as described in zk_status.h (ZkErrorOf(status)). Paths are
// absolute inside the chroot given in the connect string.
//
// Access control (docs/znodes.md, "ACLs"): with `digest_auth` set, every handle logs in with
// those digest credentials before its first request (and the client repeats the login after
// each reconnection), and every node it creates gets the ACL of its path: readable by anyone
// and writable only by the same credentials, or, under /security, not even readable by anyone
// else. Without it every node has ZooKeeper's open ACL.
//
// Fencing: IsSafeToAct() is the SessionLease (session_lease.h) fed by the session: a heartbeat
// request every timeout/6 on the coordinator thread, and every answered operation, count as
// contact.
//
// Thread-safety: all public methods are thread-safe, except Stop(), which must not be called
// from the coordinator thread (it joins it). Ownership: the caller owns the ZkSession; it must
// outlive every Membership/LeaderElection built on it (stop those first).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"
#include "zoomq/coordinator/zk_status.h"

namespace zoomq::coordinator {

struct ZkSessionOptions {
  // "host:port[,host:port...][/chroot]". A missing chroot node is created at Start().
  std::string connect_string;
  // Requested session timeout; the server clamps it to [2, 20] x its tickTime.
  int session_timeout_ms = 4000;
  // How long Start() waits for the first connection.
  int connect_timeout_ms = 10000;
  // SessionLease: share of the negotiated session timeout a server contact is trusted for.
  double safe_fraction = 2.0 / 3.0;
  // Heartbeat period for the lease; 0 means negotiated timeout / 6.
  int heartbeat_interval_ms = 0;
  // ZooKeeper digest credentials "user:password" (zk_credentials.h reads them from a file);
  // empty: none, open ACLs. A wrong password is not noticed at Start(): the session works but
  // gets ZNOAUTH on every change to nodes the right credentials created.
  std::string digest_auth;
};

enum class SessionState { kConnecting, kConnected, kSuspended, kExpired, kClosed };
const char* SessionStateName(SessionState state);

struct SessionEvent {
  SessionState state;
  int64_t session_id;  // the session the event is about (0 if none yet)
  bool new_session;    // kConnected only: a session different from the previous one
};

enum class CreateMode { kPersistent, kEphemeral, kPersistentSequential, kEphemeralSequential };

// The fields of ZooKeeper's Stat that zoomq uses.
struct NodeStat {
  int64_t czxid = 0;            // zxid of the create: unique, increases with every create
  int64_t mzxid = 0;            // zxid of the last data change
  int32_t version = 0;          // data version (number of Sets)
  int32_t cversion = 0;         // children version
  int64_t ephemeral_owner = 0;  // owning session id, 0 for persistent nodes
  int32_t data_length = 0;
  int32_t num_children = 0;
};

struct NodeData {
  std::string data;
  NodeStat stat;
};

enum class WatchType { kCreated, kDeleted, kChanged, kChildren };
struct WatchEvent {
  WatchType type;
  std::string path;  // inside the chroot
};
// One-shot: runs once, on the coordinator thread, when the watched node changes. A watch
// belongs to its session: after expiry it never fires (listeners get kConnected with
// new_session and re-arm what they need).
using WatchFn = std::function<void(const WatchEvent&)>;
using SessionListener = std::function<void(const SessionEvent&)>;

// One operation of Multi(). Version -1 matches any version.
struct ZkOp {
  enum class Type { kCreate, kDelete, kSet, kCheck };
  Type type;
  std::string path;
  std::string data;                           // kCreate, kSet
  CreateMode mode = CreateMode::kPersistent;  // kCreate
  int32_t version = -1;                       // kDelete, kSet, kCheck

  static ZkOp Create(std::string path, std::string data, CreateMode mode = CreateMode::kPersistent);
  static ZkOp Delete(std::string path, int32_t version = -1);
  static ZkOp Set(std::string path, std::string data, int32_t version = -1);
  static ZkOp Check(std::string path, int32_t version = -1);
};

class ZkSession {
 public:
  explicit ZkSession(ZkSessionOptions options);
  ~ZkSession();  // Stop()
  ZkSession(const ZkSession&) = delete;
  ZkSession& operator=(const ZkSession&) = delete;

  // Creates the chroot if missing (with digest_auth: locks the nodes of the tree that still
  // have the open ACL, see nodes_locked_at_start()), starts the coordinator thread and waits up to
  // connect_timeout_ms for the first session. Unavailable if it did not connect (then
  // everything is stopped again). Call once. Listeners added before Start() see the first
  // kConnected; listeners added after it see only later changes.
  Status Start();
  // Closes the handle (the server deletes this session's ephemerals at once: a graceful
  // handover), tells listeners kClosed, runs the tasks still queued, and joins the thread.
  // Idempotent. REQUIRES: not on the coordinator thread.
  void Stop();

  // --- state -----------------------------------------------------------------------------
  SessionState state() const;
  // Current session id, 0 when there is none (connecting to a new session, closed).
  int64_t session_id() const;
  // Negotiated session timeout of the current session (0 before the first connection).
  int negotiated_timeout_ms() const;
  // Waits until the state is kConnected (true) or `timeout_ms` passed (false).
  // REQUIRES: not on the coordinator thread (it would wait for itself).
  bool WaitUntilConnected(int timeout_ms) const;

  // Fencing (see session_lease.h). `mono_now`: MonotonicNowMs() read once by the caller.
  bool IsSafeToAct(TimeMs mono_now) const;
  bool IsSafeToAct() const { return IsSafeToAct(MonotonicNowMs()); }
  // End of the current lease in MonotonicNowMs() time; 0 if none.
  TimeMs SafeUntilMs() const;
  static TimeMs MonotonicNowMs();

  // Listeners run on the coordinator thread, in registration order, for every state change.
  // RemoveListener() does not wait for a listener that is running right now: callers that
  // destroy captured state must also RunOnCoordinator() a no-op after removing it.
  int AddListener(SessionListener listener);
  void RemoveListener(int id);

  // --- the coordinator thread ------------------------------------------------------------
  // Runs `task` on the coordinator thread. False (task dropped) once the session is stopped.
  bool Post(std::function<void()> task);
  // Runs `task` on the coordinator thread after `delay_ms`. Dropped at Stop().
  bool PostAfter(int delay_ms, std::function<void()> task);
  // Runs `fn` on the coordinator thread and waits for it; inline if called on that thread or
  // after the thread ended. A barrier: callbacks queued before it have finished when it returns.
  void RunOnCoordinator(const std::function<void()>& fn);
  bool IsCoordinatorThread() const;

  // --- operations ------------------------------------------------------------------------
  // Creates `path` and returns the created path (it differs for sequential modes).
  // kEphemeralSequential appends "<session id, 16 hex digits>-" to `path` before ZooKeeper's
  // 10-digit sequence ("/e/n_" -> "/e/n_00000a1b2c3d4e5f-0000000007") so that after a
  // ZCONNECTIONLOSS it can look for the node it may have created instead of creating a
  // second one. kEphemeral likewise accepts an existing node owned by this session after a
  // connection loss.
  Result<std::string> Create(const std::string& path, const std::string& data, CreateMode mode);
  // Creates every missing persistent node on the way to `path` (and `path`), empty data.
  Status EnsurePath(const std::string& path);
  // Data and stat; `watch` (optional) fires when the node changes or is deleted. No watch is
  // left when the node does not exist (use Exists for that).
  Result<NodeData> Get(const std::string& path, WatchFn watch = nullptr);
  // Sets the data if the node's version is `version` (-1: any). Returns the new stat.
  Result<NodeStat> Set(const std::string& path, const std::string& data, int32_t version = -1);
  // Deletes the node if its version is `version` (-1: any).
  Status Delete(const std::string& path, int32_t version = -1);
  // Child names (not paths), sorted. `watch` fires when a child is added or removed.
  Result<std::vector<std::string>> GetChildren(const std::string& path, WatchFn watch = nullptr);
  // The stat, or nullopt if the node does not exist. `watch` is set in both cases and fires on
  // create, delete or data change.
  Result<std::optional<NodeStat>> Exists(const std::string& path, WatchFn watch = nullptr);
  // All-or-nothing. On failure returns the first failing operation's error, with its index in
  // the message ("ZBADVERSION: multi op 1 set /controller/epoch"); `failed_index` gets it too.
  // Sequential creates inside Multi are not session-tagged. `created_paths` (optional) gets
  // one entry per op: the created path for creates, "" otherwise.
  Status Multi(const std::vector<ZkOp>& ops, std::vector<std::string>* created_paths = nullptr,
               int* failed_index = nullptr);

  // Testing only: expires this session the way ZooKeeper's FAQ describes (a second handle
  // opens the same session id and password, then closes it). The session then goes through
  // kSuspended, kExpired and a new kConnected as with a real expiry. Returns once this client
  // has learned of the expiry; the trick races with this client's own reconnection, so it is
  // repeated (up to 5 times) until the session really ended.
  // REQUIRES: not on the coordinator thread.
  Status ExpireSessionForTesting();

  // The connect string without chroot, and the chroot ("" if none).
  const std::string& hosts() const;
  const std::string& chroot() const;
  // How many nodes of a tree made before digest_auth was set Start() found with the open ACL
  // and locked (0 once the tree is locked, and without digest_auth or chroot). For the log.
  int nodes_locked_at_start() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Path helpers (pure).
std::string JoinPath(const std::string& parent, const std::string& child);
// The sequence number ZooKeeper appended to a sequential node name (its last 10 digits), or -1.
int64_t SequenceOf(const std::string& name);
// The tag Create(kEphemeralSequential) inserts for `session_id`: 16 hex digits and '-'.
std::string SessionTag(int64_t session_id);

}  // namespace zoomq::coordinator
