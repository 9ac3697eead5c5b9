// Security on a real standalone broker (issue 12): tokens, rules, 401/403 with nothing written,
// routes between brokers closed to clients, revocation, persistence across a restart.
#include <sys/stat.h>

#include <fstream>

#include "broker/security/admin_token.h"
#include "broker_test.h"
#include "zoomq/proc/files.h"

namespace zoomq::testing {
namespace {

// A fresh admin token in a private file; removed with the fixture.
class AdminTokenFile {
 public:
  AdminTokenFile() : dir_(zoomq::proc::MakeTempDir("zoomq-admin")) {
    token_ = "zq_" + std::string(64, '7');
    std::ofstream(path()) << token_ << "\n";
    ::chmod(path().c_str(), 0600);
  }
  ~AdminTokenFile() { zoomq::proc::RemoveTempDir(dir_); }
  std::string path() const { return dir_ + "/admin.token"; }
  const std::string& token() const { return token_; }

 private:
  std::string dir_;
  std::string token_;
};

class SecurityTest : public BrokerTest {
 protected:
  BrokerOptions Options() override {
    BrokerOptions o;
    o.extra_args = {"--admin-token-file", admin_.path()};
    return o;
  }
  void SetUp() override {
    BrokerTest::SetUp();
    http().client().set_bearer_token_auth(admin_.token());
  }

  // An HTTP client presenting `token` ("" for none).
  std::unique_ptr<Http> As(const std::string& token) {
    auto h = std::make_unique<Http>(broker());
    if (!token.empty()) h->client().set_bearer_token_auth(token);
    return h;
  }
  // Creates `user` with one token and returns the token.
  std::string UserWithToken(const std::string& user) {
    EXPECT_TRUE(IsStatus(http().Post("/v1/security/users", {{"name", user}}), 201));
    auto t = http().Post("/v1/security/users/" + user + "/tokens", {{"description", "test"}});
    EXPECT_TRUE(IsStatus(t, 201));
    EXPECT_EQ(t.header("Cache-Control"), "no-store");
    return t.body.value("token", "");
  }
  void Allow(const std::string& principal, const std::string& resource, const std::string& name,
             const std::string& op, bool prefix = false) {
    Json rule = {{"principal", principal},
                 {"resource", resource},
                 {"operation", op},
                 {"pattern", prefix ? "prefix" : "literal"}};
    if (!name.empty()) rule["name"] = name;
    auto r = http().Post("/v1/security/acls", rule);
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.Describe();
  }
  int64_t HighWatermark(const std::string& topic, int partition) {
    auto r = http().Get("/v1/topics/" + topic);
    EXPECT_TRUE(IsStatus(r, 200));
    for (const Json& p : r.body.value("partitions", Json::array())) {
      if (p.value("partition", -1) == partition) return p.value("high_watermark", int64_t{-1});
    }
    return -1;
  }

  AdminTokenFile admin_;
};

TEST_F(SecurityTest, NoTokenOrAnUnknownOneIs401AndHealthStaysOpen) {
  CreateTopicOrFail("orders");
  auto anonymous = As("");
  EXPECT_TRUE(IsStatus(anonymous->Get("/v1/health"), 200));
  for (const std::string& token : {std::string(""), std::string("zq_") + std::string(64, '0'),
                                   std::string("zqb.1.") + std::string(64, '0')}) {
    auto h = As(token);
    auto r = Produce(*h, "orders", Json::array({{{"value", 1}}}));
    EXPECT_TRUE(IsStatus(r, 401)) << "token '" << token << "'";
    EXPECT_EQ(r.error_code(), "UNAUTHENTICATED");
    EXPECT_TRUE(IsStatus(h->Get("/v1/topics"), 401));
  }
  // Malformed headers are 401 too, and read nothing further.
  for (const std::string& header :
       {std::string("Basic abc"), std::string("Bearer"), std::string("Bearer a b"),
        std::string("Bearer ") + std::string(600, 'a')}) {
    httplib::Headers hs = {{"Authorization", header}};
    auto res = anonymous->client().Get("/v1/topics", hs);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << header;
    EXPECT_NE(res->body.find("UNAUTHENTICATED"), std::string::npos) << res->body;
  }
  EXPECT_EQ(HighWatermark("orders", 0), 0) << "nothing written";
}

TEST_F(SecurityTest, RulesDecideAndARefusedWriteWritesNothing) {
  CreateTopicOrFail("orders", {{"partitions", 1}});
  CreateTopicOrFail("payroll", {{"partitions", 1}});
  const std::string alice = UserWithToken("alice");  // produces to orders.*
  const std::string bob = UserWithToken("bob");      // consumes orders as group billing
  Allow("alice", "topic", "orders", "produce", /*prefix=*/true);
  Allow("bob", "topic", "orders", "consume");
  Allow("bob", "group", "billing", "consume");
  auto a = As(alice), b = As(bob);

  auto produced = Produce(*a, "orders", Json::array({{{"value", "o1"}}}));
  ASSERT_TRUE(IsStatus(produced, 200));
  EXPECT_TRUE(IsStatus(Produce(*a, "payroll", Json::array({{{"value", 1}}})), 403));
  auto refused = Produce(*b, "orders", Json::array({{{"value", "b1"}}, {{"value", "b2"}}}));
  EXPECT_TRUE(IsStatus(refused, 403));
  EXPECT_EQ(refused.error_code(), "FORBIDDEN");
  EXPECT_NE(refused.error_message().find("principal 'bob' may not produce on topic 'orders'"),
            std::string::npos)
      << refused.Describe();
  EXPECT_EQ(HighWatermark("orders", 0), 1) << "the refused batch wrote nothing";

  // Group routes need the operation on the topic and on the group.
  auto pulled = Pull(*b, "orders", "billing", "c1", 10, 0);
  ASSERT_TRUE(IsStatus(pulled, 200));
  ASSERT_EQ(pulled.body["messages"].size(), 1u);
  EXPECT_TRUE(IsStatus(Pull(*b, "orders", "audit", "c1", 10, 0), 403)) << "group not allowed";
  EXPECT_TRUE(IsStatus(Pull(*a, "orders", "billing", "c1", 10, 0), 403)) << "topic not allowed";
  EXPECT_TRUE(IsStatus(b->Get("/v1/topics/orders/partitions/0/messages?from=0"), 200));
  EXPECT_TRUE(IsStatus(b->Get("/v1/topics/payroll/partitions/0/messages?from=0"), 403));
  EXPECT_TRUE(IsStatus(b->Delete("/v1/topics/orders"), 403));
  EXPECT_TRUE(IsStatus(a->Post("/v1/topics", {{"name", "orders.eu"}}), 403))
      << "produce does not allow create";

  // Lists show only what the caller may touch.
  auto listed = b->Get("/v1/topics");
  ASSERT_TRUE(IsStatus(listed, 200));
  ASSERT_EQ(listed.body["topics"].size(), 1u) << listed.Describe();
  EXPECT_EQ(listed.body["topics"][0]["name"], "orders");
  auto cluster = b->Get("/v1/cluster");
  ASSERT_TRUE(IsStatus(cluster, 200));
  EXPECT_EQ(cluster.body["topics"].size(), 1u) << cluster.Describe();
  EXPECT_TRUE(IsStatus(b->Get("/metrics"), 403));
  auto me = b->Get("/v1/security/whoami");
  ASSERT_TRUE(IsStatus(me, 200));
  EXPECT_EQ(me.body["principal"], "bob");
  EXPECT_EQ(me.body["superuser"], false);
  // Administration needs cluster_admin.
  EXPECT_TRUE(IsStatus(b->Post("/v1/security/users", {{"name", "mallory"}}), 403));
  EXPECT_TRUE(IsStatus(
      b->Post("/v1/security/acls",
              {{"principal", "bob"}, {"resource", "cluster"}, {"operation", "cluster_admin"}}),
      403));
}

TEST_F(SecurityTest, RoutesBetweenBrokersRefuseEveryClientTokenAndChangeNothing) {
  CreateTopicOrFail("orders", {{"partitions", 1}});
  ProduceOk("orders", Json::array({{{"value", 1}}, {{"value", 2}}}));
  const std::string alice = UserWithToken("alice");
  Allow("alice", "cluster", "", "cluster_admin");  // even a superuser's client token
  for (const std::string& token : {admin_.token(), alice, std::string("")}) {
    auto h = As(token);
    const int expected = token.empty() ? 401 : 403;
    EXPECT_TRUE(
        IsStatus(h->Get("/internal/v1/fetch?topic=orders&partition=0&replica=2&offset=2&epoch=0"),
                 expected));
    EXPECT_TRUE(IsStatus(h->Get("/internal/v1/log?topic=orders&partition=0"), expected));
    EXPECT_TRUE(
        IsStatus(h->Get("/internal/v1/epoch_end?topic=orders&partition=0&epoch=0"), expected));
    EXPECT_TRUE(
        IsStatus(h->Get("/internal/v1/in_flight?topic=orders&group=g&consumer=c"), expected));
    EXPECT_TRUE(IsStatus(h->PostRaw("/internal/v1/controlled_shutdown?broker=1", ""), expected));
    // The forwarded mark is a broker's alone.
    httplib::Headers forwarded = {{"X-Zoomq-Forwarded", "1"}, {"X-Zoomq-Principal", "admin"}};
    auto res = h->client().Post("/v1/topics/orders/messages", forwarded,
                                R"({"messages":[{"value":3}]})", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, expected) << res->body;
  }
  EXPECT_EQ(HighWatermark("orders", 0), 2) << "nothing written, the high watermark unmoved";
}

TEST_F(SecurityTest, RevokedTokensAndDeletedUsersAreRefusedAtOnceAndRulesPersist) {
  CreateTopicOrFail("orders", {{"partitions", 1}});
  const std::string alice = UserWithToken("alice");
  Allow("alice", "topic", "orders", "produce");
  auto a = As(alice);
  ASSERT_TRUE(IsStatus(Produce(*a, "orders", Json::array({{{"value", 1}}})), 200));

  auto tokens = http().Get("/v1/security/tokens?user=alice");
  ASSERT_TRUE(IsStatus(tokens, 200));
  ASSERT_EQ(tokens.body["tokens"].size(), 1u);
  EXPECT_FALSE(tokens.body["tokens"][0].contains("token")) << "never shown again";
  EXPECT_FALSE(tokens.body["tokens"][0].contains("hash"));
  const std::string id = tokens.body["tokens"][0]["id"];

  // Survives kill -9 and a restart: users, tokens and rules are stored (synchronous=FULL).
  broker().Kill();
  ASSERT_TRUE(broker().Restart());
  a = As(alice);
  ASSERT_TRUE(IsStatus(Produce(*a, "orders", Json::array({{{"value", 2}}})), 200));
  auto acls = As(admin_.token())->Get("/v1/security/acls");
  ASSERT_TRUE(IsStatus(acls, 200));
  EXPECT_EQ(acls.body["acls"].size(), 1u);

  auto admin = As(admin_.token());
  ASSERT_TRUE(IsStatus(admin->Delete("/v1/security/tokens/" + id), 204));
  auto r = Produce(*a, "orders", Json::array({{{"value", 3}}}));
  EXPECT_TRUE(IsStatus(r, 401));
  EXPECT_EQ(r.error_message(), "unknown or revoked token");
  EXPECT_TRUE(IsStatus(admin->Delete("/v1/security/tokens/" + id), 404));

  const std::string alice2 = UserWithToken("alice2");
  Allow("alice2", "topic", "orders", "produce");
  ASSERT_TRUE(IsStatus(Produce(*As(alice2), "orders", Json::array({{{"value", 4}}})), 200));
  ASSERT_TRUE(IsStatus(admin->Delete("/v1/security/users/alice2"), 204));
  EXPECT_TRUE(IsStatus(Produce(*As(alice2), "orders", Json::array({{{"value", 5}}})), 401));
  auto after = admin->Get("/v1/security/acls");
  EXPECT_EQ(after.body["acls"].size(), 1u) << "alice2's rule went with her";
  EXPECT_EQ(HighWatermark("orders", 0), 3);
}

TEST_F(SecurityTest, BadAdministrationRequestsAre4xxAndChangeNothing) {
  auto admin = As(admin_.token());
  struct Case {
    std::string path, body;
    int status;
  };
  for (const Case& c : std::vector<Case>{
           {"/v1/security/users", "{", 400},
           {"/v1/security/users", R"({"name":"a b"})", 400},
           {"/v1/security/users", R"({"name":"admin"})", 400},
           {"/v1/security/users", R"({"name":1})", 400},
           {"/v1/security/users", R"({"name":"x","role":"root"})", 400},
           {"/v1/security/users/nobody/tokens", "{}", 404},
           {"/v1/security/acls", R"({"principal":"p","resource":"topic","name":"t"})", 400},
           {"/v1/security/acls",
            R"({"principal":"p","resource":"topic","name":"t","operation":"fly"})", 400},
           {"/v1/security/acls",
            R"({"principal":"p","resource":"group","name":"g","operation":"produce"})", 400},
           {"/v1/security/acls",
            R"({"principal":"p","resource":"cluster","name":"x","operation":"alter"})", 400},
           {"/v1/security/acls",
            R"({"principal":"p","resource":"topic","name":"t","operation":"produce","x":1})", 400},
           {"/v1/security/acls", "[]", 400},
       }) {
    auto r = admin->PostRaw(c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.path << " " << c.body << ": " << r.Describe();
    EXPECT_FALSE(r.error_code().empty()) << r.Describe();
  }
  EXPECT_TRUE(IsStatus(admin->Delete("/v1/security/acls/abc"), 400));
  EXPECT_TRUE(IsStatus(admin->Delete("/v1/security/acls/99"), 404));
  EXPECT_TRUE(IsStatus(admin->Post("/v1/security/users", {{"name", "carol"}}), 201));
  EXPECT_TRUE(IsStatus(admin->Post("/v1/security/users", {{"name", "carol"}}), 409));
  auto users = admin->Get("/v1/security/users");
  ASSERT_EQ(users.body["users"].size(), 1u) << users.Describe();
  EXPECT_TRUE(admin->Get("/v1/security/acls").body["acls"].empty());
}

class QuotaTest : public SecurityTest {
 protected:
  BrokerOptions Options() override {
    BrokerOptions o = SecurityTest::Options();
    o.extra_args.insert(o.extra_args.end(),
                        {"--quota-requests-per-s", "5", "--quota-produce-bytes-per-s", "2000"});
    return o;
  }
};

TEST_F(QuotaTest, APrincipalOverItsQuotaGets429WithRetryAfterAndWritesNothing) {
  CreateTopicOrFail("orders", {{"partitions", 1}});
  const std::string alice = UserWithToken("alice");
  const std::string bob = UserWithToken("bob");
  Allow("alice", "topic", "orders", "produce");
  Allow("bob", "topic", "orders", "produce");
  Allow("bob", "topic", "orders", "describe");
  auto a = As(alice);
  // Requests: a burst of one second's worth (5) passes, the next is refused.
  int accepted = 0;
  HttpResponse refused;
  for (int i = 0; i < 20 && refused.status == 0; ++i) {
    auto r = Produce(*a, "orders", Json::array({{{"value", i}}}));
    if (r.status == 200) {
      ++accepted;
    } else {
      refused = r;
    }
  }
  ASSERT_EQ(refused.status, 429) << refused.Describe();
  EXPECT_GE(accepted, 5);
  EXPECT_LE(accepted, 7) << "about 5 per second";
  EXPECT_EQ(refused.error_code(), "OVERLOADED");
  EXPECT_EQ(refused.header("Retry-After"), "1");
  EXPECT_NE(refused.error_message().find("principal 'alice'"), std::string::npos);
  EXPECT_EQ(HighWatermark("orders", 0), accepted) << "the refused request wrote nothing";
  // Produced bytes: one 3 KB batch passes (a bucket starts full), the next waits.
  auto b = As(bob);
  Json big = Json::array({{{"value", std::string(3000, 'x')}}});
  ASSERT_TRUE(IsStatus(Produce(*b, "orders", big), 200));
  auto over = Produce(*b, "orders", big);
  ASSERT_EQ(over.status, 429) << over.Describe();
  EXPECT_GE(std::stoi(over.header("Retry-After")), 1);
  // The admin is never limited, and /metrics counts the refusals.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(IsStatus(http().Get("/v1/topics/orders"), 200));
  auto metrics = http().Get("/metrics");
  ASSERT_TRUE(IsStatus(metrics, 200));
  EXPECT_NE(
      metrics.raw.find(R"(zoomq_quota_throttled_total{principal="alice",quota="requests"} 1)"),
      std::string::npos)
      << metrics.raw.substr(0, 2000);
  EXPECT_NE(metrics.raw.find(R"(principal="bob",quota="produce_bytes")"), std::string::npos);
}

// Without --admin-token-file: everything as before, and the administration says so.
class SecurityOffTest : public BrokerTest {};

TEST_F(SecurityOffTest, EverythingIsOpenAndAdministrationIsRefused) {
  CreateTopicOrFail("orders");
  ProduceOk("orders", Json::array({{{"value", 1}}}));
  auto me = http().Get("/v1/security/whoami");
  ASSERT_TRUE(IsStatus(me, 200));
  EXPECT_EQ(me.body["security"], false);
  auto r = http().Post("/v1/security/users", {{"name", "alice"}});
  EXPECT_TRUE(IsStatus(r, 400));
  EXPECT_NE(r.error_message().find("security is off"), std::string::npos);
  EXPECT_TRUE(IsStatus(http().Get("/internal/v1/log?topic=orders&partition=0"), 200));
  EXPECT_NE(broker().LogTail(100000).find("security is off"), std::string::npos)
      << "one warning line at start";
}

TEST(AdminTokenFileTest, WeakOrMalformedTokensAreRefused) {
  const std::string dir = zoomq::proc::MakeTempDir("zoomq-admin-file");
  auto write = [&](const std::string& text, mode_t mode = 0600) {
    const std::string path = dir + "/t";
    std::ofstream(path, std::ios::trunc) << text;
    ::chmod(path.c_str(), mode);
    return path;
  };
  std::string warning;
  using broker::auth::ReadAdminTokenFile;
  EXPECT_FALSE(ReadAdminTokenFile(dir + "/missing", &warning).ok());
  EXPECT_FALSE(ReadAdminTokenFile(write(""), &warning).ok());
  EXPECT_FALSE(ReadAdminTokenFile(write("short"), &warning).ok());
  EXPECT_FALSE(
      ReadAdminTokenFile(write(std::string(40, 'a') + " " + std::string(40, 'b')), &warning).ok());
  EXPECT_FALSE(ReadAdminTokenFile(write(std::string(40, 'a') + "\"<>"), &warning).ok());
  EXPECT_FALSE(ReadAdminTokenFile(write("zqb.1." + std::string(64, 'a')), &warning).ok());
  auto ok = ReadAdminTokenFile(write("  zq_" + std::string(64, 'c') + "\n"), &warning);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok.value(), "zq_" + std::string(64, 'c'));
  EXPECT_TRUE(warning.empty());
  ASSERT_TRUE(ReadAdminTokenFile(write("zq_" + std::string(64, 'c'), 0644), &warning).ok());
  EXPECT_NE(warning.find("chmod 600"), std::string::npos);
  zoomq::proc::RemoveTempDir(dir);
}

}  // namespace
}  // namespace zoomq::testing
