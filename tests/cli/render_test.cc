// zoomqctl's pure parts: exit codes, value parsing, headers, tables, JSON renderings.
#include "render.h"

#include <gtest/gtest.h>

#include <sstream>

#include "zoomq/tools/brokers.h"

namespace zoomq::ctl {
namespace {

TEST(ZoomqctlRenderTest, ExitCodesFollowTheDocumentedTable) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status(Code::kTopicNotFound, "")), 2);
  EXPECT_EQ(ExitCodeFor(Status(Code::kGroupNotFound, "")), 2);
  EXPECT_EQ(ExitCodeFor(Status(Code::kPartitionNotFound, "")), 2);
  EXPECT_EQ(ExitCodeFor(Status(Code::kUnavailable, "")), 3);
  EXPECT_EQ(ExitCodeFor(Status(Code::kNoLeader, "")), 3);
  EXPECT_EQ(ExitCodeFor(Status(Code::kTimedOut, "")), 3);
  EXPECT_EQ(ExitCodeFor(Status(Code::kInvalidRequest, "")), 4);
  EXPECT_EQ(ExitCodeFor(Status(Code::kTopicExists, "")), 4);
}

TEST(ZoomqctlRenderTest, ValuesThatParseAsJsonStayJsonOthersBecomeStrings) {
  EXPECT_EQ(ValueAsJson("42"), "42");
  EXPECT_EQ(ValueAsJson(R"({"a":1})"), R"({"a":1})");
  EXPECT_EQ(ValueAsJson(R"("quoted")"), R"("quoted")");
  EXPECT_EQ(ValueAsJson("true"), "true");
  EXPECT_EQ(ValueAsJson("hello world"), R"("hello world")");
  EXPECT_EQ(ValueAsJson(R"({"a":)"), R"("{\"a\":")");
}

TEST(ZoomqctlRenderTest, HeadersAreKeyEqualsValue) {
  auto kv = ParseHeader("unit=C=celsius");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->first, "unit");
  EXPECT_EQ(kv->second, "C=celsius");
  EXPECT_FALSE(ParseHeader("novalue").has_value());
  EXPECT_FALSE(ParseHeader("=v").has_value());
}

TEST(ZoomqctlRenderTest, BrokerListsAreSplitOnCommas) {
  EXPECT_EQ(tools::SplitBrokers(" http://a:1, ,http://b:2 "),
            (std::vector<std::string>{"http://a:1", "http://b:2"}));
  EXPECT_TRUE(tools::SplitBrokers("").empty());
}

TEST(ZoomqctlRenderTest, TablePadsColumnsToTheWidestCell) {
  Table table({"A", "LONG"});
  table.Add({"xyz", "1"});
  std::ostringstream out;
  table.Print(out);
  EXPECT_EQ(out.str(), "A    LONG\nxyz  1\n");
}

TEST(ZoomqctlRenderTest, PartitionLagIsLogEndMinusHighWatermark) {
  PartitionInfo p;
  p.high_watermark = 7;
  p.log_end_offset = 10;
  EXPECT_EQ(ToJson(p)["lag"], 3);
}

TEST(ZoomqctlRenderTest, MessagesRenderValueAsJsonOrBase64) {
  ReceivedMessage m;
  m.handle = "0-3";
  m.key = "k";
  m.value = R"({"x":1})";
  Json j = ToJson(m);
  EXPECT_EQ(j["value"]["x"], 1);
  EXPECT_EQ(j["key"], "k");
  EXPECT_EQ(MessageLine(m), R"(0-3 key=k {"x":1})");
  m.value_is_json = false;
  m.value = "ab";
  EXPECT_EQ(ToJson(m)["value_b64"], "YWI=");
}

}  // namespace
}  // namespace zoomq::ctl
