// Failover tests (docs/GUARANTEES.md, promises 1-5 and 7) with a real ZooKeeper, three real
// brokers and real signals. Every test runs in its own ZooKeeper chroot with its own brokers.
// Figures (outage, failover times, ...) are printed with a "[figures]" prefix.

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster_harness.h"

namespace zoomq::cluster_testing {
namespace {

using zoomq::testing::GroupVerb;
using zoomq::testing::IdsOf;
using zoomq::testing::IsStatus;
using zoomq::testing::Pull;
using zoomq::testing::UniqueName;

constexpr int kSessionMs = 2000;
// Default topic of these tests: the documented defaults, stated explicitly.
const Json kReplicated = {{"partitions", 1}, {"replication_factor", 3}, {"min_insync_replicas", 2}};

std::vector<SendRecord> Concat(std::initializer_list<const Producer*> producers) {
  std::vector<SendRecord> all;
  for (const Producer* p : producers) {
    auto r = p->Records();
    all.insert(all.end(), r.begin(), r.end());
  }
  return all;
}

std::string Histogram(const std::map<int, int>& h) {
  std::string s;
  for (auto& [k, v] : h) s += (s.empty() ? "" : ", ") + std::to_string(k) + ":" + std::to_string(v);
  return "{" + s + "}";
}

std::string Kinds(const std::map<std::string, int>& k) {
  std::string s;
  for (auto& [kind, n] : k) s += "\n    " + std::to_string(n) + " x " + kind;
  return s.empty() ? " none" : s;
}

bool Contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class FailoverTest : public ::testing::Test {
 protected:
  void StartCluster(ClusterOptions options = {}) {
    options.session_ms = kSessionMs;
    cluster_ = std::make_unique<Cluster>(options);
    ASSERT_TRUE(cluster_->Start());
  }

  // Creates a topic and returns the leader of each of its partitions.
  std::vector<int> CreateTopic(const std::string& name, const Json& config) {
    std::vector<int> leaders;
    auto created = cluster_->CreateTopic(name, config);
    EXPECT_TRUE(created);
    if (!created) return leaders;
    for (int p = 0; p < config.value("partitions", 1); ++p) {
      auto pv = cluster_->WaitForLeader(name, p, milliseconds(10000));
      EXPECT_TRUE(pv.has_value()) << "no leader for " << name << "/" << p;
      leaders.push_back(pv ? pv->leader : -1);
    }
    return leaders;
  }

  // Reads the partition through its current leader and checks every acked record is in it
  // exactly once, at its acked offset.
  void ExpectAckedExactlyOnce(const std::string& topic, int partition,
                              const std::vector<SendRecord>& records) {
    auto pv = cluster_->WaitForLeader(topic, partition, milliseconds(15000));
    ASSERT_TRUE(pv.has_value()) << "no leader for " << topic << "/" << partition;
    int64_t max_acked = -1;
    for (const auto& r : records) {
      if (r.acked) max_acked = std::max(max_acked, r.offset);
    }
    std::vector<Json> log;
    // The leader's high watermark covers every acked offset (it was committed); a fresh
    // leader may still be catching its watermark up, so wait for it.
    WaitFor(
        [&] {
          log = cluster_->ReadPartition(pv->leader, topic, partition);
          return static_cast<int64_t>(log.size()) > max_acked ||
                 (!log.empty() && log.back().value("offset", int64_t{-1}) >= max_acked);
        },
        milliseconds(10000), milliseconds(100));
    int64_t acked = 0;
    for (const auto& r : records) acked += r.acked ? 1 : 0;
    std::printf("[figures] %s/%d: %lld acked ids, %zu messages in the log read through leader %d\n",
                topic.c_str(), partition, static_cast<long long>(acked), log.size(), pv->leader);
    EXPECT_GT(acked, 0);
    EXPECT_TRUE(AckedExactlyOnce(records, log));
  }

  void ExpectReplicasConverge(const std::string& topic, int partition,
                              milliseconds timeout = milliseconds(20000)) {
    ReplicaReport report;
    EXPECT_TRUE(cluster_->WaitReplicasConverged(topic, partition, timeout, &report));
    std::printf("[figures] %s/%d replicas: %s\n", topic.c_str(), partition,
                report.Summary().c_str());
  }

  // Waits until `broker` is in the ISR of the newest view and its own replica has caught up
  // with the leader's high watermark as of now.
  ::testing::AssertionResult WaitCaughtUpAndInIsr(const std::string& topic, int partition,
                                                  int broker, milliseconds timeout) {
    int64_t target = -1;
    if (auto pv = cluster_->WaitForLeader(topic, partition, timeout)) {
      if (auto lv = cluster_->Partition(topic, partition, {pv->leader})) {
        target = lv->high_watermark;
      }
    }
    std::string last;
    const bool ok = WaitFor(
        [&] {
          auto newest = cluster_->Partition(topic, partition);
          auto own = cluster_->Partition(topic, partition, {broker});
          if (!newest || !own) {
            last = "no view";
            return false;
          }
          last = "isr " + std::to_string(newest->isr.size()) + " members, broker " +
                 std::to_string(broker) + " hwm " + std::to_string(own->high_watermark) +
                 " (target " + std::to_string(target) + ")";
          return Contains(newest->isr, broker) && own->high_watermark >= target;
        },
        timeout, milliseconds(20));
    if (ok) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "broker " << broker << " not caught up and in the ISR of " << topic << "/"
           << partition << " within " << timeout.count() << " ms: " << last;
  }

  std::unique_ptr<Cluster> cluster_;
};

// (a) kill -9 of the leader while producers write: every id answered 200 is in the log once;
// writes are accepted again within the session timeout + 1 s.
TEST_F(FailoverTest, KillLeaderDuringSteadyProduceLosesNothingAndRecoversQuickly) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("kill_leader");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  const int old_leader = leaders[0];

  ProducerOptions po;
  po.topic = topic;
  po.threads = 4;
  po.id_prefix = "a";
  Producer producer(*cluster_, po);
  producer.Start();
  ASSERT_TRUE(producer.WaitForAcks(300, milliseconds(30000)))
      << "only " << producer.acked() << " acks before the kill";

  const auto kill_at = Clock::now();
  cluster_->Kill(old_leader);
  auto pv = cluster_->WaitForLeader(topic, 0, milliseconds(15000),
                                    [&](const PartitionView& v) { return v.leader != old_leader; });
  const auto elected_at = Clock::now();
  ASSERT_TRUE(pv.has_value()) << "no new leader after kill -9 of broker " << old_leader;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto t = producer.AckTimes();
        return !t.empty() && t.back() > kill_at;
      },
      milliseconds(15000)))
      << "no write accepted after the kill";
  ASSERT_TRUE(producer.WaitForMoreAcks(300, milliseconds(30000)));
  producer.Stop();

  const int64_t outage = producer.OutageAround(kill_at);
  std::printf(
      "[figures] kill -9 of leader %d: new leader %d (epoch %lld) seen after %lld ms; "
      "write outage (longest gap between 200s around the kill) %lld ms; "
      "%lld requests, %lld failed; failures per acked id %s; failures:%s\n",
      old_leader, pv->leader, static_cast<long long>(pv->epoch),
      static_cast<long long>(MillisBetween(kill_at, elected_at)), static_cast<long long>(outage),
      static_cast<long long>(producer.requests()),
      static_cast<long long>(producer.failed_requests()),
      Histogram(producer.FailuresPerAckedId()).c_str(), Kinds(producer.FailureKinds()).c_str());
  // Promise 7: ZooKeeper notices the dead session after at most the session timeout; the
  // controller, the new leader and the client's retry get one more second.
  EXPECT_GE(outage, 0);
  EXPECT_LE(outage, kSessionMs + 1000);

  ExpectAckedExactlyOnce(topic, 0, producer.Records());
  // The old leader comes back, catches up, and every replica agrees.
  ASSERT_TRUE(cluster_->Restart(old_leader));
  EXPECT_TRUE(WaitCaughtUpAndInIsr(topic, 0, old_leader, milliseconds(20000)));
  ExpectReplicasConverge(topic, 0);
  ExpectAckedExactlyOnce(topic, 0, producer.Records());
}

// (b) The leader is paused (SIGSTOP) for longer than the session timeout while producers keep
// writing, then resumed: no 200 is answered for a write the new leader does not have.
TEST_F(FailoverTest, PausedLeaderDoesNotAcknowledgeWritesTheNewLeaderLacks) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("pause_leader");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  const int old_leader = leaders[0];

  // Clients that follow the leader.
  ProducerOptions follow;
  follow.topic = topic;
  follow.threads = 3;
  follow.id_prefix = "b-follow";
  // An SDK-like request timeout: a client stuck on the paused broker gives up and looks for
  // the new leader.
  follow.read_timeout = milliseconds(2000);
  Producer followers(*cluster_, follow);
  // Clients that keep writing to the paused broker, with a read timeout longer than the
  // pause: their requests (in flight at SIGSTOP, or queued during the pause) are answered by
  // the deposed leader after SIGCONT. None of those answers may be a 200 for a lost write.
  ProducerOptions pinned = follow;
  pinned.id_prefix = "b-pinned";
  pinned.threads = 6;
  pinned.pinned_broker = old_leader;
  pinned.max_attempts = 1;
  pinned.interval = milliseconds(20);
  pinned.connect_timeout = milliseconds(15000);
  // Longer than the broker's own write timeout (30 s): every request gets the broker's answer.
  pinned.read_timeout = milliseconds(35000);
  Producer stale(*cluster_, pinned);
  followers.Start();
  stale.Start();
  ASSERT_TRUE(followers.WaitForAcks(200, milliseconds(30000)));
  ASSERT_TRUE(stale.WaitForAcks(50, milliseconds(30000)));

  const auto stop_at = Clock::now();
  cluster_->Stop(old_leader);
  auto pv = cluster_->WaitForLeader(topic, 0, milliseconds(15000),
                                    [&](const PartitionView& v) { return v.leader != old_leader; });
  const auto elected_at = Clock::now();
  ASSERT_TRUE(pv.has_value()) << "no new leader while broker " << old_leader << " is paused";
  ASSERT_TRUE(followers.WaitForMoreAcks(100, milliseconds(15000)))
      << "the new leader accepts no writes";
  // The fault itself lasts twice the session timeout (not a synchronization sleep).
  std::this_thread::sleep_until(stop_at + milliseconds(2 * kSessionMs));
  const int64_t stale_acked_before = stale.acked();
  const auto cont_at = Clock::now();
  cluster_->Cont(old_leader);

  // The deposed leader answers the requests that waited for it (a correct broker at once:
  // 503, or 200 for what the new leader has); then it rejoins as a follower.
  auto unanswered = [&] {
    int n = 0;
    for (const auto& r : stale.Records()) {
      if (r.first_sent <= cont_at && !r.acked && r.failures.empty()) ++n;
    }
    return n;
  };
  WaitFor([&] { return unanswered() == 0; }, milliseconds(10000), milliseconds(50));
  const int still_unanswered = unanswered();
  const int64_t answered_ms = MillisBetween(cont_at, Clock::now());
  EXPECT_TRUE(WaitCaughtUpAndInIsr(topic, 0, old_leader, milliseconds(25000)));
  ASSERT_TRUE(followers.WaitForMoreAcks(100, milliseconds(15000)));
  stale.Stop();
  followers.Stop();

  // Requests to the paused broker that were sent before SIGCONT and answered after it: the
  // ones a deposed leader could wrongly acknowledge.
  int64_t across = 0, across_acked = 0, latest_answer_ms = 0;
  std::map<std::string, int> answers;
  for (const auto& r : stale.Records()) {
    if (r.first_sent > cont_at || r.last_answer < cont_at || r.attempts == 0 ||
        r.last_status <= 0) {
      continue;
    }
    ++across;
    latest_answer_ms = std::max(latest_answer_ms, MillisBetween(cont_at, r.last_answer));
    if (r.acked) {
      ++across_acked;
      ++answers["200 by broker " + std::to_string(r.acked_by)];
    }
    for (const auto& f : r.failures) ++answers[f];
  }
  std::printf(
      "[figures] SIGSTOP of leader %d for %lld ms: new leader %d (epoch %lld) after "
      "%lld ms; %lld requests to the paused broker were answered after SIGCONT (the "
      "last %lld ms after it), %lld of them 200 (stale producer acks before SIGCONT: "
      "%lld); their answers:%s\n",
      old_leader, static_cast<long long>(MillisBetween(stop_at, cont_at)), pv->leader,
      static_cast<long long>(pv->epoch), static_cast<long long>(MillisBetween(stop_at, elected_at)),
      static_cast<long long>(across), static_cast<long long>(latest_answer_ms),
      static_cast<long long>(across_acked), static_cast<long long>(stale_acked_before),
      Kinds(answers).c_str());
  std::printf(
      "[figures] requests pending at the paused broker still unanswered %lld ms after "
      "SIGCONT: %d\n",
      static_cast<long long>(answered_ms), still_unanswered);
  // docs/replication.md, Fencing: after SIGCONT the deposed leader answers 503 until its
  // session is confirmed or replaced, and by then it follows the new leader. Requests held
  // longer than 10 s are a stall every client sees as a timeout.
  EXPECT_EQ(still_unanswered, 0) << still_unanswered << " request(s) sent to broker " << old_leader
                                 << " before SIGCONT were still unanswered " << answered_ms
                                 << " ms after it";
  if (still_unanswered == 0) {
    EXPECT_GT(across, 0) << "no request was pending at the paused broker: the test proved nothing";
  }

  ExpectAckedExactlyOnce(topic, 0, Concat({&followers, &stale}));
  ExpectReplicasConverge(topic, 0);
}

// Issue 11 item 6: a leader paused (SIGSTOP) never answers the writes other brokers forward
// to it. They stop waiting as soon as their metadata names a new leader and send the writes
// there, so writes through the other brokers resume within the session timeout + 1 s, and
// none is duplicated by the re-send.
TEST_F(FailoverTest, WritesThroughOtherBrokersResumeSoonAfterTheLeaderIsPaused) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("pause_forward");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  const int old_leader = leaders[0];
  std::vector<std::unique_ptr<Producer>> through;  // one producer pinned to each other broker
  for (int id : cluster_->ids()) {
    if (id == old_leader) continue;
    ProducerOptions o;
    o.topic = topic;
    o.threads = 2;
    o.id_prefix = "via" + std::to_string(id);
    o.pinned_broker = id;
    // Longer than the broker's write timeout: the broker's answer decides, not the client's
    // patience.
    o.read_timeout = milliseconds(40000);
    through.push_back(std::make_unique<Producer>(*cluster_, o));
  }
  for (auto& p : through) p->Start();
  for (auto& p : through) ASSERT_TRUE(p->WaitForAcks(50, milliseconds(30000)));

  const auto stop_at = Clock::now();
  cluster_->Stop(old_leader);
  for (auto& p : through) {
    EXPECT_TRUE(p->WaitForMoreAcks(20, milliseconds(20000)))
        << "writes through the other brokers did not resume while the leader is paused";
  }
  cluster_->Cont(old_leader);
  for (auto& p : through) p->Stop();

  // Per producer: the first write sent after the SIGSTOP that was acknowledged.
  std::vector<SendRecord> all;
  int64_t worst_ms = 0;
  for (auto& p : through) {
    int64_t first_ms = -1;
    for (const SendRecord& r : p->Records()) {
      all.push_back(r);
      if (!r.acked || r.first_sent <= stop_at) continue;
      const int64_t ms = MillisBetween(stop_at, r.acked_at);
      if (first_ms < 0 || ms < first_ms) first_ms = ms;
    }
    ASSERT_GE(first_ms, 0) << "no write sent after the SIGSTOP was acknowledged";
    worst_ms = std::max(worst_ms, first_ms);
  }
  auto pv = cluster_->WaitForLeader(topic, 0, milliseconds(15000));
  std::printf(
      "[figures] leader %d paused: writes through the other brokers resumed after %lld "
      "ms (session timeout %d ms); new leader %d\n",
      old_leader, static_cast<long long>(worst_ms), kSessionMs, pv ? pv->leader : -1);
  EXPECT_LE(worst_ms, kSessionMs + 1000)
      << "writes forwarded to the paused leader waited for it instead of following the new one";
  ExpectAckedExactlyOnce(topic, 0, all);
  ExpectReplicasConverge(topic, 0);
}

// (c) A follower killed with -9 and restarted catches up and is back in the ISR; also when it
// is restarted at once, inside its old ZooKeeper session.
TEST_F(FailoverTest, KilledFollowerCatchesUpAndRejoinsIsr) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("follower_restart");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  const int leader = leaders[0];
  // A follower that is not the controller, if there is one (keeps the scenario pure).
  const int controller = cluster_->Controller();
  int follower = -1;
  for (int id : cluster_->ids()) {
    if (id != leader && (follower < 0 || id != controller)) follower = id;
  }
  ASSERT_GT(follower, 0);

  ProducerOptions po;
  po.topic = topic;
  po.threads = 2;
  po.id_prefix = "c";
  Producer producer(*cluster_, po);
  producer.Start();
  ASSERT_TRUE(producer.WaitForAcks(200, milliseconds(30000)));

  // Phase 1: kill, let the ISR shrink (writes go on with 2 in-sync replicas), restart.
  const auto kill_at = Clock::now();
  cluster_->Kill(follower);
  std::optional<PartitionView> shrunk;
  ASSERT_TRUE(WaitFor(
      [&] {
        shrunk = cluster_->Partition(topic, 0);
        return shrunk && !Contains(shrunk->isr, follower);
      },
      milliseconds(15000)))
      << "the ISR still holds dead broker " << follower;
  const int64_t shrink_ms = MillisBetween(kill_at, Clock::now());
  ASSERT_TRUE(producer.WaitForMoreAcks(300, milliseconds(15000)))
      << "no writes with 2 of 3 replicas in sync";
  const int64_t outage_1 = producer.OutageAround(kill_at);
  const auto restart_at = Clock::now();
  ASSERT_TRUE(cluster_->Restart(follower));
  const int64_t start_ms = MillisBetween(restart_at, Clock::now());
  ASSERT_TRUE(WaitCaughtUpAndInIsr(topic, 0, follower, milliseconds(20000)));
  const int64_t rejoin_ms = MillisBetween(restart_at, Clock::now());
  ASSERT_TRUE(producer.WaitForMoreAcks(200, milliseconds(15000)));

  // Phase 2: kill and restart at once, inside the old session's timeout (its ephemeral node
  // still exists when the new process registers).
  const auto kill2_at = Clock::now();
  cluster_->Kill(follower);
  ASSERT_TRUE(cluster_->Restart(follower));
  const int64_t start2_ms = MillisBetween(kill2_at, Clock::now());
  ASSERT_TRUE(producer.WaitForMoreAcks(200, milliseconds(15000)));
  ASSERT_TRUE(WaitCaughtUpAndInIsr(topic, 0, follower, milliseconds(20000)));
  const int64_t rejoin2_ms = MillisBetween(kill2_at, Clock::now());
  // Stays there: the ISR holds all three a little later too.
  ASSERT_TRUE(producer.WaitForMoreAcks(200, milliseconds(15000)));
  producer.Stop();
  auto final_view = cluster_->Partition(topic, 0);
  ASSERT_TRUE(final_view.has_value());
  EXPECT_EQ(final_view->isr.size(), 3u)
      << "isr of the newest view has " << final_view->isr.size() << " members";

  std::printf(
      "[figures] follower %d kill -9: out of the ISR after %lld ms, longest write gap "
      "%lld ms; restarted in %lld ms, caught up and back in the ISR %lld ms after the "
      "restart; kill + immediate restart: serving after %lld ms, back in the ISR %lld ms "
      "after the kill; failures per acked id %s\n",
      follower, static_cast<long long>(shrink_ms), static_cast<long long>(outage_1),
      static_cast<long long>(start_ms), static_cast<long long>(rejoin_ms),
      static_cast<long long>(start2_ms), static_cast<long long>(rejoin2_ms),
      Histogram(producer.FailuresPerAckedId()).c_str());
  ExpectAckedExactlyOnce(topic, 0, producer.Records());
  ExpectReplicasConverge(topic, 0);
}

// (d) After repeated leader kills and restarts under load, on three partitions, every replica
// of every partition holds the same entries up to the high watermark, and nothing acked is
// lost or duplicated.
TEST_F(FailoverTest, ReplicasAgreeAfterRepeatedLeaderKills) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("replicas_agree");
  Json config = kReplicated;
  config["partitions"] = 3;
  auto leaders = CreateTopic(topic, config);
  ASSERT_EQ(leaders.size(), 3u);

  std::vector<std::unique_ptr<Producer>> producers;
  for (int p = 0; p < 3; ++p) {
    ProducerOptions po;
    po.topic = topic;
    po.partition = p;
    po.threads = 2;
    po.id_prefix = "d" + std::to_string(p);
    producers.push_back(std::make_unique<Producer>(*cluster_, po));
    producers.back()->Start();
  }
  for (auto& pr : producers) ASSERT_TRUE(pr->WaitForAcks(50, milliseconds(30000)));

  for (int round = 0; round < 3; ++round) {
    const int p = round % 3;
    auto pv = cluster_->WaitForLeader(topic, p, milliseconds(15000));
    ASSERT_TRUE(pv.has_value());
    const int victim = pv->leader;
    const auto kill_at = Clock::now();
    cluster_->Kill(victim);
    for (int q = 0; q < 3; ++q) {
      ASSERT_TRUE(cluster_->WaitForLeader(topic, q, milliseconds(15000)).has_value())
          << "round " << round << ": no live leader for partition " << q;
    }
    for (auto& pr : producers) ASSERT_TRUE(pr->WaitForMoreAcks(30, milliseconds(15000)));
    ASSERT_TRUE(cluster_->Restart(victim));
    for (int q = 0; q < 3; ++q) {
      ASSERT_TRUE(WaitCaughtUpAndInIsr(topic, q, victim, milliseconds(20000))) << "round " << round;
    }
    std::printf(
        "[figures] round %d: killed leader %d of partition %d; write gaps after the "
        "kill: p0 %lld ms, p1 %lld ms, p2 %lld ms; all back in sync %lld ms after the kill\n",
        round, victim, p, static_cast<long long>(producers[0]->OutageAround(kill_at)),
        static_cast<long long>(producers[1]->OutageAround(kill_at)),
        static_cast<long long>(producers[2]->OutageAround(kill_at)),
        static_cast<long long>(MillisBetween(kill_at, Clock::now())));
    for (auto& pr : producers) ASSERT_TRUE(pr->WaitForMoreAcks(30, milliseconds(15000)));
  }
  for (auto& pr : producers) pr->Stop();
  for (int p = 0; p < 3; ++p) {
    ExpectReplicasConverge(topic, p);
    ExpectAckedExactlyOnce(topic, p, producers[p]->Records());
  }
}

// (d2) Leadership moving back to the restarted preferred replica while the interim leader is
// under load: the interim leader has appended requests its followers have not fetched yet
// when it becomes a follower. Those writes are cut from its log (truncation to the new
// leader's); their requests must not be answered 200 later, when the follower's high
// watermark passes their offsets again with other messages in them.
TEST_F(FailoverTest, LeadershipReturnUnderLoadAnswersNoTruncatedWrite) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("preferred_return");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  const int preferred = leaders[0];

  ProducerOptions po;
  po.topic = topic;
  po.threads = 8;
  po.id_prefix = "g";
  Producer producer(*cluster_, po);
  producer.Start();
  ASSERT_TRUE(producer.WaitForAcks(300, milliseconds(30000)));
  // Progress failures end the cycles but not the test: what was acknowledged is checked
  // in any case.
  auto cycle_ok = [&](bool ok, int cycle, const std::string& what) {
    if (!ok) ADD_FAILURE() << "cycle " << cycle << ": " << what;
    return ok;
  };
  for (int cycle = 0; cycle < 3; ++cycle) {
    cluster_->Kill(preferred);
    auto interim =
        cluster_->WaitForLeader(topic, 0, milliseconds(15000),
                                [&](const PartitionView& v) { return v.leader != preferred; });
    if (!cycle_ok(interim.has_value(), cycle, "no interim leader")) break;
    if (!cycle_ok(producer.WaitForMoreAcks(200, milliseconds(15000)), cycle,
                  "no writes accepted by the interim leader")) {
      break;
    }
    if (!cycle_ok(static_cast<bool>(cluster_->Restart(preferred)), cycle, "restart failed")) break;
    const auto restart_at = Clock::now();
    // The controller hands leadership back once the preferred replica is in sync again.
    auto back = cluster_->WaitForLeader(topic, 0, milliseconds(20000), [&](const PartitionView& v) {
      return v.leader == preferred;
    });
    if (!cycle_ok(back.has_value(), cycle,
                  "leadership did not return to broker " + std::to_string(preferred))) {
      break;
    }
    std::printf(
        "[figures] cycle %d: interim leader %d (epoch %lld), leadership back to %d "
        "(epoch %lld) %lld ms after its restart\n",
        cycle, interim->leader, static_cast<long long>(interim->epoch), preferred,
        static_cast<long long>(back->epoch),
        static_cast<long long>(MillisBetween(restart_at, Clock::now())));
    if (!cycle_ok(producer.WaitForMoreAcks(300, milliseconds(15000)), cycle,
                  "writes stalled after leadership returned")) {
      break;
    }
  }
  producer.Stop();
  std::printf(
      "[figures] preferred return: %lld requests, %lld failed; failures per acked id "
      "%s; failures:%s\n",
      static_cast<long long>(producer.requests()),
      static_cast<long long>(producer.failed_requests()),
      Histogram(producer.FailuresPerAckedId()).c_str(), Kinds(producer.FailureKinds()).c_str());
  ExpectAckedExactlyOnce(topic, 0, producer.Records());
  ExpectReplicasConverge(topic, 0);
}

// (e) Acks of a group consumer survive a kill -9 of the partition leader: no acknowledged
// message is delivered to the group again by the new leader.
TEST_F(FailoverTest, GroupAcksSurviveLeaderKill) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("group_acks");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  constexpr int kMessages = 200;

  ProducerOptions po;
  po.topic = topic;
  po.threads = 1;
  po.id_prefix = "e";
  po.messages_per_thread = kMessages;
  Producer producer(*cluster_, po);
  producer.Start();
  ASSERT_TRUE(producer.WaitDone(milliseconds(60000)));
  ASSERT_EQ(producer.acked(), kMessages);
  producer.Stop();

  const std::string group = "g1";
  std::set<int64_t> acked_before;  // offsets whose ack was answered 200 before the kill
  std::set<int64_t> delivered_before;
  const int leader = cluster_->WaitForLeader(topic, 0, milliseconds(10000))->leader;
  {
    Http http(cluster_->Port(leader), milliseconds(10000));
    const auto deadline = Clock::now() + milliseconds(30000);
    while (static_cast<int>(acked_before.size()) < kMessages / 2 && Clock::now() < deadline) {
      auto r = Pull(http, topic, group, "c1", 10, 1000, 60000);
      ASSERT_TRUE(IsStatus(r, 200)) << "pull from leader " << leader;
      const Json& msgs = r.body["messages"];
      if (msgs.empty()) continue;
      std::vector<int64_t> offsets;
      for (const auto& m : msgs) {
        offsets.push_back(m.value("offset", int64_t{-1}));
        delivered_before.insert(offsets.back());
      }
      auto a = GroupVerb(http, topic, group, "ack", IdsOf(msgs));
      ASSERT_TRUE(IsStatus(a, 200)) << "ack through leader " << leader;
      ASSERT_EQ(a.body.value("acked", -1), static_cast<int>(msgs.size())) << a.raw;
      acked_before.insert(offsets.begin(), offsets.end());
    }
  }
  ASSERT_GE(static_cast<int>(acked_before.size()), kMessages / 2);
  // A few more are leased to c1 and not acked when the leader dies: they must come again.
  std::set<int64_t> leased_unacked;
  {
    Http http(cluster_->Port(leader), milliseconds(10000));
    auto r = Pull(http, topic, group, "c1", 10, 1000, 60000);
    ASSERT_TRUE(IsStatus(r, 200));
    for (const auto& m : r.body["messages"]) leased_unacked.insert(m.value("offset", int64_t{-1}));
  }

  const auto kill_at = Clock::now();
  cluster_->Kill(leader);
  auto pv = cluster_->WaitForLeader(topic, 0, milliseconds(15000),
                                    [&](const PartitionView& v) { return v.leader != leader; });
  ASSERT_TRUE(pv.has_value()) << "no new leader after kill -9 of broker " << leader;
  const int64_t failover_ms = MillisBetween(kill_at, Clock::now());

  std::set<int64_t> delivered_after;
  std::vector<int64_t> redelivered;  // acked before the kill, delivered again
  int errors = 0;
  {
    const auto deadline = Clock::now() + milliseconds(30000);
    int current = pv->leader;
    auto http = std::make_unique<Http>(cluster_->Port(current), milliseconds(10000));
    while (acked_before.size() + delivered_after.size() < static_cast<size_t>(kMessages) &&
           Clock::now() < deadline) {
      auto r = Pull(*http, topic, group, "c2", 10, 1000, 60000);
      if (r.status != 200) {
        // The new leader may still be rebuilding group state: retry, following the leader.
        ++errors;
        std::this_thread::sleep_for(milliseconds(50));  // ok: see comment / poll with deadline
        auto now = cluster_->WaitForLeader(topic, 0, milliseconds(5000));
        if (now && now->leader != current) {
          current = now->leader;
          http = std::make_unique<Http>(cluster_->Port(current), milliseconds(10000));
        }
        continue;
      }
      const Json& msgs = r.body["messages"];
      for (const auto& m : msgs) {
        const int64_t off = m.value("offset", int64_t{-1});
        if (acked_before.count(off)) redelivered.push_back(off);
        delivered_after.insert(off);
      }
      if (!msgs.empty()) {
        auto a = GroupVerb(*http, topic, group, "ack", IdsOf(msgs));
        EXPECT_TRUE(IsStatus(a, 200));
      }
    }
    // Nothing more comes: one more pull returns no message (or only redeliveries we count).
    auto r = Pull(*http, topic, group, "c2", 100, 1500, 60000);
    if (r.status == 200) {
      for (const auto& m : r.body["messages"]) {
        const int64_t off = m.value("offset", int64_t{-1});
        if (acked_before.count(off)) redelivered.push_back(off);
        delivered_after.insert(off);
      }
    }
  }
  std::set<int64_t> all = acked_before;
  all.insert(delivered_after.begin(), delivered_after.end());
  std::printf(
      "[figures] group acks: %zu acked via leader %d before kill -9 (%zu delivered, "
      "%zu more leased unacked), "
      "new leader %d after %lld ms, %zu delivered after (%d pull errors), "
      "%zu acked messages redelivered\n",
      acked_before.size(), leader, delivered_before.size(), leased_unacked.size(), pv->leader,
      static_cast<long long>(failover_ms), delivered_after.size(), errors, redelivered.size());
  std::string redelivered_list;
  for (size_t i = 0; i < redelivered.size() && i < 20; ++i) {
    redelivered_list += " " + std::to_string(redelivered[i]);
  }
  EXPECT_TRUE(redelivered.empty()) << redelivered.size()
                                   << " acked message(s) delivered again after the failover, "
                                      "offsets:"
                                   << redelivered_list;
  EXPECT_EQ(all.size(), static_cast<size_t>(kMessages)) << "not every message was delivered";
  for (int64_t off : leased_unacked) {
    EXPECT_TRUE(delivered_after.count(off))
        << "offset " << off << " was leased, not acked, and never delivered again";
  }
}

// (f) SIGTERM of a leader: its leaderships move in under a second, and a producer that
// follows the leader needs at most one retry per message.
TEST_F(FailoverTest, GracefulStopMovesLeadershipsQuickly) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("graceful");
  Json config = kReplicated;
  config["partitions"] = 3;
  auto leaders = CreateTopic(topic, config);
  ASSERT_EQ(leaders.size(), 3u);
  const int victim = leaders[0];
  std::vector<int> led;
  for (int p = 0; p < 3; ++p) {
    if (leaders[p] == victim) led.push_back(p);
  }

  std::vector<std::unique_ptr<Producer>> producers;
  for (int p = 0; p < 3; ++p) {
    ProducerOptions po;
    po.topic = topic;
    po.partition = p;
    po.threads = 2;
    po.id_prefix = "f" + std::to_string(p);
    producers.push_back(std::make_unique<Producer>(*cluster_, po));
    producers.back()->Start();
  }
  for (auto& pr : producers) ASSERT_TRUE(pr->WaitForAcks(100, milliseconds(30000)));

  std::vector<int> others;
  for (int id : cluster_->ids()) {
    if (id != victim) others.push_back(id);
  }
  const auto term_at = Clock::now();
  cluster_->SendSignal(victim, SIGTERM);
  const bool moved = WaitFor(
      [&] {
        for (int p : led) {
          auto pv = cluster_->Partition(topic, p, others);
          if (!pv || pv->leader == victim || pv->leader <= 0) return false;
        }
        return true;
      },
      milliseconds(10000), milliseconds(5));
  const int64_t moved_ms = MillisBetween(term_at, Clock::now());
  auto exit_code = cluster_->WaitExit(victim, milliseconds(15000));
  const int64_t exit_ms = MillisBetween(term_at, Clock::now());
  ASSERT_TRUE(moved) << "leaderships of broker " << victim << " did not move";
  std::string stalled;
  for (int p = 0; p < 3; ++p) {
    if (!producers[p]->WaitForMoreAcks(100, milliseconds(15000))) {
      stalled += " p" + std::to_string(p);
    }
  }
  for (auto& pr : producers) pr->Stop();

  std::string outages, histograms;
  int max_failures = 0;
  for (int p = 0; p < 3; ++p) {
    outages +=
        " p" + std::to_string(p) + "=" + std::to_string(producers[p]->OutageAround(term_at)) + "ms";
    histograms += " p" + std::to_string(p) + "=" + Histogram(producers[p]->FailuresPerAckedId());
    for (auto& [failures, n] : producers[p]->FailuresPerAckedId()) {
      max_failures = std::max(max_failures, failures);
    }
  }
  std::printf(
      "[figures] SIGTERM of broker %d (led partitions %zu): leaderships moved after "
      "%lld ms, exited %s after %lld ms; write gaps:%s; failures per acked id:%s\n",
      victim, led.size(), static_cast<long long>(moved_ms),
      exit_code ? ("with code " + std::to_string(*exit_code)).c_str() : "abnormally",
      static_cast<long long>(exit_ms), outages.c_str(), histograms.c_str());
  for (int p = 0; p < 3; ++p) {
    std::printf("[figures]   p%d failures:%s\n", p, Kinds(producers[p]->FailureKinds()).c_str());
  }
  EXPECT_TRUE(stalled.empty()) << "writes stalled after the graceful stop on" << stalled;
  EXPECT_LT(moved_ms, 1000) << "promise 7: a graceful stop hands leadership over in under 1 s";
  EXPECT_EQ(exit_code, std::optional<int>(0));
  EXPECT_LE(max_failures, 1) << "a producer following the leader needed more than one retry";
  // Promise 7: "the SDK's retries hide it from the application". A request the stopping
  // broker holds unanswered until the client's read timeout is not hidden: no message may
  // take more than a few seconds from first send to 200 (generous for a loaded 2-core box).
  int64_t max_latency = 0;
  for (auto& pr : producers) max_latency = std::max(max_latency, pr->MaxAckLatencyMs());
  std::printf("[figures] SIGTERM: longest first-send-to-200 of any message %lld ms\n",
              static_cast<long long>(max_latency));
  EXPECT_LE(max_latency, 5000) << "a message waited " << max_latency << " ms for its 200";

  for (int p = 0; p < 3; ++p) ExpectAckedExactlyOnce(topic, p, producers[p]->Records());
  ASSERT_TRUE(cluster_->Restart(victim));
  for (int p = 0; p < 3; ++p) {
    EXPECT_TRUE(WaitCaughtUpAndInIsr(topic, p, victim, milliseconds(20000)));
    ExpectReplicasConverge(topic, p);
  }
}

// Item 7 of the cluster issue: a lone ZooKeeper that goes away and comes back. While it is
// gone, leaders stop acknowledging once their session lease runs out (they cannot be sure
// of their leadership); when it is back, the cluster carries on by itself.
TEST_F(FailoverTest, ClusterCarriesOnAfterLoneZooKeeperRestart) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string topic = UniqueName("zk_restart");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  ProducerOptions po;
  po.topic = topic;
  po.threads = 2;
  po.id_prefix = "z";
  Producer producer(*cluster_, po);
  producer.Start();
  ASSERT_TRUE(producer.WaitForAcks(100, milliseconds(30000)));
  ZooKeeperServer* zk = SharedZooKeeper();
  ASSERT_NE(zk, nullptr);
  zk->Kill();
  const auto down_at = Clock::now();
  // Past the session timeout: no broker can still be sure of its session.
  ASSERT_FALSE(
      WaitFor([&] { return false; }, milliseconds(kSessionMs + 1000)));  // ok: time must pass
  // The window of "no session" ends when the new ZooKeeper process starts: Restart() returns
  // only once it answers, and brokers may reconnect (and rightly acknowledge) before that.
  const auto restart_at = Clock::now();
  ASSERT_EQ(zk->Restart(), "");  // "" or what failed
  const auto up_at = Clock::now();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto t = producer.AckTimes();
        return !t.empty() && t.back() > up_at;
      },
      milliseconds(20000)))
      << "no write accepted after ZooKeeper came back";
  ASSERT_TRUE(producer.WaitForMoreAcks(100, milliseconds(30000)));
  producer.Stop();
  int64_t acked_while_down = 0, acked_while_starting = 0;
  for (const auto& t : producer.AckTimes()) {
    if (t > down_at + milliseconds(kSessionMs) && t < restart_at) ++acked_while_down;
    if (t >= restart_at && t < up_at) ++acked_while_starting;
  }
  std::printf(
      "[figures] lone ZooKeeper down %lld ms: %lld writes acknowledged after the session "
      "timeout while it was down, %lld while the new one started (%lld ms); writes "
      "resumed after it came back\n",
      static_cast<long long>(MillisBetween(down_at, restart_at)),
      static_cast<long long>(acked_while_down), static_cast<long long>(acked_while_starting),
      static_cast<long long>(MillisBetween(restart_at, up_at)));
  EXPECT_EQ(acked_while_down, 0) << "a leader acknowledged without a live session";
  ExpectAckedExactlyOnce(topic, 0, producer.Records());
  ExpectReplicasConverge(topic, 0);
}

// Item 7 of the cluster issue: with a 3-server ZooKeeper ensemble, killing one server changes
// nothing for clients (the brokers' sessions move to another server and keep their fencing
// window: no failed write, no gap).
TEST_F(FailoverTest, KillingOneZooKeeperOfThreeChangesNothingForClients) {
  ZooKeeperEnsemble ensemble(3);
  ASSERT_TRUE(ensemble.Start());
  ClusterOptions options;
  options.zk_hosts = ensemble.hosts();
  ASSERT_NO_FATAL_FAILURE(StartCluster(options));
  const std::string topic = UniqueName("zk_ensemble");
  auto leaders = CreateTopic(topic, kReplicated);
  ASSERT_EQ(leaders.size(), 1u);
  ProducerOptions po;
  po.topic = topic;
  po.threads = 2;
  po.id_prefix = "e";
  Producer producer(*cluster_, po);
  producer.Start();
  ASSERT_TRUE(producer.WaitForAcks(200, milliseconds(30000)));
  const int64_t failed_before = producer.failed_requests();
  const auto kill_at = Clock::now();
  ensemble.Kill(0);
  ASSERT_TRUE(producer.WaitForMoreAcks(300, milliseconds(30000)));
  const int64_t outage = producer.OutageAround(kill_at);
  const int64_t failed = producer.failed_requests() - failed_before;
  std::printf(
      "[figures] ZooKeeper server 1 of 3 killed: longest write gap %lld ms, %lld "
      "failed requests\n",
      static_cast<long long>(outage), static_cast<long long>(failed));
  EXPECT_EQ(failed, 0);
  EXPECT_LT(outage, 1000);
  producer.Stop();
  ExpectAckedExactlyOnce(topic, 0, producer.Records());
  ExpectReplicasConverge(topic, 0);
}

}  // namespace
}  // namespace zoomq::cluster_testing
