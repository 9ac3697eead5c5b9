// SessionLease: the fencing timing, driven by hand-made times (no server, no waiting).
#include "zoomq/coordinator/session_lease.h"

#include <gtest/gtest.h>

#include "zoomq/common/clock.h"

namespace zoomq::coordinator {
namespace {

constexpr TimeMs kTimeout = 3000;  // session timeout; budget = 2000 with the default 2/3

TEST(SessionLeaseTest, NotSafeBeforeConnectingOrBeforeFirstContact) {
  FakeClock clock(1000);
  SessionLease lease;
  EXPECT_FALSE(lease.IsSafeToAct(clock.NowMs()));
  lease.OnContact(clock.NowMs());  // ignored: not connected
  EXPECT_FALSE(lease.IsSafeToAct(clock.NowMs()));
  lease.OnConnected(kTimeout);
  EXPECT_EQ(lease.BudgetMs(), 2000);
  // Connected, but no request answered since: the handshake alone does not count.
  EXPECT_FALSE(lease.IsSafeToAct(clock.NowMs()));
  EXPECT_EQ(lease.SafeUntil(), 0);
}

TEST(SessionLeaseTest, SafeForTwoThirdsOfTheTimeoutAfterTheSendTimeOfTheLastReply) {
  FakeClock clock(10'000);
  SessionLease lease;
  lease.OnConnected(kTimeout);
  const TimeMs sent = clock.NowMs();
  clock.Advance(5);  // the reply arrives 5 ms later: the window counts from the send time
  lease.OnContact(sent);
  EXPECT_TRUE(lease.IsSafeToAct(clock.NowMs()));
  EXPECT_EQ(lease.SafeUntil(), sent + 2000);
  clock.Set(sent + 1999);
  EXPECT_TRUE(lease.IsSafeToAct(clock.NowMs()));
  clock.Set(sent + 2000);  // the boundary itself is already unsafe
  EXPECT_FALSE(lease.IsSafeToAct(clock.NowMs()));
  clock.Advance(10'000);  // a long pause (SIGSTOP, GC): still unsafe, never wraps
  EXPECT_FALSE(lease.IsSafeToAct(clock.NowMs()));
}

TEST(SessionLeaseTest, HeartbeatsExtendTheWindow) {
  FakeClock clock(0);
  SessionLease lease;
  lease.OnConnected(kTimeout);
  for (int i = 0; i < 10; ++i) {  // a heartbeat every timeout/6 = 500 ms
    lease.OnContact(clock.NowMs());
    clock.Advance(500);
    EXPECT_TRUE(lease.IsSafeToAct(clock.NowMs())) << "at " << clock.NowMs();
  }
  // Heartbeats stop being answered: unsafe 2000 ms after the last answered send.
  const TimeMs last = clock.NowMs() - 500;
  clock.Set(last + 1999);
  EXPECT_TRUE(lease.IsSafeToAct(clock.NowMs()));
  clock.Set(last + 2000);
  EXPECT_FALSE(lease.IsSafeToAct(clock.NowMs()));
}

TEST(SessionLeaseTest, OutOfOrderRepliesKeepTheLatestSendTime) {
  SessionLease lease;
  lease.OnConnected(kTimeout);
  lease.OnContact(1000);
  lease.OnContact(400);  // an older request answered later must not shorten the window
  EXPECT_EQ(lease.SafeUntil(), 3000);
}

TEST(SessionLeaseTest, DisconnectEndsTheLeaseAtOnce) {
  SessionLease lease;
  lease.OnConnected(kTimeout);
  lease.OnContact(1000);
  EXPECT_TRUE(lease.IsSafeToAct(1001));
  lease.OnDisconnected();  // the server may already have expired the session
  EXPECT_FALSE(lease.IsSafeToAct(1001));
  EXPECT_EQ(lease.SafeUntil(), 0);
  lease.OnContact(1002);  // a late reply while disconnected does not revive it
  EXPECT_FALSE(lease.IsSafeToAct(1003));
  // Reconnected: unsafe until a request sent after that is answered.
  lease.OnConnected(kTimeout);
  EXPECT_FALSE(lease.IsSafeToAct(1004));
  lease.OnContact(1004);
  EXPECT_TRUE(lease.IsSafeToAct(1005));
}

TEST(SessionLeaseTest, ReconnectingToAnotherServerKeepsTheWindow) {
  // The client lost its server and reconnects to another with the same session: the server
  // cannot have expired it before last contact + timeout, so acting stays safe until the
  // 2/3 window ends (a ZooKeeper server failover is invisible to clients).
  SessionLease lease;
  lease.OnConnected(kTimeout);
  lease.OnContact(1000);
  lease.OnSuspended();
  EXPECT_TRUE(lease.IsSafeToAct(2999));
  EXPECT_FALSE(lease.IsSafeToAct(3000));
  lease.OnContact(1500);  // no contact counts while suspended
  EXPECT_EQ(lease.SafeUntil(), 3000);
  lease.OnReconnected();
  EXPECT_TRUE(lease.IsSafeToAct(2000));
  lease.OnContact(2500);
  EXPECT_EQ(lease.SafeUntil(), 4500);
}

TEST(SessionLeaseTest, FractionIsConfigurable) {
  SessionLease lease(0.5);
  lease.OnConnected(4000);
  EXPECT_EQ(lease.BudgetMs(), 2000);
  lease.OnContact(0);
  EXPECT_TRUE(lease.IsSafeToAct(1999));
  EXPECT_FALSE(lease.IsSafeToAct(2000));
}

TEST(SessionLeaseTest, NewTimeoutAppliesAfterReconnect) {
  SessionLease lease;
  lease.OnConnected(3000);
  lease.OnContact(0);
  lease.OnDisconnected();
  lease.OnConnected(6000);  // e.g. a new session negotiated a longer timeout
  lease.OnContact(100);
  EXPECT_EQ(lease.SafeUntil(), 4100);
}

}  // namespace
}  // namespace zoomq::coordinator
