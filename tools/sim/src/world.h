// The simulated world of sim.h: scheduler, fake clock and random source. Internal to the
// simulation library.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace zoomq::sim {

using SimTime = int64_t;  // microseconds since the start of the schedule

// SplitMix64: small, fast, and the same on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  // True with probability `percent` / 100.
  bool Chance(double percent) { return static_cast<double>(Next() % 1000000) < percent * 10000; }

 private:
  uint64_t state_;
};

// Events run in (time, insertion order): a schedule is a pure function of the seed.
class Scheduler {
 public:
  SimTime now() const { return now_; }
  void At(SimTime t, std::function<void()> fn) {
    queue_.push(Item{t < now_ ? now_ : t, seq_++, std::move(fn)});
  }
  void After(SimTime delay, std::function<void()> fn) { At(now_ + delay, std::move(fn)); }
  // Runs the next event; false when there is none or it lies beyond `until`.
  bool Step(SimTime until) {
    if (queue_.empty() || queue_.top().time > until) return false;
    Item item = queue_.top();
    queue_.pop();
    now_ = item.time;
    item.fn();
    return true;
  }
  void AdvanceTo(SimTime t) {
    if (t > now_) now_ = t;
  }

 private:
  struct Item {
    SimTime time;
    uint64_t seq;
    std::function<void()> fn;
    bool operator<(const Item& o) const {  // reversed: priority_queue is a max-heap
      return time != o.time ? time > o.time : seq > o.seq;
    }
  };
  std::priority_queue<Item> queue_;
  SimTime now_ = 0;
  uint64_t seq_ = 0;
};

}  // namespace zoomq::sim
