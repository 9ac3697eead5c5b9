// Test harness: ONE real ZooKeeper server (Debian's jar, run by java) per test binary.
//
// The server starts on first use (pure unit tests never start it) on a free loopback port with
// its data in a temp dir, and is ready once `srvr` answers with "Mode:" (DEPENDENCIES.md).
// Each test gets its own chroot "/test-<n>" so tests never see each other's znodes. The
// ZkTestEnvironment (installed by zk_test_main.cc) kills the server when the binary ends;
// PR_SET_PDEATHSIG kills it too if the test process dies first.
//
// Thread-safety: Get() and its methods from the test's main thread (PR_SET_PDEATHSIG is tied
// to the thread that forked). WaitFor() and EventLog from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "zoomq/proc/child.h"  // Child (tools/proc)

namespace zoomq::coordinator::testing {

using std::chrono::milliseconds;

class ZkTestServer {
 public:
  // The server, started on the first call. Check ok() (ASSERT_TRUE(server.ok()) << error()).
  static ZkTestServer& Get();
  // Kills the server if it was started (the environment's TearDown).
  static void ShutdownIfStarted();

  bool ok() const { return process_.pid() > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  // "127.0.0.1:<port>"
  std::string hosts() const;
  // A fresh chroot, "/test-<n>".
  std::string NewChroot();
  // SIGSTOP / SIGCONT the server (a paused server: clients see no replies, like a partition).
  void Pause();
  void Resume();
  // Last lines of the server's log.
  std::string LogTail() const;

 private:
  ZkTestServer() = default;
  ~ZkTestServer();
  bool StartOnce(std::string* why);
  void Shutdown();

  zoomq::proc::Child process_;
  int port_ = 0;
  std::string dir_;
  std::string error_;
  int next_chroot_ = 0;
  bool paused_ = false;
};

class ZkTestEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { ZkTestServer::ShutdownIfStarted(); }
};

// Evaluates `predicate` until it is true or `timeout` passed (polling every 2 ms); returns its
// last value.
bool WaitFor(const std::function<bool()>& predicate, milliseconds timeout);

// A thread-safe record of callback values, with waiting on a condition over them.
template <typename T>
class EventLog {
 public:
  void Add(T value) {
    std::lock_guard<std::mutex> lock(mu_);
    values_.push_back(std::move(value));
    cv_.notify_all();
  }
  std::vector<T> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_;
  }
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return values_.size();
  }
  // Waits until `pred(values)` holds; false after `timeout`.
  bool WaitUntil(const std::function<bool(const std::vector<T>&)>& pred, milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(values_); });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<T> values_;
};

}  // namespace zoomq::coordinator::testing
