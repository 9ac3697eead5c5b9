// A cluster over TLS (issue 12, items 3 and 8): a real ZooKeeper and three brokers serving
// HTTPS only, with mutual TLS, so that every replication fetch, forwarded request and
// controller call between brokers is made over TLS with the broker's own certificate. The SDK
// produces over HTTPS, the partition leader is killed with SIGKILL while it does, and every
// message reported persisted is in the log afterwards exactly once, at its offset; the killed
// broker comes back and catches up over TLS. Once more with security on (tokens, broker
// credentials) over the same TLS. Figures are printed with a "[figures]" prefix.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "cluster_harness.h"
#include "test_certs.h"
#include "zoomq/client.h"

namespace zoomq::cluster_testing {
namespace {

using zoomq::testing::MakeTlsSetup;
using zoomq::testing::TestPki;
using zoomq::testing::TlsSetup;
using zoomq::testing::UniqueName;

constexpr int kSessionMs = 2000;
constexpr int kMessages = 2000;

// The test itself; `admin_token` non-empty: security on as well (the SDK presents the token,
// the brokers their broker credentials, all over mutual TLS).
void KillLeaderOverMutualTls(const std::string& admin_token) {
  TestPki pki;
  ASSERT_TRUE(pki.Create());
  TlsSetup tls;
  ASSERT_TRUE(MakeTlsSetup(pki, /*mutual=*/true, &tls));
  ClusterOptions options;
  options.session_ms = kSessionMs;
  options.tls = tls;
  options.admin_token = admin_token;
  Cluster cluster(options);
  ASSERT_TRUE(cluster.Start());
  for (const auto& [id, url] : cluster.Urls()) ASSERT_EQ(url.rfind("https://", 0), 0u) << url;

  const std::string topic = UniqueName("tls_kill");
  ASSERT_TRUE(cluster.CreateTopic(
      topic, {{"partitions", 1}, {"replication_factor", 3}, {"min_insync_replicas", 2}}));
  ASSERT_TRUE(cluster.WaitForLeader(topic, 0, milliseconds(10000)).has_value());

  zoomq::ProducerOptions po;
  for (const auto& [id, url] : cluster.Urls()) po.client.brokers.push_back(url);
  const net::ClientCredentials& credentials = cluster.client_credentials();
  po.client.security = {credentials.token, credentials.ca_file, credentials.cert_file,
                        credentials.key_file};
  po.client.request_timeout = milliseconds(3000);
  po.linger = milliseconds(2);
  po.delivery_timeout = milliseconds(60000);
  po.retry_backoff = milliseconds(20);
  po.retry_backoff_max = milliseconds(500);
  zoomq::Producer producer(po);

  std::mutex mu;
  std::vector<SendRecord> records;  // one per report, in the shape AckedExactlyOnce checks
  std::atomic<int> reported{0}, persisted{0};
  auto on_report = [&](const DeliveryReport& r) {
    SendRecord rec;
    rec.id = r.id;
    rec.acked = r.status.ok();
    rec.offset = r.offset;
    rec.duplicate = r.duplicate;
    rec.attempts = r.attempts;
    if (!r.status.ok()) rec.failures.push_back(r.status.ToString());
    {
      std::lock_guard<std::mutex> lock(mu);
      records.push_back(std::move(rec));
    }
    if (r.status.ok()) persisted.fetch_add(1);
    reported.fetch_add(1);
  };

  int killed = -1;
  Clock::time_point kill_at;
  for (int i = 0; i < kMessages; ++i) {
    // A bounded backlog, so that sending goes on through the failover.
    if (i - reported.load() >= 200) {
      ASSERT_TRUE(WaitFor([&] { return i - reported.load() < 200; }, milliseconds(30000)));
    }
    ASSERT_TRUE(
        producer.Send(OutgoingMessage::Json(topic, "{\"n\":" + std::to_string(i) + "}"), on_report)
            .ok());
    if (i == kMessages / 4) {
      ASSERT_TRUE(WaitFor([&] { return persisted.load() >= 300; }, milliseconds(20000)));
      killed = cluster.Leader(topic, 0);
      ASSERT_GT(killed, 0);
      kill_at = Clock::now();
      cluster.Kill(killed);
    }
  }
  Status flushed = producer.Flush(milliseconds(60000));
  ASSERT_TRUE(flushed.ok()) << flushed.ToString();

  auto pv = cluster.WaitForLeader(topic, 0, milliseconds(15000),
                                  [&](const PartitionView& v) { return v.leader != killed; });
  ASSERT_TRUE(pv.has_value()) << "no new leader after kill -9 of broker " << killed;
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(records.size(), static_cast<size_t>(kMessages));
  int failed = 0;
  for (const auto& r : records) failed += r.acked ? 0 : 1;
  EXPECT_EQ(failed, 0) << "messages not persisted within the delivery timeout";
  std::printf(
      "[figures] kill -9 of leader %d over TLS: new leader %d (epoch %lld) seen %lld ms "
      "after the kill; %d messages persisted\n",
      killed, pv->leader, static_cast<long long>(pv->epoch),
      static_cast<long long>(MillisBetween(kill_at, Clock::now())), persisted.load());

  // Every persisted message is in the new leader's log once, at its offset.
  int64_t max_offset = -1;
  for (const auto& r : records) max_offset = std::max(max_offset, r.offset);
  std::vector<Json> log;
  WaitFor(
      [&] {
        log = cluster.ReadPartition(pv->leader, topic, 0);
        return !log.empty() && log.back().value("offset", int64_t{-1}) >= max_offset;
      },
      milliseconds(10000), milliseconds(100));
  EXPECT_TRUE(AckedExactlyOnce(records, log));

  // The killed broker returns and catches up over TLS; every replica agrees.
  ASSERT_TRUE(cluster.Restart(killed));
  ReplicaReport report;
  EXPECT_TRUE(cluster.WaitReplicasConverged(topic, 0, milliseconds(20000), &report));
  std::printf("[figures] %s replicas: %s\n", topic.c_str(), report.Summary().c_str());
}

TEST(TlsFailoverTest, KillLeaderOverMutualTlsLosesNoAcknowledgedMessage) {
  KillLeaderOverMutualTls("");
}

TEST(TlsFailoverTest, KillLeaderOverMutualTlsWithTokensLosesNoAcknowledgedMessage) {
  KillLeaderOverMutualTls("zq_" + std::string(64, 'b'));
}

}  // namespace
}  // namespace zoomq::cluster_testing
