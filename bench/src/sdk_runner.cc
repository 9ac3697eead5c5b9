#include "zoomq/bench/sdk_runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "zoomq/bench/http.h"
#include "zoomq/bench/latency.h"
#include "zoomq/bench/payload.h"
#include "zoomq/client.h"

namespace zoomq::bench {

ProduceStats RunSdkProduce(const BenchOptions& options, const StopSignal& stop) {
  zoomq::ProducerOptions po;
  po.client.brokers = options.urls;
  po.client.security = options.security;
  po.client.client_id = "bench-" + options.run_id;
  po.linger = std::chrono::milliseconds(options.linger_ms);
  po.batch_messages = static_cast<size_t>(options.sdk_batch);
  const auto left = stop.deadline() - SteadyClock::now();
  po.delivery_timeout = std::max(std::chrono::milliseconds(1000),
                                 std::chrono::duration_cast<std::chrono::milliseconds>(left));
  zoomq::Producer producer(po);

  // Reports arrive on the SDK's thread; the latency samples and counters are its own.
  std::mutex mu;
  ProduceStats total;
  total.requested = options.messages;
  LatencyRecorder latency;
  latency.Reserve(static_cast<size_t>(options.messages));
  std::atomic<int64_t> last_report_ns{0};

  std::atomic<int64_t> next{0};
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < options.connections; ++t) {
    threads.emplace_back([&] {
      while (!stop.ShouldStop()) {
        const int64_t seq = next.fetch_add(1);
        if (seq >= options.messages) break;
        // The same value as the raw HTTP runs: a JSON string of `size` characters.
        zoomq::OutgoingMessage m = zoomq::OutgoingMessage::Json(
            options.topic, "\"" + MessageValue(seq, options.size) + "\"");
        const auto sent = SteadyClock::now();
        Status st = producer.Send(std::move(m), [&, sent](const zoomq::DeliveryReport& r) {
          const auto now = SteadyClock::now();
          std::lock_guard<std::mutex> lock(mu);
          if (r.status.ok()) {
            ++total.produced;
            if (r.duplicate) ++total.duplicates;
            latency.Add(NanosBetween(sent, now));
          } else {
            total.errors.AddStatus(HttpStatus(r.status.code()), r.status.ToString());
          }
          last_report_ns.store(NanosBetween(start, now));
        });
        if (!st.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          total.errors.AddTransport("Send: " + st.ToString());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const auto flush_left = std::chrono::duration_cast<std::chrono::milliseconds>(
      stop.deadline() - SteadyClock::now());
  producer.Flush(std::max(std::chrono::milliseconds(1), flush_left));
  const auto stats = producer.stats();
  producer.Close(std::chrono::milliseconds(1000));

  std::lock_guard<std::mutex> lock(mu);
  total.requests = stats.requests;
  total.retries = stats.retries;
  total.latency = latency.Summarize();
  total.elapsed_s = last_report_ns.load() / 1e9;
  return total;
}

}  // namespace zoomq::bench
