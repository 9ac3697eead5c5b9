// Two or three BrokerServices in one process, replicating through a direct transport (a fake
// network: no sockets). Covers the high watermark waiting for followers, truncation of a
// divergent suffix by epoch (KIP-101), stale-epoch fencing and min_insync_replicas.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <future>
#include <map>

#include "broker/service/broker_service.h"

namespace zoomq::broker {
namespace {

class DirectTransport : public PeerTransport {
 public:
  std::map<std::string, BrokerService*> brokers;
  Result<FetchResponse> Fetch(const std::string& url, const FetchRequest& req) override {
    auto it = brokers.find(url);
    if (it == brokers.end() || it->second == nullptr) return Status::Unavailable("unreachable");
    return it->second->Fetch(req);
  }
  Result<std::pair<int64_t, uint64_t>> EpochEnd(const std::string& url, const std::string& topic,
                                                int32_t partition, int64_t epoch,
                                                bool group_log) override {
    auto it = brokers.find(url);
    if (it == brokers.end() || it->second == nullptr) return Status::Unavailable("unreachable");
    return it->second->EpochEnd(topic, partition, epoch, group_log);
  }
};

class ReplicationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int id = 1; id <= 3; ++id) {
      char tmpl[] = "/tmp/zoomq-repl-XXXXXX";
      dirs_.push_back(mkdtemp(tmpl));
      Open(id);
    }
  }
  void TearDown() override {
    // Stop all first (each waits for its follower threads), then destroy: a follower may
    // be inside its leader's Fetch until then.
    for (auto& s : svc_) {
      if (s) s->Stop();
    }
    for (auto& s : svc_) s.reset();
    for (auto& d : dirs_) std::filesystem::remove_all(d);
  }
  static std::string Url(int id) { return "broker-" + std::to_string(id); }
  void Open(int id) {
    if (svc_.size() < static_cast<size_t>(id)) svc_.resize(id);
    if (svc_[id - 1]) svc_[id - 1]->Stop();
    svc_[id - 1].reset();
    BrokerOptions o;
    o.broker_id = id;
    o.advertised_url = Url(id);
    o.standalone = false;
    auto s = BrokerService::Open(o, dirs_[id - 1], SyncMode::kNormal, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    svc_[id - 1] = std::move(s).value();
    svc_[id - 1]->SetPeerTransport(&net_);
    net_.brokers[Url(id)] = svc_[id - 1].get();
  }
  BrokerService& B(int id) { return *svc_[id - 1]; }
  void EnsureTopic(int min_isr) {
    TopicConfig c;
    c.replication_factor = 3;
    c.min_insync_replicas = min_isr;
    for (int id = 1; id <= 3; ++id) ASSERT_TRUE(B(id).EnsureTopic(7, "t", c, 1).ok());
  }
  Result<std::vector<ProduceResult>> Produce(int id, const std::string& v) {
    ProduceMessage m;
    m.value = v;
    m.bytes = static_cast<uint32_t>(v.size());
    return B(id).Produce("t", {m});
  }
  std::vector<std::string> Log(int id, uint64_t* hwm) {
    auto r = B(id).CommittedLog("t", 0, hwm);
    EXPECT_TRUE(r.ok());
    std::vector<std::string> values;
    for (auto& m : r.value()) values.push_back(m.value);
    return values;
  }
  // Waits (deadline) until broker `id` has a high watermark of at least `n`.
  bool WaitHwm(int id, uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = B(id).Read("t", 0, n > 0 ? n - 1 : 0, 1, 200);  // long-polls on the change
      if (r.ok() && r->high_watermark >= n) return true;
    }
    return false;
  }

  // Starts broker `id`'s ack of `refs` (it leads `epoch` but cannot commit: the caller made
  // another broker leader) and waits until its group log holds the ack. Returns its answer.
  std::future<Result<AckResult>> StaleAck(int id, int64_t epoch, std::vector<MessageRef> refs) {
    auto group_end = [&] { return B(id).EpochEnd("t", 0, epoch, true); };
    auto before = group_end();
    EXPECT_TRUE(before.ok()) << before.status().ToString();
    auto answer = std::async(std::launch::async,
                             [this, id, refs] { return B(id).Ack("t", "g", refs); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto now_end = group_end();
      if (now_end.ok() && before.ok() && now_end->second > before->second) return answer;
      B(id).Read("t", 0, 1 << 20, 1, 5);  // waits for a change of the partition, at most 5 ms
    }
    ADD_FAILURE() << "broker " << id << " never appended the ack";
    return answer;
  }
  // Waits until leader `id` proposes to add a follower to the ISR: the follower holds the
  // leader's log and group log up to their high watermarks.
  bool WaitCaughtUp(int id) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!B(id).ProposedIsrChanges().empty()) return true;
      B(id).Read("t", 0, 1 << 20, 1, 50);  // waits for a change of the partition, at most 50 ms
    }
    return false;
  }

  FakeClock clock_;
  DirectTransport net_;
  std::vector<std::string> dirs_;
  std::vector<std::unique_ptr<BrokerService>> svc_;
};

TEST_F(ReplicationServiceTest, ProduceIsAnsweredOnceFollowersHoldIt) {
  EnsureTopic(2);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2, 3}, {1, 2, 3}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  ASSERT_TRUE(B(3).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  for (int i = 0; i < 20; ++i) {
    auto r = Produce(1, std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  uint64_t h1 = 0;
  auto l1 = Log(1, &h1);
  EXPECT_EQ(h1, 20u);
  for (int id = 2; id <= 3; ++id) {
    ASSERT_TRUE(WaitHwm(id, 20));
    uint64_t h = 0;
    EXPECT_EQ(Log(id, &h), l1);
  }
}

TEST_F(ReplicationServiceTest, NotEnoughReplicasWritesNothing) {
  EnsureTopic(2);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2, 3}, {1}).ok());
  auto r = Produce(1, "1");
  EXPECT_EQ(r.status().code(), Code::kNotEnoughReplicas);
  uint64_t h = 0;
  EXPECT_TRUE(Log(1, &h).empty());
  auto read = B(1).Read("t", 0, 0, 10, 0);
  EXPECT_EQ(read->high_watermark, 0u);
}

TEST_F(ReplicationServiceTest, FollowerRefusesToProduceAndStaleEpochIsFenced) {
  EnsureTopic(1);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 3, {1, 2}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 3, 1, Url(1)).ok());
  EXPECT_EQ(Produce(2, "x").status().code(), Code::kNotLeader);
  FetchRequest req;
  req.topic = "t";
  req.replica = 2;
  req.epoch = 2;  // a deposed leader's epoch
  EXPECT_EQ(B(1).Fetch(req).status().code(), Code::kStaleEpoch);
  EXPECT_EQ(B(1).BecomeLeader("t", 0, 2, {1, 2}, {1, 2}).code(), Code::kStaleEpoch);
}

// The leader keeps its latest entries in memory for fetches (pipelining); older ones come
// from its log. Both answers are the log's entries, and the tail restarts with a new role.
TEST_F(ReplicationServiceTest, FetchServesTheTailFromMemoryAndOlderEntriesFromTheLog) {
  EnsureTopic(2);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2, 3}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  constexpr int kBatches = 12, kPerBatch = 500;  // more than the tail keeps
  for (int b = 0; b < kBatches; ++b) {
    std::vector<ProduceMessage> batch(kPerBatch);
    for (int i = 0; i < kPerBatch; ++i) {
      batch[i].value = std::to_string(b * kPerBatch + i);
      batch[i].bytes = static_cast<uint32_t>(batch[i].value.size());
    }
    ASSERT_TRUE(B(1).Produce("t", std::move(batch)).ok());
  }
  uint64_t h1 = 0;
  auto log = Log(1, &h1);
  ASSERT_EQ(h1, uint64_t{kBatches * kPerBatch});
  // Broker 3 is not in the ISR: its raw fetches do not hold anything back.
  auto fetch = [&](uint64_t offset, size_t max_bytes) {
    FetchRequest req;
    req.topic = "t";
    req.replica = 3;
    req.epoch = 1;
    req.offset = offset;
    req.max_bytes = max_bytes;
    auto r = B(1).Fetch(req);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> values;
    for (uint64_t o = offset; auto& m : r->entries) {
      EXPECT_EQ(m.offset, o++);
      values.push_back(m.value);
    }
    return values;
  };
  for (uint64_t from : {uint64_t{0}, uint64_t{1000}, h1 - 100, h1 - 1}) {
    auto got = fetch(from, 1 << 20);
    ASSERT_FALSE(got.empty()) << from;
    EXPECT_EQ(got, std::vector<std::string>(log.begin() + from, log.begin() + from + got.size()));
  }
  EXPECT_EQ(fetch(h1 - 100, 1).size(), 1u);  // max_bytes still bounds an answer from memory
  EXPECT_TRUE(fetch(h1, 1 << 20).empty());   // nothing past the log end (wait_ms 0)
  // Broker 2 takes over (epoch 2): it serves everything it holds, now from its own log.
  ASSERT_TRUE(WaitHwm(2, h1));
  ASSERT_TRUE(B(2).BecomeLeader("t", 0, 2, {1, 2, 3}, {1, 2}).ok());
  ASSERT_TRUE(B(1).BecomeFollower("t", 0, 2, 2, Url(2)).ok());
  ASSERT_TRUE(Produce(2, "\"after\"").ok());
  ASSERT_TRUE(WaitHwm(1, h1 + 1));
  uint64_t h = 0;
  auto l1 = Log(1, &h);
  EXPECT_EQ(l1, Log(2, &h));
  EXPECT_EQ(l1.back(), "\"after\"");
}

TEST_F(ReplicationServiceTest, ReturningLeaderTruncatesItsUncommittedSuffix) {
  EnsureTopic(1);
  // Epoch 1: broker 1 leads, 2 follows; "a" and "b" reach both.
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  ASSERT_TRUE(Produce(1, "\"a\"").ok());
  ASSERT_TRUE(Produce(1, "\"b\"").ok());
  ASSERT_TRUE(WaitHwm(2, 2));
  // Broker 2 is cut off; broker 1 (ISR shrunk to itself) writes "c" and "d" alone.
  net_.brokers[Url(1)] = nullptr;
  B(1).OnIsrCommitted("t", 0, 1, {1});
  net_.brokers[Url(1)] = &B(1);
  ASSERT_TRUE(B(2).BecomeLeader("t", 0, 2, {1, 2}, {2}).ok());  // 2 takes over first
  ASSERT_TRUE(Produce(1, "\"c\"").ok());  // 1 still thinks it leads epoch 1
  ASSERT_TRUE(Produce(1, "\"d\"").ok());
  // Epoch 2: broker 2 leads and writes "e"; broker 1 returns as its follower.
  ASSERT_TRUE(Produce(2, "\"e\"").ok());
  ASSERT_TRUE(B(1).BecomeFollower("t", 0, 2, 2, Url(2)).ok());
  B(2).OnIsrCommitted("t", 0, 2, {1, 2});
  ASSERT_TRUE(Produce(2, "\"f\"").ok());
  ASSERT_TRUE(WaitHwm(1, 4));
  uint64_t h1 = 0, h2 = 0;
  auto l2 = Log(2, &h2);
  EXPECT_EQ(l2, (std::vector<std::string>{"\"a\"", "\"b\"", "\"e\"", "\"f\""}));
  EXPECT_EQ(Log(1, &h1), l2);  // "c" and "d" are gone from broker 1
}

TEST_F(ReplicationServiceTest, RestartedFollowerCatchesUpFromItsLog) {
  EnsureTopic(1);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Produce(1, std::to_string(i)).ok());
  ASSERT_TRUE(WaitHwm(2, 5));
  net_.brokers[Url(2)] = nullptr;
  svc_[1]->Stop();  // broker 2 stops
  svc_[1].reset();
  B(1).OnIsrCommitted("t", 0, 1, {1});
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(Produce(1, std::to_string(i)).ok());
  Open(2);
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  ASSERT_TRUE(WaitHwm(2, 10));
  uint64_t h1 = 0, h2 = 0;
  EXPECT_EQ(Log(2, &h2), Log(1, &h1));
  // Caught up: the leader proposes it back into the ISR (once the follower's next fetch
  // has told the leader where it is).
  std::vector<BrokerService::IsrChange> changes;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (changes.empty() && std::chrono::steady_clock::now() < deadline) {
    B(1).Read("t", 0, 10, 1, 50);  // waits for a change of the partition, at most 50 ms
    changes = B(1).ProposedIsrChanges();
  }
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].isr, (std::vector<int32_t>{1, 2}));
}

TEST_F(ReplicationServiceTest, AcksSurviveAFailover) {
  EnsureTopic(2);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Produce(1, std::to_string(i)).ok());
  auto got = B(1).Pull("t", "g", "c1", 6, 0, std::nullopt);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 6u);
  std::vector<MessageRef> acks;
  for (int i : {0, 1, 2, 4}) {
    const auto& m = (*got)[i].message;
    acks.push_back({m.partition, m.offset, std::to_string(m.partition) + "-" +
                                               std::to_string(m.offset)});
  }
  auto acked = B(1).Ack("t", "g", acks);  // answered once broker 2 holds the acks
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  EXPECT_EQ(acked->applied, 4);
  // Broker 1 dies; broker 2 takes over with what it replicated.
  net_.brokers[Url(1)] = nullptr;
  B(1).Stop();
  ASSERT_TRUE(B(2).BecomeLeader("t", 0, 2, {1, 2}, {2}).ok());
  auto again = B(2).Pull("t", "g", "c2", 10, 0, std::nullopt);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  std::vector<uint64_t> offsets;
  for (auto& m : *again) offsets.push_back(m.message.offset);
  EXPECT_EQ(offsets, (std::vector<uint64_t>{3, 5}));  // never the acked ones
}

// Chaos seed 917318 (acked, then redelivered): a deposed leader that does not know it yet
// acks offset 0, so its group floor jumps past 1..3 (acked before) and its tables forget their
// rows; the new leader's log holds a lower floor. Once the old leader has cut that entry and
// applied the new leader's log, its tables must still count 1..3 (and the new leader's ack of
// 4) as done: a floor in the tables only moves up.
TEST_F(ReplicationServiceTest, TruncatedGroupLogEntryDoesNotUndoCommittedAcks) {
  EnsureTopic(1);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(Produce(1, std::to_string(i)).ok());
  auto refs = [](std::initializer_list<uint64_t> offsets) {
    std::vector<MessageRef> out;
    for (uint64_t o : offsets) out.push_back({0, o, "0-" + std::to_string(o)});
    return out;
  };
  auto got = B(1).Pull("t", "g", "c1", 6, 0, std::nullopt);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 6u);
  auto acked = B(1).Ack("t", "g", refs({1, 2, 3}));  // broker 2 holds these acks
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  ASSERT_EQ(acked->applied, 3);
  // Broker 2 takes over; broker 1 does not know yet and acks 0 alone (never committed).
  ASSERT_TRUE(B(2).BecomeLeader("t", 0, 2, {1, 2}, {2}).ok());
  auto stale = StaleAck(1, 1, refs({0}));
  ASSERT_FALSE(::testing::Test::HasFailure());
  // Broker 2 leases 0 and 4 and acks 4: its floor stays at 0.
  auto got2 = B(2).Pull("t", "g", "c2", 2, 0, std::nullopt);
  ASSERT_TRUE(got2.ok()) << got2.status().ToString();
  ASSERT_EQ(got2->size(), 2u);
  ASSERT_EQ((*got2)[1].message.offset, 4u);
  auto acked2 = B(2).Ack("t", "g", refs({4}));
  ASSERT_TRUE(acked2.ok()) << acked2.status().ToString();
  ASSERT_EQ(acked2->applied, 1);
  // Broker 1 follows epoch 2: its ack of 0 is not confirmed, its entry is cut.
  ASSERT_TRUE(B(1).BecomeFollower("t", 0, 2, 2, Url(2)).ok());
  auto s = stale.get();
  EXPECT_FALSE(s.ok()) << "an ack the in-sync replicas never held was confirmed";
  ASSERT_TRUE(WaitCaughtUp(2)) << "broker 1 never caught up with broker 2";
  // Broker 1 leads epoch 3 from its own tables.
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 3, {1, 2}, {1}).ok());
  auto again = B(1).Pull("t", "g", "c3", 10, 0, std::nullopt);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  std::vector<uint64_t> offsets;
  for (auto& m : *again) offsets.push_back(m.message.offset);
  for (uint64_t done : {1, 2, 3, 4}) {
    EXPECT_EQ(std::count(offsets.begin(), offsets.end(), done), 0)
        << "offset " << done << " was acked and confirmed, yet delivered again";
  }
  EXPECT_EQ(std::count(offsets.begin(), offsets.end(), 5u), 1) << "never delivered: 5";
}

// Chaos seed 840217 (per-key order in the group): a leader's ack that never committed was
// applied to its group tables and stayed there after its entry was cut, so when that broker
// led again it delivered the next message of the key while every other replica still held
// the first one pending. A broker's group tables hold only committed entries.
TEST_F(ReplicationServiceTest, AnAckThatNeverCommittedIsNotInTheTablesOfTheReplicaThatCutIt) {
  EnsureTopic(1);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2}, {1, 2}).ok());
  ASSERT_TRUE(B(2).BecomeFollower("t", 0, 1, 1, Url(1)).ok());
  for (int i = 0; i < 3; ++i) {
    ProduceMessage m;
    m.key = "k";  // one key: the group delivers 1 only once 0 is done, 2 once 1 is
    m.value = std::to_string(i);
    m.bytes = static_cast<uint32_t>(m.value.size() + 1);
    ASSERT_TRUE(B(1).Produce("t", {m}).ok());
  }
  auto ref = [](uint64_t o) {
    return std::vector<MessageRef>{{0, o, "0-" + std::to_string(o)}};
  };
  auto first = B(1).Pull("t", "g", "c1", 10, 0, std::nullopt);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);
  ASSERT_TRUE(B(1).Ack("t", "g", ref(0)).ok());  // committed: broker 2 holds it
  auto second = B(1).Pull("t", "g", "c1", 10, 0, std::nullopt);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  ASSERT_EQ((*second)[0].message.offset, 1u);
  // Broker 2 takes over; broker 1 does not know yet and acks 1 alone (never committed).
  ASSERT_TRUE(B(2).BecomeLeader("t", 0, 2, {1, 2}, {2}).ok());
  auto stale = StaleAck(1, 1, ref(1));
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_TRUE(B(1).BecomeFollower("t", 0, 2, 2, Url(2)).ok());
  EXPECT_FALSE(stale.get().ok()) << "an ack the in-sync replicas never held was confirmed";
  ASSERT_TRUE(WaitCaughtUp(2)) << "broker 1 never caught up with broker 2";
  // Broker 1 leads again: like broker 2, it holds 1 pending, so 1 comes before 2.
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 3, {1, 2}, {1}).ok());
  auto again = B(1).Pull("t", "g", "c2", 10, 0, std::nullopt);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].message.offset, 1u)
      << "broker 1 counted its cut ack of 1 and delivered the next message of the key";
}

TEST_F(ReplicationServiceTest, WriteCommittedByAnIsrBelowMinIsrIsNotAcknowledged) {
  // Kafka's NOT_ENOUGH_REPLICAS_AFTER_APPEND (found by the simulation): the ISR shrinks to
  // the leader alone after the append, so the high watermark passes the write with one copy.
  EnsureTopic(2);
  ASSERT_TRUE(B(1).BecomeLeader("t", 0, 1, {1, 2}, {1, 2}).ok());  // 2 never fetches
  auto produced = std::async(std::launch::async, [&] { return Produce(1, "v"); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  uint64_t log_end = 0;
  while (log_end == 0 && std::chrono::steady_clock::now() < deadline) {
    auto info = B(1).DescribeTopic("t");
    ASSERT_TRUE(info.ok());
    log_end = info->partitions[0].log_end_offset;
    if (log_end == 0) B(1).Read("t", 0, 0, 1, 20);  // waits for a change, at most 20 ms
  }
  ASSERT_EQ(log_end, 1u);
  B(1).OnIsrCommitted("t", 0, 1, {1});
  auto r = produced.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();  // maybe written
  // A retry is refused before writing anything while the ISR is too small.
  auto again = Produce(1, "w");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kNotEnoughReplicas);
}

}  // namespace
}  // namespace zoomq::broker
