// Topic administration against a real broker: create / idempotent create / conflicts / list /
// describe / delete and the dead-letter topic.

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "broker_test.h"

namespace zoomq::testing {
namespace {

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Partition count from a describe answer: "partitions" as an array (one entry per partition)
// or as a number, at the top level or under "config".
int DescribedPartitions(const Json& body) {
  for (const Json* obj : {&body, body.contains("config") ? &body["config"] : nullptr}) {
    if (obj == nullptr || !obj->is_object() || !obj->contains("partitions")) continue;
    const Json& p = (*obj)["partitions"];
    if (p.is_array()) return static_cast<int>(p.size());
    if (p.is_number_integer()) return p.get<int>();
  }
  return -1;
}

// A config field from a describe answer, top level or under "config".
Json DescribedField(const Json& body, const std::string& field) {
  if (body.contains("config") && body["config"].is_object() && body["config"].contains(field)) {
    return body["config"][field];
  }
  if (body.is_object() && body.contains(field)) return body[field];
  return Json();
}

using TopicsTest = BrokerTest;

TEST_F(TopicsTest, CreateReturns201AndSameConfigRepeatIs200) {
  const std::string name = "orders";
  auto first = CreateTopic(http(), name, {{"partitions", 3}, {"retention_ms", 600000}});
  ASSERT_TRUE(IsStatus(first, 201));

  // Every given field equals the existing config -> 200, whatever subset is given.
  EXPECT_TRUE(
      IsStatus(CreateTopic(http(), name, {{"partitions", 3}, {"retention_ms", 600000}}), 200));
  EXPECT_TRUE(IsStatus(CreateTopic(http(), name, {{"partitions", 3}}), 200));
  EXPECT_TRUE(IsStatus(CreateTopic(http(), name), 200));

  // Still exactly one topic of that name, with the original config.
  const auto names = TopicNames(http());
  EXPECT_EQ(std::count(names.begin(), names.end(), name), 1);
  EXPECT_EQ(PartitionCount(http(), name), 3);
}

TEST_F(TopicsTest, CreateWithDifferentConfigIs409TopicExists) {
  const std::string name = "payments";
  ASSERT_TRUE(IsStatus(CreateTopic(http(), name, {{"partitions", 2}}), 201));
  EXPECT_TRUE(IsError(CreateTopic(http(), name, {{"partitions", 3}}), 409, "TOPIC_EXISTS"));
  EXPECT_TRUE(IsError(CreateTopic(http(), name, {{"partitions", 2}, {"max_deliveries", 7}}), 409,
                      "TOPIC_EXISTS"));
  EXPECT_TRUE(
      IsError(CreateTopic(http(), name, {{"visibility_timeout_ms", 1234}}), 409, "TOPIC_EXISTS"));
  // The conflict changed nothing.
  EXPECT_EQ(PartitionCount(http(), name), 2);
  auto d = http().Get("/v1/topics/" + name);
  ASSERT_TRUE(IsStatus(d, 200));
  EXPECT_NE(DescribedField(d.body, "max_deliveries"), Json(7)) << d.Describe();
}

TEST_F(TopicsTest, ListShowsCreatedTopics) {
  EXPECT_TRUE(TopicNames(http()).empty()) << http().Get("/v1/topics").Describe();
  CreateTopicOrFail("alpha");
  CreateTopicOrFail("beta", {{"partitions", 4}});
  CreateTopicOrFail("gamma-1.x_y");
  const auto names = TopicNames(http());
  EXPECT_EQ(names, (std::vector<std::string>{"alpha", "beta", "gamma-1.x_y"}))
      << http().Get("/v1/topics").Describe();
}

TEST_F(TopicsTest, DescribeShowsConfigPartitionsOffsetsAndGroups) {
  const std::string name = "described";
  CreateTopicOrFail(name, {{"partitions", 3},
                           {"retention_ms", 3600000},
                           {"visibility_timeout_ms", 45000},
                           {"max_deliveries", 4}});
  ProduceOk(name,
            Json::array({{{"value", 1}, {"partition", 1}}, {{"value", 2}, {"partition", 1}}}));
  // The first pull creates the group; it must then show up in the description.
  PullOk(name, "describers", "c1", 1, 0);

  auto r = http().Get("/v1/topics/" + name);
  ASSERT_TRUE(IsStatus(r, 200));
  ASSERT_TRUE(r.body.is_object()) << r.Describe();
  EXPECT_EQ(DescribedField(r.body, "name"), Json(name)) << r.Describe();
  EXPECT_EQ(DescribedPartitions(r.body), 3) << r.Describe();
  EXPECT_EQ(DescribedField(r.body, "retention_ms"), Json(3600000)) << r.Describe();
  EXPECT_EQ(DescribedField(r.body, "visibility_timeout_ms"), Json(45000)) << r.Describe();
  EXPECT_EQ(DescribedField(r.body, "max_deliveries"), Json(4)) << r.Describe();
  // Per-partition offsets: partition 1 has a high watermark of 2.
  const std::string dump = r.body.dump();
  EXPECT_NE(dump.find("high_watermark"), std::string::npos) << r.Describe();
  if (r.body.contains("partitions") && r.body["partitions"].is_array()) {
    bool found = false;
    for (const auto& p : r.body["partitions"]) {
      if (p.value("partition", -1) == 1) {
        found = true;
        EXPECT_EQ(p.value("high_watermark", int64_t{-1}), 2) << p.dump();
      }
    }
    EXPECT_TRUE(found) << r.Describe();
  }
  EXPECT_NE(dump.find("\"describers\""), std::string::npos) << "group missing: " << r.Describe();
}

TEST_F(TopicsTest, DeleteReturns204ThenTopicIsGone) {
  const std::string name = "doomed";
  CreateTopicOrFail(name);
  ProduceOk(name, Json::array({{{"value", "x"}}}));
  PullOk(name, "g", "c", 1, 0);

  auto del = http().Delete("/v1/topics/" + name);
  ASSERT_TRUE(IsStatus(del, 204));
  EXPECT_TRUE(IsError(http().Get("/v1/topics/" + name), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(http().Delete("/v1/topics/" + name), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(
      IsError(Produce(http(), name, Json::array({{{"value", 1}}})), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(ReadStream(http(), name, 0, 0), 404, "TOPIC_NOT_FOUND"));
  EXPECT_TRUE(IsError(Pull(http(), name, "g", "c", 1, 0), 404, "TOPIC_NOT_FOUND"));
  EXPECT_FALSE(Contains(TopicNames(http()), name));
  EXPECT_EQ(PartitionCount(http(), name), -1) << "still in /v1/cluster";

  // Re-creating the name gives a new, empty topic: no old messages, no old groups.
  CreateTopicOrFail(name);
  EXPECT_EQ(HighWatermark(http(), name, 0), 0);
  EXPECT_TRUE(PullOk(name, "g", "c", 10, 0).empty());
}

TEST_F(TopicsTest, DlqSuffixIsNotCreatable) {
  EXPECT_TRUE(IsError(CreateTopic(http(), "mine.dlq"), 400, "INVALID_REQUEST"));
  EXPECT_TRUE(IsError(CreateTopic(http(), "x.dlq", {{"partitions", 1}}), 400, "INVALID_REQUEST"));
  EXPECT_TRUE(TopicNames(http()).empty());
  // ".dlq" elsewhere in the name is fine.
  CreateTopicOrFail("a.dlq.b");
  CreateTopicOrFail("a.dlqx");
}

TEST_F(TopicsTest, MaxDeliveriesCreatesDlqTopic) {
  CreateTopicOrFail("jobs", {{"max_deliveries", 3}});
  CreateTopicOrFail("plain", {{"max_deliveries", 0}});
  const auto names = TopicNames(http());
  EXPECT_TRUE(Contains(names, "jobs.dlq")) << http().Get("/v1/topics").Describe();
  EXPECT_FALSE(Contains(names, "plain.dlq"));

  auto dlq = http().Get("/v1/topics/jobs.dlq");
  ASSERT_TRUE(IsStatus(dlq, 200));
  Json md = DescribedField(dlq.body, "max_deliveries");
  EXPECT_TRUE(md.is_null() || md == Json(0)) << "dlq must not dead-letter: " << dlq.Describe();
  EXPECT_EQ(HighWatermark(http(), "jobs.dlq", 0), 0);
  // Readable and consumable, not producible-by-create.
  EXPECT_TRUE(PullOk("jobs.dlq", "inspect", "c", 10, 0).empty());
  // Deletable.
  EXPECT_TRUE(IsStatus(http().Delete("/v1/topics/jobs.dlq"), 204));
  EXPECT_TRUE(IsError(http().Get("/v1/topics/jobs.dlq"), 404, "TOPIC_NOT_FOUND"));
}

TEST_F(TopicsTest, ReplicationFactorAboveLiveBrokersIs503NotEnoughReplicas) {
  EXPECT_TRUE(
      IsError(CreateTopic(http(), "rf3", {{"replication_factor", 3}}), 503, "NOT_ENOUGH_REPLICAS"));
  EXPECT_TRUE(TopicNames(http()).empty());
  // The default replication factor fits a standalone broker.
  CreateTopicOrFail("rf-default");
  auto c = http().Get("/v1/cluster");
  ASSERT_TRUE(IsStatus(c, 200));
}

TEST_F(TopicsTest, MinInsyncAboveReplicationFactorIs400) {
  EXPECT_TRUE(
      IsError(CreateTopic(http(), "misr", {{"replication_factor", 1}, {"min_insync_replicas", 2}}),
              400, "INVALID_REQUEST"));
  EXPECT_TRUE(TopicNames(http()).empty());
}

TEST_F(TopicsTest, ConcurrentCreatesOfOneNameGiveExactlyOne201) {
  constexpr int kClients = 8;
  std::vector<int> statuses(kClients);
  std::atomic<int> ready{0};
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kClients; ++i) {
      threads.emplace_back([&, i] {
        Http h(broker());
        EXPECT_TRUE(IsStatus(h.Get("/v1/health"), 200));  // connect first
        ++ready;
        while (ready.load() < kClients) {
          std::this_thread::yield();  // start the creates together
        }
        statuses[i] = CreateTopic(h, "contested", {{"partitions", 2}}).status;
      });
    }
  }
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), kClients - 1);
  EXPECT_EQ(TopicNames(http()), (std::vector<std::string>{"contested"}));
  EXPECT_EQ(PartitionCount(http(), "contested"), 2);
}

TEST_F(TopicsTest, TopicNameOfMaximumLengthIsAccepted) {
  const std::string name(196, 'n');
  CreateTopicOrFail(name);
  ProduceOk(name, Json::array({{{"value", 1}}}));
  EXPECT_EQ(HighWatermark(http(), name, 0), 1);
}

}  // namespace
}  // namespace zoomq::testing
