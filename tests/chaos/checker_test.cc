// The chaos checker on hand-made histories: a clean one passes, and each must-be-0 figure
// counts the violation it is meant to catch.
#include "checker.h"

#include <gtest/gtest.h>

namespace zoomq::chaos {
namespace {

Json Entry(int64_t offset, int64_t epoch, const std::string& id) {
  return {{"offset", offset}, {"epoch", epoch}, {"id", id}, {"value_b64", "e30="}};
}

Replica Log(int64_t hwm, const std::vector<Json>& entries) {
  return ParseReplica({{"high_watermark", hwm}, {"entries", entries}});
}

Write Acked(const std::string& id, const std::string& key, int64_t seq, int partition,
            int64_t offset, int64_t at_ms) {
  Write w;
  w.id = id;
  w.key = key;
  w.key_seq = seq;
  w.outcome = Outcome::kOk;
  w.partition = partition;
  w.offset = offset;
  w.answered_by = 1;
  w.acked_ms = at_ms;
  return w;
}

Delivery Delivered(const std::string& handle, const std::string& id, const std::string& key,
                   int64_t pull_started_ms) {
  Delivery d;
  d.handle = handle;
  d.id = id;
  d.key = key;
  d.consumer = "c0";
  d.delivery = 1;
  d.pull_started_ms = pull_started_ms;
  d.pull_ended_ms = pull_started_ms + 1;
  return d;
}

AckAnswer Ack(std::vector<std::string> handles, int64_t at_ms, int status = 200) {
  AckAnswer a;
  a.handles = std::move(handles);
  a.status = status;
  a.sent_ms = at_ms - 1;
  a.answered_ms = at_ms;
  return a;
}

// Two acked writes of one key at offsets 0 and 1 of partition 0, replicated on 3 brokers,
// delivered and acked in order, read by the stream reader.
CheckInput Clean() {
  CheckInput in;
  in.partitions = 1;
  const std::vector<Json> log = {Entry(0, 1, "a"), Entry(1, 1, "b")};
  for (int b = 1; b <= 3; ++b) in.replicas[0][b] = Log(2, log);
  in.writes = {Acked("a", "k", 0, 0, 0, 10), Acked("b", "k", 1, 0, 1, 20)};
  in.deliveries = {Delivered("0-0", "a", "k", 30), Delivered("0-1", "b", "k", 50)};
  in.acks = {Ack({"0-0"}, 40), Ack({"0-1"}, 60)};
  in.stream_reads = {{0, 0, "a"}, {0, 1, "b"}};
  in.producers_started_ms = 0;
  in.producers_stopped_ms = 100;
  return in;
}

TEST(ChaosChecker, CleanHistoryPasses) {
  const Report r = Check(Clean());
  EXPECT_TRUE(r.ok()) << r.Table();
  EXPECT_EQ(r.Value("acknowledged writes"), 2);
  EXPECT_EQ(r.Value("longest write outage (ms)"), 80);  // last ack at 20, stop at 100
  EXPECT_EQ(r.Value("redeliveries of unacked messages"), 0);
}

TEST(ChaosChecker, LostAndDeposedAck) {
  CheckInput in = Clean();
  in.writes.push_back(Acked("c", "k", 2, 0, 1, 25));  // answered offset 1, which holds "b"
  const Report r = Check(in);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Value("lost (acked, absent from the log)"), 1);
  EXPECT_EQ(r.Value("acks not matching the log (deposed leader)"), 1);
}

TEST(ChaosChecker, DuplicateInTheLog) {
  CheckInput in = Clean();
  const std::vector<Json> log = {Entry(0, 1, "a"), Entry(1, 1, "b"), Entry(2, 2, "a")};
  for (int b = 1; b <= 3; ++b) in.replicas[0][b] = Log(3, log);
  const Report r = Check(in);
  EXPECT_EQ(r.Value("duplicated in the log"), 1);
  EXPECT_FALSE(r.ok());
}

TEST(ChaosChecker, ReplicaMismatchBelowTheSmallestHighWatermark) {
  CheckInput in = Clean();
  in.replicas[0][3] = Log(2, {Entry(0, 1, "a"), Entry(1, 2, "x")});
  const Report r = Check(in);
  EXPECT_EQ(r.Value("replica mismatches below the hwm"), 1);
  // Above the smallest high watermark replicas may differ.
  in = Clean();
  in.replicas[0][3] = Log(1, {Entry(0, 1, "a")});
  EXPECT_EQ(Check(in).Value("replica mismatches below the hwm"), 0);
}

TEST(ChaosChecker, StreamReadOfAnEntryTheFinalLogLacks) {
  CheckInput in = Clean();
  in.stream_reads.push_back({0, 1, "x"});
  EXPECT_EQ(Check(in).Value("stream reads not in the final log"), 1);
}

TEST(ChaosChecker, NeverDelivered) {
  CheckInput in = Clean();
  in.deliveries.pop_back();
  EXPECT_EQ(Check(in).Value("acked, never delivered to the group"), 1);
}

TEST(ChaosChecker, RedeliveryAfterAnAppliedAckIsAViolationOtherwiseReported) {
  CheckInput in = Clean();
  in.deliveries.push_back(Delivered("0-0", "a", "k", 45));  // pull started after the ack at 40
  Report r = Check(in);
  EXPECT_EQ(r.Value("acked, then redelivered"), 1);
  in = Clean();
  in.deliveries.push_back(Delivered("0-0", "a", "k", 35));  // before the ack was answered
  r = Check(in);
  EXPECT_EQ(r.Value("acked, then redelivered"), 0);
  EXPECT_EQ(r.Value("redeliveries of unacked messages"), 1);
  // An ack listed as unknown, or not answered 200, applied nothing.
  in = Clean();
  in.acks[0].unknown = {"0-0"};
  in.deliveries.push_back(Delivered("0-0", "a", "k", 45));
  EXPECT_EQ(Check(in).Value("acked, then redelivered"), 0);
}

TEST(ChaosChecker, GroupOrder) {
  CheckInput in = Clean();
  // 0-1 delivered and acked before 0-0 was acked; then 0-0 delivered again.
  in.deliveries = {Delivered("0-0", "a", "k", 30), Delivered("0-1", "b", "k", 31),
                   Delivered("0-0", "a", "k", 70)};
  in.acks = {Ack({"0-1"}, 60), Ack({"0-0"}, 80)};
  EXPECT_EQ(Check(in).Value("per-key order violations in the group"), 1);
}

TEST(ChaosChecker, LogOrder) {
  CheckInput in = Clean();
  in.writes[0].key_seq = 1;  // the later write of the key sits at the lower offset
  in.writes[1].key_seq = 0;
  EXPECT_EQ(Check(in).Value("per-key order violations in the log"), 1);
}

TEST(ChaosChecker, UnsettledPartitionsFail) {
  CheckInput in = Clean();
  in.unsettled = {"partition 0: no live leader"};
  EXPECT_FALSE(Check(in).ok());
}

TEST(ChaosChecker, JsonCarriesEveryFigure) {
  const Report r = Check(Clean());
  const Json j = r.ToJson();
  EXPECT_EQ(j["result"], "pass");
  EXPECT_EQ(j["figures"].size(), r.figures.size());
}

}  // namespace
}  // namespace zoomq::chaos
