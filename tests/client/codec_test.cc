// The SDK's JSON codec and error mapping, against the answer shapes of docs/api.md.
#include "codec.h"

#include <gtest/gtest.h>

#include "zoomq/client/types.h"

namespace zoomq::client_internal {
namespace {

TEST(CodecTest, StatusOfMapsErrorBodiesStatusesAndLostReplies) {
  EXPECT_TRUE(StatusOf({200, "{}", "", -1}).ok());
  EXPECT_TRUE(StatusOf({204, "", "", -1}).ok());

  Status st = StatusOf({503, R"({"error":{"code":"NOT_LEADER","message":"moved"}})", "", -1});
  EXPECT_EQ(st.code(), Code::kNotLeader);
  EXPECT_EQ(st.message(), "moved");

  // No error body: by HTTP status.
  EXPECT_EQ(StatusOf({429, "busy", "", 1}).code(), Code::kOverloaded);
  EXPECT_EQ(StatusOf({413, "", "", -1}).code(), Code::kPayloadTooLarge);
  EXPECT_EQ(StatusOf({500, "", "", -1}).code(), Code::kInternal);
  EXPECT_EQ(StatusOf({502, "", "", -1}).code(), Code::kInternal);
  // Unknown code name: by HTTP status too.
  EXPECT_EQ(StatusOf({503, R"({"error":{"code":"WHATEVER"}})", "", -1}).code(),
            Code::kUnavailable);

  Status lost = StatusOf({0, "", "connection reset", -1});
  EXPECT_EQ(lost.code(), Code::kUnavailable);
  EXPECT_NE(lost.message().find("connection reset"), std::string::npos);
}

TEST(CodecTest, RetriableCodes) {
  for (Code c : {Code::kOverloaded, Code::kInternal, Code::kNotEnoughReplicas, Code::kNoLeader,
                 Code::kNotLeader, Code::kUnavailable}) {
    EXPECT_TRUE(IsRetriable(Status(c, ""))) << CodeName(c);
  }
  for (Code c : {Code::kInvalidRequest, Code::kTopicNotFound, Code::kPartitionNotFound,
                 Code::kTopicExists, Code::kPayloadTooLarge, Code::kStaleEpoch}) {
    EXPECT_FALSE(IsRetriable(Status(c, ""))) << CodeName(c);
  }
}

TEST(CodecTest, EncodeProduceJsonAndBytes) {
  OutgoingMessage a = OutgoingMessage::Json("t", R"({"c":21.5})", "k1");
  a.id = "p-1";
  a.partition = 2;
  a.headers["unit"] = "C";
  OutgoingMessage b = OutgoingMessage::Bytes("t", std::string("\x00\xff", 2));
  std::string body = EncodeProduce({&a, &b});
  EXPECT_EQ(body,
            R"({"messages":[{"headers":{"unit":"C"},"id":"p-1","key":"k1","partition":2,)"
            R"("value":{"c":21.5}},{"value_b64":"AP8="}]})");
}

TEST(CodecTest, DecodeProduce) {
  auto r = api::DecodeProduceResults(R"({"results":[{"partition":1,"offset":17,"duplicate":false},)"
                         R"({"partition":1,"offset":3,"duplicate":true}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].offset, 17);
  EXPECT_FALSE((*r)[0].duplicate);
  EXPECT_TRUE((*r)[1].duplicate);
  EXPECT_FALSE(api::DecodeProduceResults("not json").ok());
  EXPECT_FALSE(api::DecodeProduceResults("{}").ok());
}

TEST(CodecTest, DecodeMessagesJsonBytesHeadersAndStreamFields) {
  const std::string body =
      R"({"messages":[{"id":"0-17","partition":0,"offset":17,"key":"sensor-1",)"
      R"("value":{"celsius":21.5},"headers":{"unit":"C"},"timestamp_ms":1764000000000,)"
      R"("delivery":2,"message_id":"p-42"},)"
      R"({"id":"1-3","partition":1,"offset":3,"value_b64":"AP8=","timestamp_ms":5}],)"
      R"("high_watermark":18,"first_offset":4})";
  int64_t hwm = -1, first = -1;
  auto r = DecodeMessages("temp", body, &hwm, &first);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const ReceivedMessage& m = (*r)[0];
  EXPECT_EQ(m.topic, "temp");
  EXPECT_EQ(m.handle, "0-17");
  EXPECT_EQ(m.offset, 17);
  EXPECT_EQ(m.key.value_or(""), "sensor-1");
  EXPECT_TRUE(m.value_is_json);
  EXPECT_EQ(m.value, R"({"celsius":21.5})");
  EXPECT_EQ(m.headers.at("unit"), "C");
  EXPECT_EQ(m.timestamp_ms, 1764000000000);
  EXPECT_EQ(m.delivery, 2);
  EXPECT_EQ(m.message_id, "p-42");
  const ReceivedMessage& b = (*r)[1];
  EXPECT_FALSE(b.value_is_json);
  EXPECT_EQ(b.value, std::string("\x00\xff", 2));
  EXPECT_FALSE(b.key.has_value());
  EXPECT_EQ(b.delivery, 0);
  EXPECT_EQ(hwm, 18);
  EXPECT_EQ(first, 4);

  EXPECT_FALSE(DecodeMessages("t", R"({"messages":[{"value_b64":"!!"}]})").ok());
  EXPECT_FALSE(DecodeMessages("t", "[]").ok());
}

TEST(CodecTest, AckAndIds) {
  auto a = api::DecodeAck(R"({"acked":2,"nacked":2,"unknown":["0-9"]})", "nacked");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->applied, 2);
  EXPECT_EQ(a->unknown, std::vector<std::string>{"0-9"});
  auto b = api::DecodeAck(R"({"acked":3,"unknown":[]})", "extended");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->applied, 3);
  EXPECT_EQ(EncodeIds({"0-1", "2-3"}), R"({"ids":["0-1","2-3"]})");
  EXPECT_EQ(EncodeIds({"0-1"}, "delay_ms", 500), R"({"delay_ms":500,"ids":["0-1"]})");
}

TEST(CodecTest, TopicsClusterGroup) {
  TopicSpec spec;
  spec.name = "t";
  spec.partitions = 3;
  spec.max_deliveries = 5;
  EXPECT_EQ(EncodeTopicSpec(spec), R"({"max_deliveries":5,"name":"t","partitions":3})");

  const std::string topic =
      R"({"name":"t","config":{"partitions":3,"replication_factor":2,"min_insync_replicas":1,)"
      R"("retention_ms":1000,"retention_bytes":0,"visibility_timeout_ms":30000,)"
      R"("max_deliveries":5},"created_ms":12,"partitions":[{"partition":0,"first_offset":1,)"
      R"("high_watermark":5,"log_end_offset":6}],"groups":["g"]})";
  auto t = api::DecodeTopic(topic);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->partitions, 3);
  EXPECT_EQ(t->replication_factor, 2);
  EXPECT_EQ(t->visibility_timeout_ms, 30000);
  EXPECT_EQ(t->max_deliveries, 5);
  EXPECT_EQ(t->created_ms, 12);
  ASSERT_EQ(t->partition_info.size(), 1u);
  EXPECT_EQ(t->partition_info[0].high_watermark, 5);
  EXPECT_EQ(t->groups, std::vector<std::string>{"g"});

  auto list = api::DecodeTopicList("{\"topics\":[" + topic + "," + topic + "]}");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);

  auto c = api::DecodeCluster(
      R"({"broker":1,"controller":2,"brokers":[{"id":1,"url":"http://a","alive":true},)"
      R"({"id":2,"url":"http://b","alive":false}],"topics":[{"name":"x","partitions":[)"
      R"({"partition":0,"leader":2,"epoch":7,"replicas":[2,1],"isr":[2],)"
      R"("high_watermark":10,"log_end_offset":11}]}]})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->controller, 2);
  ASSERT_EQ(c->brokers.size(), 2u);
  EXPECT_FALSE(c->brokers[1].alive);
  ASSERT_EQ(c->topics.size(), 1u);
  EXPECT_EQ(c->topics[0].partitions, 1);
  EXPECT_EQ(c->topics[0].partition_info[0].leader, 2);
  EXPECT_EQ(c->topics[0].partition_info[0].epoch, 7);
  EXPECT_EQ(c->topics[0].partition_info[0].replicas, (std::vector<int>{2, 1}));
  EXPECT_EQ(c->topics[0].partition_info[0].isr, std::vector<int>{2});

  auto g = api::DecodeGroup(
      R"({"topic":"t","group":"g","created_ms":1,"backlog":4,"in_flight":2,"acked":9,)"
      R"("dead_lettered":1,"consumers":[{"consumer":"c1","last_seen_ms":77}]})");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->backlog, 4);
  EXPECT_EQ(g->dead_lettered, 1);
  ASSERT_EQ(g->consumers.size(), 1u);
  EXPECT_EQ(g->consumers[0].last_seen_ms, 77);
}

TEST(CodecTest, UrlEncode) {
  EXPECT_EQ(UrlEncode("temp_1.a-b~"), "temp_1.a-b~");
  EXPECT_EQ(UrlEncode("a b/c?d&e"), "a%20b%2Fc%3Fd%26e");
  EXPECT_EQ(UrlEncode("\xc3\xa9"), "%C3%A9");
}

}  // namespace
}  // namespace zoomq::client_internal
