// zoomq::Consumer over a FakeTransport: group polls straight to the partition leaders, the
// local prefetch buffer, leader changes, ack/nack/extend routing, stream positions, and the
// callback mode.
#include "zoomq/client/consumer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

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
using client_testing::MessagesJson;
using client_testing::PathOf;
using client_testing::QueryOf;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr char kTopic[] = "t";
constexpr char kGroupPath[] = "/v1/topics/t/groups/g";

// An empty answer to a long poll takes a moment, as a broker's would: keeps retry loops
// from spinning (ok: emulates the broker's wait, nothing synchronises on it).
HttpResponse EmptyPoll(const HttpRequest& req) {
  int wait = std::atoi(QueryOf(req.target)["wait_ms"].c_str());
  std::this_thread::sleep_for(milliseconds(std::min(wait, 5)));  // ok: broker-side wait
  return Answer(200, MessagesJson({}));
}

ConsumerOptions GroupOptions(std::shared_ptr<FakeTransport> fake, int brokers = 1) {
  ConsumerOptions o;
  for (int id = 1; id <= brokers; ++id) o.client.brokers.push_back(BrokerUrl(id));
  o.client.transport = std::move(fake);
  o.client.request_timeout = milliseconds(2000);
  o.topic = kTopic;
  o.group = "g";
  o.consumer = "c1";
  o.prefetch = 50;
  return o;
}

std::vector<std::string> Handles(const std::vector<ReceivedMessage>& msgs) {
  std::vector<std::string> out;
  for (const ReceivedMessage& m : msgs) out.push_back(m.handle);
  return out;
}

std::vector<std::string> IdsOf(const HttpRequest& req) {
  std::vector<std::string> ids;
  json j = json::parse(req.body, nullptr, false);
  if (j.is_object() && j.contains("ids")) {
    for (const json& id : j["ids"]) ids.push_back(id.get<std::string>());
  }
  return ids;
}

// Polls until `want` messages arrived in total (or 5 s passed).
std::vector<std::string> PollUntil(Consumer& c, size_t want) {
  std::vector<std::string> got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto r = c.Poll(100, milliseconds(200));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) break;
    for (auto& h : Handles(*r)) got.push_back(h);
  }
  return got;
}

TEST(ConsumerTest, GroupPollAsksLeadersConcurrentlyAndKeepsTheRestForTheNextPoll) {
  std::mutex mu;
  std::condition_variable cv;
  bool release_b2 = false;
  int b1_pulls = 0, b2_pulls = 0;
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(2, kTopic, {1, 2}));
    if (req.method == "PUT") return Answer(201, json{{"topic", "t"}, {"group", "g"}});
    if (PathOf(req.target) == std::string(kGroupPath) + "/messages") {
      std::unique_lock<std::mutex> lock(mu);
      if (req.base_url == BrokerUrl(1) && b1_pulls++ == 0) {
        return Answer(200, MessagesJson({{0, 0}, {0, 1}, {0, 2}}));
      }
      if (req.base_url == BrokerUrl(2) && b2_pulls++ == 0) {
        // Answers only after the first Poll returned: its messages must wait in the buffer.
        cv.wait_for(lock, std::chrono::seconds(5), [&] { return release_b2; });
        return Answer(200, MessagesJson({{1, 0}, {1, 1}}));
      }
      lock.unlock();
      return EmptyPoll(req);
    }
    return ErrorAnswer(404, "NOT_FOUND");
  });
  Consumer consumer(GroupOptions(fake, 2));

  auto first = consumer.Poll(2, milliseconds(3000));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(Handles(*first), (std::vector<std::string>{"0-0", "0-1"}));
  {
    std::lock_guard<std::mutex> lock(mu);
    release_b2 = true;
  }
  cv.notify_all();
  std::vector<std::string> rest = PollUntil(consumer, 3);
  std::multiset<std::string> all(rest.begin(), rest.end());
  EXPECT_EQ(all, (std::multiset<std::string>{"0-2", "1-0", "1-1"}));

  // Each leader is asked for its own partitions only, as member c1, for `prefetch`.
  bool saw_b1 = false, saw_b2 = false;
  for (const HttpRequest& req : fake->Requests()) {
    if (PathOf(req.target) != std::string(kGroupPath) + "/messages") continue;
    auto q = QueryOf(req.target);
    EXPECT_EQ(q["consumer"], "c1");
    EXPECT_EQ(q["max"], "50");
    if (req.base_url == BrokerUrl(1)) {
      saw_b1 = true;
      EXPECT_EQ(q["partitions"], "0");
    } else {
      saw_b2 = true;
      EXPECT_EQ(q["partitions"], "1");
    }
  }
  EXPECT_TRUE(saw_b1 && saw_b2);
  // The group was created once, at "earliest".
  int puts = 0;
  for (const HttpRequest& req : fake->Requests()) {
    if (req.method != "PUT") continue;
    ++puts;
    EXPECT_EQ(req.target, kGroupPath);
    EXPECT_EQ(json::parse(req.body)["start"], "earliest");
  }
  EXPECT_EQ(puts, 1);
}

TEST(ConsumerTest, LeaderAnsweringNotLeaderRefreshesTheViewAndFollowsTheNewLeader) {
  std::atomic<bool> moved{false};
  std::atomic<int> cluster_reads{0};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") {
      ++cluster_reads;
      return Answer(200, ClusterJson(2, kTopic, {moved ? 2 : 1}));
    }
    if (req.method == "PUT") return Answer(200, json::object());
    if (req.base_url == BrokerUrl(1)) {
      moved = true;  // broker 1 lost the leadership: the next view says so
      return ErrorAnswer(503, "NOT_LEADER");
    }
    return Answer(200, MessagesJson({{0, 5}}));
  });
  Consumer consumer(GroupOptions(fake, 2));
  auto r = consumer.Poll(10, milliseconds(3000));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Handles(*r), std::vector<std::string>{"0-5"});
  EXPECT_GE(cluster_reads.load(), 2);
  int b2_pulls = 0;
  for (const HttpRequest& req : fake->Requests()) {
    if (req.base_url == BrokerUrl(2) && PathOf(req.target).ends_with("/messages")) ++b2_pulls;
  }
  EXPECT_EQ(b2_pulls, 1);
}

// Broker 1 leased 0-0..0-2 and died before the application took 0-2: its lease died with it
// (the new leader may give 0-2 to another consumer), so the buffered copy is not handed out;
// the new leader's delivery is. A broker that only answers an error keeps its leases.
TEST(ConsumerTest, BufferedLeasesOfABrokerThatRefusesConnectionsAreNotHandedOut) {
  std::atomic<bool> b1_down{false};
  std::atomic<int> b1_pulls{0};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(2, kTopic, {b1_down ? 2 : 1}));
    if (req.method == "PUT") return Answer(200, json::object());
    if (req.base_url == BrokerUrl(1)) {
      if (b1_down) {
        HttpResponse refused = LostReply("Connection");
        refused.not_sent = true;
        return refused;
      }
      if (b1_pulls++ == 0) return Answer(200, MessagesJson({{0, 0}, {0, 1}, {0, 2}}));
      return EmptyPoll(req);
    }
    if (PathOf(req.target).ends_with("/ack")) {
      json unknown = json::array();
      return Answer(200, json{{"acked", IdsOf(req).size()}, {"unknown", unknown}});
    }
    return Answer(200, MessagesJson({{0, 2}}));  // broker 2, the new leader, redelivers 0-2
  });
  Consumer consumer(GroupOptions(fake, 2));
  auto first = consumer.Poll(2, milliseconds(3000));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(Handles(*first), (std::vector<std::string>{"0-0", "0-1"}));

  b1_down = true;
  // The ack goes to broker 1 (the cached view), is refused, then lands on broker 2.
  auto acked = consumer.Ack(Handles(*first));
  ASSERT_TRUE(acked.ok()) << acked.status().ToString();
  EXPECT_EQ(acked->applied, 2);

  auto next = consumer.Poll(10, milliseconds(3000));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_EQ(Handles(*next), std::vector<std::string>{"0-2"});
  // It came from broker 2's pull, not from the buffer filled by broker 1.
  int b2_pulls = 0;
  for (const HttpRequest& req : fake->Requests()) {
    if (req.base_url == BrokerUrl(2) && PathOf(req.target).ends_with("/messages")) ++b2_pulls;
  }
  EXPECT_GE(b2_pulls, 1);
}

TEST(ConsumerTest, UnknownTopicIsAnError) {
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, "", {}));
    return ErrorAnswer(404, "TOPIC_NOT_FOUND");
  });
  Consumer consumer(GroupOptions(fake));
  auto r = consumer.Poll(10, milliseconds(500));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTopicNotFound);
}

TEST(ConsumerTest, AckIsSplitByPartitionLeaderAndMerged) {
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(2, kTopic, {1, 2, 1}));
    if (req.base_url == BrokerUrl(1)) return Answer(200, json{{"acked", 2}, {"unknown", {"0-4"}}});
    return Answer(200, json{{"acked", 1}, {"unknown", json::array()}});
  });
  Consumer consumer(GroupOptions(fake, 2));
  auto r = consumer.Ack({"0-1", "1-2", "2-3", "0-4"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->applied, 3);
  EXPECT_EQ(r->unknown, std::vector<std::string>{"0-4"});
  std::map<std::string, std::vector<std::string>> sent;
  for (const HttpRequest& req : fake->Requests()) {
    if (req.target == "/v1/cluster") continue;
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.target, std::string(kGroupPath) + "/ack");
    auto ids = IdsOf(req);
    sent[req.base_url].insert(sent[req.base_url].end(), ids.begin(), ids.end());
  }
  EXPECT_EQ(sent[BrokerUrl(1)], (std::vector<std::string>{"0-1", "2-3", "0-4"}));
  EXPECT_EQ(sent[BrokerUrl(2)], (std::vector<std::string>{"1-2"}));
  EXPECT_EQ(sent.size(), 2u);
}

TEST(ConsumerTest, MalformedHandleIsRejectedBeforeAnyRequest) {
  auto fake = std::make_shared<FakeTransport>(
      [](const HttpRequest&) { return Answer(200, json{{"acked", 1}}); });
  Consumer consumer(GroupOptions(fake));
  for (const std::string bad : {"x", "", "-1", "1-", "1--2", "a-1", "0-1 ", "1-2-3"}) {
    auto r = consumer.Ack({"0-1", bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidRequest) << bad;
  }
  EXPECT_FALSE(consumer.Nack({"zz"}).ok());
  EXPECT_FALSE(consumer.Extend({"0_1"}, milliseconds(10)).ok());
  EXPECT_TRUE(fake->Requests().empty());
  // Nothing to do is no request either.
  auto none = consumer.Ack({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->applied, 0);
  EXPECT_TRUE(fake->Requests().empty());
}

TEST(ConsumerTest, NackAndExtendCarryDelayAndVisibility) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    if (req.target.ends_with("/nack")) return Answer(200, json{{"nacked", 1}, {"unknown", json::array()}});
    return Answer(200, json{{"extended", 2}, {"unknown", json::array()}});
  });
  Consumer consumer(GroupOptions(fake));
  auto n = consumer.Nack({"0-1"}, milliseconds(1500));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->applied, 1);
  auto e = consumer.Extend({"0-2", "0-3"}, milliseconds(60000));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->applied, 2);
  std::vector<HttpRequest> posts;
  for (const HttpRequest& req : fake->Requests()) {
    if (req.method == "POST") posts.push_back(req);
  }
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0].target, std::string(kGroupPath) + "/nack");
  EXPECT_EQ(json::parse(posts[0].body), (json{{"ids", {"0-1"}}, {"delay_ms", 1500}}));
  EXPECT_EQ(posts[1].target, std::string(kGroupPath) + "/extend");
  EXPECT_EQ(json::parse(posts[1].body), (json{{"ids", {"0-2", "0-3"}}, {"visibility_ms", 60000}}));
}

// The first ack was applied but its reply was lost; the retry finds the id already acked and
// lists it as unknown (documented: unknown after a retry may mean "acked by the first try").
TEST(ConsumerTest, AckRetriesALostReplyOnTheLeader) {
  std::atomic<int> acks{0};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    if (acks++ == 0) return LostReply();
    return Answer(200, json{{"acked", 0}, {"unknown", {"0-7"}}});
  });
  Consumer consumer(GroupOptions(fake));
  auto r = consumer.Ack({"0-7"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(acks.load(), 2);
  EXPECT_EQ(r->applied, 0);
  EXPECT_EQ(r->unknown, std::vector<std::string>{"0-7"});
}

TEST(ConsumerTest, AckGivesUpOnAnErrorRetryingCannotFix) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    return ErrorAnswer(404, "GROUP_NOT_FOUND");
  });
  Consumer consumer(GroupOptions(fake));
  auto r = consumer.Ack({"0-1"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kGroupNotFound);
  EXPECT_EQ(fake->Requests().size(), 2u);  // the view, then one ack
}

TEST(ConsumerTest, StreamModeAdvancesPositionsAndJumpsToTheFirstRetainedOffset) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(2, kTopic, {1, 2}));
    auto q = QueryOf(req.target);
    const std::string path = PathOf(req.target);
    const int64_t from = std::atoll(q["from"].c_str());
    json body;
    if (path == "/v1/topics/t/partitions/0/messages" && req.base_url == BrokerUrl(1)) {
      if (from > 2) return EmptyPoll(req);
      std::vector<std::pair<int, int64_t>> list;
      for (int64_t o = from; o <= 2; ++o) list.push_back({0, o});
      body = MessagesJson(list);
      body["first_offset"] = 0;
      body["high_watermark"] = 3;
    } else if (path == "/v1/topics/t/partitions/1/messages" && req.base_url == BrokerUrl(2)) {
      // Retention removed offsets 0..6: an empty answer whose first_offset is ahead.
      if (from < 7) {
        body = MessagesJson({});
      } else if (from == 7) {
        body = MessagesJson({{1, 7}});
      } else {
        return EmptyPoll(req);
      }
      body["first_offset"] = 7;
      body["high_watermark"] = 8;
    } else {
      return ErrorAnswer(503, "NOT_LEADER");
    }
    return Answer(200, body);
  });
  ConsumerOptions o = GroupOptions(fake, 2);
  o.group = "";
  Consumer consumer(o);
  std::vector<std::string> got = PollUntil(consumer, 4);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"0-0", "0-1", "0-2", "1-7"}));
  EXPECT_EQ(consumer.Positions(), (std::vector<std::pair<int, int64_t>>{{0, 3}, {1, 8}}));
  bool asked_7 = false;
  for (const HttpRequest& req : fake->Requests()) {
    if (PathOf(req.target) == "/v1/topics/t/partitions/1/messages" &&
        QueryOf(req.target)["from"] == "7") {
      asked_7 = true;
    }
  }
  EXPECT_TRUE(asked_7);
  EXPECT_FALSE(consumer.Ack({"0-1"}).ok());  // no acks in stream mode

  // Seek back: the next read of partition 0 starts there.
  consumer.Seek(0, 1);
  std::vector<std::string> again = PollUntil(consumer, 2);
  EXPECT_EQ(again, (std::vector<std::string>{"0-1", "0-2"}));
  EXPECT_EQ(consumer.Positions(), (std::vector<std::pair<int, int64_t>>{{0, 3}, {1, 8}}));
}

TEST(ConsumerTest, StreamFromMinusOneStartsAtTheHighWatermark) {
  auto fake = std::make_shared<FakeTransport>([](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    auto q = QueryOf(req.target);
    json body = MessagesJson({});
    if (q["from"] == "0") body = MessagesJson({{0, 0}});
    if (q["from"] == "10") body = MessagesJson({{0, 10}});
    body["first_offset"] = 0;
    body["high_watermark"] = q["from"] == "10" ? 11 : 10;
    if (q["from"] != "0" && q["from"] != "10") return EmptyPoll(req);
    return Answer(200, body);
  });
  ConsumerOptions o = GroupOptions(fake);
  o.group = "";
  o.stream_from = -1;
  Consumer consumer(o);
  std::vector<std::string> got = PollUntil(consumer, 1);
  EXPECT_EQ(got, std::vector<std::string>{"0-10"});
  EXPECT_EQ(consumer.Positions(), (std::vector<std::pair<int, int64_t>>{{0, 11}}));
}

TEST(ConsumerTest, CallbackModeAcksHandledMessagesAndNacksRefusedOnes) {
  std::mutex mu;
  std::condition_variable cv;
  std::multiset<std::string> acked, nacked;
  std::vector<int64_t> nack_delays;
  std::atomic<int> pulls{0};
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    if (req.method == "PUT") return Answer(201, json::object());
    if (req.method == "GET") {
      if (pulls++ == 0) return Answer(200, MessagesJson({{0, 0}, {0, 1}, {0, 2}, {0, 3}}));
      return EmptyPoll(req);
    }
    std::lock_guard<std::mutex> lock(mu);
    auto ids = IdsOf(req);
    if (req.target.ends_with("/ack")) acked.insert(ids.begin(), ids.end());
    if (req.target.ends_with("/nack")) {
      nacked.insert(ids.begin(), ids.end());
      nack_delays.push_back(json::parse(req.body)["delay_ms"].get<int64_t>());
    }
    cv.notify_all();
    return Answer(200, json{{"acked", ids.size()}, {"unknown", json::array()}});
  });
  ConsumerOptions o = GroupOptions(fake);
  o.nack_delay = milliseconds(700);
  Consumer consumer(o);
  std::mutex handled_mu;
  std::vector<std::string> handled;
  ASSERT_TRUE(consumer
                  .Start([&](const ReceivedMessage& m) {
                    std::lock_guard<std::mutex> lock(handled_mu);
                    handled.push_back(m.handle);
                    return m.handle != "0-2";
                  })
                  .ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5),
                            [&] { return acked.size() + nacked.size() >= 4; }));
  }
  consumer.Stop();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(acked, (std::multiset<std::string>{"0-0", "0-1", "0-3"}));
  EXPECT_EQ(nacked, (std::multiset<std::string>{"0-2"}));
  EXPECT_EQ(nack_delays, std::vector<int64_t>{700});
  std::lock_guard<std::mutex> hl(handled_mu);
  EXPECT_EQ(handled, (std::vector<std::string>{"0-0", "0-1", "0-2", "0-3"}));
}

TEST(ConsumerTest, StopReturnsPromptly) {
  std::atomic<int> pulls{0};
  std::mutex mu;
  std::vector<std::string> released;
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    if (req.method == "PUT") return Answer(201, json::object());
    if (req.method == "GET") {
      ++pulls;
      return EmptyPoll(req);
    }
    std::lock_guard<std::mutex> lock(mu);
    for (auto& id : IdsOf(req)) released.push_back(id);
    return Answer(200, json{{"nacked", 1}, {"unknown", json::array()}});
  });
  ConsumerOptions o = GroupOptions(fake);
  o.callback_threads = 3;
  Consumer consumer(o);
  std::atomic<int> calls{0};
  ASSERT_TRUE(consumer.Start([&](const ReceivedMessage&) { return ++calls > 0; }).ok());
  EXPECT_FALSE(consumer.Start([](const ReceivedMessage&) { return true; }).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (pulls.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();  // ok: waiting for the workers to poll, with a deadline
  }
  auto t0 = std::chrono::steady_clock::now();
  consumer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));
  EXPECT_GE(pulls.load(), 3);
  EXPECT_EQ(calls.load(), 0);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_TRUE(released.empty());
}

// Messages a leader leased that the application never polled are given back (nack, no delay)
// when the consumer goes away, instead of waiting out their visibility timeout.
TEST(ConsumerTest, DestructionGivesBackBufferedLeases) {
  std::atomic<int> pulls{0};
  std::mutex mu;
  std::vector<HttpRequest> nacks;
  auto fake = std::make_shared<FakeTransport>([&](const HttpRequest& req) -> HttpResponse {
    if (req.target == "/v1/cluster") return Answer(200, ClusterJson(1, kTopic, {1}));
    if (req.method == "PUT") return Answer(201, json::object());
    if (req.method == "GET") {
      if (pulls++ == 0) return Answer(200, MessagesJson({{0, 0}, {0, 1}, {0, 2}}));
      return EmptyPoll(req);
    }
    std::lock_guard<std::mutex> lock(mu);
    nacks.push_back(req);
    return Answer(200, json{{"nacked", 2}, {"unknown", json::array()}});
  });
  {
    Consumer consumer(GroupOptions(fake));
    auto r = consumer.Poll(1, milliseconds(3000));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Handles(*r), std::vector<std::string>{"0-0"});
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(nacks.size(), 1u);
  EXPECT_EQ(nacks[0].target, std::string(kGroupPath) + "/nack");
  EXPECT_EQ(json::parse(nacks[0].body), (json{{"ids", {"0-1", "0-2"}}, {"delay_ms", 0}}));
}

}  // namespace
}  // namespace zoomq
