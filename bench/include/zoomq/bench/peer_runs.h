// What the peer drivers (redis_runner, amqp_runner) share: the threads, the window of
// messages in flight, and how each thread's figures are merged. A driver supplies one
// connection's behaviour; the harness around it is the same for every peer.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "zoomq/bench/http.h"
#include "zoomq/bench/latency.h"
#include "zoomq/bench/options.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

// One producing connection of a peer.
class PeerProducer {
 public:
  virtual ~PeerProducer() = default;
  // Connects (and sets the connection up); false with *error on failure.
  virtual bool Open(std::string* error) = 0;
  // Sends one message (buffered or not); false with *error when the connection broke.
  virtual bool Send(const std::string& value, std::string* error) = 0;
  // Waits for the next answer(s) about the oldest messages in flight: *confirmed of them were
  // acknowledged, then *failed refused (in that order of age). False with *error when the
  // connection broke (what was in flight is unknown).
  virtual bool Await(int64_t* confirmed, int64_t* failed, std::string* error) = 0;
};

// --connections connections (threads), each with up to --batch messages in flight, share
// --messages messages of --size bytes (payload.h's values). Latency: send -> its answer.
ProduceStats RunWindowedProduce(const BenchOptions& options, const StopSignal& stop,
                                const std::function<std::unique_ptr<PeerProducer>()>& make);

// One consumer's figures, as ConsumeFn fills them.
struct ConsumerFigures {
  ConsumeStats stats;
  LatencyRecorder pulls, acks;
};
// Runs one consumer (index `i`) until target messages are acked in all (`acked`, which it
// adds to) or the run stops; sets *last_ack_ns (since `start`) as it acks.
using ConsumeFn = std::function<void(int i, ConsumerFigures& mine, std::atomic<int64_t>& acked,
                                     std::atomic<int64_t>& last_ack_ns)>;
// --consumers threads running `consume`, their figures merged.
ConsumeStats RunConsumers(const BenchOptions& options, const std::atomic<int64_t>& target,
                          const ConsumeFn& consume);

}  // namespace zoomq::bench
