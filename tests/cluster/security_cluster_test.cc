// Security across a real 3-broker cluster (issue 12, items 1, 2, 5 and 8): a token change made
// through one broker holds on every broker within 2 s, forwarding never widens what a caller
// may do, and the routes between brokers refuse every client (a forged fetch moves nothing).
// Real ZooKeeper, real broker processes on loopback.

#include <string>
#include <vector>

#include "cluster_harness.h"
#include "zoomq/security/token.h"

namespace zoomq::cluster_testing {
namespace {

using zoomq::testing::Http;
using zoomq::testing::HttpResponse;
using zoomq::testing::UniqueName;

const std::string kAdminToken = "zq_" + std::string(64, 'a');

class SecurityClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions o;
    o.admin_token = kAdminToken;
    o.zk_digest = "zoomq:" + std::string(32, 'p');  // /security/state is then secret too
    cluster_ = std::make_unique<Cluster>(o);
    ASSERT_TRUE(cluster_->Start());
  }

  std::unique_ptr<Http> As(int broker, const std::string& token) {
    auto h = std::make_unique<Http>(cluster_->Port(broker), milliseconds(10000));
    if (!token.empty()) h->client().set_bearer_token_auth(token);
    return h;
  }
  std::string UserWithToken(const std::string& user) {
    auto admin = As(1, kAdminToken);
    EXPECT_EQ(admin->Post("/v1/security/users", {{"name", user}}).status, 201);
    auto t = admin->Post("/v1/security/users/" + user + "/tokens", Json::object());
    EXPECT_EQ(t.status, 201) << t.Describe();
    return t.body.value("token", "");
  }
  void Allow(const std::string& principal, const std::string& resource, const std::string& name,
             const std::string& op) {
    auto r = As(2, kAdminToken)
                 ->Post("/v1/security/acls", {{"principal", principal},
                                              {"resource", resource},
                                              {"name", name},
                                              {"operation", op}});
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.Describe();
  }
  // The high watermark of every replica of the partition (GET /internal/v1/log).
  std::map<int, int64_t> HighWatermarks(const std::string& topic, int partition) {
    std::map<int, int64_t> out;
    for (int id : cluster_->ids()) {
      if (auto log = cluster_->ReplicaLog(id, topic, partition)) {
        out[id] = log->value("high_watermark", int64_t{-1});
      }
    }
    return out;
  }

  std::unique_ptr<Cluster> cluster_;
};

TEST_F(SecurityClusterTest, ATokenChangeMadeOnOneBrokerHoldsOnEveryBrokerWithin2s) {
  const std::string alice = UserWithToken("alice");  // created through broker 1
  auto accepted_everywhere = [&](int expected) {
    for (int id : cluster_->ids()) {
      if (As(id, alice)->Get("/v1/security/whoami").status != expected) return false;
    }
    return true;
  };
  auto start = Clock::now();
  ASSERT_TRUE(zoomq::testing::WaitFor([&] { return accepted_everywhere(200); }, milliseconds(2000),
                                      milliseconds(10)))
      << "a new token was not accepted by every broker within 2 s";
  const int64_t created_ms = zoomq::testing::MillisSince(start);

  auto tokens = As(3, kAdminToken)->Get("/v1/security/tokens?user=alice");
  ASSERT_EQ(tokens.status, 200);
  ASSERT_EQ(tokens.body["tokens"].size(), 1u);
  ASSERT_EQ(As(2, kAdminToken)
                ->Delete("/v1/security/tokens/" + tokens.body["tokens"][0]["id"].get<std::string>())
                .status,
            204);
  start = Clock::now();
  ASSERT_TRUE(zoomq::testing::WaitFor([&] { return accepted_everywhere(401); }, milliseconds(2000),
                                      milliseconds(10)))
      << "a revoked token was still accepted by some broker after 2 s";
  const int64_t revoked_ms = zoomq::testing::MillisSince(start);
  std::printf(
      "[figures] token accepted on every broker after %lld ms; refused on every broker "
      "%lld ms after its revocation\n",
      static_cast<long long>(created_ms), static_cast<long long>(revoked_ms));
}

TEST_F(SecurityClusterTest, ForwardingNeverDoesMoreThanItsCallerMay) {
  const std::string topic = UniqueName("sec_fwd");
  ASSERT_TRUE(cluster_->CreateTopic(
      topic, {{"partitions", 3}, {"replication_factor", 3}, {"min_insync_replicas", 2}}));
  const std::string producer = UserWithToken("producer");
  const std::string reader = UserWithToken("reader");
  Allow("producer", "topic", topic, "produce");
  Allow("reader", "topic", topic, "consume");
  Allow("reader", "group", "g", "consume");
  // Rules reach every broker within the poll period: wait until each sees them.
  ASSERT_TRUE(zoomq::testing::WaitFor(
      [&] {
        for (int id : cluster_->ids()) {
          if (As(id, reader)->Get("/v1/topics/" + topic + "/partitions/0/messages").status != 200) {
            return false;
          }
        }
        return true;
      },
      milliseconds(2000), milliseconds(10)));

  // Through every broker, each message with its own key (a group delivers one message per key
  // at a time): some go to a leader elsewhere.
  auto batch_of = [](int broker) {
    Json batch = Json::array();
    for (int k = 0; k < 12; ++k) {
      batch.push_back(
          {{"key", "b" + std::to_string(broker) + "k" + std::to_string(k)}, {"value", k}});
    }
    return batch;
  };
  const Json batch = batch_of(0);
  for (int id : cluster_->ids()) {
    auto ok = zoomq::testing::Produce(*As(id, producer), topic, batch_of(id));
    ASSERT_EQ(ok.status, 200) << "through broker " << id << ": " << ok.Describe();
  }
  std::map<int, std::map<int, int64_t>> before;
  for (int p = 0; p < 3; ++p) before[p] = HighWatermarks(topic, p);
  for (int id : cluster_->ids()) {
    auto refused = zoomq::testing::Produce(*As(id, reader), topic, batch);
    EXPECT_EQ(refused.status, 403) << "reader producing through broker " << id;
    EXPECT_EQ(refused.error_code(), "FORBIDDEN");
    EXPECT_EQ(zoomq::testing::Pull(*As(id, producer), topic, "g", "c", 10, 0).status, 403);
    EXPECT_EQ(zoomq::testing::Pull(*As(id, reader), topic, "other", "c", 10, 0).status, 403);
  }
  // A broker forwarding for a principal is checked as that principal at the leader: a
  // forwarded write for `reader` (a broker credential, the reader named) is refused there.
  const std::string credential = zoomq::security::BrokerCredential(kAdminToken, 2);
  for (int p = 0; p < 3; ++p) {
    const int leader = cluster_->Leader(topic, p);
    ASSERT_GT(leader, 0);
    httplib::Headers headers = {{"Authorization", "Bearer " + credential},
                                {"X-Zoomq-Forwarded", "1"},
                                {"X-Zoomq-Principal", "reader"}};
    auto h = As(leader, "");
    auto res = h->client().Post(
        "/v1/topics/" + topic + "/messages", headers,
        R"({"messages":[{"partition":)" + std::to_string(p) + R"(,"value":"forged"}]})",
        "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << res->body;
  }
  for (int p = 0; p < 3; ++p) {
    EXPECT_EQ(HighWatermarks(topic, p), before[p]) << "partition " << p << ": nothing written";
  }
  // And the reader, through any broker, consumes what was produced (forwarded pulls).
  size_t got = 0;
  HttpResponse last;
  ASSERT_TRUE(zoomq::testing::WaitFor(
      [&] {
        last = zoomq::testing::Pull(*As(3, reader), topic, "g", "c", 100, 200);
        if (last.status == 200) got += last.body["messages"].size();
        return got >= 36;
      },
      milliseconds(10000)))
      << "got " << got << "; last pull: " << last.Describe();
  EXPECT_EQ(got, 36u);
}

TEST_F(SecurityClusterTest, RoutesBetweenBrokersRefuseClientsAndAForgedFetchMovesNothing) {
  const std::string topic = UniqueName("sec_internal");
  ASSERT_TRUE(cluster_->CreateTopic(
      topic, {{"partitions", 1}, {"replication_factor", 3}, {"min_insync_replicas", 2}}));
  auto admin = As(1, kAdminToken);
  ASSERT_EQ(
      zoomq::testing::Produce(*admin, topic, Json::array({{{"value", 1}}, {{"value", 2}}})).status,
      200);
  ASSERT_TRUE(cluster_->WaitReplicasConverged(topic, 0, milliseconds(10000)));
  const int leader = cluster_->Leader(topic, 0);
  ASSERT_GT(leader, 0);
  const int follower = leader % 3 + 1;
  const auto hwm_before = HighWatermarks(topic, 0);
  const auto view_before = cluster_->Partition(topic, 0);
  ASSERT_TRUE(view_before.has_value());

  const std::string user = UserWithToken("mallory");
  Allow("mallory", "cluster", "", "cluster_admin");
  const std::string fetch = "/internal/v1/fetch?topic=" + topic +
                            "&partition=0&replica=" + std::to_string(follower) +
                            "&offset=1000&epoch=" + std::to_string(view_before->epoch);
  for (const std::string& token : {kAdminToken, user}) {
    auto h = As(leader, token);
    EXPECT_EQ(h->Get(fetch).status, 403) << "a client token fetching as a follower";
    EXPECT_EQ(h->Get("/internal/v1/log?topic=" + topic + "&partition=0").status, 403);
    EXPECT_EQ(
        h->PostRaw("/internal/v1/controlled_shutdown?broker=" + std::to_string(leader), "").status,
        403);
  }
  // A broker speaks only for itself: another broker's credential cannot fetch as `follower`.
  const int other = 6 - leader - follower;  // the third broker
  auto as_other = As(leader, zoomq::security::BrokerCredential(kAdminToken, other));
  auto r = as_other->Get(fetch);
  EXPECT_EQ(r.status, 403) << r.Describe();
  EXPECT_EQ(
      As(leader, "zqb." + std::to_string(follower) + "." + std::string(64, '0'))->Get(fetch).status,
      401)
      << "a forged broker credential";

  EXPECT_EQ(HighWatermarks(topic, 0), hwm_before) << "the high watermark did not move";
  const auto view_after = cluster_->Partition(topic, 0);
  ASSERT_TRUE(view_after.has_value());
  EXPECT_EQ(view_after->leader, view_before->leader) << "leadership unchanged";
  EXPECT_EQ(view_after->epoch, view_before->epoch);
  EXPECT_EQ(view_after->isr, view_before->isr);
}

}  // namespace
}  // namespace zoomq::cluster_testing
