#include "retry.h"

#include <algorithm>
#include <thread>

#include "codec.h"

namespace zoomq::client_internal {

std::chrono::milliseconds Remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

bool ShouldRetry(const HttpResponse& response) {
  if (response.status == 0) return true;
  if (response.status >= 200 && response.status < 300) return false;
  Status st = StatusOf(response);
  return st.code() != Code::kNotEnoughReplicas && IsRetriable(st);
}

bool Backoff::Wait(Clock::time_point deadline, const std::atomic<bool>* stop,
                   std::condition_variable* wake, std::mutex* wake_mu) {
  auto until = std::min(deadline, Clock::now() + next_);
  next_ = std::min(next_ * 2, std::chrono::milliseconds(320));
  if (wake != nullptr && wake_mu != nullptr && stop != nullptr) {
    std::unique_lock<std::mutex> lock(*wake_mu);
    wake->wait_until(lock, until, [stop] { return stop->load(); });
  } else {
    std::this_thread::sleep_until(until);  // ok: retry backoff
  }
  if (stop != nullptr && stop->load()) return false;
  return Clock::now() < deadline;
}

HttpResponse SendToAnyBroker(ClusterView& view, Transport& transport, HttpRequest request,
                             Clock::time_point deadline) {
  const auto per_request = request.timeout;
  HttpResponse last{0, "", "no time left to send the request", -1};
  Backoff backoff;
  // The view is only needed to know the brokers; without one, AnyUrl gives a bootstrap URL.
  (void)view.EnsureFresh();
  size_t tried = 0;
  while (true) {
    auto left = Remaining(deadline);
    if (left.count() <= 0) return last;
    request.base_url = view.AnyUrl();
    request.timeout = std::min(per_request, left);
    last = transport.Send(request);
    if (!ShouldRetry(last)) return last;
    // Next broker at once; after a whole round, refresh the view and back off.
    size_t known = std::max<size_t>(1, view.Snapshot().brokers.size());
    if (++tried % known == 0) {
      (void)view.Refresh();
      if (!backoff.Wait(deadline)) return last;
    }
  }
}

}  // namespace zoomq::client_internal
