// LeaderElection: the controller election (ZooKeeper's leader recipe).
//
// Each candidate owns an ephemeral sequential node under the election path
// ("n_<session hex>-<10-digit sequence>", data = candidate_data). The node with the lowest
// sequence leads; every other candidate watches only its predecessor (no herd effect) and
// re-checks when that node goes, looping when the predecessor vanished before the watch was set.
//
// Epoch: a new leader increments the counter /controller/epoch in one multi with a check that
// its own election node still exists, so every leadership (also the same candidate's, after a
// suspension) gets an epoch strictly greater than all before it, and a candidate whose node
// is gone cannot bump it. The epoch is what followers and ZooKeeper writes use to reject a
// deposed leader.
//
// Session events: kSuspended or kExpired deposes a leader at once (on_deposed); a reconnection
// of the same session re-checks (it may lead again, with a new epoch); a new session after
// expiry joins again with a new node.
//
// Thread-safety: Start/Stop/Resign from any thread except the coordinator thread; IsLeader(),
// epoch() and node() from any thread. Callbacks run on the session's coordinator thread, with
// no lock held, in order (never two on_elected without an on_deposed in between); they must
// not call Start/Stop/Resign. Ownership: borrows the ZkSession, which must outlive this object.
//
// Acting as leader: check IsLeader() && session.IsSafeToAct() (fencing) before each action.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "zoomq/common/status.h"
#include "zoomq/coordinator/zk_session.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::coordinator {

struct LeaderElectionOptions {
  std::string election_path = znodes::kControllerElection;
  std::string epoch_path = znodes::kControllerEpoch;
  // Stored in this candidate's node; LeaderData() returns the leader's. For the controller:
  // EncodeBrokerInfo(self).
  std::string candidate_data;
  // On the first join, delete candidate nodes of OTHER sessions whose data equals
  // candidate_data: a previous incarnation of this broker (restarted inside its session
  // timeout) would otherwise block the election until its session expires. Later joins never
  // reclaim (two live incarnations would take turns). Requires unique candidate_data.
  bool reclaim_stale_nodes = true;
};

class LeaderElection {
 public:
  struct Callbacks {
    std::function<void(int64_t epoch)> on_elected;  // became leader with this epoch
    std::function<void()> on_deposed;               // stop acting as leader now
  };

  LeaderElection(ZkSession* session, LeaderElectionOptions options, Callbacks callbacks);
  ~LeaderElection();  // Stop()
  LeaderElection(const LeaderElection&) = delete;
  LeaderElection& operator=(const LeaderElection&) = delete;

  // Joins the election; returns once this candidate's node exists (Unavailable after
  // `timeout_ms`, while it keeps trying until Stop()). Leadership is reported via callbacks.
  Status Start(int timeout_ms);
  // Leaves: deposes (callback) if leading, deletes the node; no callbacks afterwards.
  void Stop();
  // Graceful handover: deposes (callback) if leading, then deletes the node, so the next
  // candidate leads within a round trip; then joins again at the back of the line.
  void Resign();

  bool IsLeader() const;
  // Epoch of the current (or last) leadership of this candidate; 0 if it never led.
  int64_t epoch() const;
  // This candidate's node name ("" if none).
  std::string node() const;
  // candidate_data of the current leader (lowest node); NotFound if there are no candidates.
  Result<std::string> LeaderData();

 private:
  struct Core;
  ZkSession* const session_;
  std::shared_ptr<Core> core_;  // shared with callbacks queued on the coordinator thread
  int listener_id_ = 0;
};

}  // namespace zoomq::coordinator
