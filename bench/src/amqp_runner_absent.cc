// The AMQP driver when zoomq-bench is built without librabbitmq-c: Finalize() refuses
// --client amqp, so these are never called.
#include "zoomq/bench/amqp_runner.h"

namespace zoomq::bench {

bool AmqpDriverBuilt() { return false; }
bool AmqpPrepare(const BenchOptions&, std::string* error) {
  *error = "built without librabbitmq-c";
  return false;
}
ProduceStats RunAmqpProduce(const BenchOptions&, const StopSignal&) { return {}; }
ConsumeStats RunAmqpConsume(const BenchOptions&, const StopSignal&, const std::atomic<int64_t>&) {
  return {};
}

}  // namespace zoomq::bench
