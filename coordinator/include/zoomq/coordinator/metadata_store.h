// MetadataStore: the cluster metadata the controller reads and writes (topics and partition
// states), as an interface, so the controller's policy (controller.h) runs against ZooKeeper
// in a broker (ClusterMetadata) and against an in-memory store in unit tests.
//
// Contract (what ClusterMetadata guarantees and a fake must keep):
//  - GetPartition returns the state with the version it was read at (PartitionState::version);
//  - SetPartition writes only if the stored version still equals s.version (a
//    compare-and-set), and returns the new version; otherwise it fails and writes nothing;
//  - CreateTopic creates the topic and all its partition states at once, or nothing;
//  - watches (WatchFn) fire once on the next change; a store may not support them (nullptr).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"
#include "zoomq/coordinator/zk_session.h"

namespace zoomq::coordinator {

inline constexpr int32_t kNoLeaderId = -1;

struct PartitionState {
  int32_t leader = kNoLeaderId;
  // Leader epoch: strictly increases with every grant of leadership, also when the same
  // broker is granted it again in a new incarnation. An epoch is led by one incarnation only.
  int64_t epoch = 0;
  // The incarnation (registration czxid, BrokerInfo::incarnation) the leadership was granted
  // to; 0 for no leader or a state written before incarnations existed (never led).
  int64_t leader_incarnation = 0;
  std::vector<int32_t> replicas;  // replicas[0] is the preferred leader
  std::vector<int32_t> isr;
  int32_t version = -1;  // data version this state was read at (not encoded)
  bool operator==(const PartitionState& o) const {
    return leader == o.leader && epoch == o.epoch &&
           leader_incarnation == o.leader_incarnation && replicas == o.replicas && isr == o.isr;
  }
};

struct TopicMeta {
  int64_t id = 0;  // unique cluster-wide, never reused (ZooKeeper: czxid of /topics/<name>)
  std::string name;
  std::string config_json;
  int32_t partitions = 0;
  TimeMs created_ms = 0;
};

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;
  virtual Result<std::vector<std::string>> ListTopics(WatchFn watch = nullptr) = 0;
  virtual Result<TopicMeta> GetTopic(const std::string& name, WatchFn watch = nullptr) = 0;
  virtual Result<PartitionState> GetPartition(const std::string& topic, int32_t partition,
                                              WatchFn watch = nullptr) = 0;
  // Creates the topic and its partition states at once. Returns the topic (with its id).
  // A taken name fails with a status for which IsNodeExists() is true.
  virtual Result<TopicMeta> CreateTopic(const std::string& name, const std::string& config_json,
                                        TimeMs created_ms,
                                        const std::vector<PartitionState>& partitions) = 0;
  virtual Status DeleteTopic(const std::string& name) = 0;
  // Compare-and-set on s.version. Returns the new version.
  virtual Result<int32_t> SetPartition(const std::string& topic, int32_t partition,
                                       const PartitionState& s) = 0;
};

}  // namespace zoomq::coordinator
