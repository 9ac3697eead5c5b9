// Idle long-polls or SSE streams held open against a broker while something else is
// measured: each waiter is a thread with its own keep-alive connection that re-issues its
// request whenever it returns.
#pragma once

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "zoomq/bench/http.h"
#include "zoomq/bench/options.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

class IdleWaiters {
 public:
  // `topic` and `group` must differ from the measured ones (nothing is ever produced there).
  IdleWaiters(const BenchOptions& options, std::string topic, std::string group);
  ~IdleWaiters();
  IdleWaiters(const IdleWaiters&) = delete;
  IdleWaiters& operator=(const IdleWaiters&) = delete;

  void Start();
  // Waits until every waiter is inside its request (or `stop` fires), then `settle_ms`.
  // Returns how many are in flight.
  int WaitStarted(const StopSignal& stop, int settle_ms);
  int InFlight() const { return in_flight_.load(); }
  // Interrupts every request and joins; returns the counts.
  IdleStats Stop();

 private:
  void Loop(int index);

  const BenchOptions& options_;
  std::string topic_;
  std::string group_;
  ClientSet clients_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int64_t> issued_{0};
  std::atomic<int64_t> returned_{0};
  std::atomic<int64_t> sse_bytes_{0};
  std::atomic<int> exited_{0};
  std::mutex errors_mu_;
  ErrorCounts errors_;
  IdleStats stats_;
};

}  // namespace zoomq::bench
