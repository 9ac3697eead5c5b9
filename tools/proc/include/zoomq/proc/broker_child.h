// One zoomq-broker process for the test harnesses and zoomq-chaos: its command line (id,
// listen address, data dir, the caller's flags; optionally run through a prefix such as
// `ip netns exec NS`), its directory (data/ and broker.log), started and ready once
// /v1/health answers 200, and the signals the harnesses hurt it with (SIGKILL, SIGTERM,
// SIGSTOP/SIGCONT).
//
// Thread-safety: a BrokerChild is used from one thread (the one that starts it: the child's
// death signal is tied to the forking thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/net/http_client.h"
#include "zoomq/proc/child.h"

namespace zoomq::proc {

// Path of the broker binary: env ZOOMQ_BROKER_BIN, else the build's zoomq-broker.
std::string BrokerBinary();

// $ZOOMQ_CLUSTER_BROKER_ARGS split on white space, e.g. "--log-level debug": flags for every
// broker of a cluster, for debugging runs.
std::vector<std::string> DebugBrokerArgs();

struct BrokerCommand {
  int id = 1;
  std::string dir;                  // holds data/ (created) and broker.log
  std::string host = "127.0.0.1";   // --listen host:port; where /v1/health is asked
  int port = 0;
  std::vector<std::string> prefix;  // the broker runs through this, e.g. ip netns exec NS
  std::vector<std::string> args;    // flags after --id, --listen and --data-dir
  // The broker serves HTTPS (its --tls-* flags are in `args`): its URL is https:// and
  // /v1/health is asked with these credentials (the CA of its certificate; a client
  // certificate when it asks for one).
  bool tls = false;
  net::ClientCredentials credentials;
  std::string banner = "zoomq-broker";  // the log's line before each start (Child::Spawn)
};

class BrokerChild {
 public:
  explicit BrokerChild(BrokerCommand command);
  BrokerChild(const BrokerChild&) = delete;
  BrokerChild& operator=(const BrokerChild&) = delete;
  // The Child SIGKILLs a broker still running.

  // Starts the broker and waits up to `timeout` for /v1/health 200. "" or what failed: no
  // binary, the broker exited (Running() is then false), or it did not answer in time (it
  // still runs). REQUIRES: not running.
  std::string Start(std::chrono::milliseconds timeout);
  // Start on a free loopback port; another one (3 tries) when the broker exits at once (a
  // port race with another process).
  std::string StartOnFreePort(std::chrono::milliseconds timeout);
  // Start on the same port and data, again while the broker exits at once (e.g. the port is
  // briefly unavailable after kill -9), until `timeout`.
  std::string Restart(std::chrono::milliseconds timeout);

  void Kill();  // SIGKILL (SIGCONT too) and reap
  void Signal(int sig);
  void Stop();  // SIGSTOP
  void Cont();  // SIGCONT
  bool stopped() const { return stopped_; }
  bool Running() { return process_.Running(); }
  // SIGTERM (SIGCONT first when stopped), then WaitExit.
  std::optional<int> Term(std::chrono::milliseconds timeout);
  // Waits for the exit: its wait status, or nullopt when it still runs at the deadline (then
  // its threads' stacks go to stderr and it is SIGKILLed).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);

  BrokerCommand& command() { return command_; }  // e.g. other flags for the next start
  const net::ClientCredentials& credentials() const { return command_.credentials; }
  int id() const { return command_.id; }
  const std::string& host() const { return command_.host; }
  int port() const { return command_.port; }
  std::string url() const {
    return (command_.tls ? "https://" : "http://") + command_.host + ":" + std::to_string(port());
  }
  std::string data_dir() const { return command_.dir + "/data"; }
  std::string log_path() const { return command_.dir + "/broker.log"; }
  std::string LogTail(size_t max_bytes) const;
  pid_t pid() const { return process_.pid(); }
  int last_status() const { return process_.last_status(); }

 private:
  std::string WaitHealthy(std::chrono::milliseconds timeout);

  BrokerCommand command_;
  Child process_;
  bool stopped_ = false;
};

}  // namespace zoomq::proc
