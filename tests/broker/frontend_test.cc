// The cluster Frontend (broker/cluster/frontend.h) without sockets: a real BrokerService
// (standalone, over a temp dir) serves this broker's share, a fake router says who leads what,
// and a fake PeerClient plays the other brokers. Fan-out, merging, retries after a leadership
// move, abandoning a paused leader and partial failures are stepped by hand.
#include "broker/cluster/frontend.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

namespace zoomq::broker::cluster {
namespace {

constexpr const char* kSelf = "http://self";
constexpr const char* kB = "http://b";
constexpr const char* kC = "http://c";
constexpr const char* kTopic = "t";

class FakeRouter : public ClusterRouter {
 public:
  int32_t self_id() const override { return 1; }
  std::string self_url() const override { return kSelf; }
  std::optional<std::string> LeaderUrl(const std::string& topic, int32_t partition) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = leaders_.find(partition);
    if (topic != kTopic || it == leaders_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> ControllerUrl() override {
    std::lock_guard<std::mutex> lock(mu_);
    return controller_;
  }
  bool IsController() override { return ControllerUrl() == std::string(kSelf); }
  std::vector<std::string> BrokerUrls() override { return {kSelf, kB, kC}; }
  bool ZkConnected() override { return true; }
  ClusterInfo View() override { return {}; }
  int AddLeadershipListener(std::function<void()> f) override { return listeners_.Add(f); }
  void RemoveLeadershipListener(int id) override { listeners_.Remove(id); }
  Result<CreateOutcome> CreateTopic(const TopicSpec& spec) override {
    ++controller_calls;
    return Status(Code::kTopicExists, "created by the fake controller? no: " + spec.name);
  }
  Status DeleteTopic(const std::string&) override {
    ++controller_calls;
    return Status::Ok();
  }
  Status ControlledShutdown(int32_t) override {
    ++controller_calls;
    return Status::Ok();
  }

  // The metadata moves (and the router tells its listeners, as ClusterNode does).
  void Lead(int32_t partition, std::optional<std::string> url) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (url) {
        leaders_[partition] = *url;
      } else {
        leaders_.erase(partition);
      }
    }
    listeners_.Notify();
  }
  void SetController(std::string url) {
    std::lock_guard<std::mutex> lock(mu_);
    controller_ = std::move(url);
  }

  std::atomic<int> controller_calls{0};

 private:
  std::mutex mu_;
  std::map<int32_t, std::string> leaders_;
  std::string controller_ = kSelf;
  LeadershipListeners listeners_;
};

// The other brokers: each call is recorded, then answered by the test's handler.
class FakePeers : public PeerClient {
 public:
  struct ProduceCall {
    std::string url;
    std::vector<ProduceMessage> messages;
  };
  std::function<Result<std::vector<ProduceResult>>(const ProduceCall&)> on_produce;
  std::function<Result<AckResult>(const std::string& url, const PeerLease&)> on_lease;
  std::function<Result<GroupInfo>(const std::string& url)> on_describe_group;

  Result<std::vector<ProduceResult>> Produce(const std::string& url, const std::string&,
                                             const std::vector<const ProduceMessage*>& messages,
                                             TimeMs) override {
    ProduceCall call{url, {}};
    for (const ProduceMessage* m : messages) call.messages.push_back(*m);
    {
      std::lock_guard<std::mutex> lock(mu);
      produce_calls.push_back(call);
    }
    auto r = on_produce(call);
    std::lock_guard<std::mutex> lock(mu);
    ++produce_returned;
    returned_cv.notify_all();
    return r;
  }
  // A share the frontend abandoned keeps running on its thread: the test waits for it before
  // the fakes go away.
  bool WaitAllProducesReturned(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return returned_cv.wait_for(lock, timeout,
                                [&] { return produce_returned == produce_calls.size(); });
  }
  Result<PeerPullAnswer> Pull(const std::string& url, const PeerPull&, TimeMs) override {
    return Status::Unavailable("no pulls from " + url + " in this test");
  }
  Result<size_t> InFlight(const std::string&, const std::string&, const std::string&,
                          const std::string&, TimeMs) override {
    return size_t{0};
  }
  Result<AckResult> Lease(const std::string& url, const PeerLease& lease, TimeMs) override {
    {
      std::lock_guard<std::mutex> lock(mu);
      lease_calls.emplace_back(url, lease.ids);
    }
    return on_lease(url, lease);
  }
  Result<GroupInfo> DescribeGroup(const std::string& url, const std::string&, const std::string&,
                                  TimeMs) override {
    return on_describe_group(url);
  }
  Result<bool> CreateGroup(const std::string&, const std::string&, const std::string&, bool,
                           TimeMs) override {
    return false;
  }
  Result<StreamRead> Read(const std::string& url, const PeerRead& read, TimeMs) override {
    std::lock_guard<std::mutex> lock(mu);
    reads.emplace_back(url, read.from);
    return StreamRead{{}, 42, 7};
  }
  Result<CreateOutcome> CreateTopic(const std::string& url, const TopicSpec& spec,
                                    TimeMs) override {
    std::lock_guard<std::mutex> lock(mu);
    controller_calls.push_back(url + " create " + spec.name);
    return CreateOutcome{true, TopicInfo{spec.name, {}, 1, {}, {}}};
  }
  Status DeleteTopic(const std::string& url, const std::string& topic, TimeMs) override {
    std::lock_guard<std::mutex> lock(mu);
    controller_calls.push_back(url + " delete " + topic);
    return Status::Ok();
  }
  Status ControlledShutdown(const std::string& url, int32_t broker, TimeMs) override {
    std::lock_guard<std::mutex> lock(mu);
    controller_calls.push_back(url + " shutdown " + std::to_string(broker));
    return Status::Ok();
  }

  std::mutex mu;
  std::condition_variable returned_cv;
  size_t produce_returned = 0;
  std::vector<ProduceCall> produce_calls;
  std::vector<std::pair<std::string, std::vector<std::string>>> lease_calls;
  std::vector<std::pair<std::string, uint64_t>> reads;
  std::vector<std::string> controller_calls;
};

// Offsets a fake leader gives: base + position in the share.
std::vector<ProduceResult> Written(const FakePeers::ProduceCall& call, int64_t base) {
  std::vector<ProduceResult> out;
  for (size_t k = 0; k < call.messages.size(); ++k) {
    out.push_back({static_cast<int>(*call.messages[k].partition),
                   base + static_cast<int64_t>(k), false});
  }
  return out;
}

class FrontendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/zoomq-frontend-XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto s = BrokerService::Open(BrokerOptions{}, dir_, SyncMode::kNormal, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    svc_ = std::move(s).value();
    auto spec = TopicSpec::FromJson({{"name", kTopic}, {"partitions", 3}});
    ASSERT_TRUE(spec.ok());
    ASSERT_TRUE(svc_->CreateTopic(spec.value()).ok());
    // This broker leads partition 0, B leads 1, C leads 2.
    router_.Lead(0, kSelf);
    router_.Lead(1, kB);
    router_.Lead(2, kC);
    frontend_ = std::make_unique<Frontend>(*svc_, router_, peers_);
  }
  void TearDown() override {
    EXPECT_TRUE(peers_.WaitAllProducesReturned(std::chrono::seconds(10)));
    frontend_.reset();
    svc_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Messages to partitions p[0], p[1], ... with ids m0, m1, ...
  static std::vector<ProduceMessage> Batch(const std::vector<int64_t>& partitions) {
    std::vector<ProduceMessage> out;
    for (size_t i = 0; i < partitions.size(); ++i) {
      ProduceMessage m;
      m.value = "{\"n\":" + std::to_string(i) + "}";
      m.id = "m" + std::to_string(i);
      m.partition = partitions[i];
      m.bytes = static_cast<uint32_t>(m.value.size());
      out.push_back(m);
    }
    return out;
  }

  static MessageRef Ref(int32_t partition, uint64_t offset) {
    return {partition, offset, std::to_string(partition) + "-" + std::to_string(offset)};
  }

  FakeClock clock_;
  std::string dir_;
  std::unique_ptr<BrokerService> svc_;
  FakeRouter router_;
  FakePeers peers_;
  std::unique_ptr<Frontend> frontend_;
};

TEST_F(FrontendTest, ProduceSplitsByLeaderAndAnswersInTheBatchOrder) {
  peers_.on_produce = [](const FakePeers::ProduceCall& c) {
    return Written(c, c.url == kB ? 10 : 20);
  };
  auto r = frontend_->Produce(kTopic, Batch({0, 1, 2, 0, 1, 2}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 6u);
  const std::vector<std::pair<int32_t, int64_t>> want = {{0, 0}, {1, 10}, {2, 20},
                                                          {0, 1}, {1, 11}, {2, 21}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*r)[i].partition, want[i].first) << i;
    EXPECT_EQ((*r)[i].offset, want[i].second) << i;
  }
  // Each leader got its own messages, in order, with their partitions and ids.
  ASSERT_EQ(peers_.produce_calls.size(), 2u);
  for (const auto& call : peers_.produce_calls) {
    ASSERT_EQ(call.messages.size(), 2u) << call.url;
    const int64_t p = call.url == kB ? 1 : 2;
    EXPECT_EQ(call.messages[0].partition, p);
    EXPECT_EQ(call.messages[0].id, "m" + std::to_string(p));
    EXPECT_EQ(call.messages[1].id, "m" + std::to_string(p + 3));
    EXPECT_EQ(call.messages[1].value, "{\"n\":" + std::to_string(p + 3) + "}");
  }
  // This broker's share is in its own log.
  auto local = svc_->Read(kTopic, 0, 0, 10, 0);
  ASSERT_TRUE(local.ok());
  ASSERT_EQ(local->messages.size(), 2u);
  EXPECT_EQ(local->messages[1].id, "m3");
}

TEST_F(FrontendTest, AShareAnsweredNotLeaderGoesToTheNewLeader) {
  peers_.on_produce = [this](const FakePeers::ProduceCall& c) -> Result<std::vector<ProduceResult>> {
    if (c.url == kB) {
      router_.Lead(1, kC);  // B lost partition 1 to C, and says so
      return Status(Code::kNotLeader, "broker 2 does not lead t/1");
    }
    return Written(c, 30);
  };
  auto r = frontend_->Produce(kTopic, Batch({1, 1}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].offset, 30);
  EXPECT_EQ((*r)[1].offset, 31);
  ASSERT_EQ(peers_.produce_calls.size(), 2u);
  EXPECT_EQ(peers_.produce_calls[1].url, kC);
  EXPECT_EQ(peers_.produce_calls[1].messages[0].id, "m0");  // the same ids: no duplicate
}

// Issue 11 item 6: a leader paused (SIGSTOP) never answers; the request stops waiting for it
// as soon as the metadata names another leader, and goes there.
TEST_F(FrontendTest, AShareWaitingOnAPausedLeaderIsReroutedWhenTheLeadershipMoves) {
  std::mutex mu;
  std::condition_variable cv;
  bool b_called = false, b_released = false;
  peers_.on_produce = [&](const FakePeers::ProduceCall& c) -> Result<std::vector<ProduceResult>> {
    if (c.url == kB) {
      std::unique_lock<std::mutex> lock(mu);
      b_called = true;
      cv.notify_all();
      // Paused until the test ends, or (if the request waited for it) a read timeout.
      cv.wait_for(lock, std::chrono::seconds(5), [&] { return b_released; });
      return Status::Unavailable("broker at http://b did not answer: timeout");
    }
    return Written(c, 40);
  };
  std::thread mover([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return b_called; });
    lock.unlock();
    router_.Lead(1, kC);  // B's session expired; the controller moved partition 1
  });
  auto r = frontend_->Produce(kTopic, Batch({0, 1}));
  mover.join();
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_FALSE(b_released) << "the answer waited for the paused leader";
    b_released = true;
    cv.notify_all();
  }
  ASSERT_TRUE(peers_.WaitAllProducesReturned(std::chrono::seconds(10)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].partition, 0);
  EXPECT_EQ((*r)[1].partition, 1);
  EXPECT_EQ((*r)[1].offset, 40);
}

// Chaos seed 510120: one share fails outright while another moves and succeeds in the second
// round; the answer is the failure, not a success with a share dropped.
TEST_F(FrontendTest, AFailedShareIsTheAnswerWhenAnotherShareMoves) {
  peers_.on_produce = [this](const FakePeers::ProduceCall& c) -> Result<std::vector<ProduceResult>> {
    if (c.url == kB) {
      router_.Lead(1, kSelf);
      return Status(Code::kNotLeader, "moved");
    }
    return Status::Unavailable("broker at http://c did not answer: connection refused");
  };
  auto r = frontend_->Produce(kTopic, Batch({1, 2}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
}

TEST_F(FrontendTest, APartitionWithoutLeaderIsNoLeaderAndNothingIsWritten) {
  router_.Lead(2, std::nullopt);
  peers_.on_produce = [](const FakePeers::ProduceCall& c) { return Written(c, 0); };
  auto r = frontend_->Produce(kTopic, Batch({0, 2}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNoLeader);
  EXPECT_TRUE(peers_.produce_calls.empty());
  auto local = svc_->Read(kTopic, 0, 0, 10, 0);
  ASSERT_TRUE(local.ok());
  EXPECT_TRUE(local->messages.empty());
}

TEST_F(FrontendTest, LeaseMergesTheSharesAndTreatsAMissingGroupAsUnknownIds) {
  peers_.on_produce = [](const FakePeers::ProduceCall& c) { return Written(c, 0); };
  ASSERT_TRUE(frontend_->Produce(kTopic, Batch({0, 0})).ok());
  auto pulled = svc_->Pull(kTopic, "g", "c1", 10, 0, std::nullopt);
  ASSERT_TRUE(pulled.ok());
  ASSERT_EQ(pulled->size(), 2u);
  peers_.on_lease = [](const std::string& url, const PeerLease& lease) -> Result<AckResult> {
    if (url == kB) return AckResult{1, {}};
    return Status(Code::kGroupNotFound, "group 'g' not found");  // C never saw the group
  };
  auto r = frontend_->Lease(kTopic, "g", LeaseVerb::kAck,
                            {Ref(0, 0), Ref(1, 5), Ref(2, 9), Ref(0, 1), Ref(7, 1)}, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->applied, 3);  // two here, one at B
  // C's id is unknown; so is the partition the topic lacks (answered here).
  EXPECT_EQ(r->unknown, (std::vector<std::string>{"7-1", "2-9"}));
  ASSERT_EQ(peers_.lease_calls.size(), 2u);
}

TEST_F(FrontendTest, LeaseIsGroupNotFoundOnlyWhenNoBrokerHasTheGroup) {
  peers_.on_lease = [](const std::string&, const PeerLease&) -> Result<AckResult> {
    return Status(Code::kGroupNotFound, "group 'nope' not found");
  };
  auto r = frontend_->Lease(kTopic, "nope", LeaseVerb::kNack, {Ref(1, 0), Ref(2, 0)}, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kGroupNotFound);
}

TEST_F(FrontendTest, DescribeGroupSumsTheLeadersAndRefusesPartialStats) {
  ASSERT_TRUE(svc_->CreateGroup(kTopic, "g", false).ok());
  peers_.on_describe_group = [](const std::string& url) -> Result<GroupInfo> {
    GroupInfo g{kTopic, "g", url == kB ? 5 : 9, 3, 1, 2, 0, {{"c-" + url, 100}}};  // NOLINT
    return g;
  };
  auto r = frontend_->DescribeGroup(kTopic, "g");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->backlog, 6);
  EXPECT_EQ(r->in_flight, 2);
  EXPECT_EQ(r->acked, 4);
  EXPECT_EQ(r->consumers.size(), 2u);
  peers_.on_describe_group = [](const std::string& url) -> Result<GroupInfo> {
    if (url == kC) return Status::Unavailable("broker at http://c did not answer");
    return GroupInfo{kTopic, "g", 5, 3, 1, 2, 0, {}};
  };
  auto partial = frontend_->DescribeGroup(kTopic, "g");
  ASSERT_FALSE(partial.ok());
  EXPECT_EQ(partial.status().code(), Code::kUnavailable);
}

TEST_F(FrontendTest, StreamReadsGoToThePartitionLeader) {
  EXPECT_FALSE(frontend_->Read(kTopic, 0, 0, 10, 0).has_value());  // led here: served locally
  auto r = frontend_->Read(kTopic, 2, 17, 10, 0);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok());
  EXPECT_EQ((*r)->high_watermark, 42u);
  ASSERT_EQ(peers_.reads.size(), 1u);
  EXPECT_EQ(peers_.reads[0], std::make_pair(std::string(kC), uint64_t{17}));
  EXPECT_FALSE(frontend_->Read(kTopic, 9, 0, 10, 0).has_value());  // no such partition
}

TEST_F(FrontendTest, TopicAdminRunsOnTheControllerOrIsSentToIt) {
  TopicSpec spec;
  spec.name = "new";
  auto here = frontend_->CreateTopic(spec, false);
  EXPECT_EQ(router_.controller_calls.load(), 1);
  router_.SetController(kC);
  auto there = frontend_->CreateTopic(spec, false);
  ASSERT_TRUE(there.ok()) << there.status().ToString();
  EXPECT_TRUE(there->created);
  EXPECT_TRUE(frontend_->DeleteTopic("new", false).ok());
  EXPECT_TRUE(frontend_->ControlledShutdown(3, false).ok());
  EXPECT_EQ(peers_.controller_calls,
            (std::vector<std::string>{"http://c create new", "http://c delete new",
                                      "http://c shutdown 3"}));
  // A request forwarded to a broker that is not the controller (any more) is NOT_LEADER,
  // never forwarded again.
  auto forwarded = frontend_->CreateTopic(spec, true);
  ASSERT_FALSE(forwarded.ok());
  EXPECT_EQ(forwarded.status().code(), Code::kNotLeader);
  EXPECT_EQ(peers_.controller_calls.size(), 3u);
}

}  // namespace
}  // namespace zoomq::broker::cluster
