// Flags of zoomq-bench and their validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zoomq/client/transport.h"  // TransportSecurity
#include "zoomq/net/http_client.h"

namespace CLI {
class App;
}  // namespace CLI

namespace zoomq::bench {

enum class Mode {
  kProduce,  // produce --messages, report throughput and request latency
  kConsume,  // consume --messages from an existing topic as a group, ack each pull
  kBoth,     // produce, then consume what was produced (or both at once with --concurrent)
  kRate,     // open-loop steady rate, one message per request, latency percentiles
};

enum class IdleKind { kLongPoll, kSse };

std::string_view ModeName(Mode mode);
std::string_view IdleKindName(IdleKind kind);

// A broker's base URL, "http://HOST:PORT" or "https://HOST:PORT", and what a client presents
// to it and trusts (Finalize() copies --cacert, --client-cert, --client-key and --token).
struct Endpoint {
  std::string host;
  int port = 0;
  bool tls = false;
  net::ClientCredentials credentials;

  std::string ToString() const;
};

// Parses "http://HOST:PORT" or "https://HOST:PORT" (an optional trailing '/' is allowed). On
// failure returns nullopt and describes the problem in *error.
std::optional<Endpoint> ParseEndpoint(std::string_view url, std::string* error);

struct BenchOptions {
  std::vector<std::string> urls{"http://127.0.0.1:9101"};
  std::string topic;  // empty: a unique name is generated
  int partitions = 4;
  int64_t messages = 100000;
  int size = 100;
  int batch = 100;
  int connections = 4;
  int consumers = 2;
  int pull_max = 500;
  int pull_wait_ms = 1000;
  int visibility_ms = 30000;
  std::string group;  // empty: a unique name is generated
  Mode mode = Mode::kProduce;
  bool concurrent = false;  // --mode both: consume while producing
  double rate = 1000;       // msg/s for --mode rate
  double duration_s = 120;  // hard upper bound for the whole run
  bool json = false;
  bool ids = false;  // give every message an idempotency id
  int retries = 3;   // per request, on 429/503 (and transport errors with --ids)
  int idle_waiters = 0;
  IdleKind idle_kind = IdleKind::kLongPoll;
  int idle_wait_ms = 60000;
  // --client sdk: produce through zoomq::Producer (what applications get) instead of raw
  // HTTP requests; --connections application threads call Send(), the SDK batches.
  bool sdk = false;
  int linger_ms = 5;
  int sdk_batch = 1000;  // ProducerOptions::batch_messages
  // --client redis: Redis Streams instead of zoomq (redis_runner.h), the --url is
  // redis://HOST:PORT; --client amqp: RabbitMQ (amqp_runner.h), amqp://HOST:PORT. Finalize()
  // splits the URL into these.
  bool redis = false;
  std::string redis_host;
  int redis_port = 0;
  bool amqp = false;
  std::string amqp_host;
  int amqp_port = 0;
  TransportSecurity security;  // --cacert, --client-cert, --client-key, --token

  // Filled by Finalize().
  std::vector<Endpoint> endpoints;
  std::string run_id;        // unique per run; names topic/group and message ids
  bool topic_given = false;  // --topic was passed (the topic may already exist)
};

// Registers every flag on `app`, writing into *options.
void AddFlags(CLI::App& app, BenchOptions* options);

// Checks ranges and combinations, parses the URLs and fills the generated names.
// Returns an error message, or an empty string when the options are usable.
std::string Finalize(BenchOptions* options);

}  // namespace zoomq::bench
