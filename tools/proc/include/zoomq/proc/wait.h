// Waiting for a condition with a deadline, for callers that can only observe it by asking
// (another process's state, an HTTP answer): never a fixed sleep.
//
// Thread-safety: any thread.
#pragma once

#include <chrono>
#include <functional>

namespace zoomq::proc {

// Polls `predicate` every `poll` until it returns true or `timeout` has passed. Returns the
// last value of `predicate` (evaluated once more at the deadline).
bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout,
             std::chrono::milliseconds poll = std::chrono::milliseconds(20));

}  // namespace zoomq::proc
