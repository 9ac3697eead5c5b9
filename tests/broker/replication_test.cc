// Replication state: high watermark, ISR shrink/expand by lag, epoch-based truncation.
#include "broker/core/replication.h"

#include <gtest/gtest.h>

namespace zoomq::broker {
namespace {

constexpr TimeMs kT0 = 1'000'000;
constexpr TimeMs kLag = 10'000;

TEST(LeaderStateTest, HighWatermarkIsTheSmallestLogEndInTheIsr) {
  LeaderState l(1, 5, {1, 2, 3}, {1, 2, 3}, 0, 0, 0, kT0);
  EXPECT_EQ(l.OnDurable(10), 0u);
  EXPECT_EQ(l.OnFetch(2, 10, kT0), 0u);  // 3 has nothing yet
  EXPECT_EQ(l.OnFetch(3, 7, kT0), 7u);
  EXPECT_EQ(l.OnFetch(3, 10, kT0), 10u);
}

TEST(LeaderStateTest, HighWatermarkNeverMovesBack) {
  LeaderState l(1, 5, {1, 2}, {1, 2}, 10, 10, 10, kT0);
  EXPECT_EQ(l.OnFetch(2, 4, kT0), 10u);
}

TEST(LeaderStateTest, LaggingFollowerIsProposedOutThenBackIn) {
  LeaderState l(1, 5, {1, 2, 3}, {1, 2, 3}, 0, 0, 0, kT0);
  l.OnDurable(10);
  l.OnFetch(2, 10, kT0 + 1);
  EXPECT_FALSE(l.ProposedIsr(kT0 + kLag, kLag).has_value());  // 3 not late yet
  auto shrink = l.ProposedIsr(kT0 + kLag + 1, kLag);
  ASSERT_TRUE(shrink.has_value());
  EXPECT_EQ(*shrink, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(l.OnIsrCommitted(*shrink), 10u);  // without 3, everything is committed
  l.OnFetch(2, 10, kT0 + kLag + 2);  // 2 keeps up all along
  l.OnFetch(3, 5, kT0 + kLag + 2);
  EXPECT_FALSE(l.ProposedIsr(kT0 + kLag + 2, kLag).has_value());  // not caught up
  l.OnFetch(2, 10, kT0 + kLag + 3);
  l.OnFetch(3, 10, kT0 + kLag + 3);
  auto grow = l.ProposedIsr(kT0 + kLag + 3, kLag);
  ASSERT_TRUE(grow.has_value());
  EXPECT_EQ(*grow, (std::vector<int32_t>{1, 2, 3}));
}

TEST(LeaderStateTest, DeadFollowerIsNotReadmittedFromItsLastPosition) {
  LeaderState l(1, 5, {1, 2, 3}, {1, 2, 3}, 0, 0, 0, kT0);
  l.OnDurable(4);
  l.OnFetch(2, 4, kT0 + 1);
  l.OnFetch(3, 4, kT0 + 1);  // 3 is caught up, then dies
  EXPECT_EQ(l.OnIsrCommitted({1, 2}), 4u);  // the controller removed the dead broker
  EXPECT_FALSE(l.ProposedIsr(kT0 + 2, kLag).has_value());  // and it stays out
  l.OnFetch(3, 4, kT0 + 3);  // it is back and fetching
  auto grow = l.ProposedIsr(kT0 + 3, kLag);
  ASSERT_TRUE(grow.has_value());
  EXPECT_EQ(*grow, (std::vector<int32_t>{1, 2, 3}));
}

TEST(LeaderStateTest, FetchesOfNonReplicasAreIgnored) {
  LeaderState l(1, 5, {1, 2}, {1, 2}, 0, 0, 0, kT0);
  l.OnDurable(3);
  EXPECT_EQ(l.OnFetch(9, 3, kT0), 0u);
  EXPECT_EQ(l.MatchOf(9), 0u);
}

// Pipelining: followers may commit entries before the leader does; the high watermark
// still waits for the leader's own commit, and for every in-sync follower.
TEST(LeaderStateTest, FollowersAheadOfTheLeadersCommitWaitForIt) {
  LeaderState l(1, 5, {1, 2, 3}, {1, 2, 3}, 0, 0, 0, kT0);
  l.OnAppend(10);                         // appended, not committed by the leader yet
  EXPECT_EQ(l.OnFetch(2, 10, kT0), 0u);   // follower 2 holds all 10 durably
  EXPECT_EQ(l.OnFetch(3, 10, kT0), 0u);   // so does 3: still not acknowledged
  EXPECT_EQ(l.MatchOf(2), 10u);           // their positions are kept, not cut to 0
  EXPECT_EQ(l.OnDurable(6), 6u);          // the leader committed 6
  EXPECT_EQ(l.OnDurable(10), 10u);
}

TEST(LeaderStateTest, PipelinedHighWatermarkIsTheSmallestDurableEnd) {
  LeaderState l(1, 5, {1, 2, 3}, {1, 2, 3}, 0, 0, 0, kT0);
  l.OnAppend(10);
  EXPECT_EQ(l.OnDurable(10), 0u);        // followers hold nothing yet
  EXPECT_EQ(l.OnFetch(2, 10, kT0), 0u);  // 3 (in the ISR) still holds nothing
  EXPECT_EQ(l.OnFetch(3, 4, kT0), 4u);
  // A follower can never claim more than the leader appended.
  l.OnAppend(12);
  EXPECT_EQ(l.OnFetch(3, 20, kT0), 10u);
  EXPECT_EQ(l.MatchOf(3), 12u);
  EXPECT_EQ(l.OnFetch(2, 12, kT0), 10u);  // the leader has committed only 10
  EXPECT_EQ(l.OnDurable(12), 12u);
}

TEST(LeaderStateTest, CaughtUpMeansTheLeadersAppendedEnd) {
  LeaderState l(1, 5, {1, 2}, {1, 2}, 0, 0, 0, kT0);
  l.OnDurable(4);
  l.OnAppend(8);
  l.OnFetch(2, 4, kT0 + kLag + 1);  // holds what the leader committed, not what it appended
  auto shrink = l.ProposedIsr(kT0 + kLag + 1, kLag);
  ASSERT_TRUE(shrink.has_value());
  EXPECT_EQ(*shrink, (std::vector<int32_t>{1}));
  l.OnFetch(2, 8, kT0 + kLag + 2);
  EXPECT_FALSE(l.ProposedIsr(kT0 + kLag + 2, kLag).has_value());
}

// Under steady appends a follower is never at the leader's (moving) log end when it fetches;
// holding everything the leader had at its previous fetch keeps it caught up.
TEST(LeaderStateTest, FollowerTrailingAMovingLogEndStaysInTheIsr) {
  LeaderState l(1, 5, {1, 2}, {1, 2}, 0, 0, 0, kT0);
  uint64_t end = 0;
  for (TimeMs t = kT0 + 1; t <= kT0 + 3 * kLag; t += 100) {
    uint64_t held = end;  // what the previous answer carried
    end += 5;             // appended since
    l.OnAppend(end);
    l.OnFetch(2, held, t);
    EXPECT_FALSE(l.ProposedIsr(t, kLag).has_value()) << t - kT0;
  }
  // A follower that stops keeping up is still proposed out.
  l.OnAppend(end + 5);
  l.OnFetch(2, end - 5, kT0 + 3 * kLag + 1);
  EXPECT_TRUE(l.ProposedIsr(kT0 + 4 * kLag + 1000, kLag).has_value());
}

TEST(EpochCacheTest, EndOffsetForAnEpoch) {
  EpochCache c;
  c.Assign(1, 0);
  c.Assign(3, 10);
  c.Assign(4, 15);
  EXPECT_EQ(c.EndOffsetFor(1, 20), (std::pair<int64_t, uint64_t>{1, 10}));
  EXPECT_EQ(c.EndOffsetFor(2, 20), (std::pair<int64_t, uint64_t>{1, 10}));  // unknown: largest below
  EXPECT_EQ(c.EndOffsetFor(4, 20), (std::pair<int64_t, uint64_t>{4, 20}));
  EXPECT_EQ(c.EndOffsetFor(0, 20), (std::pair<int64_t, uint64_t>{-1, 0}));
  c.Assign(2, 30);  // older epoch than the latest: ignored
  EXPECT_EQ(c.LatestEpoch(), 4);
}

TEST(EpochCacheTest, TruncateDropsEpochsFromTheCut) {
  EpochCache c;
  c.Assign(1, 0);
  c.Assign(2, 10);
  c.TruncateTo(10);
  EXPECT_EQ(c.LatestEpoch(), 1);
  c.TruncateHead(5);
  EXPECT_EQ(c.entries().at(1), 5u);
}

// The KIP-101 scenario: the old leader (epoch 1) wrote 0..5, of which a follower got 0..3
// while the high watermark was 4. The follower became leader (epoch 2) and wrote 4..6.
// The old leader returns: it must drop its 4..5 from epoch 1 even though 4 < its old hwm+1.
TEST(EpochCacheTest, RejoiningLeaderTruncatesItsDivergentSuffix) {
  EpochCache old_leader;
  old_leader.Assign(1, 0);
  EpochCache new_leader;
  new_leader.Assign(1, 0);
  new_leader.Assign(2, 4);
  auto answer = new_leader.EndOffsetFor(old_leader.LatestEpoch(), 7);
  EXPECT_EQ(answer, (std::pair<int64_t, uint64_t>{1, 4}));
  EXPECT_EQ(TruncationPoint(old_leader, 6, answer), 4u);
}

TEST(EpochCacheTest, FollowerWithAnEpochTheLeaderNeverHadTruncatesInsideTheOlderOne) {
  // Follower: epoch 1 at 0, epoch 3 at 8 (a leader that never got far); leader: 1 at 0,
  // 2 at 6. Leader answers (1, 6): the follower keeps 0..5 only.
  EpochCache follower;
  follower.Assign(1, 0);
  follower.Assign(3, 8);
  EpochCache leader;
  leader.Assign(1, 0);
  leader.Assign(2, 6);
  auto answer = leader.EndOffsetFor(follower.LatestEpoch(), 12);
  EXPECT_EQ(answer, (std::pair<int64_t, uint64_t>{2, 12}));
  // Epoch 2 is unknown to the follower; its own view of "<= 2" is epoch 1 ending at 8.
  EXPECT_EQ(TruncationPoint(follower, 10, answer), 10u);
  // ...so it asks again for epoch 1 (the largest it has <= 2), as the fetcher loop does.
  auto again = leader.EndOffsetFor(1, 12);
  EXPECT_EQ(TruncationPoint(follower, 10, again), 6u);
}

TEST(EpochCacheTest, FollowerThatIsBehindKeepsEverything) {
  EpochCache follower;
  follower.Assign(2, 0);
  EpochCache leader;
  leader.Assign(2, 0);
  leader.Assign(3, 50);
  EXPECT_EQ(TruncationPoint(follower, 30, leader.EndOffsetFor(2, 80)), 30u);
}

// ---- issue 10: one leader per epoch, and what the simulation found -----------------------

TEST(CanLeadEpochTest, OnlyAnEpochNewerThanTheRoleAndBothLogs) {
  EpochCache log, group;
  log.Assign(1, 0);
  log.Assign(3, 40);
  group.Assign(2, 0);
  EXPECT_FALSE(CanLeadEpoch(3, -1, log, group));  // the log holds epoch 3 already
  EXPECT_FALSE(CanLeadEpoch(2, -1, log, group));
  EXPECT_FALSE(CanLeadEpoch(4, 4, log, group));  // the role's epoch
  EXPECT_TRUE(CanLeadEpoch(4, 3, log, group));
  group.Assign(5, 9);
  EXPECT_FALSE(CanLeadEpoch(5, 3, log, group));  // the group log holds epoch 5
  EXPECT_TRUE(CanLeadEpoch(6, 5, log, group));
}

TEST(LeaderStateTest, FollowerComesBackOnlyOnceItHoldsTheEpochStart) {
  // A restarted leader: log end 62 when it took over, high watermark 0 (seed 854).
  LeaderState l(1, 4, {1, 2, 3}, {1, 2}, 62, 62, 0, kT0);
  l.OnFetch(2, 62, kT0);
  l.OnFetch(3, 35, kT0);  // holds the high watermark (0..35) but not what was committed
  EXPECT_FALSE(l.ProposedIsr(kT0, kLag).has_value());
  l.OnFetch(3, 62, kT0 + 1);
  auto grow = l.ProposedIsr(kT0 + 1, kLag);
  ASSERT_TRUE(grow.has_value());
  EXPECT_EQ(*grow, (std::vector<int32_t>{1, 2, 3}));
}

TEST(LeaderStateTest, HighWatermarkWaitsForAProposedMemberUntilCommittedOrAbandoned) {
  LeaderState l(1, 5, {1, 2, 3}, {1, 2}, 0, 0, 0, kT0);
  l.OnDurable(10);
  EXPECT_EQ(l.OnFetch(2, 10, kT0), 10u);
  l.OnDurable(12);
  l.OnFetch(3, 10, kT0);  // 3 holds the high watermark: proposed back in
  auto grow = l.ProposedIsr(kT0, kLag);
  ASSERT_TRUE(grow.has_value());
  l.OnIsrProposed(*grow);
  // 2 reaches 12, but the write adding 3 (which holds 10) is on its way (seed 3758).
  EXPECT_EQ(l.OnFetch(2, 12, kT0), 10u);
  EXPECT_EQ(l.OnIsrAbandoned(), 12u);  // not written: the ISR is {1, 2} again
  l.OnDurable(14);
  EXPECT_EQ(l.OnFetch(2, 14, kT0), 14u);
  l.OnFetch(3, 14, kT0);
  l.OnIsrProposed(*grow);
  l.OnDurable(16);
  EXPECT_EQ(l.OnFetch(2, 16, kT0), 14u);  // waits for 3 again
  EXPECT_EQ(l.OnIsrCommitted(*grow), 14u);
  EXPECT_EQ(l.OnFetch(3, 16, kT0), 16u);
}

TEST(ProposedIsrTest, BothLogsMustAgree) {
  // Seed 1255: follower 3 caught up in the message log, not in the group log.
  LeaderState log(1, 5, {1, 2, 3}, {1, 2}, 0, 0, 0, kT0);
  LeaderState group(1, 5, {1, 2, 3}, {1, 2}, 0, 0, 0, kT0);
  log.OnDurable(10);
  group.OnDurable(4);
  log.OnFetch(2, 10, kT0);
  group.OnFetch(2, 4, kT0);
  log.OnFetch(3, 10, kT0);
  group.OnFetch(3, 3, kT0);
  EXPECT_TRUE(log.ProposedIsr(kT0, kLag).has_value());
  EXPECT_FALSE(ProposedIsr(log, group, kT0, kLag).has_value());
  group.OnFetch(3, 4, kT0);
  auto both = ProposedIsr(log, group, kT0, kLag);
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(*both, (std::vector<int32_t>{1, 2, 3}));
  // A follower lagging in either log leaves.
  LeaderState log2(1, 5, {1, 2}, {1, 2}, 0, 0, 0, kT0);
  LeaderState group2(1, 5, {1, 2}, {1, 2}, 0, 0, 0, kT0);
  log2.OnDurable(5);
  group2.OnDurable(5);
  log2.OnFetch(2, 5, kT0 + kLag + 1);
  auto shrink = ProposedIsr(log2, group2, kT0 + kLag + 1, kLag);
  ASSERT_TRUE(shrink.has_value());
  EXPECT_EQ(*shrink, (std::vector<int32_t>{1}));
}

TEST(EpochCacheTest, AnEpochNeverWrittenInIsDroppedByTheEntriesThatFollowIt) {
  // Seed 170190: broker 1 led epoch 2 at log end 7 without writing, then followed a leader
  // and fetched entries 7.. of epoch 1; the cache still said epoch 2 started at 7.
  EpochCache c;
  c.Assign(1, 0);
  c.Assign(2, 7);  // took the lead at 7
  c.Assign(1, 7);  // a follower again: appends an epoch-1 entry at 7
  EXPECT_EQ(c.LatestEpoch(), 1);
  EXPECT_EQ(c.EndOffsetFor(1, 10), (std::pair<int64_t, uint64_t>{1, 10}));
  c.Assign(6, 10);  // leads epoch 6 at 10
  c.Assign(6, 10);  // and writes in it: kept
  c.Assign(6, 11);
  EXPECT_EQ(c.EndOffsetFor(1, 12), (std::pair<int64_t, uint64_t>{1, 10}));
  EXPECT_EQ(c.EndOffsetFor(5, 12), (std::pair<int64_t, uint64_t>{1, 10}));
  EXPECT_EQ(c.LatestEpoch(), 6);
}

TEST(NextTruncationStepTest, AsksAgainForAnOlderEpochThenCuts) {
  EpochCache follower;
  follower.Assign(1, 0);
  follower.Assign(3, 20);  // an epoch the leader never had
  EpochCache leader;
  leader.Assign(1, 0);
  leader.Assign(4, 15);
  // Asked about 3: the leader knows only 1, which ends at 15 there.
  auto first = NextTruncationStep(follower, 30, 3, leader.EndOffsetFor(3, 40));
  EXPECT_FALSE(first.done);
  EXPECT_EQ(first.next_ask, 1);
  auto second = NextTruncationStep(follower, 30, 1, leader.EndOffsetFor(1, 40));
  EXPECT_TRUE(second.done);
  EXPECT_EQ(second.point, 15u);
  // The leader knows none of our epochs: start over.
  EXPECT_EQ(NextTruncationStep(follower, 30, 3, {-1, 0}).point, 0u);
}

}  // namespace
}  // namespace zoomq::broker
