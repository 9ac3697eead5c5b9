#include "zoomq/proc/wait.h"

#include <thread>

namespace zoomq::proc {

bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(poll);  // ok: see comment / poll with deadline
  }
  return predicate();
}

}  // namespace zoomq::proc
