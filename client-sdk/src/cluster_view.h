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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/client/options.h"
#include "zoomq/client/types.h"

namespace zoomq::client_internal {

class ClusterView {
 public:
  ClusterView(ClientOptions options, std::shared_ptr<Transport> transport);

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
  // ... implementation detail, see cluster_view.cc
  mutable std::mutex mu_;
  ClientOptions options_;
  std::shared_ptr<Transport> transport_;
  std::optional<ClusterInfo> view_;  // guarded by mu_
  std::chrono::steady_clock::time_point refreshed_at_{};
  std::vector<std::string> known_urls_;
  size_t next_url_ = 0;
};

}  // namespace zoomq::client_internal
