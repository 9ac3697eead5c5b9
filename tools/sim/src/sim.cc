#include "zoomq/sim/sim.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "broker/core/replication.h"
#include "world.h"
#include "zoomq/coordinator/cluster_metadata.h"

namespace zoomq::sim {

namespace {

using broker::EpochCache;
using broker::LeaderState;
using coordinator::PartitionState;
using coordinator::Role;

// ---- time constants (microseconds): the real ones scaled down ~4x, ratios kept ------------
constexpr SimTime kMs = 1000;
constexpr SimTime kSessionUs = 600 * kMs;          // ZooKeeper session timeout
constexpr SimTime kSafeUs = kSessionUs * 2 / 3;    // SessionLease: act only this long after contact
constexpr SimTime kHeartbeatUs = kSessionUs / 6;
constexpr SimTime kIsrTickUs = 60 * kMs;           // ClusterOptions::isr_check_ms
constexpr SimTime kReconcileUs = 250 * kMs;        // controller tick
constexpr SimTime kMetadataCheckUs = 500 * kMs;    // ClusterOptions::metadata_check_ms
constexpr int64_t kLagMaxMs = 300;                 // replica_lag_max_ms
constexpr SimTime kFetchWaitUs = 120 * kMs;        // fetch long-poll
constexpr SimTime kRpcTimeoutUs = 250 * kMs;       // a request with no answer is retried
constexpr SimTime kRetryUs = 25 * kMs;             // follower pause after a failed request
constexpr SimTime kWriteTimeoutUs = 800 * kMs;     // a produce waits this long for its commit
constexpr SimTime kSettleWritesUs = 600 * kMs;     // clients write this long after healing
constexpr size_t kMaxFetchEntries = 40;
constexpr uint64_t kMaxEvents = 2000000;  // a model bug, not a broker bug
constexpr int kLogs = 2;  // 0: message log, 1: group log (same replication, own epochs)
constexpr int kKeys = 3;  // producer keys (per-key order is checked on the message log)

const char* LogName(int l) { return l == 0 ? "log" : "group log"; }

std::string List(const std::vector<int32_t>& v) {
  std::string s;
  for (int32_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return "[" + s + "]";
}

struct Entry {
  int64_t epoch = 0;
  uint64_t id = 0;   // unique per client write
  int32_t key = -1;  // message log: producer key; group log: -1
  int32_t seq = 0;   // per-key sequence number
  // Hash of the log up to and including this entry, computed where it is held: two logs
  // with equal chains at an offset hold the same entries up to it (checks in O(1)).
  uint64_t chain = 0;
  bool operator==(const Entry& o) const { return epoch == o.epoch && id == o.id; }
};

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  h *= 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 29);
}

// Appends `e` to `log` with its chain.
void Push(std::vector<Entry>& log, Entry e) {
  const uint64_t prev = log.empty() ? 0x1234567ULL : log.back().chain;
  e.chain = Mix(Mix(prev, static_cast<uint64_t>(e.epoch)), e.id);
  log.push_back(e);
}

// Whether `log` holds exactly `prefix` (by chains) at its start.
bool HoldsPrefix(const std::vector<Entry>& log, const std::vector<Entry>& prefix) {
  if (prefix.empty()) return true;
  return log.size() >= prefix.size() && log[prefix.size() - 1].chain == prefix.back().chain;
}

// The first offset where `a` and `b` differ (below `n`), for messages.
uint64_t FirstDifference(const std::vector<Entry>& a, const std::vector<Entry>& b, uint64_t n) {
  uint64_t o = 0;
  while (o < n && o < a.size() && o < b.size() && a[o] == b[o]) ++o;
  return o;
}

// A queued storage batch: an append of entries at [from, from + entries.size()), or a
// truncation to `point`. The committer applies them in order (broker/core/group_commit.h).
struct CommitItem {
  bool truncate = false;
  uint64_t from = 0;
  uint64_t point = 0;
  std::vector<Entry> entries;
  bool flushed = false;  // already applied to disk (graceful stop), completion pending
};

// One replicated log on one broker: BrokerService's Partition fields for it.
struct ReplicaLog {
  std::vector<Entry> mem;   // the log as the process holds it (index + tail)
  std::vector<Entry> disk;  // what survives kill -9
  uint64_t durable = 0;     // durable_end / group_durable
  uint64_t hwm = 0;         // index high watermark / group_hwm
  uint64_t leader_hwm = 0;  // follower: the leader's, from fetch answers
  EpochCache epochs;
  std::deque<CommitItem> queue;
  std::optional<LeaderState> leader;
};

struct PendingWrite {
  int log;
  uint64_t id;
  uint64_t offset;
  uint64_t gen;
  SimTime deadline;
  std::function<void(bool acked, uint64_t offset)> reply;
};

struct ParkedFetch {
  uint64_t fetch_id;
  int32_t replica;
  std::array<uint64_t, kLogs> offset;
  int64_t epoch;
  SimTime deadline;
  std::function<void(bool ok, int64_t epoch, std::array<std::vector<Entry>, kLogs> entries,
                     std::array<uint64_t, kLogs> from, std::array<uint64_t, kLogs> hwm)>
      reply;
};

struct Broker {
  int32_t id = 0;
  bool up = true;
  bool paused = false;
  uint64_t pid = 1;          // bumped at every start: answers to an older process are dropped
  int64_t session = 0;       // current ZooKeeper session (0: none)
  int64_t incarnation = 0;   // czxid of its current registration (0: unregistered)
  SimTime last_contact = 0;  // last heartbeat answered (SessionLease)
  bool expired_seen = true;  // it knows its session is gone (needs a new one)

  // Role (broker/service/topic_state.h Partition)
  uint64_t gen = 0;  // role_generation
  bool leading = false;
  int64_t epoch = -1;
  int32_t leader_id = -1;
  // Follower loop
  enum class Follow { kIdle, kTruncating, kFetching } follow = Follow::kIdle;
  int trunc_log = 0;           // which log is being truncated
  int64_t asked = -1;          // the epoch asked about
  uint64_t rpc_id = 0;         // the outstanding request (0: none)
  bool waiting_commit = false; // waits for its queue to drain before the next request

  std::array<ReplicaLog, kLogs> logs;
  std::vector<PendingWrite> writes;
  std::vector<ParkedFetch> parked;
  std::deque<std::function<void()>> held;  // delivered while paused

  // ReplicaManager::BecomeLeader's store barrier: the lead waits for this many queued commits
  std::optional<PartitionState> lead_after;
  int barrier_left = 0;

  // ClusterNode
  std::optional<PartitionState> view;  // last applied partition state
  bool apply_failed = false;
  bool leaving = false;  // graceful stop in progress
};

struct Controller {
  int32_t broker = -1;                  // the broker acting as controller (-1: none)
  int64_t session = 0;                  // the session its election node belongs to
  coordinator::LiveBrokers live;        // its view of /brokers/ids (delayed)
  std::map<int32_t, int64_t> leaving;   // id -> the incarnation that is shutting down
};

class Sim {
 public:
  explicit Sim(const SimOptions& o) : o_(o), rng_(o.seed * 0x2545F4914F6CDD1DULL + 17) {}
  SimResult Run();

 private:
  // ---- helpers ----
  int64_t NowMs() const { return sched_.now() / kMs; }
  Broker& B(int32_t id) { return brokers_[id - 1]; }
  void Trace(const std::string& line) {
    if (o_.trace) {
      char head[32];
      std::snprintf(head, sizeof head, "%8.3f ms  ", sched_.now() / 1000.0);
      result_.trace.push_back(head + line);
    }
  }
  void Fail(const std::string& what) {
    if (!result_.ok) return;
    result_.ok = false;
    result_.violation = what;
    result_.at_ms = NowMs();
    Trace("VIOLATION: " + what);
  }
  bool SafeToAct(const Broker& b) const {
    return b.session != 0 && !b.expired_seen && sched_.now() - b.last_contact < kSafeUs;
  }
  bool ZkReachable(const Broker& b) const {
    return zk_up_ && !zk_cut_.count(b.id) && b.up && !b.paused;
  }
  // A write from an expired session is refused by ZooKeeper.
  bool SessionAlive(const Broker& b) const { return sessions_.count(b.session) > 0; }
  bool LinkUp(int32_t a, int32_t b) const {
    return !cut_.count({std::min(a, b), std::max(a, b)});
  }

  // Delivers `fn` at broker `to` (a process of pid `pid`) after a network delay, unless
  // dropped. A paused broker gets it when it resumes; a restarted one never.
  void Send(int32_t from, int32_t to, std::function<void()> fn) {
    if (!LinkUp(from, to) || (faults_on_ && rng_.Chance(1.0))) return;
    const uint64_t pid = B(to).pid;
    SimTime delay = rng_.Range(100, 3000);
    if (faults_on_ && rng_.Chance(3)) delay += rng_.Range(5 * kMs, 60 * kMs);  // reorder
    sched_.After(delay, [this, from, to, pid, fn = std::move(fn)] {
      Broker& b = B(to);
      if (!b.up || b.pid != pid || !LinkUp(from, to)) return;
      if (b.paused) {
        b.held.push_back(fn);
        return;
      }
      fn();
      AfterEvent(b);
    });
  }
  // A timer of broker `id`'s current process: skipped once it restarted, deferred while paused.
  void Timer(int32_t id, SimTime delay, std::function<void()> fn) {
    const uint64_t pid = B(id).pid;
    sched_.After(delay, [this, id, pid, fn = std::move(fn)] {
      Broker& b = B(id);
      if (!b.up || b.pid != pid) return;
      if (b.paused) {
        b.held.push_back(fn);
        return;
      }
      fn();
      AfterEvent(b);
    });
  }

  // ---- ZooKeeper model ----
  struct Registration {
    int64_t czxid;
    int64_t session;
  };
  void ZkWritePartition(const PartitionState& s);
  void ZkMembershipChanged();
  void RefreshControllerView(int32_t controller, SimTime delay);
  void ZkTick();
  void Register(Broker& b);
  void NewSession(Broker& b);

  // ---- controller ----
  void ElectController();
  void ControllerReconcile(bool prefer);
  void ControllerTick();

  // ---- ClusterNode ----
  void WatchFired(int32_t id);
  void Apply(Broker& b, const PartitionState& s);
  void StepDownAll(Broker& b);
  void Heartbeat(int32_t id);
  void IsrTick(int32_t id);
  void MetadataTick(int32_t id);

  // ---- BrokerService: roles ----
  bool BecomeLeader(Broker& b, const PartitionState& s);
  void BecomeFollower(Broker& b, int64_t epoch, int32_t leader);
  void Resign(Broker& b, int64_t epoch);
  void NewRole(Broker& b);
  void OnIsrCommitted(Broker& b, int64_t epoch, const std::vector<int32_t>& isr);

  // ---- BrokerService: storage and replication ----
  void Submit(Broker& b, int l, CommitItem item);
  void CommitNext(int32_t id, int l);
  void OnDurable(Broker& b, int l, uint64_t end);
  void FollowerStep(Broker& b);
  void SendEpochEnd(Broker& b);
  void ArmRpcTimeout(int32_t self, uint64_t rpc, uint64_t gen);
  void RetryLater(int32_t self, uint64_t gen);
  void SendFetch(Broker& b);
  // `parked_before`: a parked fetch re-examined (its timer is already set).
  void HandleFetch(Broker& leader, ParkedFetch f, bool parked_before = false);
  void WakeParked(Broker& b);
  void AppendAsLeader(Broker& b, int l, uint64_t id, int32_t key, int32_t seq,
                      std::function<void(bool, uint64_t)> reply);
  void CheckWrites(Broker& b);

  // ---- faults and clients ----
  void Crash(int32_t id);
  void Start(int32_t id);
  void GracefulStop(int32_t id);
  void Pause(int32_t id, SimTime for_us);
  void Resume(int32_t id);
  void InjectFault();
  void ClientTick(int c);
  void ClientSend(int c);
  void Heal();

  // ---- checker ----
  void AfterEvent(Broker& touched);
  void CheckLogMatching(int l);
  void CheckCommitted(Broker& b, int l, uint64_t hwm);
  void CheckLeaderComplete(Broker& b, const char* when);
  void CheckLeaderLog(Broker& b);
  bool Settled();
  void FinalCheck();

  const SimOptions o_;
  Rng rng_;
  Scheduler sched_;
  SimResult result_;
  std::vector<Broker> brokers_;
  std::vector<int32_t> replicas_;

  // ZooKeeper
  bool zk_up_ = true;
  std::set<int32_t> zk_cut_;  // brokers cut off from ZooKeeper
  int64_t zxid_ = 100;
  PartitionState state_;
  std::map<int32_t, Registration> regs_;
  std::map<int64_t, std::pair<int32_t, SimTime>> sessions_;  // live: id -> broker, last heard
  Controller ctl_;

  // Network
  std::set<std::pair<int32_t, int32_t>> cut_;
  bool faults_on_ = true;

  // Clients: one per key on the message log, one writer of group-log ops.
  struct Client {
    int log = 0;
    int32_t key = -1;
    int32_t seq = 0;       // next sequence number to write
    uint64_t id = 0;       // the write in flight (0: none)
    int32_t target = 1;    // the broker it believes leads
    bool in_flight = false;
  };
  std::vector<Client> clients_;
  uint64_t next_id_ = 1;
  uint64_t next_rpc_ = 0;
  bool clients_on_ = true;

  // Checker state: per log, the committed history (offset -> entry) and acknowledged ids.
  std::array<std::vector<Entry>, kLogs> committed_;
  std::array<std::map<uint64_t, uint64_t>, kLogs> acked_;  // offset -> id
  std::array<bool, kLogs> dirty_{};
  int32_t last_leader_ = -1;
};

// =========================================================================================
// ZooKeeper

void Sim::ZkWritePartition(const PartitionState& s) {
  state_ = s;
  state_.version = state_.version + 1;
  ++zxid_;
  for (Broker& b : brokers_) {
    if (!b.up || b.session == 0) continue;
    if (faults_on_ && rng_.Chance(3)) continue;  // a lost watch (a read that failed)
    const int32_t id = b.id;
    Timer(id, rng_.Range(200, 8000), [this, id] { WatchFired(id); });
  }
}

void Sim::ZkMembershipChanged() {
  // The controller's children watch: its view is refreshed a little later.
  if (ctl_.broker > 0) RefreshControllerView(ctl_.broker, rng_.Range(200, 8000));
}

// Membership::Refresh on the controller: a read that fails (ZooKeeper unreachable) is tried
// again until it succeeds (RetryLater, or the next kConnected).
void Sim::RefreshControllerView(int32_t c, SimTime delay) {
  Timer(c, delay, [this, c] {
    if (ctl_.broker != c) return;
    if (!ZkReachable(B(c))) {
      RefreshControllerView(c, 100 * kMs);
      return;
    }
    coordinator::LiveBrokers now;
    for (auto& [id, r] : regs_) now[id] = r.czxid;
    ctl_.live = now;
    for (auto it = ctl_.leaving.begin(); it != ctl_.leaving.end();) {  // ClusterNode::OnBrokers
      auto l = now.find(it->first);
      it = l != now.end() && l->second == it->second ? std::next(it) : ctl_.leaving.erase(it);
    }
    ControllerReconcile(false);
  });
}

void Sim::ZkTick() {
  if (zk_up_) {
    std::vector<int64_t> dead;
    for (auto& [sid, s] : sessions_) {
      if (sched_.now() - s.second > kSessionUs) dead.push_back(sid);
    }
    for (int64_t sid : dead) {
      const int32_t broker = sessions_[sid].first;
      sessions_.erase(sid);
      Trace("zk: session of broker " + std::to_string(broker) + " expired");
      auto it = regs_.find(broker);
      if (it != regs_.end() && it->second.session == sid) {
        regs_.erase(it);
        ZkMembershipChanged();
      }
      if (ctl_.broker == broker && ctl_.session == sid) ctl_.broker = -1;
      if (ctl_.broker < 0) {
        sched_.After(rng_.Range(1 * kMs, 20 * kMs), [this] { ElectController(); });
      }
    }
  }
  sched_.After(20 * kMs, [this] { ZkTick(); });
}

void Sim::NewSession(Broker& b) {
  b.session = ++zxid_;
  sessions_[b.session] = {b.id, sched_.now()};
  b.last_contact = sched_.now();
  b.expired_seen = false;
  Register(b);
}

void Sim::Register(Broker& b) {
  // Membership::Register: create, or reclaim a node of our own URL (a previous incarnation).
  auto it = regs_.find(b.id);
  if (it != regs_.end() && it->second.session == b.session) return;
  regs_[b.id] = Registration{++zxid_, b.session};
  b.incarnation = regs_[b.id].czxid;
  Trace("broker " + std::to_string(b.id) + " registered, incarnation " +
        std::to_string(b.incarnation));
  ZkMembershipChanged();
  if (ctl_.broker < 0) sched_.After(rng_.Range(1 * kMs, 10 * kMs), [this] { ElectController(); });
}

// =========================================================================================
// Controller (ClusterNode's controller half; DecidePartition is the real one)

void Sim::ElectController() {
  if (ctl_.broker > 0 || !zk_up_) return;
  for (Broker& b : brokers_) {
    if (b.up && !b.paused && b.session != 0 && regs_.count(b.id) && ZkReachable(b)) {
      ctl_.broker = b.id;
      ctl_.session = b.session;
      ctl_.live.clear();
      for (auto& [id, r] : regs_) ctl_.live[id] = r.czxid;
      ctl_.leaving.clear();
      Trace("controller: broker " + std::to_string(b.id));
      ControllerReconcile(false);
      return;
    }
  }
  sched_.After(50 * kMs, [this] { ElectController(); });
}

void Sim::ControllerReconcile(bool prefer) {
  if (ctl_.broker < 0) return;
  Broker& c = B(ctl_.broker);
  if (!ZkReachable(c) || !SafeToAct(c)) return;
  // Read now, write a moment later with the version read (others may write in between).
  PartitionState read = state_;
  coordinator::LiveBrokers live = ctl_.live;
  if (o_.legacy_epoch_reuse) {
    for (auto& [id, inc] : live) inc = 0;  // before the fix: incarnations were not recorded
  }
  std::set<int32_t> leaving;
  for (auto& [id, incarnation] : ctl_.leaving) leaving.insert(id);
  auto want = coordinator::DecidePartition(read, live, leaving, prefer);
  if (!want) return;
  const int32_t cid = c.id;
  Timer(cid, rng_.Range(100, 3000), [this, cid, want = *want] {
    if (ctl_.broker != cid || !zk_up_ || !ZkReachable(B(cid)) || !SessionAlive(B(cid)) ||
        state_.version != want.version) {
      return;
    }
    Trace("controller: leader " + std::to_string(state_.leader) + " -> " +
          std::to_string(want.leader) + " epoch " + std::to_string(state_.epoch) + " -> " +
          std::to_string(want.epoch) + " incarnation " + std::to_string(want.leader_incarnation) +
          " isr " + List(state_.isr) + " -> " + List(want.isr));
    if (want.leader != state_.leader || want.epoch != state_.epoch) ++result_.leader_changes;
    ZkWritePartition(want);
  });
}

void Sim::ControllerTick() {
  if (ctl_.broker > 0 && B(ctl_.broker).up && !B(ctl_.broker).paused) ControllerReconcile(true);
  sched_.After(kReconcileUs, [this] { ControllerTick(); });
}

// =========================================================================================
// ClusterNode

void Sim::WatchFired(int32_t id) {
  Broker& b = B(id);
  if (!ZkReachable(b) || b.expired_seen) return;  // the read fails: retried by MetadataTick
  Apply(b, state_);
}

void Sim::Apply(Broker& b, const PartitionState& s) {
  if (b.view && s.version < b.view->version) return;
  b.view = s;
  Role role = coordinator::RoleFor(s, b.id, b.incarnation);
  if (o_.legacy_epoch_reuse && s.leader == b.id) role = Role::kLead;
  bool ok = true;
  switch (role) {
    case Role::kLead:
      ok = BecomeLeader(b, s);
      break;
    case Role::kFollow:
      BecomeFollower(b, s.epoch, s.leader);
      break;
    case Role::kNone:
    case Role::kAwaitGrant:
      Resign(b, s.epoch);
      break;
  }
  b.apply_failed = !ok;
}

void Sim::StepDownAll(Broker& b) {
  if (b.view && b.view->leader == b.id) Resign(b, b.view->epoch);
}

void Sim::Heartbeat(int32_t id) {
  Broker& b = B(id);
  if (ZkReachable(b)) {
    auto it = sessions_.find(b.session);
    if (it != sessions_.end()) {
      it->second.second = sched_.now();
      b.last_contact = sched_.now();
    } else if (b.session != 0 || b.expired_seen) {
      // Expired: step down, then a new session and registration (a new incarnation), and
      // every partition state read again (ClusterNode's session listener).
      Trace("broker " + std::to_string(id) + " learns its session expired");
      b.expired_seen = true;
      StepDownAll(b);
      NewSession(b);
      Apply(b, state_);
    }
  }
  Timer(id, kHeartbeatUs, [this, id] { Heartbeat(id); });
}

void Sim::IsrTick(int32_t id) {
  Broker& b = B(id);
  auto& lg = b.logs[0];
  if (lg.leader && SafeToAct(b) && ZkReachable(b)) {
    if (auto want = broker::ProposedIsr(*lg.leader, *b.logs[1].leader, NowMs(), kLagMaxMs)) {
      for (auto& l : b.logs) l.leader->OnIsrProposed(*want);
      PartitionState read = state_;
      const uint64_t gen = b.gen;
      auto abandon = [this, id, gen] {
        Broker& b = B(id);
        if (b.gen != gen) return;
        for (int l = 0; l < kLogs; ++l) {
          b.logs[l].hwm = std::max(b.logs[l].hwm, b.logs[l].leader->OnIsrAbandoned());
        }
      };
      std::vector<int32_t> zk_isr = read.isr, from = lg.leader->isr();
      std::sort(zk_isr.begin(), zk_isr.end());
      std::sort(from.begin(), from.end());
      if (read.leader != id || read.epoch != b.epoch) {
        abandon();
      } else if (zk_isr != from) {  // ClusterNode::IsrTick: the controller moved the ISR
        abandon();
        OnIsrCommitted(b, read.epoch, read.isr);
      } else {
        read.isr = *want;
        Timer(id, rng_.Range(100, 3000), [this, id, read, gen, abandon] {
          Broker& b = B(id);
          if (!zk_up_ || !ZkReachable(b) || !SessionAlive(b)) return;  // unknown: stays pending
          if (state_.version != read.version) {
            abandon();
            return;
          }
          Trace("broker " + std::to_string(id) + " writes isr of epoch " +
                std::to_string(read.epoch) + ": " + List(state_.isr) + " -> " + List(read.isr));
          ZkWritePartition(read);
          if (b.gen == gen) OnIsrCommitted(b, read.epoch, read.isr);
        });
      }
    }
  }
  Timer(id, kIsrTickUs, [this, id] { IsrTick(id); });
}

void Sim::MetadataTick(int32_t id) {
  Broker& b = B(id);
  if (!o_.no_metadata_check && ZkReachable(b) && !b.expired_seen) {
    if (!b.view || b.view->version != state_.version || b.apply_failed) Apply(b, state_);
  }
  Timer(id, kMetadataCheckUs, [this, id] { MetadataTick(id); });
}

// =========================================================================================
// BrokerService: roles (broker/service/replica_manager.cc, replica_follower.cc)

void Sim::NewRole(Broker& b) {
  ++b.gen;
  b.lead_after.reset();
  b.barrier_left = 0;
  b.follow = Broker::Follow::kIdle;
  b.rpc_id = 0;
  b.waiting_commit = false;
  for (auto& lg : b.logs) lg.leader.reset();
  // Writes waiting for a high watermark under the old role are answered "not leader".
  auto writes = std::move(b.writes);
  b.writes.clear();
  for (auto& w : writes) w.reply(false, 0);
  auto parked = std::move(b.parked);
  b.parked.clear();
  for (auto& f : parked) f.reply(false, 0, {}, {}, {});
}

bool Sim::BecomeLeader(Broker& b, const PartitionState& s) {
  if (s.epoch == b.epoch && b.leading) {
    OnIsrCommitted(b, s.epoch, s.isr);
    return true;
  }
  if (s.epoch < b.epoch) return true;  // stale: ignored
  if (!o_.legacy_epoch_reuse &&
      !broker::CanLeadEpoch(s.epoch, b.epoch, b.logs[0].epochs, b.logs[1].epochs)) {
    Trace("broker " + std::to_string(b.id) + " refuses epoch " + std::to_string(s.epoch));
    return true;
  }
  // The store barrier: commits queued before the lead land first (the follower loop of the
  // current role goes on meanwhile, as in the service).
  const int queued = static_cast<int>(b.logs[0].queue.size() + b.logs[1].queue.size());
  if (queued > 0 && !(b.lead_after && b.lead_after->version == s.version)) {
    b.lead_after = s;
    b.barrier_left = queued;
    return true;
  }
  if (b.lead_after) {
    if (b.barrier_left > 0) return true;  // still waiting
    b.lead_after.reset();
  }
  NewRole(b);
  b.leading = true;
  b.epoch = s.epoch;
  b.leader_id = b.id;
  for (auto& lg : b.logs) {
    lg.epochs.Assign(s.epoch, lg.mem.size());
    lg.leader.emplace(b.id, s.epoch, s.replicas, s.isr, lg.mem.size(), lg.durable, lg.hwm,
                      NowMs());
    lg.leader->OnAppend(lg.mem.size());
    lg.hwm = std::max(lg.hwm, lg.leader->OnDurable(lg.durable));
  }
  Trace("broker " + std::to_string(b.id) + " leads epoch " + std::to_string(s.epoch) +
        " log_end " + std::to_string(b.logs[0].mem.size()) + " durable " +
        std::to_string(b.logs[0].durable));
  CheckLeaderComplete(b, "taking the lead");
  CheckLeaderLog(b);
  OnIsrCommitted(b, s.epoch, s.isr);
  return true;
}

void Sim::BecomeFollower(Broker& b, int64_t epoch, int32_t leader) {
  if (epoch < b.epoch) return;
  if (epoch == b.epoch && !b.leading && b.leader_id == leader) return;
  NewRole(b);
  b.leading = false;
  b.epoch = epoch;
  b.leader_id = leader;
  b.follow = Broker::Follow::kTruncating;
  b.trunc_log = 0;
  b.asked = -1;
  Trace("broker " + std::to_string(b.id) + " follows " + std::to_string(leader) + " at epoch " +
        std::to_string(epoch) + " log_end " + std::to_string(b.logs[0].mem.size()));
  FollowerStep(b);
}

void Sim::Resign(Broker& b, int64_t epoch) {
  if (epoch < b.epoch) return;
  if (!b.leading && b.epoch == epoch) return;
  NewRole(b);
  b.leading = false;
  b.epoch = epoch;
  b.leader_id = -1;
  Trace("broker " + std::to_string(b.id) + " serves nothing at epoch " + std::to_string(epoch));
}

void Sim::OnIsrCommitted(Broker& b, int64_t epoch, const std::vector<int32_t>& isr) {
  if (!b.leading || b.epoch != epoch) return;
  for (int l = 0; l < kLogs; ++l) {
    auto& lg = b.logs[l];
    lg.hwm = std::max(lg.hwm, lg.leader->OnIsrCommitted(isr));
    CheckCommitted(b, l, lg.hwm);
  }
}

// =========================================================================================
// BrokerService: storage and replication

void Sim::Submit(Broker& b, int l, CommitItem item) {
  b.logs[l].queue.push_back(std::move(item));
  if (b.logs[l].queue.size() == 1) {
    const int32_t id = b.id;
    SimTime delay = rng_.Range(200, 4000);
    if (faults_on_ && rng_.Chance(4)) delay += rng_.Range(10 * kMs, 150 * kMs);  // slow fsync
    Timer(id, delay, [this, id, l] { CommitNext(id, l); });
  }
}

void Sim::CommitNext(int32_t id, int l) {
  Broker& b = B(id);
  auto& lg = b.logs[l];
  if (lg.queue.empty()) return;
  CommitItem item = std::move(lg.queue.front());
  lg.queue.pop_front();
  if (!item.flushed) {
    if (item.truncate) {
      if (lg.disk.size() > item.point) lg.disk.resize(item.point);
    } else {
      if (lg.disk.size() > item.from) lg.disk.resize(item.from);
      for (const Entry& e : item.entries) Push(lg.disk, e);
    }
  }
  if (!item.truncate) OnDurable(b, l, item.from + item.entries.size());
  if (b.lead_after && --b.barrier_left <= 0) {
    PartitionState s = *b.lead_after;
    if (b.view && b.view->version == s.version) BecomeLeader(b, s);
  }
  if (!lg.queue.empty()) {
    Timer(id, rng_.Range(200, 4000), [this, id, l] { CommitNext(id, l); });
  }
  if (b.waiting_commit && b.logs[0].queue.empty() && b.logs[1].queue.empty()) {
    b.waiting_commit = false;
    FollowerStep(b);
  }
}

// Partition::OnDurableLocked (broker/service/topic_state.cc)
void Sim::OnDurable(Broker& b, int l, uint64_t end) {
  auto& lg = b.logs[l];
  end = std::min<uint64_t>(end, lg.mem.size());
  if (end > lg.durable) lg.durable = end;
  if (lg.leader) {
    lg.hwm = std::max(lg.hwm, lg.leader->OnDurable(lg.durable));
  } else {
    lg.hwm = std::max(lg.hwm, std::min(lg.leader_hwm, lg.durable));
  }
  CheckCommitted(b, l, lg.hwm);
}

// The follower loop: truncation by epoch for each log, then fetch, append, commit, repeat.
void Sim::FollowerStep(Broker& b) {
  if (b.leading || b.follow == Broker::Follow::kIdle || b.rpc_id != 0 || b.waiting_commit) return;
  if (b.follow == Broker::Follow::kTruncating) {
    while (b.trunc_log < kLogs) {
      auto& lg = b.logs[b.trunc_log];
      if (b.asked < 0) b.asked = lg.epochs.LatestEpoch();
      if (b.asked >= 0 && !lg.mem.empty()) break;
      ++b.trunc_log;  // nothing to compare
      b.asked = -1;
    }
    if (b.trunc_log == kLogs) {
      b.follow = Broker::Follow::kFetching;
    } else {
      SendEpochEnd(b);
      return;
    }
  }
  SendFetch(b);
}

// A follower's request without an answer is given up after a while (an HTTP timeout).
void Sim::ArmRpcTimeout(int32_t self, uint64_t rpc, uint64_t gen) {
  Timer(self, kRpcTimeoutUs, [this, self, rpc, gen] {
    Broker& f = B(self);
    if (f.gen == gen && f.rpc_id == rpc) {
      f.rpc_id = 0;
      FollowerStep(f);
    }
  });
}

// The follower loop's pause after a failed request.
void Sim::RetryLater(int32_t self, uint64_t gen) {
  Timer(self, kRetryUs, [this, self, gen] {
    if (B(self).gen == gen) FollowerStep(B(self));
  });
}

void Sim::SendEpochEnd(Broker& b) {
  const uint64_t rpc = ++next_rpc_;
  b.rpc_id = rpc;
  const int32_t self = b.id, leader = b.leader_id;
  const int l = b.trunc_log;
  const int64_t ask = b.asked;
  const uint64_t gen = b.gen;
  auto answer = [this, self, rpc, gen, l, ask](bool ok, std::pair<int64_t, uint64_t> a) {
    Broker& f = B(self);
    if (f.gen != gen || f.rpc_id != rpc) return;
    f.rpc_id = 0;
    if (!ok) return RetryLater(self, gen);
    auto& lg = f.logs[l];
    broker::TruncationStep step = broker::NextTruncationStep(lg.epochs, lg.mem.size(), ask, a);
    if (o_.trace) {
      std::string mine;
      for (auto& [e, start] : lg.epochs.entries()) {
        mine += " " + std::to_string(e) + "@" + std::to_string(start);
      }
      Trace("broker " + std::to_string(self) + " asked where epoch " + std::to_string(ask) +
            " of its " + LogName(l) + " ends: (" + std::to_string(a.first) + ", " +
            std::to_string(a.second) + "); its epochs:" + mine + "; log end " +
            std::to_string(lg.mem.size()));
    }
    if (!step.done) {
      f.asked = step.next_ask;
      FollowerStep(f);
      return;
    }
    if (step.point < lg.mem.size()) {
      Trace("broker " + std::to_string(self) + " truncates its " + LogName(l) + " [" +
            std::to_string(step.point) + ", " + std::to_string(lg.mem.size()) + ")");
      lg.mem.resize(step.point);
      lg.epochs.TruncateTo(step.point);
      lg.durable = std::min<uint64_t>(lg.durable, step.point);
      if (lg.hwm > step.point) lg.hwm = step.point;
      CommitItem t;
      t.truncate = true;
      t.point = step.point;
      Submit(f, l, std::move(t));
      f.waiting_commit = true;  // TruncateByEpoch writes synchronously
      dirty_[l] = true;
    }
    ++f.trunc_log;
    f.asked = -1;
    FollowerStep(f);
  };
  Send(self, leader, [this, leader, self, l, ask, answer] {
    Broker& ld = B(leader);
    std::pair<int64_t, uint64_t> a{-1, 0};
    bool ok = ld.leading;
    if (ok) a = ld.logs[l].epochs.EndOffsetFor(ask, ld.logs[l].mem.size());
    Send(leader, self, [answer, ok, a] { answer(ok, a); });
  });
  ArmRpcTimeout(self, rpc, gen);
}

void Sim::SendFetch(Broker& b) {
  const uint64_t rpc = ++next_rpc_;
  b.rpc_id = rpc;
  const int32_t self = b.id, leader = b.leader_id;
  const uint64_t gen = b.gen;
  ParkedFetch f;
  f.fetch_id = rpc;
  f.replica = self;
  for (int l = 0; l < kLogs; ++l) f.offset[l] = b.logs[l].durable;
  f.epoch = b.epoch;
  f.reply = [this, self, leader, rpc, gen](bool ok, int64_t epoch,
                                           std::array<std::vector<Entry>, kLogs> entries,
                                           std::array<uint64_t, kLogs> from,
                                           std::array<uint64_t, kLogs> hwm) {
    Send(leader, self, [this, self, rpc, gen, ok, entries = std::move(entries), from, hwm] {
      Broker& f = B(self);
      if (f.gen != gen || f.rpc_id != rpc) return;
      f.rpc_id = 0;
      if (!ok) return RetryLater(self, gen);
      for (int l = 0; l < kLogs; ++l) {
        auto& lg = f.logs[l];
        CommitItem item;
        item.from = lg.mem.size();
        for (size_t i = 0; i < entries[l].size(); ++i) {
          if (from[l] + i != lg.mem.size()) continue;  // not contiguous: fetched again
          Push(lg.mem, entries[l][i]);
          lg.epochs.Assign(entries[l][i].epoch, from[l] + i);
          item.entries.push_back(entries[l][i]);
        }
        lg.leader_hwm = std::max(lg.leader_hwm, hwm[l]);
        if (o_.trace && !item.entries.empty()) {
          std::string ids;
          for (const Entry& e : item.entries) ids += " " + std::to_string(e.id);
          Trace("broker " + std::to_string(self) + " appends to its " + LogName(l) + " at " +
                std::to_string(item.from) + ":" + ids);
        }
        if (item.entries.empty()) {
          OnDurable(f, l, 0);
        } else {
          dirty_[l] = true;
          Submit(f, l, std::move(item));
          f.waiting_commit = true;
        }
      }
      FollowerStep(f);
    });
  };
  Send(self, leader, [this, leader, f] {
    ParkedFetch copy = f;
    copy.deadline = sched_.now() + kFetchWaitUs;
    HandleFetch(B(leader), std::move(copy));
  });
  ArmRpcTimeout(self, rpc, gen);
}

// ReplicaManager::Fetch: record the follower's position, answer from the log end (committed
// here or not: pipelining), long-poll while there is nothing new.
void Sim::HandleFetch(Broker& ld, ParkedFetch f, bool parked_before) {
  if (!ld.leading || f.epoch != ld.epoch) {
    f.reply(false, ld.epoch, {}, {}, {});
    return;
  }
  std::array<std::vector<Entry>, kLogs> entries;
  std::array<uint64_t, kLogs> from{}, hwm{};
  bool any = false;
  if (o_.trace) {
    Trace("broker " + std::to_string(ld.id) + " gets a fetch from " + std::to_string(f.replica) +
          " at " + std::to_string(f.offset[0]) + "/" + std::to_string(f.offset[1]));
  }
  for (int l = 0; l < kLogs; ++l) {
    auto& lg = ld.logs[l];
    lg.hwm = std::max(lg.hwm, lg.leader->OnFetch(f.replica, f.offset[l], NowMs()));
    CheckCommitted(ld, l, lg.hwm);
    hwm[l] = lg.hwm;
    from[l] = f.offset[l];
    for (uint64_t o = f.offset[l]; o < lg.mem.size() && entries[l].size() < kMaxFetchEntries;
         ++o) {
      entries[l].push_back(lg.mem[o]);
    }
    any = any || !entries[l].empty();
  }
  CheckWrites(ld);
  if (any || sched_.now() >= f.deadline) {
    f.reply(true, ld.epoch, std::move(entries), from, hwm);
    return;
  }
  const uint64_t fid = f.fetch_id;
  const SimTime wait = f.deadline - sched_.now();
  ld.parked.push_back(std::move(f));
  if (parked_before) return;
  const int32_t id = ld.id;
  const uint64_t gen = ld.gen;
  Timer(id, wait, [this, id, fid, gen] {
    Broker& ld = B(id);
    if (ld.gen != gen) return;
    for (size_t i = 0; i < ld.parked.size(); ++i) {
      if (ld.parked[i].fetch_id == fid) {
        ParkedFetch p = std::move(ld.parked[i]);
        ld.parked.erase(ld.parked.begin() + static_cast<long>(i));
        HandleFetch(ld, std::move(p), true);
        return;
      }
    }
  });
}

void Sim::WakeParked(Broker& b) {
  auto parked = std::move(b.parked);
  b.parked.clear();
  for (auto& f : parked) HandleFetch(b, std::move(f), true);
}

// BrokerService::Produce / AppendGroupLog on the leader: the entry is appended (followers
// may fetch it at once) and committed locally; the answer waits for the high watermark.
void Sim::AppendAsLeader(Broker& b, int l, uint64_t id, int32_t key, int32_t seq,
                         std::function<void(bool, uint64_t)> reply) {
  auto& lg = b.logs[l];
  if (!b.leading || !lg.leader || !SafeToAct(b)) return reply(false, 0);
  if (static_cast<int>(lg.leader->isr().size()) < o_.min_insync_replicas) return reply(false, 0);
  uint64_t offset = lg.mem.size();
  for (uint64_t o = 0; o < lg.mem.size(); ++o) {  // the dedup window
    if (lg.mem[o].id == id) offset = o;
  }
  if (offset == lg.mem.size()) {
    Entry e{b.epoch, id, key, seq, 0};
    Push(lg.mem, e);
    lg.leader->OnAppend(lg.mem.size());
    CommitItem item;
    item.from = offset;
    item.entries.push_back(e);
    Submit(b, l, std::move(item));
    dirty_[l] = true;
  }
  b.writes.push_back(
      PendingWrite{l, id, offset, b.gen, sched_.now() + kWriteTimeoutUs, std::move(reply)});
  WakeParked(b);
}

// Answers the writes whose offsets the high watermark passed, while the session is safely
// ours (the ack guard); writes of an old role were answered at the role change.
void Sim::CheckWrites(Broker& b) {
  for (size_t i = 0; i < b.writes.size();) {
    PendingWrite& w = b.writes[i];
    const auto& lg = b.logs[w.log];
    const bool committed = b.leading && b.gen == w.gen && lg.hwm > w.offset;
    // Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND: committed by an ISR smaller than
    // min_insync_replicas (it shrank after the append) is not acknowledged.
    const bool enough =
        committed && static_cast<int>(lg.leader->isr().size()) >= o_.min_insync_replicas;
    const bool done = committed && enough && SafeToAct(b);
    const bool expired = sched_.now() >= w.deadline || (committed && !enough);
    if (!done && !expired) {
      ++i;
      continue;
    }
    if (done) {
      // Acknowledged means on the disks of at least min_insync_replicas replicas: the kill
      // of any one broker cannot lose it.
      int copies = 0;
      for (const Broker& r : brokers_) {
        const auto& d = r.logs[w.log].disk;
        if (d.size() > w.offset && d[w.offset].id == w.id) ++copies;
      }
      if (copies < o_.min_insync_replicas) {
        std::string disks;
        for (const Broker& r : brokers_) {
          const auto& d = r.logs[w.log].disk;
          disks += " broker " + std::to_string(r.id) + ": " +
                   (d.size() > w.offset ? "id " + std::to_string(d[w.offset].id)
                                        : "ends at " + std::to_string(d.size())) +
                   " (match " + std::to_string(lg.leader->MatchOf(r.id)) + ");";
        }
        Fail("broker " + std::to_string(b.id) + " acknowledges id " + std::to_string(w.id) +
             " at " + LogName(w.log) + " offset " + std::to_string(w.offset) + " held by " +
             std::to_string(copies) + " disk(s), fewer than min_insync_replicas " +
             std::to_string(o_.min_insync_replicas) + " (isr " + List(lg.leader->isr()) +
             "; disks:" + disks + ")");
      }
      if (lg.mem[w.offset].id != w.id) {
        Fail("broker " + std::to_string(b.id) + " acknowledges id " + std::to_string(w.id) +
             " at " + std::to_string(w.offset) + " of its " + LogName(w.log) +
             " which holds id " + std::to_string(lg.mem[w.offset].id) + " there");
      }
      auto [it, fresh] = acked_[w.log].emplace(w.offset, w.id);
      if (!fresh && it->second != w.id) {
        Fail("offset " + std::to_string(w.offset) + " of the " + LogName(w.log) +
             " acknowledged as id " + std::to_string(it->second) + " and as id " +
             std::to_string(w.id));
      }
      if (fresh) ++result_.acked;
      Trace("broker " + std::to_string(b.id) + " acks id " + std::to_string(w.id) + " at " +
            LogName(w.log) + " offset " + std::to_string(w.offset));
    }
    auto reply = std::move(w.reply);
    const uint64_t offset = w.offset;
    b.writes.erase(b.writes.begin() + static_cast<long>(i));
    reply(done, offset);
  }
}

// =========================================================================================
// Faults

void Sim::Crash(int32_t id) {
  Broker& b = B(id);
  if (!b.up) return;
  Trace("FAULT kill -9 broker " + std::to_string(id));
  ++result_.faults;
  b.up = false;
  b.paused = false;
  b.held.clear();
  b.writes.clear();
  b.parked.clear();
  for (auto& lg : b.logs) {
    lg.queue.clear();
    lg.leader.reset();
  }
  // Its election node lives as long as its session: no new controller before that expires
  // (ZkTick) or the broker comes back (Register).
  if (ctl_.broker == id) ctl_.broker = -1;
  // The session lives on in ZooKeeper until it expires; restart inside it or after it.
  const SimTime after = rng_.Chance(60) ? rng_.Range(20 * kMs, kSessionUs - 50 * kMs)
                                        : rng_.Range(kSessionUs, 2 * kSessionUs);
  sched_.After(after, [this, id] { Start(id); });
}

// A new process on the same data: the log is what the disk holds; roles come from ZooKeeper.
void Sim::Start(int32_t id) {
  Broker& b = B(id);
  if (b.up) return;
  if (!zk_up_ || zk_cut_.count(id)) {  // ClusterNode::Start needs ZooKeeper
    sched_.After(50 * kMs, [this, id] { Start(id); });
    return;
  }
  ++b.pid;
  b.up = true;
  b.paused = false;
  b.leaving = false;
  b.gen += 1;
  b.leading = false;
  b.epoch = -1;
  b.leader_id = -1;
  b.follow = Broker::Follow::kIdle;
  b.rpc_id = 0;
  b.waiting_commit = false;
  b.view.reset();
  b.apply_failed = false;
  b.lead_after.reset();
  b.barrier_left = 0;
  for (auto& lg : b.logs) {
    lg.mem.clear();
    for (const Entry& e : lg.disk) Push(lg.mem, e);
    lg.durable = lg.disk.size();
    lg.hwm = 0;
    lg.leader_hwm = 0;
    lg.epochs = EpochCache();
    for (uint64_t o = 0; o < lg.mem.size(); ++o) lg.epochs.Assign(lg.mem[o].epoch, o);
  }
  Trace("broker " + std::to_string(id) + " starts, log_end " +
        std::to_string(b.logs[0].mem.size()));
  NewSession(b);
  Apply(b, state_);
  Timer(id, kHeartbeatUs, [this, id] { Heartbeat(id); });
  Timer(id, kIsrTickUs, [this, id] { IsrTick(id); });
  Timer(id, kMetadataCheckUs, [this, id] { MetadataTick(id); });
}

// SIGTERM: the controller moves leadership away, the broker steps down, commits what is
// queued and closes its session (its registration goes at once).
void Sim::GracefulStop(int32_t id) {
  Broker& b = B(id);
  if (!b.up || b.paused || b.leaving) return;
  Trace("FAULT SIGTERM broker " + std::to_string(id));
  ++result_.faults;
  b.leaving = true;
  if (ctl_.broker > 0) {  // POST /internal/v1/controlled_shutdown (or its own, as controller)
    ctl_.leaving[id] = ctl_.live.count(id) ? ctl_.live[id] : 0;
    ControllerReconcile(false);
  }
  const uint64_t pid = b.pid;
  sched_.After(rng_.Range(5 * kMs, 100 * kMs), [this, id, pid] {
    Broker& b = B(id);
    if (!b.up || b.pid != pid) return;
    StepDownAll(b);
    for (int l = 0; l < kLogs; ++l) {  // Store::Close commits what is queued
      auto& lg = b.logs[l];
      while (!lg.queue.empty()) CommitNext(id, l);
    }
    b.up = false;
    b.paused = false;
    b.held.clear();
    b.writes.clear();
    b.parked.clear();
    for (auto& lg : b.logs) lg.leader.reset();
    sessions_.erase(b.session);
    if (regs_.count(id) && regs_[id].session == b.session) {
      regs_.erase(id);
      ZkMembershipChanged();
    }
    ctl_.leaving.erase(id);
    if (ctl_.broker == id) {
      ctl_.broker = -1;
      sched_.After(rng_.Range(1 * kMs, 20 * kMs), [this] { ElectController(); });
    }
    sched_.After(rng_.Range(20 * kMs, 2 * kSessionUs), [this, id] { Start(id); });
  });
}

void Sim::Pause(int32_t id, SimTime for_us) {
  Broker& b = B(id);
  if (!b.up || b.paused) return;
  Trace("FAULT SIGSTOP broker " + std::to_string(id) + " for " + std::to_string(for_us / kMs) +
        " ms");
  ++result_.faults;
  b.paused = true;
  const uint64_t pid = b.pid;
  sched_.After(for_us, [this, id, pid] {
    if (B(id).pid == pid) Resume(id);
  });
}

void Sim::Resume(int32_t id) {
  Broker& b = B(id);
  if (!b.up || !b.paused) return;
  Trace("broker " + std::to_string(id) + " resumes");
  b.paused = false;
  auto held = std::move(b.held);
  b.held.clear();
  for (auto& fn : held) {
    if (!b.up || b.paused) break;
    fn();
    AfterEvent(b);
  }
}

void Sim::InjectFault() {
  if (!faults_on_ || !result_.ok) return;
  const int32_t id = static_cast<int32_t>(rng_.Range(1, o_.brokers));
  const int32_t leader = state_.leader > 0 && rng_.Chance(60) ? state_.leader : id;
  switch (rng_.Range(0, 9)) {
    case 0:
    case 1:
    case 2:
      Crash(leader);
      break;
    case 3:
      Crash(id);
      break;
    case 4:
      Pause(leader, rng_.Chance(50) ? rng_.Range(50 * kMs, kSessionUs / 2)
                                    : rng_.Range(kSessionUs, 2 * kSessionUs));
      break;
    case 5:
      GracefulStop(leader);
      break;
    case 6: {  // cut a link between two brokers
      int32_t other = static_cast<int32_t>(rng_.Range(1, o_.brokers));
      if (other == leader) break;
      auto link = std::make_pair(std::min(leader, other), std::max(leader, other));
      Trace("FAULT cut link " + std::to_string(link.first) + "-" + std::to_string(link.second));
      ++result_.faults;
      cut_.insert(link);
      sched_.After(rng_.Range(50 * kMs, 2 * kSessionUs), [this, link] { cut_.erase(link); });
      break;
    }
    case 7: {  // cut a broker off ZooKeeper
      Trace("FAULT cut broker " + std::to_string(leader) + " off ZooKeeper");
      ++result_.faults;
      zk_cut_.insert(leader);
      sched_.After(rng_.Range(50 * kMs, 2 * kSessionUs), [this, leader] {
        zk_cut_.erase(leader);
        Start(leader);  // a no-op unless it is down waiting for ZooKeeper
      });
      break;
    }
    case 8: {  // ZooKeeper down and back: sessions do not expire meanwhile
      if (!zk_up_) break;
      Trace("FAULT ZooKeeper down");
      ++result_.faults;
      zk_up_ = false;
      sched_.After(rng_.Range(50 * kMs, kSessionUs), [this] {
        Trace("ZooKeeper back");
        zk_up_ = true;
        for (auto& [sid, s] : sessions_) s.second = sched_.now();
        if (ctl_.broker < 0) ElectController();
      });
      break;
    }
    case 9:
      Crash(id);
      break;
  }
  sched_.After(rng_.Range(40 * kMs, 250 * kMs), [this] { InjectFault(); });
}

void Sim::Heal() {
  faults_on_ = false;
  Trace("HEAL");
  cut_.clear();
  zk_cut_.clear();
  if (!zk_up_) {
    zk_up_ = true;
    for (auto& [sid, s] : sessions_) s.second = sched_.now();
  }
  for (Broker& b : brokers_) {
    if (b.paused) Resume(b.id);
    if (!b.up && !b.leaving) Start(b.id);
  }
  if (ctl_.broker < 0) ElectController();
}

// ---- clients ----------------------------------------------------------------------------

void Sim::ClientTick(int c) {
  if (!clients_on_) return;
  if (!clients_[c].in_flight) ClientSend(c);
  sched_.After(rng_.Range(2 * kMs, 15 * kMs), [this, c] { ClientTick(c); });
}

void Sim::ClientSend(int c) {
  Client& cl = clients_[c];
  if (cl.id == 0) cl.id = next_id_++;
  cl.in_flight = true;
  // Clients route by the metadata they last saw: usually the leader, sometimes a stale one.
  if (state_.leader > 0 && rng_.Chance(85)) cl.target = state_.leader;
  const int32_t target = cl.target;
  const uint64_t id = cl.id;
  const int log = cl.log;
  const int32_t key = cl.key, seq = cl.seq;
  auto done = std::make_shared<bool>(false);
  auto finish = [this, c, id, done](bool acked) {
    if (*done) return;
    *done = true;
    Client& cl = clients_[c];
    if (cl.id != id) return;
    cl.in_flight = false;
    if (acked) {
      cl.id = 0;
      ++cl.seq;
    } else {
      cl.target = static_cast<int32_t>(rng_.Range(1, o_.brokers));  // retry the same id
    }
  };
  // The client's own timeout: a request to a dead or paused broker is retried.
  sched_.After(kWriteTimeoutUs + 100 * kMs, [finish] { finish(false); });
  // Requests come from outside the brokers: never cut by a broker link.
  const uint64_t pid = B(target).pid;
  sched_.After(rng_.Range(100, 2000), [this, target, pid, log, id, key, seq, finish] {
    Broker& b = B(target);
    auto deliver = [this, target, log, id, key, seq, finish] {
      AppendAsLeader(B(target), log, id, key, seq, [this, finish](bool ok, uint64_t) {
        sched_.After(rng_.Range(100, 2000), [finish, ok] { finish(ok); });
      });
    };
    if (!b.up || b.pid != pid) return;
    if (b.paused) {
      b.held.push_back(deliver);
      return;
    }
    deliver();
    AfterEvent(b);
  });
}

// =========================================================================================
// Checker

void Sim::AfterEvent(Broker& touched) {
  if (!result_.ok) return;
  if (++result_.events > kMaxEvents) {
    Fail("runaway schedule: more than " + std::to_string(kMaxEvents) + " events");
    return;
  }
  if (touched.up) CheckWrites(touched);
  for (int l = 0; l < kLogs; ++l) {
    if (dirty_[l]) {
      dirty_[l] = false;
      CheckLogMatching(l);
    }
  }
  // Leader completeness for whoever leads now (the committed history only grows).
  for (Broker& b : brokers_) {
    if (b.up && b.leading) CheckLeaderComplete(b, "leading");
  }
}

// Log Matching: two replicas holding an entry with the same epoch at the same offset hold
// the same entries up to it (crashed brokers count with their disks).
void Sim::CheckLogMatching(int l) {
  for (size_t i = 0; i < brokers_.size() && result_.ok; ++i) {
    for (size_t j = i + 1; j < brokers_.size() && result_.ok; ++j) {
      const auto& a = brokers_[i].up ? brokers_[i].logs[l].mem : brokers_[i].logs[l].disk;
      const auto& c = brokers_[j].up ? brokers_[j].logs[l].mem : brokers_[j].logs[l].disk;
      size_t top = std::min(a.size(), c.size());
      while (top > 0 && a[top - 1].epoch != c[top - 1].epoch) --top;
      if (top == 0 || a[top - 1].chain == c[top - 1].chain) continue;
      const uint64_t o = FirstDifference(a, c, top);
      Fail("Log Matching broken in the " + std::string(LogName(l)) + ": brokers " +
           std::to_string(brokers_[i].id) + " and " + std::to_string(brokers_[j].id) +
           " both hold epoch " + std::to_string(a[top - 1].epoch) + " at offset " +
           std::to_string(top - 1) + " but differ at offset " + std::to_string(o) + " (id " +
           std::to_string(a[o].id) + " epoch " + std::to_string(a[o].epoch) + " vs id " +
           std::to_string(c[o].id) + " epoch " + std::to_string(c[o].epoch) + ")");
    }
  }
}

// Everything below a replica's high watermark is the one committed history.
void Sim::CheckCommitted(Broker& b, int l, uint64_t hwm) {
  auto& h = committed_[l];
  const auto& mem = b.logs[l].mem;
  if (hwm > mem.size()) {
    Fail("broker " + std::to_string(b.id) + " has a " + LogName(l) + " high watermark " +
         std::to_string(hwm) + " past its log end " + std::to_string(mem.size()));
    return;
  }
  if (hwm == 0) return;
  const uint64_t shared = std::min<uint64_t>(hwm, h.size());
  if (shared > 0 && mem[shared - 1].chain != h[shared - 1].chain) {
    const uint64_t o = FirstDifference(mem, h, shared);
    Fail("divergence below the high watermark of the " + std::string(LogName(l)) + ": broker " +
         std::to_string(b.id) + " (hwm " + std::to_string(hwm) + ") holds id " +
         std::to_string(mem[o].id) + " epoch " + std::to_string(mem[o].epoch) + " at offset " +
         std::to_string(o) + ", committed there: id " + std::to_string(h[o].id) + " epoch " +
         std::to_string(h[o].epoch));
    return;
  }
  if (hwm > h.size()) {
    Trace("committed " + std::string(LogName(l)) + " [" + std::to_string(h.size()) + ", " +
          std::to_string(hwm) + ") by broker " + std::to_string(b.id) + "'s high watermark");
  }
  for (uint64_t o = h.size(); o < hwm; ++o) h.push_back(mem[o]);
}

// A broker that leads holds every committed entry (else an acknowledged write is lost).
void Sim::CheckLeaderComplete(Broker& b, const char* when) {
  for (int l = 0; l < kLogs && result_.ok; ++l) {
    const auto& h = committed_[l];
    const auto& mem = b.logs[l].mem;
    if (HoldsPrefix(mem, h)) continue;
    // A deposed leader that does not know it yet may lag (it can no longer acknowledge).
    if (!(state_.leader == b.id && state_.epoch == b.epoch)) continue;
    const uint64_t o = FirstDifference(mem, h, h.size());
    auto acked = acked_[l].find(o);
    const bool was_acked = acked != acked_[l].end() && acked->second == h[o].id;
    Fail(std::string(was_acked ? "acknowledged" : "committed") + " entry lost: broker " +
         std::to_string(b.id) + " " + when + " epoch " + std::to_string(b.epoch) +
         " lacks id " + std::to_string(h[o].id) + " at offset " + std::to_string(o) +
         " of its " + LogName(l) +
         (o < mem.size() ? " (holds id " + std::to_string(mem[o].id) + " epoch " +
                               std::to_string(mem[o].epoch) + ")"
                         : " (log ends at " + std::to_string(mem.size()) + ")"));
  }
}

// No id twice, and per key the sequence numbers in increasing order (message log).
void Sim::CheckLeaderLog(Broker& b) {
  for (int l = 0; l < kLogs && result_.ok; ++l) {
    std::set<uint64_t> seen;
    std::map<int32_t, int32_t> last_seq;
    for (uint64_t o = 0; o < b.logs[l].mem.size(); ++o) {
      const Entry& e = b.logs[l].mem[o];
      if (!seen.insert(e.id).second) {
        Fail("id " + std::to_string(e.id) + " twice in the " + LogName(l) + " of leader " +
             std::to_string(b.id) + " (again at offset " + std::to_string(o) + ")");
        return;
      }
      if (e.key >= 0) {
        auto it = last_seq.find(e.key);
        if (it != last_seq.end() && e.seq <= it->second) {
          Fail("key " + std::to_string(e.key) + " out of order in the log of leader " +
               std::to_string(b.id) + ": seq " + std::to_string(e.seq) + " at offset " +
               std::to_string(o) + " after seq " + std::to_string(it->second));
          return;
        }
        last_seq[e.key] = e.seq;
      }
    }
  }
}

// Quiet and converged: nothing in flight from the clients, a leader leading the epoch in
// ZooKeeper with the full ISR, every replica holding exactly its logs, on disk.
bool Sim::Settled() {
  for (const Client& c : clients_) {
    if (c.in_flight) return false;
  }
  const int32_t leader = state_.leader;
  if (leader <= 0 || !B(leader).leading || B(leader).epoch != state_.epoch) return false;
  if (static_cast<int>(state_.isr.size()) != o_.brokers) return false;
  const Broker& ld = B(leader);
  for (const Broker& b : brokers_) {
    if (!b.up || b.paused || b.epoch != state_.epoch) return false;
    for (int l = 0; l < kLogs; ++l) {
      const auto& mine = b.logs[l];
      const auto& theirs = ld.logs[l];
      if (mine.mem.size() != theirs.mem.size() || mine.disk.size() != theirs.mem.size() ||
          !HoldsPrefix(mine.mem, theirs.mem)) {
        return false;
      }
    }
  }
  return true;
}

void Sim::FinalCheck() {
  if (!result_.ok) return;
  // Settled: one leader that leads the current epoch with the full ISR, and every replica
  // holding exactly its log.
  const int32_t leader = state_.leader;
  if (leader <= 0 || !B(leader).leading || B(leader).epoch != state_.epoch) {
    Fail("not settled after healing: partition state leader " + std::to_string(leader) +
         " epoch " + std::to_string(state_.epoch) + " is not being led");
    return;
  }
  if (static_cast<int>(state_.isr.size()) != o_.brokers) {
    Fail("not settled after healing: isr of " + std::to_string(state_.isr.size()));
    return;
  }
  Broker& ld = B(leader);
  CheckLeaderComplete(ld, "at the end");
  CheckLeaderLog(ld);
  for (int l = 0; l < kLogs && result_.ok; ++l) {
    for (auto& [offset, id] : acked_[l]) {
      if (offset >= ld.logs[l].mem.size() || ld.logs[l].mem[offset].id != id) {
        Fail("acknowledged id " + std::to_string(id) + " at offset " + std::to_string(offset) +
             " of the " + LogName(l) + " is not in the final log");
        return;
      }
    }
    for (Broker& b : brokers_) {
      if (b.logs[l].mem.size() != ld.logs[l].mem.size() ||
          !std::equal(b.logs[l].mem.begin(), b.logs[l].mem.end(), ld.logs[l].mem.begin())) {
        Fail("not settled after healing: broker " + std::to_string(b.id) + "'s " + LogName(l) +
             " (" + std::to_string(b.logs[l].mem.size()) + " entries) differs from leader " +
             std::to_string(leader) + "'s (" + std::to_string(ld.logs[l].mem.size()) + ")");
        return;
      }
    }
  }
}

// =========================================================================================

SimResult Sim::Run() {
  brokers_.resize(o_.brokers);
  for (int i = 0; i < o_.brokers; ++i) {
    brokers_[i].id = i + 1;
    replicas_.push_back(i + 1);
  }
  // The topic's creation: every broker registered, the first replica leads epoch 1.
  for (Broker& b : brokers_) {
    b.session = ++zxid_;
    sessions_[b.session] = {b.id, 0};
    b.expired_seen = false;
    regs_[b.id] = Registration{++zxid_, b.session};
    b.incarnation = regs_[b.id].czxid;
  }
  ctl_.broker = 1;
  ctl_.session = B(1).session;
  for (auto& [id, r] : regs_) ctl_.live[id] = r.czxid;
  // Rotate the preferred leader with the seed.
  std::rotate(replicas_.begin(), replicas_.begin() + static_cast<long>(o_.seed % o_.brokers),
              replicas_.end());
  state_.replicas = replicas_;
  state_.isr = replicas_;
  state_.leader = replicas_[0];
  state_.leader_incarnation = o_.legacy_epoch_reuse ? 0 : regs_[state_.leader].czxid;
  state_.epoch = 1;
  state_.version = 0;
  for (Broker& b : brokers_) {
    const int32_t id = b.id;
    Apply(b, state_);
    Timer(id, kHeartbeatUs, [this, id] { Heartbeat(id); });
    Timer(id, kIsrTickUs, [this, id] { IsrTick(id); });
    Timer(id, kMetadataCheckUs, [this, id] { MetadataTick(id); });
  }
  for (int k = 0; k < kKeys; ++k) clients_.push_back(Client{0, k, 0, 0, state_.leader, false});
  clients_.push_back(Client{1, -1, 0, 0, state_.leader, false});
  for (size_t c = 0; c < clients_.size(); ++c) {
    const int ci = static_cast<int>(c);
    sched_.After(rng_.Range(0, 5 * kMs), [this, ci] { ClientTick(ci); });
  }
  sched_.After(20 * kMs, [this] { ZkTick(); });
  sched_.After(kReconcileUs, [this] { ControllerTick(); });
  sched_.After(rng_.Range(20 * kMs, 150 * kMs), [this] { InjectFault(); });

  const SimTime fault_end = o_.fault_ms * kMs;
  const SimTime end = fault_end + o_.settle_ms * kMs;
  while (result_.ok && sched_.Step(fault_end)) {
  }
  if (result_.ok) {
    sched_.AdvanceTo(fault_end);
    Heal();
    // Clients write a little longer (progress after healing), then stop.
    sched_.After(kSettleWritesUs, [this] { clients_on_ = false; });
    // Then run until the partition settled (checked every 20 ms) or the time is up.
    bool settled = false;
    SimTime next_check = sched_.now() + kSettleWritesUs;
    while (result_.ok && !settled && sched_.Step(end)) {
      if (sched_.now() >= next_check) {
        next_check = sched_.now() + 20 * kMs;
        settled = Settled();
      }
    }
  }
  FinalCheck();
  return result_;
}

}  // namespace

SimResult RunSchedule(const SimOptions& options) {
  Sim sim(options);
  return sim.Run();
}

}  // namespace zoomq::sim
