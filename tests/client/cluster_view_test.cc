// ClusterView over a FakeBroker: bootstrap failover, learning brokers, rate-limited and
// shared refreshes, leader lookups.
#include "cluster_view.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <thread>

#include "fake_broker.h"

namespace zoomq::client_internal {
namespace {

using client_testing::FakeBroker;
using client_testing::FakeTransport;

ClientOptions Bootstrap(std::vector<std::string> urls) {
  ClientOptions o;
  o.brokers = std::move(urls);
  return o;
}

TEST(ClusterViewTest, SkipsDeadBootstrapBrokersAndLearnsTheOthers) {
  FakeBroker broker;
  broker.AddTopic("t", 3, /*leader=*/3);
  broker.SetDown(1, true);
  ClusterView view(Bootstrap({FakeBroker::Url(1) + "/", FakeBroker::Url(2)}), broker.transport());
  ASSERT_TRUE(view.EnsureFresh().ok());
  EXPECT_EQ(view.Snapshot().brokers.size(), 3u);
  auto url = view.LeaderUrl("t", 2);
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url, FakeBroker::Url(3));
  auto n = view.Partitions("t");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.value(), 3);
  // AnyUrl rotates over live brokers only.
  for (int i = 0; i < 6; ++i) EXPECT_NE(view.AnyUrl(), FakeBroker::Url(1));

  // Every broker gone: a refresh says so, the cached view stays.
  broker.SetDown(2, true);
  broker.SetDown(3, true);
  EXPECT_EQ(view.Refresh(true).code(), Code::kUnavailable);
  EXPECT_EQ(view.Snapshot().topics.size(), 1u);
}

TEST(ClusterViewTest, LeaderLookups) {
  FakeBroker broker;
  broker.AddTopic("t", 2, /*leader=*/2);
  broker.SetLeader("t", 1, -1);  // no leader: any live broker (it forwards or says NO_LEADER)
  ClusterView view(Bootstrap({FakeBroker::Url(1)}), broker.transport());
  auto none = view.LeaderUrl("t", 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rfind("http://b", 0), 0u);
  EXPECT_EQ(view.LeaderUrl("t", 5).status().code(), Code::kPartitionNotFound);
  EXPECT_EQ(view.LeaderUrl("nope", 0).status().code(), Code::kTopicNotFound);
  auto groups = view.LeadersOf("t");
  ASSERT_TRUE(groups.ok());
  size_t partitions = 0;
  for (const auto& g : *groups) partitions += g.partitions.size();
  EXPECT_EQ(partitions, 2u);
  // A topic created after the first view is found by the refresh the lookup triggers.
  broker.AddTopic("later", 1, 1);
  view.min_refresh_interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(view.LeaderUrl("later", 0).ok());
}

TEST(ClusterViewTest, RefreshesAreRateLimitedUnlessForced) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  ClusterView view(Bootstrap({FakeBroker::Url(1)}), broker.transport());
  view.min_refresh_interval = std::chrono::milliseconds(60000);
  ASSERT_TRUE(view.Refresh().ok());
  ASSERT_TRUE(view.Refresh().ok());
  ASSERT_TRUE(view.EnsureFresh().ok());
  EXPECT_EQ(broker.cluster_requests(), 1);
  ASSERT_TRUE(view.Refresh(true).ok());
  EXPECT_EQ(broker.cluster_requests(), 2);
}

TEST(ClusterViewTest, ConcurrentCallersShareOneRefresh) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};
  auto transport = std::make_shared<FakeTransport>([&](const HttpRequest& r) {
    waiting++;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
    return broker.Handle(r);
  });
  ClusterView view(Bootstrap({FakeBroker::Url(1)}), transport);
  std::vector<std::future<Status>> calls;
  for (int i = 0; i < 4; ++i) {
    calls.push_back(std::async(std::launch::async, [&] { return view.Refresh(true); }));
  }
  // The first caller is in the transport; the others wait for its answer.
  // ok: a deliberate wait, to give the other callers time to arrive.
  EXPECT_EQ(calls[0].wait_for(std::chrono::milliseconds(30)), std::future_status::timeout);
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  for (auto& c : calls) EXPECT_TRUE(c.get().ok());
  // Callers that arrived after the shared refresh ended may have made their own; never four.
  EXPECT_LT(broker.cluster_requests(), 4);
  EXPECT_EQ(waiting.load(), broker.cluster_requests());
}

TEST(ClusterViewTest, NoBrokersIsInvalid) {
  FakeBroker broker;
  ClusterView view(ClientOptions{}, broker.transport());
  EXPECT_EQ(view.EnsureFresh().code(), Code::kInvalidRequest);
}

}  // namespace
}  // namespace zoomq::client_internal
