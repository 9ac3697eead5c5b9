#include "broker/http/http_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <chrono>
#include <regex>
#include <set>

#include "broker/http/codec.h"
#include "broker/http/metrics.h"
#include "broker/http/peer_client.h"
#include "broker/http/peer_transport.h"
#include "broker/http/reply.h"
#include "broker/http/tls_identity.h"
#include "broker/http/sse.h"
#include "zoomq/common/api_codec.h"
#include "zoomq/common/error_json.h"
#include "zoomq/common/names.h"

namespace zoomq::broker::http {

using nlohmann::json;

namespace {

// The longest visibility (lease) and nack delay a request may ask for: 12 hours.
constexpr int64_t kMaxLeaseDelayMs = 43'200'000;
const std::string kName = "([^/]+)";

std::optional<std::string> Param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  return req.get_param_value(name);
}

// Route paths, to tell "no such route" (404) from "wrong method" (405).
const std::vector<std::regex>& KnownPaths() {
  static const std::vector<std::regex> paths = [] {
    std::vector<std::regex> v;
    for (const char* p :
         {"/v1/health", "/v1/cluster", "/metrics", "/v1/topics", "/v1/topics/[^/]+",
          "/v1/topics/[^/]+/messages", "/v1/topics/[^/]+/groups/[^/]+",
          "/v1/topics/[^/]+/groups/[^/]+/(messages|subscribe|ack|nack|extend)",
          "/v1/topics/[^/]+/partitions/[^/]+/messages", "/v1/security/whoami", "/v1/security/users",
          "/v1/security/users/[^/]+", "/v1/security/users/[^/]+/tokens", "/v1/security/tokens",
          "/v1/security/tokens/[^/]+", "/v1/security/acls", "/v1/security/acls/[^/]+"}) {
      v.emplace_back(p);
    }
    return v;
  }();
  return paths;
}

Status NamesOk(const std::string& topic, const std::string* group) {
  ZOOMQ_RETURN_IF_ERROR(ValidateTopicRef(topic));
  if (group) ZOOMQ_RETURN_IF_ERROR(ValidateName(*group, "group"));
  return Status::Ok();
}

bool IsForwarded(const httplib::Request& req) {
  return req.get_header_value(kForwardedHeader) == "1";
}

// Brokers forwarding a pull name its anonymous consumer "anon-..." on every hop.
// visibility_ms (1 ms .. 12 h); nullopt when absent (the topic's visibility timeout applies).
Result<std::optional<TimeMs>> VisibilityParam(const httplib::Request& req) {
  auto text = Param(req, "visibility_ms");
  if (!text) return std::optional<TimeMs>();
  auto vis = ParseNumber(text, "visibility_ms", 1, kMaxLeaseDelayMs, 0);
  if (!vis.ok()) return vis.status();
  return std::optional<TimeMs>(vis.value());
}

Result<std::string> ConsumerParam(const httplib::Request& req) {
  auto c = Param(req, "consumer");
  if (!c) return std::string();
  ZOOMQ_RETURN_IF_ERROR(ValidateName(*c, "consumer"));
  if (c->starts_with("anon-") && !IsForwarded(req)) {
    return Status::Invalid("consumer names starting 'anon-' are reserved");
  }
  return *c;
}

}  // namespace

HttpServer::HttpServer(BrokerService* service, const HttpOptions& options)
    : service_(service), options_(options), metrics_(std::make_unique<Metrics>()) {
  auto listener = MakeListener(options_.tls);
  if (listener.ok()) {
    server_ = std::move(listener).value();
  } else {
    listener_status_ = listener.status();  // Bind() reports it
    server_ = std::make_unique<httplib::Server>();
  }
  const size_t threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(1'000'000);
  server_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
  server_->set_payload_max_length(options_.max_body_bytes);
  server_->set_read_timeout(10);
  server_->set_write_timeout(10);
  server_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    Status st;
    int status = 0;  // the library's own 4xx status, kept; else the code's
    bool known = false;
    for (const auto& re : KnownPaths()) known = known || std::regex_match(req.path, re);
    static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "DELETE"};
    if (res.status == 404 || (res.status == 400 && !(known && kMethods.count(req.method)))) {
      st = known ? Status(Code::kMethodNotAllowed, req.method + " is not allowed on " + req.path)
                 : Status(Code::kNotFound, "no route " + req.method + " " + req.path);
    } else if (res.status == 413) {
      st = Status(Code::kPayloadTooLarge, "request body is over the 16 MiB limit");
    } else if (res.status == 400) {
      st = Status::Invalid("malformed HTTP request");
    } else if (res.status == 414) {
      st = Status::Invalid("the request line is over 8,192 bytes");
      status = 414;
    } else if (res.status > 400 && res.status < 500) {
      st = Status::Invalid("HTTP error " + std::to_string(res.status));
      status = res.status;
    } else {
      st = Status(Code::kInternal, "HTTP error " + std::to_string(res.status));
    }
    Reply(res, status ? status : HttpStatus(st.code()), ErrorBody(st));
  });
  server_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        spdlog::error("unhandled exception on {} {}: {}", req.method, req.path, what);
        Reply(res, 500, ErrorBody(Status::Internal("internal error: " + what)));
      });
  Routes();
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Bind() {
  if (!listener_status_.ok()) return listener_status_;
  // cpp-httplib listens with a backlog of 5: a burst of consumers connecting at once (500
  // long polls) overflowed it and stalled for seconds. Keep the listening socket and listen
  // again with the system's maximum after binding.
  int listen_fd = -1;
  server_->set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd = sock;
  });
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host);
    if (port_ <= 0) return Status::Unavailable("cannot bind " + options_.host);
  } else {
    if (!server_->bind_to_port(options_.host, options_.port)) {
      return Status::Unavailable("cannot bind " + options_.host + ":" +
                                 std::to_string(options_.port));
    }
    port_ = options_.port;
  }
  if (listen_fd >= 0) ::listen(listen_fd, SOMAXCONN);
  return Status::Ok();
}

void HttpServer::Serve() { server_->listen_after_bind(); }

void HttpServer::Stop() {
  if (server_) server_->stop();
}

std::shared_ptr<cluster::Frontend> HttpServer::Fanout(const httplib::Request& req,
                                                      const Identity& who) {
  // Requests another broker forwarded are never forwarded again.
  return IsForwarded(req) ? nullptr : FrontendFor(who);
}

std::shared_ptr<cluster::Frontend> HttpServer::FrontendFor(const Identity& who) {
  cluster::Frontend* shared = frontend_.load();
  if (shared == nullptr) return nullptr;
  if (!security_->enabled() || peers_ == nullptr) {
    return std::shared_ptr<cluster::Frontend>(shared, [](cluster::Frontend*) {});
  }
  // With security on, the calls to other brokers name the caller, who is checked there again.
  struct Acting {
    Acting(const HttpPeerClient& base, const std::string& principal,
           const cluster::Frontend& shared)
        : peers(base.As(principal)), frontend(shared.With(peers)) {}
    HttpPeerClient peers;
    cluster::Frontend frontend;
  };
  auto acting = std::make_shared<Acting>(*peers_, who.principal, *shared);
  return std::shared_ptr<cluster::Frontend>(acting, &acting->frontend);
}

void HttpServer::Routes() {
  httplib::Server& s = *server_;
  using Op = auth::Operation;
  // Every route: who may call it, then its handler, counted and timed under its name in
  // /metrics (refusals included).
  auto route = [this](const char* name, Access access, auto handler) {
    return [this, name, access, handler](const httplib::Request& req, httplib::Response& res) {
      auto start = std::chrono::steady_clock::now();
      Identity who;
      if (Status st = Admit(req, access, &who); !st.ok()) {
        Error(res, st);
      } else if (WithinQuota(name, req, who, res)) {
        handler(req, res, who);
      }
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
      metrics_->Observe(name, res.status, took.count());
    };
  };
  auto member = [this](Handler handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res,
                           const Identity& who) { (this->*handler)(req, res, who); };
  };
  const Access open{Access::kOpen}, anyone{Access::kAuthenticated}, broker{Access::kBroker};
  auto topic = [](Op op) { return Access{Access::kTopic, op}; };
  auto group = [](Op op) { return Access{Access::kGroup, op}; };
  const Access admin{Access::kCluster, Op::kClusterAdmin};
  const std::string group_path = "/v1/topics/" + kName + "/groups/" + kName;
  // Cluster
  s.Get("/v1/health", route("health", open, member(&HttpServer::Health)));
  s.Get("/v1/cluster", route("cluster", anyone, member(&HttpServer::Cluster)));
  s.Get("/metrics", route("metrics", Access{Access::kCluster, Op::kDescribe},
                          member(&HttpServer::MetricsText)));
  // Topics (creation: the handler checks create on the topic or the cluster)
  s.Post("/v1/topics", route("create_topic", anyone, member(&HttpServer::CreateTopic)));
  s.Get("/v1/topics", route("list_topics", anyone, member(&HttpServer::ListTopics)));
  s.Get("/v1/topics/" + kName,
        route("describe_topic", topic(Op::kDescribe), member(&HttpServer::DescribeTopic)));
  s.Delete("/v1/topics/" + kName,
           route("delete_topic", topic(Op::kDelete), member(&HttpServer::DeleteTopic)));
  // Produce
  s.Post("/v1/topics/" + kName + "/messages",
         route("produce", topic(Op::kProduce), member(&HttpServer::Produce)));
  // Groups
  s.Put(group_path, route("create_group", group(Op::kConsume), member(&HttpServer::CreateGroup)));
  s.Get(group_path,
        route("describe_group", group(Op::kDescribe), member(&HttpServer::DescribeGroup)));
  s.Get(group_path + "/messages", route("pull", group(Op::kConsume), member(&HttpServer::Pull)));
  s.Get(group_path + "/subscribe",
        route("subscribe", group(Op::kConsume), member(&HttpServer::Subscribe)));
  for (LeaseVerb verb : {LeaseVerb::kAck, LeaseVerb::kNack, LeaseVerb::kExtend}) {
    s.Post(group_path + "/" + LeaseVerbPath(verb),
           route(LeaseVerbPath(verb), group(Op::kConsume),
                 [this, verb](const httplib::Request& req, httplib::Response& res,
                              const Identity& who) { LeaseVerbs(verb, req, res, who); }));
  }
  // Stream
  s.Get("/v1/topics/" + kName + "/partitions/" + kName + "/messages",
        route("read", topic(Op::kConsume), member(&HttpServer::Read)));
  // Security administration (docs/security.md)
  s.Get("/v1/security/whoami", route("whoami", anyone, member(&HttpServer::WhoAmI)));
  s.Get("/v1/security/users", route("list_users", admin, member(&HttpServer::ListUsers)));
  s.Post("/v1/security/users", route("create_user", admin, member(&HttpServer::CreateUser)));
  s.Delete("/v1/security/users/" + kName,
           route("delete_user", admin, member(&HttpServer::DeleteUser)));
  s.Post("/v1/security/users/" + kName + "/tokens",
         route("issue_token", admin, member(&HttpServer::IssueToken)));
  s.Get("/v1/security/tokens", route("list_tokens", admin, member(&HttpServer::ListTokens)));
  s.Delete("/v1/security/tokens/" + kName,
           route("revoke_token", admin, member(&HttpServer::RevokeToken)));
  s.Get("/v1/security/acls", route("list_acls", admin, member(&HttpServer::ListAcls)));
  s.Post("/v1/security/acls", route("create_acl", admin, member(&HttpServer::CreateAcl)));
  s.Delete("/v1/security/acls/" + kName,
           route("delete_acl", admin, member(&HttpServer::DeleteAcl)));
  // Between brokers (docs/replication.md)
  s.Post("/internal/v1/controlled_shutdown",
         route("internal_controlled_shutdown", broker,
               member(&HttpServer::InternalControlledShutdown)));
  s.Get("/internal/v1/in_flight",
        route("internal_in_flight", broker, member(&HttpServer::InternalInFlight)));
  s.Get("/internal/v1/fetch", route("internal_fetch", broker, member(&HttpServer::InternalFetch)));
  s.Get("/internal/v1/epoch_end",
        route("internal_epoch_end", broker, member(&HttpServer::InternalEpochEnd)));
  s.Get("/internal/v1/log", route("internal_log", broker, member(&HttpServer::InternalLog)));
}

bool HttpServer::WithinQuota(const char* name, const httplib::Request& req, const Identity& who,
                             httplib::Response& res) {
  // Clients with a principal only: brokers' own calls and open routes are never limited.
  // A forwarded request (who.broker set) was counted where the client sent it; the bootstrap
  // admin is never limited (an operator must be able to act on an overloaded cluster).
  if (quotas_ == nullptr || !quotas_->enabled() || who.principal.empty() || who.broker ||
      who.superuser) {
    return true;
  }
  const bool produce = std::string_view(name) == "produce";
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
  int64_t retry_after_s = 1;
  const char* quota = "requests";
  Status st = quotas_->Admit(who.principal, produce ? req.body.size() : 0, now_ms,
                             &retry_after_s, &quota);
  if (st.ok()) return true;
  metrics_->Throttled(who.principal, quota);
  Reply(res, HttpStatus(st.code()), ErrorBody(st));
  res.set_header("Retry-After", std::to_string(retry_after_s));
  return false;
}

Status HttpServer::Admit(const httplib::Request& req, const Access& access, Identity* who) const {
  const auth::SecurityManager& sec = *security_;
  if (access.kind == Access::kOpen || !sec.enabled()) {
    who->superuser = true;
    return Status::Ok();
  }
  auth::Presented presented;
  // Presented holds views: the header strings live here until Authenticate returns.
  const std::string authorization = req.get_header_value("Authorization");
  const std::string on_behalf_of = req.get_header_value(kPrincipalHeader);
  if (req.has_header("Authorization")) presented.authorization = authorization;
  if (req.has_header(kPrincipalHeader)) presented.on_behalf_of = on_behalf_of;
  // Mutual TLS: a verified client certificate names a principal when no token is given.
  presented.certificate_subject = ClientCertificateSubject(req);
  auto identity = sec.Authenticate(presented);
  if (!identity.ok()) return identity.status();
  *who = std::move(identity).value();
  // Only brokers forward: the mark changes how a request is served (never forwarded again,
  // reserved consumer names).
  if (IsForwarded(req) && !who->broker) {
    return Status(Code::kForbidden, "only brokers may send forwarded requests");
  }
  switch (access.kind) {
    case Access::kOpen:
    case Access::kAuthenticated:
      return Status::Ok();
    case Access::kBroker:
      return auth::SecurityManager::RequireBroker(*who);
    case Access::kCluster:
      return sec.Authorize(*who, auth::ResourceType::kCluster, "", access.op);
    case Access::kTopic: {
      const std::string topic = req.matches[1];
      ZOOMQ_RETURN_IF_ERROR(NamesOk(topic, nullptr));
      return sec.Authorize(*who, auth::ResourceType::kTopic, topic, access.op);
    }
    case Access::kGroup: {
      const std::string topic = req.matches[1], group = req.matches[2];
      ZOOMQ_RETURN_IF_ERROR(NamesOk(topic, &group));
      return sec.AuthorizeGroup(*who, topic, group, access.op);
    }
  }
  return Status::Internal("unknown access kind");
}

// --- Cluster -------------------------------------------------------------------------

void HttpServer::Health(const httplib::Request&, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  Status st = svc.health();
  cluster::Frontend* frontend = frontend_.load();
  if (st.ok() && frontend && !frontend->router().ZkConnected()) {
    st = Status::Unavailable("not connected to ZooKeeper");
  }
  if (st.ok() && svc.stopping()) st = Status::Unavailable("broker is shutting down");
  json j = {{"status", st.ok() ? "ok" : "unavailable"},
            {"broker", svc.options().broker_id},
            {"mode", frontend ? "cluster" : "standalone"},
            {"url", svc.options().advertised_url}};
  if (!st.ok()) j["error"] = {{"code", CodeName(st.code())}, {"message", st.message()}};
  Reply(res, st.ok() ? 200 : 503, j);
}

void HttpServer::Cluster(const httplib::Request&, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  const auth::SecurityManager& sec = *security_;
  auto visible = [&](std::vector<zoomq::TopicInfo>& topics) {
    std::erase_if(topics, [&](const zoomq::TopicInfo& t) { return !sec.SeesTopic(who, t.name); });
  };
  if (cluster::Frontend* frontend = frontend_.load()) {
    ClusterInfo v = frontend->router().View();
    visible(v.topics);
    return Reply(res, 200, api::EncodeCluster(v));
  }
  // Standalone: this broker is the whole cluster.
  const int32_t id = svc.options().broker_id;
  ClusterInfo v{id, id, "standalone", {{id, svc.options().advertised_url, true}}, {}};
  for (const TopicInfo& t : svc.ListTopics()) {
    zoomq::TopicInfo topic = ApiTopic(t);
    for (zoomq::PartitionInfo& p : topic.partition_info) {
      p.leader = id;
      p.replicas = {id};
      p.isr = {id};
    }
    v.topics.push_back(std::move(topic));
  }
  visible(v.topics);
  Reply(res, 200, api::EncodeCluster(v));
}

void HttpServer::MetricsText(const httplib::Request&, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  res.status = 200;
  res.set_content(metrics_->Render(svc), "text/plain; version=0.0.4");
}

// --- Topics --------------------------------------------------------------------------

void HttpServer::CreateTopic(const httplib::Request& req, httplib::Response& res,
                             const Identity& who) {
  BrokerService& svc = *service_;
  auto body = ParseObject(req.body);
  if (!body.ok()) return Error(res, body.status());
  auto spec = TopicSpec::FromJson(body.value());
  if (!spec.ok()) return Error(res, spec.status());
  // Create on the topic (its name or a prefix of it), or on the cluster.
  const auth::SecurityManager& sec = *security_;
  if (Status st =
          sec.Authorize(who, auth::ResourceType::kTopic, spec->name, auth::Operation::kCreate);
      !st.ok() &&
      !sec.Authorize(who, auth::ResourceType::kCluster, "", auth::Operation::kCreate).ok()) {
    return Error(res, st);
  }
  auto frontend = FrontendFor(who);
  auto r = frontend ? frontend->CreateTopic(spec.value(), IsForwarded(req))
                    : svc.CreateTopic(spec.value());
  if (!r.ok()) return Error(res, r.status());
  Reply(res, r->created ? 201 : 200, api::EncodeTopic(ApiTopic(r->topic)));
}

void HttpServer::ListTopics(const httplib::Request&, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  std::vector<zoomq::TopicInfo> list;
  for (const TopicInfo& t : svc.ListTopics()) {
    if (security_->SeesTopic(who, t.name)) list.push_back(ApiTopic(t));
  }
  Reply(res, 200, api::EncodeTopicList(list));
}

void HttpServer::DescribeTopic(const httplib::Request& req, httplib::Response& res,
                               const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1];
  if (Status st = NamesOk(topic, nullptr); !st.ok()) return Error(res, st);
  auto r = svc.DescribeTopic(topic);
  if (!r.ok()) return Error(res, r.status());
  Reply(res, 200, api::EncodeTopic(ApiTopic(r.value())));
}

void HttpServer::DeleteTopic(const httplib::Request& req, httplib::Response& res,
                             const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1];
  if (Status st = NamesOk(topic, nullptr); !st.ok()) return Error(res, st);
  auto frontend = FrontendFor(who);
  Status st = frontend ? frontend->DeleteTopic(topic, IsForwarded(req)) : svc.DeleteTopic(topic);
  if (!st.ok()) return Error(res, st);
  res.status = 204;
}

// --- Produce -------------------------------------------------------------------------

void HttpServer::Produce(const httplib::Request& req, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1];
  if (Status st = NamesOk(topic, nullptr); !st.ok()) return Error(res, st);
  auto msgs = ParseProduce(req.body);
  if (!msgs.ok()) return Error(res, msgs.status());
  auto fwd = Fanout(req, who);
  auto r = fwd ? fwd->Produce(topic, std::move(msgs).value())
               : svc.Produce(topic, std::move(msgs).value());
  if (!r.ok()) return Error(res, r.status());
  Reply(res, 200, api::EncodeProduceResults(r.value()));
}

// --- Groups --------------------------------------------------------------------------

void HttpServer::CreateGroup(const httplib::Request& req, httplib::Response& res,
                             const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1], group = req.matches[2];
  if (Status st = NamesOk(topic, &group); !st.ok()) return Error(res, st);
  auto body = ParseObject(req.body, /*allow_empty=*/true);
  if (!body.ok()) return Error(res, body.status());
  bool latest = false;
  if (auto it = body->find("start"); it != body->end()) {
    if (*it == "latest") {
      latest = true;
    } else if (*it != "earliest") {
      return Error(res, Status::Invalid("field 'start' must be \"earliest\" or \"latest\""));
    }
  }
  if (auto fwd = Fanout(req, who)) {
    auto r = fwd->CreateGroup(topic, group, latest);
    if (!r.ok()) return Error(res, r.status());
    return Reply(res, r->created ? 201 : 200, api::EncodeGroup(r->info));
  }
  auto r = svc.CreateGroup(topic, group, latest);
  if (!r.ok()) return Error(res, r.status());
  auto info = svc.DescribeGroup(topic, group);
  if (!info.ok()) return Error(res, info.status());
  Reply(res, r.value() ? 201 : 200, api::EncodeGroup(info.value()));
}

void HttpServer::DescribeGroup(const httplib::Request& req, httplib::Response& res,
                               const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1], group = req.matches[2];
  if (Status st = NamesOk(topic, &group); !st.ok()) return Error(res, st);
  auto fwd = Fanout(req, who);
  auto info = fwd ? fwd->DescribeGroup(topic, group) : svc.DescribeGroup(topic, group);
  if (!info.ok()) return Error(res, info.status());
  Reply(res, 200, api::EncodeGroup(info.value()));
}

void HttpServer::Pull(const httplib::Request& req, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1], group = req.matches[2];
  if (Status st = NamesOk(topic, &group); !st.ok()) return Error(res, st);
  auto consumer = ConsumerParam(req);
  if (!consumer.ok()) return Error(res, consumer.status());
  auto max = ParseNumber(Param(req, "max"), "max", 1, 1000, 100);
  if (!max.ok()) return Error(res, max.status());
  auto wait = ParseNumber(Param(req, "wait_ms"), "wait_ms", 0, 60000, 0);
  if (!wait.ok()) return Error(res, wait.status());
  auto visibility = VisibilityParam(req);
  if (!visibility.ok()) return Error(res, visibility.status());
  // Extension: only the leaders of these partitions are asked (broker/cluster/frontend.h).
  std::set<int32_t> only;
  if (auto list = Param(req, "partitions")) {
    auto parsed = ParsePartitionList(*list);
    if (!parsed.ok()) return Error(res, parsed.status());
    only = std::move(parsed).value();
  }
  if (auto fwd = Fanout(req, who)) {
    static std::atomic<uint64_t> anon{0};
    std::string name = consumer.value();
    // One name on every hop, so the leaders see one consumer.
    if (name.empty()) {
      name = "anon-fwd-" + std::to_string(svc.options().broker_id) + "-" + std::to_string(++anon);
    }
    auto r = fwd->Pull(topic, group, name, max.value(), wait.value(), visibility.value(), only);
    if (!r.ok()) return Error(res, r.status());
    return Reply(res, 200, RenderMessages(r.value()));
  }
  auto r = svc.Pull(topic, group, consumer.value(), max.value(), wait.value(), visibility.value());
  if (!r.ok()) return Error(res, r.status());
  std::optional<size_t> in_flight;
  if (IsForwarded(req) && frontend_.load() && !consumer->empty()) {
    // For the forwarding broker's SSE prefetch: this consumer's leases here.
    in_flight = svc.InFlight(topic, group, consumer.value());
  }
  Reply(res, 200, RenderMessages(r.value(), in_flight));
}

void HttpServer::Subscribe(const httplib::Request& req, httplib::Response& res,
                           const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1], group = req.matches[2];
  if (Status st = NamesOk(topic, &group); !st.ok()) return Error(res, st);
  auto consumer = ConsumerParam(req);
  if (!consumer.ok()) return Error(res, consumer.status());
  auto prefetch = ParseNumber(Param(req, "prefetch"), "prefetch", 1, 10000, 100);
  if (!prefetch.ok()) return Error(res, prefetch.status());
  auto visibility = VisibilityParam(req);
  if (!visibility.ok()) return Error(res, visibility.status());
  if (auto t = svc.DescribeTopic(topic); !t.ok()) return Error(res, t.status());
  if (!svc.AdmitWaiter()) {
    return Error(res, Status(Code::kOverloaded, "too many open streams; retry later"));
  }
  static std::atomic<uint64_t> anon{0};
  auto fwd = Fanout(req, who);
  std::string name = consumer.value();
  if (name.empty()) {
    // In a cluster the name travels to other brokers: make it unique there too.
    name =
        fwd ? "anon-sse-" + std::to_string(svc.options().broker_id) + "-" + std::to_string(++anon)
            : "anon-sse-" + std::to_string(++anon);
  }
  StreamGroup(svc, fwd,
              SubscribeParams{topic, group, name, static_cast<size_t>(prefetch.value()),
                              visibility.value(), options_.sse_keepalive_ms},
              res);
}

void HttpServer::LeaseVerbs(LeaseVerb verb, const httplib::Request& req, httplib::Response& res,
                            const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1], group = req.matches[2];
  if (Status st = NamesOk(topic, &group); !st.ok()) return Error(res, st);
  auto body = ParseIds(req.body, LeaseVerbNumberField(verb), verb == LeaseVerb::kExtend ? 1 : 0,
                       kMaxLeaseDelayMs);
  if (!body.ok()) return Error(res, body.status());
  Result<AckResult> r = Status::Internal("unreachable");
  if (auto fwd = Fanout(req, who)) {
    r = fwd->Lease(topic, group, verb, body->ids, body->number);
  } else if (verb == LeaseVerb::kAck) {
    r = svc.Ack(topic, group, body->ids);
  } else if (verb == LeaseVerb::kNack) {
    r = svc.Nack(topic, group, body->ids, body->number.value_or(0));
  } else {
    TimeMs vis = body->number.value_or(0);
    if (!body->number) {
      auto t = svc.DescribeTopic(topic);
      if (!t.ok()) return Error(res, t.status());
      vis = t->config.visibility_timeout_ms;
    }
    r = svc.Extend(topic, group, body->ids, vis);
  }
  if (!r.ok()) return Error(res, r.status());
  Reply(res, 200, api::EncodeAck(r.value(), LeaseVerbDone(verb)));
}

// --- Between brokers (docs/replication.md) -------------------------------------------

void HttpServer::InternalControlledShutdown(const httplib::Request& req, httplib::Response& res,
                                            const Identity& who) {
  auto broker = ParseNumber(Param(req, "broker"), "broker", 1, 1 << 30, -1);
  if (!broker.ok()) return Error(res, broker.status());
  if (broker.value() < 0) {
    return Error(res, Status::Invalid("query parameter 'broker' is required"));
  }
  cluster::Frontend* frontend = frontend_.load();
  if (frontend == nullptr) return Reply(res, 200, std::string("{}"));  // leads alone
  Status st = frontend->ControlledShutdown(static_cast<int32_t>(broker.value()), IsForwarded(req));
  if (!st.ok()) return Error(res, st);
  Reply(res, 200, std::string("{}"));
}

void HttpServer::InternalInFlight(const httplib::Request& req, httplib::Response& res,
                                  const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.get_param_value("topic"), group = req.get_param_value("group"),
              consumer = req.get_param_value("consumer");
  if (Status st = NamesOk(topic, &group); !st.ok()) return Error(res, st);
  if (Status st = ValidateName(consumer, "consumer"); !st.ok()) return Error(res, st);
  Reply(res, 200, json{{"in_flight", svc.InFlight(topic, group, consumer)}});
}

void HttpServer::InternalFetch(const httplib::Request& req, httplib::Response& res,
                               const Identity& who) {
  BrokerService& svc = *service_;
  FetchRequest f;
  f.topic = req.get_param_value("topic");
  if (Status st = NamesOk(f.topic, nullptr); !st.ok()) return Error(res, st);
  auto num = [&](const char* name, int64_t min, int64_t max) {
    return ParseNumber(Param(req, name), name, min, max, min);
  };
  auto partition = num("partition", 0, 1 << 30);
  auto replica = num("replica", 0, 1 << 30);
  auto offset = num("offset", 0, INT64_MAX);
  auto group_offset = num("group_offset", 0, INT64_MAX);
  auto epoch = num("epoch", 0, INT64_MAX);
  auto max_bytes = num("max_bytes", 1, 64 << 20);
  auto wait = num("wait_ms", 0, 60000);
  for (auto* r : {&partition, &replica, &offset, &group_offset, &epoch, &max_bytes, &wait}) {
    if (!r->ok()) return Error(res, r->status());
  }
  f.partition = static_cast<int32_t>(partition.value());
  f.replica = static_cast<int32_t>(replica.value());
  // A fetch moves the follower position the leader trusts: a broker speaks only for itself.
  if (who.broker && *who.broker != f.replica) {
    return Error(res, Status(Code::kForbidden, "broker " + std::to_string(*who.broker) +
                                                   " may not fetch as replica " +
                                                   std::to_string(f.replica)));
  }
  f.offset = static_cast<uint64_t>(offset.value());
  f.group_offset = static_cast<uint64_t>(group_offset.value());
  f.epoch = epoch.value();
  f.max_bytes = static_cast<size_t>(max_bytes.value());
  f.wait_ms = wait.value();
  auto r = svc.Fetch(f);
  if (!r.ok()) return Error(res, r.status());
  Reply(res, 200, EncodeFetchResponse(r.value()));
}

void HttpServer::InternalEpochEnd(const httplib::Request& req, httplib::Response& res,
                                  const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.get_param_value("topic");
  if (Status st = NamesOk(topic, nullptr); !st.ok()) return Error(res, st);
  auto partition = ParseNumber(Param(req, "partition"), "partition", 0, 1 << 30, 0);
  auto epoch = ParseNumber(Param(req, "epoch"), "epoch", 0, INT64_MAX, 0);
  if (!partition.ok()) return Error(res, partition.status());
  if (!epoch.ok()) return Error(res, epoch.status());
  auto r = svc.EpochEnd(topic, static_cast<int32_t>(partition.value()), epoch.value(),
                        req.get_param_value("log") == "group");
  if (!r.ok()) return Error(res, r.status());
  Reply(res, 200, json{{"epoch", r->first}, {"end_offset", r->second}});
}

void HttpServer::InternalLog(const httplib::Request& req, httplib::Response& res,
                             const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.get_param_value("topic");
  if (Status st = NamesOk(topic, nullptr); !st.ok()) return Error(res, st);
  auto partition = ParseNumber(Param(req, "partition"), "partition", 0, 1 << 30, 0);
  if (!partition.ok()) return Error(res, partition.status());
  uint64_t hwm = 0;
  auto r = svc.CommittedLog(topic, static_cast<int32_t>(partition.value()), &hwm);
  if (!r.ok()) return Error(res, r.status());
  FetchResponse f;
  f.high_watermark = hwm;
  f.entries = std::move(r).value();
  Reply(res, 200, EncodeFetchResponse(f));
}

// --- Stream --------------------------------------------------------------------------

void HttpServer::Read(const httplib::Request& req, httplib::Response& res, const Identity& who) {
  BrokerService& svc = *service_;
  std::string topic = req.matches[1];
  if (Status st = NamesOk(topic, nullptr); !st.ok()) return Error(res, st);
  auto partition = ParseNumber(std::string(req.matches[2]), "partition", 0, 1 << 30, 0);
  if (!partition.ok()) return Error(res, partition.status());
  auto from = ParseNumber(Param(req, "from"), "from", 0, INT64_MAX, 0);
  if (!from.ok()) return Error(res, from.status());
  auto max = ParseNumber(Param(req, "max"), "max", 1, 1000, 100);
  if (!max.ok()) return Error(res, max.status());
  auto wait = ParseNumber(Param(req, "wait_ms"), "wait_ms", 0, 60000, 0);
  if (!wait.ok()) return Error(res, wait.status());
  std::optional<Result<StreamRead>> remote;
  if (auto fwd = Fanout(req, who)) {
    remote = fwd->Read(topic, partition.value(), from.value(), max.value(), wait.value());
  }
  auto r = remote ? std::move(*remote)
                  : svc.Read(topic, partition.value(), from.value(), max.value(), wait.value());
  if (!r.ok()) return Error(res, r.status());
  Reply(res, 200, RenderStreamRead(r.value()));
}

}  // namespace zoomq::broker::http
