// Retention against a real broker started with a fast retention check.

#include <string>

#include "broker_test.h"

namespace zoomq::testing {
namespace {

class RetentionTest : public BrokerTest {
 protected:
  BrokerOptions Options() override { return {1, {"--retention-check-ms", "100"}}; }
};

int64_t FirstOffset(Http& http, const std::string& topic) {
  auto r = ReadStream(http, topic, 0, 0, 1);
  if (r.status != 200 || !r.body.contains("first_offset")) return -1;
  return r.body["first_offset"].get<int64_t>();
}

TEST_F(RetentionTest, OldMessagesDisappearAndOffsetsNeverRestart) {
  CreateTopicOrFail("short", {{"partitions", 1}, {"retention_ms", 1000}});
  CreateTopicOrFail("long", {{"partitions", 1}});
  Json batch = Json::array();
  for (int i = 0; i < 5; ++i) batch.push_back({{"value", i}});
  ProduceOk("short", batch);
  ProduceOk("long", batch);
  // A group that never acked anything: retention does not wait for it.
  ASSERT_TRUE(IsStatus(http().Put("/v1/topics/short/groups/lazy", {{"start", "earliest"}}), 201));

  ASSERT_TRUE(WaitFor([&] { return FirstOffset(http(), "short") == 5; }, milliseconds(10000)))
      << ReadStream(http(), "short", 0, 0).Describe();
  auto r = ReadStream(http(), "short", 0, 0);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.body["messages"].empty()) << r.Describe();
  EXPECT_EQ(r.body["high_watermark"], Json(5));
  EXPECT_EQ(r.body["first_offset"], Json(5));
  EXPECT_TRUE(PullOk("short", "lazy", "c", 100, 0).empty()) << "deleted message delivered";

  // Offsets continue after the deleted ones; reading from 0 starts at the first retained one.
  Json next = ProduceOk("short", Json::array({{{"value", "new"}}}));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0]["offset"], Json(5));
  auto after = ReadStream(http(), "short", 0, 0);
  ASSERT_TRUE(IsStatus(after, 200));
  ASSERT_EQ(after.body["messages"].size(), 1u) << after.Describe();
  EXPECT_EQ(after.body["messages"][0]["offset"], Json(5));
  EXPECT_EQ(after.body["messages"][0]["value"], Json("new"));
  Json got = PullOk("short", "lazy", "c", 100, 0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["offset"], Json(5));

  // A topic with the default (7 day) retention keeps everything.
  EXPECT_EQ(FirstOffset(http(), "long"), 0);
  EXPECT_EQ(ReadAll(http(), "long", 0).size(), 5u);
}

}  // namespace
}  // namespace zoomq::testing
