// SIGTERM while requests are waiting: they get answers and the broker exits 0 promptly.

#include <string>
#include <thread>

#include "broker_process.h"
#include "sse_reader.h"

namespace zoomq::testing {
namespace {

TEST(GracefulTest, SigtermAnswersWaitingLongPollsAndExitsZero) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start());
  Http http(broker);
  ASSERT_TRUE(IsStatus(CreateTopic(http, "t", {{"partitions", 1}}), 201));

  HttpResponse group_poll, stream_poll;
  std::thread group_waiter([&] {
    Http h(broker);
    group_poll = Pull(h, "t", "g", "c", 10, 20000);
  });
  std::thread stream_waiter([&] {
    Http h(broker);
    stream_poll = ReadStream(h, "t", 0, 0, 10, 20000);
  });
  SseReader sse(broker.port(), "/v1/topics/t/groups/s/subscribe?consumer=c&prefetch=10");
  // An idle keep-alive connection must not hold the shutdown up either.
  ASSERT_TRUE(IsStatus(http.Get("/v1/health"), 200));

  // The pull and the subscribe create their groups before they park.
  ASSERT_TRUE(WaitFor(
      [&] {
        Http h(broker, milliseconds(2000));
        return h.Get("/v1/topics/t/groups/g").status == 200 &&
               h.Get("/v1/topics/t/groups/s").status == 200;
      },
      milliseconds(5000)));
  ASSERT_TRUE(sse.WaitForHeaders(milliseconds(5000)));
  // ok: the stream read has no observable "parked" state; give it a moment to get there.
  std::this_thread::sleep_for(milliseconds(200));

  const auto term_at = Clock::now();
  const auto code = broker.Term(milliseconds(5000));
  const int64_t exit_ms = MillisSince(term_at);
  group_waiter.join();
  stream_waiter.join();
  std::printf("exit %lld ms after SIGTERM\n", static_cast<long long>(exit_ms));

  EXPECT_EQ(code, std::optional<int>(0)) << "did not exit 0 within 5 s";
  EXPECT_LT(exit_ms, 5000);
  // The waiting requests got an HTTP answer: an empty result or a JSON 503, not a reset.
  for (const HttpResponse* r : {&group_poll, &stream_poll}) {
    EXPECT_NE(r->status, 0) << "no answer: " << r->Describe();
    if (r->status == 200) {
      Json body = r->body;
      EXPECT_TRUE(body["messages"].empty()) << r->Describe();
    } else {
      EXPECT_EQ(r->status, 503) << r->Describe();
      EXPECT_FALSE(r->error_code().empty()) << r->Describe();
    }
  }
  // The SSE stream ended rather than hanging.
  EXPECT_TRUE(sse.WaitForEnd(milliseconds(2000)));
  // Nothing was lost by the stop: restart and the topic is there.
  ASSERT_TRUE(broker.Restart());
  Http after(broker);
  EXPECT_EQ(HighWatermark(after, "t", 0), 0);
}

TEST(GracefulTest, SigtermWithoutTrafficExitsZeroQuickly) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start());
  const auto term_at = Clock::now();
  EXPECT_EQ(broker.Term(milliseconds(5000)), std::optional<int>(0));
  EXPECT_LT(MillisSince(term_at), 2000);
}

}  // namespace
}  // namespace zoomq::testing
