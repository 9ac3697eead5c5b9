#include "broker/core/partition_index.h"

#include <gtest/gtest.h>

namespace zoomq::broker {
namespace {

constexpr TimeMs kT0 = 1'000'000;

TEST(PartitionIndexTest, OffsetsAreDense) {
  PartitionIndex idx(60'000);
  EXPECT_EQ(idx.Append({kNoKey, kT0, 10}, nullptr), 0u);
  EXPECT_EQ(idx.Append({kNoKey, kT0, 10}, nullptr), 1u);
  EXPECT_EQ(idx.log_end(), 2u);
  idx.ResetStart(7);
  EXPECT_EQ(idx.Append({kNoKey, kT0, 10}, nullptr), 7u);
}

TEST(PartitionIndexTest, DedupWindowRemembersIdsThenForgets) {
  PartitionIndex idx(10'000);
  std::string id = "p1-0001";
  idx.Append({kNoKey, kT0, 1}, &id);
  ASSERT_TRUE(idx.FindId(id, kT0 + 9'999).has_value());
  EXPECT_EQ(*idx.FindId(id, kT0 + 9'999), 0u);
  EXPECT_FALSE(idx.FindId("other", kT0).has_value());
  EXPECT_FALSE(idx.FindId(id, kT0 + 10'001).has_value());
}

TEST(PartitionIndexTest, DedupMemoryIsBounded) {
  PartitionIndex idx(600'000, /*max_ids=*/3);
  for (int i = 0; i < 5; ++i) {
    std::string id = "id" + std::to_string(i);
    idx.Append({kNoKey, kT0, 1}, &id);
  }
  EXPECT_FALSE(idx.FindId("id0", kT0).has_value());
  EXPECT_FALSE(idx.FindId("id1", kT0).has_value());
  EXPECT_EQ(*idx.FindId("id4", kT0), 4u);
  EXPECT_EQ(*idx.FindId("id2", kT0), 2u);
}

TEST(PartitionIndexTest, RetentionByTimeNeverPassesTheHighWatermark) {
  PartitionIndex idx(1000);
  for (int i = 0; i < 5; ++i) idx.Append({kNoKey, kT0 + i * 1000, 10}, nullptr);
  // Everything older than now - 500 would go, but only committed entries may.
  EXPECT_EQ(idx.RetentionCut(kT0 + 100'000, 500, 0, /*high_watermark=*/3), 3u);
  EXPECT_EQ(idx.RetentionCut(kT0 + 2'500, 1'000, 0, 3), 2u);  // ts < 1500 relative
  idx.TruncateHead(2);
  EXPECT_EQ(idx.first_offset(), 2u);
  EXPECT_EQ(idx.log_end(), 5u);
  EXPECT_EQ(idx.retained_bytes(), 30u);
}

TEST(PartitionIndexTest, RetentionByBytesKeepsTheNewest) {
  PartitionIndex idx(1000);
  for (int i = 0; i < 10; ++i) idx.Append({kNoKey, kT0, 100}, nullptr);
  EXPECT_EQ(idx.RetentionCut(kT0, 0, 350, 10), 7u);  // keeps 3 x 100 bytes <= 350
  EXPECT_EQ(idx.RetentionCut(kT0, 0, 0, 10), 0u);    // both rules off
  EXPECT_EQ(idx.RetentionCut(kT0, 0, 350, 99), 7u);  // a bound past the log end is the end
  idx.TruncateHead(7);
  EXPECT_EQ(idx.Append({kNoKey, kT0, 1}, nullptr), 10u);  // offsets never restart
}

TEST(PartitionIndexTest, KeyHashNeverCollidesWithNoKey) {
  std::string k = "sensor-1";
  EXPECT_NE(KeyHash(&k), kNoKey);
  EXPECT_EQ(KeyHash(nullptr), kNoKey);
  std::string k2 = "sensor-1";
  EXPECT_EQ(KeyHash(&k), KeyHash(&k2));
}

}  // namespace
}  // namespace zoomq::broker

namespace zoomq::broker {
namespace {

TEST(PartitionIndexTest, TruncateTailForgetsEntriesAndTheirIds) {
  PartitionIndex idx(600'000);
  for (int i = 0; i < 5; ++i) {
    std::string id = "id" + std::to_string(i);
    idx.Append({kNoKey, 1000, 10}, &id);
  }
  idx.TruncateTail(3);
  EXPECT_EQ(idx.log_end(), 3u);
  EXPECT_EQ(idx.retained_bytes(), 30u);
  EXPECT_FALSE(idx.FindId("id3", 1000).has_value());
  EXPECT_EQ(*idx.FindId("id2", 1000), 2u);
  std::string again = "id3";
  EXPECT_EQ(idx.Append({kNoKey, 1000, 10}, &again), 3u);  // the id can be written again
  EXPECT_EQ(*idx.FindId("id3", 1000), 3u);
}

}  // namespace
}  // namespace zoomq::broker
