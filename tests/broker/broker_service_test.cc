// BrokerService over a real SQLite file in a temp dir, with a fake clock: DLQ moves,
// restart recovery, retention, dedup across restarts, group commit.
#include "broker/service/broker_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

namespace zoomq::broker {
namespace {

class BrokerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zoomq-svc-XXXXXX";
    dir_ = mkdtemp(tmpl);
    Open();
  }
  void TearDown() override {
    svc_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    svc_.reset();
    BrokerOptions o;
    o.dedup_window_ms = 60'000;
    auto s = BrokerService::Open(o, dir_, SyncMode::kNormal, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    svc_ = std::move(s).value();
  }
  void CreateTopic(const std::string& name, nlohmann::json extra = nlohmann::json::object()) {
    extra["name"] = name;
    auto spec = TopicSpec::FromJson(extra);
    ASSERT_TRUE(spec.ok());
    ASSERT_TRUE(svc_->CreateTopic(spec.value()).ok());
  }
  std::vector<ProduceResult> Produce(const std::string& topic, std::vector<std::string> values,
                                     std::optional<std::string> key = std::nullopt,
                                     std::optional<std::string> id = std::nullopt) {
    std::vector<ProduceMessage> msgs;
    for (auto& v : values) {
      ProduceMessage m;
      m.value = v;
      m.key = key;
      m.id = id;
      m.bytes = static_cast<uint32_t>(v.size());
      msgs.push_back(m);
    }
    auto r = svc_->Produce(topic, std::move(msgs));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::vector<ProduceResult>{};
  }
  std::vector<DeliveredMessage> Pull(const std::string& topic, const std::string& group,
                                     size_t max = 100) {
    auto r = svc_->Pull(topic, group, "c1", max, 0, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : std::vector<DeliveredMessage>{};
  }
  static MessageRef Ref(const DeliveredMessage& m) {
    return {m.message.partition, m.message.offset,
            std::to_string(m.message.partition) + "-" + std::to_string(m.message.offset)};
  }

  FakeClock clock_;
  std::string dir_;
  std::unique_ptr<BrokerService> svc_;
};

TEST_F(BrokerServiceTest, AcksAndDeliveryCountsSurviveRestart) {
  CreateTopic("t");
  Produce("t", {"1", "2", "3"});
  auto got = Pull("t", "g");
  ASSERT_EQ(got.size(), 3u);
  ASSERT_TRUE(svc_->Ack("t", "g", {Ref(got[0]), Ref(got[2])}).ok());
  Open();  // restart on the same files
  auto again = Pull("t", "g");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].message.offset, 1u);
  EXPECT_EQ(again[0].message.value, "2");
  EXPECT_EQ(again[0].delivery, 2u);
}

TEST_F(BrokerServiceTest, DedupIdSurvivesRestart) {
  CreateTopic("t", {{"partitions", 3}});
  auto first = Produce("t", {"\"a\""}, std::nullopt, std::string("id-1"));
  Open();
  auto retry = Produce("t", {"\"a\""}, std::nullopt, std::string("id-1"));
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_TRUE(retry[0].duplicate);
  EXPECT_EQ(retry[0].partition, first[0].partition);
  EXPECT_EQ(retry[0].offset, first[0].offset);
}

TEST_F(BrokerServiceTest, ExpiredLeasesGoToTheDeadLetterTopicOnce) {
  CreateTopic("jobs", {{"max_deliveries", 2}, {"visibility_timeout_ms", 1000}});
  Produce("jobs", {"{\"n\":1}"}, std::string("k"));
  ASSERT_EQ(Pull("jobs", "g").size(), 1u);
  clock_.Advance(1000);
  svc_->TickOnce();
  ASSERT_EQ(Pull("jobs", "g").size(), 1u);  // delivery 2
  clock_.Advance(1000);
  svc_->TickOnce();  // second expiry: dead-lettered
  EXPECT_TRUE(Pull("jobs", "g").empty());
  auto dlq = svc_->Read("jobs.dlq", 0, 0, 10, 5000);  // long-polls until the move commits
  ASSERT_TRUE(dlq.ok());
  ASSERT_EQ(dlq->messages.size(), 1u);
  const StoredMessage& m = dlq->messages[0];
  EXPECT_EQ(m.value, "{\"n\":1}");
  EXPECT_EQ(*m.key, "k");
  auto headers = nlohmann::json::parse(*m.headers_json);
  EXPECT_EQ(headers["zoomq-original-topic"], "jobs");
  EXPECT_EQ(headers["zoomq-original-partition"], "0");
  EXPECT_EQ(headers["zoomq-original-offset"], "0");
  EXPECT_EQ(headers["zoomq-deliveries"], "2");
  EXPECT_NE(headers["zoomq-dlq-reason"].get<std::string>().find("visibility"), std::string::npos);
  // Once: neither more ticks nor a restart move it again.
  clock_.Advance(100'000);
  svc_->TickOnce();
  Open();
  clock_.Advance(100'000);
  svc_->TickOnce();
  EXPECT_TRUE(Pull("jobs", "g").empty());
  EXPECT_EQ(svc_->Read("jobs.dlq", 0, 0, 10, 0)->messages.size(), 1u);
  EXPECT_EQ(svc_->DescribeGroup("jobs", "g")->dead_lettered, 1u);
}

TEST_F(BrokerServiceTest, RetentionRemovesOldMessagesAndGroupsSkipThem) {
  CreateTopic("t", {{"retention_ms", 10'000}});
  Produce("t", {"1", "2"});
  clock_.Advance(20'000);
  Produce("t", {"3"});
  svc_->RetentionOnce();
  auto r = svc_->Read("t", 0, 0, 10, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first_offset, 2u);
  EXPECT_EQ(r->high_watermark, 3u);
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].value, "3");
  auto got = Pull("t", "g");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message.offset, 2u);
  Open();  // offsets never restart, also after a restart
  EXPECT_EQ(Produce("t", {"4"})[0].offset, 3u);
  EXPECT_EQ(svc_->Read("t", 0, 0, 10, 0)->first_offset, 2u);
}

TEST_F(BrokerServiceTest, BatchIsAllOrNothing) {
  CreateTopic("t", {{"partitions", 2}});
  std::vector<ProduceMessage> msgs(2);
  msgs[0].value = "1";
  msgs[1].value = "2";
  msgs[1].partition = 5;  // no such partition
  auto r = svc_->Produce("t", msgs);
  EXPECT_EQ(r.status().code(), Code::kPartitionNotFound);
  for (int p = 0; p < 2; ++p) EXPECT_EQ(svc_->Read("t", p, 0, 10, 0)->high_watermark, 0u);
  msgs[1].partition.reset();
  msgs[1].bytes = 2u << 20;  // over max_message_bytes
  EXPECT_EQ(svc_->Produce("t", msgs).status().code(), Code::kPayloadTooLarge);
  for (int p = 0; p < 2; ++p) EXPECT_EQ(svc_->Read("t", p, 0, 10, 0)->high_watermark, 0u);
}

TEST_F(BrokerServiceTest, ConcurrentProducesShareCommits) {
  CreateTopic("t", {{"partitions", 4}});
  const uint64_t before = svc_->counters().committed_batches;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([this] {
      for (int j = 0; j < 50; ++j) Produce("t", {"1"});
    });
  }
  for (auto& t : threads) t.join();
  Counters c = svc_->counters();
  EXPECT_EQ(c.produced, 400u);
  EXPECT_GE(c.committed_batches - before, 400u);
  uint64_t total = 0;
  for (int p = 0; p < 4; ++p) total += svc_->Read("t", p, 0, 1000, 0)->high_watermark;
  EXPECT_EQ(total, 400u);
}

TEST_F(BrokerServiceTest, UnknownThingsAreNamed) {
  EXPECT_EQ(svc_->Produce("nope", {ProduceMessage{}}).status().code(), Code::kTopicNotFound);
  CreateTopic("t");
  EXPECT_EQ(svc_->Ack("t", "never", {}).status().code(), Code::kGroupNotFound);
  EXPECT_EQ(svc_->Read("t", 3, 0, 10, 0).status().code(), Code::kPartitionNotFound);
  EXPECT_EQ(svc_->DescribeGroup("t", "never").status().code(), Code::kGroupNotFound);
}

TEST_F(BrokerServiceTest, DeletedTopicLeavesNothingBehind) {
  CreateTopic("t");
  Produce("t", {"1"});
  ASSERT_TRUE(svc_->DeleteTopic("t").ok());
  EXPECT_EQ(svc_->DescribeTopic("t").status().code(), Code::kTopicNotFound);
  CreateTopic("t");
  EXPECT_EQ(svc_->Read("t", 0, 0, 10, 0)->high_watermark, 0u);
  Open();
  EXPECT_EQ(svc_->Read("t", 0, 0, 10, 0)->high_watermark, 0u);
}

}  // namespace
}  // namespace zoomq::broker
