// Bad input against a real broker: one test per class of mistake. Each asserts the status,
// error.code and that nothing was written; the fixture checks afterwards that the topic list
// and high watermarks are unchanged and that the broker still answers /v1/health.

#include <string>
#include <vector>

#include "broker_test.h"

namespace zoomq::testing {
namespace {

constexpr int kMaxMessageBytes = 1024;

class BadInputTest : public BrokerTest {
 protected:
  BrokerOptions Options() override {
    return {1, {"--max-message-bytes", std::to_string(kMaxMessageBytes)}};
  }

  void SetUp() override {
    BrokerTest::SetUp();
    if (HasFatalFailure()) return;
    CreateTopicOrFail("t", {{"partitions", 2}});
    ProduceOk("t", Json::array({{{"value", "p0-a"}, {"partition", 0}},
                                {{"value", "p0-b"}, {"partition", 0}},
                                {{"value", "p1-a"}, {"partition", 1}}}));
    // Group g exists with one message leased to c0 for a minute; two are still available.
    Json leased = PullOk("t", "g", "c0", 1, 0, 60000);
    ASSERT_EQ(leased.size(), 1u);
    leased_id_ = leased[0]["id"].get<std::string>();
    Snapshot();
  }

  void TearDown() override {
    if (broker_ != nullptr && http_ != nullptr) {
      ExpectNothingWritten();
      auto health = http().Get("/v1/health");
      EXPECT_TRUE(IsStatus(health, 200)) << "broker unhealthy after bad input";
      EXPECT_TRUE(broker().Running()) << "broker process died";
    }
    BrokerTest::TearDown();
  }

  // Records the state that bad requests must not change.
  void Snapshot() {
    topics_ = TopicNames(http());
    hw_ = {HighWatermark(http(), "t", 0), HighWatermark(http(), "t", 1)};
  }

  void ExpectNothingWritten() {
    EXPECT_EQ(TopicNames(http()), topics_) << "the topic list changed";
    EXPECT_EQ(HighWatermark(http(), "t", 0), hw_[0]) << "partition 0 was written";
    EXPECT_EQ(HighWatermark(http(), "t", 1), hw_[1]) << "partition 1 was written";
  }

  // The two unleased messages are still available with delivery 1, and the leased one is
  // still leased (so no bad request leased, acked or nacked anything).
  void ExpectGroupUntouched() {
    Json available = PullOk("t", "g", "probe", 100, 0, 60000);
    EXPECT_EQ(available.size(), 2u) << available.dump();
    for (auto m : available) {
      EXPECT_EQ(m["delivery"], Json(1)) << m.dump();
      EXPECT_NE(m["id"], Json(leased_id_)) << "the leased message was released";
    }
  }

  std::string leased_id_;
  std::vector<std::string> topics_;
  std::vector<int64_t> hw_;
};

// Every combination: the expected 400 INVALID_REQUEST.
void Expect400(Http& http, const std::string& method, const std::string& path,
               const std::string& body) {
  HttpResponse r;
  if (method == "POST") {
    r = http.PostRaw(path, body);
  } else if (method == "PUT") {
    r = http.PutRaw(path, body);
  } else {
    r = http.Get(path);
  }
  EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << method << " " << path << " " << body;
}

TEST_F(BadInputTest, InvalidJsonIs400) {
  const std::vector<std::string> bodies = {"{not json",
                                           "",
                                           "{\"messages\": [",
                                           "[",
                                           "}",
                                           "\xff\xfe\x00",
                                           "{\"name\": \"\xc3\x28\"}",  // invalid UTF-8
                                           "{\"a\":1}{\"b\":2}",        // trailing garbage
                                           "nul"};
  for (const auto& body : bodies) {
    Expect400(http(), "POST", "/v1/topics", body);
    Expect400(http(), "POST", "/v1/topics/t/messages", body);
    Expect400(http(), "POST", "/v1/topics/t/groups/g/ack", body);
    Expect400(http(), "POST", "/v1/topics/t/groups/g/nack", body);
    Expect400(http(), "POST", "/v1/topics/t/groups/g/extend", body);
    if (!body.empty()) Expect400(http(), "PUT", "/v1/topics/t/groups/newgroup", body);
  }
  // Valid JSON that is not an object.
  for (const std::string body : {"null", "[]", "42", "\"str\"", "true"}) {
    Expect400(http(), "POST", "/v1/topics", body);
    Expect400(http(), "POST", "/v1/topics/t/messages", body);
    Expect400(http(), "POST", "/v1/topics/t/groups/g/ack", body);
    Expect400(http(), "PUT", "/v1/topics/t/groups/newgroup", body);
  }
  EXPECT_TRUE(IsError(http().Get("/v1/topics/t/groups/newgroup"), 404, "GROUP_NOT_FOUND"));
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, WrongTypesAre400) {
  const std::vector<Json> topic_bodies = {
      {{"name", 5}},
      {{"name", Json::array({"x"})}},
      {{"name", "x"}, {"partitions", "3"}},
      {{"name", "x"}, {"partitions", 1.5}},
      {{"name", "x"}, {"partitions", true}},
      {{"name", "x"}, {"partitions", 0}},
      {{"name", "x"}, {"partitions", -1}},
      {{"name", "x"}, {"retention_ms", "1000"}},
      {{"name", "x"}, {"retention_ms", -1}},
      {{"name", "x"}, {"max_deliveries", -1}},
      {{"name", "x"}, {"max_deliveries", "5"}},
      {{"name", "x"}, {"visibility_timeout_ms", 0}},
      {{"name", "x"}, {"visibility_timeout_ms", Json::object()}},
      {{"name", "x"}, {"replication_factor", 0}},
      {{"name", "x"}, {"min_insync_replicas", "1"}},
  };
  for (const auto& body : topic_bodies) Expect400(http(), "POST", "/v1/topics", body.dump());

  const std::vector<Json> produce_bodies = {
      {{"messages", Json::object()}},
      {{"messages", "x"}},
      {{"messages", Json::array({1, 2})}},
      {{"messages", Json::array({{{"value", 1}, {"key", 5}}})}},
      {{"messages", Json::array({{{"value", 1}, {"headers", {{"h", 1}}}}})}},
      {{"messages", Json::array({{{"value", 1}, {"headers", "h"}}})}},
      {{"messages", Json::array({{{"value", 1}, {"id", 5}}})}},
      {{"messages", Json::array({{{"value", 1}, {"partition", "0"}}})}},
      {{"messages", Json::array({{{"value", 1}, {"partition", 0.5}}})}},
      {{"messages", Json::array({{{"value_b64", 12}}})}},
  };
  for (const auto& body : produce_bodies) {
    Expect400(http(), "POST", "/v1/topics/t/messages", body.dump());
  }

  const std::vector<std::pair<std::string, Json>> verb_bodies = {
      {"ack", {{"ids", leased_id_}}},
      {"ack", {{"ids", Json::array({1})}}},
      {"ack", {{"ids", Json::array({leased_id_, nullptr})}}},
      {"nack", {{"ids", Json::array({leased_id_})}, {"delay_ms", "5"}}},
      {"nack", {{"ids", Json::array({leased_id_})}, {"delay_ms", 1.5}}},
      {"extend", {{"ids", Json::array({leased_id_})}, {"visibility_ms", "5"}}},
      {"extend", {{"ids", Json::object()}}},
  };
  for (const auto& [verb, body] : verb_bodies) {
    Expect400(http(), "POST", "/v1/topics/t/groups/g/" + verb, body.dump());
  }
  Expect400(http(), "PUT", "/v1/topics/t/groups/newgroup", Json{{"start", 5}}.dump());
  Expect400(http(), "PUT", "/v1/topics/t/groups/newgroup", Json{{"start", "middle"}}.dump());
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, MissingFieldsAre400) {
  Expect400(http(), "POST", "/v1/topics", "{}");
  Expect400(http(), "POST", "/v1/topics", R"({"partitions": 1})");
  Expect400(http(), "POST", "/v1/topics/t/messages", "{}");
  Expect400(http(), "POST", "/v1/topics/t/messages", R"({"msgs": [{"value": 1}]})");
  Expect400(http(), "POST", "/v1/topics/t/messages", R"({"messages": [{}]})");
  Expect400(http(), "POST", "/v1/topics/t/messages", R"({"messages": [{"key": "k"}]})");
  for (const char* verb : {"ack", "nack", "extend"}) {
    Expect400(http(), "POST", std::string("/v1/topics/t/groups/g/") + verb, "{}");
    Expect400(http(), "POST", std::string("/v1/topics/t/groups/g/") + verb, R"({"id": ["0-0"]})");
  }
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, EmptyMessagesArrayIs400) {
  auto r = Produce(http(), "t", Json::array());
  EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST"));
  EXPECT_NE(r.error_message().find("messages"), std::string::npos) << r.Describe();
}

TEST_F(BadInputTest, BadNamesAre400) {
  const std::vector<std::string> names = {std::string(197, 'a'),
                                          std::string(1000, 'b'),
                                          "",
                                          "a b",
                                          "a/b",
                                          "a*b",
                                          "a:b",
                                          "caf\xc3\xa9",
                                          ".hidden",
                                          ".",
                                          "..",
                                          std::string("a\0b", 3),
                                          "a\nb",
                                          "a%20b"};
  for (const auto& name : names) {
    auto r = CreateTopic(http(), name);
    EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << "name: " << Json(name).dump();
  }
  // Bad group and consumer names in paths and queries: pulls would create the group.
  const std::string long_name(197, 'g');
  for (const std::string& path : std::vector<std::string>{
           "/v1/topics/t/groups/.g/messages", "/v1/topics/t/groups/" + long_name + "/messages",
           "/v1/topics/t/groups/a*b/messages", "/v1/topics/t/groups/a%20b/messages",
           "/v1/topics/t/groups/g/messages?consumer=.c",
           "/v1/topics/t/groups/g/messages?consumer=a%20b",
           "/v1/topics/t/groups/g/messages?consumer=" + long_name,
           "/v1/topics/t/groups/.g/subscribe?consumer=c"}) {
    auto r = Http(broker(), milliseconds(5000)).Get(path);
    EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << path;
  }
  Expect400(http(), "PUT", "/v1/topics/t/groups/.g", R"({"start": "earliest"})");
  Expect400(http(), "PUT", "/v1/topics/t/groups/" + long_name, R"({"start": "earliest"})");
  // A bad topic name in a path: refused (400) or simply not found (404).
  auto r = Produce(http(), ".t", Json::array({{{"value", 1}}}));
  EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST") || IsError(r, 404, "TOPIC_NOT_FOUND"))
      << r.Describe();
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, OutOfRangeOrNonNumericQueryNumbersAre400) {
  struct Case {
    std::string path_prefix;  // ends with '?'
    std::string param;
    std::vector<std::string> values;
  };
  const std::string pull = "/v1/topics/t/groups/g/messages?consumer=bad&";
  const std::string sub = "/v1/topics/t/groups/g/subscribe?consumer=bad&";
  const std::string stream = "/v1/topics/t/partitions/0/messages?";
  const std::vector<std::string> non_numbers = {"abc",  "1.5",  "1e3", "99999999999999999999",
                                                "0x10", "5abc", "%20"};
  const std::vector<Case> cases = {
      {pull, "max", {"0", "-1", "1001"}},
      {pull, "wait_ms", {"-1", "60001"}},
      {pull, "visibility_ms", {"0", "-5", "43200001"}},
      {sub, "prefetch", {"0", "-1", "10001"}},
      {stream, "from", {"-1"}},
      {stream, "max", {"0", "1001"}},
      {stream, "wait_ms", {"-1", "60001"}},
  };
  // A short read timeout: a broker that wrongly starts waiting or streaming fails fast.
  Http h(broker(), milliseconds(5000));
  for (const auto& c : cases) {
    std::vector<std::string> values = c.values;
    values.insert(values.end(), non_numbers.begin(), non_numbers.end());
    for (const auto& v : values) {
      const std::string path = c.path_prefix + c.param + "=" + v;
      auto r = h.Get(path);
      EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << path;
      EXPECT_NE(r.error_message().find(c.param), std::string::npos)
          << "message does not name " << c.param << ": " << r.Describe();
    }
  }
  // Numbers in bodies.
  for (const auto& delay : {Json(-1), Json(43200001), Json(1e20)}) {
    auto r = GroupVerb(http(), "t", "g", "nack", {leased_id_}, {{"delay_ms", delay}});
    EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << delay;
  }
  for (const auto& vis : {Json(0), Json(-1), Json(43200001)}) {
    auto r = GroupVerb(http(), "t", "g", "extend", {leased_id_}, {{"visibility_ms", vis}});
    EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << vis;
  }
  // The boundaries themselves are accepted.
  EXPECT_TRUE(IsStatus(h.Get(stream + "from=0&max=1000&wait_ms=0"), 200));
  EXPECT_TRUE(IsStatus(h.Get(stream + "from=0&max=1"), 200));
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, OverlongUrlIs414WithAJsonErrorAndChangesNothing) {
  // cpp-httplib answers a request line over 8,192 bytes itself; its status must survive.
  for (const std::string& path :
       {"/v1/topics/" + std::string(64 * 1024, 'a'),
        "/v1/topics/t/groups/g/messages?consumer=" + std::string(9000, 'c')}) {
    auto r = Http(broker(), milliseconds(5000)).Get(path);
    EXPECT_TRUE(IsError(r, 414, "INVALID_REQUEST")) << r.Describe();
  }
  EXPECT_TRUE(IsStatus(http().Get("/v1/health"), 200));
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, OversizedMessageIs413) {
  const std::string big(kMaxMessageBytes + 100, 'x');
  const std::vector<Json> too_big = {
      {{"value", big}},
      {{"value_b64", Base64Encode(big)}},
      {{"value", 1}, {"key", big}},
      {{"value", 1}, {"headers", {{"h", big}}}},
      {{"value", Json::array({std::string(600, 'y'), std::string(600, 'z')})}},
  };
  for (const auto& m : too_big) {
    auto r = Produce(http(), "t", Json::array({m}));
    EXPECT_TRUE(IsError(r, 413, "PAYLOAD_TOO_LARGE")) << m.dump().substr(0, 80);
    // Inside a batch of small messages: the whole batch is refused.
    auto rb = Produce(
        http(), "t",
        Json::array(
            {{{"value", "small"}, {"partition", 0}}, m, {{"value", "small"}, {"partition", 1}}}));
    EXPECT_TRUE(IsError(rb, 413, "PAYLOAD_TOO_LARGE")) << m.dump().substr(0, 80);
  }
  ExpectNothingWritten();
  // Under the limit is fine.
  Json ok = ProduceOk("t", Json::array({{{"value", std::string(500, 'o')}}}));
  EXPECT_EQ(ok.size(), 1u);
  Snapshot();
}

TEST_F(BadInputTest, BodyOver16MiBIs413) {
  // Many messages, each well under max_message_bytes, adding up to more than 16 MiB.
  const std::string value(900, 'v');
  std::string body = "{\"messages\":[";
  const size_t target = 17u * 1024 * 1024;
  bool first = true;
  while (body.size() < target) {
    if (!first) body += ",";
    first = false;
    body += "{\"value\":\"" + value + "\"}";
  }
  body += "]}";
  Http h(broker(), milliseconds(20000));
  auto r = h.PostRaw("/v1/topics/t/messages", body);
  EXPECT_TRUE(IsError(r, 413, "PAYLOAD_TOO_LARGE"));
}

TEST_F(BadInputTest, UnknownTopicGroupOrPartitionIs404) {
  EXPECT_TRUE(IsError(http().Get("/v1/topics/nope"), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(http().Delete("/v1/topics/nope"), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(
      IsError(Produce(http(), "nope", Json::array({{{"value", 1}}})), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(ReadStream(http(), "nope", 0, 0), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(Pull(http(), "nope", "g", "c", 1, 0), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(http().Put("/v1/topics/nope/groups/g", {{"start", "latest"}}), 404,
                      "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(
      Http(broker(), milliseconds(5000)).Get("/v1/topics/nope/groups/g/subscribe?consumer=c"), 404,
      "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(http().Get("/v1/topics/t/groups/nope"), 404, "GROUP_NOT_FOUND"));
  EXPECT_TRUE(IsError(GroupVerb(http(), "t", "nope", "ack", {"0-0"}), 404, "GROUP_NOT_FOUND"));
  EXPECT_TRUE(IsError(ReadStream(http(), "t", 2, 0), 404, "PARTITION_NOT_FOUND"));
  EXPECT_TRUE(IsError(ReadStream(http(), "t", 99, 0), 404, "PARTITION_NOT_FOUND"));
  // A partition that is not a number: refused (400) or not found (404).
  auto r = http().Get("/v1/topics/t/partitions/x/messages?from=0");
  EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST") || IsError(r, 404, "PARTITION_NOT_FOUND") ||
              IsError(r, 404, "NOT_FOUND"))
      << r.Describe();
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, MalformedAckIdsAre400AndNothingIsAcked) {
  const std::vector<std::string> malformed = {
      "garbage", "",      "0-",   "-0",   "-1-0", "0-x",
      "x-0",     "0-1-2", "0--1", " 0-0", "0-0 ", "0-99999999999999999999999",
      "0_0",     "0:0"};
  for (const char* verb : {"ack", "nack", "extend"}) {
    for (const auto& bad : malformed) {
      // The well-formed, leased id goes first: it must not be acted on either.
      auto r = GroupVerb(http(), "t", "g", verb, {leased_id_, bad});
      EXPECT_TRUE(IsError(r, 400, "INVALID_REQUEST")) << verb << " " << Json(bad).dump();
    }
  }
  ExpectGroupUntouched();
  // The leased message was neither acked nor nacked: acking it now works.
  Json acked = VerbOk("t", "g", "ack", {leased_id_});
  EXPECT_EQ(AffectedCount(acked), 1) << acked.dump();
}

TEST_F(BadInputTest, UnknownRouteAndWrongMethodGetJsonErrors) {
  for (const std::string& path : std::vector<std::string>{
           "/", "/v1", "/v1/nope", "/v2/topics", "/v1/topics/t/nope", "/v1/topics/t/partitions/0",
           "/v1/topics/t/groups/g/nope", "/metrics/x"}) {
    auto r = http().Get(path);
    EXPECT_TRUE(IsError(r, 404, "NOT_FOUND")) << "GET " << path;
  }
  auto expect_refused = [](const HttpResponse& r, const std::string& what) {
    EXPECT_TRUE(r.status == 404 || r.status == 405) << what << ": " << r.Describe();
    EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u)
        << what << ": " << r.Describe();
    EXPECT_FALSE(r.error_code().empty()) << what << ": " << r.Describe();
    EXPECT_FALSE(r.error_message().empty()) << what << ": " << r.Describe();
  };
  expect_refused(http().Patch("/v1/topics", "{}"), "PATCH /v1/topics");
  expect_refused(http().Delete("/v1/topics"), "DELETE /v1/topics");
  expect_refused(http().PostRaw("/v1/health", "{}"), "POST /v1/health");
  expect_refused(http().Delete("/v1/cluster"), "DELETE /v1/cluster");
  expect_refused(http().PutRaw("/v1/topics/t/messages", R"({"messages":[{"value":1}]})"),
                 "PUT messages");
  expect_refused(http().Delete("/v1/topics/t/partitions/0/messages"), "DELETE stream");
  expect_refused(http().Get("/v1/topics/t/groups/g/ack"), "GET ack");
  expect_refused(http().PostRaw("/v1/topics/t/partitions/0/messages", "{}"), "POST stream");
  expect_refused(http().PostRaw("/metrics", "{}"), "POST /metrics");
  ExpectGroupUntouched();
}

TEST_F(BadInputTest, DeeplyNestedJsonIsRefusedWithoutCrashing) {
  const int depth = 100000;
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  auto r1 = http().PostRaw("/v1/topics", "{\"name\":" + nested + "}");
  EXPECT_TRUE(IsError(r1, 400, "INVALID_REQUEST"));
  auto r2 = http().PostRaw("/v1/topics/t/messages", "{\"messages\":[{\"value\":" + nested + "}]}");
  EXPECT_TRUE(IsError(r2, 400, "INVALID_REQUEST") || IsError(r2, 413, "PAYLOAD_TOO_LARGE"))
      << r2.Describe();
  const std::string unclosed(depth, '{');
  EXPECT_TRUE(
      IsError(http().PostRaw("/v1/topics/t/groups/g/ack", unclosed), 400, "INVALID_REQUEST"));
}

}  // namespace
}  // namespace zoomq::testing
