#include "zoomq/coordinator/leader_election.h"
#include "zoomq/coordinator/znodes.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>
#include <vector>

namespace zoomq::coordinator {

namespace {

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Candidate names sorted by their sequence number (the order ZooKeeper created them in).
std::vector<std::string> SortBySequence(std::vector<std::string> names) {
  std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return SequenceOf(a) < SequenceOf(b);
  });
  return names;
}

bool ParseEpoch(const std::string& text, int64_t* out) {
  if (text.empty()) {
    *out = 0;
    return true;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size() && *out >= 0;
}

}  // namespace

// All methods run on the coordinator thread. Callbacks hold a shared_ptr, so a Core outlives
// every callback queued for it; `stopped` turns them into no-ops.
struct LeaderElection::Core : std::enable_shared_from_this<LeaderElection::Core> {
  Core(ZkSession* s, LeaderElectionOptions o, Callbacks c)
      : session(s), options(std::move(o)), callbacks(std::move(c)) {}

  // Constant after construction.
  ZkSession* const session;
  const LeaderElectionOptions options;
  const Callbacks callbacks;

  // Coordinator thread only.
  bool stopped = false;
  bool leading = false;
  bool own_watch_armed = false;  // an exists watch of this session on my_node is pending
  bool reclaim_done = false;     // stale nodes are reclaimed on the first join only
  std::string my_node;           // name under election_path; "" when not a candidate
  std::string why_not_joined;

  // Read by other threads.
  std::atomic<bool> is_leader{false};
  std::atomic<int64_t> epoch{0};
  mutable std::mutex mu;
  std::condition_variable cv;
  std::string node_copy;  // guarded by mu: my_node for other threads

  std::string MyPath() const { return JoinPath(options.election_path, my_node); }
  std::string Prefix() const { return znodes::kElectionPrefix; }

  void SetNode(std::string name) {
    if (name != my_node) own_watch_armed = false;
    my_node = std::move(name);
    std::lock_guard<std::mutex> lock(mu);
    node_copy = my_node;
    cv.notify_all();
  }

  void RetryLater(void (Core::*fn)()) {
    if (stopped || session->state() != SessionState::kConnected) return;
    auto me = shared_from_this();
    session->PostAfter(200, [me, fn] { ((*me).*fn)(); });
  }

  void Depose() {
    if (!leading) return;
    leading = false;
    is_leader = false;
    if (callbacks.on_deposed) callbacks.on_deposed();
  }

  void Join() {
    if (stopped || !my_node.empty()) return;
    const int64_t sid = session->session_id();
    if (sid == 0) return;  // not connected: the next kConnected joins
    Status st = session->EnsurePath(options.election_path);
    if (!st.ok()) {
      why_not_joined = st.ToString();
      return RetryLater(&Core::Join);
    }
    auto children = session->GetChildren(options.election_path);
    if (!children.ok()) {
      why_not_joined = children.status().ToString();
      return RetryLater(&Core::Join);
    }
    // A node of this session may exist already (a create whose reply was lost): adopt the
    // oldest one and delete any other, so the session is never two candidates.
    const std::string mine_prefix = Prefix() + SessionTag(sid);
    std::vector<std::string> mine;
    std::vector<ZkOp> reclaim;  // deletes of a previous incarnation's nodes
    for (const auto& c : SortBySequence(*children)) {
      if (StartsWith(c, mine_prefix)) {
        mine.push_back(c);
      } else if (!reclaim_done && options.reclaim_stale_nodes && !options.candidate_data.empty()) {
        auto node = session->Get(JoinPath(options.election_path, c));
        if (node.ok() && node->data == options.candidate_data &&
            node->stat.ephemeral_owner != sid) {
          reclaim.push_back(ZkOp::Delete(JoinPath(options.election_path, c), node->stat.version));
        }
      }
    }
    // Only on the first join: a candidate that lost its node later must not take the node of
    // a newer incarnation in turn (they would take turns deleting each other's).
    reclaim_done = true;
    if (!mine.empty()) {
      for (size_t i = 1; i < mine.size(); ++i) {
        (void)session->Delete(JoinPath(options.election_path, mine[i]));
      }
      for (const auto& op : reclaim) (void)session->Delete(op.path, op.version);
      SetNode(mine[0]);
    } else if (!reclaim.empty()) {
      // A previous incarnation of this candidate would block the election until its session
      // expires. Delete its node and create ours in one multi, so ours takes its place in
      // line before anyone (that incarnation, if alive after all) can queue up in between.
      // The name carries our session tag, as Create(kEphemeralSequential) would give it.
      reclaim.push_back(ZkOp::Create(JoinPath(options.election_path, mine_prefix),
                                     options.candidate_data, CreateMode::kEphemeralSequential));
      std::vector<std::string> created;
      Status st = session->Multi(reclaim, &created);
      if (!st.ok()) {
        why_not_joined = st.ToString();
        reclaim_done = false;  // look again (a lost reply is found by its tag next time)
        if (IsNoNode(st) || IsBadVersion(st)) {
          auto me = shared_from_this();
          session->Post([me] { me->Join(); });
          return;
        }
        return RetryLater(&Core::Join);
      }
      SetNode(znodes::BaseName(created.back()));
    } else {
      auto created = session->Create(JoinPath(options.election_path, Prefix()),
                                     options.candidate_data, CreateMode::kEphemeralSequential);
      if (!created.ok()) {
        why_not_joined = created.status().ToString();
        return RetryLater(&Core::Join);
      }
      SetNode(znodes::BaseName(*created));
    }
    why_not_joined.clear();
    Check();
  }

  void Check() {
    if (stopped) return;
    if (my_node.empty()) return Join();
    auto children = session->GetChildren(options.election_path);
    if (!children.ok()) return RetryLater(&Core::Check);
    std::vector<std::string> sorted = SortBySequence(*children);
    auto it = std::find(sorted.begin(), sorted.end(), my_node);
    if (it == sorted.end()) {
      // Our node is gone (deleted by someone, or the session changed under us): join again.
      Depose();
      SetNode("");
      return Join();
    }
    if (it == sorted.begin()) {
      if (!leading) BecomeLeader();
      // A leader watches its own node: if anyone deletes it (e.g. a restarted incarnation of
      // this broker reclaiming it), Check() finds it gone and deposes.
      if (leading && !own_watch_armed) {
        auto me = shared_from_this();
        auto exists = session->Exists(MyPath(), [me](const WatchEvent&) {
          me->own_watch_armed = false;
          me->Check();
        });
        if (exists.ok()) own_watch_armed = true;
        if (exists.ok() && !exists->has_value()) session->Post([me] { me->Check(); });
      }
      return;
    }
    Depose();  // cannot happen while our node exists (no lower node is ever created)
    const std::string predecessor = JoinPath(options.election_path, *(it - 1));
    auto me = shared_from_this();
    auto exists = session->Exists(predecessor, [me](const WatchEvent&) { me->Check(); });
    if (!exists.ok()) return RetryLater(&Core::Check);
    // Gone before the watch was set: look again. (The watch stays armed on the absent path
    // and may fire later; Check is idempotent.)
    if (!exists->has_value()) session->Post([me] { me->Check(); });
  }

  // We hold the lowest node: take the next epoch, fenced by our node's existence.
  void BecomeLeader() {
    const std::string& epoch_path = options.epoch_path;
    for (int attempt = 0; attempt < 5 && !stopped; ++attempt) {
      auto current = session->Get(epoch_path);
      if (!current.ok() && IsNoNode(current.status())) {
        Status st = session->EnsurePath(znodes::ParentOf(epoch_path));
        auto created = session->Create(epoch_path, "0", CreateMode::kPersistent);
        if (!st.ok() || (!created.ok() && !IsNodeExists(created.status()))) break;
        continue;
      }
      if (!current.ok()) break;
      int64_t old_epoch = 0;
      if (!ParseEpoch(current->data, &old_epoch)) break;  // not ours; retried later
      const int64_t next = old_epoch + 1;
      int failed = -1;
      Status st =
          session->Multi({ZkOp::Check(MyPath(), -1),
                          ZkOp::Set(epoch_path, std::to_string(next), current->stat.version)},
                         nullptr, &failed);
      if (st.ok()) {
        leading = true;
        epoch = next;
        is_leader = true;
        if (callbacks.on_elected) callbacks.on_elected(next);
        return;
      }
      if (IsBadVersion(st) && failed == 1) continue;  // a concurrent bump: read again
      if (IsNoNode(st) && failed == 0) {              // our node is gone: not the leader
        SetNode("");
        return Join();
      }
      break;
    }
    RetryLater(&Core::Check);
  }

  void OnSession(const SessionEvent& e) {
    if (stopped) return;
    switch (e.state) {
      case SessionState::kSuspended:
        Depose();  // the server may already have expired us
        break;
      case SessionState::kExpired:
      case SessionState::kClosed:
        Depose();
        SetNode("");  // gone with the session
        break;
      case SessionState::kConnected:
        if (e.new_session) SetNode("");
        if (my_node.empty()) {
          Join();
        } else {
          Check();
        }
        break;
      case SessionState::kConnecting:
        break;
    }
  }

  void Leave(bool rejoin) {
    if (stopped) return;
    Depose();  // stop acting first, then let the next candidate in
    if (!my_node.empty()) (void)session->Delete(MyPath());
    SetNode("");
    if (rejoin) {
      Join();
    } else {
      stopped = true;
    }
  }
};

LeaderElection::LeaderElection(ZkSession* session, LeaderElectionOptions options,
                               Callbacks callbacks)
    : session_(session),
      core_(std::make_shared<Core>(session, std::move(options), std::move(callbacks))) {}

LeaderElection::~LeaderElection() { Stop(); }

Status LeaderElection::Start(int timeout_ms) {
  auto core = core_;
  listener_id_ = session_->AddListener([core](const SessionEvent& e) { core->OnSession(e); });
  session_->Post([core] { core->Join(); });
  std::unique_lock<std::mutex> lock(core_->mu);
  if (core_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return !core_->node_copy.empty(); })) {
    return Status::Ok();
  }
  lock.unlock();
  std::string why;
  session_->RunOnCoordinator([&] { why = core->why_not_joined; });
  return Status::Unavailable("election: no candidate node after " + std::to_string(timeout_ms) +
                             " ms" + (why.empty() ? "" : ": " + why));
}

void LeaderElection::Stop() {
  if (listener_id_ != 0) {
    session_->RemoveListener(listener_id_);
    listener_id_ = 0;
  }
  auto core = core_;
  // Also a barrier: no callback of this election runs after it returns.
  session_->RunOnCoordinator([core] { core->Leave(/*rejoin=*/false); });
}

void LeaderElection::Resign() {
  auto core = core_;
  session_->RunOnCoordinator([core] { core->Leave(/*rejoin=*/true); });
}

bool LeaderElection::IsLeader() const { return core_->is_leader.load(); }
int64_t LeaderElection::epoch() const { return core_->epoch.load(); }

std::string LeaderElection::node() const {
  std::lock_guard<std::mutex> lock(core_->mu);
  return core_->node_copy;
}

Result<std::string> LeaderElection::LeaderData() {
  const std::string& dir = core_->options.election_path;
  Status last = Status::NotFound("no candidates under " + dir);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto children = session_->GetChildren(dir);
    if (!children.ok()) return children.status();
    if (children->empty()) return Status::NotFound("no candidates under " + dir);
    auto node = session_->Get(JoinPath(dir, SortBySequence(*children).front()));
    if (node.ok()) return node->data;
    last = node.status();
    if (!IsNoNode(last)) break;  // else: it just went; look again
  }
  return last;
}

}  // namespace zoomq::coordinator
