// zoomqctl end to end: the real binary against a real standalone broker, checked through its
// exit codes and its --json output.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "broker_process.h"
#include "child_process.h"
#include "zoomq/proc/files.h"

namespace zoomq::testing {
namespace {

std::vector<Json> JsonLines(const std::string& text) {
  std::vector<Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not a JSON line: " << line;
    out.push_back(j);
  }
  return out;
}

Json ParseDoc(const RunResult& r) {
  Json j = Json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.description;
  return j;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.Start()); }

  // zoomqctl --brokers <broker> --timeout-ms <timeout_ms> args...
  RunResult Ctl(std::vector<std::string> args, const std::string& input = "",
                int timeout_ms = 5000) {
    args.insert(args.begin(),
                {"--brokers", broker_.url(), "--timeout-ms", std::to_string(timeout_ms)});
    return RunToCompletion(ZOOMQCTL_BIN, args, input);
  }
  // Runs `consume` with --json, expects exit 0 and `count` JSON lines, returns them.
  std::vector<Json> Consume(std::vector<std::string> args, size_t count) {
    args.insert(args.begin(), "consume");
    args.push_back("--json");
    RunResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.description;
    std::vector<Json> lines = JsonLines(r.out);
    EXPECT_EQ(lines.size(), count) << r.description;
    if (lines.size() != count) lines.resize(count, Json::object());  // keep indexing safe
    return lines;
  }
  void CreateTopic(const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"topic", "create", name};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Ctl(args);
    ASSERT_EQ(r.exit_code, 0) << r.description;
  }

  BrokerProcess broker_;
};

TEST_F(CliTest, TopicCreateListDescribeDelete) {
  const std::string topic = UniqueName("t");
  RunResult created = Ctl({"topic", "create", topic, "--partitions", "2", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.description;
  Json doc = ParseDoc(created);
  EXPECT_EQ(doc["name"], topic);
  EXPECT_EQ(doc["created"], true);
  EXPECT_EQ(doc["config"]["partitions"], 2);

  RunResult again = Ctl({"topic", "create", topic, "--partitions", "2", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.description;
  EXPECT_EQ(ParseDoc(again)["created"], false);
  RunResult conflict = Ctl({"topic", "create", topic, "--partitions", "3", "--json"});
  EXPECT_EQ(conflict.exit_code, 4) << conflict.description;
  EXPECT_EQ(ParseDoc(conflict)["error"]["code"], "TOPIC_EXISTS");

  RunResult list = Ctl({"topic", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.description;
  bool listed = false;
  const Json topics = ParseDoc(list)["topics"];
  for (const Json& t : topics) listed = listed || t["name"] == topic;
  EXPECT_TRUE(listed) << list.out;
  RunResult table = Ctl({"topic", "list"});
  EXPECT_NE(table.out.find(topic), std::string::npos) << table.description;

  RunResult described = Ctl({"topic", "describe", topic, "--json"});
  ASSERT_EQ(described.exit_code, 0) << described.description;
  EXPECT_EQ(ParseDoc(described)["partitions"].size(), 2u) << described.out;

  RunResult deleted = Ctl({"topic", "delete", topic});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.description;
  EXPECT_EQ(Ctl({"topic", "describe", topic}).exit_code, 2);
  EXPECT_EQ(Ctl({"topic", "delete", topic}).exit_code, 2);
}

TEST_F(CliTest, ProduceFromArgumentsAndStdinThenReadTheStream) {
  const std::string topic = UniqueName("p");
  CreateTopic(topic, {"--partitions", "1"});
  RunResult args = Ctl({"produce", topic, "--key", "k1", "--header", "unit=C", "--json",
                        R"({"a":1})", "hello", "42"});
  ASSERT_EQ(args.exit_code, 0) << args.description;
  Json results = ParseDoc(args)["results"];
  ASSERT_EQ(results.size(), 3u) << args.out;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i]["partition"], 0);
    EXPECT_EQ(results[i]["offset"], i);
  }
  RunResult lines = Ctl({"produce", topic}, "x\n\n{\"b\":2}\r\n");
  ASSERT_EQ(lines.exit_code, 0) << lines.description;
  EXPECT_EQ(lines.out, "partition 0 offset 3\npartition 0 offset 4\n");

  std::vector<Json> messages = Consume({topic, "--from", "0", "--wait-ms", "200"}, 5);
  EXPECT_EQ(messages[0]["value"], Json::parse(R"({"a":1})"));
  EXPECT_EQ(messages[1]["value"], "hello");
  EXPECT_EQ(messages[2]["value"], 42);
  EXPECT_EQ(messages[3]["value"], "x");
  EXPECT_EQ(messages[4]["value"], Json::parse(R"({"b":2})"));
  EXPECT_EQ(messages[0]["key"], "k1");
  EXPECT_EQ(messages[2]["headers"]["unit"], "C");
  EXPECT_FALSE(messages[3].contains("key"));
}

TEST_F(CliTest, StreamFromAnOffsetOfOnePartition) {
  const std::string topic = UniqueName("s");
  CreateTopic(topic, {"--partitions", "2"});
  ASSERT_EQ(Ctl({"produce", topic, "--partition", "1", "a", "b", "c", "d"}).exit_code, 0);
  ASSERT_EQ(Ctl({"produce", topic, "--partition", "0", "z"}).exit_code, 0);
  std::vector<Json> messages =
      Consume({topic, "--from", "2", "--partition", "1", "--wait-ms", "200"}, 2);
  EXPECT_EQ(messages[0]["partition"], 1);
  EXPECT_EQ(messages[0]["offset"], 2);
  EXPECT_EQ(messages[0]["value"], "c");
  EXPECT_EQ(messages[1]["value"], "d");
}

TEST_F(CliTest, GroupConsumeAcksSoASecondConsumeGetsNothing) {
  const std::string topic = UniqueName("g");
  CreateTopic(topic, {"--partitions", "2"});
  ASSERT_EQ(Ctl({"produce", topic, "one", "two", "three"}).exit_code, 0);
  std::vector<Json> got =
      Consume({topic, "--group", "g1", "--consumer", "c1", "--wait-ms", "300"}, 3);
  for (const Json& m : got) EXPECT_EQ(m["delivery"], 1);
  // All three were acked: nothing comes back.
  Consume({topic, "--group", "g1", "--wait-ms", "300"}, 0);

  RunResult group = Ctl({"group", "describe", topic, "g1", "--json"});
  ASSERT_EQ(group.exit_code, 0) << group.description;
  Json g = ParseDoc(group);
  EXPECT_EQ(g["acked"], 3);
  EXPECT_EQ(g["backlog"], 0);
  EXPECT_EQ(g["in_flight"], 0);
  EXPECT_EQ(Ctl({"group", "describe", topic, "nosuchgroup"}).exit_code, 2);
}

TEST_F(CliTest, NoAckLeavesTheMessageToComeBackAfterItsLease) {
  const std::string topic = UniqueName("n");
  CreateTopic(topic);
  ASSERT_EQ(Ctl({"produce", topic, "again"}).exit_code, 0);
  Consume({topic, "--group", "g", "--no-ack", "--visibility-ms", "300", "--max", "1"}, 1);
  // The lease runs out after 300 ms; a long poll of 5 s waits for the redelivery.
  std::vector<Json> got = Consume({topic, "--group", "g", "--max", "1", "--wait-ms", "5000"}, 1);
  EXPECT_EQ(got[0]["delivery"], 2);
  EXPECT_EQ(got[0]["value"], "again");
}

TEST_F(CliTest, DeadLettersCanBePeekedAndRedriven) {
  const std::string topic = UniqueName("d");
  CreateTopic(topic, {"--partitions", "1", "--max-deliveries", "1"});
  ASSERT_EQ(Ctl({"produce", topic, "--key", "k", R"({"bad":true})"}).exit_code, 0);
  Consume({topic, "--group", "g", "--nack", "--max", "1"}, 1);

  Json dead;
  ASSERT_TRUE(WaitFor(
      [&] {
        RunResult peek = Ctl({"dlq", "peek", topic, "--json"});
        if (peek.exit_code != 0) return false;
        dead = Json::parse(peek.out, nullptr, false);
        return !dead.is_discarded() && dead["messages"].size() == 1;
      },
      milliseconds(10000), milliseconds(100)))
      << dead.dump();
  const Json& letter = dead["messages"][0];
  EXPECT_EQ(letter["value"], Json::parse(R"({"bad":true})"));
  EXPECT_EQ(letter["headers"]["zoomq-original-topic"], topic);
  // Peeking consumes nothing.
  RunResult peek_again = Ctl({"dlq", "peek", topic, "--json"});
  EXPECT_EQ(ParseDoc(peek_again)["messages"].size(), 1u) << peek_again.description;

  RunResult redrive = Ctl({"dlq", "redrive", topic, "--json"});
  ASSERT_EQ(redrive.exit_code, 0) << redrive.description;
  EXPECT_EQ(ParseDoc(redrive)["redriven"], 1);
  std::vector<Json> got = Consume({topic, "--group", "g", "--max", "1", "--wait-ms", "5000"}, 1);
  EXPECT_EQ(got[0]["value"], Json::parse(R"({"bad":true})"));
  EXPECT_EQ(got[0]["key"], "k");
  EXPECT_EQ(got[0]["offset"], 1);
}

TEST_F(CliTest, ClusterJsonShowsTheBrokerAndPartitions) {
  const std::string topic = UniqueName("c");
  CreateTopic(topic, {"--partitions", "3"});
  ASSERT_EQ(Ctl({"produce", topic, "--partition", "2", "v"}).exit_code, 0);
  RunResult cluster = Ctl({"cluster", "--json"});
  ASSERT_EQ(cluster.exit_code, 0) << cluster.description;
  Json c = ParseDoc(cluster);
  ASSERT_EQ(c["brokers"].size(), 1u) << cluster.out;
  EXPECT_EQ(c["brokers"][0]["alive"], true);
  EXPECT_EQ(c["controller"], c["brokers"][0]["id"]);
  const Json* found = nullptr;
  for (const Json& t : c["topics"]) {
    if (t["name"] == topic) found = &t;
  }
  ASSERT_NE(found, nullptr) << cluster.out;
  ASSERT_EQ((*found)["partitions"].size(), 3u);
  for (const Json& p : (*found)["partitions"]) {
    EXPECT_EQ(p["lag"], 0);
    if (p["partition"] == 2) {
      EXPECT_EQ(p["high_watermark"], 1);
    }
  }
  RunResult table = Ctl({"cluster"});
  ASSERT_EQ(table.exit_code, 0) << table.description;
  EXPECT_NE(table.out.find("LAG"), std::string::npos) << table.out;
}

TEST_F(CliTest, UnknownTopicIsExitCode2) {
  const std::string topic = UniqueName("missing");
  RunResult describe = Ctl({"topic", "describe", topic, "--json"});
  EXPECT_EQ(describe.exit_code, 2) << describe.description;
  EXPECT_EQ(ParseDoc(describe)["error"]["code"], "TOPIC_NOT_FOUND");
  EXPECT_EQ(Ctl({"consume", topic, "--group", "g", "--wait-ms", "100"}).exit_code, 2);
  // The producer gives an unknown topic about 3 s to appear (it may have just been created)
  // before it fails the message: a delivery timeout well above that.
  EXPECT_EQ(Ctl({"produce", topic, "v"}, "", 15000).exit_code, 2);
  EXPECT_EQ(Ctl({"dlq", "peek", topic}).exit_code, 2);
}

TEST_F(CliTest, UnreachableClusterIsExitCode3) {
  const std::string nobody = "http://127.0.0.1:" + std::to_string(PickFreePort());
  RunResult list = RunToCompletion(
      ZOOMQCTL_BIN, {"--brokers", nobody, "--timeout-ms", "1000", "topic", "list", "--json"});
  EXPECT_EQ(list.exit_code, 3) << list.description;
  EXPECT_TRUE(ParseDoc(list).contains("error")) << list.out;
  RunResult produce = RunToCompletion(
      ZOOMQCTL_BIN, {"--brokers", nobody, "--timeout-ms", "1000", "produce", "t", "v"});
  EXPECT_EQ(produce.exit_code, 3) << produce.description;
  RunResult consume = RunToCompletion(ZOOMQCTL_BIN, {"--brokers", nobody, "--timeout-ms", "1000",
                                                     "consume", "t", "--group", "g", "--follow"});
  EXPECT_EQ(consume.exit_code, 3) << consume.description;
}

TEST_F(CliTest, UsageErrorsAreExitCode1AndHelpIsEverywhere) {
  EXPECT_EQ(Ctl({}).exit_code, 1);
  EXPECT_EQ(Ctl({"frobnicate"}).exit_code, 1);
  EXPECT_EQ(Ctl({"topic"}).exit_code, 1);
  EXPECT_EQ(Ctl({"topic", "create"}).exit_code, 1);
  EXPECT_EQ(Ctl({"topic", "create", "t", "--partitions", "zero"}).exit_code, 1);
  EXPECT_EQ(Ctl({"consume", "t"}).exit_code, 1);  // neither --group nor --from
  EXPECT_EQ(Ctl({"consume", "t", "--group", "g", "--from", "0"}).exit_code, 1);
  EXPECT_EQ(Ctl({"produce", "t", "--header", "nokey", "v"}).exit_code, 1);

  RunResult help = Ctl({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;
  for (std::vector<std::string> verb : std::vector<std::vector<std::string>>{{"cluster"},
                                                                             {"topic", "create"},
                                                                             {"topic", "list"},
                                                                             {"topic", "describe"},
                                                                             {"topic", "delete"},
                                                                             {"produce"},
                                                                             {"consume"},
                                                                             {"group", "describe"},
                                                                             {"dlq", "peek"},
                                                                             {"dlq", "redrive"}}) {
    verb.push_back("--help");
    RunResult r = Ctl(verb);
    EXPECT_EQ(r.exit_code, 0) << r.description;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << r.description;
  }
}

TEST_F(CliTest, BrokersComeFromTheEnvironment) {
  RunResult list = RunToCompletion(ZOOMQCTL_BIN, {"topic", "list", "--json"}, "",
                                   milliseconds(20000), {"ZOOMQ_BROKERS=" + broker_.url()});
  EXPECT_EQ(list.exit_code, 0) << list.description;
}

TEST_F(CliTest, FollowPrintsNewMessagesAndStopsCleanlyOnSigint) {
  const std::string topic = UniqueName("f");
  CreateTopic(topic);
  const std::string dir = MakeTempDir("zoomq-cli-follow");
  ChildProcess follow(dir);
  ASSERT_TRUE(follow.Start(ZOOMQCTL_BIN, {"--brokers", broker_.url(), "consume", topic, "--group",
                                          "g", "--follow", "--json"}));
  ASSERT_EQ(Ctl({"produce", topic, "first"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return JsonLines(follow.Stdout()).size() == 1; }, milliseconds(10000)))
      << follow.Describe();
  ASSERT_EQ(Ctl({"produce", topic, "second"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return JsonLines(follow.Stdout()).size() == 2; }, milliseconds(10000)))
      << follow.Describe();
  follow.Signal(SIGINT);
  EXPECT_EQ(follow.Wait(milliseconds(5000)), std::optional<int>(0)) << follow.Describe();
  std::vector<Json> got = JsonLines(follow.Stdout());
  EXPECT_EQ(got[1]["value"], "second");
  // Both were acked before the stop.
  RunResult group = Ctl({"group", "describe", topic, "g", "--json"});
  EXPECT_EQ(ParseDoc(group)["acked"], 2) << group.description;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Security administration through zoomqctl (docs/security.md): users, tokens and rules, and
// exit code 5 for 401/403.
class CliSecurityTest : public CliTest {
 protected:
  CliSecurityTest() : broker_secure_(SecureOptions(dir_)) {}
  ~CliSecurityTest() override { zoomq::proc::RemoveTempDir(dir_); }
  static BrokerOptions SecureOptions(const std::string& dir) {
    const std::string path = dir + "/admin.token";
    std::ofstream(path) << kAdmin << "\n";
    ::chmod(path.c_str(), 0600);
    BrokerOptions o;
    o.extra_args = {"--admin-token-file", path};
    return o;
  }
  void SetUp() override { ASSERT_TRUE(broker_secure_.Start()); }
  // zoomqctl against the secure broker, as `token` ("" for none).
  RunResult As(const std::string& token, std::vector<std::string> args,
               std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--brokers", broker_secure_.url(), "--timeout-ms", "5000"});
    if (!token.empty()) args.insert(args.begin(), {"--token", token});
    return RunToCompletion(ZOOMQCTL_BIN, args, "", std::chrono::milliseconds(20000), env);
  }

  static constexpr const char* kAdmin =
      "zq_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const std::string dir_ = zoomq::proc::MakeTempDir("zoomq-cli-admin");
  BrokerProcess broker_secure_;
};

TEST_F(CliSecurityTest, UsersTokensAndRulesFromTheCommandLine) {
  // The admin's token from the environment, as docs/security.md shows.
  const std::vector<std::string> admin_env = {std::string("ZOOMQ_TOKEN=") + kAdmin};
  RunResult r = As("", {"whoami", "--json"}, admin_env);
  ASSERT_EQ(r.exit_code, 0) << r.description;
  EXPECT_EQ(ParseDoc(r)["principal"], "admin");
  ASSERT_EQ(As(kAdmin, {"topic", "create", "orders"}).exit_code, 0);
  ASSERT_EQ(As(kAdmin, {"user", "create", "alice"}).exit_code, 0);
  r = As(kAdmin, {"token", "create", "alice", "--description", "laptop", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.description;
  const std::string alice = ParseDoc(r).value("token", "");
  const std::string id = ParseDoc(r).value("id", "");
  ASSERT_FALSE(alice.empty());

  // No rule yet: 403 is exit code 5, nothing written.
  r = As(alice, {"produce", "orders", "hello"});
  EXPECT_EQ(r.exit_code, 5) << r.description;
  EXPECT_NE((r.out + r.err).find("FORBIDDEN"), std::string::npos) << r.description;
  ASSERT_EQ(As(kAdmin, {"acl", "add", "--principal", "alice", "--operation", "produce", "--topic",
                        "ord", "--prefix"})
                .exit_code,
            0);
  r = As(kAdmin, {"acl", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(ParseDoc(r)["acls"].size(), 1u);
  EXPECT_EQ(ParseDoc(r)["acls"][0]["pattern"], "prefix");
  EXPECT_EQ(As(alice, {"produce", "orders", "hello"}).exit_code, 0);
  EXPECT_EQ(As(alice, {"user", "list"}).exit_code, 5) << "administration needs cluster_admin";
  EXPECT_EQ(As(kAdmin, {"acl", "add", "--principal", "alice", "--operation", "fly", "--topic", "x"})
                .exit_code,
            4)
      << "a bad rule is the server's 400";
  EXPECT_EQ(As(kAdmin, {"acl", "add", "--principal", "alice", "--operation", "produce"}).exit_code,
            1)
      << "no resource: a usage error";

  r = As(kAdmin, {"token", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0);
  ASSERT_EQ(ParseDoc(r)["tokens"].size(), 1u);
  EXPECT_FALSE(ParseDoc(r)["tokens"][0].contains("token"));
  ASSERT_EQ(As(kAdmin, {"token", "revoke", id}).exit_code, 0);
  r = As(alice, {"produce", "orders", "again"});
  EXPECT_EQ(r.exit_code, 5) << r.description;
  EXPECT_NE((r.out + r.err).find("UNAUTHENTICATED"), std::string::npos) << r.description;
  EXPECT_EQ(As("", {"topic", "list"}).exit_code, 5) << "no token at all";

  // `token generate` asks no broker and prints a token fit for --admin-token-file.
  r = RunToCompletion(ZOOMQCTL_BIN, {"token", "generate"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 3u + 64u + 1u) << r.out;
  EXPECT_TRUE(r.out.starts_with("zq_"));
}

}  // namespace
}  // namespace zoomq::testing
