// ClientOptions::zookeeper: the SDK finds the brokers through their registrations in a real
// ZooKeeper (tests/coordinator's one-server harness), then talks to them (a FakeBroker).
#include <gtest/gtest.h>

#include "cluster_view.h"
#include "coordinator_test.h"
#include "fake_broker.h"
#include "zoomq/client/producer.h"
#include "zoomq/coordinator/membership.h"

namespace zoomq::coordinator::testing {
namespace {

using client_testing::FakeBroker;

class ClusterViewZkTest : public CoordinatorTest {
 protected:
  ClientOptions Client() {
    ClientOptions o;
    o.zookeeper = ZkTestServer::Get().hosts() + chroot_;
    o.transport = broker_.transport();
    o.request_timeout = std::chrono::milliseconds(5000);
    return o;
  }
  // Registers broker `id` ("http://b<id>") the way a broker does, with the ZooKeeper digest
  // credentials `digest` if given.
  void Register(int id, const std::string& digest = "") {
    ZkSession* session = Connect(2000, "", digest);
    ASSERT_NE(session, nullptr);
    members_.push_back(std::make_unique<Membership>(
        session, BrokerInfo{id, FakeBroker::Url(id)}, [](const std::vector<BrokerInfo>&) {}));
    ASSERT_TRUE(members_.back()->Start(5000).ok());
  }
  void TearDown() override {
    for (auto& m : members_) m->Stop();
    CoordinatorTest::TearDown();
  }

  FakeBroker broker_;
  std::vector<std::unique_ptr<Membership>> members_;
};

TEST_F(ClusterViewZkTest, FindsBrokersThroughTheirRegistrations) {
  broker_.AddTopic("t", 2, /*leader=*/2);
  Register(2);
  client_internal::ClusterView view(Client(), broker_.transport());
  ASSERT_TRUE(view.Refresh(true).ok());
  auto url = view.LeaderUrl("t", 1);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url, FakeBroker::Url(2));

  ProducerOptions o;
  o.client = Client();
  Producer producer(o);
  DeliveryReport r = producer.Send(OutgoingMessage::Json("t", "1", "k")).get();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(broker_.Log("t", r.partition).size(), 1u);
}

// Brokers with --zk-auth-file lock their znodes, but /brokers stays world-readable: the SDK
// needs no ZooKeeper credentials to bootstrap from it.
TEST_F(ClusterViewZkTest, FindsBrokersRegisteredWithDigestCredentials) {
  broker_.AddTopic("t", 1, /*leader=*/3);
  Register(3, "zoomq:s3cret");
  client_internal::ClusterView view(Client(), broker_.transport());
  ASSERT_TRUE(view.Refresh(true).ok());
  auto url = view.LeaderUrl("t", 0);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*url, FakeBroker::Url(3));
}

TEST_F(ClusterViewZkTest, NoRegisteredBrokerIsUnavailable) {
  client_internal::ClusterView view(Client(), broker_.transport());
  Status st = view.Refresh(true);
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
}

}  // namespace
}  // namespace zoomq::coordinator::testing
