// SIGTERM while requests are waiting: they get answers and the broker exits 0 promptly.

#include <string>
#include <thread>

#include "broker_process.h"
#include "sse_reader.h"

namespace zoomq::testing {
namespace {

// A waiting request and when its answer arrived.
struct Waiter {
  HttpResponse response;
  Clock::time_point answered_at;
};

TEST(GracefulTest, SigtermAnswersWaitingRequestsAndExitsZero) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start());
  {
    Http http(broker);
    ASSERT_TRUE(IsStatus(CreateTopic(http, "t", {{"partitions", 1}}), 201));
  }  // closes its connection: this test has no idle keep-alive connection

  Waiter group_poll, stream_poll;
  std::jthread group_waiter([&] {
    Http h(broker);
    group_poll.response = Pull(h, "t", "g", "c", 10, 20000);
    group_poll.answered_at = Clock::now();
  });
  std::jthread stream_waiter([&] {
    Http h(broker);
    stream_poll.response = ReadStream(h, "t", 0, 0, 10, 20000);
    stream_poll.answered_at = Clock::now();
  });
  SseReader sse(broker.port(), "/v1/topics/t/groups/s/subscribe?consumer=c&prefetch=10");

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
  std::this_thread::sleep_for(milliseconds(200));  // ok: see comment / poll with deadline

  const auto term_at = Clock::now();
  const auto code = broker.Term(milliseconds(10000));
  const int64_t exit_ms = MillisSince(term_at);
  group_waiter.join();
  stream_waiter.join();
  const bool sse_ended = sse.WaitForEnd(milliseconds(2000));
  std::printf(
      "after SIGTERM: long poll answered in %lld ms, stream read in %lld ms, exit in "
      "%lld ms\n",
      static_cast<long long>(
          std::chrono::duration_cast<milliseconds>(group_poll.answered_at - term_at).count()),
      static_cast<long long>(
          std::chrono::duration_cast<milliseconds>(stream_poll.answered_at - term_at).count()),
      static_cast<long long>(exit_ms));

  EXPECT_EQ(code, std::optional<int>(0)) << "did not exit 0";
  EXPECT_LT(exit_ms, 3000);
  // The waiting requests got an HTTP answer (an empty result or a JSON 503, not a reset),
  // promptly rather than at the end of their wait_ms.
  for (Waiter* w : {&group_poll, &stream_poll}) {
    const HttpResponse& r = w->response;
    EXPECT_NE(r.status, 0) << "no answer: " << r.Describe();
    if (r.status == 200) {
      Json body = r.body;
      EXPECT_TRUE(body["messages"].empty()) << r.Describe();
    } else {
      EXPECT_EQ(r.status, 503) << r.Describe();
      EXPECT_FALSE(r.error_code().empty()) << r.Describe();
    }
    EXPECT_LT(std::chrono::duration_cast<milliseconds>(w->answered_at - term_at).count(), 2000);
  }
  // The SSE stream ended rather than hanging.
  EXPECT_TRUE(sse_ended);
  // Nothing was lost by the stop: restart and the topic is there.
  ASSERT_TRUE(broker.Restart());
  Http after(broker);
  EXPECT_EQ(HighWatermark(after, "t", 0), 0);
}

TEST(GracefulTest, SigtermWithAnIdleKeepAliveConnectionExitsPromptly) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start());
  // A client that keeps its connection open between requests, as the SDK does.
  Http idle(broker);
  ASSERT_TRUE(IsStatus(idle.Get("/v1/health"), 200));
  const auto term_at = Clock::now();
  const auto code = broker.Term(milliseconds(10000));
  const int64_t exit_ms = MillisSince(term_at);
  std::printf("exit %lld ms after SIGTERM with one idle keep-alive connection\n",
              static_cast<long long>(exit_ms));
  EXPECT_EQ(code, std::optional<int>(0));
  EXPECT_LT(exit_ms, 3000) << "an idle keep-alive connection holds the shutdown up";
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
