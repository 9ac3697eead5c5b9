// Violations found by zoomq-chaos, each reduced to a deterministic reproduction with real
// processes. A test stays DISABLED_ until the broker is fixed (run it with
// --gtest_also_run_disabled_tests); then drop the prefix so that it guards the fix.

#include <signal.h>

#include <string>
#include <thread>
#include <vector>

#include "cluster_harness.h"

namespace zoomq::cluster_testing {
namespace {

using zoomq::testing::GroupVerb;
using zoomq::testing::Pull;

// Chaos seed 3 (5 minutes, loopback): "acked, then redelivered" 2. The leader of a partition
// was paused (SIGSTOP) past its session; a group pull sent to it waited in its socket; the new
// leader delivered and acked the same message; on SIGCONT the old leader served the waiting
// pull from its stale group state before it learned that its session had expired, and handed
// the acked message out again (delivery 2). Promise 5: an acked message is never delivered to
// the group again. Acks are fenced by the session lease; lease grants (pulls) are not.
TEST(ChaosFindings, ResumedDeposedLeaderDoesNotRedeliverAnAckedMessage) {
  ClusterOptions options;
  options.session_ms = 2000;
  Cluster cluster(options);
  ASSERT_TRUE(cluster.Start());
  ASSERT_TRUE(cluster.CreateTopic("t", {{"partitions", 1},
                                        {"replication_factor", 3},
                                        {"min_insync_replicas", 2},
                                        {"visibility_timeout_ms", 1000}}));
  auto first_view = cluster.WaitForLeader("t", 0, milliseconds(10000));
  ASSERT_TRUE(first_view.has_value());
  const int old_leader = first_view->leader;
  Http http(cluster.Port(old_leader));
  ASSERT_EQ(http.Put("/v1/topics/t/groups/g", Json{{"start", "earliest"}}).status / 100, 2);
  auto produced = http.Post("/v1/topics/t/messages",
                            Json{{"messages", Json::array({{{"id", "m1"}, {"value", 1}}})}});
  ASSERT_EQ(produced.status, 200) << produced.Describe();
  auto first = Pull(http, "t", "g", "a", 1, 1000, 1000);
  ASSERT_EQ(first.status, 200) << first.Describe();
  ASSERT_EQ(first.body["messages"].size(), 1u);
  const std::string handle = first.body["messages"][0]["id"];

  cluster.Stop(old_leader);
  // A pull that reaches the paused leader's socket and waits there.
  HttpResponse late;
  std::thread waiting([&] {
    Http paused(cluster.Port(old_leader), milliseconds(30000));
    late = Pull(paused, "t", "g", "b", 10, 0, 1000);
  });
  auto new_view = cluster.WaitForLeader("t", 0, milliseconds(15000), [&](const PartitionView& v) {
    return v.leader != old_leader;
  });
  ASSERT_TRUE(new_view.has_value());
  Http fresh(cluster.Port(new_view->leader));
  auto again = Pull(fresh, "t", "g", "c", 10, 3000, 1000);
  ASSERT_EQ(again.status, 200) << again.Describe();
  auto ack = GroupVerb(fresh, "t", "g", "ack", {handle});
  ASSERT_EQ(ack.status, 200) << ack.Describe();
  ASSERT_TRUE(ack.body["unknown"].empty()) << ack.raw;  // applied by the new leader

  cluster.Cont(old_leader);
  waiting.join();
  if (late.status == 200) {
    for (const auto& m : late.body["messages"]) {
      EXPECT_NE(m.value("id", ""), handle)
          << "broker " << old_leader << " (deposed) delivered an acked message again: "
          << late.raw;
    }
  }
}

}  // namespace
}  // namespace zoomq::cluster_testing
