// ReplicaManager: the replication roles of this broker's partitions: leading (answering
// followers' fetches, proposing ISR changes) and following (replica_follower.cc: truncating by
// epoch, fetching, appending, committing).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "broker/service/groups.h"
#include "broker/service/state.h"

namespace zoomq::broker {

class ReplicaManager {
 public:
  ReplicaManager(ServiceState& s, GroupCoordinator& groups) : s_(s), groups_(groups) {}

  // Must be set before any BecomeFollower; borrowed, must outlive the service.
  void SetPeerTransport(PeerTransport* transport) { transport_ = transport; }

  // Leader side: records the follower's progress (advancing the high watermark), then
  // returns entries from req.offset (long-polling up to req.wait_ms).
  Result<FetchResponse> Fetch(const FetchRequest& req);
  Result<std::pair<int64_t, uint64_t>> EpochEnd(const std::string& topic, int32_t partition,
                                                int64_t epoch, bool group_log);
  // Role changes; one with an epoch older than the partition's current one is refused.
  Status BecomeLeader(const std::string& topic, int32_t partition, int64_t epoch,
                      std::vector<int32_t> replicas, std::vector<int32_t> isr);
  Status BecomeFollower(const std::string& topic, int32_t partition, int64_t epoch,
                        int32_t leader_id, std::string leader_url);
  Status Resign(const std::string& topic, int32_t partition, int64_t epoch);
  // ISR proposals of the led partitions, and what became of them.
  std::vector<IsrChange> ProposedIsrChanges();
  void OnIsrCommitted(const std::string& topic, int32_t partition, int64_t epoch,
                      std::vector<int32_t> isr);
  void OnIsrAbandoned(const std::string& topic, int32_t partition, int64_t epoch);
  // Every stored entry of a partition up to its high watermark (checks and tests).
  Result<std::vector<StoredMessage>> CommittedLog(const std::string& topic, int32_t partition,
                                                  uint64_t* high_watermark);
  // Once stopping: waits until every follower thread has ended (their last commits landed).
  void WaitForFollowers();

 private:
  // replica_follower.cc
  void FollowerLoop(std::shared_ptr<Topic> topic, Partition* p, uint64_t generation);
  // Truncates the follower's log to where it agrees with the leader (KIP-101/279).
  Status TruncateByEpoch(const std::shared_ptr<Topic>& topic, Partition* p, uint64_t generation,
                         const std::string& leader_url, bool group_log);
  bool RoleCurrent(Partition* p, uint64_t generation);

  ServiceState& s_;
  GroupCoordinator& groups_;
  PeerTransport* transport_ = nullptr;
  std::mutex fetchers_mu_;
  std::condition_variable fetchers_cv_;
  int fetchers_ = 0;  // guarded by fetchers_mu_: follower threads still running
};

}  // namespace zoomq::broker
