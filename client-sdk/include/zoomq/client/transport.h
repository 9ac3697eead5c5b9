// The SDK's one dependency on the network, behind an interface so that unit tests replace it
// (a fake that loses replies, fails connections, answers 503...). MakeHttpTransport() is the
// real one (cpp-httplib, keep-alive connections per broker).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace zoomq {

struct HttpRequest {
  std::string method;    // "GET", "POST", "PUT", "DELETE"
  std::string base_url;  // "http://127.0.0.1:9101"
  std::string target;    // path with query: "/v1/topics/t/messages"
  std::string body;      // JSON text ("" for none)
  std::chrono::milliseconds timeout{30000};
};

struct HttpResponse {
  int status = 0;           // 0: no answer (connect failed, timeout, connection lost)
  std::string body;
  std::string error;        // for status 0: what went wrong
  int retry_after_s = -1;   // Retry-After header, when given
  // For status 0: the connection could not be made, so the request surely never reached a
  // broker (refused: nobody listens there; the broker is down).
  bool not_sent = false;
};

// Thread-safe: Send is called from many threads at once.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual HttpResponse Send(const HttpRequest& request) = 0;
};

// What the real transport presents and trusts (docs/security.md). Empty fields: not used.
struct TransportSecurity {
  std::string token;      // "Authorization: Bearer <token>" on every request
  std::string ca_file;    // PEM CAs that https:// brokers' certificates must chain to
  std::string cert_file;  // PEM client certificate and key, for brokers that ask for one
  std::string key_file;
};

std::shared_ptr<Transport> MakeHttpTransport(const TransportSecurity& security = {});

}  // namespace zoomq
