// HttpServer: the API of docs/api.md over cpp-httplib. Handlers are thin: parse, call the
// BrokerService (or, in a cluster, the Frontend of broker/cluster/frontend.h), render. Every
// error answer is the API's error JSON.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "broker/cluster/frontend.h"
#include "broker/http/tls_listener.h"
#include "broker/security/quotas.h"
#include "broker/security/security_manager.h"
#include "broker/service/broker_service.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace zoomq::broker::http {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 9101;        // 0: any free port
  size_t threads = 1024;  // each keep-alive connection, long poll and SSE stream holds one
  size_t max_body_bytes = 16u << 20;
  // An idle keep-alive connection holds a pool thread this long, and holds up shutdown
  // by as much (cpp-httplib checks for stop only between requests).
  int keep_alive_timeout_s = 1;
  TimeMs sse_keepalive_ms = 15000;
  // Set: the listener serves HTTPS only (broker/http/tls_listener.h).
  TlsServerFiles tls;
};

class Metrics;
class HttpPeerClient;

class HttpServer {
 public:
  HttpServer(BrokerService* service, const HttpOptions& options);
  ~HttpServer();

  // Binds the port (so a broker that cannot serve fails before it announces itself). Fails
  // too when the TLS files of the options do not make a listener, saying why.
  Status Bind();
  int port() const { return port_; }
  // Serves until Stop(); blocks.
  void Serve();
  // Stops accepting; returns once in-flight requests are answered.
  void Stop();

  // Cluster mode: requests this broker cannot serve alone go through the frontend to the
  // partition leaders or the controller. nullptr (the default): standalone, this broker leads
  // everything. `peers` (optional): the frontend's peer client, from which each request gets
  // one that names its caller to other brokers (needed with security on). Call before
  // Serve(); both must outlive the server.
  void SetFrontend(cluster::Frontend* frontend, const HttpPeerClient* peers = nullptr) {
    peers_ = peers;
    frontend_.store(frontend);
  }
  // Who may do what (docs/security.md); by default security is off. Call before Serve();
  // `security` must outlive the server.
  void SetSecurity(auth::SecurityManager* security) { security_ = security; }
  // Per-principal limits (docs/security.md, "Quotas"); none by default. Call before Serve();
  // `quotas` must outlive the server.
  void SetQuotas(auth::Quotas* quotas) { quotas_ = quotas; }

 private:
  using Identity = auth::Identity;
  // What a route requires of its caller (checked before its handler runs).
  struct Access {
    enum Kind {
      kOpen,           // nobody is asked who they are (health)
      kAuthenticated,  // any caller who proves who they are; the handler checks the rest
      kTopic,          // `op` on the topic of the path
      kGroup,          // `op` on the topic and the group of the path
      kCluster,        // `op` on the cluster
      kBroker,         // another broker (routes between brokers)
    } kind = kOpen;
    auth::Operation op = auth::Operation::kDescribe;
  };
  void Routes();
  // 401/403 (as the API's JSON error) unless the request may pass `access`; fills `who`.
  Status Admit(const httplib::Request& req, const Access& access, Identity* who) const;
  // False after answering 429 when `who` is over a quota (route `name`).
  bool WithinQuota(const char* name, const httplib::Request& req, const Identity& who,
                   httplib::Response& res);
  // In a cluster, the frontend for a client's request, its calls to other brokers naming
  // `who`; nullptr standalone or when forwarded.
  std::shared_ptr<cluster::Frontend> Fanout(const httplib::Request& req, const Identity& who);
  // In a cluster, the frontend acting for `who` (forwarded or not); nullptr standalone.
  std::shared_ptr<cluster::Frontend> FrontendFor(const Identity& who);

  // One handler per route (docs/api.md), by resource: parse, call the service (or, in a
  // cluster, the frontend), render. `who` passed the route's Access.
  using Handler = void (HttpServer::*)(const httplib::Request&, httplib::Response&,
                                       const Identity&);
  // Cluster
  void Health(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void Cluster(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void MetricsText(const httplib::Request& req, httplib::Response& res, const Identity& who);
  // Topics
  void CreateTopic(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void ListTopics(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void DescribeTopic(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void DeleteTopic(const httplib::Request& req, httplib::Response& res, const Identity& who);
  // Produce
  void Produce(const httplib::Request& req, httplib::Response& res, const Identity& who);
  // Groups
  void CreateGroup(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void DescribeGroup(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void Pull(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void Subscribe(const httplib::Request& req, httplib::Response& res, const Identity& who);
  // ack, nack, extend
  void LeaseVerbs(LeaseVerb verb, const httplib::Request& req, httplib::Response& res,
                  const Identity& who);
  // Between brokers (docs/replication.md)
  void InternalControlledShutdown(const httplib::Request& req, httplib::Response& res,
                                  const Identity& who);
  void InternalInFlight(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void InternalFetch(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void InternalEpochEnd(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void InternalLog(const httplib::Request& req, httplib::Response& res, const Identity& who);
  // Stream
  void Read(const httplib::Request& req, httplib::Response& res, const Identity& who);
  // Security administration (security_routes.cc)
  void WhoAmI(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void ListUsers(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void CreateUser(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void DeleteUser(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void IssueToken(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void ListTokens(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void RevokeToken(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void ListAcls(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void CreateAcl(const httplib::Request& req, httplib::Response& res, const Identity& who);
  void DeleteAcl(const httplib::Request& req, httplib::Response& res, const Identity& who);

  BrokerService* const service_;
  const HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  Status listener_status_;  // why the TLS listener could not be made (server_ is then unused)
  std::unique_ptr<Metrics> metrics_;
  int port_ = 0;
  std::atomic<cluster::Frontend*> frontend_{nullptr};
  const HttpPeerClient* peers_ = nullptr;
  auth::SecurityManager off_;  // security off: the default
  auth::SecurityManager* security_ = &off_;
  auth::Quotas* quotas_ = nullptr;
};

}  // namespace zoomq::broker::http
