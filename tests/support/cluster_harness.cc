#include "cluster_harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "zoomq/proc/zookeeper.h"  // ZooKeeper config, command, readiness (tools/proc)
#include "zoomq/security/token.h"

namespace zoomq::cluster_testing {

using zoomq::proc::IgnoreSigpipe;
using zoomq::proc::PickFreePort;
using zoomq::proc::RemoveTempDir;

int64_t MillisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<milliseconds>(to - from).count();
}

namespace {

// A wait status as an exit code: nullopt for none (timeout) or a death by a signal.
std::optional<int> ExitCode(std::optional<int> status) {
  if (status && WIFEXITED(*status)) return WEXITSTATUS(*status);
  return std::nullopt;
}

std::vector<int> IntList(const Json& j) {
  std::vector<int> out;
  if (!j.is_array()) return out;
  for (const auto& x : j) {
    if (x.is_number_integer()) out.push_back(x.get<int>());
  }
  return out;
}

std::string ListString(const std::vector<int>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

std::unique_ptr<httplib::Client> ShortClient(const std::string& url,
                                             const net::ClientCredentials& credentials,
                                             milliseconds connect, milliseconds read) {
  auto c = net::MakeHttpClient(url, credentials);
  c->set_connection_timeout(connect);
  c->set_read_timeout(read);
  c->set_write_timeout(read);
  c->set_tcp_nodelay(true);
  return c;
}

}  // namespace

// ---- ZooKeeper -------------------------------------------------------------------------

ZooKeeperServer* SharedZooKeeper() {
  static std::unique_ptr<ZooKeeperServer> server;
  static bool failed = false;
  if (server && server->Serving()) return server.get();
  if (failed) {
    ADD_FAILURE() << "ZooKeeper could not be started earlier in this process";
    return nullptr;
  }
  server = std::make_unique<ZooKeeperServer>();
  const auto start = Clock::now();
  if (std::string error = server->Start(); !error.empty()) {
    failed = true;
    ADD_FAILURE() << error;
    server.reset();
    return nullptr;
  }
  std::printf("[cluster] ZooKeeper serving on %s after %lld ms\n", server->hosts().c_str(),
              static_cast<long long>(MillisBetween(start, Clock::now())));
  return server.get();
}

// ---- ReplicaReport ---------------------------------------------------------------------

std::string ReplicaReport::Summary() const {
  std::string s = "compared up to offset " + std::to_string(compared_up_to) + "; hwm:";
  for (auto& [id, h] : high_watermarks) {
    s += " b" + std::to_string(id) + "=" + std::to_string(h) + "(" +
         std::to_string(entries.count(id) ? entries.at(id) : 0) + " entries)";
  }
  if (!problems.empty()) {
    s += "; " + std::to_string(problems.size()) + " problem(s):";
    for (size_t i = 0; i < problems.size() && i < 20; ++i) s += "\n  " + problems[i];
  }
  return s;
}

// ---- Cluster ---------------------------------------------------------------------------

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  IgnoreSigpipe();
  if (options_.tls) credentials_ = options_.tls->ClientCredentials();
  credentials_.token = options_.admin_token;  // "" with security off
  dir_ = MakeTempDir("zoomq-cluster");
  if (!options_.admin_token.empty()) {
    const std::string path = dir_ + "/admin.token";
    std::ofstream(path) << options_.admin_token << "\n";
    ::chmod(path.c_str(), 0600);
    options_.extra_args.insert(options_.extra_args.end(), {"--admin-token-file", path});
  }
  for (int id = 1; id <= options_.brokers; ++id) {
    zoomq::proc::BrokerCommand c;
    c.id = id;
    c.dir = dir_ + "/broker-" + std::to_string(id);
    c.banner = "zoomq-cluster-test";
    c.tls = options_.tls.has_value();
    c.credentials = credentials_;
    brokers_[id] = std::make_unique<zoomq::proc::BrokerChild>(std::move(c));
  }
  if (!options_.zk_digest.empty() && !dir_.empty()) {
    zk_auth_file_ = dir_ + "/zk-auth";
    std::ofstream(zk_auth_file_) << options_.zk_digest << "\n";
    std::filesystem::permissions(
        zk_auth_file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
}

Cluster::~Cluster() {
  // Resume stopped brokers so that SIGKILL is delivered at once.
  for (auto& [id, b] : brokers_) b->Kill();
  if (::testing::Test::HasFailure()) DumpLogs(12000);
  RemoveTempDir(dir_);
}

zoomq::proc::BrokerChild& Cluster::B(int id) { return *brokers_.at(id); }
const zoomq::proc::BrokerChild& Cluster::B(int id) const { return *brokers_.at(id); }

std::string Cluster::LogPath(int id) const { return B(id).log_path(); }
std::string Cluster::LogTail(int id, size_t max_bytes) const {
  return ReadFileTail(LogPath(id), max_bytes);
}

void Cluster::DumpLogs(size_t max_bytes) const {
  for (const auto& [id, b] : brokers_) {
    std::fprintf(stderr,
                 "---- broker %d log (%s), last bytes ----\n%s---- end of broker %d log ----\n", id,
                 LogPath(id).c_str(), LogTail(id, max_bytes).c_str(), id);
  }
}

std::vector<std::string> Cluster::BrokerArgs(int id) const {
  std::vector<std::string> args = {"--zk", zk_connect_, "--zk-session-ms",
                                   std::to_string(options_.session_ms)};
  if (!zk_auth_file_.empty()) args.insert(args.end(), {"--zk-auth-file", zk_auth_file_});
  if (options_.tls) {
    const auto tls = options_.tls->BrokerArgs();
    args.insert(args.end(), tls.begin(), tls.end());
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  if (auto it = options_.broker_args.find(id); it != options_.broker_args.end()) {
    args.insert(args.end(), it->second.begin(), it->second.end());
  }
  const auto debug = zoomq::proc::DebugBrokerArgs();
  args.insert(args.end(), debug.begin(), debug.end());
  return args;
}

::testing::AssertionResult Cluster::WaitMembership(milliseconds timeout) {
  std::string last;
  const bool ok = WaitFor(
      [&] {
        std::set<int> controllers;
        for (int id : LiveIds()) {
          auto v = View(id);
          if (!v) {
            last = "broker " + std::to_string(id) + ": no /v1/cluster answer";
            return false;
          }
          const Json& brokers = (*v)["brokers"];
          std::set<int> seen;
          if (brokers.is_array()) {
            for (const auto& x : brokers) {
              if (x.is_object() && x.value("alive", true)) seen.insert(x.value("id", -1));
            }
          }
          std::set<int> want;
          for (int l : LiveIds()) want.insert(l);
          if (seen != want) {
            last = "broker " + std::to_string(id) + " sees brokers " +
                   v->value("brokers", Json()).dump();
            return false;
          }
          const int c = v->value("controller", -1);
          if (c <= 0) {
            last = "broker " + std::to_string(id) + " knows no controller";
            return false;
          }
          controllers.insert(c);
        }
        if (controllers.size() != 1) {
          last = "brokers disagree about the controller";
          return false;
        }
        return true;
      },
      timeout, milliseconds(50));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "cluster membership not complete within " << timeout.count() << " ms: " << last;
}

ZooKeeperEnsemble::ZooKeeperEnsemble(int n) : dir_(MakeTempDir("zoomq-zk-ensemble")) {
  for (int i = 0; i < n; ++i) {
    client_ports_.push_back(PickFreePort());
    peer_ports_.push_back(PickFreePort());
    election_ports_.push_back(PickFreePort());
    processes_.push_back(std::make_unique<ChildProcess>());
  }
}

ZooKeeperEnsemble::~ZooKeeperEnsemble() {
  for (auto& p : processes_) p->Kill();
  RemoveTempDir(dir_);
}

std::string ZooKeeperEnsemble::hosts() const {
  std::string s;
  for (int port : client_ports_)
    s += (s.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(port);
  return s;
}

bool ZooKeeperEnsemble::Serving(int i) {
  return zoomq::proc::ZooKeeperServing("127.0.0.1", client_ports_[i]);
}

void ZooKeeperEnsemble::Kill(int i) { processes_[i]->Kill(); }

::testing::AssertionResult ZooKeeperEnsemble::Start(milliseconds timeout) {
  if (dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  std::vector<std::string> members;
  for (int j = 0; j < size(); ++j) {
    members.push_back("127.0.0.1:" + std::to_string(peer_ports_[j]) + ":" +
                      std::to_string(election_ports_[j]));
  }
  for (int i = 0; i < size(); ++i) {
    zoomq::proc::ZooKeeperConfig config;
    config.dir = dir_ + "/zk" + std::to_string(i + 1);
    config.client_port = client_ports_[i];
    config.id = i + 1;
    config.members = members;
    const std::string cfg = zoomq::proc::WriteZooKeeperConfig(config);
    if (cfg.empty()) return ::testing::AssertionFailure() << "cannot write " << config.dir;
    const auto command = zoomq::proc::ZooKeeperCommand(cfg, /*ensemble=*/true);
    if (command.empty()) return ::testing::AssertionFailure() << "java not found in PATH";
    std::string error;
    if (!processes_[i]->Spawn(command, config.dir + "/zk.log", &error)) {
      return ::testing::AssertionFailure() << error;
    }
  }
  const bool ok = WaitFor(
      [&] {
        for (int i = 0; i < size(); ++i) {
          if (!Serving(i)) return false;
        }
        return true;
      },
      timeout, milliseconds(50));
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "ensemble not serving within " << timeout.count() << " ms (logs under " << dir_ << ")";
}

::testing::AssertionResult Cluster::Start(milliseconds timeout) {
  if (dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  std::string zk_hosts = options_.zk_hosts;
  if (zk_hosts.empty()) {
    ZooKeeperServer* zk = SharedZooKeeper();
    if (zk == nullptr) return ::testing::AssertionFailure() << "no ZooKeeper";
    zk_hosts = zk->hosts();
  }
  static std::atomic<int> counter{0};
  std::string test = "cluster";
  if (auto* info = ::testing::UnitTest::GetInstance()->current_test_info()) test = info->name();
  for (char& c : test) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  zk_connect_ = zk_hosts + "/test-" + std::to_string(::getpid()) + "-" +
                std::to_string(counter.fetch_add(1)) + "-" + test;
  const auto start = Clock::now();
  for (auto& [id, b] : brokers_) {
    b->command().args = BrokerArgs(id);
    if (std::string error = b->StartOnFreePort(timeout); !error.empty()) {
      return ::testing::AssertionFailure() << error;
    }
  }
  auto members = WaitMembership(timeout);
  if (!members) return members;
  std::printf("[cluster] %d brokers up (zk %s, session %d ms) in %lld ms, controller %d\n",
              options_.brokers, zk_connect_.c_str(), options_.session_ms,
              static_cast<long long>(MillisBetween(start, Clock::now())), Controller());
  return ::testing::AssertionSuccess();
}

void Cluster::Kill(int id) { B(id).Kill(); }

std::optional<int> Cluster::Term(int id, milliseconds timeout) {
  return ExitCode(B(id).Term(timeout));
}

void Cluster::SendSignal(int id, int sig) { B(id).Signal(sig); }

std::optional<int> Cluster::WaitExit(int id, milliseconds timeout) {
  return ExitCode(B(id).WaitExit(timeout));
}

void Cluster::Stop(int id) { B(id).Stop(); }

void Cluster::Cont(int id) { B(id).Cont(); }

::testing::AssertionResult Cluster::Restart(int id, milliseconds timeout) {
  if (std::string error = B(id).Restart(timeout); !error.empty()) {
    return ::testing::AssertionFailure() << error;
  }
  return ::testing::AssertionSuccess();
}

bool Cluster::Running(int id) { return B(id).Running(); }
bool Cluster::Stopped(int id) const { return B(id).stopped(); }

std::vector<int> Cluster::LiveIds() {
  std::vector<int> out;
  for (auto& [id, b] : brokers_) {
    if (!b->stopped() && b->Running()) out.push_back(id);
  }
  return out;
}

std::vector<int> Cluster::ids() const {
  std::vector<int> out;
  for (auto& [id, b] : brokers_) out.push_back(id);
  return out;
}

std::string Cluster::Url(int id) const { return B(id).url(); }
int Cluster::Port(int id) const { return B(id).port(); }

std::map<int, std::string> Cluster::Urls() const {
  std::map<int, std::string> out;
  for (auto& [id, b] : brokers_) out[id] = Url(id);
  return out;
}

std::optional<Json> Cluster::View(int id, milliseconds timeout) const {
  auto c = ShortClient(Url(id), credentials_, milliseconds(300), timeout);
  auto res = c->Get("/v1/cluster");
  if (!res || res->status != 200) return std::nullopt;
  Json j = Json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

namespace {
std::optional<PartitionView> FindPartition(const Json& view, int reporter, const std::string& topic,
                                           int partition) {
  if (!view.contains("topics") || !view["topics"].is_array()) return std::nullopt;
  for (const auto& t : view["topics"]) {
    if (!t.is_object() || t.value("name", "") != topic) continue;
    if (!t.contains("partitions") || !t["partitions"].is_array()) return std::nullopt;
    for (const auto& p : t["partitions"]) {
      if (!p.is_object() || p.value("partition", -1) != partition) continue;
      PartitionView pv;
      pv.reporter = reporter;
      pv.leader = p.value("leader", -1);
      pv.epoch = p.value("epoch", int64_t{-1});
      pv.replicas = IntList(p.value("replicas", Json::array()));
      pv.isr = IntList(p.value("isr", Json::array()));
      pv.high_watermark = p.value("high_watermark", int64_t{-1});
      pv.log_end_offset = p.value("log_end_offset", int64_t{-1});
      return pv;
    }
  }
  return std::nullopt;
}
}  // namespace

std::vector<PartitionView> Cluster::PartitionViews(const std::string& topic, int partition,
                                                   std::vector<int> from) {
  if (from.empty()) from = LiveIds();
  std::vector<PartitionView> out;
  for (int id : from) {
    auto v = View(id);
    if (!v) continue;
    if (auto pv = FindPartition(*v, id, topic, partition)) out.push_back(*pv);
  }
  return out;
}

std::optional<PartitionView> Cluster::Partition(const std::string& topic, int partition,
                                                std::vector<int> from) {
  std::optional<PartitionView> best;
  for (const auto& pv : PartitionViews(topic, partition, std::move(from))) {
    if (!best || pv.epoch > best->epoch) best = pv;
  }
  return best;
}

int Cluster::Leader(const std::string& topic, int partition, std::vector<int> from) {
  auto pv = Partition(topic, partition, std::move(from));
  return pv ? pv->leader : -1;
}

std::optional<PartitionView> Cluster::WaitForLeader(
    const std::string& topic, int partition, milliseconds timeout,
    const std::function<bool(const PartitionView&)>& pred) {
  std::optional<PartitionView> found;
  WaitFor(
      [&] {
        auto views = PartitionViews(topic, partition);
        std::optional<PartitionView> best;
        for (const auto& pv : views) {
          if (!best || pv.epoch > best->epoch) best = pv;
        }
        if (!best || best->leader <= 0) return false;
        const auto live = LiveIds();
        if (std::find(live.begin(), live.end(), best->leader) == live.end()) return false;
        if (pred && !pred(*best)) return false;
        // The leader must know it leads at that epoch.
        bool leader_knows = false;
        for (const auto& pv : views) {
          if (pv.reporter == best->leader && pv.epoch == best->epoch && pv.leader == best->leader) {
            leader_knows = true;
          }
        }
        if (!leader_knows) return false;
        found = best;
        return true;
      },
      timeout, milliseconds(10));
  return found;
}

int Cluster::Controller() {
  std::set<int> seen;
  for (int id : LiveIds()) {
    auto v = View(id);
    if (!v) continue;
    seen.insert(v->value("controller", -1));
  }
  return seen.size() == 1 ? *seen.begin() : -1;
}

::testing::AssertionResult Cluster::CreateTopic(const std::string& name, Json config,
                                                milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Json body = std::move(config);
  body["name"] = name;
  std::string last;
  // Through the controller: until the HTTP layer forwards, other brokers create local topics.
  bool created = false;
  while (!created && Clock::now() < deadline) {
    const int controller = Controller();
    if (controller <= 0) {
      last = "no agreed controller";
      std::this_thread::sleep_for(milliseconds(50));  // ok: see comment / poll with deadline
      continue;
    }
    Http http(Url(controller), credentials_, milliseconds(10000));
    auto r = http.Post("/v1/topics", body);
    if (r.status == 201 || r.status == 200) {
      created = true;
    } else {
      last = "POST /v1/topics to controller " + std::to_string(controller) + ": " + r.Describe();
      std::this_thread::sleep_for(milliseconds(100));  // ok: see comment / poll with deadline
    }
  }
  if (!created)
    return ::testing::AssertionFailure() << "cannot create topic " << name << ": " << last;
  const int rf = body.value("replication_factor", std::min(3, options_.brokers));
  const int partitions = body.value("partitions", 1);
  const bool ok = WaitFor(
      [&] {
        for (int id : LiveIds()) {
          for (int p = 0; p < partitions; ++p) {
            auto v = View(id);
            if (!v) {
              last = "broker " + std::to_string(id) + ": no /v1/cluster";
              return false;
            }
            auto pv = FindPartition(*v, id, name, p);
            if (!pv) {
              last = "broker " + std::to_string(id) + " /v1/cluster lacks " + name + "/" +
                     std::to_string(p) + " (is the cluster router enabled?): " + v->dump();
              return false;
            }
            if (pv->leader <= 0 || static_cast<int>(pv->isr.size()) != rf ||
                static_cast<int>(pv->replicas.size()) != rf) {
              last = "broker " + std::to_string(id) + " reports " + name + "/" + std::to_string(p) +
                     " leader " + std::to_string(pv->leader) + " isr " + ListString(pv->isr) +
                     " replicas " + ListString(pv->replicas);
              return false;
            }
          }
        }
        return true;
      },
      std::max(milliseconds(100),
               std::chrono::duration_cast<milliseconds>(deadline - Clock::now())),
      milliseconds(20));
  if (!ok) {
    return ::testing::AssertionFailure()
           << "topic " << name << " not ready on every broker: " << last;
  }
  return ::testing::AssertionSuccess();
}

std::optional<Json> Cluster::ReplicaLog(int id, const std::string& topic, int partition) {
  // A route between brokers: the harness presents a broker credential (broker 0's).
  net::ClientCredentials as_broker = credentials_;
  if (!options_.admin_token.empty()) {
    as_broker.token = zoomq::security::BrokerCredential(options_.admin_token, 0);
  }
  auto c = ShortClient(Url(id), as_broker, milliseconds(500), milliseconds(10000));
  auto res = c->Get("/internal/v1/log?topic=" + topic + "&partition=" + std::to_string(partition));
  if (!res || res->status != 200) return std::nullopt;
  Json j = Json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

ReplicaReport Cluster::CompareReplicas(const std::string& topic, int partition,
                                       std::vector<int> brokers) {
  ReplicaReport report;
  if (brokers.empty()) {
    auto pv = Partition(topic, partition);
    for (int id : LiveIds()) {
      if (!pv || pv->replicas.empty() ||
          std::find(pv->replicas.begin(), pv->replicas.end(), id) != pv->replicas.end()) {
        brokers.push_back(id);
      }
    }
  }
  std::map<int, std::map<int64_t, Json>> logs;
  int64_t min_hwm = INT64_MAX;
  for (int id : brokers) {
    auto log = ReplicaLog(id, topic, partition);
    if (!log) {
      report.problems.push_back("broker " + std::to_string(id) + ": no /internal/v1/log answer");
      continue;
    }
    const int64_t hwm = log->value("high_watermark", int64_t{-1});
    report.high_watermarks[id] = hwm;
    min_hwm = std::min(min_hwm, hwm);
    auto& entries = logs[id];
    const Json& list = (*log)["entries"];
    report.entries[id] = list.is_array() ? list.size() : 0;
    int64_t prev = -1;
    if (list.is_array()) {
      for (const auto& e : list) {
        const int64_t off = e.value("offset", int64_t{-1});
        if (prev >= 0 && off != prev + 1) {
          report.problems.push_back("broker " + std::to_string(id) + ": gap or disorder " +
                                    std::to_string(prev) + " -> " + std::to_string(off));
        }
        if (off >= hwm) {
          report.problems.push_back("broker " + std::to_string(id) + ": entry " +
                                    std::to_string(off) + " at or above its hwm " +
                                    std::to_string(hwm));
        }
        prev = off;
        entries[off] = e;
      }
    }
  }
  if (logs.empty()) return report;
  report.compared_up_to = min_hwm == INT64_MAX ? 0 : min_hwm;
  // The first offset every replica still holds (retention may differ by a little).
  int64_t from = 0;
  for (auto& [id, entries] : logs) {
    if (!entries.empty()) from = std::max(from, entries.begin()->first);
  }
  for (int64_t off = from; off < report.compared_up_to; ++off) {
    const Json* ref = nullptr;
    int ref_id = 0;
    for (auto& [id, entries] : logs) {
      auto it = entries.find(off);
      if (it == entries.end()) {
        report.problems.push_back("broker " + std::to_string(id) + " lacks offset " +
                                  std::to_string(off) + " (below the smallest hwm)");
        continue;
      }
      if (ref == nullptr) {
        ref = &it->second;
        ref_id = id;
      } else if (it->second != *ref) {
        report.problems.push_back("offset " + std::to_string(off) + ": broker " +
                                  std::to_string(ref_id) + " has " + ref->dump() + ", broker " +
                                  std::to_string(id) + " has " + it->second.dump());
      }
    }
    if (report.problems.size() > 50) break;
  }
  return report;
}

::testing::AssertionResult Cluster::WaitReplicasConverged(const std::string& topic, int partition,
                                                          milliseconds timeout,
                                                          ReplicaReport* out) {
  ReplicaReport report;
  const bool ok = WaitFor(
      [&] {
        report = CompareReplicas(topic, partition);
        if (!report.problems.empty() || report.high_watermarks.empty()) return false;
        int64_t hi = -1, lo = INT64_MAX;
        for (auto& [id, h] : report.high_watermarks) {
          hi = std::max(hi, h);
          lo = std::min(lo, h);
        }
        return hi == lo;
      },
      timeout, milliseconds(100));
  if (out) *out = report;
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << topic << "/" << partition << ": replicas did not converge within " << timeout.count()
         << " ms: " << report.Summary();
}

std::vector<Json> Cluster::ReadPartition(int id, const std::string& topic, int partition) {
  Http http(Url(id), credentials_, milliseconds(10000));
  return zoomq::testing::ReadAll(http, topic, partition, 0);
}

// ---- Producer --------------------------------------------------------------------------

Producer::Producer(const Cluster& cluster, ProducerOptions options)
    : options_(std::move(options)),
      urls_(cluster.Urls()),
      credentials_(cluster.client_credentials()) {}

Producer::~Producer() { Stop(); }

void Producer::Start() {
  for (int t = 0; t < options_.threads; ++t) threads_.emplace_back([this, t] { Run(t); });
}

void Producer::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [thread, http] : in_flight_) http->Stop();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool Producer::WaitForAcks(int64_t n, milliseconds timeout) {
  return WaitFor([&] { return acked_.load() >= n; }, timeout, milliseconds(5));
}

bool Producer::WaitForMoreAcks(int64_t n, milliseconds timeout) {
  return WaitForAcks(acked_.load() + n, timeout);
}

bool Producer::WaitDone(milliseconds timeout) {
  return WaitFor([&] { return done_threads_.load() >= options_.threads; }, timeout,
                 milliseconds(10));
}

Producer::Leader Producer::CurrentLeader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (leader_.id > 0) return leader_;
  }
  return RefreshLeader();
}

// Like an SDK: asks every broker it knows for /v1/cluster (short timeouts) and believes the
// newest (highest epoch) description of the partition.
Producer::Leader Producer::RefreshLeader() {
  Leader best;
  for (auto& [id, url] : urls_) {
    auto c = ShortClient(url, credentials_, options_.connect_timeout, options_.metadata_timeout);
    auto res = c->Get("/v1/cluster");
    if (!res || res->status != 200) continue;
    Json j = Json::parse(res->body, nullptr, false);
    if (j.is_discarded()) continue;
    auto pv = FindPartition(j, id, options_.topic, options_.partition);
    if (pv && pv->epoch > best.epoch) {
      best.id = pv->leader;
      best.epoch = pv->epoch;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (best.epoch >= leader_.epoch) leader_ = best;
  return leader_;
}

Http& Producer::ClientFor(std::map<int, std::unique_ptr<Http>>& clients, int broker) {
  auto& c = clients[broker];
  if (!c) {
    c = std::make_unique<Http>(urls_.at(broker), credentials_, options_.read_timeout);
    c->client().set_connection_timeout(options_.connect_timeout);
  }
  return *c;
}

void Producer::Run(int thread) {
  std::map<int, std::unique_ptr<Http>> clients;
  for (int64_t seq = 0; !stop_; ++seq) {
    if (options_.messages_per_thread >= 0 && seq >= options_.messages_per_thread) break;
    SendRecord rec;
    rec.id = options_.id_prefix + "-" + std::to_string(thread) + "-" + std::to_string(seq);
    rec.thread = thread;
    rec.seq = seq;
    rec.first_sent = Clock::now();
    const Json body = {
        {"messages",
         Json::array({{{"id", rec.id},
                       {"partition", options_.partition},
                       {"value", {{"id", rec.id}, {"thread", thread}, {"seq", seq}}}}})}};
    const std::string path = "/v1/topics/" + options_.topic + "/messages";
    milliseconds backoff = options_.backoff_initial;
    size_t index;
    {
      std::lock_guard<std::mutex> lock(mu_);
      index = records_.size();
      records_.push_back(rec);
    }
    while (!stop_) {
      int broker = options_.pinned_broker;
      if (broker <= 0) broker = CurrentLeader().id;
      std::string failure;
      if (broker <= 0 || !urls_.count(broker)) {
        failure = "no leader known";
        ++failed_;
      } else {
        ++rec.attempts;
        ++requests_;
        Http& http = ClientFor(clients, broker);
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) break;
          in_flight_[thread] = &http;
        }
        HttpResponse r = http.Post(path, body);
        {
          std::lock_guard<std::mutex> lock(mu_);
          in_flight_.erase(thread);
        }
        if (stop_ && r.status == 0) break;  // aborted by Stop(): not the broker's answer
        rec.last_answer = Clock::now();
        rec.last_status = r.status;
        const Json* result = nullptr;
        if (r.status == 200 && r.body.is_object() && r.body.contains("results") &&
            r.body["results"].is_array() && r.body["results"].size() == 1) {
          result = &r.body["results"][0];
        }
        if (result != nullptr) {
          rec.acked = true;
          rec.acked_at = rec.last_answer;
          rec.acked_wall = WallClockNow();
          rec.acked_by = broker;
          rec.offset = result->value("offset", int64_t{-1});
          rec.duplicate = result->value("duplicate", false);
          {
            std::lock_guard<std::mutex> lock(mu_);
            records_[index] = rec;
            ack_times_.push_back(rec.acked_at);
          }
          ++acked_;
          break;
        }
        ++failed_;
        failure = "broker " + std::to_string(broker) + ": " +
                  (r.status == 0 ? "no answer (" + httplib::to_string(r.error) + ")"
                                 : "HTTP " + std::to_string(r.status) + " " + r.error_code());
        if (r.status == 0) clients.erase(broker);  // reconnect next time
      }
      rec.failures.push_back(failure);
      {
        std::lock_guard<std::mutex> lock(mu_);
        records_[index] = rec;
      }
      if (options_.pinned_broker > 0 && options_.max_attempts > 0 &&
          rec.attempts >= options_.max_attempts) {
        break;
      }
      if (options_.pinned_broker <= 0) {
        // Retry at once after the first failure with fresh metadata, then back off.
        RefreshLeader();
        if (rec.failures.size() == 1) continue;
      }
      std::this_thread::sleep_for(backoff);  // ok: see comment / poll with deadline
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    if (options_.interval.count() > 0)
      std::this_thread::sleep_for(options_.interval);  // ok: see comment / poll with deadline
  }
  ++done_threads_;
}

std::vector<SendRecord> Producer::Records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

std::vector<SendRecord> Producer::AckedRecords() const {
  std::vector<SendRecord> out;
  for (auto& r : Records()) {
    if (r.acked) out.push_back(r);
  }
  return out;
}

std::vector<Clock::time_point> Producer::AckTimes() const {
  std::vector<Clock::time_point> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = ack_times_;
  }
  std::sort(t.begin(), t.end());
  return t;
}

int64_t Producer::OutageAround(Clock::time_point t, milliseconds before, milliseconds after) const {
  auto times = AckTimes();
  auto lo = std::lower_bound(times.begin(), times.end(), t - before);
  auto hi = std::upper_bound(times.begin(), times.end(), t + after);
  if (std::upper_bound(times.begin(), times.end(), t) == times.end()) return -1;
  int64_t gap = -1;
  for (auto it = lo; it != hi && std::next(it) != hi; ++it) {
    gap = std::max(gap, MillisBetween(*it, *std::next(it)));
  }
  return gap;
}

std::map<int, int> Producer::FailuresPerAckedId() const {
  std::map<int, int> h;
  for (auto& r : Records()) {
    if (r.acked) ++h[static_cast<int>(r.failures.size())];
  }
  return h;
}

std::map<std::string, int> Producer::FailureKinds() const {
  std::map<std::string, int> k;
  for (auto& r : Records()) {
    for (auto& f : r.failures) ++k[f];
  }
  return k;
}

int64_t Producer::MaxAckLatencyMs() const {
  int64_t m = 0;
  for (auto& r : Records()) {
    if (r.acked) m = std::max(m, MillisBetween(r.first_sent, r.acked_at));
  }
  return m;
}

// ---- Checks ----------------------------------------------------------------------------

std::string MessageId(const Json& m) {
  if (!m.is_object()) return "";
  if (m.contains("message_id") && m["message_id"].is_string()) {
    return m["message_id"].get<std::string>();
  }
  if (m.contains("value") && m["value"].is_object() && m["value"].contains("id") &&
      m["value"]["id"].is_string()) {
    return m["value"]["id"].get<std::string>();
  }
  return "";
}

::testing::AssertionResult AckedExactlyOnce(const std::vector<SendRecord>& records,
                                            const std::vector<Json>& log) {
  std::map<std::string, std::vector<int64_t>> where;
  int64_t expected_offset = -1;
  std::vector<std::string> problems;
  for (const auto& m : log) {
    const int64_t off = m.value("offset", int64_t{-1});
    if (expected_offset >= 0 && off != expected_offset) {
      problems.push_back("offsets not dense: " + std::to_string(expected_offset - 1) + " -> " +
                         std::to_string(off));
    }
    expected_offset = off + 1;
    const std::string id = MessageId(m);
    if (!id.empty()) where[id].push_back(off);
  }
  int64_t acked = 0;
  for (const auto& [id, offs] : where) {
    if (offs.size() > 1) {
      std::string s;
      for (auto o : offs) s += " " + std::to_string(o);
      problems.push_back("id " + id + " occurs " + std::to_string(offs.size()) + " times, at" + s);
    }
  }
  for (const auto& r : records) {
    if (!r.acked) continue;
    ++acked;
    auto it = where.find(r.id);
    if (it == where.end()) {
      problems.push_back("LOST: id " + r.id + " answered 200 by broker " +
                         std::to_string(r.acked_by) + " at " + r.acked_wall + " (offset " +
                         std::to_string(r.offset) + ", " + std::to_string(r.failures.size()) +
                         " failed attempt(s) before) is not in the log");
    } else if (r.offset >= 0 && it->second.front() != r.offset) {
      problems.push_back("id " + r.id + " answered offset " + std::to_string(r.offset) +
                         " by broker " + std::to_string(r.acked_by) + " at " + r.acked_wall +
                         " but is at offset " + std::to_string(it->second.front()));
    }
  }
  if (problems.empty()) return ::testing::AssertionSuccess();
  auto f = ::testing::AssertionFailure();
  f << problems.size() << " problem(s) among " << acked << " acked ids and " << log.size()
    << " log entries:";
  for (size_t i = 0; i < problems.size() && i < 30; ++i) f << "\n  " << problems[i];
  return f;
}

}  // namespace zoomq::cluster_testing
