// Fixture for tests against the real ZooKeeper server: each test gets its own chroot, and
// Connect() opens sessions inside it. Sessions are stopped at TearDown (or earlier by the test).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "zk_test_server.h"
#include "zoomq/coordinator/zk_session.h"

namespace zoomq::coordinator::testing {

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ZkTestServer& server = ZkTestServer::Get();
    ASSERT_TRUE(server.ok()) << server.error();
    chroot_ = server.NewChroot();
  }
  void TearDown() override {
    // The server may be paused by a failed test: let sessions close cleanly.
    ZkTestServer::Get().Resume();
    for (auto& s : sessions_) s->Stop();
  }

  // A started session in this test's chroot (or `chroot`), logged in with the digest
  // credentials `digest` ("user:password") if given; nullptr (with a test failure) if it fails.
  ZkSession* Connect(int session_timeout_ms = 2000, const std::string& chroot = "",
                     const std::string& digest = "") {
    ZkSessionOptions options;
    options.connect_string = ZkTestServer::Get().hosts() + (chroot.empty() ? chroot_ : chroot);
    options.session_timeout_ms = session_timeout_ms;
    options.connect_timeout_ms = 10000;
    options.digest_auth = digest;
    auto session = std::make_unique<ZkSession>(options);
    Status st = session->Start();
    if (!st.ok()) {
      ADD_FAILURE() << "session start: " << st.ToString();
      return nullptr;
    }
    sessions_.push_back(std::move(session));
    return sessions_.back().get();
  }

  // A log of `session`'s events, owned by the fixture so that it outlives the session (whose
  // listeners still run at Stop()).
  EventLog<SessionEvent>& Listen(ZkSession* session) {
    logs_.push_back(std::make_unique<EventLog<SessionEvent>>());
    EventLog<SessionEvent>* log = logs_.back().get();
    session->AddListener([log](const SessionEvent& e) { log->Add(e); });
    return *log;
  }

  // A session at the server's root (no chroot), to look at the chroot from outside.
  ZkSession* ConnectRoot() { return Connect(2000, "/"); }

  std::string chroot_;
  // Declared before sessions_: destroyed after them.
  std::vector<std::unique_ptr<EventLog<SessionEvent>>> logs_;
  std::vector<std::unique_ptr<ZkSession>> sessions_;
};

}  // namespace zoomq::coordinator::testing
