#include "zoomq/bench/options.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <map>

#include "zoomq/bench/amqp_runner.h"
#include "zoomq/bench/redis_runner.h"
#include "zoomq/tools/security_flags.h"

namespace zoomq::bench {

std::string_view ModeName(Mode mode) {
  switch (mode) {
    case Mode::kProduce:
      return "produce";
    case Mode::kConsume:
      return "consume";
    case Mode::kBoth:
      return "both";
    case Mode::kRate:
      return "rate";
  }
  return "?";
}

std::string_view IdleKindName(IdleKind kind) { return kind == IdleKind::kSse ? "sse" : "longpoll"; }

std::string Endpoint::ToString() const {
  return (tls ? "https://" : "http://") + host + ":" + std::to_string(port);
}

std::optional<Endpoint> ParseEndpoint(std::string_view url, std::string* error) {
  const bool tls = url.starts_with("https://");
  const std::string_view scheme = tls ? "https://" : "http://";
  if (url.substr(0, scheme.size()) != scheme) {
    *error = "url '" + std::string(url) + "' must start with http:// or https://";
    return std::nullopt;
  }
  std::string_view rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
    *error = "url '" + std::string(url) + "' must be " + std::string(scheme) + "HOST:PORT";
    return std::nullopt;
  }
  Endpoint endpoint;
  endpoint.tls = tls;
  endpoint.host = std::string(rest.substr(0, colon));
  std::string_view port = rest.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), endpoint.port);
  if (ec != std::errc() || ptr != port.data() + port.size() || endpoint.port < 1 ||
      endpoint.port > 65535 || endpoint.host.find('/') != std::string::npos) {
    *error = "url '" + std::string(url) + "' has a bad port or host";
    return std::nullopt;
  }
  return endpoint;
}

void AddFlags(CLI::App& app, BenchOptions* o) {
  app.add_option("--url", o->urls, "Broker base URL(s); repeat or comma-separate")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--topic", o->topic, "Topic to use (created if missing); default: unique name");
  app.add_option("--partitions", o->partitions, "Partitions of a created topic")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--messages,-n", o->messages, "Messages to produce / consume / send")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--size,-s", o->size, "Bytes of each message value (a JSON string)")
      ->check(CLI::Range(1, 16 << 20))
      ->capture_default_str();
  app.add_option("--batch,-b", o->batch, "Messages per produce request")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--connections,-c", o->connections,
                 "Producer threads, each with one keep-alive connection")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--consumers,-g", o->consumers, "Group consumers (threads, one connection each)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--pull-max", o->pull_max, "max= of each group pull")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--pull-wait-ms", o->pull_wait_ms, "wait_ms= of each group pull")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--visibility-ms", o->visibility_ms, "visibility_ms= of each group pull")
      ->check(CLI::Range(1, 43200000))
      ->capture_default_str();
  app.add_option("--group", o->group, "Consumer group; default: unique name");
  static const std::map<std::string, Mode> kModes{{"produce", Mode::kProduce},
                                                  {"consume", Mode::kConsume},
                                                  {"both", Mode::kBoth},
                                                  {"rate", Mode::kRate}};
  app.add_option("--mode", o->mode, "produce|consume|both|rate")
      ->transform(CLI::CheckedTransformer(kModes, CLI::ignore_case))
      ->default_str("produce");
  app.add_flag("--concurrent", o->concurrent, "--mode both: consume while producing");
  app.add_option("--rate,-r", o->rate, "--mode rate: messages per second (open loop)")
      ->check(CLI::Range(0.001, 1e7))
      ->capture_default_str();
  app.add_option("--duration-s", o->duration_s, "Hard upper bound of the whole run, seconds")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  app.add_flag("--json", o->json, "Print the report as one JSON object");
  app.add_flag("--ids", o->ids, "Give every message an idempotency id");
  app.add_option("--retries", o->retries, "Retries per request on 429/503")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  app.add_option("--idle-waiters", o->idle_waiters,
                 "Idle long-polls (or SSE streams) held open on another topic during the run")
      ->check(CLI::Range(0, 20000))
      ->capture_default_str();
  static const std::map<std::string, IdleKind> kIdleKinds{{"longpoll", IdleKind::kLongPoll},
                                                          {"sse", IdleKind::kSse}};
  app.add_option("--idle-kind", o->idle_kind, "longpoll|sse")
      ->transform(CLI::CheckedTransformer(kIdleKinds, CLI::ignore_case))
      ->default_str("longpoll");
  app.add_option_function<std::string>(
         "--client",
         [o](const std::string& v) {
           if (v != "http" && v != "sdk" && v != "redis" && v != "amqp") {
             throw CLI::ValidationError("--client", "http|sdk|redis|amqp");
           }
           o->sdk = v == "sdk";
           o->redis = v == "redis";
           o->amqp = v == "amqp";
         },
         "http (raw requests, default) | sdk (zoomq::Producer; --mode produce) | redis (Redis "
         "Streams at --url redis://HOST:PORT) | amqp (a RabbitMQ quorum queue at --url "
         "amqp://HOST:PORT); docs/benchmarks.md")
      ->default_str("http");
  app.add_option("--linger-ms", o->linger_ms, "--client sdk: ProducerOptions::linger")
      ->check(CLI::Range(0, 10000));
  app.add_option("--sdk-batch", o->sdk_batch, "--client sdk: ProducerOptions::batch_messages")
      ->check(CLI::Range(1, 100000));
  app.add_option("--idle-wait-ms", o->idle_wait_ms, "wait_ms= of each idle long-poll")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  tools::AddSecurityFlags(app, &o->security);
}

// --client redis|amqp: the one --url, SCHEME://HOST:PORT, into *host and *port.
static std::string FinalizePeer(BenchOptions* o, const std::string& client, bool built,
                                std::string* host, int* port) {
  if (!built) {
    return "--client " + client + ": this zoomq-bench was built without its client library " +
           "(scripts/deps.sh compare)";
  }
  const std::string scheme = client + "://";
  const std::string usage = "--client " + client + " takes one --url " + scheme + "HOST:PORT";
  if (o->urls.size() != 1) return usage;
  const std::string& url = o->urls.front();
  const size_t colon = url.rfind(':');
  if (!url.starts_with(scheme) || colon == std::string::npos || colon <= scheme.size()) {
    return usage + ", not '" + url + "'";
  }
  *host = url.substr(scheme.size(), colon - scheme.size());
  const std::string digits = url.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *port);
  if (ec != std::errc() || end != digits.data() + digits.size() || *port < 1 || *port > 65535) {
    return usage + ", not '" + url + "'";
  }
  if (o->mode == Mode::kRate)
    return "--client " + client + " goes with --mode produce, consume or both";
  if (o->idle_waiters > 0) return "--client " + client + " has no --idle-waiters";
  return "";
}

std::string Finalize(BenchOptions* o) {
  if (o->urls.empty()) return "at least one --url is needed";
  o->endpoints.clear();
  if (o->redis) {
    std::string error =
        FinalizePeer(o, "redis", RedisDriverBuilt(), &o->redis_host, &o->redis_port);
    if (!error.empty()) return error;
  }
  if (o->amqp) {
    std::string error = FinalizePeer(o, "amqp", AmqpDriverBuilt(), &o->amqp_host, &o->amqp_port);
    if (!error.empty()) return error;
  }
  const bool peer = o->redis || o->amqp;
  for (const std::string& url : peer ? std::vector<std::string>{} : o->urls) {
    std::string error;
    std::optional<Endpoint> endpoint = ParseEndpoint(url, &error);
    if (!endpoint) return error;
    endpoint->credentials = {o->security.token, o->security.ca_file, o->security.cert_file,
                             o->security.key_file};
    o->endpoints.push_back(*endpoint);
  }
  if (o->mode == Mode::kRate) o->batch = 1;
  if (o->sdk && o->mode != Mode::kProduce) return "--client sdk goes with --mode produce";
  if (o->mode == Mode::kConsume && o->topic.empty()) {
    return "--mode consume needs --topic (an existing topic holding the messages)";
  }
  if (o->run_id.empty()) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    o->run_id = std::to_string(ms) + "-" + std::to_string(::getpid());
  }
  o->topic_given = !o->topic.empty();
  if (o->topic.empty()) o->topic = "bench-" + o->run_id;
  if (o->group.empty()) o->group = "bench-g-" + o->run_id;
  if (o->topic.size() > 180) return "--topic is too long";
  return "";
}

}  // namespace zoomq::bench
