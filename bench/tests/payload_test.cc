#include "zoomq/bench/payload.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace zoomq::bench {
namespace {

using nlohmann::json;

TEST(PayloadTest, ValueHasExactSizeAndSequence) {
  EXPECT_EQ(MessageValue(42, 10), "42xxxxxxxx");
  EXPECT_EQ(MessageValue(123456, 3), "xxx");  // too small for the number
  EXPECT_EQ(MessageValue(7, 100).size(), 100u);
}

TEST(PayloadTest, ProduceBodyIsValidJson) {
  const json doc = json::parse(BuildProduceBody(5, 3, 8, ""));
  ASSERT_EQ(doc["messages"].size(), 3u);
  EXPECT_EQ(doc["messages"][0]["value"], "5xxxxxxx");
  EXPECT_EQ(doc["messages"][2]["value"], "7xxxxxxx");
  EXPECT_FALSE(doc["messages"][0].contains("id"));

  const json with_ids = json::parse(BuildProduceBody(0, 2, 4, "run-"));
  EXPECT_EQ(with_ids["messages"][1]["id"], "run-1");
}

TEST(PayloadTest, ParsesProduceAnswer) {
  const ProduceAnswer a =
      ParseProduceAnswer(R"({"results":[{"partition":0,"offset":1,"duplicate":false},)"
                         R"({"partition":1,"offset":4,"duplicate":true}]})");
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.results, 2);
  EXPECT_EQ(a.duplicates, 1);
  EXPECT_FALSE(ParseProduceAnswer("{").ok);
  EXPECT_FALSE(ParseProduceAnswer(R"({"error":{}})").ok);
}

TEST(PayloadTest, ParsesPullAnswerIdsOnly) {
  const PullAnswer a = ParsePullAnswer(
      R"({"messages":[{"id":"0-17","partition":0,"offset":17,"value":{"id":"inner","delivery":9},)"
      R"("headers":{"id":"h"},"delivery":1},{"value":["id"],"id":"2-3","delivery":2}]})");
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.ids, (std::vector<std::string>{"0-17", "2-3"}));
  EXPECT_EQ(a.redeliveries, 1);

  const PullAnswer empty = ParsePullAnswer(R"({"messages":[]})");
  EXPECT_TRUE(empty.ok);
  EXPECT_TRUE(empty.ids.empty());
  EXPECT_FALSE(ParsePullAnswer(R"({"other":[]})").ok);
  EXPECT_FALSE(ParsePullAnswer("not json").ok);
}

TEST(PayloadTest, AckBodyAndAnswer) {
  EXPECT_EQ(BuildIdsBody({"0-1", "3-4"}), R"({"ids":["0-1","3-4"]})");
  const AckAnswer a = ParseAckAnswer(R"({"acked":2,"unknown":["9-9"]})");
  EXPECT_TRUE(a.ok);
  EXPECT_EQ(a.acked, 2);
  EXPECT_EQ(a.unknown, 1);
  EXPECT_FALSE(ParseAckAnswer(R"({"unknown":[]})").ok);
}

}  // namespace
}  // namespace zoomq::bench
