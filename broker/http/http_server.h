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
  // everything. Call before Serve(); `frontend` must outlive the server.
  void SetFrontend(cluster::Frontend* frontend) { frontend_.store(frontend); }

 private:
  void Routes();
  // In a cluster, the frontend for a client's request; nullptr standalone or when forwarded.
  cluster::Frontend* Fanout(const httplib::Request& req);

  // One handler per route (docs/api.md), by resource: parse, call the service (or, in a
  // cluster, the frontend), render.
  using Handler = void (HttpServer::*)(const httplib::Request&, httplib::Response&);
  // Cluster
  void Health(const httplib::Request& req, httplib::Response& res);
  void Cluster(const httplib::Request& req, httplib::Response& res);
  void MetricsText(const httplib::Request& req, httplib::Response& res);
  // Topics
  void CreateTopic(const httplib::Request& req, httplib::Response& res);
  void ListTopics(const httplib::Request& req, httplib::Response& res);
  void DescribeTopic(const httplib::Request& req, httplib::Response& res);
  void DeleteTopic(const httplib::Request& req, httplib::Response& res);
  // Produce
  void Produce(const httplib::Request& req, httplib::Response& res);
  // Groups
  void CreateGroup(const httplib::Request& req, httplib::Response& res);
  void DescribeGroup(const httplib::Request& req, httplib::Response& res);
  void Pull(const httplib::Request& req, httplib::Response& res);
  void Subscribe(const httplib::Request& req, httplib::Response& res);
  // ack, nack, extend
  void LeaseVerbs(LeaseVerb verb, const httplib::Request& req, httplib::Response& res);
  // Between brokers (docs/replication.md)
  void InternalControlledShutdown(const httplib::Request& req, httplib::Response& res);
  void InternalInFlight(const httplib::Request& req, httplib::Response& res);
  void InternalFetch(const httplib::Request& req, httplib::Response& res);
  void InternalEpochEnd(const httplib::Request& req, httplib::Response& res);
  void InternalLog(const httplib::Request& req, httplib::Response& res);
  // Stream
  void Read(const httplib::Request& req, httplib::Response& res);

  BrokerService* const service_;
  const HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  Status listener_status_;  // why the TLS listener could not be made (server_ is then unused)
  std::unique_ptr<Metrics> metrics_;
  int port_ = 0;
  std::atomic<cluster::Frontend*> frontend_{nullptr};
};

}  // namespace zoomq::broker::http
