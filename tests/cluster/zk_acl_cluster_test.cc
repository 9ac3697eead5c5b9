// Issue 12 items 4 and 8: brokers started with --zk-auth-file log in to ZooKeeper with digest
// credentials and create every znode with ACLs. The cluster works as before (topics,
// produce), and a ZooKeeper client without the credentials changes none of its znodes, reads
// no secret, and cannot remove the chroot; a broker with other credentials refuses to start.
// Real ZooKeeper, three real brokers.
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cluster_harness.h"
#include "zoomq/coordinator/zk_session.h"
#include "zoomq/coordinator/zk_status.h"
#include "zoomq/coordinator/znodes.h"
#include "zoomq/proc/ports.h"  // PickFreePort (tools/proc)

namespace zoomq::cluster_testing {
namespace {

using coordinator::CreateMode;
using coordinator::IsNoAuth;
using coordinator::ZkError;
using coordinator::ZkErrorOf;
using coordinator::ZkSession;
using coordinator::ZkSessionOptions;
using zoomq::testing::UniqueName;
namespace znodes = coordinator::znodes;

constexpr char kDigest[] = "zoomq:cluster-s3cret";

// A started session at `connect` ("host:port[/chroot]") with `digest` credentials ("" none).
std::unique_ptr<ZkSession> Session(const std::string& connect, const std::string& digest = "") {
  ZkSessionOptions o;
  o.connect_string = connect;
  o.session_timeout_ms = 4000;
  o.connect_timeout_ms = 10000;
  o.digest_auth = digest;
  auto s = std::make_unique<ZkSession>(o);
  Status st = s->Start();
  if (!st.ok()) {
    ADD_FAILURE() << "ZooKeeper session at " << connect << ": " << st.ToString();
    return nullptr;
  }
  return s;
}

class ZkAclClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ClusterOptions o;
    o.brokers = 3;
    o.zk_digest = kDigest;
    cluster_ = std::make_unique<Cluster>(o);
    ASSERT_TRUE(cluster_->Start());
  }

  // Produces `n` messages to partition 0 of `topic` through its leader; all acknowledged.
  void Produce(const std::string& topic, const std::string& prefix, int n) {
    ProducerOptions po;
    po.topic = topic;
    po.threads = 1;
    po.id_prefix = prefix;
    po.messages_per_thread = n;
    Producer producer(*cluster_, po);
    producer.Start();
    ASSERT_TRUE(producer.WaitDone(milliseconds(10000))) << producer.acked() << " acked of " << n;
    producer.Stop();
  }

  std::unique_ptr<Cluster> cluster_;
};

TEST_F(ZkAclClusterTest, AClientWithoutTheDigestChangesNothingAndReadsNoSecret) {
  const std::string topic = UniqueName("acl");
  ASSERT_TRUE(cluster_->CreateTopic(
      topic, {{"partitions", 2}, {"replication_factor", 3}, {"min_insync_replicas", 2}}));
  ASSERT_NO_FATAL_FAILURE(Produce(topic, "before", 20));

  // No broker writes /security/state yet: an authenticated session puts a secret there the
  // way the security store will.
  auto admin = Session(cluster_->zk_connect(), kDigest);
  ASSERT_NE(admin, nullptr);
  ASSERT_TRUE(admin->EnsurePath(znodes::kSecurityRoot).ok());
  auto secret = admin->Create(znodes::kSecurityState, "{\"token_hashes\":[\"ab12\"]}",
                              CreateMode::kPersistent);
  ASSERT_TRUE(secret.ok() || coordinator::IsNodeExists(secret.status()))
      << secret.status().ToString();

  auto outsider = Session(cluster_->zk_connect());
  ASSERT_NE(outsider, nullptr);
  const std::string topic_path = "/topics/" + topic;
  const std::string p0 = topic_path + "/partitions/0";
  const std::string p1 = topic_path + "/partitions/1";
  const std::string broker1 = znodes::BrokerIdPath(1);
  const auto before = admin->Get(p0);
  ASSERT_TRUE(before.ok()) << before.status().ToString();

  for (const std::string& path : {topic_path, p0, broker1, std::string(znodes::kControllerEpoch),
                                  std::string(znodes::kSecurityState)}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(IsNoAuth(outsider->Set(path, "{\"leader\":-1}").status()));
    EXPECT_TRUE(IsNoAuth(outsider->Delete(path)));
  }
  EXPECT_TRUE(IsNoAuth(outsider->Delete(p1)));
  EXPECT_TRUE(IsNoAuth(
      outsider->Create(topic_path + "/partitions/9", "{}", CreateMode::kPersistent).status()));
  EXPECT_TRUE(IsNoAuth(outsider->Create("/topics/evil", "{}", CreateMode::kPersistent).status()));
  EXPECT_TRUE(IsNoAuth(outsider
                           ->Create(std::string(znodes::kBrokerIds) + "/9",
                                    "{\"id\":9,\"url\":\"http://evil\"}", CreateMode::kEphemeral)
                           .status()));
  // Metadata is world-readable (the SDK's ZooKeeper bootstrap); the secret is not.
  auto ids = outsider->GetChildren(znodes::kBrokerIds);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_TRUE(outsider->Get(broker1).ok());
  EXPECT_TRUE(IsNoAuth(outsider->Get(znodes::kSecurityState).status()));
  EXPECT_TRUE(IsNoAuth(outsider->GetChildren(znodes::kSecurityRoot).status()));

  // The chroot node, seen from ZooKeeper's root: nothing to create in it, and it cannot go.
  const std::string& connect = cluster_->zk_connect();
  const std::string chroot = connect.substr(connect.find('/'));
  auto root = Session(connect.substr(0, connect.find('/')));
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(IsNoAuth(root->Create(chroot + "/evil", "", CreateMode::kPersistent).status()));
  EXPECT_TRUE(IsNoAuth(root->Delete(chroot + "/topics")));
  EXPECT_EQ(ZkErrorOf(root->Delete(chroot)), ZkError::kNotEmpty);

  // Nothing changed, and the cluster serves on.
  const auto after = admin->Get(p0);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->data, before->data);
  EXPECT_EQ(after->stat.version, before->stat.version);
  EXPECT_TRUE(admin->Exists(broker1).value().has_value());
  ASSERT_NO_FATAL_FAILURE(Produce(topic, "after", 20));
  EXPECT_EQ(cluster_->ReadPartition(cluster_->ids().front(), topic, 0).size(), 40u);
}

TEST_F(ZkAclClusterTest, ABrokerWithOtherCredentialsRefusesToStart) {
  const std::string dir = MakeTempDir("zoomq-zk-acl-intruder");
  ASSERT_FALSE(dir.empty());
  const std::string wrong = dir + "/zk-auth";
  std::ofstream(wrong) << "zoomq:guess\n";
  zoomq::proc::BrokerCommand c;
  c.id = 4;
  c.dir = dir;
  c.port = zoomq::proc::PickFreePort();
  c.args = {"--zk", cluster_->zk_connect(), "--zk-auth-file", wrong};
  zoomq::proc::BrokerChild intruder(c);
  EXPECT_FALSE(intruder.Start(milliseconds(10000)).empty());
  EXPECT_FALSE(intruder.Running());
  const std::string log = intruder.LogTail(4000);
  EXPECT_NE(log.find("ZNOAUTH"), std::string::npos) << log;
  EXPECT_NE(log.find("locked with other credentials"), std::string::npos) << log;

  // A malformed file stops it before it touches anything.
  std::ofstream(wrong) << "no colon here\n";
  EXPECT_FALSE(intruder.Start(milliseconds(10000)).empty());
  EXPECT_EQ(DescribeWaitStatus(intruder.last_status()), "exited with code 2");
  const std::string refused = intruder.LogTail(4000);
  EXPECT_NE(refused.find("--zk-auth-file: " + wrong + ": no ':'"), std::string::npos) << refused;
  zoomq::proc::RemoveTempDir(dir);

  // The cluster did not notice: still the three brokers.
  auto outsider = Session(cluster_->zk_connect());
  ASSERT_NE(outsider, nullptr);
  EXPECT_EQ(outsider->GetChildren(znodes::kBrokerIds).value(),
            (std::vector<std::string>{"1", "2", "3"}));
}

}  // namespace
}  // namespace zoomq::cluster_testing
