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

  // 100 idle long polls, each on its own group, connection and thread.
  std::vector<std::unique_ptr<Http>> clients;
  for (int i = 0; i < kLongPolls; ++i) clients.push_back(std::make_unique<Http>(broker()));
  std::vector<HttpResponse> answers(kLongPolls);
  std::atomic<int> finished{0};
  std::vector<std::thread> pollers;
  for (int i = 0; i < kLongPolls; ++i) {
    pollers.emplace_back([&, i] {
      answers[i] = Pull(*clients[i], "idle", "w" + std::to_string(i), "c", 10, 25000);
      ++finished;
    });
  }
  // 20 SSE streams on other groups.
  std::vector<std::unique_ptr<SseReader>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::make_unique<SseReader>(
        broker().port(), "/v1/topics/idle/groups/s" + std::to_string(i) + "/subscribe?consumer=c"));
  }
  // Every waiter has reached the broker once its group exists.
  auto groups_exist = [&] {
    for (int i = 0; i < kLongPolls; ++i) {
      if (http().Get("/v1/topics/idle/groups/w" + std::to_string(i)).status != 200) return false;
    }
    for (int i = 0; i < kStreams; ++i) {
      if (http().Get("/v1/topics/idle/groups/s" + std::to_string(i)).status != 200) return false;
    }
    return true;
  };
  const bool all_parked = WaitFor(groups_exist, milliseconds(15000), milliseconds(100));
  EXPECT_TRUE(all_parked) << "not every waiter reached the broker";
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
  std::printf("produce latency with %d long polls + %d SSE streams waiting: min %lld ms, "
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
  for (auto& a : answers) with_message += a.status == 200 && a.body["messages"].size() == 1;
  EXPECT_EQ(with_message, kLongPolls);
  for (auto& s : streams) {
    EXPECT_TRUE(s->WaitForEvents(1, milliseconds(5000)));
    s->Stop();
  }
  EXPECT_TRUE(IsStatus(http().Get("/v1/health"), 200));
}

}  // namespace
}  // namespace zoomq::testing
