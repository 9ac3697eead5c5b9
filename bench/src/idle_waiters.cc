#include "zoomq/bench/idle_waiters.h"

#include <algorithm>
#include <utility>

namespace zoomq::bench {
namespace {

constexpr int kErrorBackoffMs = 200;

}  // namespace

IdleWaiters::IdleWaiters(const BenchOptions& options, std::string topic, std::string group)
    : options_(options), topic_(std::move(topic)), group_(std::move(group)) {}

IdleWaiters::~IdleWaiters() {
  if (!threads_.empty()) Stop();
}

void IdleWaiters::Start() {
  stats_.requested = options_.idle_waiters;
  for (int i = 0; i < options_.idle_waiters; ++i) {
    threads_.emplace_back([this, i] { Loop(i); });
    // Stagger the connects: a burst overflows cpp-httplib's listen backlog (5), and a
    // dropped SYN is retried only after 1 s.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int IdleWaiters::WaitStarted(const StopSignal& stop, int settle_ms) {
  while (!stop.ShouldStop() && in_flight_.load() < options_.idle_waiters) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A request is "in flight" once its thread called the client; give the connections
  // time to be accepted and the requests time to reach their wait.
  const auto until = SteadyClock::now() + std::chrono::milliseconds(settle_ms);
  while (!stop.ShouldStop() && SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stats_.in_flight_at_start = in_flight_.load();
  return stats_.in_flight_at_start;
}

IdleStats IdleWaiters::Stop() {
  stopping_ = true;
  // A waiter that was connecting while StopAll() ran is not interrupted by it (its socket
  // did not exist yet): repeat until every waiter has left its loop.
  const int total = static_cast<int>(threads_.size());
  while (exited_.load() < total) {
    clients_.StopAll();
    for (int i = 0; i < 20 && exited_.load() < total; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  stats_.issued = issued_.load();
  stats_.returned = returned_.load();
  stats_.sse_bytes = sse_bytes_.load();
  {
    std::lock_guard<std::mutex> lock(errors_mu_);
    stats_.errors = errors_;
  }
  return stats_;
}

void IdleWaiters::Loop(int index) {
  const bool sse = options_.idle_kind == IdleKind::kSse;
  const Endpoint& endpoint = options_.endpoints[index % options_.endpoints.size()];
  // An SSE stream never answers by itself: only the 15 s keep-alive comments arrive.
  const int read_timeout_ms = sse ? 60000 : options_.idle_wait_ms + 15000;
  httplib::Client* client = clients_.Add(MakeClient(endpoint, read_timeout_ms));
  const std::string consumer = "idle-" + std::to_string(index);
  const std::string base = "/v1/topics/" + topic_ + "/groups/" + group_;
  const std::string path = sse ? base + "/subscribe?consumer=" + consumer + "&prefetch=100"
                               : base + "/messages?consumer=" + consumer +
                                     "&max=1&wait_ms=" + std::to_string(options_.idle_wait_ms);
  while (!stopping_.load()) {
    ++issued_;
    ++in_flight_;
    std::string head;  // the start of a streamed answer (an error body, say)
    httplib::Result result = sse ? client->Get(path, DefaultHeaders(),
                                               [this, &head](const char* data, size_t n) {
                                                 if (head.size() < 300)
                                                   head.append(data, std::min<size_t>(n, 300));
                                                 sse_bytes_ += static_cast<int64_t>(n);
                                                 return !stopping_.load();
                                               })
                                 : client->Get(path);
    --in_flight_;
    if (stopping_.load()) break;
    bool failed = false;
    {
      std::lock_guard<std::mutex> lock(errors_mu_);
      if (!result) {
        errors_.AddTransport(ErrorName(result.error()));
        failed = true;
      } else if (result->status != 200) {
        errors_.AddStatus(result->status, sse ? head : result->body);
        failed = true;
      }
    }
    if (!failed) ++returned_;
    if (failed) {
      for (int waited = 0; waited < kErrorBackoffMs && !stopping_.load(); waited += 10) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  ++exited_;
}

}  // namespace zoomq::bench
