#include "zoomq/bench/latency.h"

#include <gtest/gtest.h>

namespace zoomq::bench {
namespace {

TEST(LatencyTest, NearestRankPercentiles) {
  LatencyRecorder recorder;
  for (int i = 100; i >= 1; --i) recorder.Add(int64_t{i} * 1000000);  // 1..100 ms
  const LatencySummary s = recorder.Summarize();
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p90_ms, 90);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.p999_ms, 100);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  EXPECT_DOUBLE_EQ(s.mean_ms, 50.5);
}

TEST(LatencyTest, EmptyAndMerged) {
  LatencyRecorder a;
  EXPECT_EQ(a.Summarize().count, 0);
  LatencyRecorder b;
  b.Add(2000000);
  a.Add(1000000);
  a.Merge(b);
  const LatencySummary s = a.Summarize();
  EXPECT_EQ(s.count, 2);
  EXPECT_DOUBLE_EQ(s.p50_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 2);
}

}  // namespace
}  // namespace zoomq::bench
