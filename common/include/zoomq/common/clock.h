// Clock: the one source of time. Read it once per operation ("the logical time it runs").
#pragma once

#include <atomic>
#include <cstdint>

namespace zoomq {

using TimeMs = int64_t;  // milliseconds; wall time for SystemClock::NowMs

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock milliseconds since the Unix epoch (message timestamps, retention).
  virtual TimeMs NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs NowMs() const override;
  static SystemClock* Default();
};

// For tests: time moves only when told. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimeMs start = 1'700'000'000'000) : now_(start) {}
  TimeMs NowMs() const override { return now_.load(); }
  void Advance(TimeMs ms) { now_ += ms; }
  void Set(TimeMs ms) { now_ = ms; }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace zoomq
