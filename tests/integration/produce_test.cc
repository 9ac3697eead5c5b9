// Produce against a real broker: results, idempotency ids, partitioning, payload round trips
// and all-or-nothing batches.

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "broker_test.h"

namespace zoomq::testing {
namespace {

using ProduceTest = BrokerTest;

// Sum of high watermarks over partitions [0, n).
int64_t TotalHighWatermark(Http& http, const std::string& topic, int n) {
  int64_t total = 0;
  for (int p = 0; p < n; ++p) {
    const int64_t hw = HighWatermark(http, topic, p);
    if (hw < 0) return -1;
    total += hw;
  }
  return total;
}

TEST_F(ProduceTest, ResultsCarryPartitionOffsetAndDuplicate) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  Json results =
      ProduceOk("t", Json::array({{{"value", "a"}}, {{"value", "b"}}, {{"value", {{"n", 3}}}}}));
  ASSERT_EQ(results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(results[i]["partition"], Json(0)) << results.dump();
    EXPECT_EQ(results[i]["offset"], Json(i)) << results.dump();
    EXPECT_EQ(results[i]["duplicate"], Json(false)) << results.dump();
  }
  // Offsets stay dense across requests.
  Json more = ProduceOk("t", Json::array({{{"value", "d"}}}));
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0]["offset"], Json(3));
  EXPECT_EQ(HighWatermark(http(), "t", 0), 4);
}

TEST_F(ProduceTest, RepeatedIdReturnsOriginalOffsetAsDuplicate) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  Json first = ProduceOk("t", Json::array({{{"id", "p-1"}, {"value", "first"}}}));
  ProduceOk("t", Json::array({{{"id", "p-2"}, {"value", "other"}}}));
  Json again = ProduceOk("t", Json::array({{{"id", "p-1"}, {"value", "retry"}}}));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(first[0]["duplicate"], Json(false));
  EXPECT_EQ(again[0]["duplicate"], Json(true)) << again.dump();
  EXPECT_EQ(again[0]["offset"], first[0]["offset"]);
  EXPECT_EQ(again[0]["partition"], first[0]["partition"]);
  // Not written twice, and the stored value is the first one.
  EXPECT_EQ(HighWatermark(http(), "t", 0), 2);
  const auto all = ReadAll(http(), "t", 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["value"], Json("first"));
}

TEST_F(ProduceTest, RepeatedIdInsideOneBatchIsDuplicateOfFirst) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  Json r = ProduceOk("t", Json::array({{{"id", "x"}, {"value", 1}},
                                       {{"id", "y"}, {"value", 2}},
                                       {{"id", "x"}, {"value", 3}}}));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["duplicate"], Json(false));
  EXPECT_EQ(r[1]["duplicate"], Json(false));
  EXPECT_EQ(r[2]["duplicate"], Json(true)) << r.dump();
  EXPECT_EQ(r[2]["offset"], r[0]["offset"]);
  EXPECT_NE(r[1]["offset"], r[0]["offset"]);
  const auto all = ReadAll(http(), "t", 0);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["value"], Json(1));
  EXPECT_EQ(all[1]["value"], Json(2));
}

TEST_F(ProduceTest, RetriedIdWithoutKeyLandsOnSamePartitionAndIsDuplicate) {
  CreateTopicOrFail("t", {{"partitions", 8}});
  for (int i = 0; i < 20; ++i) {
    const std::string id = "retry-" + std::to_string(i);
    Json a = ProduceOk("t", Json::array({{{"id", id}, {"value", i}}}));
    Json b = ProduceOk("t", Json::array({{{"id", id}, {"value", i}}}));
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0]["partition"], a[0]["partition"]) << id;
    EXPECT_EQ(b[0]["offset"], a[0]["offset"]) << id;
    EXPECT_EQ(b[0]["duplicate"], Json(true)) << id;
  }
  EXPECT_EQ(TotalHighWatermark(http(), "t", 8), 20);
}

TEST_F(ProduceTest, SameKeyAlwaysLandsOnSamePartition) {
  CreateTopicOrFail("t", {{"partitions", 8}});
  std::set<int> partitions_of_k;
  for (int i = 0; i < 10; ++i) {
    for (auto r : ProduceOk("t", Json::array({{{"key", "sensor-1"}, {"value", i}}}))) {
      partitions_of_k.insert(r["partition"].get<int>());
    }
  }
  for (auto r : ProduceOk("t", Json::array({{{"key", "sensor-1"}, {"value", 10}},
                                            {{"key", "sensor-1"}, {"value", 11}},
                                            {{"key", "sensor-1"}, {"value", 12}}}))) {
    partitions_of_k.insert(r["partition"].get<int>());
  }
  EXPECT_EQ(partitions_of_k.size(), 1u);

  // Different keys are hashed over the partitions (64 keys all in one of 8 partitions would
  // mean the key is not hashed at all).
  std::set<int> used;
  Json batch = Json::array();
  for (int i = 0; i < 64; ++i) batch.push_back({{"key", "k" + std::to_string(i)}, {"value", i}});
  Json first = ProduceOk("t", batch);
  for (auto r : first) used.insert(r["partition"].get<int>());
  EXPECT_GT(used.size(), 1u);
  // And the mapping is stable: the same keys again land where they did.
  Json second = ProduceOk("t", batch);
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i]["partition"], second[i]["partition"]) << "key k" << i;
  }
}

TEST_F(ProduceTest, MessagesWithoutKeyOrIdAreSpread) {
  CreateTopicOrFail("t", {{"partitions", 4}});
  std::set<int> used;
  for (int i = 0; i < 40; ++i) {
    for (auto r : ProduceOk("t", Json::array({{{"value", i}}}))) {
      used.insert(r["partition"].get<int>());
    }
  }
  EXPECT_GT(used.size(), 1u);
  EXPECT_EQ(TotalHighWatermark(http(), "t", 4), 40);
}

TEST_F(ProduceTest, ExplicitPartitionIsUsed) {
  CreateTopicOrFail("t", {{"partitions", 3}});
  Json r = ProduceOk("t", Json::array({{{"partition", 2}, {"key", "a"}, {"value", "p2"}},
                                       {{"partition", 0}, {"key", "a"}, {"value", "p0"}}}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["partition"], Json(2));
  EXPECT_EQ(r[1]["partition"], Json(0));
  const auto p2 = ReadAll(http(), "t", 2);
  ASSERT_EQ(p2.size(), 1u);
  EXPECT_EQ(p2[0]["value"], Json("p2"));
  EXPECT_EQ(HighWatermark(http(), "t", 1), 0);
  const auto p0 = ReadAll(http(), "t", 0);
  ASSERT_EQ(p0.size(), 1u);
  EXPECT_EQ(p0[0]["value"], Json("p0"));
}

TEST_F(ProduceTest, ValueB64RoundTripsAsValueB64) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  const std::string b64 = Base64Encode(bytes);
  const std::string short_b64 = Base64Encode(std::string("\x00\xff", 2));
  ProduceOk("t", Json::array({{{"value_b64", b64}, {"key", "bin"}},
                              {{"value_b64", short_b64}},
                              {{"value_b64", ""}}}));
  const auto all = ReadAll(http(), "t", 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["value_b64"], Json(b64)) << all[0].dump();
  EXPECT_FALSE(all[0].contains("value")) << all[0].dump();
  EXPECT_EQ(all[1]["value_b64"], Json(short_b64)) << all[1].dump();
  EXPECT_EQ(all[2]["value_b64"], Json("")) << all[2].dump();
  // The group API returns the same representation.
  Json pulled = PullOk("t", "g", "c", 10, 0);
  ASSERT_GE(pulled.size(), 1u);
  EXPECT_EQ(pulled[0]["value_b64"], Json(b64)) << pulled.dump();
  EXPECT_FALSE(pulled[0].contains("value"));
}

TEST_F(ProduceTest, JsonValuesKeysAndHeadersRoundTripExactly) {
  CreateTopicOrFail("t", {{"partitions", 1}});
  const std::string tricky = "it's \"quoted\"'); DROP TABLE messages; -- \\ \n\t é 中 🙂";
  Json values = Json::array({Json{{"celsius", 21.5}, {"nested", {{"a", {1, 2, 3}}}}},
                             Json::array({1, "two", false}), Json(tricky), Json(42), Json(-1.25),
                             Json(true), Json("")});
  Json batch = Json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    batch.push_back({{"key", tricky + std::to_string(i)},
                     {"value", values[i]},
                     {"headers", {{"unit", "C"}, {tricky, tricky}, {"empty", ""}}}});
  }
  const auto before = std::chrono::system_clock::now();
  ProduceOk("t", batch);
  const auto all = ReadAll(http(), "t", 0);
  ASSERT_EQ(all.size(), values.size());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t before_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(before.time_since_epoch()).count();
  for (size_t i = 0; i < all.size(); ++i) {
    Json m = all[i];
    EXPECT_EQ(m["offset"], Json(i));
    EXPECT_EQ(m["key"], Json(tricky + std::to_string(i))) << m.dump();
    EXPECT_EQ(m["value"], values[i]) << m.dump();
    EXPECT_EQ(m["headers"], Json({{"unit", "C"}, {tricky, tricky}, {"empty", ""}})) << m.dump();
    ASSERT_TRUE(m.contains("timestamp_ms") && m["timestamp_ms"].is_number_integer()) << m.dump();
    EXPECT_GE(m["timestamp_ms"].get<int64_t>(), before_ms - 5000);
    EXPECT_LE(m["timestamp_ms"].get<int64_t>(), now_ms + 5000);
  }
  // The tricky id also works as an idempotency key.
  Json a = ProduceOk("t", Json::array({{{"id", tricky}, {"value", 1}}}));
  Json b = ProduceOk("t", Json::array({{{"id", tricky}, {"value", 1}}}));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]["duplicate"], Json(true));
  EXPECT_EQ(b[0]["offset"], a[0]["offset"]);
}

TEST_F(ProduceTest, BatchIsAllOrNothing) {
  CreateTopicOrFail("t", {{"partitions", 2}});
  ProduceOk("t", Json::array({{{"value", "seed"}, {"partition", 0}}}));
  const int64_t hw0 = TotalHighWatermark(http(), "t", 2);
  ASSERT_EQ(hw0, 1);

  // Each batch starts with valid messages (ids included) and has exactly one bad message.
  const std::vector<std::pair<std::string, Json>> bad_ones = {
      {"no value", Json::object({{"key", "k"}})},
      {"value and value_b64", Json{{"value", 1}, {"value_b64", "AA=="}}},
      {"invalid base64", Json{{"value_b64", "***not base64***"}}},
      {"non-string header", Json{{"value", 1}, {"headers", {{"h", 5}}}}},
      {"headers not an object", Json{{"value", 1}, {"headers", Json::array({"h"})}}},
      {"non-string key", Json{{"value", 1}, {"key", 17}}},
      {"non-string id", Json{{"value", 1}, {"id", 17}}},
      {"negative partition", Json{{"value", 1}, {"partition", -1}}},
      {"message not an object", Json("just a string")},
  };
  for (const auto& [what, bad] : bad_ones) {
    SCOPED_TRACE(what);
    Json batch = Json::array({{{"id", "aon-1"}, {"value", "ok-1"}},
                              {{"id", "aon-2"}, {"value", "ok-2"}, {"partition", 1}},
                              bad,
                              {{"id", "aon-3"}, {"value", "ok-3"}}});
    EXPECT_TRUE(IsError(Produce(http(), "t", batch), 400, "INVALID_REQUEST"));
    EXPECT_EQ(TotalHighWatermark(http(), "t", 2), hw0);
  }
  // A partition that does not exist fails the whole batch too.
  auto r =
      Produce(http(), "t",
              Json::array({{{"id", "aon-1"}, {"value", 1}}, {{"value", 2}, {"partition", 9}}}));
  EXPECT_TRUE(r.status == 400 || r.status == 404) << r.Describe();
  EXPECT_TRUE(r.error_code() == "INVALID_REQUEST" || r.error_code() == "PARTITION_NOT_FOUND")
      << r.Describe();
  EXPECT_EQ(TotalHighWatermark(http(), "t", 2), hw0);

  // The ids of the refused batches were not remembered for deduplication.
  Json fresh = ProduceOk("t", Json::array({{{"id", "aon-1"}, {"value", "ok-1"}},
                                           {{"id", "aon-3"}, {"value", "ok-3"}}}));
  ASSERT_EQ(fresh.size(), 2u);
  EXPECT_EQ(fresh[0]["duplicate"], Json(false)) << fresh.dump();
  EXPECT_EQ(fresh[1]["duplicate"], Json(false)) << fresh.dump();
  EXPECT_EQ(TotalHighWatermark(http(), "t", 2), hw0 + 2);
}

}  // namespace
}  // namespace zoomq::testing
