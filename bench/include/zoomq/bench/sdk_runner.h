// --client sdk: produce through the C++ SDK's zoomq::Producer, so the figures are what an
// application gets (batching by linger/batch size, retries, routing to leaders).
#pragma once

#include "zoomq/bench/options.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

class StopSignal;

// options.connections threads Send() options.messages messages (options.size bytes each,
// with the SDK's automatic ids) into one Producer, then Flush(). Latency is per message:
// Send() → delivery report.
ProduceStats RunSdkProduce(const BenchOptions& options, const StopSignal& stop);

}  // namespace zoomq::bench
