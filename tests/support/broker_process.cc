#include "broker_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "zoomq/proc/files.h"  // MakeTempDir, RemoveTempDir (tools/proc)

namespace zoomq::testing {

int64_t MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

namespace {

zoomq::proc::BrokerCommand CommandFor(const BrokerOptions& options, const std::string& dir) {
  zoomq::proc::BrokerCommand c;
  c.id = options.id;
  c.dir = dir;
  c.args = options.extra_args;
  c.banner = "zoomq-it";
  if (options.tls) {
    const auto tls_args = options.tls->BrokerArgs();
    c.args.insert(c.args.end(), tls_args.begin(), tls_args.end());
    c.tls = true;
    c.credentials = options.tls->ClientCredentials();
  }
  return c;
}

}  // namespace

BrokerProcess::BrokerProcess(BrokerOptions options)
    : options_(std::move(options)),
      dir_(zoomq::proc::MakeTempDir("zoomq-it")),
      broker_(CommandFor(options_, dir_)) {}

BrokerProcess::~BrokerProcess() {
  Kill();
  const bool failed = ::testing::Test::HasFailure();
  if (failed) {
    std::fprintf(stderr, "---- broker %d log (%s), last bytes ----\n%s\n---- end of log ----\n",
                 options_.id, log_path().c_str(), LogTail(6000).c_str());
  }
  zoomq::proc::RemoveTempDir(dir_);
}

::testing::AssertionResult BrokerProcess::Started(const std::string& error) {
  if (error.empty()) return ::testing::AssertionSuccess();
  if (broker_.Running()) Kill();
  return ::testing::AssertionFailure() << error;
}

::testing::AssertionResult BrokerProcess::Start(milliseconds ready_timeout) {
  if (dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  if (broker_.pid() > 0) return ::testing::AssertionFailure() << "already running";
  return Started(broker_.StartOnFreePort(ready_timeout));
}

::testing::AssertionResult BrokerProcess::Restart(milliseconds ready_timeout) {
  if (broker_.pid() > 0) return ::testing::AssertionFailure() << "still running";
  return Started(broker_.Restart(ready_timeout));
}

bool BrokerProcess::Running() { return broker_.Running(); }

void BrokerProcess::Kill() { broker_.Kill(); }

std::optional<int> BrokerProcess::Term(milliseconds timeout) {
  if (broker_.pid() <= 0) return std::nullopt;
  auto status = broker_.Term(timeout);  // SIGKILLed at the deadline
  if (status && WIFEXITED(*status)) return WEXITSTATUS(*status);
  return std::nullopt;
}

// ---- HTTP ----

std::string HttpResponse::header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  }
  return "";
}

std::string HttpResponse::error_code() const {
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
  const auto& e = body["error"];
  if (!e.contains("code") || !e["code"].is_string()) return "";
  return e["code"].get<std::string>();
}

std::string HttpResponse::error_message() const {
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
  const auto& e = body["error"];
  if (!e.contains("message") || !e["message"].is_string()) return "";
  return e["message"].get<std::string>();
}

std::string HttpResponse::Describe() const {
  if (status == 0) return "no HTTP answer: " + httplib::to_string(error);
  std::string b = raw.size() > 600 ? raw.substr(0, 600) + "..." : raw;
  return "HTTP " + std::to_string(status) + " [" + header("Content-Type") + "] " + b;
}

HttpResponse ToResponse(const httplib::Result& result) {
  HttpResponse r;
  r.error = result.error();
  if (!result) return r;
  r.status = result->status;
  r.raw = result->body;
  r.headers = result->headers;
  r.body = Json::parse(r.raw, nullptr, false);
  r.is_json = !r.body.is_discarded();
  if (!r.is_json) r.body = Json();
  return r;
}

Http::Http(int port, milliseconds read_timeout)
    : Http("http://127.0.0.1:" + std::to_string(port), {}, read_timeout) {}

Http::Http(const std::string& base_url, const net::ClientCredentials& credentials,
           milliseconds read_timeout)
    : client_(net::MakeHttpClient(base_url, credentials)) {
  IgnoreSigpipe();
  client_->set_connection_timeout(std::chrono::seconds(5));
  client_->set_read_timeout(read_timeout);
  client_->set_write_timeout(std::chrono::seconds(30));
}

HttpResponse Http::Get(const std::string& path) { return ToResponse(client_->Get(path)); }
HttpResponse Http::Delete(const std::string& path) { return ToResponse(client_->Delete(path)); }
HttpResponse Http::Post(const std::string& path, const Json& body) {
  return PostRaw(path, body.dump());
}
HttpResponse Http::Put(const std::string& path, const Json& body) {
  return PutRaw(path, body.dump());
}
HttpResponse Http::PostRaw(const std::string& path, const std::string& body,
                           const std::string& content_type) {
  return ToResponse(client_->Post(path, body, content_type));
}
HttpResponse Http::PutRaw(const std::string& path, const std::string& body,
                          const std::string& content_type) {
  return ToResponse(client_->Put(path, body, content_type));
}
HttpResponse Http::Patch(const std::string& path, const std::string& body) {
  return ToResponse(client_->Patch(path, body, "application/json"));
}
void Http::Stop() { client_->stop(); }

// ---- API helpers ----

HttpResponse CreateTopic(Http& http, const std::string& name, Json extra) {
  Json body = std::move(extra);
  body["name"] = name;
  return http.Post("/v1/topics", body);
}

HttpResponse Produce(Http& http, const std::string& topic, const Json& messages) {
  return http.Post("/v1/topics/" + topic + "/messages", Json{{"messages", messages}});
}

HttpResponse ReadStream(Http& http, const std::string& topic, int partition, int64_t from, int max,
                        int wait_ms) {
  return http.Get("/v1/topics/" + topic + "/partitions/" + std::to_string(partition) +
                  "/messages?from=" + std::to_string(from) + "&max=" + std::to_string(max) +
                  "&wait_ms=" + std::to_string(wait_ms));
}

HttpResponse Pull(Http& http, const std::string& topic, const std::string& group,
                  const std::string& consumer, int max, int wait_ms, int visibility_ms) {
  std::string path = "/v1/topics/" + topic + "/groups/" + group + "/messages";
  std::vector<std::string> params;
  if (!consumer.empty()) params.push_back("consumer=" + consumer);
  if (max > 0) params.push_back("max=" + std::to_string(max));
  if (wait_ms > 0) params.push_back("wait_ms=" + std::to_string(wait_ms));
  if (visibility_ms > 0) params.push_back("visibility_ms=" + std::to_string(visibility_ms));
  for (size_t i = 0; i < params.size(); ++i) path += (i == 0 ? "?" : "&") + params[i];
  return http.Get(path);
}

HttpResponse GroupVerb(Http& http, const std::string& topic, const std::string& group,
                       const std::string& verb, const std::vector<std::string>& ids, Json extra) {
  Json body = std::move(extra);
  body["ids"] = ids;
  return http.Post("/v1/topics/" + topic + "/groups/" + group + "/" + verb, body);
}

int64_t HighWatermark(Http& http, const std::string& topic, int partition) {
  auto r = ReadStream(http, topic, partition, 0, 1, 0);
  if (r.status != 200 || !r.body.is_object() || !r.body.contains("high_watermark") ||
      !r.body["high_watermark"].is_number_integer()) {
    return -1;
  }
  return r.body["high_watermark"].get<int64_t>();
}

int PartitionCount(Http& http, const std::string& topic) {
  auto r = http.Get("/v1/cluster");
  if (r.status != 200 || !r.body.is_object() || !r.body.contains("topics")) return -1;
  for (const auto& t : r.body["topics"]) {
    if (t.is_object() && t.value("name", "") == topic && t.contains("partitions") &&
        t["partitions"].is_array()) {
      return static_cast<int>(t["partitions"].size());
    }
  }
  return -1;
}

std::vector<Json> ReadAll(Http& http, const std::string& topic, int partition, int64_t from) {
  std::vector<Json> out;
  for (int guard = 0; guard < 100000; ++guard) {
    auto r = ReadStream(http, topic, partition, from, 1000, 0);
    if (r.status != 200 || !r.body.contains("messages") || !r.body["messages"].is_array()) break;
    const auto& msgs = r.body["messages"];
    if (msgs.empty()) break;
    for (const auto& m : msgs) out.push_back(m);
    from = msgs.back().value("offset", from) + 1;
  }
  return out;
}

std::vector<std::string> TopicNames(Http& http) {
  std::vector<std::string> names;
  auto r = http.Get("/v1/topics");
  if (r.status != 200) return names;
  const Json* list = &r.body;
  if (r.body.is_object() && r.body.contains("topics")) list = &r.body["topics"];
  if (!list->is_array()) return names;
  for (const auto& t : *list) {
    if (t.is_string()) {
      names.push_back(t.get<std::string>());
    } else if (t.is_object() && t.contains("name") && t["name"].is_string()) {
      names.push_back(t["name"].get<std::string>());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> IdsOf(const Json& messages) {
  std::vector<std::string> ids;
  if (!messages.is_array()) return ids;
  for (const auto& m : messages) {
    if (m.is_object() && m.contains("id") && m["id"].is_string()) {
      ids.push_back(m["id"].get<std::string>());
    }
  }
  return ids;
}

int64_t AffectedCount(const Json& body) {
  for (const char* key : {"acked", "nacked", "extended"}) {
    if (body.is_object() && body.contains(key) && body[key].is_number_integer()) {
      return body[key].get<int64_t>();
    }
  }
  return -1;
}

std::string Base64Encode(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::string name = prefix;
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) {
    name += "_";
    name += info->name();
  }
  name += "_" + std::to_string(counter.fetch_add(1));
  for (char& c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (name.size() > 150) name = name.substr(name.size() - 150);
  if (name[0] == '.') name[0] = '_';
  return name;
}

::testing::AssertionResult IsStatus(const HttpResponse& response, int status) {
  if (response.status == status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected HTTP " << status << ", got " << response.Describe();
}

::testing::AssertionResult IsError(const HttpResponse& response, int status,
                                   const std::string& code) {
  if (response.status != status) {
    return ::testing::AssertionFailure()
           << "expected HTTP " << status << " " << code << ", got " << response.Describe();
  }
  if (response.error_code() != code) {
    return ::testing::AssertionFailure()
           << "expected error.code " << code << ", got " << response.Describe();
  }
  if (response.header("Content-Type").rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure()
           << "expected Content-Type application/json, got " << response.Describe();
  }
  if (response.error_message().empty()) {
    return ::testing::AssertionFailure()
           << "expected a non-empty error.message, got " << response.Describe();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace zoomq::testing
