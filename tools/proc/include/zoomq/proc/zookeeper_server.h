// One standalone ZooKeeper server process (tickTime=500, forceSync=no: zookeeper.h) for the
// cluster tests and zoomq-chaos: started (directly, or through a command prefix such as
// `ip netns exec NS`) and ready once `srvr` answers with a Mode: line; killed, and restarted on
// the same address, port and data.
//
// Thread-safety: Start, Kill and Restart from one thread (the child's death signal is tied to
// the forking thread); Serving() from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "zoomq/proc/child.h"

namespace zoomq::proc {

struct ZooKeeperServerOptions {
  // Holds zoo.cfg, data/ and zk.log (created). "": a fresh temp dir "zoomq-zk-XXXXXX", removed
  // with the server unless $ZOOMQ_IT_KEEP is set.
  std::string dir;
  std::string address = "127.0.0.1";  // clientPortAddress, and where readiness is asked
  int port = 0;  // 0: a free loopback port (another one when the server exits at once)
  std::vector<std::string> prefix;  // the java command runs through this, e.g. ip netns exec
};

class ZooKeeperServer {
 public:
  explicit ZooKeeperServer(ZooKeeperServerOptions options = {});
  ~ZooKeeperServer();  // kills the server (and removes a temp dir of its own)
  ZooKeeperServer(const ZooKeeperServer&) = delete;
  ZooKeeperServer& operator=(const ZooKeeperServer&) = delete;

  // Starts the server and waits until it serves. "" or what failed (with the log's tail).
  std::string Start(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  void Kill();
  // Starts it again on the same port and data dir (after Kill) and waits until it serves.
  std::string Restart(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));
  bool Serving();  // `srvr` answers with a Mode: line
  int port() const { return port_; }
  std::string hosts() const { return options_.address + ":" + std::to_string(port_); }
  std::string log_path() const { return dir_ + "/zk.log"; }

 private:
  ZooKeeperServerOptions options_;
  std::string dir_;
  bool own_dir_ = false;  // a temp dir made here
  int port_ = 0;
  bool restarting_ = false;
  Child process_;
};

}  // namespace zoomq::proc
