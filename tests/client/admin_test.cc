// zoomq::Admin over a FakeTransport: topic calls and their errors, failover to the next
// broker, DLQ peek across partitions, and DLQ redrive (produce first, ack after).
#include "zoomq/client/admin.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_answers.h"
#include "fake_transport.h"

namespace zoomq {
namespace {

using client_testing::Answer;
using client_testing::BrokerUrl;
using client_testing::ClusterJson;
using client_testing::ErrorAnswer;
using client_testing::FakeTransport;
using client_testing::LostReply;
using client_testing::MessageJson;
using client_testing::MessagesJson;
using client_testing::PathOf;
using client_testing::QueryOf;
using nlohmann::json;
using std::chrono::milliseconds;

ClientOptions Options(std::shared_ptr<FakeTransport> fake, int brokers = 1) {
  ClientOptions o;
  for (int id = 1; id <= brokers; ++id) o.brokers.push_back(BrokerUrl(id));
  o.transport = std::move(fake);
  o.request_timeout = milliseconds(2000);
  return o;
}

json TopicJson(const std::string& name, const std::vector<std::pair<int64_t, int64_t>>& parts) {
  json p = json::array();
  for (size_t i = 0; i < parts.size(); ++i) {
    p.push_back({{"partition", i}, {"first_offset", parts[i].first},
                 {"high_watermark", parts[i].second}, {"log_end_offset", parts[i].second}});
  }
  return {{"name", name},
          {"config", {{"partitions", parts.size()}, {"replication_factor", 1}}},
          {"created_ms", 5},
          {"partitions", p},
          {"groups", json::array()}};
}

std::vector<HttpRequest> Without(const std::vector<HttpRequest>& all, const std::string& target) {
  std::vector<HttpRequest> out;
  for (const HttpRequest& r : all) {
    if (r.target != target) out.push_back(r);
  }
  return out;
}

TEST(AdminTest, CreateTopicTellsCreatedFromExisting) {
  std::atomic<int> creates{0};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, "", {}));
    return Answer(creates++ == 0 ? 201 : 200, TopicJson("orders", {{0, 0}, {0, 0}}));
  });
  Admin admin(Options(fake));
  TopicSpec spec;
  spec.name = "orders";
  spec.partitions = 2;
  auto first = admin.CreateTopic(spec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->partitions, 2);
  auto again = admin.CreateTopic(spec);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  auto sent = Without(fake->Requests(), "/v1/cluster");
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].target, "/v1/topics");
  json body = json::parse(sent[0].body);
  EXPECT_EQ(body["name"], "orders");
  EXPECT_EQ(body["partitions"], 2);
}

TEST(AdminTest, ErrorsKeepTheirCodesAndAreNotRetried) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(2, "", {}));
    if (req.method == "POST") return ErrorAnswer(409, "TOPIC_EXISTS");
    if (req.method == "DELETE") return ErrorAnswer(404, "TOPIC_NOT_FOUND");
    if (req.target == "/v1/topics/t/groups/g") return ErrorAnswer(404, "GROUP_NOT_FOUND");
    if (req.target == "/v1/topics/big") return ErrorAnswer(503, "NOT_ENOUGH_REPLICAS");
    return ErrorAnswer(404, "TOPIC_NOT_FOUND");
  });
  Admin admin(Options(fake, 2));
  TopicSpec spec;
  spec.name = "t";
  EXPECT_EQ(admin.CreateTopic(spec).status().code(), Code::kTopicExists);
  EXPECT_EQ(admin.DescribeTopic("nope").status().code(), Code::kTopicNotFound);
  EXPECT_EQ(admin.DeleteTopic("nope").code(), Code::kTopicNotFound);
  EXPECT_EQ(admin.DescribeGroup("t", "g").status().code(), Code::kGroupNotFound);
  EXPECT_EQ(admin.DescribeTopic("big").status().code(), Code::kNotEnoughReplicas);
  EXPECT_EQ(Without(fake->Requests(), "/v1/cluster").size(), 5u);  // one request each
}

TEST(AdminTest, FailsOverToTheNextBrokerWhenOneDoesNotAnswer) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(2, "", {}));
    if (req.base_url == BrokerUrl(1)) return LostReply("connection refused");
    if (req.base_url == BrokerUrl(2) && req.method == "DELETE") {
      return HttpResponse{204, "", "", -1};
    }
    if (req.base_url == BrokerUrl(2)) {
      return Answer(200, json{{"topics", {TopicJson("a", {{0, 3}}), TopicJson("b", {{1, 2}})}}});
    }
    return ErrorAnswer(503, "UNAVAILABLE");
  });
  Admin admin(Options(fake, 2));
  // AnyUrl rotates: across two calls, one of them asks broker 1 first and must fail over.
  for (int i = 0; i < 2; ++i) {
    auto topics = admin.ListTopics();
    ASSERT_TRUE(topics.ok()) << topics.status().ToString();
    ASSERT_EQ(topics->size(), 2u);
    EXPECT_EQ((*topics)[1].name, "b");
  }
  EXPECT_TRUE(admin.DeleteTopic("a").ok());
  int lost = 0;
  for (const HttpRequest& req : Without(fake->Requests(), "/v1/cluster")) {
    if (req.base_url == BrokerUrl(1)) ++lost;
  }
  EXPECT_GE(lost, 1);
}

TEST(AdminTest, GivesUpAfterTheRequestTimeoutWhenNoBrokerAnswers) {
  auto fake = std::make_shared<FakeTransport>(
      [](const HttpRequest&) { return LostReply("connection refused"); });
  ClientOptions o = Options(fake, 2);
  o.request_timeout = milliseconds(200);
  Admin admin(o);
  auto t0 = std::chrono::steady_clock::now();
  auto r = admin.Cluster();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1500));
}

TEST(AdminTest, ClusterAndGroupCalls) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(3, "t", {2, 3}));
    if (req.method == "PUT") return Answer(201, json{{"topic", "t"}, {"group", "g"}});
    return Answer(200, json{{"topic", "t"}, {"group", "g"}, {"backlog", 4}, {"in_flight", 1},
                            {"acked", 9}, {"dead_lettered", 0},
                            {"consumers", {{{"consumer", "c1"}, {"last_seen_ms", 7}}}}});
  });
  Admin admin(Options(fake));
  auto cluster = admin.Cluster();
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  EXPECT_EQ(cluster->brokers.size(), 3u);
  ASSERT_EQ(cluster->topics.size(), 1u);
  EXPECT_EQ(cluster->topics[0].partition_info[1].leader, 3);
  ASSERT_TRUE(admin.CreateGroup("t", "g", "latest").ok());
  auto group = admin.DescribeGroup("t", "g");
  ASSERT_TRUE(group.ok()) << group.status().ToString();
  EXPECT_EQ(group->backlog, 4);
  ASSERT_EQ(group->consumers.size(), 1u);
  for (const HttpRequest& req : fake->Requests()) {
    if (req.method == "PUT") {
      EXPECT_EQ(req.target, "/v1/topics/t/groups/g");
      EXPECT_EQ(json::parse(req.body), (json{{"start", "latest"}}));
    }
  }
}

TEST(AdminTest, DlqPeekReadsEveryPartitionFromItsFirstOffset) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, "t.dlq", {1, 1}));
    if (req.target == "/v1/topics/t.dlq") return Answer(200, TopicJson("t.dlq", {{2, 4}, {0, 1}}));
    auto q = QueryOf(req.target);
    const int64_t from = std::atoll(q["from"].c_str());
    const int64_t max = std::atoll(q["max"].c_str());
    json body;
    if (PathOf(req.target) == "/v1/topics/t.dlq/partitions/0/messages") {
      std::vector<std::pair<int, int64_t>> list;
      for (int64_t o = std::max<int64_t>(from, 2); o < 4 && o < from + max; ++o) list.push_back({0, o});
      body = MessagesJson(list);
      body["high_watermark"] = 4;
    } else if (PathOf(req.target) == "/v1/topics/t.dlq/partitions/1/messages") {
      body = MessagesJson(from == 0 ? std::vector<std::pair<int, int64_t>>{{1, 0}}
                                    : std::vector<std::pair<int, int64_t>>{});
      body["high_watermark"] = 1;
    } else {
      return ErrorAnswer(404, "NOT_FOUND");
    }
    body["first_offset"] = 0;
    return Answer(200, body);
  });
  Admin admin(Options(fake));
  auto all = admin.DlqPeek("t", 10);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  std::vector<std::string> handles;
  for (const ReceivedMessage& m : *all) handles.push_back(m.handle);
  EXPECT_EQ(handles, (std::vector<std::string>{"0-2", "0-3", "1-0"}));
  EXPECT_EQ((*all)[0].topic, "t.dlq");

  auto two = admin.DlqPeek("t", 2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[1].handle, "0-3");

  auto none = admin.DlqPeek("missing", 5);
  EXPECT_FALSE(none.ok());
}

// Dead letters are produced back to the topic (without the DLQ's own headers) and acked in
// the DLQ only after their produce was persisted.
TEST(AdminTest, DlqRedriveProducesThenAcks) {
  std::mutex mu;
  int pulls = 0;
  std::vector<HttpRequest> order;  // produce and ack requests, as they came
  const std::map<std::string, std::string> dlq_headers = {
      {"app", "x"}, {"zoomq-dlq-reason", "max_deliveries"}, {"zoomq-original-topic", "t"},
      {"zoomq-original-partition", "0"}, {"zoomq-original-offset", "9"},
      {"zoomq-deliveries", "5"}, {"zoomq-dlq-group", "g"}};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") {
      json c = ClusterJson(1, "t", {1});
      c["topics"].push_back(ClusterJson(1, "t.dlq", {1})["topics"][0]);
      return Answer(200, c);
    }
    std::lock_guard<std::mutex> lock(mu);
    if (req.method == "PUT") return Answer(201, json::object());
    if (req.method == "GET" && PathOf(req.target) == "/v1/topics/t.dlq/groups/zoomq-redrive/messages") {
      if (pulls++ > 0) return Answer(200, MessagesJson({}));
      return Answer(200, json{{"messages", {MessageJson(0, 3, dlq_headers),
                                            MessageJson(0, 4, dlq_headers)}}});
    }
    if (req.method == "POST" && req.target == "/v1/topics/t/messages") {
      order.push_back(req);
      json results = json::array();
      for (size_t i = 0; i < json::parse(req.body)["messages"].size(); ++i) {
        results.push_back({{"partition", 0}, {"offset", 100 + i}, {"duplicate", false}});
      }
      return Answer(200, json{{"results", results}});
    }
    if (req.method == "POST" && req.target == "/v1/topics/t.dlq/groups/zoomq-redrive/ack") {
      order.push_back(req);
      return Answer(200, json{{"acked", 2}, {"unknown", json::array()}});
    }
    return ErrorAnswer(404, "NOT_FOUND");
  });
  Admin admin(Options(fake));
  auto moved = admin.DlqRedrive("t");
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(*moved, 2);

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(order.size(), 2u);
  std::vector<json> produced;
  size_t first_ack = order.size();
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i].target == "/v1/topics/t/messages") {
      EXPECT_LT(i, first_ack) << "a produce came after an ack";
      const json body = json::parse(order[i].body);
      for (const json& m : body["messages"]) produced.push_back(m);
    } else if (first_ack == order.size()) {
      first_ack = i;
    }
  }
  ASSERT_EQ(produced.size(), 2u);
  for (const json& m : produced) {
    EXPECT_EQ(m["headers"], (json{{"app", "x"}}));
    EXPECT_GE(m["value"]["n"].get<int>(), 3);
    EXPECT_TRUE(m["id"].get<std::string>().starts_with("zoomq-redrive-0-"));
    EXPECT_EQ(m["key"], "k" + std::to_string(m["value"]["n"].get<int>()));
  }
  ASSERT_LT(first_ack, order.size());
  std::vector<std::string> acked;
  for (size_t i = first_ack; i < order.size(); ++i) {
    const json body = json::parse(order[i].body);
    for (const json& id : body["ids"]) acked.push_back(id);
  }
  std::sort(acked.begin(), acked.end());
  EXPECT_EQ(acked, (std::vector<std::string>{"0-3", "0-4"}));
}

TEST(AdminTest, DlqRedriveAcksNothingWhenTheProduceFails) {
  std::atomic<int> acks{0};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") {
      json c = ClusterJson(1, "t", {1});
      c["topics"].push_back(ClusterJson(1, "t.dlq", {1})["topics"][0]);
      return Answer(200, c);
    }
    if (req.method == "PUT") return Answer(201, json::object());
    if (req.method == "GET") return Answer(200, MessagesJson({{0, 0}}));
    if (req.target == "/v1/topics/t/messages") return ErrorAnswer(400, "INVALID_REQUEST");
    ++acks;
    return Answer(200, json{{"acked", 1}, {"unknown", json::array()}});
  });
  Admin admin(Options(fake));
  auto moved = admin.DlqRedrive("t");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(acks.load(), 0);
}

}  // namespace
}  // namespace zoomq
