// The IoT demo's pure parts: readings as JSON, sensor types, random walks, thresholds.
#include "zoomq/demo/reading.h"

#include <gtest/gtest.h>

namespace zoomq::demo {
namespace {

TEST(DemoReadingTest, JsonRoundTrip) {
  Reading r{"7", "humidity", 51.234, "%", 1764000000000, 42};
  Result<Reading> back = ParseReading(ReadingToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->sensor, "7");
  EXPECT_EQ(back->type, "humidity");
  EXPECT_DOUBLE_EQ(back->value, 51.23);  // rounded to 2 decimals
  EXPECT_EQ(back->unit, "%");
  EXPECT_EQ(back->timestamp_ms, 1764000000000);
  EXPECT_EQ(back->sequence, 42);
}

TEST(DemoReadingTest, RejectsMalformedReadings) {
  EXPECT_FALSE(ParseReading("not json").ok());
  EXPECT_FALSE(ParseReading("[1,2]").ok());
  EXPECT_FALSE(ParseReading(R"({"sensor":"1","type":"t","value":"hot","unit":"C",)"
                            R"("timestamp_ms":1,"sequence":1})")
                   .ok());
  EXPECT_FALSE(ParseReading(R"({"sensor":"1","type":"t","value":1,"unit":"C"})").ok());
}

TEST(DemoReadingTest, KnownTypesAndTopics) {
  ASSERT_NE(FindSensorType("temperature"), nullptr);
  EXPECT_STREQ(FindSensorType("pressure")->unit, "hPa");
  EXPECT_EQ(FindSensorType("wind"), nullptr);
  EXPECT_EQ(SensorTopic("temperature", "1").value(), "temperature_1");
  EXPECT_FALSE(SensorTopic("temperature", "a b").ok());
}

TEST(DemoReadingTest, RandomWalkStaysInRangeAndNearItsBase) {
  const SensorType& t = *FindSensorType("temperature");
  RandomWalk walk(t, 12345);
  double sum = 0;
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    double v = walk.Next();
    ASSERT_GE(v, t.min);
    ASSERT_LE(v, t.max);
    sum += v;
  }
  EXPECT_NEAR(sum / n, t.base, 1.0);
}

TEST(DemoReadingTest, ThresholdsHaveDefaultsAndOverrides) {
  Thresholds th;
  Reading hot{"1", "temperature", 30.0, "C", 0, 1};
  Reading mild{"1", "temperature", 20.0, "C", 0, 2};
  EXPECT_TRUE(th.Exceeds(hot));
  EXPECT_FALSE(th.Exceeds(mild));
  ASSERT_TRUE(th.Set("temperature=35").ok());
  EXPECT_FALSE(th.Exceeds(hot));
  ASSERT_TRUE(th.Set("wind=10.5").ok());
  EXPECT_DOUBLE_EQ(*th.For("wind"), 10.5);
  EXPECT_FALSE(th.Exceeds(Reading{"1", "unknown", 1e9, "", 0, 1}));
  EXPECT_FALSE(th.Set("temperature").ok());
  EXPECT_FALSE(th.Set("temperature=hot").ok());
  EXPECT_FALSE(th.Set("temperature=").ok());
}

}  // namespace
}  // namespace zoomq::demo
