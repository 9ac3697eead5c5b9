// Links against the installed SDK and runs it: a Producer and an Admin pointed at a port
// nobody listens on must fail cleanly with UNAVAILABLE / TIMED_OUT. Exit 0 when they do.
#include <chrono>
#include <cstdio>

#include "zoomq/client.h"

int main() {
  zoomq::ClientOptions client;
  client.brokers = {"http://127.0.0.1:1"};  // nothing listens there: connection refused
  client.request_timeout = std::chrono::milliseconds(300);

  zoomq::Admin admin(client);
  zoomq::Result<zoomq::ClusterInfo> cluster = admin.Cluster();
  if (cluster.ok() || cluster.status().code() != zoomq::Code::kUnavailable) {
    std::fprintf(stderr, "Admin::Cluster: expected UNAVAILABLE, got %s\n",
                 cluster.status().ToString().c_str());
    return 1;
  }

  zoomq::ProducerOptions options;
  options.client = client;
  options.delivery_timeout = std::chrono::milliseconds(300);
  options.retry_backoff = std::chrono::milliseconds(5);
  options.retry_backoff_max = std::chrono::milliseconds(20);
  zoomq::Producer producer(options);
  zoomq::DeliveryReport report =
      producer.Send(zoomq::OutgoingMessage::Json("example", "{\"n\":1}")).get();
  if (report.status.ok() || report.persistence == zoomq::Persistence::kPersisted) {
    std::fprintf(stderr, "Producer: expected a failure, got %s\n",
                 report.status.ToString().c_str());
    return 1;
  }
  std::printf("ok: %s / %s\n", cluster.status().ToString().c_str(),
              report.status.ToString().c_str());
  return 0;
}
