// Reads of integers from JSON that came over the network: a float where an integer belongs
// (3e86 in a group's "acked", found by fuzz_api_answers) must not reach nlohmann's get<T>(),
// whose conversion of an out-of-range float is undefined behaviour.
#include "zoomq/common/json_get.h"

#include <gtest/gtest.h>

#include <limits>

#include "zoomq/common/api_codec.h"

namespace zoomq {
namespace {

using nlohmann::json;

TEST(JsonGetTest, IntegersThatFitAreRead) {
  const json j = json::parse(R"({"a":7,"b":-3,"c":18446744073709551615,"d":2147483647})");
  EXPECT_EQ(JsonGet<int64_t>(j, "a", 0), 7);
  EXPECT_EQ(JsonGet<int>(j, "b", 0), -3);
  EXPECT_EQ(JsonGet<uint64_t>(j, "c", 0), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(JsonGet<int32_t>(j, "d", 0), 2147483647);
  EXPECT_EQ(JsonIntAt<uint32_t>(j, "a"), 7u);
}

TEST(JsonGetTest, FloatsAndOutOfRangeGiveTheFallback) {
  const json j = json::parse(
      R"({"huge":3e86,"half":1.5,"whole":5.0,"big":4294967296,"neg":-1,"s":"7","u":1e19})");
  EXPECT_EQ(JsonGet<int64_t>(j, "huge", -9), -9);
  EXPECT_EQ(JsonGet<int64_t>(j, "half", -9), -9);
  EXPECT_EQ(JsonGet<int64_t>(j, "whole", -9), -9);  // a float, even a whole one
  EXPECT_EQ(JsonGet<uint64_t>(j, "u", 9), 9u);
  EXPECT_EQ(JsonGet<int32_t>(j, "big", -9), -9);
  EXPECT_EQ(JsonGet<uint32_t>(j, "neg", 9), 9u);
  EXPECT_EQ(JsonGet<int>(j, "s", -9), -9);
}

TEST(JsonGetTest, StrictReadsThrowNamingTheField) {
  const json j = json::parse(R"({"epoch":3e86,"offset":-1})");
  try {
    (void)JsonIntAt<int64_t>(j, "epoch");
    FAIL() << "3e86 read as an integer";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("epoch"), std::string::npos) << e.what();
  }
  EXPECT_THROW((void)JsonIntAt<uint64_t>(j, "offset"), std::invalid_argument);
  EXPECT_THROW((void)JsonIntAt<uint64_t>(j, "missing"), json::out_of_range);
}

// The fuzzer's input, decoded: the group is read, the float count is not taken for a number.
TEST(JsonGetTest, GroupAnswerWithAFloatCount) {
  auto g = api::DecodeGroup(
      R"({"topic":"t","group":"g","acked":29999999999999999999999999999999999999999999999999999)"
      R"(9999999999999999999999999999999999999,"backlog":3,"consumers":[{"consumer":"c",)"
      R"("last_seen_ms":1.5e300}]})");
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->acked, 0);
  EXPECT_EQ(g->backlog, 3);
  ASSERT_EQ(g->consumers.size(), 1u);
  EXPECT_EQ(g->consumers[0].last_seen_ms, 0);
}

}  // namespace
}  // namespace zoomq
