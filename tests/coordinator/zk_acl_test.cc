// ZooKeeper digest ACLs against a real server (issue 12 item 4): what a ZkSession with digest
// credentials creates, a client without them, or with a wrong password, may read where zoomq
// allows it (metadata) and change nowhere; secrets under /security it cannot even read. A tree
// made before digest was on is locked by the first session that has it. Plus the credentials
// file's format (pure).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "coordinator_test.h"
#include "zoomq/coordinator/zk_credentials.h"
#include "zoomq/coordinator/zk_session.h"
#include "zoomq/coordinator/zk_status.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::coordinator {
namespace {

using std::chrono::milliseconds;
using testing::EventLog;

constexpr char kDigest[] = "zoomq:s3cret";
constexpr char kWrongDigest[] = "zoomq:guess";

// --- the credentials file (pure) -------------------------------------------------------------

TEST(ZkCredentialsTest, OneLineUserColonPassword) {
  EXPECT_EQ(ParseDigestCredentials("zoomq:s3cret\n").value(), "zoomq:s3cret");
  EXPECT_EQ(ParseDigestCredentials("zoomq:s3cret").value(), "zoomq:s3cret");
  EXPECT_EQ(ParseDigestCredentials("zoomq:a:b\r\n\n").value(), "zoomq:a:b");  // ':' in password
  EXPECT_EQ(DigestUser("zoomq:a:b"), "zoomq");
}

TEST(ZkCredentialsTest, RefusesWhatIsNotOneLineUserColonPassword) {
  for (const char* bad : {"", "\n", "no-colon\n", ":password\n", "user:\n", "u:p\nv:q\n"}) {
    auto r = ParseDigestCredentials(bad);
    ASSERT_FALSE(r.ok()) << "'" << bad << "'";
    EXPECT_EQ(r.status().code(), Code::kInvalidRequest);
  }
  // The reason never echoes the content.
  EXPECT_EQ(ParseDigestCredentials("u:p\nv:q").status().message().find("v:q"), std::string::npos);
}

TEST(ZkCredentialsTest, ReadsTheFileAndNamesItInEveryError) {
  const std::string dir = ::testing::TempDir() + "zk-cred-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string good = dir + "/good";
  std::ofstream(good) << "zoomq:s3cret\n";
  EXPECT_EQ(ReadDigestCredentials(good).value(), "zoomq:s3cret");

  const std::string empty = dir + "/empty";
  std::ofstream(empty) << "";
  const std::string large = dir + "/large";
  std::ofstream(large) << "zoomq:" << std::string(5000, 'x') << "\n";
  for (const std::string& bad : {dir + "/missing", dir, empty, large}) {
    auto r = ReadDigestCredentials(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
  }
  std::filesystem::remove_all(dir);
}

// --- against the server ---------------------------------------------------------------------

class ZkAclTest : public testing::CoordinatorTest {
 protected:
  // What brokers create, through each kind of create: EnsurePath, Create of every mode, Multi.
  // Returns the ephemeral sequential candidate's path.
  std::string MakeTree(ZkSession* s) {
    EXPECT_TRUE(s->EnsurePath("/topics/t/partitions").ok());
    EXPECT_TRUE(s->Create("/topics/t/partitions/0", "{}", CreateMode::kPersistent).ok());
    EXPECT_TRUE(
        s->Multi({ZkOp::Create("/topics/m", "{}"), ZkOp::Create("/topics/m/partitions", "")}).ok());
    EXPECT_TRUE(s->EnsurePath(znodes::kBrokerIds).ok());
    EXPECT_TRUE(s->Create(znodes::BrokerIdPath(1), "{\"id\":1}", CreateMode::kEphemeral).ok());
    EXPECT_TRUE(s->EnsurePath(znodes::kControllerElection).ok());
    auto candidate = s->Create(std::string(znodes::kControllerElection) + "/n_", "c",
                               CreateMode::kEphemeralSequential);
    EXPECT_TRUE(candidate.ok()) << candidate.status().ToString();
    EXPECT_TRUE(s->EnsurePath(znodes::kSecurityRoot).ok());
    EXPECT_TRUE(
        s->Create(znodes::kSecurityState, "{\"token_hashes\":[]}", CreateMode::kPersistent).ok());
    return candidate.ok() ? *candidate : "";
  }

  // Every change `s` tries on the tree is refused, none is applied.
  void ExpectCannotChange(ZkSession* s, const std::string& candidate) {
    const std::vector<std::string> nodes = {"/",
                                            "/topics",
                                            "/topics/t",
                                            "/topics/t/partitions/0",
                                            "/topics/m/partitions",
                                            znodes::kBrokerIds,
                                            znodes::BrokerIdPath(1),
                                            candidate,
                                            znodes::kControllerElection,
                                            znodes::kSecurityRoot,
                                            znodes::kSecurityState};
    for (const std::string& path : nodes) {
      SCOPED_TRACE(path);
      EXPECT_TRUE(IsNoAuth(s->Set(path, "changed").status()));
      const bool ephemeral = path == candidate || path == znodes::BrokerIdPath(1);
      if (!ephemeral) {  // ephemerals have no children: the create would fail anyway
        EXPECT_TRUE(IsNoAuth(s->Create(JoinPath(path, "x"), "", CreateMode::kPersistent).status()));
        EXPECT_TRUE(IsNoAuth(s->Create(JoinPath(path, "e"), "", CreateMode::kEphemeral).status()));
      }
    }
    for (const std::string& leaf :
         {std::string("/topics/t/partitions/0"), std::string("/topics/m/partitions"),
          znodes::BrokerIdPath(1), candidate, std::string(znodes::kSecurityState)}) {
      EXPECT_TRUE(IsNoAuth(s->Delete(leaf))) << leaf;
    }
    EXPECT_TRUE(IsNoAuth(s->Multi({ZkOp::Delete("/topics/t/partitions/0")})));
    // Nothing changed: the node and its data are as MakeTree left them.
    ZkSession* owner = Connect(2000, "", kDigest);
    ASSERT_NE(owner, nullptr);
    auto state = owner->Get("/topics/t/partitions/0");
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->data, "{}");
    EXPECT_EQ(owner->GetChildren("/topics/t").value(), std::vector<std::string>{"partitions"});
  }
};

TEST_F(ZkAclTest, WithoutCredentialsNothingChangesAndNoSecretIsRead) {
  ZkSession* broker = Connect(2000, "", kDigest);
  ASSERT_NE(broker, nullptr);
  EXPECT_EQ(broker->nodes_locked_at_start(), 0);  // a new chroot: created locked
  const std::string candidate = MakeTree(broker);
  ZkSession* outsider = Connect();
  ASSERT_NE(outsider, nullptr);

  ExpectCannotChange(outsider, candidate);
  // Metadata stays world-readable (the SDK's ZooKeeper bootstrap reads /brokers/ids).
  auto ids = outsider->GetChildren(znodes::kBrokerIds);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(*ids, std::vector<std::string>{"1"});
  EXPECT_EQ(outsider->Get(znodes::BrokerIdPath(1)).value().data, "{\"id\":1}");
  EXPECT_TRUE(outsider->Get("/topics/t/partitions/0").ok());
  // Secrets do not.
  EXPECT_TRUE(IsNoAuth(outsider->Get(znodes::kSecurityState).status()));
  EXPECT_TRUE(IsNoAuth(outsider->GetChildren(znodes::kSecurityRoot).status()));

  // Every broker logs in as the same identity: another session with the credentials may do
  // everything the first one may.
  ZkSession* peer = Connect(2000, "", kDigest);
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(peer->Get(znodes::kSecurityState).ok());
  EXPECT_TRUE(peer->Set("/topics/t/partitions/0", "{\"leader\":1}").ok());
  EXPECT_TRUE(peer->Delete(candidate).ok());
  EXPECT_TRUE(peer->Create("/topics/t/partitions/1", "{}", CreateMode::kPersistent).ok());
}

TEST_F(ZkAclTest, WrongPasswordChangesNothingAndReadsNoSecret) {
  ZkSession* broker = Connect(2000, "", kDigest);
  ASSERT_NE(broker, nullptr);
  const std::string candidate = MakeTree(broker);
  // The server accepts any digest: the session starts, and is a stranger to the tree.
  ZkSession* impostor = Connect(2000, "", kWrongDigest);
  ASSERT_NE(impostor, nullptr);
  EXPECT_EQ(impostor->nodes_locked_at_start(), 0);
  ExpectCannotChange(impostor, candidate);
  EXPECT_TRUE(IsNoAuth(impostor->Get(znodes::kSecurityState).status()));
}

TEST_F(ZkAclTest, TheChrootNodeItselfIsLocked) {
  ZkSession* broker = Connect(2000, "", kDigest);
  ASSERT_NE(broker, nullptr);
  MakeTree(broker);
  ZkSession* root = ConnectRoot();  // no credentials, no chroot: sees the chroot node itself
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(IsNoAuth(root->Create(chroot_ + "/evil", "", CreateMode::kPersistent).status()));
  EXPECT_TRUE(IsNoAuth(root->Set(chroot_, "changed").status()));
  EXPECT_TRUE(IsNoAuth(root->Delete(chroot_ + "/topics")));
  // Its parent is ZooKeeper's open "/", which allows the delete itself; the children nobody
  // else can remove keep the chroot from going.
  Status del = root->Delete(chroot_);
  EXPECT_EQ(ZkErrorOf(del), ZkError::kNotEmpty) << del.ToString();
  EXPECT_TRUE(root->Exists(chroot_).value().has_value());
}

TEST_F(ZkAclTest, AnOpenTreeIsLockedByTheFirstSessionWithCredentials) {
  // A cluster that ran without credentials: everything open.
  ZkSession* before = Connect();
  ASSERT_NE(before, nullptr);
  const std::string candidate = MakeTree(before);
  ZkSession* outsider = Connect();
  ASSERT_NE(outsider, nullptr);
  ASSERT_TRUE(outsider->Get(znodes::kSecurityState).ok());

  ZkSession* broker = Connect(2000, "", kDigest);
  ASSERT_NE(broker, nullptr);
  // The chroot, /topics, t, t/partitions, t/partitions/0, m, m/partitions, /brokers, ids,
  // ids/1, /controller, election, the candidate, /security, /security/state.
  EXPECT_EQ(broker->nodes_locked_at_start(), 15);
  ExpectCannotChange(outsider, candidate);
  EXPECT_TRUE(IsNoAuth(outsider->Get(znodes::kSecurityState).status()));
  EXPECT_TRUE(outsider->GetChildren(znodes::kBrokerIds).ok());

  // Done once: the next session finds the chroot locked and walks no further.
  ZkSession* next = Connect(2000, "", kDigest);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->nodes_locked_at_start(), 0);
}

TEST_F(ZkAclTest, WithoutCredentialsTheTreeStaysOpen) {
  ZkSession* broker = Connect();
  ASSERT_NE(broker, nullptr);
  MakeTree(broker);
  ZkSession* other = Connect();
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Get(znodes::kSecurityState).ok());
  EXPECT_TRUE(other->Set("/topics/t", "changed").ok());
  EXPECT_TRUE(other->Delete("/topics/t/partitions/0").ok());
  ZkSession* root = ConnectRoot();
  ASSERT_NE(root, nullptr);
  EXPECT_TRUE(root->Create(chroot_ + "/other", "", CreateMode::kPersistent).ok());
}

TEST_F(ZkAclTest, ANewSessionAfterExpiryLogsInAgain) {
  ZkSession* broker = Connect(2000, "", kDigest);
  ASSERT_NE(broker, nullptr);
  EventLog<SessionEvent>& events = Listen(broker);
  ASSERT_TRUE(broker->ExpireSessionForTesting().ok());
  ASSERT_TRUE(events.WaitUntil(
      [](const std::vector<SessionEvent>& v) {
        return !v.empty() && v.back().state == SessionState::kConnected && v.back().new_session;
      },
      milliseconds(10000)));
  // A create with the creator's ACL fails with ZINVALIDACL on a handle without credentials.
  auto created = broker->Create("/after-expiry", "", CreateMode::kPersistent);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(broker->Create("/after-expiry/e", "", CreateMode::kEphemeral).ok());
  ZkSession* outsider = Connect();
  ASSERT_NE(outsider, nullptr);
  EXPECT_TRUE(IsNoAuth(outsider->Set("/after-expiry", "changed").status()));
  EXPECT_TRUE(IsNoAuth(outsider->Delete("/after-expiry/e")));
}

}  // namespace
}  // namespace zoomq::coordinator
