#include "zoomq/bench/peer_runs.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "zoomq/bench/payload.h"

namespace zoomq::bench {

ProduceStats RunWindowedProduce(const BenchOptions& o, const StopSignal& stop,
                                const std::function<std::unique_ptr<PeerProducer>()>& make) {
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
      std::unique_ptr<PeerProducer> p = make();
      if (p->Open(&error)) {
        std::deque<SteadyClock::time_point> in_flight;  // send times, oldest first
        for (;;) {
          while (in_flight.size() < window && !stop.ShouldStop()) {
            const int64_t seq = next.fetch_add(1);
            if (seq >= o.messages) break;
            if (!p->Send(MessageValue(seq, o.size), &error)) break;
            in_flight.push_back(SteadyClock::now());
            ++mine.requests;
          }
          if (!error.empty() || in_flight.empty()) break;
          int64_t confirmed = 0, failed = 0;
          if (!p->Await(&confirmed, &failed, &error)) break;
          const auto now = SteadyClock::now();
          for (; confirmed > 0 && !in_flight.empty(); --confirmed) {
            ++mine.produced;
            lat.Add(NanosBetween(in_flight.front(), now));
            in_flight.pop_front();
          }
          for (; failed > 0 && !in_flight.empty(); --failed) {
            mine.errors.AddStatus(500, "refused by the peer");
            in_flight.pop_front();
          }
          AtomicMax(last_ns, NanosBetween(start, now));
        }
      }
      if (!error.empty()) mine.errors.AddTransport(error);
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

ConsumeStats RunConsumers(const BenchOptions& o, const std::atomic<int64_t>& target,
                          const ConsumeFn& consume) {
  std::mutex mu;
  ConsumeStats total;
  total.target = target.load();
  LatencyRecorder pulls, acks;
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> last_ns{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.consumers; ++t) {
    threads.emplace_back([&, t] {
      ConsumerFigures mine;
      consume(t, mine, acked, last_ns);
      std::lock_guard<std::mutex> lock(mu);
      const ConsumeStats& s = mine.stats;
      total.acked += s.acked;
      total.received += s.received;
      total.redeliveries += s.redeliveries;
      total.pulls += s.pulls;
      total.empty_pulls += s.empty_pulls;
      total.acks += s.acks;
      total.errors.Merge(s.errors);
      pulls.Merge(mine.pulls);
      acks.Merge(mine.acks);
    });
  }
  for (std::thread& t : threads) t.join();
  total.pull_latency = pulls.Summarize();
  total.ack_latency = acks.Summarize();
  total.elapsed_s = last_ns.load() / 1e9;
  return total;
}

}  // namespace zoomq::bench
