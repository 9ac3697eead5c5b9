// The real Transport: cpp-httplib clients with keep-alive, pooled per base URL.
//
// An httplib::Client holds one socket and must not run two requests at once, so each base
// URL keeps a stack of idle clients: a request takes one (or makes a new one), and gives it
// back when the answer came, so many threads send to one broker concurrently over as many
// kept-alive connections as they need. A client whose request failed is dropped (its socket
// may be half-used), never reused.
#include <pthread.h>
#include <signal.h>

#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <httplib.h>

#include "zoomq/client/transport.h"
#include "zoomq/net/http_client.h"

namespace zoomq {

namespace {

// More idle connections per broker than this are closed instead of kept.
constexpr size_t kMaxIdlePerUrl = 32;

// Debian's cpp-httplib 0.11 sends without MSG_NOSIGNAL: writing to a connection the broker
// closed raises SIGPIPE, which kills a process that did not ignore it. A library must not
// change the process's signal dispositions, so SIGPIPE is blocked in this thread for the
// request, and one raised meanwhile is consumed before unblocking.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
  bool was_pending_ = false;
};

class HttpTransport : public Transport {
 public:
  explicit HttpTransport(const TransportSecurity& s)
      : credentials_{s.token, s.ca_file, s.cert_file, s.key_file} {}

  HttpResponse Send(const HttpRequest& request) override {
    std::unique_ptr<httplib::Client> client = Take(request.base_url);
    if (!client->is_valid()) {
      // cpp-httplib reports a client certificate or key it cannot load the same way.
      return HttpResponse{0, "",
                          "invalid broker URL '" + request.base_url +
                              "', or a client certificate/key that cannot be loaded",
                          -1};
    }
    // Clients are reused across requests with different timeouts: set them every time.
    client->set_connection_timeout(request.timeout);
    client->set_read_timeout(request.timeout);
    client->set_write_timeout(request.timeout);

    httplib::Request req;
    req.method = request.method;
    req.path = request.target;
    req.body = request.body;
    if (!request.body.empty()) req.set_header("Content-Type", "application/json");
    httplib::Result res = [&] {
      SigpipeGuard guard;
      return client->send(req);
    }();

    HttpResponse out;
    if (!res) {
      out.status = 0;
      out.error = "request to " + request.base_url + " failed: " +
                  net::ErrorText(res.error(), request.base_url.starts_with("https://"));
      out.not_sent = res.error() == httplib::Error::Connection;
      return out;  // the client is dropped with its socket
    }
    out.status = res->status;
    out.body = std::move(res->body);
    if (res->has_header("Retry-After")) {
      const std::string v = res->get_header_value("Retry-After");
      int seconds = -1;
      auto r = std::from_chars(v.data(), v.data() + v.size(), seconds);
      if (r.ec == std::errc() && seconds >= 0) out.retry_after_s = seconds;
    }
    const bool close = res->get_header_value("Connection") == "close";
    if (!close) Give(request.base_url, std::move(client));
    return out;
  }

 private:
  std::unique_ptr<httplib::Client> Take(const std::string& url) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_.find(url);
      if (it != idle_.end() && !it->second.empty()) {
        std::unique_ptr<httplib::Client> c = std::move(it->second.back());
        it->second.pop_back();
        return c;
      }
    }
    return net::MakeHttpClient(url, credentials_);
  }

  void Give(const std::string& url, std::unique_ptr<httplib::Client> client) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::unique_ptr<httplib::Client>>& pool = idle_[url];
    if (pool.size() < kMaxIdlePerUrl) pool.push_back(std::move(client));
    // else: `client` is destroyed after the lock is released (the guard dies first).
  }

  const net::ClientCredentials credentials_;
  std::mutex mu_;
  // Idle keep-alive clients per base URL. Guarded by mu_.
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;
};

}  // namespace

std::shared_ptr<Transport> MakeHttpTransport(const TransportSecurity& security) {
  return std::make_shared<HttpTransport>(security);
}

}  // namespace zoomq
