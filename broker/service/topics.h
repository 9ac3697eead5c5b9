// TopicManager: the topics of a broker: loading them from the store, creating (standalone, or
// from the controller's metadata), describing, deleting, and retention.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "broker/service/state.h"

namespace zoomq::broker {

class TopicManager {
 public:
  explicit TopicManager(ServiceState& s) : s_(s) {}

  // A topic as the store holds it: every partition's entries, positions and epochs, and its
  // group log (standalone: led here). Adds the messages loaded to `*messages`. The caller
  // loads its groups, then publishes it (ServiceState::topics).
  Result<std::shared_ptr<Topic>> Load(const LoadedTopic& lt, uint64_t* messages);

  Result<CreateOutcome> CreateTopic(const TopicSpec& spec);
  Status DeleteTopic(const std::string& name);
  std::vector<TopicInfo> ListTopics();
  Result<TopicInfo> DescribeTopic(const std::string& name);
  // Creates the topic locally with the cluster-wide id (metadata from the controller); a
  // no-op if it exists with that id.
  Status EnsureTopic(int64_t id, const std::string& name, const TopicConfig& config,
                     TimeMs created_ms);
  // Drops what the retention rules let go, below each partition's high watermark.
  void RetentionOnce();

 private:
  TopicInfo Info(const Topic& topic);
  // Standalone: this broker leads the partition alone (epoch 0), its groups ready.
  void LeadAlone(Partition& p);

  ServiceState& s_;
};

}  // namespace zoomq::broker
