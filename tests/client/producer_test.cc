// zoomq::Producer over an in-memory FakeBroker: retries without duplicates, backoff,
// bounded buffer, delivery timeout, fatal errors, leader moves, order, one report each.
// Backoffs are 1-5 ms; nothing sleeps to synchronize (Flush, futures and gates do).
#include "zoomq/client/producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "fake_broker.h"
#include "producer_internal.h"
#include "zoomq/common/names.h"

namespace zoomq {
namespace {

using client_testing::ErrorAnswer;
using client_testing::FakeBroker;
using client_testing::LostReply;
using std::chrono::milliseconds;
using Action = FakeBroker::Action;

constexpr auto kWait = milliseconds(10000);  // generous deadline for Flush in tests

ProducerOptions Options(FakeBroker& broker) {
  ProducerOptions o;
  o.client.brokers = {FakeBroker::Url(1)};
  o.client.transport = broker.transport();
  o.client.request_timeout = milliseconds(1000);
  o.linger = milliseconds(1);
  o.retry_backoff = milliseconds(1);
  o.retry_backoff_max = milliseconds(5);
  o.delivery_timeout = milliseconds(5000);
  return o;
}

Action Answer(HttpResponse r) { return Action{Action::kAnswer, std::move(r)}; }

// A gate the produce hook waits at until the test opens it (no sleeping).
class Gate {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Collects delivery reports (thread-safe).
class Reports {
 public:
  DeliveryCallback Callback() {
    return [this](const DeliveryReport& r) {
      std::lock_guard<std::mutex> lock(mu_);
      all_.push_back(r);
    };
  }
  std::vector<DeliveryReport> All() const {
    std::lock_guard<std::mutex> lock(mu_);
    return all_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<DeliveryReport> all_;
};

TEST(ProducerTest, LostReplyAfterWriteIsRetriedWithoutDuplicate) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.LoseRepliesAfterWrite(1);
  Producer producer(Options(broker));
  Reports reports;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(producer.Send(OutgoingMessage::Json("t", std::to_string(i)), reports.Callback())
                    .ok());
  }
  ASSERT_TRUE(producer.Flush(kWait).ok());

  std::vector<FakeBroker::Stored> log = broker.Log("t", 0);
  ASSERT_EQ(log.size(), 5u);  // exactly one copy of each
  std::vector<DeliveryReport> all = reports.All();
  ASSERT_EQ(all.size(), 5u);
  std::set<std::string> ids;
  for (const DeliveryReport& r : all) {
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.persistence, Persistence::kPersisted);
    ids.insert(r.id);
  }
  for (const FakeBroker::Stored& s : log) EXPECT_EQ(ids.count(s.id), 1u) << s.id;
  // The messages written by the lost attempt come back as duplicates of themselves.
  int duplicates = 0;
  for (const DeliveryReport& r : all) duplicates += r.duplicate;
  EXPECT_GE(duplicates, 1);
  EXPECT_GE(producer.stats().retries, 1);
}

TEST(ProducerTest, SingleMessageLostReplyReportsDuplicateAsPersisted) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.LoseRepliesAfterWrite(1);
  Producer producer(Options(broker));
  auto f = producer.Send(OutgoingMessage::Json("t", R"({"x":1})", "k"));
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  DeliveryReport r = f.get();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.persistence, Persistence::kPersisted);
  EXPECT_TRUE(r.duplicate);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.offset, 0);
  EXPECT_EQ(broker.Log("t", 0).size(), 1u);
  EXPECT_EQ(r.id.rfind(producer.producer_id() + "-", 0), 0u);
}

TEST(ProducerTest, BackoffDelayStaysWithinBounds) {
  using client_internal::RetryDelay;
  const milliseconds base(100), max(2000);
  std::chrono::microseconds previous(0);
  for (int n = 0; n < 12; ++n) {
    const double nominal = std::min(100.0 * (1 << n), 2000.0) * 1000;  // µs
    for (double unit : {0.0, 0.25, 0.5, 0.75, 0.999999}) {
      const auto d = RetryDelay(n, base, max, unit);
      EXPECT_GE(d.count(), static_cast<int64_t>(nominal * 0.8) - 1) << n << " " << unit;
      EXPECT_LE(d.count(), static_cast<int64_t>(nominal * 1.2)) << n << " " << unit;
      EXPECT_LE(d.count(), 2000 * 1200);
    }
    const auto mid = RetryDelay(n, base, max, 0.5);
    EXPECT_GE(mid, previous);  // grows (until the cap)
    previous = mid;
  }
  EXPECT_EQ(RetryDelay(3, base, max, 0.5).count(), 800 * 1000);
  EXPECT_EQ(RetryDelay(30, base, max, 0.5).count(), 2000 * 1000);
}

TEST(ProducerTest, RetriesAreSpacedByGrowingBackoff) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  std::atomic<int> calls{0};
  broker.SetProduceHook([&](const HttpRequest&) {
    return calls++ < 5 ? Answer(ErrorAnswer(503, "NOT_ENOUGH_REPLICAS")) : Action{};
  });
  ProducerOptions o = Options(broker);
  o.retry_backoff = milliseconds(4);
  o.retry_backoff_max = milliseconds(40);
  Producer producer(o);
  auto f = producer.Send(OutgoingMessage::Json("t", "1"));
  ASSERT_EQ(f.wait_for(kWait), std::future_status::ready);
  DeliveryReport r = f.get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.attempts, 6);
  auto times = broker.ProduceTimes();
  ASSERT_EQ(times.size(), 6u);
  for (size_t i = 1; i < times.size(); ++i) {
    const double gap_ms =
        std::chrono::duration<double, std::milli>(times[i] - times[i - 1]).count();
    const double floor_ms = std::min(4.0 * (1 << (i - 1)), 40.0) * 0.8;
    EXPECT_GE(gap_ms, floor_ms - 0.5) << "retry " << i;  // never earlier than the backoff
  }
}

// A producer with a 1000-byte buffer whose produce requests wait at `gate`, opened at the
// latest when this is destroyed (so a failing test does not hang in Close).
struct GatedProducer {
  explicit GatedProducer(const std::function<void(ProducerOptions&)>& tune) {
    broker.AddTopic("t", 1);
    broker.SetProduceHook([this](const HttpRequest&) {
      gate.Wait();
      return Action{};
    });
    ProducerOptions o = Options(broker);
    o.buffer_bytes = 1000;
    tune(o);
    producer = std::make_unique<Producer>(o);
  }
  ~GatedProducer() {
    gate.Open();
    producer.reset();
  }
  // More than half the buffer each.
  std::future<DeliveryReport> SendBig() { return producer->Send(Big()); }
  Status TrySendBig() { return producer->Send(Big(), nullptr); }
  static OutgoingMessage Big() {
    return OutgoingMessage::Json("t", "\"" + std::string(600, 'x') + "\"");
  }

  FakeBroker broker;
  Gate gate;
  std::unique_ptr<Producer> producer;
};

TEST(ProducerTest, FullBufferFailsAtOnceWhenNotBlocking) {
  GatedProducer g([](ProducerOptions& o) { o.block_when_full = false; });
  auto first = g.SendBig();
  Status st = g.TrySendBig();
  EXPECT_EQ(st.code(), Code::kOverloaded) << st.ToString();
  EXPECT_GT(g.producer->stats().buffered_bytes, 600);
  g.gate.Open();
  ASSERT_TRUE(first.get().status.ok());
  EXPECT_EQ(g.producer->stats().buffered_bytes, 0);
  // Space again.
  EXPECT_TRUE(g.TrySendBig().ok());
  EXPECT_TRUE(g.producer->Flush(kWait).ok());
}

TEST(ProducerTest, FullBufferBlocksUpToMaxBlockThenFails) {
  GatedProducer g([](ProducerOptions& o) { o.max_block = milliseconds(60); });
  auto first = g.SendBig();
  const auto start = std::chrono::steady_clock::now();
  Status st = g.TrySendBig();
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(st.code(), Code::kOverloaded) << st.ToString();
  EXPECT_GE(waited, milliseconds(55));
  g.gate.Open();
  EXPECT_TRUE(first.get().status.ok());
}

TEST(ProducerTest, BlockedSendResumesWhenDeliveryFreesSpace) {
  GatedProducer g([](ProducerOptions& o) { o.max_block = milliseconds(20000); });
  auto first = g.SendBig();
  auto second = std::async(std::launch::async, [&] { return g.TrySendBig(); });
  // ok: a deliberate wait, to see that Send is blocked while the buffer is full.
  EXPECT_EQ(second.wait_for(milliseconds(30)), std::future_status::timeout);
  g.gate.Open();
  ASSERT_EQ(second.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(second.get().ok());
  EXPECT_TRUE(first.get().status.ok());
  EXPECT_TRUE(g.producer->Flush(kWait).ok());
  EXPECT_EQ(g.broker.Log("t", 0).size(), 2u);
}

TEST(ProducerTest, DeliveryTimeoutReportsOnceRetriableAndPossiblyPersisted) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.SetProduceHook([&](const HttpRequest&) { return Answer(LostReply("timeout")); });
  ProducerOptions o = Options(broker);
  o.delivery_timeout = milliseconds(150);
  Producer producer(o);
  std::atomic<int> reports{0};
  DeliveryReport last;
  std::mutex mu;
  ASSERT_TRUE(producer
                  .Send(OutgoingMessage::Json("t", "1"),
                        [&](const DeliveryReport& r) {
                          std::lock_guard<std::mutex> lock(mu);
                          ++reports;
                          last = r;
                        })
                  .ok());
  ASSERT_TRUE(producer.Flush(kWait).ok());
  producer.Close();
  EXPECT_EQ(reports.load(), 1);
  EXPECT_EQ(last.status.code(), Code::kTimedOut) << last.status.ToString();
  EXPECT_TRUE(last.retriable);
  EXPECT_EQ(last.persistence, Persistence::kPossiblyPersisted);
  EXPECT_GT(last.attempts, 1);
  EXPECT_NE(last.status.message().find("timeout"), std::string::npos);
}

TEST(ProducerTest, RefusedConnectionsOnlyEndNotPersisted) {
  FakeBroker broker;
  broker.AddTopic("t", 1, /*leader=*/2);
  ProducerOptions o = Options(broker);
  o.delivery_timeout = milliseconds(100);
  Producer producer(o);
  ASSERT_TRUE(producer.Send(OutgoingMessage::Json("t", "0")).get().status.ok());  // view read
  broker.SetDown(2, true);
  DeliveryReport r = producer.Send(OutgoingMessage::Json("t", "1")).get();
  EXPECT_EQ(r.status.code(), Code::kTimedOut) << r.status.ToString();
  EXPECT_TRUE(r.retriable);
  EXPECT_GT(r.attempts, 1);
  EXPECT_EQ(r.persistence, Persistence::kNotPersisted);
}

TEST(ProducerTest, NotLeaderOnlyRetriesEndNotPersisted) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.SetProduceHook([&](const HttpRequest&) { return Answer(ErrorAnswer(503, "NO_LEADER")); });
  ProducerOptions o = Options(broker);
  o.delivery_timeout = milliseconds(100);
  Producer producer(o);
  DeliveryReport r = producer.Send(OutgoingMessage::Json("t", "1")).get();
  EXPECT_EQ(r.status.code(), Code::kTimedOut);
  EXPECT_TRUE(r.retriable);
  EXPECT_EQ(r.persistence, Persistence::kNotPersisted);
}

TEST(ProducerTest, FatalErrorIsReportedAtOnce) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.SetProduceHook(
      [&](const HttpRequest&) { return Answer(ErrorAnswer(404, "TOPIC_NOT_FOUND")); });
  Producer producer(Options(broker));
  DeliveryReport r = producer.Send(OutgoingMessage::Json("t", "1")).get();
  EXPECT_EQ(r.status.code(), Code::kTopicNotFound);
  EXPECT_FALSE(r.retriable);
  EXPECT_EQ(r.persistence, Persistence::kNotPersisted);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(broker.ProduceTimes().size(), 1u);
}

TEST(ProducerTest, OversizedMessageFailsAloneAndTheRestKeepOrder) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.set_max_value_bytes(100);
  ProducerOptions o = Options(broker);
  o.linger = milliseconds(60000);  // one batch, sent by Flush
  Producer producer(o);
  Reports reports;
  for (int i = 0; i < 5; ++i) {
    std::string v = i == 2 ? "\"" + std::string(200, 'x') + "\"" : std::to_string(i);
    OutgoingMessage m = OutgoingMessage::Json("t", v);
    m.id = "m" + std::to_string(i);
    ASSERT_TRUE(producer.Send(m, reports.Callback()).ok());
  }
  ASSERT_TRUE(producer.Flush(kWait).ok());
  std::vector<DeliveryReport> all = reports.All();
  ASSERT_EQ(all.size(), 5u);
  for (const DeliveryReport& r : all) {
    if (r.id == "m2") {
      EXPECT_EQ(r.status.code(), Code::kPayloadTooLarge);
      EXPECT_FALSE(r.retriable);
      EXPECT_EQ(r.persistence, Persistence::kNotPersisted);
    } else {
      EXPECT_TRUE(r.status.ok()) << r.id << " " << r.status.ToString();
    }
  }
  std::vector<FakeBroker::Stored> log = broker.Log("t", 0);
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].id, "m0");
  EXPECT_EQ(log[1].id, "m1");
  EXPECT_EQ(log[2].id, "m3");
  EXPECT_EQ(log[3].id, "m4");

  // Over the producer's own max_message_bytes: refused by Send itself.
  ProducerOptions small = Options(broker);
  small.max_message_bytes = 50;
  Producer p2(small);
  EXPECT_EQ(p2.Send(OutgoingMessage::Json("t", "\"" + std::string(60, 'y') + "\""), nullptr)
                .code(),
            Code::kPayloadTooLarge);
}

TEST(ProducerTest, InvalidMessagesFailInSend) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  Producer producer(Options(broker));
  EXPECT_EQ(producer.Send(OutgoingMessage::Json("t", "{not json"), nullptr).code(),
            Code::kInvalidRequest);
  EXPECT_EQ(producer.Send(OutgoingMessage::Json("bad name", "1"), nullptr).code(),
            Code::kInvalidRequest);
  OutgoingMessage m = OutgoingMessage::Json("t", "1");
  m.partition = -1;
  EXPECT_EQ(producer.Send(m, nullptr).code(), Code::kInvalidRequest);
  m.partition = 7;  // the topic has 1: known once the view is read, reported
  DeliveryReport r = producer.Send(m).get();
  EXPECT_EQ(r.status.code(), Code::kPartitionNotFound);
  EXPECT_FALSE(r.retriable);
  producer.Close();
  EXPECT_EQ(producer.Send(OutgoingMessage::Json("t", "1"), nullptr).code(),
            Code::kInvalidRequest);
}

TEST(ProducerTest, LeaderMovedRefreshesClusterAndSendsToNewLeader) {
  FakeBroker broker;
  broker.AddTopic("t", 2, /*leader=*/1);
  std::atomic<bool> moved{false};
  broker.SetProduceHook([&](const HttpRequest& req) {
    if (!moved.exchange(true)) {
      broker.SetLeader("t", 0, 2);
      return Answer(ErrorAnswer(503, "NOT_LEADER"));
    }
    return Action{};
  });
  Producer producer(Options(broker));
  OutgoingMessage m = OutgoingMessage::Json("t", "1");
  m.partition = 0;
  DeliveryReport r = producer.Send(m).get();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.partition, 0);
  EXPECT_GE(broker.cluster_requests(), 2);
  std::vector<HttpRequest> requests = broker.transport()->Requests();
  std::vector<std::string> produce_urls;
  for (const HttpRequest& q : requests) {
    if (q.method == "POST") produce_urls.push_back(q.base_url);
  }
  ASSERT_GE(produce_urls.size(), 2u);
  EXPECT_EQ(produce_urls.front(), FakeBroker::Url(1));
  EXPECT_EQ(produce_urls.back(), FakeBroker::Url(2));
  EXPECT_EQ(broker.Log("t", 0).size(), 1u);
}

TEST(ProducerTest, BrokerDownFailsOverToBootstrapAlternatives) {
  FakeBroker broker;
  broker.AddTopic("t", 1, /*leader=*/2);
  broker.SetDown(1, true);
  ProducerOptions o = Options(broker);
  o.client.brokers = {FakeBroker::Url(1), FakeBroker::Url(3)};
  Producer producer(o);
  DeliveryReport r = producer.Send(OutgoingMessage::Json("t", "1")).get();
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
}

TEST(ProducerTest, PartitionsByKeyHashAndSendsPartitionExplicitly) {
  FakeBroker broker;
  broker.AddTopic("t", 5);
  Producer producer(Options(broker));
  DeliveryReport r = producer.Send(OutgoingMessage::Json("t", "1", "a")).get();
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.partition, static_cast<int>(Fnv1a64("a") % 5));
  for (const HttpRequest& q : broker.transport()->Requests()) {
    if (q.method == "POST") {
      EXPECT_NE(q.body.find("\"partition\":"), std::string::npos);
    }
  }
  // Keyless messages stick to one partition per batch.
  ProducerOptions o = Options(broker);
  o.linger = milliseconds(60000);
  Producer sticky(o);
  Reports reports;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(sticky.Send(OutgoingMessage::Json("t", "1"), reports.Callback()).ok());
  }
  ASSERT_TRUE(sticky.Flush(kWait).ok());
  std::set<int> parts;
  for (const DeliveryReport& d : reports.All()) parts.insert(d.partition);
  EXPECT_EQ(parts.size(), 1u);
}

// Random failures (lost replies after or before the write, 503s, 429s), several partitions,
// several sending threads: every message is written exactly once, reported exactly once,
// and each partition's log and reports keep the order of Send per thread.
TEST(ProducerTest, OrderAndExactlyOneReportUnderConcurrencyAndFailures) {
  FakeBroker broker;
  broker.AddTopic("t", 3);
  std::mutex rng_mu;
  std::mt19937 rng(7);
  broker.SetProduceHook([&](const HttpRequest&) {
    int roll;
    {
      std::lock_guard<std::mutex> lock(rng_mu);
      roll = static_cast<int>(rng() % 10);
    }
    switch (roll) {
      case 0: return Action{Action::kApplyThenLose, {}};
      case 1: return Answer(LostReply("refused"));
      case 2: return Answer(ErrorAnswer(503, "UNAVAILABLE"));
      case 3: {
        HttpResponse busy = ErrorAnswer(429, "OVERLOADED");
        busy.retry_after_s = 0;
        return Answer(busy);
      }
      default: return Action{};
    }
  });
  ProducerOptions o = Options(broker);
  o.batch_messages = 7;
  o.delivery_timeout = milliseconds(30000);
  Producer producer(o);

  constexpr int kThreads = 4, kPerThread = 250;
  std::mutex mu;
  std::map<std::string, int> report_count;
  std::map<int, std::vector<std::string>> reported_by_partition;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        OutgoingMessage m = OutgoingMessage::Json("t", std::to_string(i),
                                                  "key" + std::to_string(t));
        m.id = "t" + std::to_string(t) + "-" + std::to_string(i);
        Status st = producer.Send(m, [&](const DeliveryReport& r) {
          std::lock_guard<std::mutex> lock(mu);
          ++report_count[r.id];
          EXPECT_TRUE(r.status.ok()) << r.id << " " << r.status.ToString();
          reported_by_partition[r.partition].push_back(r.id);
        });
        EXPECT_TRUE(st.ok()) << st.ToString();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_TRUE(producer.Flush(milliseconds(60000)).ok());

  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(report_count.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& [id, n] : report_count) EXPECT_EQ(n, 1) << id;
  std::set<std::string> written;
  for (int p = 0; p < 3; ++p) {
    std::vector<FakeBroker::Stored> log = broker.Log("t", p);
    std::vector<std::string> ids;
    for (const FakeBroker::Stored& s : log) {
      EXPECT_TRUE(written.insert(s.id).second) << "duplicate " << s.id;
      ids.push_back(s.id);
    }
    // One key per thread → one partition per thread; per thread, ascending i.
    std::map<std::string, int> last;
    for (const std::string& id : ids) {
      const std::string thread = id.substr(0, id.find('-'));
      const int i = std::stoi(id.substr(id.find('-') + 1));
      auto it = last.find(thread);
      if (it != last.end()) {
        EXPECT_EQ(i, it->second + 1) << id;
      }
      last[thread] = i;
    }
    EXPECT_EQ(reported_by_partition[p], ids) << "reports follow the log order";
  }
  EXPECT_EQ(written.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_GT(producer.stats().retries, 0);
}

TEST(ProducerTest, CloseFailsWhatIsLeftOnce) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  broker.SetProduceHook([&](const HttpRequest&) { return Answer(ErrorAnswer(503, "NO_LEADER")); });
  ProducerOptions o = Options(broker);
  o.delivery_timeout = milliseconds(60000);
  Producer producer(o);
  Reports reports;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(producer.Send(OutgoingMessage::Json("t", "1"), reports.Callback()).ok());
  }
  EXPECT_EQ(producer.Flush(milliseconds(20)).code(), Code::kTimedOut);
  producer.Close(milliseconds(10));
  std::vector<DeliveryReport> all = reports.All();
  ASSERT_EQ(all.size(), 10u);
  for (const DeliveryReport& r : all) {
    EXPECT_FALSE(r.status.ok());
    EXPECT_TRUE(r.retriable);
    EXPECT_EQ(r.persistence, Persistence::kNotPersisted);
  }
}

TEST(ProducerTest, CallbackMaySendButNotFlush) {
  FakeBroker broker;
  broker.AddTopic("t", 1);
  Producer producer(Options(broker));
  std::promise<Status> flush_from_callback;
  std::promise<DeliveryReport> second;
  ASSERT_TRUE(producer
                  .Send(OutgoingMessage::Json("t", "1"),
                        [&](const DeliveryReport&) {
                          flush_from_callback.set_value(producer.Flush(kWait));
                          Status st = producer.Send(
                              OutgoingMessage::Json("t", "2"),
                              [&](const DeliveryReport& r) { second.set_value(r); });
                          EXPECT_TRUE(st.ok()) << st.ToString();
                        })
                  .ok());
  EXPECT_EQ(flush_from_callback.get_future().get().code(), Code::kInvalidRequest);
  EXPECT_TRUE(second.get_future().get().status.ok());
  EXPECT_EQ(broker.Log("t", 0).size(), 2u);
}

}  // namespace
}  // namespace zoomq
