// Server-Sent Events subscriptions against a real broker.

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker_test.h"
#include "sse_reader.h"

namespace zoomq::testing {
namespace {

using SseTest = BrokerTest;

std::string SubscribePath(const std::string& topic, const std::string& group,
                          const std::string& consumer, int prefetch) {
  return "/v1/topics/" + topic + "/groups/" + group + "/subscribe?consumer=" + consumer +
         "&prefetch=" + std::to_string(prefetch);
}

TEST_F(SseTest, SubscribeStreamsMessagesAsEvents) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  ProduceOk("t", Json::array({{{"value", "m0"}}, {{"value", "m1"}}, {{"value", "m2"}}}));
  SseReader sse(broker().port(), SubscribePath("t", "g", "c1", 10));
  ASSERT_TRUE(sse.WaitForEvents(3, milliseconds(5000))) << "got " << sse.EventCount();
  EXPECT_EQ(sse.status(), 200);
  EXPECT_EQ(sse.content_type().rfind("text/event-stream", 0), 0u) << sse.content_type();

  // Messages produced while the stream is open arrive too.
  ProduceOk("t", Json::array({{{"value", "live"}}}));
  ASSERT_TRUE(sse.WaitForEvents(4, milliseconds(5000))) << "got " << sse.EventCount();
  const auto events = sse.Events();
  for (size_t i = 0; i < events.size(); ++i) {
    SseEvent e = events[i];
    EXPECT_EQ(e.event, "message") << e.data;
    ASSERT_TRUE(e.json.is_object()) << "data is not JSON: " << e.data;
    EXPECT_EQ(e.json["id"], Json(e.id)) << "id: line differs from the message id";
    EXPECT_EQ(e.json["offset"], Json(i));
    EXPECT_EQ(e.json["partition"], Json(0));
    EXPECT_EQ(e.json["delivery"], Json(1));
    EXPECT_EQ(e.json["id"], Json("0-" + std::to_string(i)));
  }
  EXPECT_EQ(events[3].json["value"], Json("live"));
  EXPECT_TRUE(sse.malformed_lines().empty()) << sse.malformed_lines()[0];

  // Streamed messages are leased: another consumer of the group gets none of them.
  EXPECT_TRUE(PullOk("t", "g", "c2", 100, 0).empty());
  sse.Stop();
}

TEST_F(SseTest, PrefetchLimitsUnackedMessagesAndAcksLetMoreThrough) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  Json batch = Json::array();
  for (int i = 0; i < 10; ++i) batch.push_back({{"value", i}});
  ProduceOk("t", batch);

  SseReader sse(broker().port(), SubscribePath("t", "g", "c1", 3));
  ASSERT_TRUE(sse.WaitForEvents(3, milliseconds(5000))) << "got " << sse.EventCount();
  // ok: nothing should arrive beyond the prefetch; only time can show that.
  std::this_thread::sleep_for(milliseconds(700));  // ok: see comment / poll with deadline
  ASSERT_EQ(sse.EventCount(), 3u) << "more than prefetch unacked messages in flight";

  // Ack two: exactly two more may come.
  auto events = sse.Events();
  Json acked = VerbOk("t", "g", "ack", {events[0].id, events[1].id});
  EXPECT_EQ(AffectedCount(acked), 2) << acked.dump();
  ASSERT_TRUE(sse.WaitForEvents(5, milliseconds(5000))) << "acks did not let more through";
  // ok: as above, check that no sixth one slips through.
  std::this_thread::sleep_for(milliseconds(500));  // ok: see comment / poll with deadline
  EXPECT_EQ(sse.EventCount(), 5u);

  // Ack everything as it comes: all 10 arrive, each once.
  std::set<std::string> acked_ids = {events[0].id, events[1].id};
  ASSERT_TRUE(WaitFor(
      [&] {
        std::vector<std::string> to_ack;
        for (const auto& e : sse.Events()) {
          if (acked_ids.insert(e.id).second) to_ack.push_back(e.id);
        }
        if (!to_ack.empty()) VerbOk("t", "g", "ack", to_ack);
        return acked_ids.size() >= 10;
      },
      milliseconds(10000)))
      << "got " << acked_ids.size();
  events = sse.Events();
  std::set<std::string> unique;
  for (const auto& e : events) unique.insert(e.id);
  EXPECT_EQ(unique.size(), events.size()) << "a message was streamed twice";
  EXPECT_EQ(events.size(), 10u);
  sse.Stop();
}

TEST_F(SseTest, TwoSubscribersShareTheGroupWithoutOverlap) {
  CreateTopicOrFail("t", {{"partitions", 2}});
  Json batch = Json::array();
  for (int i = 0; i < 20; ++i) batch.push_back({{"value", i}});
  ProduceOk("t", batch);
  SseReader a(broker().port(), SubscribePath("t", "g", "a", 100));
  SseReader b(broker().port(), SubscribePath("t", "g", "b", 100));
  ASSERT_TRUE(WaitFor([&] { return a.EventCount() + b.EventCount() >= 20; }, milliseconds(5000)));
  std::set<std::string> ids;
  for (const auto& e : a.Events()) ids.insert(e.id);
  for (const auto& e : b.Events()) ids.insert(e.id);
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_EQ(a.EventCount() + b.EventCount(), 20u) << "a message went to both subscribers";
  a.Stop();
  b.Stop();
}

TEST_F(SseTest, SubscribeToUnknownTopicIs404) {
  auto r = Http(broker(), milliseconds(5000)).Get(SubscribePath("nope", "g", "c", 10));
  EXPECT_TRUE(IsError(r, 404, "TOPIC_NOT_FOUND"));
}

}  // namespace
}  // namespace zoomq::testing
