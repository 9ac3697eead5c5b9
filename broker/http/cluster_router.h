// ClusterRouter: what the HTTP layer needs to know about the cluster to forward requests.
// Implemented by broker/cluster/ClusterNode; absent (nullptr) on a standalone broker, where
// this broker leads everything and is the controller.
//
// Thread-safety: every method may be called from any HTTP thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/core/topic_config.h"
#include "broker/service/broker_service.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::http {

class ClusterRouter {
 public:
  virtual ~ClusterRouter() = default;

  virtual int32_t self_id() const = 0;
  // URL of the broker leading (topic, partition), or nullopt when it has no leader now.
  // Equals self_url() when this broker leads it.
  virtual std::optional<std::string> LeaderUrl(const std::string& topic, int32_t partition) = 0;
  virtual std::string self_url() const = 0;
  // URL of the controller, or nullopt while none is elected.
  virtual std::optional<std::string> ControllerUrl() = 0;
  virtual bool IsController() = 0;
  // Every live broker's URL, this one included.
  virtual std::vector<std::string> BrokerUrls() = 0;
  // False while the ZooKeeper session is not connected (health answers 503 then).
  virtual bool ZkConnected() = 0;
  // The body of GET /v1/cluster.
  virtual nlohmann::json ClusterJson() = 0;

  // Controller only (the HTTP layer forwards to the controller otherwise).
  virtual Result<CreateOutcome> CreateTopic(const TopicSpec& spec) = 0;
  virtual Status DeleteTopic(const std::string& name) = 0;
  // Moves every leadership of `broker` to other in-sync replicas; returns when done.
  virtual Status ControlledShutdown(int32_t broker) = 0;
};

}  // namespace zoomq::broker::http
