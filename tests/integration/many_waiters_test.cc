// Many idle long polls and SSE streams must not starve produce requests.

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker_test.h"
#include "sse_reader.h"

namespace zoomq::testing {
namespace {

constexpr int kLongPolls = 100;
constexpr int kStreams = 20;

using ManyWaitersTest = BrokerTest;

TEST_F(ManyWaitersTest, ProducesStayFastWhileManyRequestsWait) {
  CreateTopicOrFail("idle", {{"partitions", 1}});
  CreateTopicOrFail("busy", {{"partitions", 1}});

  // 100 idle long polls, each on its own group, connection and thread, plus 20 SSE streams on
  // other groups. They are opened a few at a time: a burst of 120 simultaneous connects
  // overflows the listen backlog (5 in cpp-httplib 0.11.4) and stalls some connects for
  // seconds, which is not what this test is about.
  constexpr int kRamp = 4;
  std::vector<std::unique_ptr<Http>> clients;
  for (int i = 0; i < kLongPolls; ++i) clients.push_back(std::make_unique<Http>(broker()));
  std::vector<HttpResponse> answers(kLongPolls);
  std::atomic<int> finished{0};
  std::vector<std::jthread> pollers;
  std::vector<std::unique_ptr<SseReader>> streams;
  // A waiter has reached the broker once its group exists (the first pull/subscribe creates it).
  auto group_exists = [&](const std::string& g) {
    return http().Get("/v1/topics/idle/groups/" + g).status == 200;
  };
  const auto opened_at = Clock::now();
  std::vector<std::string> missing;
  for (int first = 0; first < kLongPolls + kStreams; first += kRamp) {
    std::vector<std::string> batch;
    for (int i = first; i < std::min(first + kRamp, kLongPolls + kStreams); ++i) {
      if (i < kLongPolls) {
        batch.push_back("w" + std::to_string(i));
        pollers.emplace_back([&, i] {
          answers[i] = Pull(*clients[i], "idle", "w" + std::to_string(i), "c", 10, 25000);
          ++finished;
        });
      } else {
        batch.push_back("s" + std::to_string(i - kLongPolls));
        streams.push_back(std::make_unique<SseReader>(
            broker().port(), "/v1/topics/idle/groups/" + batch.back() + "/subscribe?consumer=c"));
      }
    }
    for (const auto& g : batch) {
      if (!WaitFor([&] { return group_exists(g); }, milliseconds(5000))) missing.push_back(g);
    }
  }
  std::printf("%d long polls + %d SSE streams parked after %lld ms\n", kLongPolls, kStreams,
              static_cast<long long>(MillisSince(opened_at)));
  EXPECT_TRUE(missing.empty()) << "not every waiter reached the broker: " << missing.size()
                               << " missing, e.g. " << (missing.empty() ? "" : missing[0]);
  EXPECT_EQ(finished.load(), 0) << "long polls answered early (refused?)";

  // Produce while they all wait: each must succeed promptly.
  std::vector<int64_t> latencies;
  for (int i = 0; i < 20; ++i) {
    Http fresh(broker());  // a new connection each time: needs a free worker to be served
    const auto start = Clock::now();
    auto r = Produce(fresh, "busy", Json::array({{{"value", i}}}));
    latencies.push_back(MillisSince(start));
    EXPECT_TRUE(IsStatus(r, 200)) << "produce " << i;
    EXPECT_LT(latencies.back(), 2000) << "produce " << i;
  }
  {
    // And a consumer of the busy topic is served too.
    const auto start = Clock::now();
    auto r = Pull(http(), "busy", "g", "c", 100, 0);
    EXPECT_TRUE(IsStatus(r, 200));
    EXPECT_EQ(r.body["messages"].size(), 20u);
    EXPECT_LT(MillisSince(start), 2000);
  }
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "produce latency with %d long polls + %d SSE streams waiting: min %lld ms, "
      "median %lld ms, max %lld ms\n",
      kLongPolls, kStreams, static_cast<long long>(latencies.front()),
      static_cast<long long>(latencies[latencies.size() / 2]),
      static_cast<long long>(latencies.back()));
  EXPECT_EQ(finished.load(), 0) << "long polls answered before wait_ms";

  // A produce to the idle topic wakes the long polls (each group gets the message).
  ProduceOk("idle", Json::array({{{"value", "wake"}}}));
  const bool all_woken =
      WaitFor([&] { return finished.load() == kLongPolls; }, milliseconds(10000));
  EXPECT_TRUE(all_woken) << finished.load() << " of " << kLongPolls << " long polls answered";
  if (!all_woken) {
    for (auto& c : clients) c->Stop();
  }
  for (auto& t : pollers) t.join();
  int with_message = 0;
  for (int i = 0; i < kLongPolls; ++i) {
    HttpResponse& a = answers[i];
    const bool ok = a.status == 200 && a.body["messages"].size() == 1;
    with_message += ok;
    if (!ok) ADD_FAILURE() << "long poll w" << i << ": " << a.Describe();
  }
  EXPECT_EQ(with_message, kLongPolls);
  for (auto& s : streams) {
    EXPECT_TRUE(s->WaitForEvents(1, milliseconds(5000)));
    s->Stop();
  }
  EXPECT_TRUE(IsStatus(http().Get("/v1/health"), 200));
}

}  // namespace
}  // namespace zoomq::testing
