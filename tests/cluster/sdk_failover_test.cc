// SDK failover tests (issue 4, item 5): the zoomq::Producer and zoomq::Consumer against a real
// ZooKeeper and three real brokers, while the leader of a partition is killed with SIGKILL.
// The application code below is what a user writes: no leader lookups, no retry loops; the
// SDK must ride through the failover. Figures are printed with a "[figures]" prefix.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster_harness.h"
#include "zoomq/client.h"

namespace zoomq::cluster_testing {
namespace {

using zoomq::testing::UniqueName;

constexpr int kSessionMs = 2000;
constexpr int kPartitions = 3;
constexpr int kMessages = 10000;

class SdkFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions options;
    options.session_ms = kSessionMs;
    cluster_ = std::make_unique<Cluster>(options);
    ASSERT_TRUE(cluster_->Start());
    topic_ = UniqueName("sdk");
    ASSERT_TRUE(cluster_->CreateTopic(
        topic_, {{"partitions", kPartitions}, {"replication_factor", 3}, {"min_insync_replicas", 2}}));
    for (int p = 0; p < kPartitions; ++p) {
      ASSERT_TRUE(cluster_->WaitForLeader(topic_, p, milliseconds(10000)).has_value());
    }
  }

  ClientOptions Client() const {
    ClientOptions c;
    for (const auto& [id, url] : cluster_->Urls()) c.brokers.push_back(url);
    c.request_timeout = milliseconds(3000);
    return c;
  }

  // Kills the current leader of partition 0 and returns its id.
  int KillLeaderOfPartition0() {
    int leader = cluster_->Leader(topic_, 0);
    EXPECT_GT(leader, 0);
    if (leader <= 0) return -1;
    std::printf("[figures] %s kill -9 broker %d (leader of partition 0)\n", WallClockNow().c_str(),
                leader);
    cluster_->Kill(leader);
    return leader;
  }

  // Every message of the topic, read through a live broker after the cluster settled: the
  // message ids (producer ids) mapped to how often each occurs.
  std::map<std::string, int> ReadAllIds(std::map<std::string, std::pair<int, int64_t>>* where) {
    std::map<std::string, int> counts;
    for (int p = 0; p < kPartitions; ++p) {
      auto pv = cluster_->WaitForLeader(topic_, p, milliseconds(15000));
      EXPECT_TRUE(pv.has_value()) << "no leader for partition " << p;
      if (!pv) continue;
      for (const Json& m : cluster_->ReadPartition(pv->leader, topic_, p)) {
        std::string id = MessageId(m);
        ++counts[id];
        if (where) (*where)[id] = {p, m.value("offset", int64_t{-1})};
      }
    }
    return counts;
  }

  std::unique_ptr<Cluster> cluster_;
  std::string topic_;
};

// 10,000 messages through one Producer while the leader of a partition dies: every message is
// reported persisted, exactly once, and the log holds each exactly once at its offset.
TEST_F(SdkFailoverTest, ProducerPersistsEveryMessageExactlyOnceThroughLeaderKill) {
  zoomq::ProducerOptions po;
  po.client = Client();
  po.linger = milliseconds(2);
  po.batch_messages = 200;
  po.delivery_timeout = milliseconds(60000);
  po.retry_backoff = milliseconds(20);
  po.retry_backoff_max = milliseconds(500);
  zoomq::Producer producer(po);

  std::mutex mu;
  std::vector<DeliveryReport> reports;
  std::atomic<int> persisted{0};
  auto on_report = [&](const DeliveryReport& r) {
    if (r.status.ok()) persisted.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu);
    reports.push_back(r);
  };

  std::atomic<int> reported{0};
  auto counted = [&](const DeliveryReport& r) {
    on_report(r);
    reported.fetch_add(1);
  };
  int killed = -1;
  for (int i = 0; i < kMessages; ++i) {
    // Like an application with a bounded backlog: at most 1,000 messages awaiting their
    // outcome, so sending goes on through the whole outage instead of being queued up front.
    if (i - reported.load() >= 1000) {
      ASSERT_TRUE(WaitFor([&] { return i - reported.load() < 1000; }, milliseconds(60000)));
    }
    // Keys spread the messages over the partitions, so the killed leader holds a third.
    std::string key = "k" + std::to_string(i % 64);
    std::string value = "{\"n\":" + std::to_string(i) + "}";
    ASSERT_TRUE(producer.Send(OutgoingMessage::Json(topic_, value, key), counted).ok());
    if (i == kMessages / 4) {
      // Kill in the middle of the stream, once part of it is persisted.
      ASSERT_TRUE(WaitFor([&] { return persisted.load() >= 1000; }, milliseconds(30000)));
      killed = KillLeaderOfPartition0();
    }
  }
  Status flushed = producer.Flush(milliseconds(90000));
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();
  ASSERT_GT(killed, 0);

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(reports.size(), static_cast<size_t>(kMessages)) << "one report per message";
  std::set<std::string> ids;
  int failed = 0, duplicates = 0, max_attempts = 0;
  for (const auto& r : reports) {
    ids.insert(r.id);
    if (!r.status.ok()) ++failed;
    if (r.duplicate) ++duplicates;
    max_attempts = std::max(max_attempts, r.attempts);
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kMessages)) << "each message reported once";
  EXPECT_EQ(failed, 0);
  auto stats = producer.stats();
  std::printf("[figures] producer: %d persisted, %d answered as duplicates of a lost reply, "
              "%lld requests, %lld retries, at most %d attempts for one message\n",
              persisted.load(), duplicates, static_cast<long long>(stats.requests),
              static_cast<long long>(stats.retries), max_attempts);

  std::map<std::string, std::pair<int, int64_t>> where;
  auto counts = ReadAllIds(&where);
  int missing = 0, doubled = 0, misplaced = 0;
  for (const auto& r : reports) {
    auto it = counts.find(r.id);
    if (it == counts.end()) {
      ++missing;
      continue;
    }
    if (it->second != 1) ++doubled;
    if (where[r.id] != std::make_pair(r.partition, r.offset)) ++misplaced;
  }
  EXPECT_EQ(missing, 0) << "persisted messages absent from the log";
  EXPECT_EQ(doubled, 0) << "messages written more than once";
  EXPECT_EQ(misplaced, 0) << "messages not at the partition/offset their report gave";
  EXPECT_EQ(counts.size(), static_cast<size_t>(kMessages));
}

// A group of three consumers drains 10,000 messages while the leader of a partition dies:
// every message is handled, and no message whose ack was applied is delivered again.
TEST_F(SdkFailoverTest, GroupOfThreeConsumesEverythingThroughLeaderKillWithoutRedeliveringAcked) {
  {
    zoomq::ProducerOptions po;
    po.client = Client();
    po.linger = milliseconds(5);
    zoomq::Producer producer(po);
    for (int i = 0; i < kMessages; ++i) {
      std::string value = "{\"n\":" + std::to_string(i) + "}";
      ASSERT_TRUE(producer.Send(OutgoingMessage::Json(topic_, value, "k" + std::to_string(i % 97)),
                                nullptr)
                      .ok());
    }
    ASSERT_TRUE(producer.Flush(milliseconds(60000)).ok());
  }

  const std::string group = "g-sdk";
  std::mutex mu;
  std::map<std::string, int> deliveries;              // handle -> deliveries seen
  // A delivery is certainly after an applied ack only if its Poll started after the ack's
  // answer arrived (a Poll in flight may have been served before the ack).
  std::map<std::string, int> delivered_after_ack;     // handle -> such deliveries
  std::map<std::string, Clock::time_point> acked;     // handle -> when its ack was answered
  std::set<std::string> handled_ids;                  // producer ids handled at least once
  std::map<std::string, std::string> ack_history;     // handle -> "a"pplied/"u"nknown, in order
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ack_errors{0};

  auto run = [&](const std::string& name) {
    zoomq::ConsumerOptions co;
    co.client = Client();
    co.topic = topic_;
    co.group = group;
    co.consumer = name;
    co.prefetch = 50;
    co.visibility = milliseconds(20000);
    zoomq::Consumer consumer(co);
    while (!stop.load()) {
      Clock::time_point poll_start = Clock::now();
      auto batch = consumer.Poll(50, milliseconds(500));
      if (!batch.ok()) continue;  // the SDK retries inside; an error here is a timeout
      std::vector<std::string> handles;
      {
        std::lock_guard<std::mutex> lock(mu);
        for (const auto& m : *batch) {
          ++deliveries[m.handle];
          auto a = acked.find(m.handle);
          if (a != acked.end() && poll_start > a->second) ++delivered_after_ack[m.handle];
          handled_ids.insert(m.message_id);
          handles.push_back(m.handle);
        }
      }
      if (handles.empty()) continue;
      auto result = consumer.Ack(handles);
      if (!result.ok()) {
        ack_errors.fetch_add(1);
        continue;
      }
      Clock::time_point answered = Clock::now();
      std::set<std::string> unknown(result->unknown.begin(), result->unknown.end());
      std::lock_guard<std::mutex> lock(mu);
      for (const auto& h : handles) {
        ack_history[h] += unknown.count(h) ? "u" : "a";
        if (!unknown.count(h)) acked.emplace(h, answered);
      }
    }
  };

  std::vector<std::thread> consumers;
  for (int c = 0; c < 3; ++c) consumers.emplace_back(run, "c" + std::to_string(c));
  auto handled = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return handled_ids.size();
  };
  bool third = WaitFor([&] { return handled() >= kMessages / 3; }, milliseconds(60000));
  int killed = third ? KillLeaderOfPartition0() : -1;
  const auto killed_at = Clock::now();
  bool all = third && WaitFor([&] { return handled() >= static_cast<size_t>(kMessages); },
                              milliseconds(90000));
  std::printf("[figures] every message handled %lld ms after the kill\n",
              static_cast<long long>(MillisBetween(killed_at, Clock::now())));
  // Let the acks of the last batches be answered before stopping (the consumers keep
  // polling). An ack retried after a lost reply may be answered "unknown" although its first
  // try was applied (the old leader replicated it, then died before answering), so "answered"
  // is what is waited for; the redelivery check below is what judges the broker.
  bool drained = all && WaitFor(
                            [&] {
                              std::lock_guard<std::mutex> lock(mu);
                              return ack_history.size() >= deliveries.size();
                            },
                            milliseconds(30000));
  stop = true;
  for (auto& t : consumers) t.join();
  ASSERT_TRUE(third) << "the group did not consume a third of the messages";
  ASSERT_GT(killed, 0);
  EXPECT_TRUE(all) << "handled " << handled() << " of " << kMessages;
  EXPECT_TRUE(drained) << "acks answered for " << ack_history.size() << " of "
                       << deliveries.size() << " handles";

  std::lock_guard<std::mutex> lock(mu);
  for (const auto& [h, n] : delivered_after_ack) {
    std::printf("[debug] %s delivered %d times, %d after its ack was applied; acks: %s\n",
                h.c_str(), deliveries[h], n, ack_history[h].c_str());
  }
  int redelivered = 0;
  for (const auto& [h, n] : deliveries) redelivered += n > 1 ? 1 : 0;
  int64_t unknown_only = 0;  // acks answered "unknown" only (see above)
  for (const auto& [h, history] : ack_history) {
    unknown_only += history.find('a') == std::string::npos ? 1 : 0;
  }
  std::printf("[figures] group of 3: %zu messages handled, %zu acks applied, %lld answered "
              "unknown only, %d redelivered (leased, not acked, when the leader died), %lld ack "
              "calls failed\n",
              handled_ids.size(), acked.size(), static_cast<long long>(unknown_only), redelivered,
              static_cast<long long>(ack_errors.load()));
  EXPECT_TRUE(delivered_after_ack.empty())
      << delivered_after_ack.size() << " acked messages delivered again, e.g. "
      << delivered_after_ack.begin()->first;
  EXPECT_EQ(handled_ids.size(), static_cast<size_t>(kMessages));
}

}  // namespace
}  // namespace zoomq::cluster_testing
