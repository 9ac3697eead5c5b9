#include "zk_test_server.h"

#include "zoomq/proc/ports.h"      // PickFreePort (tools/proc)
#include "zoomq/proc/zookeeper.h"  // tools/proc

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace zoomq::coordinator::testing {

namespace {

using Clock = std::chrono::steady_clock;

ZkTestServer* g_server = nullptr;

}  // namespace

ZkTestServer& ZkTestServer::Get() {
  if (g_server == nullptr) {
    g_server = new ZkTestServer();
    std::string why;
    for (int attempt = 0; attempt < 3; ++attempt) {  // a port taken meanwhile: try another
      if (g_server->StartOnce(&why)) break;
    }
    if (!g_server->ok()) g_server->error_ = why;
  }
  return *g_server;
}

void ZkTestServer::ShutdownIfStarted() {
  if (g_server != nullptr) g_server->Shutdown();
}

ZkTestServer::~ZkTestServer() { Shutdown(); }

bool ZkTestServer::StartOnce(std::string* why) {
  Shutdown();
  char tmpl[] = "/tmp/zoomq-zk-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    *why = std::string("mkdtemp: ") + std::strerror(errno);
    return false;
  }
  dir_ = tmpl;
  port_ = zoomq::proc::PickFreePort();
  zoomq::proc::ZooKeeperConfig config;
  config.dir = dir_;
  config.client_port = port_;
  const std::string cfg = zoomq::proc::WriteZooKeeperConfig(config);
  if (cfg.empty()) {
    *why = "cannot write " + dir_ + "/zoo.cfg";
    return false;
  }
  const std::string log = dir_ + "/zk.log";
  const auto args = zoomq::proc::ZooKeeperCommand(cfg, /*ensemble=*/false);
  if (args.empty()) {
    *why = "java not found (PATH, ZOOMQ_JAVA)";
    return false;
  }
  zoomq::proc::SpawnOptions spawn;
  spawn.argv = args;
  spawn.stdout_path = log;
  if (!process_.Start(spawn, why)) return false;

  // Ready when `srvr` reports a Mode (`ruok` answers before the server serves).
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    if (!process_.Running()) {
      *why = "ZooKeeper exited during startup:\n" + LogTail();
      return false;
    }
    if (zoomq::proc::ZooKeeperServing("127.0.0.1", port_)) return true;
    std::this_thread::sleep_for(milliseconds(50));  // ok: polling an external process until a deadline
  }
  *why = "ZooKeeper not ready after 30 s:\n" + LogTail();
  Shutdown();
  return false;
}

void ZkTestServer::Shutdown() {
  process_.Kill();  // SIGCONT too: a paused server dies as well
  paused_ = false;
  if (!dir_.empty() && std::getenv("ZOOMQ_ZK_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  dir_.clear();
}

std::string ZkTestServer::hosts() const { return "127.0.0.1:" + std::to_string(port_); }

std::string ZkTestServer::NewChroot() { return "/test-" + std::to_string(++next_chroot_); }

void ZkTestServer::Pause() {
  if (process_.pid() > 0 && !paused_) {
    process_.Signal(SIGSTOP);
    paused_ = true;
  }
}

void ZkTestServer::Resume() {
  if (process_.pid() > 0 && paused_) {
    process_.Signal(SIGCONT);
    paused_ = false;
  }
}

std::string ZkTestServer::LogTail() const {
  std::ifstream in(dir_ + "/zk.log");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  std::ostringstream out;
  size_t from = lines.size() > 40 ? lines.size() - 40 : 0;
  for (size_t i = from; i < lines.size(); ++i) out << lines[i] << "\n";
  return out.str();
}

bool WaitFor(const std::function<bool()>& predicate, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(milliseconds(2));  // ok: polling a predicate with a deadline
  }
  return predicate();
}

}  // namespace zoomq::coordinator::testing
