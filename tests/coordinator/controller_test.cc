// The controller's policy stepped by hand over an in-memory metadata store (issue 11 item 4):
// placement of a new topic, failover when a leader dies or restarts, no unclean election,
// leadership returning to the preferred replica, draining a broker that shuts down, and
// compare-and-set against a leader's concurrent ISR write. No ZooKeeper, no processes.
#include "zoomq/coordinator/controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "fake_metadata_store.h"

namespace zoomq::coordinator {
namespace {

using testing::FakeMetadataStore;

class ControllerTest : public ::testing::Test {
 protected:
  // Brokers 1, 2, 3 live in incarnations 101, 102, 103; topic "t" with 3 partitions, RF 3.
  void SetUp() override {
    live_ = {{1, 101}, {2, 102}, {3, 103}};
    auto parts = Controller::PlaceTopic("t", 3, 3, {1, 2, 3}, live_);
    ASSERT_TRUE(store_.CreateTopic("t", "{}", 0, parts).ok());
  }
  std::vector<PartitionChange> Pass(bool prefer = false, std::set<int32_t> leaving = {}) {
    return controller_.Reconcile(live_, leaving, prefer);
  }
  // The partition broker `id` leads first (its preferred leadership).
  int32_t PreferredBy(int32_t id) {
    for (int32_t p = 0; p < 3; ++p) {
      if (store_.At("t", p).replicas.front() == id) return p;
    }
    return -1;
  }

  FakeMetadataStore store_;
  Controller controller_{&store_};
  LiveBrokers live_;
};

TEST_F(ControllerTest, PlacementSpreadsPreferredLeadersAndGrantsEpochOne) {
  std::map<int32_t, int> preferred;
  for (int32_t p = 0; p < 3; ++p) {
    const PartitionState& s = store_.At("t", p);
    EXPECT_EQ(s.replicas.size(), 3u);
    EXPECT_EQ(s.isr, s.replicas);
    EXPECT_EQ(s.leader, s.replicas.front());
    EXPECT_EQ(s.epoch, 1);
    EXPECT_EQ(s.leader_incarnation, live_[s.leader]);
    ++preferred[s.leader];
  }
  EXPECT_EQ(preferred.size(), 3u) << "each broker prefers one of the three partitions";
  // A topic and its dead-letter topic are placed by the parent's name: the same leaders.
  auto a = Controller::PlaceTopic("orders", 4, 2, {1, 2, 3}, live_);
  auto b = Controller::PlaceTopic("orders", 4, 2, {1, 2, 3}, live_);
  ASSERT_EQ(a.size(), 4u);
  for (size_t p = 0; p < a.size(); ++p) EXPECT_EQ(a[p].replicas, b[p].replicas);
}

TEST_F(ControllerTest, AHealthyClusterNeedsNoWrite) {
  EXPECT_TRUE(Pass().empty());
  EXPECT_TRUE(Pass(/*prefer=*/true).empty());
  EXPECT_EQ(store_.writes, 0);
}

TEST_F(ControllerTest, ADeadLeaderIsReplacedByAnInSyncReplicaWithTheNextEpoch) {
  const int32_t p = PreferredBy(1);
  live_.erase(1);
  auto changes = Pass();
  // Every partition drops broker 1 from its ISR; the one it led gets a new leader.
  ASSERT_EQ(changes.size(), 3u);
  const PartitionState& s = store_.At("t", p);
  EXPECT_NE(s.leader, 1);
  EXPECT_EQ(s.epoch, 2);
  EXPECT_EQ(s.leader_incarnation, live_[s.leader]);
  EXPECT_EQ(std::count(s.isr.begin(), s.isr.end(), 1), 0);
  // The new leader is the first replica after the dead one that is live and in sync.
  EXPECT_EQ(s.leader, s.replicas[1]);
  // Written once: a second pass finds nothing to do.
  EXPECT_TRUE(Pass().empty());
}

TEST_F(ControllerTest, NoUncleanElectionWhenTheWholeIsrIsGone) {
  const int32_t p = PreferredBy(1);
  // The ISR shrank to the leader alone (its followers fell behind), then the leader died.
  store_.Bump("t", p, {1});
  live_.erase(1);
  Pass();
  const PartitionState& s = store_.At("t", p);
  EXPECT_EQ(s.leader, kNoLeaderId) << "an out-of-sync replica must not be elected";
  EXPECT_EQ(s.isr, (std::vector<int32_t>{1})) << "the ISR never becomes empty";
  const int64_t epoch = s.epoch;
  // Broker 1 returns (a new incarnation): the only safe leader leads again, a new epoch.
  live_[1] = 201;
  Pass();
  EXPECT_EQ(store_.At("t", p).leader, 1);
  EXPECT_EQ(store_.At("t", p).leader_incarnation, 201);
  EXPECT_GT(store_.At("t", p).epoch, epoch);
}

TEST_F(ControllerTest, ALeaderRestartedInItsSessionIsGrantedANewEpoch) {
  // Issue 10: the same id in a new registration may have lost an un-fsynced tail.
  const int32_t p = PreferredBy(2);
  live_[2] = 202;
  auto changes = Pass();
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].partition, p);
  EXPECT_EQ(changes[0].from.epoch, 1);
  EXPECT_EQ(changes[0].to.epoch, 2);
  EXPECT_EQ(store_.At("t", p).leader_incarnation, 202);
}

TEST_F(ControllerTest, LeadershipReturnsToThePreferredReplicaOnlyWhenAsked) {
  const int32_t p = PreferredBy(3);
  live_.erase(3);
  Pass();
  ASSERT_NE(store_.At("t", p).leader, 3);
  // Broker 3 returns; its leader puts it back into the ISR once it caught up.
  live_[3] = 303;
  EXPECT_TRUE(Pass().empty()) << "no change while broker 3 is out of the ISR";
  store_.Bump("t", p, {1, 2, 3});
  EXPECT_TRUE(Pass(/*prefer=*/false).empty()) << "reconcile alone does not move leaders";
  Pass(/*prefer=*/true);
  EXPECT_EQ(store_.At("t", p).leader, 3);
  EXPECT_EQ(store_.At("t", p).leader_incarnation, 303);
  EXPECT_EQ(store_.At("t", p).epoch, 3);  // 1, moved away (2), back (3)
}

TEST_F(ControllerTest, ALeavingBrokerIsDrainedOfLeadership) {
  ASSERT_TRUE(controller_.LeadsAny(2));
  Pass(false, {2});
  EXPECT_FALSE(controller_.LeadsAny(2));
  // It stays a replica and in the ISR: it keeps its data until it is gone.
  const PartitionState& s = store_.At("t", PreferredBy(2));
  EXPECT_EQ(std::count(s.isr.begin(), s.isr.end(), 2), 1);
}

TEST_F(ControllerTest, AConcurrentIsrWriteWinsAndTheNextPassDecidesAgain) {
  const int32_t p = PreferredBy(1);
  live_.erase(1);
  // The controller read the state; before its write, the leader shrank the ISR.
  auto read = store_.GetPartition("t", p, nullptr);
  ASSERT_TRUE(read.ok());
  store_.Bump("t", p, {1, 3});
  PartitionState stale = read.value();
  stale.leader = 2;
  EXPECT_FALSE(store_.SetPartition("t", p, stale).ok()) << "compare-and-set must refuse";
  // The next pass reads the new ISR: broker 2 is out of it, so broker 3 leads.
  Pass();
  EXPECT_EQ(store_.At("t", p).leader, 3);
  EXPECT_EQ(store_.At("t", p).isr, (std::vector<int32_t>{3}));
}

TEST_F(ControllerTest, AnUnreachableStoreWritesNothing) {
  live_.erase(1);
  store_.down = true;
  EXPECT_TRUE(Pass().empty());
  EXPECT_FALSE(controller_.LeadsAny(1));
  store_.down = false;
  EXPECT_EQ(Pass().size(), 3u);  // done once the store is back
}

}  // namespace
}  // namespace zoomq::coordinator
