// The runs: topic setup, produce, steady rate, consume, and the whole bench.
#pragma once

#include <atomic>
#include <string>

#include "zoomq/bench/http.h"
#include "zoomq/bench/options.h"
#include "zoomq/bench/report.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

// GET /v1/health answers 200.
bool CheckHealth(const Endpoint& endpoint, std::string* error);

// POST /v1/topics: 201 (created) and 200 (same config) are fine; 409 too when
// `may_exist` (a --topic given by the user, possibly with other settings).
bool EnsureTopic(const Endpoint& endpoint, const std::string& topic, int partitions, bool may_exist,
                 std::string* error);

// Produces options.messages messages of options.size bytes in requests of options.batch
// over options.connections connections.
ProduceStats RunProduce(const BenchOptions& options, const StopSignal& stop, ClientSet& clients);

// Open loop: message i is due at start + i/rate; one message per request; latency is
// measured from the due time too, so falling behind shows.
ProduceStats RunRate(const BenchOptions& options, const StopSignal& stop, ClientSet& clients);

// Group consumers pull (long poll) and ack what each pull returned until `*target`
// messages are acked. `target` may drop while running (a concurrent producer that fell
// short of --messages lowers it to what it produced).
ConsumeStats RunConsume(const BenchOptions& options, const StopSignal& stop, ClientSet& clients,
                        const std::atomic<int64_t>& target);

// Everything --mode asks for, bounded by --duration-s; failures are listed in the report.
Report RunBench(const BenchOptions& options);

}  // namespace zoomq::bench
