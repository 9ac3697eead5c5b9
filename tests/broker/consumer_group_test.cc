// GroupPartition: leases, redelivery, nack delay, extend, per-key order, DLQ, restore.
// Time is a plain number: a 30-second lease is tested without waiting.
#include "broker/core/group_partition.h"

#include <gtest/gtest.h>

#include <set>

#include "broker/core/partition_index.h"

namespace zoomq::broker {
namespace {

constexpr TimeMs kT0 = 1'000'000;
constexpr TimeMs kVis = 30'000;

class ConsumerGroupTest : public ::testing::Test {
 protected:
  // Appends committed messages; "" = no key.
  void Produce(std::initializer_list<std::string> keys) {
    for (const std::string& k : keys) {
      log_.Append({k.empty() ? kNoKey : KeyHash(&k), kT0, 10}, nullptr);
    }
    hwm_ = log_.log_end();
  }
  std::vector<Delivery> Pull(const std::string& consumer, size_t max, TimeMs now,
                             TimeMs vis = kVis) {
    std::vector<Delivery> out;
    gp_.Pull(log_, hwm_, consumer, max, now, vis, &out, &changes_);
    return out;
  }
  static std::vector<uint64_t> Offsets(const std::vector<Delivery>& d) {
    std::vector<uint64_t> v;
    for (auto& x : d) v.push_back(x.offset);
    return v;
  }
  GroupPartition::Result Ack(uint64_t o) { return gp_.Ack(o, &changes_); }
  bool Tick(TimeMs now, uint32_t max_deliveries = 0) {
    return gp_.Tick(now, max_deliveries, &dead_, &changes_);
  }

  PartitionIndex log_{600'000};
  uint64_t hwm_ = 0;  // the log's committed end (its ReplicaLog's high watermark)
  GroupPartition gp_;
  std::vector<GroupChange> changes_;
  std::vector<uint64_t> dead_;
};

TEST_F(ConsumerGroupTest, LeasesAreExclusive) {
  Produce({"", "", "", ""});
  auto a = Pull("a", 2, kT0);
  auto b = Pull("b", 10, kT0);
  EXPECT_EQ(Offsets(a), (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(Offsets(b), (std::vector<uint64_t>{2, 3}));
  EXPECT_TRUE(Pull("c", 10, kT0 + kVis - 1).empty());
  EXPECT_EQ(gp_.in_flight(), 4u);
  EXPECT_EQ(gp_.LeasedTo("a"), 2u);
}

TEST_F(ConsumerGroupTest, OnlyCommittedMessagesAreDelivered) {
  log_.Append({kNoKey, kT0, 1}, nullptr);  // not committed yet
  EXPECT_TRUE(Pull("a", 10, kT0).empty());
  hwm_ = 1;
  EXPECT_EQ(Offsets(Pull("a", 10, kT0)), (std::vector<uint64_t>{0}));
}

TEST_F(ConsumerGroupTest, RedeliversAfterVisibilityTimeout) {
  Produce({""});
  auto first = Pull("a", 1, kT0);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].delivery, 1u);
  EXPECT_FALSE(Tick(kT0 + kVis - 1));
  EXPECT_TRUE(Pull("b", 1, kT0 + kVis - 1).empty());
  EXPECT_TRUE(Tick(kT0 + kVis));
  auto again = Pull("b", 1, kT0 + kVis);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].offset, 0u);
  EXPECT_EQ(again[0].delivery, 2u);
}

TEST_F(ConsumerGroupTest, AckedIsNeverDeliveredAgain) {
  Produce({"", ""});
  Pull("a", 2, kT0);
  EXPECT_EQ(Ack(0), GroupPartition::Result::kOk);
  EXPECT_EQ(Ack(0), GroupPartition::Result::kUnknown);  // already acked
  Tick(kT0 + 10 * kVis);
  auto d = Pull("b", 10, kT0 + 10 * kVis);
  EXPECT_EQ(Offsets(d), (std::vector<uint64_t>{1}));
  EXPECT_EQ(gp_.acked_total(), 1u);
}

TEST_F(ConsumerGroupTest, AckOfNeverDeliveredIsUnknown) {
  Produce({"", ""});
  EXPECT_EQ(Ack(1), GroupPartition::Result::kUnknown);
  EXPECT_EQ(Ack(99), GroupPartition::Result::kUnknown);
}

TEST_F(ConsumerGroupTest, AckAfterLeaseExpiredStillCounts) {
  // The race of GUARANTEES.md: the ack arrives after the lease ran out but before
  // anyone else got the message. Accepting it avoids a useless redelivery.
  Produce({""});
  Pull("a", 1, kT0);
  Tick(kT0 + kVis + 1);
  EXPECT_EQ(Ack(0), GroupPartition::Result::kOk);
  EXPECT_TRUE(Pull("b", 1, kT0 + kVis + 2).empty());
}

TEST_F(ConsumerGroupTest, FloorAdvancesOverAckedPrefixOnly) {
  Produce({"", "", ""});
  Pull("a", 3, kT0);
  Ack(1);
  EXPECT_EQ(gp_.floor(), 0u);
  Ack(0);
  EXPECT_EQ(gp_.floor(), 2u);
  Ack(2);
  EXPECT_EQ(gp_.floor(), 3u);
}

TEST_F(ConsumerGroupTest, NackRedeliversAfterDelayNotBefore) {
  Produce({""});
  Pull("a", 1, kT0);
  EXPECT_EQ(gp_.Nack(0, kT0, 5'000, 0, &changes_), GroupPartition::Result::kOk);
  Tick(kT0 + 4'999);
  EXPECT_TRUE(Pull("b", 1, kT0 + 4'999).empty());
  EXPECT_TRUE(Tick(kT0 + 5'000));
  auto d = Pull("b", 1, kT0 + 5'000);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].delivery, 2u);
}

TEST_F(ConsumerGroupTest, NackWithoutDelayIsImmediatelyDeliverable) {
  Produce({""});
  Pull("a", 1, kT0);
  gp_.Nack(0, kT0, 0, 0, &changes_);
  EXPECT_EQ(Offsets(Pull("b", 1, kT0)), (std::vector<uint64_t>{0}));
}

TEST_F(ConsumerGroupTest, NackOfUnleasedIsUnknown) {
  Produce({""});
  EXPECT_EQ(gp_.Nack(0, kT0, 0, 0, &changes_), GroupPartition::Result::kUnknown);
}

TEST_F(ConsumerGroupTest, ExtendMovesTheLeaseEnd) {
  Produce({""});
  Pull("a", 1, kT0);
  EXPECT_EQ(gp_.Extend(0, kT0 + 20'000, 60'000), GroupPartition::Result::kOk);
  Tick(kT0 + 79'999);
  EXPECT_TRUE(Pull("b", 1, kT0 + 79'999).empty());
  Tick(kT0 + 80'000);
  EXPECT_EQ(Pull("b", 1, kT0 + 80'000).size(), 1u);
}

TEST_F(ConsumerGroupTest, ExpiredLeaseCannotBeExtended) {
  Produce({""});
  Pull("a", 1, kT0);
  EXPECT_EQ(gp_.Extend(0, kT0 + kVis, 60'000), GroupPartition::Result::kUnknown);
}

TEST_F(ConsumerGroupTest, SameKeyOneInFlightInOffsetOrder) {
  Produce({"k", "k", "j", "k", ""});
  auto d = Pull("a", 10, kT0);
  EXPECT_EQ(Offsets(d), (std::vector<uint64_t>{0, 2, 4}));  // 1 and 3 wait behind 0
  EXPECT_TRUE(Pull("b", 10, kT0).empty());
  Ack(0);
  EXPECT_EQ(Offsets(Pull("b", 10, kT0)), (std::vector<uint64_t>{1}));
  Ack(1);
  EXPECT_EQ(Offsets(Pull("b", 10, kT0)), (std::vector<uint64_t>{3}));
}

TEST_F(ConsumerGroupTest, KeyStaysBlockedWhileItsMessageWaitsForRedelivery) {
  Produce({"k", "k"});
  Pull("a", 10, kT0);
  gp_.Nack(0, kT0, 10'000, 0, &changes_);
  Tick(kT0 + 5'000);
  EXPECT_TRUE(Pull("a", 10, kT0 + 5'000).empty());  // 1 must not overtake 0
  Tick(kT0 + 10'000);
  EXPECT_EQ(Offsets(Pull("a", 10, kT0 + 10'000)), (std::vector<uint64_t>{0}));
}

TEST_F(ConsumerGroupTest, DeadLettersAfterMaxDeliveriesOnce) {
  Produce({"k", "k"});
  const uint32_t kMax = 2;
  Pull("a", 1, kT0);
  Tick(kT0 + kVis, kMax);  // 1st expiry: back to ready
  EXPECT_TRUE(dead_.empty());
  auto d = Pull("a", 1, kT0 + kVis);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].delivery, 2u);
  Tick(kT0 + 2 * kVis, kMax);  // 2nd expiry: dead
  EXPECT_EQ(dead_, (std::vector<uint64_t>{0}));
  EXPECT_EQ(gp_.dead_total(), 1u);
  // The key moves on to the next message; offset 0 is never delivered again.
  EXPECT_EQ(Offsets(Pull("a", 10, kT0 + 2 * kVis)), (std::vector<uint64_t>{1}));
  Tick(kT0 + 100 * kVis, kMax);
  EXPECT_EQ(dead_, (std::vector<uint64_t>{0}));  // 1 had one delivery; 0 died once
}

TEST_F(ConsumerGroupTest, NackCountsTowardMaxDeliveries) {
  Produce({""});
  Pull("a", 1, kT0);
  EXPECT_EQ(gp_.Nack(0, kT0, 0, 1, &changes_), GroupPartition::Result::kDeadLetter);
  EXPECT_TRUE(Pull("a", 1, kT0).empty());
  EXPECT_EQ(gp_.floor(), 1u);
}

TEST_F(ConsumerGroupTest, RestoreSkipsDoneAndKeepsDeliveryCounts) {
  Produce({"", "", "", ""});
  GroupPartition restored(1);  // offset 0 below the floor
  restored.RestoreDone(2);
  restored.RestoreDeliveries(1, 3);
  std::vector<Delivery> out;
  restored.Pull(log_, hwm_, "a", 10, kT0, kVis, &out, &changes_);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].offset, 1u);
  EXPECT_EQ(out[0].delivery, 4u);
  EXPECT_EQ(out[1].offset, 3u);
  EXPECT_EQ(out[1].delivery, 1u);
}

TEST_F(ConsumerGroupTest, RetentionMovesTheFloorAndFreesKeys) {
  Produce({"k", "k", "k"});
  Pull("a", 10, kT0);  // 0 leased, 1 and 2 deferred
  log_.TruncateHead(1);
  gp_.OnHeadTruncated(1);
  EXPECT_EQ(gp_.floor(), 1u);
  EXPECT_EQ(Offsets(Pull("b", 10, kT0)), (std::vector<uint64_t>{1}));
}

TEST_F(ConsumerGroupTest, BacklogCountsWhatIsNeitherDoneNorLeased) {
  Produce({"", "", "", ""});
  Pull("a", 2, kT0);
  Ack(0);
  EXPECT_EQ(gp_.Backlog(hwm_), 2u);
  EXPECT_EQ(gp_.in_flight(), 1u);
}

TEST_F(ConsumerGroupTest, ChangesDescribeWhatToPersist) {
  Produce({""});
  Pull("a", 1, kT0);
  Ack(0);
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_EQ(changes_[0].kind, GroupChange::Kind::kDelivered);
  EXPECT_EQ(changes_[1].kind, GroupChange::Kind::kAcked);
  EXPECT_EQ(changes_[1].deliveries, 1u);
}

}  // namespace
}  // namespace zoomq::broker
