// Where a chaos run's ZooKeeper and brokers live, and how the nemesis hurts them. Both kinds
// run and signal the processes the same way (tools/proc: ZooKeeperServer, BrokerChild, the
// code the cluster tests use):
//   - LoopbackHosts: everything on 127.0.0.1, free ports;
//   - NetnsHosts (--netns, root): every broker, ZooKeeper and the clients in network
//     namespaces of their own joined by a bridge, so that network partitions are real.
//
// Thread-safety: process control (Start, Kill, Term, Stop, Cont, Restart, *ZooKeeper, Cut,
// Isolate, HealNetwork) from the main thread only (children get PR_SET_PDEATHSIG, tied to the
// forking thread); endpoint() and ids() from any thread.

#ifndef ZOOMQ_TOOLS_CHAOS_HOSTS_H_
#define ZOOMQ_TOOLS_CHAOS_HOSTS_H_

#include <memory>
#include <string>
#include <vector>

namespace zoomq::chaos {

struct Endpoint {
  int id = 0;
  std::string host;
  int port = 0;
  std::string token;  // presented on every request (security on), "" otherwise
};

class Hosts {
 public:
  virtual ~Hosts() = default;

  // Starts ZooKeeper and the brokers and waits until every broker answers /v1/health 200.
  // Returns "" or what failed.
  virtual std::string Start(int brokers, int session_ms) = 0;
  // Before Start: every broker also gets `broker_args`, and endpoint() carries `token` (the
  // run with security on, --secure).
  void Secure(std::string token, std::vector<std::string> broker_args) {
    token_ = std::move(token);
    secure_args_ = std::move(broker_args);
  }
  virtual std::vector<int> ids() const = 0;
  virtual Endpoint endpoint(int id) const = 0;

  virtual void Kill(int id) = 0;         // SIGKILL
  virtual std::string Term(int id) = 0;  // SIGTERM and wait for the exit; a note
  virtual void Stop(int id) = 0;         // SIGSTOP
  virtual void Cont(int id) = 0;         // SIGCONT
  virtual bool Stopped(int id) const = 0;
  virtual bool Running(int id) = 0;
  virtual std::string Restart(int id) = 0;  // same address and data; "" or what failed
  virtual void KillZooKeeper() = 0;
  virtual std::string RestartZooKeeper() = 0;  // "" or what failed
  virtual bool ZooKeeperUp() = 0;

  // Network faults, where the hosts are separate (CanPartition()). `a`, `b`: broker ids, 0
  // for ZooKeeper. Each returns "" or what failed; HealNetwork undoes every cut.
  virtual bool CanPartition() const { return false; }
  virtual std::string Cut(int a, int b) { return "no network faults on loopback"; }
  virtual std::string Isolate(int id) { return "no network faults on loopback"; }
  virtual void HealNetwork() {}

  // Keep the run's directories (logs, data) when this object goes.
  virtual void KeepFiles() = 0;

  // Running and not stopped.
  std::vector<int> LiveIds();

 protected:
  std::string token_;
  std::vector<std::string> secure_args_;
};

// 127.0.0.1, free ports. Files (logs, data) under `dir`.
std::unique_ptr<Hosts> MakeLoopbackHosts(const std::string& dir);

// Network namespaces zoomq-chaos-<pid>-{hub,zk,cl,b1,...}; calls setns() on the calling
// thread (the clients' namespace), so it must be created before any client thread. Files
// under `dir`. Returns nullptr and sets `error` when it cannot be set up (not root, no `ip`).
std::unique_ptr<Hosts> MakeNetnsHosts(const std::string& dir, std::string* error);

// Deletes namespaces zoomq-chaos-<pid>-* left by runs whose process <pid> is gone.
// Returns how many were deleted.
int RemoveStaleNamespaces();

}  // namespace zoomq::chaos

#endif  // ZOOMQ_TOOLS_CHAOS_HOSTS_H_
