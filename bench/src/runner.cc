#include "zoomq/bench/runner.h"

#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "zoomq/bench/amqp_runner.h"
#include "zoomq/bench/idle_waiters.h"
#include "zoomq/bench/payload.h"
#include "zoomq/bench/redis_runner.h"
#include "zoomq/bench/sdk_runner.h"

namespace zoomq::bench {
namespace {

constexpr int kSetupTimeoutMs = 10000;
constexpr int kProduceReadTimeoutMs = 30000;
// After the deadline, threads get this long to notice before the process exits anyway.
constexpr auto kHardExitGrace = std::chrono::seconds(15);

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

// Sets `target` to `value` if it is still 0.
void AtomicSetOnce(std::atomic<int64_t>& target, int64_t value) {
  int64_t zero = 0;
  target.compare_exchange_strong(zero, value);
}

// Sleeps `ms`, waking early when the run is stopped.
void SleepUnlessStopped(const StopSignal& stop, int ms) {
  const auto until = SteadyClock::now() + std::chrono::milliseconds(ms);
  while (!stop.ShouldStop() && SteadyClock::now() < until) {
    std::this_thread::sleep_for(
        std::min<SteadyClock::duration>(std::chrono::milliseconds(50), until - SteadyClock::now()));
  }
}

std::string TopicPath(const std::string& topic) { return "/v1/topics/" + topic; }

// Sends one produce request of `count` messages, retrying on 429/503 (and transport errors
// when messages carry ids, so a retry cannot duplicate). True when answered 200 with one
// result per message; the latency of that answer goes to `latency`.
bool SendProduce(httplib::Client& client, const std::string& path, const std::string& body,
                 int count, const BenchOptions& options, const StopSignal& stop,
                 ProduceStats* stats, LatencyRecorder* latency) {
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) ++stats->retries;
    ++stats->requests;
    const auto sent = SteadyClock::now();
    httplib::Result result = client.Post(path, body, "application/json");
    const auto answered = SteadyClock::now();
    bool retryable = false;
    int backoff_ms = 20 << std::min(attempt, 6);
    if (!result) {
      if (stop.ShouldStop()) {
        stats->errors.AddTransport("interrupted at the deadline");
        return false;
      }
      stats->errors.AddTransport(ErrorName(result.error()));
      retryable = options.ids;
    } else if (result->status == 200) {
      const ProduceAnswer answer = ParseProduceAnswer(result->body);
      if (answer.ok && answer.results == count) {
        latency->Add(NanosBetween(sent, answered));
        stats->produced += count;
        stats->duplicates += answer.duplicates;
        return true;
      }
      stats->errors.AddStatus(200, "unexpected answer: " + result->body.substr(0, 300));
      return false;
    } else {
      stats->errors.AddStatus(result->status, result->body);
      retryable = result->status == 429 || result->status == 503;
      if (result->has_header("Retry-After")) {
        const int seconds = std::atoi(result->get_header_value("Retry-After").c_str());
        backoff_ms = std::clamp(seconds * 1000, backoff_ms, 5000);
      }
    }
    if (!retryable || attempt >= options.retries || stop.ShouldStop()) {
      // Given up on this request; pause before the next one so that a broker that went
      // away is not hammered in a tight loop.
      SleepUnlessStopped(stop, backoff_ms);
      return false;
    }
    SleepUnlessStopped(stop, backoff_ms);
  }
}

std::vector<httplib::Client*> MakeClients(const BenchOptions& options, int count,
                                          int read_timeout_ms, ClientSet& clients) {
  std::vector<httplib::Client*> out;
  for (int i = 0; i < count; ++i) {
    const Endpoint& endpoint = options.endpoints[i % options.endpoints.size()];
    out.push_back(clients.Add(MakeClient(endpoint, read_timeout_ms)));
    // Connect now, one at a time, outside the measurement: a burst of concurrent connects
    // overflows cpp-httplib's listen backlog (5) and costs a 1 s SYN retransmit.
    out.back()->Get("/v1/health");
  }
  return out;
}

// Stops the run at the deadline; exits the process if it still has not ended
// kHardExitGrace later (so every run ends by itself whatever the broker does).
class Watchdog {
 public:
  Watchdog(StopSignal& stop, std::vector<ClientSet*> sets)
      : stop_(stop), sets_(std::move(sets)), thread_([this] { Run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() const { return fired_.load(); }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, stop_.deadline(), [this] { return finished_; })) return;
    fired_ = true;
    stop_.Stop();
    // Repeat: a request that was connecting during one StopAll() is not interrupted by it.
    const auto hard_exit = stop_.deadline() + kHardExitGrace;
    while (SteadyClock::now() < hard_exit) {
      for (ClientSet* set : sets_) set->StopAll();
      if (cv_.wait_for(lock, std::chrono::milliseconds(200), [this] { return finished_; })) {
        return;
      }
    }
    std::fprintf(stderr, "zoomq-bench: still running %lld s after --duration-s; exiting\n",
                 static_cast<long long>(kHardExitGrace.count()));
    std::fflush(stderr);
    std::_Exit(3);
  }

  StopSignal& stop_;
  std::vector<ClientSet*> sets_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool finished_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

}  // namespace

bool CheckHealth(const Endpoint& endpoint, std::string* error) {
  auto client = MakeClient(endpoint, kSetupTimeoutMs);
  httplib::Result result = client->Get("/v1/health");
  if (!result) {
    *error = "GET " + endpoint.ToString() + "/v1/health: " + ErrorName(result.error());
    return false;
  }
  if (result->status != 200) {
    *error = "GET " + endpoint.ToString() + "/v1/health: status " + std::to_string(result->status) +
             " " + result->body;
    return false;
  }
  return true;
}

bool EnsureTopic(const Endpoint& endpoint, const std::string& topic, int partitions, bool may_exist,
                 std::string* error) {
  auto client = MakeClient(endpoint, kSetupTimeoutMs);
  const nlohmann::json body{{"name", topic}, {"partitions", partitions}};
  httplib::Result result = client->Post("/v1/topics", body.dump(), "application/json");
  if (!result) {
    *error = "POST /v1/topics: " + ErrorName(result.error());
    return false;
  }
  if (result->status == 200 || result->status == 201) return true;
  if (result->status == 409 && may_exist) return true;
  *error = "POST /v1/topics (" + topic + "): status " + std::to_string(result->status) + " " +
           result->body;
  return false;
}

ProduceStats RunProduce(const BenchOptions& options, const StopSignal& stop, ClientSet& clients) {
  const std::string path = TopicPath(options.topic) + "/messages";
  const std::string id_prefix = options.ids ? options.run_id + "-" : "";
  const int64_t batches = (options.messages + options.batch - 1) / options.batch;
  std::vector<httplib::Client*> conns =
      MakeClients(options, options.connections, kProduceReadTimeoutMs, clients);

  struct Worker {
    ProduceStats stats;
    LatencyRecorder latency;
  };
  std::vector<Worker> workers(conns.size());
  std::atomic<int64_t> next_batch{0};
  std::atomic<int64_t> last_answer_ns{0};
  const int64_t start_ns = NowNs();
  std::vector<std::thread> threads;
  for (size_t i = 0; i < conns.size(); ++i) {
    threads.emplace_back([&, i] {
      Worker& me = workers[i];
      me.latency.Reserve(static_cast<size_t>(batches / conns.size() + 1));
      while (!stop.ShouldStop()) {
        const int64_t b = next_batch.fetch_add(1);
        if (b >= batches) break;
        const int64_t first = b * options.batch;
        const int count =
            static_cast<int>(std::min<int64_t>(options.batch, options.messages - first));
        const std::string body = BuildProduceBody(first, count, options.size, id_prefix);
        SendProduce(*conns[i], path, body, count, options, stop, &me.stats, &me.latency);
        AtomicMax(last_answer_ns, NowNs());
      }
    });
  }
  for (std::thread& t : threads) t.join();

  ProduceStats total;
  total.requested = options.messages;
  LatencyRecorder latency;
  for (Worker& w : workers) {
    total.produced += w.stats.produced;
    total.duplicates += w.stats.duplicates;
    total.requests += w.stats.requests;
    total.retries += w.stats.retries;
    total.errors.Merge(w.stats.errors);
    latency.Merge(w.latency);
  }
  total.latency = latency.Summarize();
  total.elapsed_s = std::max<int64_t>(0, last_answer_ns.load() - start_ns) / 1e9;
  return total;
}

ProduceStats RunRate(const BenchOptions& options, const StopSignal& stop, ClientSet& clients) {
  const std::string path = TopicPath(options.topic) + "/messages";
  const std::string id_prefix = options.ids ? options.run_id + "-" : "";
  std::vector<httplib::Client*> conns =
      MakeClients(options, options.connections, kProduceReadTimeoutMs, clients);
  const auto interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / options.rate));

  struct Worker {
    ProduceStats stats;
    LatencyRecorder latency;
    LatencyRecorder scheduled;
  };
  std::vector<Worker> workers(conns.size());
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> last_answer_ns{0};
  const auto start = SteadyClock::now() + std::chrono::milliseconds(20);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < conns.size(); ++i) {
    threads.emplace_back([&, i] {
      Worker& me = workers[i];
      while (!stop.ShouldStop()) {
        const int64_t seq = next.fetch_add(1);
        if (seq >= options.messages) break;
        const auto due = start + seq * interval;
        if (due >= stop.deadline()) break;
        while (!stop.ShouldStop()) {
          const auto now = SteadyClock::now();
          if (now >= due) break;
          std::this_thread::sleep_for(
              std::min<SteadyClock::duration>(due - now, std::chrono::milliseconds(100)));
        }
        if (stop.ShouldStop()) break;
        if (SteadyClock::now() - due > std::chrono::milliseconds(1)) ++me.stats.late_sends;
        const std::string body = BuildProduceBody(seq, 1, options.size, id_prefix);
        const bool ok =
            SendProduce(*conns[i], path, body, 1, options, stop, &me.stats, &me.latency);
        const auto answered = SteadyClock::now();
        if (ok) me.scheduled.Add(NanosBetween(due, answered));
        AtomicMax(last_answer_ns, NowNs());
      }
    });
  }
  for (std::thread& t : threads) t.join();

  ProduceStats total;
  total.requested = options.messages;
  total.target_rate = options.rate;
  LatencyRecorder latency;
  LatencyRecorder scheduled;
  for (Worker& w : workers) {
    total.produced += w.stats.produced;
    total.duplicates += w.stats.duplicates;
    total.requests += w.stats.requests;
    total.retries += w.stats.retries;
    total.late_sends += w.stats.late_sends;
    total.errors.Merge(w.stats.errors);
    latency.Merge(w.latency);
    scheduled.Merge(w.scheduled);
  }
  total.latency = latency.Summarize();
  total.scheduled_latency = scheduled.Summarize();
  const int64_t start_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count();
  total.elapsed_s = std::max<int64_t>(0, last_answer_ns.load() - start_ns) / 1e9;
  return total;
}

ConsumeStats RunConsume(const BenchOptions& options, const StopSignal& stop, ClientSet& clients,
                        const std::atomic<int64_t>& target) {
  const std::string group_path = TopicPath(options.topic) + "/groups/" + options.group;
  const std::string ack_path = group_path + "/ack";
  std::vector<httplib::Client*> conns =
      MakeClients(options, options.consumers, options.pull_wait_ms + 15000, clients);

  struct Worker {
    ConsumeStats stats;
    LatencyRecorder pull_latency;
    LatencyRecorder ack_latency;
  };
  std::vector<Worker> workers(conns.size());
  std::atomic<int64_t> acked_total{0};
  std::atomic<int64_t> first_pull_ns{0};
  std::atomic<int64_t> last_ack_ns{0};
  std::atomic<bool> done{false};
  auto finished = [&] { return done.load() || stop.ShouldStop(); };

  std::vector<std::thread> threads;
  for (size_t i = 0; i < conns.size(); ++i) {
    threads.emplace_back([&, i] {
      Worker& me = workers[i];
      httplib::Client& client = *conns[i];
      const std::string pull_path = group_path + "/messages?consumer=bench-c" + std::to_string(i) +
                                    "&max=" + std::to_string(options.pull_max) +
                                    "&wait_ms=" + std::to_string(options.pull_wait_ms) +
                                    "&visibility_ms=" + std::to_string(options.visibility_ms);
      while (!finished() && acked_total.load() < target.load()) {
        const auto pull_sent = SteadyClock::now();
        AtomicSetOnce(first_pull_ns, NowNs());
        httplib::Result pulled = client.Get(pull_path);
        const auto pull_answered = SteadyClock::now();
        ++me.stats.pulls;
        if (!pulled) {
          if (finished()) break;
          me.stats.errors.AddTransport(ErrorName(pulled.error()));
          SleepUnlessStopped(stop, 50);
          continue;
        }
        if (pulled->status != 200) {
          me.stats.errors.AddStatus(pulled->status, pulled->body);
          SleepUnlessStopped(stop, 50);
          continue;
        }
        me.pull_latency.Add(NanosBetween(pull_sent, pull_answered));
        const PullAnswer answer = ParsePullAnswer(pulled->body);
        if (!answer.ok) {
          me.stats.errors.AddStatus(200, "unexpected answer: " + pulled->body.substr(0, 300));
          continue;
        }
        if (answer.ids.empty()) {
          ++me.stats.empty_pulls;
          continue;
        }
        me.stats.received += static_cast<int64_t>(answer.ids.size());
        me.stats.redeliveries += answer.redeliveries;

        const auto ack_sent = SteadyClock::now();
        httplib::Result acked = client.Post(ack_path, BuildIdsBody(answer.ids), "application/json");
        const auto ack_answered = SteadyClock::now();
        ++me.stats.acks;
        if (!acked) {
          if (finished()) break;
          me.stats.errors.AddTransport(ErrorName(acked.error()));
          continue;  // the leases run out and the messages come again
        }
        if (acked->status != 200) {
          me.stats.errors.AddStatus(acked->status, acked->body);
          continue;
        }
        const AckAnswer ack = ParseAckAnswer(acked->body);
        if (!ack.ok) {
          me.stats.errors.AddStatus(200, "unexpected ack answer: " + acked->body.substr(0, 300));
          continue;
        }
        me.ack_latency.Add(NanosBetween(ack_sent, ack_answered));
        me.stats.acked += ack.acked;
        me.stats.ack_unknown += ack.unknown;
        AtomicMax(last_ack_ns, NowNs());
        if (acked_total.fetch_add(ack.acked) + ack.acked >= target.load()) {
          done = true;
          clients.StopAll();  // wake the consumers still waiting in a long poll
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  ConsumeStats total;
  total.target = target.load();
  LatencyRecorder pull_latency;
  LatencyRecorder ack_latency;
  for (Worker& w : workers) {
    total.acked += w.stats.acked;
    total.received += w.stats.received;
    total.redeliveries += w.stats.redeliveries;
    total.ack_unknown += w.stats.ack_unknown;
    total.pulls += w.stats.pulls;
    total.empty_pulls += w.stats.empty_pulls;
    total.acks += w.stats.acks;
    total.errors.Merge(w.stats.errors);
    pull_latency.Merge(w.pull_latency);
    ack_latency.Merge(w.ack_latency);
  }
  total.pull_latency = pull_latency.Summarize();
  total.ack_latency = ack_latency.Summarize();
  if (first_pull_ns.load() > 0 && last_ack_ns.load() > 0) {
    total.elapsed_s = std::max<int64_t>(0, last_ack_ns.load() - first_pull_ns.load()) / 1e9;
  }
  return total;
}

Report RunBench(const BenchOptions& options) {
  Report report;
  report.options = options;
  const auto begin = SteadyClock::now();
  const auto duration = std::chrono::duration_cast<SteadyClock::duration>(
      std::chrono::duration<double>(options.duration_s));
  StopSignal stop(begin + duration);
  ClientSet produce_clients;
  ClientSet consume_clients;
  std::unique_ptr<IdleWaiters> idle;
  {
    Watchdog watchdog(stop, {&produce_clients, &consume_clients});
    const Endpoint first = options.redis || options.amqp ? Endpoint{} : options.endpoints.front();
    std::string error;
    bool ready = false;
    if (options.redis) {
      ready = RedisPrepare(options, &error);
    } else if (options.amqp) {
      ready = AmqpPrepare(options, &error);
    } else {
      ready = CheckHealth(first, &error) &&
              EnsureTopic(first, options.topic, options.partitions, options.topic_given, &error);
    }
    if (ready && options.idle_waiters > 0) {
      const std::string idle_topic = options.topic + "-idle";
      ready = EnsureTopic(first, idle_topic, 1, true, &error);
      if (ready) {
        idle = std::make_unique<IdleWaiters>(options, idle_topic, "idle-" + options.run_id);
        idle->Start();
        const int started = idle->WaitStarted(stop, 1500);
        if (started < options.idle_waiters) {
          report.warnings.push_back("only " + std::to_string(started) + " of " +
                                    std::to_string(options.idle_waiters) +
                                    " idle waiters were in a request when measuring began");
        }
      }
    }
    if (!ready) report.failures.push_back(error);

    // The driver: zoomq over raw HTTP (or its SDK for produce), or a peer.
    auto produce = [&] {
      if (options.redis) return RunRedisProduce(options, stop);
      if (options.amqp) return RunAmqpProduce(options, stop);
      if (options.sdk) return RunSdkProduce(options, stop);
      return RunProduce(options, stop, produce_clients);
    };
    auto consume = [&](const std::atomic<int64_t>& target) {
      if (options.redis) return RunRedisConsume(options, stop, target);
      if (options.amqp) return RunAmqpConsume(options, stop, target);
      return RunConsume(options, stop, consume_clients, target);
    };
    if (ready) {
      switch (options.mode) {
        case Mode::kProduce:
          report.produce = produce();
          break;
        case Mode::kRate:
          report.rate = RunRate(options, stop, produce_clients);
          break;
        case Mode::kConsume: {
          std::atomic<int64_t> target{options.messages};
          report.consume = consume(target);
          break;
        }
        case Mode::kBoth: {
          std::atomic<int64_t> target{options.messages};
          if (options.concurrent) {
            std::thread producer([&] {
              report.produce = produce();
              target = std::min(target.load(), report.produce->produced);
            });
            report.consume = consume(target);
            producer.join();
          } else {
            report.produce = produce();
            target = report.produce->produced;
            if (target.load() > 0) report.consume = consume(target);
          }
          break;
        }
      }
    }
    if (idle) {
      const int in_flight_at_end = idle->InFlight();
      report.idle = idle->Stop();
      report.idle->in_flight_at_end = in_flight_at_end;
    }
    report.deadline_hit = watchdog.fired();
  }
  report.wall_s = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    report.cpu_user_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6;
    report.cpu_sys_s = usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  }

  auto fail = [&](const std::string& what) { report.failures.push_back(what); };
  if (report.produce && report.produce->produced < report.produce->requested) {
    fail("produced " + std::to_string(report.produce->produced) + " of " +
         std::to_string(report.produce->requested) + " messages");
  }
  if (report.rate && report.rate->produced < report.rate->requested) {
    fail("sent " + std::to_string(report.rate->produced) + " of " +
         std::to_string(report.rate->requested) + " messages at the steady rate");
  }
  if (report.consume && report.consume->acked < options.messages) {
    fail("consumed (acked) " + std::to_string(report.consume->acked) + " of " +
         std::to_string(options.messages) + " messages");
  }
  if (options.mode == Mode::kBoth && !report.consume) fail("nothing was produced to consume");
  if (report.deadline_hit) fail("stopped by --duration-s before the work was done");
  if (report.produce && report.produce->duplicates > 0) {
    report.warnings.push_back(std::to_string(report.produce->duplicates) +
                              " produce results were duplicates");
  }
  return report;
}

}  // namespace zoomq::bench
