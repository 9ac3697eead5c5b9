#include "zoomq/proc/zookeeper_server.h"

#include "zoomq/proc/files.h"
#include "zoomq/proc/ports.h"
#include "zoomq/proc/zookeeper.h"

namespace zoomq::proc {

using std::chrono::milliseconds;

ZooKeeperServer::ZooKeeperServer(ZooKeeperServerOptions options)
    : options_(std::move(options)), dir_(options_.dir), port_(options_.port) {
  if (dir_.empty()) {
    dir_ = MakeTempDir("zoomq-zk");
    own_dir_ = !dir_.empty();
  }
}

ZooKeeperServer::~ZooKeeperServer() {
  Kill();
  if (own_dir_) RemoveTempDir(dir_);
}

bool ZooKeeperServer::Serving() { return ZooKeeperServing(options_.address, port_); }

std::string ZooKeeperServer::Start(milliseconds timeout) {
  if (dir_.empty()) return "mkdtemp failed";
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (options_.port == 0 && !restarting_) port_ = PickFreePort();
    ZooKeeperConfig config;
    config.dir = dir_;
    config.client_address = options_.address;
    config.client_port = port_;
    const std::string cfg = WriteZooKeeperConfig(config);
    if (cfg.empty()) return "cannot write " + dir_ + "/zoo.cfg";
    const auto java = ZooKeeperCommand(cfg, /*ensemble=*/false);
    if (java.empty()) return "java not found in PATH";
    std::vector<std::string> command = options_.prefix;
    command.insert(command.end(), java.begin(), java.end());
    std::string error;
    if (!process_.Spawn(command, log_path(), &error)) return error;
    const auto readiness =
        process_.WaitReady([&] { return Serving(); }, timeout, milliseconds(50));
    if (readiness == Child::Readiness::kReady) return "";
    process_.Kill();
    if (readiness == Child::Readiness::kTimedOut) {
      return "ZooKeeper not serving on port " + std::to_string(port_) + " within " +
             std::to_string(timeout.count()) + " ms; log:\n" + ReadFileTail(log_path(), 4000);
    }
    // Exited at once: probably the port was taken meanwhile; try another one.
  }
  return "ZooKeeper exited before serving; log:\n" + ReadFileTail(log_path(), 4000);
}

void ZooKeeperServer::Kill() { process_.Kill(); }

std::string ZooKeeperServer::Restart(milliseconds timeout) {
  process_.Kill();
  restarting_ = true;  // keep the port: the brokers' connect string names it
  std::string r = Start(timeout);
  restarting_ = false;
  return r;
}

}  // namespace zoomq::proc
