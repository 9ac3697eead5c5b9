// MakeHttpTransport() against an in-process cpp-httplib server on loopback: answers, error
// bodies and Retry-After, status 0 on refused connections and timeouts, many threads at once.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "zoomq/client/transport.h"

namespace zoomq {
namespace {

using std::chrono::milliseconds;

class HttpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("hi", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Content-Type") + "|" + req.body, "text/plain");
    });
    server_.Get("/busy", [](const httplib::Request&, httplib::Response& res) {
      res.status = 429;
      res.set_header("Retry-After", "3");
      res.set_content(R"({"error":{"code":"OVERLOADED","message":"busy"}})", "application/json");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(milliseconds(300));  // ok: plays a broker slower than the timeout
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(5000);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(1));  // ok: polling until the server runs
    }
    ASSERT_TRUE(server_.is_running());
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  HttpRequest Request(const std::string& method, const std::string& target,
                      milliseconds timeout = milliseconds(5000)) {
    return HttpRequest{method, "http://127.0.0.1:" + std::to_string(port_), target, "",
                       timeout};
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::shared_ptr<Transport> transport_ = MakeHttpTransport();
};

TEST_F(HttpTransportTest, AnswersBodiesAndRetryAfter) {
  HttpResponse ok = transport_->Send(Request("GET", "/ok"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "hi");
  EXPECT_EQ(ok.retry_after_s, -1);

  HttpRequest post = Request("POST", "/echo");
  post.body = R"({"a":1})";
  HttpResponse echo = transport_->Send(post);
  EXPECT_EQ(echo.status, 200);
  EXPECT_EQ(echo.body, R"(application/json|{"a":1})");

  HttpResponse busy = transport_->Send(Request("GET", "/busy"));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(busy.retry_after_s, 3);
  EXPECT_NE(busy.body.find("OVERLOADED"), std::string::npos);

  HttpResponse missing = transport_->Send(Request("GET", "/nope"));
  EXPECT_EQ(missing.status, 404);
}

TEST_F(HttpTransportTest, TimeoutAndRefusedConnectionAreStatusZero) {
  HttpResponse slow = transport_->Send(Request("GET", "/slow", milliseconds(50)));
  EXPECT_EQ(slow.status, 0);
  EXPECT_FALSE(slow.error.empty());
  // The connection of the timed-out request is not reused: the next one works.
  EXPECT_EQ(transport_->Send(Request("GET", "/ok")).status, 200);

  server_.stop();
  thread_.join();
  HttpResponse refused = transport_->Send(Request("GET", "/ok", milliseconds(1000)));
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("127.0.0.1"), std::string::npos) << refused.error;
}

TEST_F(HttpTransportTest, ManyThreadsShareTheTransport) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (transport_->Send(Request("GET", "/ok")).status == 200) ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace zoomq
