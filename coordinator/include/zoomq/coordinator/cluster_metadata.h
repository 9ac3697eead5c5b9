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
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"
#include "zoomq/coordinator/zk_session.h"

namespace zoomq::coordinator {

inline constexpr int32_t kNoLeaderId = -1;

struct PartitionState {
  int32_t leader = kNoLeaderId;
  int64_t epoch = 0;  // leader epoch: strictly increases with every change of leader
  std::vector<int32_t> replicas;  // replicas[0] is the preferred leader
  std::vector<int32_t> isr;
  int32_t version = -1;  // ZooKeeper data version this state was read at (not encoded)
  bool operator==(const PartitionState& o) const {
    return leader == o.leader && epoch == o.epoch && replicas == o.replicas && isr == o.isr;
  }
};
std::string EncodePartitionState(const PartitionState& s);
Result<PartitionState> ParsePartitionState(const std::string& data, int32_t version);

struct TopicMeta {
  int64_t id = 0;  // czxid of /topics/<name>
  std::string name;
  std::string config_json;
  int32_t partitions = 0;
  TimeMs created_ms = 0;
};

// --- Pure decisions ---------------------------------------------------------------------
// Replicas of a new topic's partition p: `rf` distinct live brokers, spread round robin so
// that preferred leaders (the first replica) are balanced. REQUIRES: rf <= live.size().
std::vector<int32_t> AssignReplicas(int32_t partition, int32_t rf,
                                    const std::vector<int32_t>& live_sorted, int32_t rotation);

// The state a controller wants for a partition, given the live brokers (`leaving`: brokers
// shutting down, which keep their data but must not lead), or nullopt when it is fine.
//  - the ISR loses dead brokers (never becoming empty: the last member stays, as in Kafka,
//    so no out-of-sync replica is ever elected: no unclean election);
//  - a dead or leaving leader is replaced by the first replica that is live, not leaving
//    and in the ISR; with none, the partition has no leader (kNoLeaderId) until one returns;
//  - with `prefer`, leadership moves back to the preferred replica once it is in the ISR;
//  - every change of leader increments the epoch.
std::optional<PartitionState> DecidePartition(const PartitionState& s, const std::set<int32_t>& live,
                                              const std::set<int32_t>& leaving, bool prefer);

// --- ZooKeeper access -------------------------------------------------------------------
class ClusterMetadata {
 public:
  explicit ClusterMetadata(ZkSession* session) : session_(session) {}

  Status EnsureRoots();
  Result<std::vector<std::string>> ListTopics(WatchFn watch = nullptr);
  Result<TopicMeta> GetTopic(const std::string& name, WatchFn watch = nullptr);
  Result<PartitionState> GetPartition(const std::string& topic, int32_t partition,
                                      WatchFn watch = nullptr);
  // Creates the topic and its partition states in one multi. Returns the topic (with id).
  // ZNODEEXISTS (IsNodeExists) if the name is taken.
  Result<TopicMeta> CreateTopic(const std::string& name, const std::string& config_json,
                                TimeMs created_ms, const std::vector<PartitionState>& partitions);
  Status DeleteTopic(const std::string& name);
  // Version-checked write of `s` (s.version is the expected version). Returns the new version.
  Result<int32_t> SetPartition(const std::string& topic, int32_t partition,
                               const PartitionState& s);

  static std::string TopicPath(const std::string& name);
  static std::string PartitionPath(const std::string& topic, int32_t partition);

 private:
  ZkSession* const session_;
};

}  // namespace zoomq::coordinator
