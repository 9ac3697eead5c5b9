#include "zoomq/bench/latency.h"

#include <algorithm>
#include <cmath>

namespace zoomq::bench {

void LatencyRecorder::Merge(const LatencyRecorder& other) {
  samples_ns_.insert(samples_ns_.end(), other.samples_ns_.begin(), other.samples_ns_.end());
}

int64_t PercentileOfSorted(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  if (rank == 0) rank = 1;
  return sorted[rank - 1];
}

LatencySummary LatencyRecorder::Summarize() {
  LatencySummary s;
  if (samples_ns_.empty()) return s;
  std::sort(samples_ns_.begin(), samples_ns_.end());
  constexpr double kNsPerMs = 1e6;
  double sum = 0;
  for (int64_t v : samples_ns_) sum += static_cast<double>(v);
  s.count = static_cast<int64_t>(samples_ns_.size());
  s.mean_ms = sum / static_cast<double>(s.count) / kNsPerMs;
  s.p50_ms = PercentileOfSorted(samples_ns_, 0.50) / kNsPerMs;
  s.p90_ms = PercentileOfSorted(samples_ns_, 0.90) / kNsPerMs;
  s.p99_ms = PercentileOfSorted(samples_ns_, 0.99) / kNsPerMs;
  s.p999_ms = PercentileOfSorted(samples_ns_, 0.999) / kNsPerMs;
  s.max_ms = samples_ns_.back() / kNsPerMs;
  return s;
}

}  // namespace zoomq::bench
