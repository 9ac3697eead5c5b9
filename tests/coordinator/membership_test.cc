// Membership against a real ZooKeeper server: joins and leaves, a restart inside the old
// session's timeout, a conflicting id, re-registration after expiry.
#include "zoomq/coordinator/membership.h"

#include <gtest/gtest.h>

#include "coordinator_test.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::coordinator {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;
using testing::WaitFor;

using Members = std::vector<BrokerInfo>;

std::vector<int32_t> Ids(const Members& m) {
  std::vector<int32_t> ids;
  for (const auto& b : m) ids.push_back(b.id);
  return ids;
}

BrokerInfo Broker(int32_t id) { return {id, "http://127.0.0.1:" + std::to_string(9100 + id)}; }

// Waits until the last report of `log` has exactly `ids`.
bool WaitForIds(EventLog<Members>& log, std::vector<int32_t> ids) {
  return log.WaitUntil([&](const auto& v) { return !v.empty() && Ids(v.back()) == ids; },
                       milliseconds(5000));
}

class MembershipTest : public testing::CoordinatorTest {};

TEST(BrokerInfoTest, EncodesAndParses) {
  BrokerInfo b{7, "http://h:1"};
  EXPECT_EQ(EncodeBrokerInfo(b), R"({"id":7,"url":"http://h:1"})");
  auto back = ParseBrokerInfo(EncodeBrokerInfo(b));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, b);
  EXPECT_FALSE(ParseBrokerInfo("").ok());
  EXPECT_FALSE(ParseBrokerInfo("[1]").ok());
  EXPECT_FALSE(ParseBrokerInfo(R"({"id":"7","url":"x"})").ok());
  EXPECT_FALSE(ParseBrokerInfo(R"({"id":7})").ok());
}

TEST_F(MembershipTest, ReportsJoinsAndLeaves) {
  ZkSession* s1 = Connect();
  ZkSession* s2 = Connect();
  ZkSession* s3 = Connect();
  ASSERT_TRUE(s1 && s2 && s3);
  EventLog<Members> seen_by_1;
  Membership m1(s1, Broker(1), [&](const Members& m) { seen_by_1.Add(m); });
  Membership m2(s2, Broker(2), nullptr);
  Membership m3(s3, Broker(3), nullptr);

  ASSERT_TRUE(m1.Start(5000).ok());
  ASSERT_TRUE(WaitForIds(seen_by_1, {1}));
  ASSERT_TRUE(m2.Start(5000).ok());
  ASSERT_TRUE(m3.Start(5000).ok());
  ASSERT_TRUE(WaitForIds(seen_by_1, {1, 2, 3}));
  EXPECT_EQ(seen_by_1.Snapshot().back()[1], Broker(2));  // data read back, sorted by id
  EXPECT_TRUE(WaitFor(
      [&] {
        return Ids(m3.LiveBrokers()) == std::vector<int32_t>{1, 2, 3};
      },
      milliseconds(5000)));

  m2.Stop();  // graceful: deletes its node
  ASSERT_TRUE(WaitForIds(seen_by_1, {1, 3}));
  s3->Stop();  // the session closes: its ephemeral goes with it
  ASSERT_TRUE(WaitForIds(seen_by_1, {1}));
  EXPECT_TRUE(m1.registered());

  // Each report differs from the one before (no duplicates).
  auto reports = seen_by_1.Snapshot();
  for (size_t i = 1; i < reports.size(); ++i) EXPECT_NE(Ids(reports[i]), Ids(reports[i - 1]));
}

// GUARANTEES.md: a restart inside the old session's timeout found the old node still there.
TEST_F(MembershipTest, RestartInsideOldSessionTimeoutReclaimsTheNode) {
  ZkSession* old_session = Connect(10000);  // the "crashed" process's session lingers
  ZkSession* new_session = Connect();
  ASSERT_TRUE(old_session && new_session);
  Membership old_incarnation(old_session, Broker(5), nullptr);
  ASSERT_TRUE(old_incarnation.Start(5000).ok());

  Membership restarted(new_session, Broker(5), nullptr);  // same id, same URL
  const TimeMs t0 = ZkSession::MonotonicNowMs();
  Status st = restarted.Start(5000);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_LT(ZkSession::MonotonicNowMs() - t0, 1000);  // did not wait for the 10 s expiry
  auto stat = new_session->Exists(znodes::BrokerIdPath(5));
  ASSERT_TRUE(stat.ok() && stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, new_session->session_id());

  // Were the old process still alive, it notices and waits; it does not take the node back.
  ASSERT_TRUE(WaitFor([&] { return !old_incarnation.registered(); }, milliseconds(5000)));
  old_session->RunOnCoordinator([] {});
  stat = new_session->Exists(znodes::BrokerIdPath(5));
  ASSERT_TRUE(stat.ok() && stat->has_value());
  EXPECT_EQ((*stat)->ephemeral_owner, new_session->session_id());
  EXPECT_TRUE(restarted.registered());
}

TEST_F(MembershipTest, ConflictingIdWaitsUntilTheOtherNodeVanishes) {
  ZkSession* holder_session = Connect();
  ZkSession* s = Connect();
  ASSERT_TRUE(holder_session && s);
  Membership holder(holder_session, {6, "http://a:1"}, nullptr);
  ASSERT_TRUE(holder.Start(5000).ok());

  Membership waiting(s, {6, "http://b:2"}, nullptr);  // another URL: maybe a live broker
  Status st = waiting.Start(200);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_NE(st.message().find("held by session"), std::string::npos) << st.ToString();
  EXPECT_FALSE(waiting.registered());

  holder_session->Stop();  // its session ends: the node vanishes, the waiter takes it
  ASSERT_TRUE(WaitFor([&] { return waiting.registered(); }, milliseconds(5000)));
  auto data = s->Get(znodes::BrokerIdPath(6));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(ParseBrokerInfo(data->data)->url, "http://b:2");
  EXPECT_EQ(data->stat.ephemeral_owner, s->session_id());
}

TEST_F(MembershipTest, RegistersAgainAndRewatchesAfterExpiry) {
  ZkSession* s1 = Connect();
  ZkSession* s2 = Connect();
  ZkSession* s3 = Connect();
  ASSERT_TRUE(s1 && s2 && s3);
  EventLog<Members> seen_by_1;
  Membership m1(s1, Broker(1), [&](const Members& m) { seen_by_1.Add(m); });
  Membership m2(s2, Broker(2), nullptr);
  ASSERT_TRUE(m1.Start(5000).ok());
  ASSERT_TRUE(m2.Start(5000).ok());
  ASSERT_TRUE(WaitForIds(seen_by_1, {1, 2}));

  const int64_t old_id = s1->session_id();
  EventLog<SessionEvent>& events = Listen(s1);
  {
    Status expired = s1->ExpireSessionForTesting();
    ASSERT_TRUE(expired.ok()) << expired.ToString();
  }
  ASSERT_TRUE(events.WaitUntil([](const auto& v) { return !v.empty() && v.back().new_session; },
                               milliseconds(10000)));

  // Its node is back, owned by the new session.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto st = s2->Exists(znodes::BrokerIdPath(1));
        return st.ok() && st->has_value() && (*st)->ephemeral_owner == s1->session_id();
      },
      milliseconds(5000)));
  EXPECT_NE(s1->session_id(), old_id);
  EXPECT_TRUE(m1.registered());

  // Its children watch is armed again: a broker joining now is reported.
  Membership m3(s3, Broker(3), nullptr);
  ASSERT_TRUE(m3.Start(5000).ok());
  ASSERT_TRUE(WaitForIds(seen_by_1, {1, 2, 3}));
}

}  // namespace
}  // namespace zoomq::coordinator
