#include "zoomq/bench/redis_runner.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <vector>

#include "zoomq/bench/peer_runs.h"

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

namespace {

class RedisProducer : public PeerProducer {
 public:
  explicit RedisProducer(const BenchOptions& o) : o_(o) {}
  bool Open(std::string* error) override {
    c_ = Connect(o_, 30000, error);
    return c_ != nullptr;
  }
  bool Send(const std::string& value, std::string* error) override {
    if (redisAppendCommand(c_.get(), "XADD %b * v %b", o_.topic.data(), o_.topic.size(),
                           value.data(), value.size()) == REDIS_OK) {
      return true;
    }
    *error = Describe(c_.get(), nullptr);
    return false;
  }
  bool Await(int64_t* confirmed, int64_t* failed, std::string* error) override {
    void* raw = nullptr;
    const int rc = redisGetReply(c_.get(), &raw);
    Reply r(static_cast<redisReply*>(raw));
    if (rc != REDIS_OK || !r) {
      *error = Describe(c_.get(), nullptr);
      return false;
    }
    (r->type == REDIS_REPLY_STRING ? *confirmed : *failed) = 1;
    return true;
  }

 private:
  const BenchOptions& o_;
  Context c_;
};

}  // namespace

ProduceStats RunRedisProduce(const BenchOptions& o, const StopSignal& stop) {
  return RunWindowedProduce(o, stop, [&] { return std::make_unique<RedisProducer>(o); });
}

ConsumeStats RunRedisConsume(const BenchOptions& o, const StopSignal& stop,
                             const std::atomic<int64_t>& target) {
  const auto start = SteadyClock::now();
  return RunConsumers(
      o, target,
      [&](int i, ConsumerFigures& mine, std::atomic<int64_t>& acked,
          std::atomic<int64_t>& last_ns) {
        std::string error;
        Context c = Connect(o, o.pull_wait_ms + 30000, &error);
        if (!c) {
          mine.stats.errors.AddTransport(error);
          return;
        }
        const std::string consumer = "c" + std::to_string(i);
        while (!stop.ShouldStop() && acked.load() < target.load()) {
          const auto sent = SteadyClock::now();
          Reply r = Command(c.get(), {"XREADGROUP", "GROUP", o.group, consumer, "COUNT",
                                      std::to_string(o.pull_max), "BLOCK",
                                      std::to_string(o.pull_wait_ms), "STREAMS", o.topic, ">"});
          ++mine.stats.pulls;
          if (!r) {
            mine.stats.errors.AddTransport(Describe(c.get(), nullptr));
            return;
          }
          mine.pulls.Add(NanosBetween(sent, SteadyClock::now()));
          // nil (BLOCK ran out) or [[stream, [[id, [field, value...]]...]]]
          std::vector<std::string> ack = {"XACK", o.topic, o.group};
          if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
              r->element[0]->type == REDIS_REPLY_ARRAY && r->element[0]->elements == 2 &&
              r->element[0]->element[1]->type == REDIS_REPLY_ARRAY) {
            const redisReply* entries = r->element[0]->element[1];
            for (size_t k = 0; k < entries->elements; ++k) {
              const redisReply* e = entries->element[k];
              if (e->type == REDIS_REPLY_ARRAY && e->elements >= 1 &&
                  e->element[0]->type == REDIS_REPLY_STRING) {
                ack.emplace_back(e->element[0]->str, e->element[0]->len);
              }
            }
          } else if (r->type != REDIS_REPLY_NIL) {
            mine.stats.errors.AddStatus(500, Describe(c.get(), r.get()));
            continue;
          }
          if (ack.size() == 3) {
            ++mine.stats.empty_pulls;
            continue;
          }
          mine.stats.received += static_cast<int64_t>(ack.size() - 3);
          const auto ack_sent = SteadyClock::now();
          Reply a = Command(c.get(), ack);
          ++mine.stats.acks;
          if (!a || a->type != REDIS_REPLY_INTEGER) {
            mine.stats.errors.AddStatus(500, Describe(c.get(), a.get()));
            if (!a) return;
            continue;
          }
          const auto now = SteadyClock::now();
          mine.acks.Add(NanosBetween(ack_sent, now));
          mine.stats.acked += a->integer;
          acked += a->integer;
          AtomicMax(last_ns, NanosBetween(start, now));
        }
      });
}

}  // namespace zoomq::bench
