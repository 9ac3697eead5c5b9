// Latency samples and their summary (exact percentiles over all samples).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace zoomq::bench {

struct LatencySummary {
  int64_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double p999_ms = 0;
  double max_ms = 0;
};

// Samples are nanoseconds. One recorder per thread; Merge() them at the end.
class LatencyRecorder {
 public:
  void Reserve(size_t n) { samples_ns_.reserve(n); }
  void Add(int64_t ns) { samples_ns_.push_back(ns); }
  void Merge(const LatencyRecorder& other);
  size_t size() const { return samples_ns_.size(); }
  // Sorts the samples (nearest-rank percentiles).
  LatencySummary Summarize();

 private:
  std::vector<int64_t> samples_ns_;
};

// Nearest-rank percentile of sorted samples; `q` in [0, 1]. 0 for no samples.
int64_t PercentileOfSorted(const std::vector<int64_t>& sorted, double q);

}  // namespace zoomq::bench
