// FakeTransport: the SDK's Transport for unit tests. Every request goes to `handler` (set by
// the test), which plays the brokers; every request is recorded. No sockets, no sleeping:
// the handler answers at once (status 0 plays a lost connection or a lost reply).
#pragma once

#include <functional>
#include <mutex>
#include <vector>

#include "zoomq/client/transport.h"

namespace zoomq::client_testing {

class FakeTransport : public Transport {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  HttpResponse Send(const HttpRequest& request) override {
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      handler = handler_;
    }
    return handler(request);
  }

  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }
  std::vector<HttpRequest> Requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  Handler handler_;                    // guarded by mu_
  std::vector<HttpRequest> requests_;  // guarded by mu_
};

// {"error":{"code":..,"message":..}} answer with `status`.
inline HttpResponse ErrorAnswer(int status, const std::string& code,
                                const std::string& message = "fake") {
  return HttpResponse{status,
                      "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}",
                      "", -1};
}
inline HttpResponse LostReply(const std::string& why = "connection reset") {
  return HttpResponse{0, "", why, -1};
}
// A connection that could not be made: the request surely reached no broker.
inline HttpResponse RefusedConnection() {
  HttpResponse r{0, "", "connection refused", -1};
  r.not_sent = true;
  return r;
}

}  // namespace zoomq::client_testing
