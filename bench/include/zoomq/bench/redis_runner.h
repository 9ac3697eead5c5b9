// The Redis Streams driver of zoomq-bench (issue 13: the same harness drives zoomq and its
// peers; docs/peers.md). --client redis --url redis://HOST:PORT: --topic is a stream,
// --group its consumer group. Produce: XADD, with --batch commands in flight per connection
// (pipelined; zoomq's --batch is messages per request); consume: XREADGROUP (COUNT
// --pull-max, BLOCK --pull-wait-ms) then one XACK of what it returned. Built only with
// hiredis (scripts/deps.sh compare); RedisDriverBuilt() says whether it was.
#pragma once

#include <atomic>
#include <string>

#include "zoomq/bench/http.h"
#include "zoomq/bench/options.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

bool RedisDriverBuilt();

// PING, then the group on the stream (created with the stream; an existing group is fine).
bool RedisPrepare(const BenchOptions& options, std::string* error);
ProduceStats RunRedisProduce(const BenchOptions& options, const StopSignal& stop);
ConsumeStats RunRedisConsume(const BenchOptions& options, const StopSignal& stop,
                             const std::atomic<int64_t>& target);

}  // namespace zoomq::bench
