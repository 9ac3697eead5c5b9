// StopSignal: turns SIGINT/SIGTERM into a flag that long-running tools (zoomqctl --follow,
// the demo's sensor and controller) check between steps, and a wait that ends early on it.
//
// Construct it first in main(), before any thread starts: it blocks SIGINT and SIGTERM in the
// calling thread, so every thread created afterwards inherits the mask and the signals are
// only ever taken by its own thread (sigtimedwait), never by a handler interrupting a lock.
//
// Thread-safety: all methods may be called from any thread. The destructor joins its thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace zoomq::tools {

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool stopped() const { return stopped_.load(); }
  // Returns true if stopped (by a signal or Stop()) within `timeout`.
  bool WaitFor(std::chrono::milliseconds timeout);
  // Stops as a signal would (tests, or an end reached by the program itself).
  void Stop();

 private:
  void Run();

  std::atomic<bool> stopped_{false};
  std::atomic<bool> done_{false};  // tells the thread to end (destructor)
  std::mutex mu_;
  std::condition_variable cv_;  // notified under mu_ when stopped_ turns true
  std::thread thread_;
};

}  // namespace zoomq::tools
