// TokenBucket: a rate limit of `rate` units per second with bursts up to `burst` units
// (docs/security.md, "Quotas"). Pure: the caller passes the time, so a test steps it by hand.
//
// Thread-safety: none; callers lock.
#pragma once

#include <cstdint>

namespace zoomq::broker {

class TokenBucket {
 public:
  // `rate` > 0 units per second; `burst` >= 1 units (the bucket starts full).
  TokenBucket(double rate, double burst) : rate_(rate), burst_(burst), tokens_(burst) {}

  // Takes `amount` units at `now_ms` (monotonic). Returns 0 when they were available, else how
  // many milliseconds until they would be (nothing is taken then). An amount above the burst
  // is admitted once the bucket is full, leaving it in debt, so a large batch is slowed, never
  // refused forever.
  int64_t Take(double amount, int64_t now_ms);

 private:
  void Refill(int64_t now_ms);

  const double rate_;
  const double burst_;
  double tokens_;
  int64_t last_ms_ = -1;
};

}  // namespace zoomq::broker
