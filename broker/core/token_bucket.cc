#include "broker/core/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace zoomq::broker {

void TokenBucket::Refill(int64_t now_ms) {
  if (last_ms_ < 0) last_ms_ = now_ms;
  if (now_ms > last_ms_) {
    tokens_ = std::min(burst_, tokens_ + rate_ * static_cast<double>(now_ms - last_ms_) / 1000.0);
    last_ms_ = now_ms;
  }
}

int64_t TokenBucket::Take(double amount, int64_t now_ms) {
  Refill(now_ms);
  // What must be in the bucket: the amount, or a full bucket for an amount above the burst.
  const double need = std::min(amount, burst_);
  if (tokens_ >= need) {
    tokens_ -= amount;  // may go negative: a batch above the burst is paid for afterwards
    return 0;
  }
  const double missing = need - tokens_;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(missing * 1000.0 / rate_)));
}

}  // namespace zoomq::broker
