// The Redis driver when zoomq-bench is built without hiredis: Finalize() refuses
// --client redis, so these are never called.
#include "zoomq/bench/redis_runner.h"

namespace zoomq::bench {

bool RedisDriverBuilt() { return false; }
bool RedisPrepare(const BenchOptions&, std::string* error) {
  *error = "built without hiredis";
  return false;
}
ProduceStats RunRedisProduce(const BenchOptions&, const StopSignal&) { return {}; }
ConsumeStats RunRedisConsume(const BenchOptions&, const StopSignal&, const std::atomic<int64_t>&) {
  return {};
}

}  // namespace zoomq::bench
