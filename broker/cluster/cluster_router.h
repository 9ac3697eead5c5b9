// ClusterRouter: what a broker needs to know about the cluster to route a request. Implemented
// by ClusterNode (cluster_node.h, over ZooKeeper); absent on a standalone broker, where this
// broker leads everything and is the controller.
//
// Thread-safety: every method may be called from any request thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/core/topic_config.h"
#include "broker/service/broker_service.h"
#include "zoomq/common/api.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::cluster {

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
  // GET /v1/cluster as data: live brokers, controller, each partition's leader, epoch,
  // replicas and ISR with this broker's offsets (rendered by the HTTP layer).
  virtual ClusterInfo View() = 0;

  // `listener` runs after every change of a partition's leader the router learns of (on the
  // metadata thread: it must be brief and must not call into the router). Returns an id for
  // RemoveLeadershipListener, after which the listener never runs again.
  virtual int AddLeadershipListener(std::function<void()> listener) = 0;
  virtual void RemoveLeadershipListener(int id) = 0;

  // Controller only (the frontend sends these to the controller otherwise).
  virtual Result<CreateOutcome> CreateTopic(const TopicSpec& spec) = 0;
  virtual Status DeleteTopic(const std::string& name) = 0;
  // Moves every leadership of `broker` to other in-sync replicas; returns when done.
  virtual Status ControlledShutdown(int32_t broker) = 0;
};

// The listeners of a ClusterRouter implementation.
class LeadershipListeners {
 public:
  int Add(std::function<void()> listener) {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.emplace(++last_id_, std::move(listener));
    return last_id_;
  }
  void Remove(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    listeners_.erase(id);
  }
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, f] : listeners_) f();
  }

 private:
  std::mutex mu_;
  std::map<int, std::function<void()>> listeners_;
  int last_id_ = 0;
};

}  // namespace zoomq::broker::cluster
