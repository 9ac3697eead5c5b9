// HTTP plumbing: tuned keep-alive clients and a way to interrupt them all.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "zoomq/bench/options.h"

namespace zoomq::bench {

using SteadyClock = std::chrono::steady_clock;

// One keep-alive client with TCP_NODELAY (docs: slow loopback POSTs otherwise), a 2 s
// connect timeout, `read_timeout_ms` to read an answer and no compression negotiated.
std::unique_ptr<httplib::Client> MakeClient(const Endpoint& endpoint, int read_timeout_ms);

// Headers every request carries: no gzip/br (the server would otherwise spend CPU on it).
const httplib::Headers& DefaultHeaders();

// Owns clients so that another thread can interrupt their blocking calls (deadline,
// target reached). Stop() makes every in-flight and later call on them fail quickly.
class ClientSet {
 public:
  httplib::Client* Add(std::unique_ptr<httplib::Client> client);
  void StopAll();

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::Client>> clients_;
  bool stopped_ = false;
};

// The stop signal of a run: set at the deadline (or on completion of a phase).
class StopSignal {
 public:
  explicit StopSignal(SteadyClock::time_point deadline) : deadline_(deadline) {}
  bool ShouldStop() const { return stop_.load(std::memory_order_relaxed); }
  void Stop() { stop_.store(true); }
  SteadyClock::time_point deadline() const { return deadline_; }

 private:
  SteadyClock::time_point deadline_;
  std::atomic<bool> stop_{false};
};

inline int64_t NanosBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// target = max(target, value), from any thread.
inline void AtomicMax(std::atomic<int64_t>& target, int64_t value) {
  int64_t seen = target.load();
  while (seen < value && !target.compare_exchange_weak(seen, value)) {
  }
}

// "connection", "read", ... for a failed httplib call.
std::string ErrorName(httplib::Error error);

}  // namespace zoomq::bench
