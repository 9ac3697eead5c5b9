// ReplicaLog: the positions of one replicated log on one replica, as leader and follower.
#include "broker/core/replica_log.h"

#include <gtest/gtest.h>

namespace zoomq::broker {
namespace {

constexpr TimeMs kNow = 1'000'000;

TEST(ReplicaLogTest, RecoveredLogIsCommittedOnlyWhenItWasTheOnlyReplica) {
  ReplicaLog alone, clustered;
  alone.Recover(3, 10, /*committed=*/true);
  clustered.Recover(3, 10, /*committed=*/false);
  EXPECT_EQ(alone.durable(), 10u);
  EXPECT_EQ(alone.high_watermark(), 10u);
  EXPECT_EQ(clustered.durable(), 10u);
  EXPECT_EQ(clustered.high_watermark(), 3u);  // the leader or the followers will tell
}

TEST(ReplicaLogTest, FollowerSeesTheLeadersHighWatermarkCappedByWhatItHolds) {
  ReplicaLog log;
  log.OnLeaderHighWatermark(5);
  EXPECT_EQ(log.high_watermark(), 0u);  // counts at the next local commit
  EXPECT_TRUE(log.OnDurable(3, /*log_end=*/8));
  EXPECT_EQ(log.high_watermark(), 3u);  // not past what is durable here
  EXPECT_TRUE(log.OnDurable(8, 8));
  EXPECT_EQ(log.high_watermark(), 5u);  // not past the leader's
  log.OnLeaderHighWatermark(2);         // an older answer changes nothing
  EXPECT_FALSE(log.OnDurable(8, 8));
  EXPECT_EQ(log.high_watermark(), 5u);
}

TEST(ReplicaLogTest, CommitQueuedBeforeATruncationNeverPassesTheLogEnd) {
  ReplicaLog log;
  log.OnDurable(4, 10);
  log.TruncateTo(2);
  log.OnDurable(10, /*log_end=*/6);  // queued before the cut, landed after it
  EXPECT_EQ(log.durable(), 6u);
}

TEST(ReplicaLogTest, LeaderAloneCommitsWhatIsDurable) {
  ReplicaLog log;
  log.Recover(0, 4, false);
  log.BecomeLeader(1, /*epoch=*/7, {1}, {1}, /*log_end=*/4, kNow);
  EXPECT_TRUE(log.leading());
  EXPECT_EQ(log.high_watermark(), 4u);
  EXPECT_EQ(log.epochs().LatestEpoch(), 7);
  log.Assign(7, 4);
  log.OnAppend(5);
  EXPECT_EQ(log.high_watermark(), 4u);  // appended, not durable yet
  EXPECT_TRUE(log.OnDurable(5, 5));
  EXPECT_EQ(log.high_watermark(), 5u);
}

TEST(ReplicaLogTest, LeaderWaitsForTheInSyncFollowers) {
  ReplicaLog log;
  log.BecomeLeader(1, 3, {1, 2}, {1, 2}, 0, kNow);
  log.Assign(3, 0);
  log.Assign(3, 1);
  log.OnAppend(2);
  log.OnDurable(2, 2);
  EXPECT_EQ(log.high_watermark(), 0u);  // broker 2 holds nothing yet
  EXPECT_TRUE(log.OnFetch(2, 1, kNow));
  EXPECT_EQ(log.high_watermark(), 1u);
  EXPECT_FALSE(log.OnFetch(3, 2, kNow));  // not a replica: ignored
  EXPECT_TRUE(log.OnFetch(2, 2, kNow));
  EXPECT_EQ(log.high_watermark(), 2u);
  EXPECT_EQ(log.isr_size(), 2u);
  log.OnIsrCommitted({1});
  EXPECT_EQ(log.isr_size(), 1u);
  log.StopLeading();
  EXPECT_FALSE(log.leading());
  EXPECT_EQ(log.isr_size(), 0u);
}

TEST(ReplicaLogTest, TruncationForgetsTheCutEpochsAndPositions) {
  ReplicaLog log;
  log.Assign(1, 0);
  log.Assign(2, 5);
  log.OnLeaderHighWatermark(8);
  log.OnDurable(8, 8);
  ASSERT_EQ(log.high_watermark(), 8u);
  log.TruncateTo(4);
  EXPECT_EQ(log.durable(), 4u);
  EXPECT_EQ(log.high_watermark(), 4u);
  EXPECT_EQ(log.epochs().LatestEpoch(), 1);
  // Where epoch 1 ends now: at the log end (KIP-101 answer of this replica as a leader).
  EXPECT_EQ(log.EpochEnd(1, 4), (std::pair<int64_t, uint64_t>{1, 4}));
}

TEST(ReplicaLogTest, RestartBehindTheLeadersRetentionStartsEmptyThere) {
  ReplicaLog log;
  log.Assign(1, 0);
  log.OnDurable(3, 3);
  log.Restart(100);
  EXPECT_EQ(log.durable(), 100u);
  EXPECT_EQ(log.high_watermark(), 100u);
  EXPECT_EQ(log.epochs().LatestEpoch(), -1);
}

}  // namespace
}  // namespace zoomq::broker
