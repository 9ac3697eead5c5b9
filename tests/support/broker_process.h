// Test harness for integration tests: runs a real zoomq-broker process on a free loopback
// port with its own temp dir (a BrokerChild, tools/proc), as gtest assertions, and talks to
// it over HTTP.
//
// Thread-safety: a BrokerProcess is used from the test's main thread only (Start/Restart set
// PR_SET_PDEATHSIG, which is tied to the forking thread). A Http object serializes its own
// requests; use one per thread.

#ifndef ZOOMQ_TESTS_INTEGRATION_BROKER_PROCESS_H_
#define ZOOMQ_TESTS_INTEGRATION_BROKER_PROCESS_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "test_certs.h"  // TlsSetup
#include "zoomq/net/http_client.h"
#include "zoomq/proc/broker_child.h"  // BrokerChild (tools/proc)
#include "zoomq/proc/ports.h"
#include "zoomq/proc/wait.h"

namespace zoomq::testing {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// The process-level pieces (tools/proc), under the names the tests use.
using zoomq::proc::IgnoreSigpipe;
using zoomq::proc::PickFreePort;    // a free loopback port
using zoomq::proc::WaitFor;         // poll a predicate until a deadline

// Milliseconds elapsed since `start`.
int64_t MillisSince(Clock::time_point start);

struct BrokerOptions {
  int id = 1;
  // Extra command-line flags, e.g. {"--retention-check-ms", "100"}.
  std::vector<std::string> extra_args;
  // Set: the broker serves HTTPS with these files (its url() is https://), and Http(broker)
  // speaks HTTPS to it with the setup's client credentials.
  std::optional<TlsSetup> tls = std::nullopt;
};

// One broker process. The destructor SIGKILLs it if still running and removes the temp dir
// (kept when env ZOOMQ_IT_KEEP is set). On a failed test the log tail is printed.
class BrokerProcess {
 public:
  explicit BrokerProcess(BrokerOptions options = {});
  ~BrokerProcess();
  BrokerProcess(const BrokerProcess&) = delete;
  BrokerProcess& operator=(const BrokerProcess&) = delete;

  // Picks a port, starts the broker and waits for GET /v1/health == 200. Retries with another
  // port if the broker exits before becoming ready (a port race with another process).
  ::testing::AssertionResult Start(milliseconds ready_timeout = milliseconds(15000));
  // Starts again on the same port and data dir.
  ::testing::AssertionResult Restart(milliseconds ready_timeout = milliseconds(15000));
  // SIGKILL and reap.
  void Kill();
  // SIGTERM, then waits up to `timeout` for exit. Returns the exit code, or nullopt if it did
  // not exit in time (then it is SIGKILLed) or died from a signal.
  std::optional<int> Term(milliseconds timeout = milliseconds(10000));
  // True while the process has not been reaped.
  bool Running();

  int port() const { return broker_.port(); }
  int id() const { return options_.id; }
  pid_t pid() const { return broker_.pid(); }
  const std::string& dir() const { return dir_; }
  std::string data_dir() const { return broker_.data_dir(); }
  std::string log_path() const { return broker_.log_path(); }
  std::string url() const { return broker_.url(); }
  // What the test's clients present to and trust in this broker (empty without TLS).
  const net::ClientCredentials& client_credentials() const { return broker_.credentials(); }
  std::string LogTail(size_t max_bytes = 4000) const { return broker_.LogTail(max_bytes); }

 private:
  // A broker still running after a failed start did not answer in time: it goes.
  ::testing::AssertionResult Started(const std::string& error);

  BrokerOptions options_;
  std::string dir_;
  zoomq::proc::BrokerChild broker_;
};

struct HttpResponse {
  int status = 0;  // 0: no HTTP answer (see `error`)
  httplib::Error error = httplib::Error::Unknown;
  std::string raw;  // body as received
  Json body;        // parsed body, or null if it is not JSON
  bool is_json = false;
  httplib::Headers headers;

  std::string header(const std::string& name) const;
  // body["error"]["code"] or "" when absent.
  std::string error_code() const;
  std::string error_message() const;
  // For failure messages.
  std::string Describe() const;
};

// A keep-alive, no-delay HTTP client for one broker. Not thread-safe: one per thread.
class Http {
 public:
  // Plain HTTP to 127.0.0.1:port.
  explicit Http(int port, milliseconds read_timeout = milliseconds(30000));
  // `base_url` ("https://127.0.0.1:9101") with `credentials` (net::MakeHttpClient).
  Http(const std::string& base_url, const net::ClientCredentials& credentials,
       milliseconds read_timeout = milliseconds(30000));
  explicit Http(const BrokerProcess& broker, milliseconds read_timeout = milliseconds(30000))
      : Http(broker.url(), broker.client_credentials(), read_timeout) {}

  HttpResponse Get(const std::string& path);
  HttpResponse Delete(const std::string& path);
  HttpResponse Post(const std::string& path, const Json& body);
  HttpResponse Put(const std::string& path, const Json& body);
  HttpResponse PostRaw(const std::string& path, const std::string& body,
                       const std::string& content_type = "application/json");
  HttpResponse PutRaw(const std::string& path, const std::string& body,
                      const std::string& content_type = "application/json");
  HttpResponse Patch(const std::string& path, const std::string& body);

  // Shuts the socket down (from another thread) to end a request in flight.
  void Stop();
  httplib::Client& client() { return *client_; }

 private:
  std::unique_ptr<httplib::Client> client_;
};

// Builds an HttpResponse from an httplib result.
HttpResponse ToResponse(const httplib::Result& result);

// ---- Small API helpers (each returns the raw response; callers assert on it). ----

// POST /v1/topics with {"name": name, ...extra}.
HttpResponse CreateTopic(Http& http, const std::string& name, Json extra = Json::object());
// POST /v1/topics/{topic}/messages {"messages": messages}.
HttpResponse Produce(Http& http, const std::string& topic, const Json& messages);
// GET /v1/topics/{topic}/partitions/{p}/messages?from=&max=&wait_ms=
HttpResponse ReadStream(Http& http, const std::string& topic, int partition, int64_t from,
                        int max = 1000, int wait_ms = 0);
// GET /v1/topics/{topic}/groups/{group}/messages?consumer=&max=&wait_ms=&visibility_ms=
// Parameters <= 0 (or empty consumer) are left out.
HttpResponse Pull(Http& http, const std::string& topic, const std::string& group,
                  const std::string& consumer, int max, int wait_ms, int visibility_ms = 0);
// POST .../groups/{group}/{verb} with {"ids": ids, ...extra}; verb: ack | nack | extend.
HttpResponse GroupVerb(Http& http, const std::string& topic, const std::string& group,
                       const std::string& verb, const std::vector<std::string>& ids,
                       Json extra = Json::object());

// The high watermark of a partition (via stream read), or -1 on error.
int64_t HighWatermark(Http& http, const std::string& topic, int partition);
// Number of partitions of `topic` as reported by GET /v1/cluster, or -1.
int PartitionCount(Http& http, const std::string& topic);
// Reads every message of one partition from `from` up to the high watermark.
std::vector<Json> ReadAll(Http& http, const std::string& topic, int partition, int64_t from = 0);
// Topic names from GET /v1/topics (accepts a list of names or of objects with "name", bare or
// under "topics"). Sorted.
std::vector<std::string> TopicNames(Http& http);
// Ids ("p-o") of a list of messages.
std::vector<std::string> IdsOf(const Json& messages);
// Count of affected ids in an ack/nack/extend answer ("acked", or "nacked"/"extended").
int64_t AffectedCount(const Json& body);

// Standard base64 (with padding) of `bytes`.
std::string Base64Encode(const std::string& bytes);

// A unique name for this test (test name + counter), valid as a topic name.
std::string UniqueName(const std::string& prefix);

// gtest helper: status code and (for errors) error.code and a JSON Content-Type.
::testing::AssertionResult IsStatus(const HttpResponse& response, int status);
::testing::AssertionResult IsError(const HttpResponse& response, int status,
                                   const std::string& code);

}  // namespace zoomq::testing

#endif  // ZOOMQ_TESTS_INTEGRATION_BROKER_PROCESS_H_
