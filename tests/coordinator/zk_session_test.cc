// ZkSession against a real ZooKeeper server: connection, operations and their error mapping,
// ephemerals, watches, multi, expiry with automatic new session, suspension.
#include "zoomq/coordinator/zk_session.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "coordinator_test.h"
#include "zoomq/coordinator/zk_status.h"

namespace zoomq::coordinator {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;
using testing::WaitFor;
using testing::ZkTestServer;

// --- pure helpers -----------------------------------------------------------------------------

TEST(ZkStatusTest, ErrorsRoundTripThroughStatus) {
  for (ZkError e : {ZkError::kNoNode, ZkError::kNodeExists, ZkError::kBadVersion,
                    ZkError::kNotEmpty, ZkError::kConnectionLoss, ZkError::kOperationTimeout,
                    ZkError::kSessionExpired, ZkError::kClosing, ZkError::kOther}) {
    Status st = MakeZkStatus(e, "op /a/b");
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(ZkErrorOf(st), e) << st.ToString();
    EXPECT_EQ(st.code(), ZkErrorCode(e));
  }
  EXPECT_TRUE(MakeZkStatus(ZkError::kOk, "x").ok());
  EXPECT_EQ(ZkErrorOf(Status::Ok()), ZkError::kOk);
  EXPECT_EQ(MakeZkStatus(ZkError::kNoNode, "get /a").message(), "ZNONODE: get /a");
  EXPECT_EQ(MakeZkStatus(ZkError::kNoNode, "x").code(), Code::kNotFound);
  EXPECT_EQ(MakeZkStatus(ZkError::kConnectionLoss, "x").code(), Code::kUnavailable);
}

TEST(ZkStatusTest, ForeignStatusIsNotMistakenForZooKeeper) {
  EXPECT_EQ(ZkErrorOf(Status::NotFound("no such topic")), ZkError::kOther);
  // Right prefix, wrong code: not ours.
  EXPECT_EQ(ZkErrorOf(Status::Internal("ZNONODE: fake")), ZkError::kOther);
  EXPECT_EQ(ZkErrorOf(Status::NotFound("ZNONODEX: fake")), ZkError::kOther);
}

TEST(ZkStatusTest, OnlyConnectionTroubleIsRetriable) {
  EXPECT_TRUE(IsRetriable(MakeZkStatus(ZkError::kConnectionLoss, "")));
  EXPECT_TRUE(IsRetriable(MakeZkStatus(ZkError::kOperationTimeout, "")));
  EXPECT_FALSE(IsRetriable(MakeZkStatus(ZkError::kSessionExpired, "")));
  EXPECT_FALSE(IsRetriable(MakeZkStatus(ZkError::kBadVersion, "")));
  EXPECT_FALSE(IsRetriable(Status::Unavailable("other")));
}

TEST(ZkPathTest, Helpers) {
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("/a/b", "c"), "/a/b/c");
  EXPECT_EQ(SequenceOf("n_0000000042"), 42);
  EXPECT_EQ(SequenceOf("n_00000000000000ff-0000000007"), 7);
  EXPECT_EQ(SequenceOf("n_12"), -1);
  EXPECT_EQ(SequenceOf("n_00000000x1"), -1);
  EXPECT_EQ(SessionTag(0x10000316c890000), "010000316c890000-");
}

std::string Describe(const std::vector<SessionEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    out += std::string(SessionStateName(e.state)) + (e.new_session ? "(new) " : " ");
  }
  return out;
}

// --- against the server -------------------------------------------------------------------------

class ZkSessionTest : public testing::CoordinatorTest {};

TEST_F(ZkSessionTest, ConnectsAndGetsALease) {
  ZkSession* s = Connect(2000);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->state(), SessionState::kConnected);
  EXPECT_NE(s->session_id(), 0);
  EXPECT_EQ(s->negotiated_timeout_ms(), 2000);  // within [2, 20] x tickTime 500
  EXPECT_EQ(s->chroot(), chroot_);
  // The lease starts with the first heartbeat's reply, right after connecting.
  EXPECT_TRUE(WaitFor([&] { return s->IsSafeToAct(); }, milliseconds(2000)));
  TimeMs now = ZkSession::MonotonicNowMs();
  EXPECT_GT(s->SafeUntilMs(), now);
  EXPECT_LE(s->SafeUntilMs(), now + 2000 * 2 / 3);
}

TEST_F(ZkSessionTest, ServerClampsSessionTimeout) {
  ZkSession* s = Connect(100);  // below 2 x tickTime
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->negotiated_timeout_ms(), 1000);
}

TEST_F(ZkSessionTest, StartFailsWithoutServer) {
  ZkSessionOptions options;
  options.connect_string = "127.0.0.1:1";  // nothing listens there
  options.connect_timeout_ms = 300;
  ZkSession s(options);
  Status st = s.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(s.state(), SessionState::kClosed);
}

TEST_F(ZkSessionTest, ChrootIsCreatedAndIsolates) {
  ZkSession* s = Connect();
  ZkSession* root = ConnectRoot();
  ASSERT_NE(s, nullptr);
  ASSERT_NE(root, nullptr);
  ASSERT_TRUE(s->Create("/a", "x", CreateMode::kPersistent).ok());
  auto seen = root->Get(chroot_ + "/a");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(seen->data, "x");
  // Paths returned and listed are inside the chroot.
  auto kids = s->GetChildren("/");
  ASSERT_TRUE(kids.ok());
  EXPECT_EQ(*kids, std::vector<std::string>{"a"});
}

TEST_F(ZkSessionTest, CreateGetSetDeleteWithVersionChecks) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  auto created = s->Create("/n", "v1", CreateMode::kPersistent);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(*created, "/n");
  EXPECT_TRUE(IsNodeExists(s->Create("/n", "again", CreateMode::kPersistent).status()));

  auto got = s->Get("/n");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data, "v1");
  EXPECT_EQ(got->stat.version, 0);
  EXPECT_EQ(got->stat.ephemeral_owner, 0);

  auto set = s->Set("/n", "v2", got->stat.version);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->version, 1);

  // A writer holding the stale version loses, and changes nothing.
  auto stale = s->Set("/n", "v3", got->stat.version);
  EXPECT_TRUE(IsBadVersion(stale.status())) << stale.status().ToString();
  EXPECT_EQ(stale.status().code(), Code::kInvalidRequest);
  EXPECT_EQ(s->Get("/n")->data, "v2");

  EXPECT_TRUE(IsBadVersion(s->Delete("/n", 0)));
  EXPECT_TRUE(s->Delete("/n", 1).ok());
  EXPECT_TRUE(IsNoNode(s->Get("/n").status()));
  EXPECT_TRUE(IsNoNode(s->Delete("/n")));
  EXPECT_TRUE(IsNoNode(s->Set("/n", "x").status()));
  EXPECT_TRUE(IsNoNode(s->Create("/missing/child", "", CreateMode::kPersistent).status()));
}

TEST_F(ZkSessionTest, GetReadsLargeData) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  std::string big(100 * 1024, 'z');
  big[12345] = '\0';  // binary-safe
  ASSERT_TRUE(s->Create("/big", big, CreateMode::kPersistent).ok());
  auto got = s->Get("/big");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->data, big);
  EXPECT_EQ(got->stat.data_length, static_cast<int32_t>(big.size()));
}

TEST_F(ZkSessionTest, EnsurePathCreatesParents) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->EnsurePath("/a/b/c").ok());
  ASSERT_TRUE(s->EnsurePath("/a/b/c").ok());  // idempotent
  auto e = s->Exists("/a/b/c");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->has_value());
}

TEST_F(ZkSessionTest, EphemeralDisappearsWhenSessionCloses) {
  ZkSession* owner = Connect();
  ZkSession* observer = Connect();
  ASSERT_NE(owner, nullptr);
  ASSERT_NE(observer, nullptr);
  ASSERT_TRUE(owner->Create("/e", "x", CreateMode::kEphemeral).ok());

  EventLog<WatchEvent> events;
  auto stat = observer->Exists("/e", [&](const WatchEvent& e) { events.Add(e); });
  ASSERT_TRUE(stat.ok());
  ASSERT_TRUE(stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, owner->session_id());

  owner->Stop();
  ASSERT_TRUE(events.WaitUntil([](const auto& v) { return !v.empty(); }, milliseconds(5000)));
  EXPECT_EQ(events.Snapshot()[0].type, WatchType::kDeleted);
  EXPECT_EQ(events.Snapshot()[0].path, "/e");  // inside the chroot
  auto gone = observer->Exists("/e");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  // Operations on a stopped session fail cleanly.
  EXPECT_EQ(ZkErrorOf(owner->Get("/").status()), ZkError::kClosing);
}

TEST_F(ZkSessionTest, EphemeralSequentialNamesCarryTheSessionTag) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->EnsurePath("/q").ok());
  auto a = s->Create("/q/n_", "a", CreateMode::kEphemeralSequential);
  auto b = s->Create("/q/n_", "b", CreateMode::kEphemeralSequential);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, "/q/n_" + SessionTag(s->session_id()) + "0000000000");
  EXPECT_EQ(SequenceOf(*b), 1);
  auto stat = s->Exists(*a);
  ASSERT_TRUE(stat.ok() && stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, s->session_id());
}

TEST_F(ZkSessionTest, WatchesFireOnceOnTheCoordinatorThread) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Create("/w", "0", CreateMode::kPersistent).ok());
  EventLog<WatchEvent> data_events;
  EventLog<WatchEvent> child_events;
  std::atomic<bool> on_coordinator{false};
  ASSERT_TRUE(s->Get("/w", [&](const WatchEvent& e) {
                 on_coordinator = s->IsCoordinatorThread();
                 data_events.Add(e);
               }).ok());
  ASSERT_TRUE(s->GetChildren("/w", [&](const WatchEvent& e) { child_events.Add(e); }).ok());

  ASSERT_TRUE(s->Set("/w", "1").ok());
  ASSERT_TRUE(s->Create("/w/c", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(data_events.WaitUntil([](const auto& v) { return !v.empty(); }, milliseconds(5000)));
  ASSERT_TRUE(child_events.WaitUntil([](const auto& v) { return !v.empty(); }, milliseconds(5000)));
  EXPECT_TRUE(on_coordinator);
  EXPECT_EQ(data_events.Snapshot()[0].type, WatchType::kChanged);
  EXPECT_EQ(child_events.Snapshot()[0].type, WatchType::kChildren);

  // One-shot: later changes do not fire the same watches. Prove it with a barrier: a fresh
  // watch armed after the second change fires, and by then the old ones have not.
  ASSERT_TRUE(s->Set("/w", "2").ok());
  ASSERT_TRUE(s->Create("/w/d", "", CreateMode::kPersistent).ok());
  EventLog<WatchEvent> barrier;
  ASSERT_TRUE(s->Get("/w", [&](const WatchEvent& e) { barrier.Add(e); }).ok());
  ASSERT_TRUE(s->Set("/w", "3").ok());
  ASSERT_TRUE(barrier.WaitUntil([](const auto& v) { return !v.empty(); }, milliseconds(5000)));
  s->RunOnCoordinator([] {});
  EXPECT_EQ(data_events.size(), 1u);
  EXPECT_EQ(child_events.size(), 1u);
}

TEST_F(ZkSessionTest, ExistsWatchFiresOnCreate) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  EventLog<WatchEvent> events;
  auto e = s->Exists("/later", [&](const WatchEvent& ev) { events.Add(ev); });
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->has_value());
  ASSERT_TRUE(s->Create("/later", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(events.WaitUntil([](const auto& v) { return !v.empty(); }, milliseconds(5000)));
  EXPECT_EQ(events.Snapshot()[0].type, WatchType::kCreated);
}

TEST_F(ZkSessionTest, MultiIsAllOrNothing) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Create("/x", "0", CreateMode::kPersistent).ok());

  std::vector<std::string> created;
  Status ok =
      s->Multi({ZkOp::Check("/x", 0), ZkOp::Create("/y", "y"), ZkOp::Set("/x", "1", 0)}, &created);
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  EXPECT_EQ(created, (std::vector<std::string>{"", "/y", ""}));
  EXPECT_EQ(s->Get("/x")->data, "1");

  // A stale version check aborts the create in the same multi.
  int failed = -2;
  Status bad = s->Multi({ZkOp::Create("/z", "z"), ZkOp::Set("/x", "2", 0)}, nullptr, &failed);
  EXPECT_TRUE(IsBadVersion(bad)) << bad.ToString();
  EXPECT_EQ(failed, 1);
  EXPECT_NE(bad.message().find("multi op 1 set /x"), std::string::npos) << bad.message();
  EXPECT_FALSE(s->Exists("/z")->has_value());
  EXPECT_EQ(s->Get("/x")->data, "1");

  Status missing = s->Multi({ZkOp::Check("/nope"), ZkOp::Delete("/y")}, nullptr, &failed);
  EXPECT_TRUE(IsNoNode(missing)) << missing.ToString();
  EXPECT_EQ(failed, 0);
  EXPECT_TRUE(s->Exists("/y")->has_value());
}

TEST_F(ZkSessionTest, PostAndRunOnCoordinator) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  EventLog<int> order;
  ASSERT_TRUE(s->PostAfter(30, [&] { order.Add(3); }));
  ASSERT_TRUE(s->Post([&] { order.Add(1); }));
  bool ran_inline_on_coordinator = false;
  s->RunOnCoordinator([&] {
    order.Add(2);
    ran_inline_on_coordinator = s->IsCoordinatorThread();
  });
  EXPECT_TRUE(ran_inline_on_coordinator);
  EXPECT_EQ(order.Snapshot(), (std::vector<int>{1, 2}));
  ASSERT_TRUE(order.WaitUntil([](const auto& v) { return v.size() == 3; }, milliseconds(5000)));
  EXPECT_FALSE(s->IsCoordinatorThread());
}

// The expiry trick (ZooKeeper FAQ): a second handle on the same session id and password is
// closed, which ends the session on the server; the first handle then learns it expired.
TEST_F(ZkSessionTest, ExpiryOpensANewSessionAndTellsListeners) {
  ZkSession* s = Connect();
  ZkSession* observer = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_NE(observer, nullptr);
  EventLog<SessionEvent>& events = Listen(s);
  const int64_t old_id = s->session_id();
  ASSERT_TRUE(s->Create("/eph", "", CreateMode::kEphemeral).ok());
  ASSERT_TRUE(WaitFor([&] { return s->IsSafeToAct(); }, milliseconds(2000)));

  {
    Status expired = s->ExpireSessionForTesting();
    ASSERT_TRUE(expired.ok()) << expired.ToString();
  }
  ASSERT_TRUE(events.WaitUntil(
      [](const auto& v) {
        return !v.empty() && v.back().state == SessionState::kConnected && v.back().new_session;
      },
      milliseconds(10000)))
      << Describe(events.Snapshot()) << " now " << SessionStateName(s->state());

  std::vector<SessionState> states;
  bool saw_expired = false;
  for (const auto& e : events.Snapshot()) {
    states.push_back(e.state);
    if (e.state == SessionState::kExpired) {
      saw_expired = true;
      EXPECT_EQ(e.session_id, old_id);
    }
  }
  EXPECT_TRUE(saw_expired);
  const SessionEvent last = events.Snapshot().back();
  EXPECT_NE(last.session_id, old_id);
  EXPECT_EQ(last.session_id, s->session_id());
  EXPECT_EQ(s->state(), SessionState::kConnected);

  // The old session's ephemeral is gone; the new session works and gets a lease again.
  EXPECT_FALSE(observer->Exists("/eph")->has_value());
  EXPECT_TRUE(s->Create("/eph", "", CreateMode::kEphemeral).ok());
  EXPECT_EQ(observer->Exists("/eph").value()->ephemeral_owner, s->session_id());
  EXPECT_TRUE(WaitFor([&] { return s->IsSafeToAct(); }, milliseconds(2000)));
}

TEST_F(ZkSessionTest, WatchOfAnExpiredSessionNeverFires) {
  ZkSession* s = Connect();
  ZkSession* other = Connect();
  ASSERT_NE(s, nullptr);
  ASSERT_NE(other, nullptr);
  EventLog<WatchEvent> stale;
  ASSERT_TRUE(s->Exists("/w1", [&](const WatchEvent& e) { stale.Add(e); }).ok());
  EventLog<SessionEvent>& events = Listen(s);
  {
    Status expired = s->ExpireSessionForTesting();
    ASSERT_TRUE(expired.ok()) << expired.ToString();
  }
  ASSERT_TRUE(events.WaitUntil([](const auto& v) { return !v.empty() && v.back().new_session; },
                               milliseconds(10000)));
  // A watch armed in the new session on a later create fires; the old one must not.
  EventLog<WatchEvent> fresh;
  ASSERT_TRUE(s->Exists("/w2", [&](const WatchEvent& e) { fresh.Add(e); }).ok());
  ASSERT_TRUE(other->Create("/w1", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(other->Create("/w2", "", CreateMode::kPersistent).ok());
  ASSERT_TRUE(fresh.WaitUntil([](const auto& v) { return !v.empty(); }, milliseconds(5000)));
  s->RunOnCoordinator([] {});
  EXPECT_EQ(stale.size(), 0u);
}

// SIGSTOP of the server: the client hears nothing, drops to CONNECTING after ~2/3 of the
// session timeout (kSuspended, no lease), and reconnects to the same session on SIGCONT.
TEST_F(ZkSessionTest, SuspendedWhileServerPausedThenSameSessionAgain) {
  ZkSession* s = Connect(4000);
  ASSERT_NE(s, nullptr);
  EventLog<SessionEvent>& events = Listen(s);
  ASSERT_TRUE(WaitFor([&] { return s->IsSafeToAct(); }, milliseconds(2000)));
  const int64_t id = s->session_id();

  ZkTestServer::Get().Pause();
  const TimeMs paused_at = ZkSession::MonotonicNowMs();
  // The lease ends no later than 2/3 of the timeout after the last reply.
  ASSERT_TRUE(WaitFor([&] { return !s->IsSafeToAct(); }, milliseconds(4000)));
  EXPECT_LE(ZkSession::MonotonicNowMs() - paused_at, 4000 * 2 / 3 + 100);
  ASSERT_TRUE(events.WaitUntil(
      [](const auto& v) { return !v.empty() && v.back().state == SessionState::kSuspended; },
      milliseconds(4000)));
  ZkTestServer::Get().Resume();  // well inside the 4 s session timeout

  ASSERT_TRUE(events.WaitUntil(
      [](const auto& v) { return !v.empty() && v.back().state == SessionState::kConnected; },
      milliseconds(4000)));
  EXPECT_FALSE(events.Snapshot().back().new_session);
  EXPECT_EQ(s->session_id(), id);
  EXPECT_TRUE(WaitFor([&] { return s->IsSafeToAct(); }, milliseconds(2000)));
}

TEST_F(ZkSessionTest, StopTellsListenersClosedAndIsIdempotent) {
  ZkSession* s = Connect();
  ASSERT_NE(s, nullptr);
  EventLog<SessionEvent>& events = Listen(s);
  const int64_t id = s->session_id();
  s->Stop();
  s->Stop();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events.Snapshot()[0].state, SessionState::kClosed);
  EXPECT_EQ(events.Snapshot()[0].session_id, id);
  EXPECT_FALSE(s->IsSafeToAct());
  EXPECT_FALSE(s->Post([] {}));
  bool ran = false;
  s->RunOnCoordinator([&] { ran = true; });  // inline once the thread has ended
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace zoomq::coordinator
