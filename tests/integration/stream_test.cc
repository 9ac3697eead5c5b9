// Stream reads (replay by offset) against a real broker.

#include <string>
#include <thread>
#include <vector>

#include "broker_test.h"

namespace zoomq::testing {
namespace {

using StreamTest = BrokerTest;

TEST_F(StreamTest, ReadByOffsetHonoursFromAndMax) {
  CreateTopicOrFail("t", {{"partitions", 2}});
  Json batch = Json::array();
  for (int i = 0; i < 10; ++i) batch.push_back({{"value", i}, {"partition", 1}, {"key", "k"}});
  ProduceOk("t", batch);

  auto r = ReadStream(http(), "t", 1, 3, 4);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.body["high_watermark"], Json(10)) << r.Describe();
  EXPECT_EQ(r.body["first_offset"], Json(0)) << r.Describe();
  Json msgs = r.body["messages"];
  ASSERT_EQ(msgs.size(), 4u) << r.Describe();
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(msgs[i]["offset"], Json(3 + i));
    EXPECT_EQ(msgs[i]["value"], Json(3 + i));
    EXPECT_EQ(msgs[i]["key"], Json("k"));
    EXPECT_EQ(msgs[i]["partition"], Json(1)) << msgs[i].dump();
  }

  auto tail = ReadStream(http(), "t", 1, 8, 100);
  ASSERT_TRUE(IsStatus(tail, 200));
  ASSERT_EQ(tail.body["messages"].size(), 2u);
  EXPECT_EQ(tail.body["messages"][1]["offset"], Json(9));

  auto at_end = ReadStream(http(), "t", 1, 10, 100);
  ASSERT_TRUE(IsStatus(at_end, 200));
  EXPECT_TRUE(at_end.body["messages"].empty());
  EXPECT_EQ(at_end.body["high_watermark"], Json(10));

  // Default max is 100 and no "max" works.
  auto no_max = http().Get("/v1/topics/t/partitions/1/messages?from=0");
  ASSERT_TRUE(IsStatus(no_max, 200));
  EXPECT_EQ(no_max.body["messages"].size(), 10u);

  // The other partition is empty, and reading leased nothing: a group still gets everything.
  auto empty = ReadStream(http(), "t", 0, 0);
  ASSERT_TRUE(IsStatus(empty, 200));
  EXPECT_EQ(empty.body["high_watermark"], Json(0));
  EXPECT_TRUE(empty.body["messages"].empty());
  EXPECT_EQ(PullOk("t", "g", "c", 100, 0).size(), 1u);  // key "k": one in flight at a time
}

TEST_F(StreamTest, LongPollAtHighWatermarkWakesOnProduce) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  ProduceOk("t", Json::array({{{"value", "before"}}}));
  HttpResponse answer;
  Clock::time_point answered_at;
  std::jthread reader([&] {
    Http h(broker());
    answer = ReadStream(h, "t", 0, 1, 100, 15000);
    answered_at = Clock::now();
  });
  // ok: let the read park at the high watermark (if it has not yet, it answers at once with
  // the message, and the assertions below still hold).
  std::this_thread::sleep_for(milliseconds(200));  // ok: see comment / poll with deadline
  const auto produced_at = Clock::now();
  ProduceOk("t", Json::array({{{"value", "after"}}}));
  reader.join();
  ASSERT_TRUE(IsStatus(answer, 200));
  ASSERT_EQ(answer.body["messages"].size(), 1u) << answer.Describe();
  EXPECT_EQ(answer.body["messages"][0]["offset"], Json(1));
  EXPECT_EQ(answer.body["messages"][0]["value"], Json("after"));
  EXPECT_EQ(answer.body["high_watermark"], Json(2));
  const auto latency = std::chrono::duration_cast<milliseconds>(answered_at - produced_at).count();
  std::printf("stream long poll answered %lld ms after the produce\n",
              static_cast<long long>(latency));
  EXPECT_LT(latency, 2000);
}

TEST_F(StreamTest, LongPollAtHighWatermarkReturnsEmptyAfterWaitMs) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  ProduceOk("t", Json::array({{{"value", 1}}}));
  const auto start = Clock::now();
  auto r = ReadStream(http(), "t", 0, 1, 100, 400);
  const int64_t elapsed = MillisSince(start);
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_TRUE(r.body["messages"].empty());
  EXPECT_EQ(r.body["high_watermark"], Json(1));
  EXPECT_GE(elapsed, 380) << "answered before wait_ms";
  EXPECT_LT(elapsed, 3000);

  // Below the high watermark wait_ms does not delay the answer.
  const auto start2 = Clock::now();
  auto r2 = ReadStream(http(), "t", 0, 0, 100, 5000);
  ASSERT_TRUE(IsStatus(r2, 200));
  EXPECT_EQ(r2.body["messages"].size(), 1u);
  EXPECT_LT(MillisSince(start2), 1000);
}

}  // namespace
}  // namespace zoomq::testing
