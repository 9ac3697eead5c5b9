#include "broker/core/topic_config.h"

#include <gtest/gtest.h>

namespace zoomq::broker {
namespace {

using nlohmann::json;

TEST(TopicConfigTest, DefaultsOnAStandaloneBroker) {
  auto spec = TopicSpec::FromJson(json{{"name", "t"}});
  ASSERT_TRUE(spec.ok());
  auto c = spec->Resolve(1);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->partitions, 1);
  EXPECT_EQ(c->replication_factor, 1);
  EXPECT_EQ(c->min_insync_replicas, 1);
  EXPECT_EQ(c->visibility_timeout_ms, 30000);
  EXPECT_EQ(c->max_deliveries, 0);
}

TEST(TopicConfigTest, DefaultsOnThreeBrokers) {
  auto c = TopicSpec::FromJson(json{{"name", "t"}})->Resolve(3);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->replication_factor, 3);
  EXPECT_EQ(c->min_insync_replicas, 2);
}

TEST(TopicConfigTest, RefusesBadFields) {
  EXPECT_FALSE(TopicSpec::FromJson(json{{"partitions", 1}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", 5}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", "x.dlq"}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", "t"}, {"partitions", 0}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", "t"}, {"partitions", "3"}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", "t"}, {"partitions", 2.5}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", "t"}, {"retention_ms", -1}}).ok());
  EXPECT_FALSE(
      TopicSpec::FromJson(json{{"name", "t"}, {"max_deliveries", 18446744073709551615ull}}).ok());
  EXPECT_FALSE(TopicSpec::FromJson(json::array()).ok());
}

TEST(TopicConfigTest, ReplicationChecks) {
  auto over = TopicSpec::FromJson(json{{"name", "t"}, {"replication_factor", 2}})->Resolve(1);
  EXPECT_EQ(over.status().code(), Code::kNotEnoughReplicas);
  auto isr = TopicSpec::FromJson(
                 json{{"name", "t"}, {"replication_factor", 1}, {"min_insync_replicas", 2}})
                 ->Resolve(3);
  EXPECT_EQ(isr.status().code(), Code::kInvalidRequest);
}

TEST(TopicConfigTest, RepeatMatchesOnlyOnGivenFields) {
  auto existing = TopicSpec::FromJson(json{{"name", "t"}, {"partitions", 3}})->Resolve(1).value();
  EXPECT_TRUE(TopicSpec::FromJson(json{{"name", "t"}})->Matches(existing));
  EXPECT_TRUE(TopicSpec::FromJson(json{{"name", "t"}, {"partitions", 3}})->Matches(existing));
  EXPECT_FALSE(TopicSpec::FromJson(json{{"name", "t"}, {"partitions", 4}})->Matches(existing));
}

TEST(TopicConfigTest, JsonRoundTrip) {
  TopicConfig c;
  c.partitions = 7;
  c.max_deliveries = 4;
  c.retention_bytes = 1 << 20;
  auto back = TopicConfigFromJson(c.ToJson().dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value(), c);
}

}  // namespace
}  // namespace zoomq::broker
