// ClusterMetadata: topics and partition states in ZooKeeper, and the controller's decisions.
//
// Znodes (docs/znodes.md):
//   /topics/<name>                       {"config": {...}, "created_ms": T}; the topic id is
//                                        the node's czxid (unique, cluster-wide, never reused)
//   /topics/<name>/partitions/<p>        {"leader": L, "epoch": E, "replicas": [...],
//                                         "isr": [...]}; every change is a version-checked Set
// The controller writes leaders and epochs; a partition's leader writes only its ISR, with
// the version it last read, so a deposed leader's write fails (ZBADVERSION).
//
// The decision functions are pure (unit-tested without ZooKeeper); ClusterMetadata is a thin
// typed layer over ZkSession. Thread-safety: ClusterMetadata methods are thread-safe (they
// only call the session).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"
#include "zoomq/coordinator/metadata_store.h"
#include "zoomq/coordinator/zk_session.h"

namespace zoomq::coordinator {

std::string EncodePartitionState(const PartitionState& s);
Result<PartitionState> ParsePartitionState(const std::string& data, int32_t version);

// --- Pure decisions ---------------------------------------------------------------------
// Replicas of a new topic's partition p: `rf` distinct live brokers, spread round robin so
// that preferred leaders (the first replica) are balanced. REQUIRES: rf <= live.size().
std::vector<int32_t> AssignReplicas(int32_t partition, int32_t rf,
                                    const std::vector<int32_t>& live_sorted, int32_t rotation);

// Live brokers: id -> incarnation of its current registration.
using LiveBrokers = std::map<int32_t, int64_t>;

// The state a controller wants for a partition, given the live brokers (`leaving`: brokers
// shutting down, which keep their data but must not lead), or nullopt when it is fine.
//  - the ISR loses dead brokers (never becoming empty: the last member stays, as in Kafka,
//    so no out-of-sync replica is ever elected: no unclean election);
//  - a leader that is dead, leaving, or live in another incarnation than the one it was
//    granted to (restarted, or a new ZooKeeper session: it may have lost an un-fsynced tail
//    that followers copied) is replaced by the first replica that is live, not leaving and
//    in the ISR (possibly the same broker, in its new incarnation); with none, the
//    partition has no leader (kNoLeaderId) until one returns;
//  - with `prefer`, leadership moves back to the preferred replica once it is in the ISR;
//  - every grant (a new leader, or the same broker in a new incarnation) increments the
//    epoch and records the incarnation: no epoch is ever led by two incarnations.
std::optional<PartitionState> DecidePartition(const PartitionState& s, const LiveBrokers& live,
                                              const std::set<int32_t>& leaving, bool prefer);

// What a broker does with a partition state it read (ClusterNode::Apply).
enum class Role {
  kLead,       // granted to this incarnation: lead at s.epoch
  kFollow,     // a replica, and another broker leads
  kNone,       // no leader, or not a replica: serve nothing
  kAwaitGrant  // granted to an earlier incarnation of this broker: serve nothing until the
               // controller grants a new epoch (leading on could reuse an epoch whose tail
               // this incarnation lost: chaos seeds 97312, 113731)
};
Role RoleFor(const PartitionState& s, int32_t self, int64_t self_incarnation);
const char* RoleName(Role role);

// --- ZooKeeper access -------------------------------------------------------------------
class ClusterMetadata : public MetadataStore {
 public:
  explicit ClusterMetadata(ZkSession* session) : session_(session) {}

  Status EnsureRoots();
  Result<std::vector<std::string>> ListTopics(WatchFn watch = nullptr) override;
  Result<TopicMeta> GetTopic(const std::string& name, WatchFn watch = nullptr) override;
  Result<PartitionState> GetPartition(const std::string& topic, int32_t partition,
                                      WatchFn watch = nullptr) override;
  // One ZooKeeper multi; ZNODEEXISTS (IsNodeExists) if the name is taken.
  Result<TopicMeta> CreateTopic(const std::string& name, const std::string& config_json,
                                TimeMs created_ms,
                                const std::vector<PartitionState>& partitions) override;
  Status DeleteTopic(const std::string& name) override;
  // Version-checked Set (ZBADVERSION when the node moved on).
  Result<int32_t> SetPartition(const std::string& topic, int32_t partition,
                               const PartitionState& s) override;

  static std::string TopicPath(const std::string& name);
  static std::string PartitionPath(const std::string& topic, int32_t partition);

 private:
  ZkSession* const session_;
};

}  // namespace zoomq::coordinator
