// The controller's and the broker's pure decisions about leadership (issue 10: one leader per
// epoch): DecidePartition and RoleFor, without ZooKeeper.
#include <gtest/gtest.h>

#include "zoomq/coordinator/cluster_metadata.h"

namespace zoomq::coordinator {
namespace {

PartitionState State(int32_t leader, int64_t epoch, int64_t incarnation,
                     std::vector<int32_t> isr = {1, 2, 3}) {
  PartitionState s;
  s.leader = leader;
  s.epoch = epoch;
  s.leader_incarnation = incarnation;
  s.replicas = {1, 2, 3};
  s.isr = std::move(isr);
  s.version = 7;
  return s;
}

TEST(DecidePartitionTest, NothingToDoWhileTheGrantedIncarnationLives) {
  EXPECT_FALSE(DecidePartition(State(1, 4, 101), {{1, 101}, {2, 102}, {3, 103}}, {}, false));
}

TEST(DecidePartitionTest, ARestartedLeaderIsGrantedANewEpoch) {
  // Broker 1 restarted inside its session: same id, new registration (seed 97312).
  auto want = DecidePartition(State(1, 4, 101), {{1, 150}, {2, 102}, {3, 103}}, {}, false);
  ASSERT_TRUE(want.has_value());
  EXPECT_EQ(want->leader, 1);  // the first live in-sync replica: itself, but...
  EXPECT_EQ(want->epoch, 5);   // ...never at the epoch it led before
  EXPECT_EQ(want->leader_incarnation, 150);
  EXPECT_EQ(want->version, 7);  // written with the version it was read at
}

TEST(DecidePartitionTest, ARestartedLeaderMayLoseTheLeadToAnEarlierReplica) {
  auto want = DecidePartition(State(2, 4, 102), {{1, 101}, {2, 160}, {3, 103}}, {}, false);
  ASSERT_TRUE(want.has_value());
  EXPECT_EQ(want->leader, 1);
  EXPECT_EQ(want->epoch, 5);
  EXPECT_EQ(want->leader_incarnation, 101);
}

TEST(DecidePartitionTest, ADeadLeaderWithNoOtherInSyncReplicaLeavesNoLeader) {
  auto want = DecidePartition(State(1, 4, 101, {1}), {{2, 102}, {3, 103}}, {}, false);
  ASSERT_TRUE(want.has_value());
  EXPECT_EQ(want->leader, kNoLeaderId);
  EXPECT_EQ(want->leader_incarnation, 0);
  EXPECT_EQ(want->epoch, 5);
  EXPECT_EQ(want->isr, (std::vector<int32_t>{1}));  // never empty
  // It comes back (a new incarnation): granted a new epoch.
  auto back = DecidePartition(*want, {{1, 170}, {2, 102}, {3, 103}}, {}, false);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->leader, 1);
  EXPECT_EQ(back->epoch, 6);
  EXPECT_EQ(back->leader_incarnation, 170);
}

TEST(DecidePartitionTest, AStateWrittenBeforeIncarnationsIsGrantedAgainOnce) {
  auto want = DecidePartition(State(1, 4, 0), {{1, 101}, {2, 102}, {3, 103}}, {}, false);
  ASSERT_TRUE(want.has_value());
  EXPECT_EQ(want->epoch, 5);
  EXPECT_EQ(want->leader_incarnation, 101);
  EXPECT_FALSE(DecidePartition(*want, {{1, 101}, {2, 102}, {3, 103}}, {}, false));
}

TEST(DecidePartitionTest, LeavingAndPreferredLeaderStillBumpTheEpoch) {
  auto moved = DecidePartition(State(1, 4, 101), {{1, 101}, {2, 102}, {3, 103}}, {1}, false);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->leader, 2);
  EXPECT_EQ(moved->epoch, 5);
  EXPECT_EQ(moved->leader_incarnation, 102);
  auto back = DecidePartition(*moved, {{1, 101}, {2, 102}, {3, 103}}, {}, true);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->leader, 1);
  EXPECT_EQ(back->epoch, 6);
  EXPECT_EQ(back->leader_incarnation, 101);
}

TEST(RoleForTest, LeadsOnlyAGrantToItsOwnIncarnation) {
  EXPECT_EQ(RoleFor(State(1, 4, 101), 1, 101), Role::kLead);
  EXPECT_EQ(RoleFor(State(1, 4, 101), 1, 150), Role::kAwaitGrant);  // restarted
  EXPECT_EQ(RoleFor(State(1, 4, 101), 1, 0), Role::kAwaitGrant);    // not registered yet
  EXPECT_EQ(RoleFor(State(1, 4, 0), 1, 101), Role::kAwaitGrant);    // pre-incarnation state
  EXPECT_EQ(RoleFor(State(2, 4, 102), 1, 101), Role::kFollow);
  EXPECT_EQ(RoleFor(State(kNoLeaderId, 4, 0), 1, 101), Role::kNone);
  PartitionState other = State(2, 4, 102);
  other.replicas = {2, 3};
  EXPECT_EQ(RoleFor(other, 1, 101), Role::kNone);  // not a replica
}

TEST(PartitionStateTest, IncarnationRoundTripsAndOldStatesParse) {
  PartitionState s = State(3, 9, 12345);
  auto back = ParsePartitionState(EncodePartitionState(s), 4);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->leader_incarnation, 12345);
  EXPECT_EQ(back->version, 4);
  auto old = ParsePartitionState(R"({"leader":1,"epoch":2,"replicas":[1,2],"isr":[1]})", 0);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->leader_incarnation, 0);
}

}  // namespace
}  // namespace zoomq::coordinator
