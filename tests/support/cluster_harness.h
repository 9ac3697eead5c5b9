// Harness for cluster tests: one real ZooKeeper server (java, loopback, free port, temp
// dataDir) per test process and N real zoomq-broker processes joined to it under a chroot of
// their own (the processes themselves are tools/proc's ZooKeeperServer and BrokerChild, shared
// with zoomq-chaos), plus the tools the tests need to break them and to judge what is left:
//   - process control: Kill (SIGKILL), Term (SIGTERM), Stop (SIGSTOP), Cont (SIGCONT),
//     Restart (same port, same data dir);
//   - the cluster as the brokers see it: GET /v1/cluster of every reachable broker, the
//     newest (highest leader epoch) view of a partition, the controller;
//   - Producer: threads that send messages with unique ids to the current partition leader,
//     like an SDK (refresh /v1/cluster on errors, retry the same id with backoff), and record
//     what was answered 200 and when;
//   - replica checks: GET /internal/v1/log of every broker compared entry by entry up to the
//     smallest high watermark.
// Synchronization is by polling with deadlines (WaitFor), never by fixed sleeps.
//
// Thread-safety: Cluster's process control (Start, Kill, Term, Stop, Cont, Restart) must be
// called from the test's main thread (children get PR_SET_PDEATHSIG, tied to the forking
// thread). The read-only queries (View, Partition, Url, ...) are safe from any thread.
// Producer is internally synchronized.

#ifndef ZOOMQ_TESTS_CLUSTER_CLUSTER_HARNESS_H_
#define ZOOMQ_TESTS_CLUSTER_CLUSTER_HARNESS_H_

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker_process.h"               // Http, HttpResponse, WaitFor, PickFreePort, ...
#include "zoomq/proc/broker_child.h"      // BrokerChild (tools/proc)
#include "zoomq/proc/child.h"             // Child (tools/proc)
#include "zoomq/proc/files.h"             // MakeTempDir, ReadFileTail (tools/proc)
#include "zoomq/proc/wall_clock.h"        // WallClockNow (tools/proc)
#include "zoomq/proc/zookeeper_server.h"  // ZooKeeperServer (tools/proc)

namespace zoomq::cluster_testing {

using zoomq::testing::Clock;
using zoomq::testing::Http;
using zoomq::testing::HttpResponse;
using zoomq::testing::Json;
using zoomq::testing::milliseconds;
using zoomq::testing::WaitFor;

int64_t MillisBetween(Clock::time_point from, Clock::time_point to);

// The process-level pieces (tools/proc), under the names the tests use.
using ChildProcess = zoomq::proc::Child;
using zoomq::proc::DescribeWaitStatus;
using zoomq::proc::MakeTempDir;
using zoomq::proc::ReadFileTail;
using zoomq::proc::StackDump;
using zoomq::proc::WallClockNow;
// One standalone ZooKeeper server: tickTime=500, forceSync=no, loopback, free port.
using zoomq::proc::ZooKeeperServer;

// The ZooKeeper server of this test process, started on first use (tests use a chroot each).
// Returns nullptr (and records a gtest failure) if it cannot be started.
ZooKeeperServer* SharedZooKeeper();

// One partition as one broker reports it in GET /v1/cluster.
struct PartitionView {
  int reporter = 0;  // broker whose /v1/cluster this is
  int leader = -1;
  int64_t epoch = -1;
  std::vector<int> replicas;
  std::vector<int> isr;
  int64_t high_watermark = -1;  // the reporter's own replica
  int64_t log_end_offset = -1;
};

// A ZooKeeper ensemble of `n` servers (QuorumPeerMain) on free loopback ports.
class ZooKeeperEnsemble {
 public:
  explicit ZooKeeperEnsemble(int n = 3);
  ~ZooKeeperEnsemble();
  // Starts every server and waits until each answers `srvr` with a Mode: line.
  ::testing::AssertionResult Start(milliseconds timeout = milliseconds(30000));
  void Kill(int index);  // 0-based
  bool Serving(int index);
  std::string hosts() const;  // "127.0.0.1:p1,127.0.0.1:p2,..."
  int size() const { return static_cast<int>(client_ports_.size()); }

 private:
  std::string dir_;
  std::vector<int> client_ports_, peer_ports_, election_ports_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

struct ClusterOptions {
  int brokers = 3;
  int session_ms = 2000;
  std::vector<std::string> extra_args;  // for every broker
  std::string zk_hosts;                 // empty: SharedZooKeeper()
  // Broker id -> arguments of that broker only, after extra_args (also on Restart).
  std::map<int, std::vector<std::string>> broker_args;
  // Non-empty: security on (docs/security.md). Every broker gets this bootstrap admin token
  // (--admin-token-file), and the harness's own requests present it (or, on the routes
  // between brokers, a broker credential derived from it).
  std::string admin_token;
  // ZooKeeper digest credentials "user:password" of every broker: written to a file of the
  // cluster's directory, given as --zk-auth-file (also on Restart). Empty: open ACLs.
  std::string zk_digest;
  // Set: every broker serves HTTPS with these files (one certificate for all: they all listen
  // on 127.0.0.1) and calls the others over TLS; the harness's clients use its credentials.
  std::optional<zoomq::testing::TlsSetup> tls = std::nullopt;
};

struct ReplicaReport {
  std::map<int, int64_t> high_watermarks;  // broker -> its high watermark
  std::map<int, size_t> entries;           // broker -> entries returned
  int64_t compared_up_to = 0;              // smallest high watermark
  std::vector<std::string> problems;       // empty: every replica agrees
  std::string Summary() const;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options = {});
  // Kills every broker; on a failed test prints every broker's log tail first.
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Starts the brokers (ZooKeeper: SharedZooKeeper()) and waits until each answers
  // /v1/health 200 and every broker's /v1/cluster lists all brokers and one agreed controller.
  ::testing::AssertionResult Start(milliseconds timeout = milliseconds(30000));

  // ---- process control (main thread only) ----
  void Kill(int id);                                                            // SIGKILL + reap
  std::optional<int> Term(int id, milliseconds timeout = milliseconds(15000));  // exit code
  void Stop(int id);                                                            // SIGSTOP
  void Cont(int id);                                                            // SIGCONT
  // Sends `sig` without waiting (e.g. SIGTERM while watching the cluster react).
  void SendSignal(int id, int sig);
  // Waits for a signalled broker to exit; its exit code, or nullopt (timeout: then SIGKILLed;
  // or death by a signal).
  std::optional<int> WaitExit(int id, milliseconds timeout);
  // Same port and data dir; waits for /v1/health 200.
  ::testing::AssertionResult Restart(int id, milliseconds timeout = milliseconds(20000));
  bool Running(int id);
  bool Stopped(int id) const;
  // Running and not stopped.
  std::vector<int> LiveIds();

  // ---- lookups (any thread) ----
  std::vector<int> ids() const;
  std::string Url(int id) const;
  int Port(int id) const;
  std::map<int, std::string> Urls() const;
  // What clients present to and trust in the brokers (empty without TLS).
  const net::ClientCredentials& client_credentials() const { return credentials_; }
  const std::string& zk_connect() const { return zk_connect_; }
  // The file given as --zk-auth-file, "" without ClusterOptions::zk_digest.
  const std::string& zk_auth_file() const { return zk_auth_file_; }
  const ClusterOptions& options() const { return options_; }

  // GET /v1/cluster of broker `id` (short timeouts); nullopt on any error.
  std::optional<Json> View(int id, milliseconds timeout = milliseconds(1000)) const;
  // The partition as every broker in `from` (default: LiveIds()) reports it.
  std::vector<PartitionView> PartitionViews(const std::string& topic, int partition,
                                            std::vector<int> from = {});
  // The newest report (highest epoch) of the partition among `from`; nullopt if none.
  std::optional<PartitionView> Partition(const std::string& topic, int partition,
                                         std::vector<int> from = {});
  // Leader by the newest view, -1 if none.
  int Leader(const std::string& topic, int partition, std::vector<int> from = {});
  // Waits until the newest view among live brokers has a live leader for which `pred` holds
  // (default: any live leader) and that leader itself reports leading at that epoch.
  std::optional<PartitionView> WaitForLeader(
      const std::string& topic, int partition, milliseconds timeout,
      const std::function<bool(const PartitionView&)>& pred = nullptr);
  // Controller as the live brokers agree on it, -1 if they don't agree / no controller.
  int Controller();

  // POST /v1/topics to the controller, then waits until every live broker's /v1/cluster
  // shows every partition with a live leader and a full ISR.
  ::testing::AssertionResult CreateTopic(const std::string& name, Json config,
                                         milliseconds timeout = milliseconds(15000));

  // GET /internal/v1/log of one broker.
  std::optional<Json> ReplicaLog(int id, const std::string& topic, int partition);
  // Compares the replicas of `brokers` (default: LiveIds() that hold the partition as a
  // replica) entry by entry up to the smallest high watermark.
  ReplicaReport CompareReplicas(const std::string& topic, int partition,
                                std::vector<int> brokers = {});
  // Waits until every live replica's high watermark equals the leader's and they agree.
  ::testing::AssertionResult WaitReplicasConverged(const std::string& topic, int partition,
                                                   milliseconds timeout,
                                                   ReplicaReport* report = nullptr);

  // Every message of a partition by stream read through broker `id`.
  std::vector<Json> ReadPartition(int id, const std::string& topic, int partition);

  std::string LogPath(int id) const;
  std::string LogTail(int id, size_t max_bytes = 8000) const;
  void DumpLogs(size_t max_bytes = 8000) const;

 private:
  zoomq::proc::BrokerChild& B(int id);
  const zoomq::proc::BrokerChild& B(int id) const;
  // Broker `id`'s flags: ZooKeeper, session, --zk-auth-file, extra_args, broker_args,
  // DebugBrokerArgs().
  std::vector<std::string> BrokerArgs(int id) const;
  ::testing::AssertionResult WaitMembership(milliseconds timeout);

  ClusterOptions options_;
  net::ClientCredentials credentials_;
  std::string dir_;
  std::string zk_connect_;
  std::string zk_auth_file_;
  std::map<int, std::unique_ptr<zoomq::proc::BrokerChild>> brokers_;
};

// ---- Producer ---------------------------------------------------------------------------

struct ProducerOptions {
  std::string topic;
  int partition = 0;
  int threads = 2;
  std::string id_prefix = "p";
  // Per thread: stop after this many acknowledged messages (-1: until Stop()).
  int64_t messages_per_thread = -1;
  milliseconds interval{0};  // pause between acknowledged messages
  milliseconds connect_timeout{300};
  milliseconds read_timeout{10000};
  milliseconds metadata_timeout{500};
  milliseconds backoff_initial{10};
  milliseconds backoff_max{100};
  // 0: follow the leader (refresh /v1/cluster on errors). Else: always send to this broker
  // (a client with a stale idea of the leader).
  int pinned_broker = 0;
  // With pinned_broker: give up on an id after this many failed attempts (0: never).
  int max_attempts = 0;
};

struct SendRecord {
  std::string id;
  int thread = 0;
  int64_t seq = 0;
  bool acked = false;
  int64_t offset = -1;
  bool duplicate = false;
  int acked_by = 0;  // broker that answered 200
  int attempts = 0;  // requests sent for this id
  Clock::time_point first_sent{};
  Clock::time_point acked_at{};
  Clock::time_point last_answer{};    // when the last attempt ended (200, error or timeout)
  int last_status = -1;               // HTTP status of the last attempt, 0: no HTTP answer
  std::string acked_wall;             // wall-clock time of the 200 (to match broker logs)
  std::vector<std::string> failures;  // "broker N: HTTP 503 NOT_LEADER" ...
};

class Producer {
 public:
  Producer(const Cluster& cluster, ProducerOptions options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  void Start();
  // Stops the threads (a request in flight is aborted and its id abandoned: "maybe
  // written") and joins them.
  void Stop();
  // Waits until at least `n` acks in total.
  bool WaitForAcks(int64_t n, milliseconds timeout);
  // Waits until `n` more acks arrive after now.
  bool WaitForMoreAcks(int64_t n, milliseconds timeout);
  // Waits until every thread finished its messages_per_thread.
  bool WaitDone(milliseconds timeout);

  int64_t acked() const { return acked_.load(); }
  int64_t requests() const { return requests_.load(); }
  int64_t failed_requests() const { return failed_.load(); }
  std::vector<SendRecord> Records() const;
  std::vector<SendRecord> AckedRecords() const;
  // Times at which 200s were received, sorted.
  std::vector<Clock::time_point> AckTimes() const;
  // Write outage around a fault at `t`: the longest gap between consecutive 200s received
  // between `t - before` and `t + after` (the window must contain acks on both sides of the
  // fault; -1 if there is no ack after `t`). A 200 already on its way when the fault hit
  // does not hide the gap that follows it.
  int64_t OutageAround(Clock::time_point t, milliseconds before = milliseconds(1000),
                       milliseconds after = milliseconds(20000)) const;
  // Histogram: failed attempts per id -> number of ids (ids that were acked).
  std::map<int, int> FailuresPerAckedId() const;
  std::map<std::string, int> FailureKinds() const;
  // Longest time from the first send of an id to its 200 (what the application waits).
  int64_t MaxAckLatencyMs() const;

 private:
  struct Leader {
    int id = 0;
    int64_t epoch = -1;
  };
  void Run(int thread);
  Leader CurrentLeader();
  Leader RefreshLeader();
  Http& ClientFor(std::map<int, std::unique_ptr<Http>>& clients, int broker);

  ProducerOptions options_;
  std::map<int, std::string> urls_;
  net::ClientCredentials credentials_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int> done_threads_{0};
  std::vector<std::thread> threads_;
  std::map<int, Http*> in_flight_;  // guarded by mu_: thread -> client in use
  mutable std::mutex mu_;
  Leader leader_;                             // guarded by mu_
  std::vector<SendRecord> records_;           // guarded by mu_ (every finished or pending id)
  std::vector<Clock::time_point> ack_times_;  // guarded by mu_
};

// ---- Checks ------------------------------------------------------------------------------

// The producer id of a stream-read message ("message_id", else value.id), "" if none.
std::string MessageId(const Json& message);

// Every acked record is in `log` exactly once, at the acked offset; no id occurs twice.
::testing::AssertionResult AckedExactlyOnce(const std::vector<SendRecord>& records,
                                            const std::vector<Json>& log);

}  // namespace zoomq::cluster_testing

#endif  // ZOOMQ_TESTS_CLUSTER_CLUSTER_HARNESS_H_
