// Regression test for issue 10 (chaos seed 97312, ../shared/findings/chaos-seed-97312/): a
// leader whose followers copied an entry from its memory is killed before its own commit of
// that entry and restarted inside its old ZooKeeper session. Before the fix it led the same
// epoch again from a shorter log: its next entry took the lost entry's offset under the same
// epoch, invisible to epoch truncation, so replicas diverged below the high watermark and an
// acknowledged write was lost at the next failover. docs/GUARANTEES.md promises 1 and 2, and
// "an epoch must never be led twice". Real ZooKeeper, three real brokers, kill -9, and the
// broker's --fault-hold-commits-while hook to lose exactly the copied entry.

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "cluster_harness.h"

namespace zoomq::cluster_testing {
namespace {

using zoomq::testing::UniqueName;

// Long enough to restart a killed broker well inside its old session (ZooKeeper's tickTime
// of 500 ms allows up to 10 s).
constexpr int kSessionMs = 6000;
const Json kReplicated = {{"partitions", 1}, {"replication_factor", 3}, {"min_insync_replicas", 2}};

// The entry at `offset` of a GET /internal/v1/log answer, nullptr if it has none.
const Json* EntryAt(const Json& log, int64_t offset) {
  if (!log.contains("entries") || !log["entries"].is_array()) return nullptr;
  for (const Json& e : log["entries"]) {
    if (e.value("offset", int64_t{-1}) == offset) return &e;
  }
  return nullptr;
}

int CountId(const Json& log, const std::string& id) {
  if (!log.contains("entries") || !log["entries"].is_array()) return 0;
  int n = 0;
  for (const Json& e : log["entries"]) n += e.value("id", "") == id ? 1 : 0;
  return n;
}

// "offset:e<epoch>:<id>" for the entries of a replica log from `from` on.
std::string DescribeFrom(const Json& log, int64_t from) {
  std::string s;
  if (log.contains("entries") && log["entries"].is_array()) {
    for (const Json& e : log["entries"]) {
      const int64_t off = e.value("offset", int64_t{-1});
      if (off < from) continue;
      s += " " + std::to_string(off) + ":e" + std::to_string(e.value("epoch", int64_t{-1})) + ":" +
           e.value("id", "?");
    }
  }
  return "hwm " + std::to_string(log.value("high_watermark", int64_t{-1})) + "," +
         (s.empty() ? " no entries" : s);
}

// Every replica's log (up to its high watermark) from `from` on, one line each.
void PrintReplicaLogs(Cluster& cluster, const std::string& topic, int64_t from, const char* when) {
  for (int id : cluster.LiveIds()) {
    auto log = cluster.ReplicaLog(id, topic, 0);
    std::printf("[figures] %s: broker %d replica log from offset %lld: %s\n", when, id,
                static_cast<long long>(from), log ? DescribeFrom(*log, from).c_str() : "no answer");
  }
}

// A temp dir removed at scope exit (declared before the Cluster: it outlives the brokers).
struct TempDir {
  std::string path = MakeTempDir("zoomq-epoch-reuse");
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

TEST(EpochReuseTest, LeaderRestartedInsideItsSessionDoesNotReuseItsEpoch) {
  const auto test_start = Clock::now();
  const TempDir dir;
  const std::string& holds = dir.path;
  ASSERT_FALSE(holds.empty());
  auto hold_file = [&](int id) { return holds + "/hold-commits-" + std::to_string(id); };
  ClusterOptions options;
  options.session_ms = kSessionMs;
  // Each broker gets its own hold file: only the leader's commits are held.
  for (int id = 1; id <= options.brokers; ++id) {
    options.broker_args[id] = {"--fault-hold-commits-while", hold_file(id)};
  }
  Cluster cluster(options);
  ASSERT_TRUE(cluster.Start());
  const std::string topic = UniqueName("epoch_reuse");
  ASSERT_TRUE(cluster.CreateTopic(topic, kReplicated));

  // 1. A few acknowledged writes.
  ProducerOptions po;
  po.topic = topic;
  po.threads = 1;
  po.messages_per_thread = 5;
  po.id_prefix = "before";
  Producer before(cluster, po);
  before.Start();
  ASSERT_TRUE(before.WaitDone(milliseconds(30000)));
  ASSERT_EQ(before.acked(), 5);

  auto led = cluster.WaitForLeader(topic, 0, milliseconds(10000));
  ASSERT_TRUE(led.has_value());
  const int old_leader = led->leader;
  const int64_t old_epoch = led->epoch;
  std::vector<int> followers;
  for (int r : led->replicas) {
    if (r != old_leader) followers.push_back(r);
  }
  ASSERT_EQ(followers.size(), 2u);
  auto own = cluster.Partition(topic, 0, {old_leader});
  ASSERT_TRUE(own.has_value());
  const int64_t a_offset = own->log_end_offset;  // where message A goes
  ASSERT_EQ(own->high_watermark, a_offset) << "writes still pending before the fault";
  std::printf("[figures] leader %d at epoch %lld (controller %d), log end %lld\n", old_leader,
              static_cast<long long>(old_epoch), cluster.Controller(),
              static_cast<long long>(a_offset));

  // 2. The leader's commits hang; message A goes to it. Its followers copy A from the
  // leader's memory (pipelined replication) and commit it; the leader never does.
  ASSERT_TRUE(std::ofstream(hold_file(old_leader)).good());
  ProducerOptions ao;
  ao.topic = topic;
  ao.threads = 1;
  ao.messages_per_thread = 1;
  ao.id_prefix = "A";
  ao.pinned_broker = old_leader;
  ao.max_attempts = 1;  // never retried: A is "maybe written"
  ao.read_timeout = milliseconds(60000);
  Producer a(cluster, ao);
  a.Start();
  const std::string a_id = "A-0-0";  // Producer ids are <prefix>-<thread>-<seq>
  std::string last;
  const bool copied = WaitFor(
      [&] {
        last.clear();
        bool all = true;
        for (int f : followers) {
          auto v = cluster.Partition(topic, 0, {f});
          last += " broker " + std::to_string(f) + " log end " +
                  std::to_string(v ? v->log_end_offset : -1);
          all = all && v && v->log_end_offset > a_offset;
        }
        return all;
      },
      milliseconds(15000), milliseconds(10));
  ASSERT_TRUE(copied) << "the followers did not copy A (offset " << a_offset
                      << ") from the leader's memory:" << last;
  ASSERT_EQ(a.acked(), 0) << "A was acknowledged although broker " << old_leader
                          << "'s commits were held: the fault hook did not hold";

  // 3. kill -9 of the leader before its commit of A, and an immediate restart on the same
  // port and data dir, inside its old ZooKeeper session: nobody moved its leadership.
  const auto kill_at = Clock::now();
  cluster.Kill(old_leader);
  std::filesystem::remove(hold_file(old_leader));
  ASSERT_TRUE(cluster.Restart(old_leader));
  const int64_t restart_ms = MillisBetween(kill_at, Clock::now());
  std::printf("[figures] broker %d killed and serving again after %lld ms (session %d ms)\n",
              old_leader, static_cast<long long>(restart_ms), kSessionMs);
  ASSERT_LT(restart_ms, kSessionMs - 1000)
      << "not restarted inside the old session: the scenario of issue 10 was not reached";
  ASSERT_TRUE(a.WaitDone(milliseconds(10000)));
  a.Stop();
  ASSERT_EQ(a.acked(), 0);

  // 4. Message B, sent like a client: to the leader it finds, retried until answered 200.
  ProducerOptions bo;
  bo.topic = topic;
  bo.threads = 1;
  bo.messages_per_thread = 1;
  bo.id_prefix = "B";
  Producer b(cluster, bo);
  b.Start();
  ASSERT_TRUE(b.WaitDone(milliseconds(30000))) << "B not acknowledged within 30 s";
  const auto b_acked = b.AckedRecords();
  ASSERT_EQ(b_acked.size(), 1u);
  const SendRecord b_rec = b_acked[0];
  std::printf(
      "[figures] B (%s) acknowledged %lld ms after the kill by broker %d at offset "
      "%lld after %zu failed attempt(s)\n",
      b_rec.id.c_str(), static_cast<long long>(MillisBetween(kill_at, b_rec.acked_at)),
      b_rec.acked_by, static_cast<long long>(b_rec.offset), b_rec.failures.size());

  // (1) No epoch led twice: B was written in an epoch after the one led before the kill.
  auto now_led = cluster.WaitForLeader(topic, 0, milliseconds(10000));
  ASSERT_TRUE(now_led.has_value());
  EXPECT_GT(now_led->epoch, old_epoch)
      << "broker " << now_led->leader << " leads epoch " << now_led->epoch << ", the epoch broker "
      << old_leader << " led before its restart";
  auto acker_log = cluster.ReplicaLog(b_rec.acked_by, topic, 0);
  ASSERT_TRUE(acker_log.has_value());
  const Json* b_entry = EntryAt(*acker_log, b_rec.offset);
  ASSERT_NE(b_entry, nullptr) << "broker " << b_rec.acked_by << " acked B at offset "
                              << b_rec.offset
                              << " but its log lacks it: " << DescribeFrom(*acker_log, a_offset);
  EXPECT_EQ(b_entry->value("id", ""), b_rec.id);
  EXPECT_GT(b_entry->value("epoch", int64_t{-1}), old_epoch)
      << "B was written in epoch " << old_epoch << " again, by the restarted broker " << old_leader;

  // (2) Replicas agree entry by entry up to the high watermark.
  ReplicaReport report;
  EXPECT_TRUE(cluster.WaitReplicasConverged(topic, 0, milliseconds(15000), &report));
  std::printf("[figures] replicas after B: %s\n", report.Summary().c_str());
  PrintReplicaLogs(cluster, topic, a_offset, "after B");

  // (3) B is at its acknowledged offset in every replica; A is at most once in any.
  for (int id : cluster.ids()) {
    auto log = cluster.ReplicaLog(id, topic, 0);
    ASSERT_TRUE(log.has_value()) << "broker " << id << ": no /internal/v1/log answer";
    const Json* e = EntryAt(*log, b_rec.offset);
    EXPECT_TRUE(e != nullptr && e->value("id", "") == b_rec.id)
        << "broker " << id << " lacks B (" << b_rec.id << ") at its acked offset " << b_rec.offset
        << ": " << DescribeFrom(*log, a_offset);
    EXPECT_EQ(CountId(*log, b_rec.id), 1)
        << "broker " << id << ": " << DescribeFrom(*log, a_offset);
    EXPECT_LE(CountId(*log, a_id), 1) << "broker " << id << ": " << DescribeFrom(*log, a_offset);
  }

  // (4) kill -9 of whoever leads now: the next leader still has B at its acked offset.
  const int victim = now_led->leader;
  cluster.Kill(victim);
  auto next = cluster.WaitForLeader(topic, 0, milliseconds(kSessionMs + 15000),
                                    [&](const PartitionView& v) { return v.leader != victim; });
  ASSERT_TRUE(next.has_value()) << "no new leader after kill -9 of broker " << victim;
  std::printf("[figures] kill -9 of leader %d: broker %d leads epoch %lld\n", victim, next->leader,
              static_cast<long long>(next->epoch));
  std::optional<Json> next_log;
  WaitFor(
      [&] {
        next_log = cluster.ReplicaLog(next->leader, topic, 0);
        return next_log && next_log->value("high_watermark", int64_t{-1}) > b_rec.offset;
      },
      milliseconds(10000), milliseconds(50));
  ASSERT_TRUE(next_log.has_value());
  const Json* kept = EntryAt(*next_log, b_rec.offset);
  EXPECT_TRUE(kept != nullptr && kept->value("id", "") == b_rec.id)
      << "LOST: B (" << b_rec.id << ", acked at offset " << b_rec.offset << " by broker "
      << b_rec.acked_by << ") is not there in the log of the next leader " << next->leader
      << " (epoch " << next->epoch << "): " << DescribeFrom(*next_log, a_offset);
  std::vector<SendRecord> acked = before.Records();
  acked.push_back(b_rec);
  EXPECT_TRUE(AckedExactlyOnce(acked, cluster.ReadPartition(next->leader, topic, 0)));

  // The killed broker comes back and every replica agrees again.
  ASSERT_TRUE(cluster.Restart(victim));
  EXPECT_TRUE(cluster.WaitReplicasConverged(topic, 0, milliseconds(20000), &report));
  std::printf("[figures] replicas at the end: %s\n", report.Summary().c_str());
  PrintReplicaLogs(cluster, topic, a_offset, "at the end");
  std::printf("[figures] epoch reuse test took %lld ms\n",
              static_cast<long long>(MillisBetween(test_start, Clock::now())));
}

}  // namespace
}  // namespace zoomq::cluster_testing
