// Metrics: Prometheus text format through prometheus-cpp (Debian's prometheus-cpp-dev).
#pragma once

#include <memory>
#include <string>

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Histogram;
}  // namespace prometheus

namespace zoomq::broker {
class BrokerService;
}

namespace zoomq::broker::http {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  // One answered request. Thread-safe.
  void Observe(const std::string& route, int status, double seconds);
  // A request refused by a quota ("requests" or "produce_bytes"). Thread-safe.
  void Throttled(const std::string& principal, const std::string& quota);
  // The whole exposition: request metrics plus a snapshot of the broker's state.
  std::string Render(BrokerService& service);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  prometheus::Family<prometheus::Counter>* throttled_;
};

}  // namespace zoomq::broker::http
