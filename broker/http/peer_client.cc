#include "broker/http/peer_client.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>

#include "broker/http/codec.h"
#include "zoomq/common/api_codec.h"
#include "zoomq/common/error_json.h"

namespace zoomq::broker::http {

using SteadyClock = std::chrono::steady_clock;

// Idle keep-alive connections to other brokers, one per request in flight (an httplib Client
// serializes its requests). A connection idle for longer than kMaxIdle is dropped rather than
// reused: the other broker closes idle connections after its keep-alive timeout (1 s by
// default), and a request sent into a closing connection fails. Over TLS, reuse also spares a
// handshake (about 5 ms) per request.
class PeerClientPool {
 public:
  static constexpr auto kMaxIdle = std::chrono::milliseconds(500);
  static constexpr size_t kMaxIdlePerUrl = 64;

  explicit PeerClientPool(net::ClientCredentials credentials)
      : credentials_(std::move(credentials)) {}

  std::unique_ptr<httplib::Client> Acquire(const std::string& url) {
    std::unique_ptr<httplib::Client> stale;  // closed outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& idle = idle_[url];
      const auto now = SteadyClock::now();
      while (!idle.empty()) {
        Idle last = std::move(idle.back());
        idle.pop_back();
        if (now - last.since < kMaxIdle) return std::move(last.client);
        stale = std::move(last.client);
        idle.clear();  // everything below `last` is older still
      }
    }
    auto c = net::MakeHttpClient(url, credentials_);
    c->set_connection_timeout(1, 0);
    c->set_write_timeout(10, 0);
    return c;
  }

  void Release(const std::string& url, std::unique_ptr<httplib::Client> c) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[url];
    if (idle.size() >= kMaxIdlePerUrl) return;
    idle.push_back({std::move(c), SteadyClock::now()});
  }

 private:
  struct Idle {
    std::unique_ptr<httplib::Client> client;
    SteadyClock::time_point since;
  };
  const net::ClientCredentials credentials_;
  std::mutex mu_;
  std::map<std::string, std::vector<Idle>> idle_;  // most recently used last
};

namespace {

struct Answer {
  int status = 0;
  std::string body;
};

// One request to another broker: its answer when it is 2xx, else its error as a Status (or
// UNAVAILABLE naming the broker when it did not answer).
// `principal`: the caller a forwarded request acts for ("" for none).
Result<Answer> Call(std::shared_ptr<PeerClientPool> pool, const std::string& principal,
                    const std::string& url, const char* method, const std::string& target,
                    const std::string& body, TimeMs timeout_ms) {
  auto client = pool->Acquire(url);
  const TimeMs t = std::max<TimeMs>(timeout_ms, 1000);
  client->set_read_timeout(t / 1000, (t % 1000) * 1000);
  httplib::Headers headers = {{kForwardedHeader, "1"}};
  if (!principal.empty()) headers.emplace(kPrincipalHeader, principal);
  const std::string method_name = method;
  httplib::Result res = [&] {
    if (method_name == "GET") return client->Get(target, headers);
    if (method_name == "POST") return client->Post(target, headers, body, "application/json");
    if (method_name == "PUT") return client->Put(target, headers, body, "application/json");
    return client->Delete(target, headers);
  }();
  if (!res) {
    const std::string error = net::ErrorText(res.error(), url.starts_with("https://"));
    spdlog::debug("forward {} {}{} failed: {}", method, url, target, error);
    return Status::Unavailable("broker at " + url + " did not answer: " + error);
  }
  Answer a{res->status, std::move(res->body)};
  pool->Release(url, std::move(client));
  if (Status st = StatusOfAnswer(a.status, a.body); !st.ok()) return st;
  return a;
}

// An answer that does not have its shape: the broker is not answering as a broker should.
Status Garbled(const std::string& url, const Status& st) {
  return Status::Unavailable("broker at " + url + " did not answer: " + st.message());
}

template <typename T>
Result<T> Named(const std::string& url, Result<T> r) {
  if (!r.ok()) return Garbled(url, r.status());
  return r;
}

std::string GroupPath(const std::string& topic, const std::string& group) {
  return "/v1/topics/" + topic + "/groups/" + group;
}

}  // namespace

HttpPeerClient::HttpPeerClient(net::ClientCredentials credentials)
    : pool_(std::make_shared<PeerClientPool>(std::move(credentials))) {}

HttpPeerClient HttpPeerClient::As(const std::string& principal) const {
  HttpPeerClient c(*this);
  c.principal_ = principal;
  return c;
}

HttpPeerClient::~HttpPeerClient() = default;

Result<std::vector<ProduceResult>> HttpPeerClient::Produce(
    const std::string& url, const std::string& topic,
    const std::vector<const ProduceMessage*>& messages, TimeMs timeout_ms) {
  auto a = Call(pool_, principal_, url, "POST", "/v1/topics/" + topic + "/messages",
                EncodeProduce(messages), timeout_ms);
  if (!a.ok()) return a.status();
  return Named(url, api::DecodeProduceResults(a->body));
}

Result<cluster::PeerPullAnswer> HttpPeerClient::Pull(const std::string& url,
                                                     const cluster::PeerPull& pull,
                                                     TimeMs timeout_ms) {
  std::string target = GroupPath(pull.topic, pull.group) +
                       "/messages?max=" + std::to_string(pull.max) +
                       "&wait_ms=0&consumer=" + pull.consumer;
  if (pull.visibility) target += "&visibility_ms=" + std::to_string(*pull.visibility);
  auto a = Call(pool_, principal_, url, "GET", target, "", timeout_ms);
  if (!a.ok()) return a.status();
  cluster::PeerPullAnswer out;
  auto msgs = DecodeMessages(a->body, &out.in_flight, nullptr);
  if (!msgs.ok()) return Garbled(url, msgs.status());
  out.messages = std::move(msgs).value();
  return out;
}

Result<size_t> HttpPeerClient::InFlight(const std::string& url, const std::string& topic,
                                        const std::string& group, const std::string& consumer,
                                        TimeMs timeout_ms) {
  auto a =
      Call(pool_, principal_, url, "GET",
           "/internal/v1/in_flight?topic=" + topic + "&group=" + group + "&consumer=" + consumer,
           "", timeout_ms);
  if (!a.ok()) return a.status();
  auto j = nlohmann::json::parse(a->body, nullptr, false);
  if (!j.is_object() || !j.contains("in_flight") || !j["in_flight"].is_number_unsigned()) {
    return Status::Unavailable("broker at " + url + " did not answer: unexpected in_flight answer");
  }
  return j["in_flight"].get<size_t>();
}

Result<AckResult> HttpPeerClient::Lease(const std::string& url, const cluster::PeerLease& lease,
                                        TimeMs timeout_ms) {
  nlohmann::json req = {{"ids", lease.ids}};
  if (const char* field = LeaseVerbNumberField(lease.verb); field && lease.number) {
    req[field] = *lease.number;
  }
  auto a = Call(pool_, principal_, url, "POST",
                GroupPath(lease.topic, lease.group) + "/" + LeaseVerbPath(lease.verb),
                req.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), timeout_ms);
  if (!a.ok()) return a.status();
  return Named(url, api::DecodeAck(a->body, LeaseVerbDone(lease.verb)));
}

Result<GroupInfo> HttpPeerClient::DescribeGroup(const std::string& url, const std::string& topic,
                                                const std::string& group, TimeMs timeout_ms) {
  auto a = Call(pool_, principal_, url, "GET", GroupPath(topic, group), "", timeout_ms);
  if (!a.ok()) return a.status();
  return Named(url, api::DecodeGroup(a->body));
}

Result<bool> HttpPeerClient::CreateGroup(const std::string& url, const std::string& topic,
                                         const std::string& group, bool latest, TimeMs timeout_ms) {
  auto a = Call(pool_, principal_, url, "PUT", GroupPath(topic, group),
                latest ? R"({"start":"latest"})" : R"({"start":"earliest"})", timeout_ms);
  if (!a.ok()) return a.status();
  return a->status == 201;
}

Result<StreamRead> HttpPeerClient::Read(const std::string& url, const cluster::PeerRead& read,
                                        TimeMs timeout_ms) {
  auto a = Call(pool_, principal_, url, "GET",
                "/v1/topics/" + read.topic + "/partitions/" + std::to_string(read.partition) +
                    "/messages?from=" + std::to_string(read.from) +
                    "&max=" + std::to_string(read.max) + "&wait_ms=" + std::to_string(read.wait_ms),
                "", timeout_ms);
  if (!a.ok()) return a.status();
  StreamRead out;
  auto msgs = DecodeMessages(a->body, nullptr, &out);
  if (!msgs.ok()) return Garbled(url, msgs.status());
  out.messages.reserve(msgs->size());
  for (DeliveredMessage& m : msgs.value()) out.messages.push_back(std::move(m.message));
  return out;
}

Result<CreateOutcome> HttpPeerClient::CreateTopic(const std::string& url, const TopicSpec& spec,
                                                  TimeMs timeout_ms) {
  auto a = Call(pool_, principal_, url, "POST", "/v1/topics",
                spec.ToJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                timeout_ms);
  if (!a.ok()) return a.status();
  auto t = api::DecodeTopic(a->body);
  if (!t.ok()) return Garbled(url, t.status());
  return CreateOutcome{a->status == 201, ServiceTopic(t.value())};
}

Status HttpPeerClient::DeleteTopic(const std::string& url, const std::string& topic,
                                   TimeMs timeout_ms) {
  return Call(pool_, principal_, url, "DELETE", "/v1/topics/" + topic, "", timeout_ms).status();
}

Status HttpPeerClient::ControlledShutdown(const std::string& url, int32_t broker,
                                          TimeMs timeout_ms) {
  return Call(pool_, principal_, url, "POST",
              "/internal/v1/controlled_shutdown?broker=" + std::to_string(broker), "", timeout_ms)
      .status();
}

}  // namespace zoomq::broker::http
