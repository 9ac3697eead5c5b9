// Retrying helpers shared by the Consumer and the Admin: which answers are worth repeating,
// a bounded exponential backoff, and "send to any broker, failing over to the next one".
// Internal to the SDK.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "cluster_view.h"
#include "zoomq/client/transport.h"
#include "zoomq/client/types.h"

namespace zoomq::client_internal {

using Clock = std::chrono::steady_clock;

// Time left until `deadline` (0 when past it).
std::chrono::milliseconds Remaining(Clock::time_point deadline);

// True when the same request may succeed later or elsewhere: no answer (status 0), 429,
// 500 and the 503s, except NOT_ENOUGH_REPLICAS (a replication factor the cluster cannot
// give does not heal by asking another broker).
bool ShouldRetry(const HttpResponse& response);

// Exponential backoff: 10 ms doubling up to 320 ms (short: a failover takes seconds, and the
// cluster view refresh is rate-limited separately). Not thread-safe: one per retry loop.
class Backoff {
 public:
  // Waits the next delay, cut short at `deadline`, or when `stop` (may be null) is set and
  // `wake` (may be null) is notified. Returns false when there is no time left.
  bool Wait(Clock::time_point deadline, const std::atomic<bool>* stop = nullptr,
            std::condition_variable* wake = nullptr, std::mutex* wake_mu = nullptr);

 private:
  std::chrono::milliseconds next_{10};
};

// Sends `request` to ClusterView::AnyUrl(); on an answer ShouldRetry() accepts, tries the
// next broker (refreshing the view once every broker was tried, and backing off), until
// `deadline`. Each attempt's timeout is the time left (at most request.timeout). Returns the
// last answer (status 0 with an error when no attempt could be made).
HttpResponse SendToAnyBroker(ClusterView& view, Transport& transport, HttpRequest request,
                             Clock::time_point deadline);

}  // namespace zoomq::client_internal
