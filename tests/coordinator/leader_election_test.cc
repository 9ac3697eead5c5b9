// LeaderElection against a real ZooKeeper server: one leader among three, failover on close,
// Resign, strictly increasing epochs, rejoin after expiry, stepping down while disconnected.
#include "zoomq/coordinator/leader_election.h"

#include <gtest/gtest.h>

#include <memory>

#include "coordinator_test.h"

namespace zoomq::coordinator {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;
using testing::WaitFor;
using testing::ZkTestServer;

// What one candidate's callbacks saw: +epoch for elected, -1 for deposed.
struct Candidate {
  ZkSession* session = nullptr;
  std::string name;
  EventLog<int64_t> log;
  std::unique_ptr<LeaderElection> election;
};

class LeaderElectionTest : public testing::CoordinatorTest {
 protected:
  // Shared by all candidates of a test, in the order the callbacks ran.
  EventLog<std::pair<std::string, int64_t>> all_elections_;

  std::unique_ptr<Candidate> NewCandidate(const std::string& name, int session_timeout_ms = 2000) {
    auto c = std::make_unique<Candidate>();
    c->name = name;
    c->session = Connect(session_timeout_ms);
    if (c->session == nullptr) return nullptr;
    LeaderElectionOptions options;
    options.candidate_data = name;
    Candidate* raw = c.get();
    LeaderElection::Callbacks callbacks;
    callbacks.on_elected = [this, raw](int64_t epoch) {
      raw->log.Add(epoch);
      all_elections_.Add({raw->name, epoch});
    };
    callbacks.on_deposed = [raw] { raw->log.Add(-1); };
    c->election = std::make_unique<LeaderElection>(c->session, options, callbacks);
    Status st = c->election->Start(5000);
    if (!st.ok()) {
      ADD_FAILURE() << st.ToString();
      return nullptr;
    }
    return c;
  }

  static std::vector<Candidate*> Leaders(const std::vector<Candidate*>& cs) {
    std::vector<Candidate*> out;
    for (auto* c : cs) {
      if (c->election->IsLeader()) out.push_back(c);
    }
    return out;
  }

  // Waits until exactly one of `cs` leads; returns it (nullptr on timeout).
  static Candidate* WaitForOneLeader(const std::vector<Candidate*>& cs,
                                     milliseconds timeout = milliseconds(5000)) {
    Candidate* leader = nullptr;
    WaitFor(
        [&] {
          auto l = Leaders(cs);
          leader = l.size() == 1 ? l[0] : nullptr;
          return leader != nullptr;
        },
        timeout);
    return leader;
  }
};

TEST_F(LeaderElectionTest, ExactlyOneLeaderAmongThree) {
  auto a = NewCandidate("a");
  auto b = NewCandidate("b");
  auto c = NewCandidate("c");
  ASSERT_TRUE(a && b && c);
  std::vector<Candidate*> all = {a.get(), b.get(), c.get()};
  Candidate* leader = WaitForOneLeader(all);
  ASSERT_NE(leader, nullptr);
  // The first to join holds the lowest node.
  EXPECT_EQ(leader, a.get());
  EXPECT_EQ(a->election->epoch(), 1);
  EXPECT_EQ(a->log.Snapshot(), std::vector<int64_t>{1});
  auto data = b->election->LeaderData();
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, "a");
  // Nodes carry the session tag and sort by sequence.
  EXPECT_EQ(a->election->node().rfind("n_" + SessionTag(a->session->session_id()), 0), 0u);
  EXPECT_LT(SequenceOf(a->election->node()), SequenceOf(b->election->node()));
  EXPECT_LT(SequenceOf(b->election->node()), SequenceOf(c->election->node()));
  // The others were never elected.
  b->session->RunOnCoordinator([] {});
  c->session->RunOnCoordinator([] {});
  EXPECT_EQ(b->log.size(), 0u);
  EXPECT_EQ(c->log.size(), 0u);
  EXPECT_EQ(Leaders(all).size(), 1u);
}

TEST_F(LeaderElectionTest, ClosingTheLeaderElectsTheNextWithinADeadline) {
  auto a = NewCandidate("a");
  auto b = NewCandidate("b");
  auto c = NewCandidate("c");
  ASSERT_TRUE(a && b && c);
  ASSERT_EQ(WaitForOneLeader({a.get(), b.get(), c.get()}), a.get());
  const int64_t first_epoch = a->election->epoch();

  const TimeMs t0 = ZkSession::MonotonicNowMs();
  a->session->Stop();  // like a crash whose session is closed at once (zookeeper_close)
  Candidate* next = WaitForOneLeader({b.get(), c.get()}, milliseconds(2000));
  const TimeMs failover_ms = ZkSession::MonotonicNowMs() - t0;
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next, b.get());  // the successor in line
  EXPECT_LT(failover_ms, 1000);
  RecordProperty("failover_ms", static_cast<int>(failover_ms));
  EXPECT_GT(b->election->epoch(), first_epoch);
  // The closed candidate was told to stop leading.
  EXPECT_EQ(a->log.Snapshot(), (std::vector<int64_t>{first_epoch, -1}));
  EXPECT_FALSE(a->election->IsLeader());
}

TEST_F(LeaderElectionTest, ResignHandsOverAndRejoinsAtTheBack) {
  auto a = NewCandidate("a");
  auto b = NewCandidate("b");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(WaitForOneLeader({a.get(), b.get()}), a.get());
  const std::string old_node = a->election->node();

  const TimeMs t0 = ZkSession::MonotonicNowMs();
  a->election->Resign();
  // Resign deposed before deleting: a never led at the same time as b.
  EXPECT_FALSE(a->election->IsLeader());
  ASSERT_TRUE(WaitFor([&] { return b->election->IsLeader(); }, milliseconds(2000)));
  EXPECT_LT(ZkSession::MonotonicNowMs() - t0, 1000);
  EXPECT_EQ(b->election->epoch(), a->election->epoch() + 1);
  EXPECT_EQ(a->log.Snapshot(), (std::vector<int64_t>{1, -1}));
  // a is a candidate again, behind b.
  EXPECT_NE(a->election->node(), old_node);
  EXPECT_GT(SequenceOf(a->election->node()), SequenceOf(b->election->node()));
  EXPECT_EQ(a->election->LeaderData().value(), "b");
}

TEST_F(LeaderElectionTest, EpochsStrictlyIncreaseAcrossLeaders) {
  auto a = NewCandidate("a");
  auto b = NewCandidate("b");
  auto c = NewCandidate("c");
  ASSERT_TRUE(a && b && c);
  std::vector<Candidate*> all = {a.get(), b.get(), c.get()};
  for (int round = 0; round < 6; ++round) {
    Candidate* leader = WaitForOneLeader(all);
    ASSERT_NE(leader, nullptr) << "round " << round;
    leader->election->Resign();
  }
  ASSERT_NE(WaitForOneLeader(all), nullptr);
  auto elections = all_elections_.Snapshot();
  ASSERT_EQ(elections.size(), 7u);
  for (size_t i = 1; i < elections.size(); ++i) {
    EXPECT_GT(elections[i].second, elections[i - 1].second);
    EXPECT_NE(elections[i].first, elections[i - 1].first);  // handed over each time
  }
  // The counter in ZooKeeper matches the last epoch.
  EXPECT_EQ(a->session->Get(znodes::kControllerEpoch)->data,
            std::to_string(elections.back().second));
}

TEST_F(LeaderElectionTest, RejoinsAndLeadsAgainAfterExpiry) {
  auto a = NewCandidate("a");
  auto b = NewCandidate("b");
  ASSERT_TRUE(a && b);
  ASSERT_EQ(WaitForOneLeader({a.get(), b.get()}), a.get());
  const int64_t old_session = a->session->session_id();

  {
    Status expired = a->session->ExpireSessionForTesting();
    ASSERT_TRUE(expired.ok()) << expired.ToString();
  }
  // a is deposed; b takes over; a joins again with its new session, behind b.
  ASSERT_TRUE(WaitFor([&] { return b->election->IsLeader(); }, milliseconds(10000)));
  ASSERT_TRUE(a->log.WaitUntil([](const auto& v) { return v.size() >= 2 && v[1] == -1; },
                               milliseconds(5000)));
  ASSERT_TRUE(WaitFor(
      [&] {
        int64_t sid = a->session->session_id();
        return sid != 0 && sid != old_session &&
               a->election->node().rfind("n_" + SessionTag(sid), 0) == 0;
      },
      milliseconds(10000)));
  EXPECT_FALSE(a->election->IsLeader());
  EXPECT_GT(b->election->epoch(), 1);

  // When b goes, the re-registered a leads again (its predecessor watch is live).
  b->session->Stop();
  ASSERT_TRUE(WaitFor([&] { return a->election->IsLeader(); }, milliseconds(2000)));
  EXPECT_GT(a->election->epoch(), b->election->epoch());
}

TEST_F(LeaderElectionTest, RestartedCandidateReclaimsItsStaleNode) {
  auto old_incarnation = NewCandidate("a", 10000);  // its session would linger for 10 s
  ASSERT_TRUE(old_incarnation);
  ASSERT_TRUE(WaitFor([&] { return old_incarnation->election->IsLeader(); }, milliseconds(5000)));

  const TimeMs t0 = ZkSession::MonotonicNowMs();
  auto restarted = NewCandidate("a");  // same candidate data, new session
  ASSERT_TRUE(restarted);
  ASSERT_TRUE(WaitFor([&] { return restarted->election->IsLeader(); }, milliseconds(2000)));
  EXPECT_LT(ZkSession::MonotonicNowMs() - t0, 1000);
  EXPECT_EQ(restarted->election->epoch(), 2);
  // Were the old process still alive, it notices, steps down and queues up behind.
  ASSERT_TRUE(WaitFor([&] { return !old_incarnation->election->IsLeader(); }, milliseconds(2000)));
  ASSERT_TRUE(
      WaitFor([&] { return !old_incarnation->election->node().empty(); }, milliseconds(2000)));
  old_incarnation->session->RunOnCoordinator([] {});
  EXPECT_GT(SequenceOf(old_incarnation->election->node()), SequenceOf(restarted->election->node()));
  EXPECT_TRUE(restarted->election->IsLeader());
  EXPECT_EQ(old_incarnation->log.Snapshot(), (std::vector<int64_t>{1, -1}));
}

// The server pauses (SIGSTOP): the leader's client goes to CONNECTING, and the leader must
// step down at once; it leads again, with a new epoch, when the same session reconnects.
TEST_F(LeaderElectionTest, LeaderStepsDownWhileDisconnected) {
  auto a = NewCandidate("a", 4000);
  ASSERT_TRUE(a);
  ASSERT_TRUE(WaitFor([&] { return a->election->IsLeader(); }, milliseconds(5000)));
  ASSERT_TRUE(WaitFor([&] { return a->session->IsSafeToAct(); }, milliseconds(2000)));
  const int64_t session = a->session->session_id();

  ZkTestServer::Get().Pause();
  ASSERT_TRUE(a->log.WaitUntil([](const auto& v) { return v.size() == 2; }, milliseconds(5000)));
  EXPECT_EQ(a->log.Snapshot()[1], -1);
  EXPECT_FALSE(a->election->IsLeader());
  EXPECT_FALSE(a->session->IsSafeToAct());
  ZkTestServer::Get().Resume();

  ASSERT_TRUE(a->log.WaitUntil([](const auto& v) { return v.size() == 3; }, milliseconds(5000)));
  EXPECT_EQ(a->log.Snapshot()[2], 2);  // a new, higher epoch
  EXPECT_TRUE(a->election->IsLeader());
  EXPECT_EQ(a->session->session_id(), session);  // the same session survived
}

}  // namespace
}  // namespace zoomq::coordinator
