#include "zoomq/bench/redis_runner.h"

#include <hiredis/hiredis.h>

#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "zoomq/bench/latency.h"
#include "zoomq/bench/payload.h"

namespace zoomq::bench {
namespace {

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
using Reply = std::unique_ptr<redisReply, ReplyFree>;

// A connection with 5 s to connect and `timeout_ms` per reply; nullptr with *error set.
Context Connect(const BenchOptions& o, int timeout_ms, std::string* error) {
  const timeval connect_tv{5, 0};
  Context c(redisConnectWithTimeout(o.redis_host.c_str(), o.redis_port, connect_tv));
  if (!c || c->err) {
    *error = "redis at " + o.redis_host + ":" + std::to_string(o.redis_port) + ": " +
             (c ? c->errstr : "cannot allocate a context");
    return nullptr;
  }
  const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  redisSetTimeout(c.get(), tv);
  return c;
}

// The reply's text for an error report.
std::string Describe(const redisContext* c, const redisReply* r) {
  if (!r) return std::string("transport: ") + (c->err ? c->errstr : "no reply");
  if (r->type == REDIS_REPLY_ERROR) return std::string("error: ") + std::string(r->str, r->len);
  return "unexpected reply type " + std::to_string(r->type);
}

Reply Command(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
}

}  // namespace

bool RedisDriverBuilt() { return true; }

bool RedisPrepare(const BenchOptions& o, std::string* error) {
  Context c = Connect(o, 10000, error);
  if (!c) return false;
  Reply pong = Command(c.get(), {"PING"});
  if (!pong || pong->type != REDIS_REPLY_STATUS) {
    *error = "redis PING: " + Describe(c.get(), pong.get());
    return false;
  }
  Reply created = Command(c.get(), {"XGROUP", "CREATE", o.topic, o.group, "0", "MKSTREAM"});
  if (created && created->type == REDIS_REPLY_ERROR &&
      std::string(created->str, created->len).starts_with("BUSYGROUP")) {
    return true;  // the group exists
  }
  if (!created || created->type != REDIS_REPLY_STATUS) {
    *error = "redis XGROUP CREATE: " + Describe(c.get(), created.get());
    return false;
  }
  return true;
}

ProduceStats RunRedisProduce(const BenchOptions& o, const StopSignal& stop) {
  std::mutex mu;
  ProduceStats total;
  total.requested = o.messages;
  LatencyRecorder latency;
  latency.Reserve(static_cast<size_t>(o.messages));
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> last_ns{0};
  const auto start = SteadyClock::now();
  const size_t window = static_cast<size_t>(std::max(1, o.batch));

  std::vector<std::thread> threads;
  for (int t = 0; t < o.connections; ++t) {
    threads.emplace_back([&] {
      ProduceStats mine;
      LatencyRecorder lat;
      std::string error;
      Context c = Connect(o, 30000, &error);
      if (!c) {
        std::lock_guard<std::mutex> lock(mu);
        total.errors.AddTransport(error);
        return;
      }
      std::deque<SteadyClock::time_point> in_flight;  // send times, oldest first
      bool broken = false;
      while (!broken) {
        while (in_flight.size() < window && !stop.ShouldStop()) {
          const int64_t seq = next.fetch_add(1);
          if (seq >= o.messages) break;
          const std::string value = MessageValue(seq, o.size);
          redisAppendCommand(c.get(), "XADD %b * v %b", o.topic.data(), o.topic.size(),
                             value.data(), value.size());
          in_flight.push_back(SteadyClock::now());
          ++mine.requests;
        }
        if (in_flight.empty()) break;
        void* raw = nullptr;
        const int rc = redisGetReply(c.get(), &raw);
        Reply r(static_cast<redisReply*>(raw));
        const auto now = SteadyClock::now();
        if (rc != REDIS_OK || !r) {
          mine.errors.AddTransport(Describe(c.get(), nullptr));
          broken = true;  // the connection is unusable; what was in flight is unknown
          break;
        }
        if (r->type == REDIS_REPLY_STRING) {
          ++mine.produced;
          lat.Add(NanosBetween(in_flight.front(), now));
          AtomicMax(last_ns, NanosBetween(start, now));
        } else {
          mine.errors.AddStatus(500, Describe(c.get(), r.get()));
        }
        in_flight.pop_front();
      }
      std::lock_guard<std::mutex> lock(mu);
      total.produced += mine.produced;
      total.requests += mine.requests;
      total.errors.Merge(mine.errors);
      latency.Merge(lat);
    });
  }
  for (std::thread& t : threads) t.join();
  total.latency = latency.Summarize();
  total.elapsed_s = last_ns.load() / 1e9;
  return total;
}

ConsumeStats RunRedisConsume(const BenchOptions& o, const StopSignal& stop,
                             const std::atomic<int64_t>& target) {
  std::mutex mu;
  ConsumeStats total;
  total.target = target.load();
  LatencyRecorder pull_latency, ack_latency;
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> last_ns{0};
  const auto start = SteadyClock::now();

  std::vector<std::thread> threads;
  for (int t = 0; t < o.consumers; ++t) {
    threads.emplace_back([&, t] {
      ConsumeStats mine;
      LatencyRecorder pulls, acks;
      std::string error;
      Context c = Connect(o, o.pull_wait_ms + 30000, &error);
      if (!c) {
        std::lock_guard<std::mutex> lock(mu);
        total.errors.AddTransport(error);
        return;
      }
      const std::string consumer = "c" + std::to_string(t);
      while (!stop.ShouldStop() && acked.load() < target.load()) {
        const auto sent = SteadyClock::now();
        Reply r = Command(
            c.get(), {"XREADGROUP", "GROUP", o.group, consumer, "COUNT", std::to_string(o.pull_max),
                      "BLOCK", std::to_string(o.pull_wait_ms), "STREAMS", o.topic, ">"});
        ++mine.pulls;
        if (!r) {
          mine.errors.AddTransport(Describe(c.get(), nullptr));
          break;
        }
        pulls.Add(NanosBetween(sent, SteadyClock::now()));
        if (r->type == REDIS_REPLY_NIL) {
          ++mine.empty_pulls;
          continue;
        }
        // [[stream, [[id, [field, value...]]...]]]
        std::vector<std::string> ack = {"XACK", o.topic, o.group};
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
            r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2) {
          const redisReply* entries = r->element[0]->element[1];
          for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; ++i) {
            const redisReply* e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
                e->element[0]->type != REDIS_REPLY_STRING) {
              continue;
            }
            ack.emplace_back(e->element[0]->str, e->element[0]->len);
          }
        } else {
          mine.errors.AddStatus(500, Describe(c.get(), r.get()));
          continue;
        }
        mine.received += static_cast<int64_t>(ack.size() - 3);
        if (ack.size() == 3) {
          ++mine.empty_pulls;
          continue;
        }
        const auto ack_sent = SteadyClock::now();
        Reply a = Command(c.get(), ack);
        ++mine.acks;
        if (!a || a->type != REDIS_REPLY_INTEGER) {
          mine.errors.AddStatus(500, Describe(c.get(), a.get()));
          if (!a) break;
          continue;
        }
        const auto now = SteadyClock::now();
        acks.Add(NanosBetween(ack_sent, now));
        mine.acked += a->integer;
        acked += a->integer;
        AtomicMax(last_ns, NanosBetween(start, now));
      }
      std::lock_guard<std::mutex> lock(mu);
      total.acked += mine.acked;
      total.received += mine.received;
      total.pulls += mine.pulls;
      total.empty_pulls += mine.empty_pulls;
      total.acks += mine.acks;
      total.errors.Merge(mine.errors);
      pull_latency.Merge(pulls);
      ack_latency.Merge(acks);
    });
  }
  for (std::thread& t : threads) t.join();
  total.pull_latency = pull_latency.Summarize();
  total.ack_latency = ack_latency.Summarize();
  total.elapsed_s = last_ns.load() / 1e9;
  return total;
}

}  // namespace zoomq::bench
