// ClusterView: the SDK's cached picture of the cluster (brokers, partition leaders), taken
// from GET /v1/cluster of any broker that answers. Internal to the SDK.
//
// Refresh() asks the known brokers in turn (bootstrap list + every broker seen) until one
// answers; concurrent callers share one refresh, and refreshes are spaced at least
// `min_refresh_interval` apart so a failover does not turn into a storm. Leader lookups
// never block on the network except for the very first view.
//
// Thread-safety: every method may be called from any thread (one mutex).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/client/options.h"
#include "zoomq/client/types.h"

namespace zoomq::coordinator {
class ZkSession;
}

namespace zoomq::client_internal {

class ClusterView {
 public:
  ClusterView(ClientOptions options, std::shared_ptr<Transport> transport);
  ~ClusterView();

  // Makes sure a view exists (refreshing if none or older than metadata_max_age).
  Status EnsureFresh();
  // Asks the brokers again (rate-limited: returns the cached view when the last refresh is
  // more recent than min_refresh_interval, unless `force`).
  Status Refresh(bool force = false);

  // Partition count of `topic` (TOPIC_NOT_FOUND if the view lacks it after a refresh).
  Result<int> Partitions(const std::string& topic);
  // URL of the partition's leader; falls back to any live broker (which forwards) when the
  // partition has no leader in the view.
  Result<std::string> LeaderUrl(const std::string& topic, int partition);
  // Leader broker id → URL → partitions it leads, for `topic`.
  struct LeaderGroup {
    int broker = -1;
    std::string url;
    std::vector<int> partitions;
  };
  Result<std::vector<LeaderGroup>> LeadersOf(const std::string& topic);
  // A live broker to send a request any broker can answer (rotates on each call).
  std::string AnyUrl();
  // The last view (empty before the first refresh).
  ClusterInfo Snapshot() const;

  std::chrono::milliseconds min_refresh_interval{50};

 private:
  // The view if it has `topic` (a copy, taken under mu_).
  std::optional<TopicInfo> FindTopic(const std::string& topic) const;
  // Finds the topic, refreshing once (rate-limited) when the view lacks it.
  Result<TopicInfo> TopicOrRefresh(const std::string& topic);
  // URL of live broker `id` in the view ("" if unknown). REQUIRES: mu_ held.
  std::string UrlOfLocked(int id) const;
  std::string AnyUrlLocked();
  // Broker URLs registered in ZooKeeper (/brokers/ids), when options_.zookeeper is set. The
  // session starts on first use and is kept; a failed start is tried again next time.
  Result<std::vector<std::string>> ZkBrokerUrls();

  // Constant after construction.
  const ClientOptions options_;
  const std::shared_ptr<Transport> transport_;

  mutable std::mutex mu_;
  std::condition_variable refreshed_cv_;  // signalled when a refresh ends
  std::optional<ClusterInfo> view_;       // guarded by mu_
  std::chrono::steady_clock::time_point refreshed_at_{};  // guarded by mu_
  bool refreshing_ = false;               // a thread is asking the brokers; guarded by mu_
  uint64_t refresh_generation_ = 0;       // counts finished refreshes; guarded by mu_
  Status last_refresh_;                   // outcome of the last refresh; guarded by mu_
  // Bootstrap URLs first, then every broker URL a view named; guarded by mu_.
  std::vector<std::string> known_urls_;
  std::string last_good_url_;  // the broker that answered last; guarded by mu_
  size_t next_url_ = 0;        // AnyUrl rotation; guarded by mu_

  std::mutex zk_mu_;  // held for the ZooKeeper reads (network), never with mu_
  std::unique_ptr<coordinator::ZkSession> zk_;  // guarded by zk_mu_
};

}  // namespace zoomq::client_internal
