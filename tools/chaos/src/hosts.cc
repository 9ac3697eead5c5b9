#include "hosts.h"

#include <fcntl.h>
#include <httplib.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cluster_harness.h"  // Cluster, ZooKeeperServer, ChildProcess (tests/support)
#include "zookeeper.h"  // ZooKeeper config and command (tests/support)

namespace zoomq::chaos {

using cluster_testing::ChildProcess;
using cluster_testing::Cluster;
using cluster_testing::ClusterOptions;
using cluster_testing::ZooKeeperServer;
using std::chrono::milliseconds;
using zoomq::testing::WaitFor;

std::vector<int> Hosts::LiveIds() {
  std::vector<int> out;
  for (int id : ids()) {
    if (Running(id) && !Stopped(id)) out.push_back(id);
  }
  return out;
}

namespace {

// ---- Loopback: the cluster test harness --------------------------------------------------

class LoopbackHosts : public Hosts {
 public:
  std::string Start(int brokers, int session_ms) override {
    zk_ = std::make_unique<ZooKeeperServer>();
    if (auto r = zk_->Start(); !r) return "ZooKeeper: " + std::string(r.message());
    ClusterOptions o;
    o.brokers = brokers;
    o.session_ms = session_ms;
    o.zk_hosts = zk_->hosts();
    cluster_ = std::make_unique<Cluster>(o);
    if (auto r = cluster_->Start(milliseconds(60000)); !r) {
      return "brokers: " + std::string(r.message());
    }
    return "";
  }
  std::vector<int> ids() const override { return cluster_->ids(); }
  Endpoint endpoint(int id) const override { return {id, "127.0.0.1", cluster_->Port(id)}; }
  void Kill(int id) override { cluster_->Kill(id); }
  std::string Term(int id) override {
    auto code = cluster_->Term(id, milliseconds(15000));
    return code ? "exit " + std::to_string(*code) : "no clean exit";
  }
  void Stop(int id) override { cluster_->Stop(id); }
  void Cont(int id) override { cluster_->Cont(id); }
  bool Stopped(int id) const override { return cluster_->Stopped(id); }
  bool Running(int id) override { return cluster_->Running(id); }
  std::string Restart(int id) override {
    auto r = cluster_->Restart(id, milliseconds(30000));
    return r ? "" : "restart of broker " + std::to_string(id) + ": " + r.message();
  }
  void KillZooKeeper() override { zk_->Kill(); }
  std::string RestartZooKeeper() override {
    auto r = zk_->Restart();
    return r ? "" : "ZooKeeper restart: " + std::string(r.message());
  }
  bool ZooKeeperUp() override { return zk_->Serving(); }
  void KeepFiles() override { ::setenv("ZOOMQ_IT_KEEP", "1", 1); }

 private:
  std::unique_ptr<ZooKeeperServer> zk_;  // declared first: goes after the brokers
  std::unique_ptr<Cluster> cluster_;
};

// ---- Network namespaces ------------------------------------------------------------------

constexpr const char* kNetPrefix = "zoomq-chaos-";
constexpr int kBrokerPort = 9000;
constexpr int kZooKeeperPort = 2181;

std::string IpBinary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

// Runs `ip <args>` (every name in it is one this tool made); returns its exit status and
// appends what it printed to `output`.
int RunIp(const std::string& args, std::string* output = nullptr) {
  const std::string cmd = IpBinary() + " " + args + " 2>&1";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[512];
  std::string out;
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  const int status = ::pclose(f);
  if (output) *output += out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool HealthOk(const std::string& host, int port) {
  httplib::Client c(host, port);
  c.set_connection_timeout(milliseconds(300));
  c.set_read_timeout(milliseconds(1000));
  auto r = c.Get("/v1/health");
  return r && r->status == 200;
}

// A TCP connection to host:port can be opened (ZooKeeper listens once it serves).
bool Accepts(const std::string& host, int port) {
  httplib::Client c(host, port);
  c.set_connection_timeout(milliseconds(300));
  c.set_read_timeout(milliseconds(300));
  // Not HTTP: any answer or a read timeout after connecting means the port is open; only a
  // failed connect says it is not.
  auto r = c.Get("/");
  return r || r.error() != httplib::Error::Connection;
}


class NetnsHosts : public Hosts {
 public:
  explicit NetnsHosts(std::string dir)
      : dir_(std::move(dir)), prefix_(kNetPrefix + std::to_string(::getpid()) + "-") {}

  ~NetnsHosts() override {
    for (auto& [id, b] : brokers_) b->process.Kill();
    zk_.Kill();
    // Deleting the hub takes every veth pair with it; the others go with their names.
    for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
      RunIp("netns del " + *it);
    }
    if (!keep_) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  // Namespaces, the bridge, the veth pairs; then moves the calling thread into the clients'
  // namespace.
  std::string Setup(int brokers) {
    std::vector<std::string> leaves = {"zk", "cl"};
    for (int id = 1; id <= brokers; ++id) leaves.push_back("b" + std::to_string(id));
    std::string out;
    const std::string hub = prefix_ + "hub";
    if (RunIp("netns add " + hub, &out) != 0) return "ip netns add: " + out;
    namespaces_.push_back(hub);
    if (RunIp("-n " + hub + " link add br0 type bridge", &out) != 0 ||
        RunIp("-n " + hub + " link set br0 up", &out) != 0) {
      return "bridge: " + out;
    }
    for (const auto& leaf : leaves) {
      const std::string ns = prefix_ + leaf;
      if (RunIp("netns add " + ns, &out) != 0) return "ip netns add: " + out;
      namespaces_.push_back(ns);
      const std::string v = "v-" + leaf;
      if (RunIp("-n " + hub + " link add " + v + " type veth peer name eth0 netns " + ns, &out) ||
          RunIp("-n " + hub + " link set " + v + " master br0", &out) ||
          RunIp("-n " + hub + " link set " + v + " up", &out) ||
          RunIp("-n " + ns + " addr add " + Address(leaf) + "/24 dev eth0", &out) ||
          RunIp("-n " + ns + " link set eth0 up", &out) ||
          RunIp("-n " + ns + " link set lo up", &out)) {
        return "veth for " + ns + ": " + out;
      }
    }
    const int fd = ::open(("/run/netns/" + prefix_ + "cl").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
      const std::string e = std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return "setns into the clients' namespace: " + e;
    }
    ::close(fd);
    return "";
  }

  std::string Start(int brokers, int session_ms) override {
    session_ms_ = session_ms;
    if (std::string e = StartZooKeeper(); !e.empty()) return e;
    for (int id = 1; id <= brokers; ++id) {
      auto b = std::make_unique<Broker>();
      b->id = id;
      b->dir = dir_ + "/broker" + std::to_string(id);
      std::filesystem::create_directories(b->dir + "/data");
      brokers_[id] = std::move(b);
    }
    for (int id = 1; id <= brokers; ++id) {
      if (std::string e = Restart(id); !e.empty()) return e;
    }
    return "";
  }

  std::vector<int> ids() const override {
    std::vector<int> out;
    for (auto& [id, b] : brokers_) out.push_back(id);
    return out;
  }
  Endpoint endpoint(int id) const override {
    return {id, Address("b" + std::to_string(id)), kBrokerPort};
  }
  void Kill(int id) override {
    brokers_.at(id)->process.Kill();
    brokers_.at(id)->stopped = false;
  }
  std::string Term(int id) override {
    Broker& b = *brokers_.at(id);
    if (b.stopped) Cont(id);
    b.process.Signal(SIGTERM);
    auto status = b.process.WaitExit(milliseconds(15000));
    if (!status) {
      b.process.Kill();
      return "no exit within 15 s: killed";
    }
    return cluster_testing::DescribeWaitStatus(*status);
  }
  void Stop(int id) override {
    brokers_.at(id)->process.Signal(SIGSTOP);
    brokers_.at(id)->stopped = true;
  }
  void Cont(int id) override {
    brokers_.at(id)->process.Signal(SIGCONT);
    brokers_.at(id)->stopped = false;
  }
  bool Stopped(int id) const override { return brokers_.at(id)->stopped; }
  bool Running(int id) override { return brokers_.at(id)->process.Running(); }

  std::string Restart(int id) override {
    Broker& b = *brokers_.at(id);
    const Endpoint e = endpoint(id);
    const std::string url = "http://" + e.host + ":" + std::to_string(e.port);
    std::string error;
    if (!b.process.Spawn({IpBinary(), "netns", "exec", prefix_ + "b" + std::to_string(id),
                          BrokerBinary(), "--id", std::to_string(id), "--listen",
                          e.host + ":" + std::to_string(e.port), "--advertise-url", url,
                          "--data-dir", b.dir + "/data", "--zk",
                          Address("zk") + ":" + std::to_string(kZooKeeperPort) + "/chaos",
                          "--zk-session-ms", std::to_string(session_ms_)},
                         b.dir + "/broker.log", &error)) {
      return "broker " + std::to_string(id) + ": " + error;
    }
    b.stopped = false;
    bool exited = false;
    const bool ok = WaitFor(
        [&] {
          exited = !b.process.Running();
          return exited || HealthOk(e.host, e.port);
        },
        milliseconds(30000), milliseconds(50));
    if (ok && !exited) return "";
    return "broker " + std::to_string(id) + (exited ? " exited" : " not healthy in 30 s") +
           "; log:\n" + cluster_testing::ReadFileTail(b.dir + "/broker.log", 2000);
  }

  void KillZooKeeper() override { zk_.Kill(); }
  std::string RestartZooKeeper() override {
    zk_.Kill();
    return StartZooKeeper();
  }
  bool ZooKeeperUp() override { return zk_.Running() && Accepts(Address("zk"), kZooKeeperPort); }

  bool CanPartition() const override { return true; }

  // Blackhole routes both ways: packets between the two are dropped, as on a cut cable.
  std::string Cut(int a, int b) override {
    std::string out;
    for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
      const std::string ns = prefix_ + Leaf(from);
      const std::string ip = Address(Leaf(to));
      if (RunIp("-n " + ns + " route add blackhole " + ip + "/32", &out) != 0) {
        return "cut " + Leaf(from) + " -> " + Leaf(to) + ": " + out;
      }
      routes_.push_back({ns, ip});
    }
    return "";
  }

  std::string Isolate(int id) override {
    for (const std::string& other : Others(Leaf(id))) {
      std::string out;
      for (auto [from, to] : {std::pair{Leaf(id), other}, std::pair{other, Leaf(id)}}) {
        const std::string ns = prefix_ + from;
        const std::string ip = Address(to);
        if (RunIp("-n " + ns + " route add blackhole " + ip + "/32", &out) != 0) {
          return "isolate " + Leaf(id) + ": " + out;
        }
        routes_.push_back({ns, ip});
      }
    }
    return "";
  }

  void HealNetwork() override {
    for (const auto& [ns, ip] : routes_) RunIp("-n " + ns + " route del blackhole " + ip + "/32");
    routes_.clear();
  }

  void KeepFiles() override { keep_ = true; }

 private:
  struct Broker {
    int id = 0;
    std::string dir;
    ChildProcess process;
    bool stopped = false;
  };

  static std::string Leaf(int id) { return id == 0 ? "zk" : "b" + std::to_string(id); }
  // 10.213.0.0/24 exists only inside this run's namespaces.
  static std::string Address(const std::string& leaf) {
    if (leaf == "zk") return "10.213.0.2";
    if (leaf == "cl") return "10.213.0.3";
    return "10.213.0." + std::to_string(10 + std::stoi(leaf.substr(1)));
  }
  std::vector<std::string> Others(const std::string& leaf) const {
    std::vector<std::string> out = {"zk", "cl"};
    for (auto& [id, b] : brokers_) out.push_back(Leaf(id));
    out.erase(std::remove(out.begin(), out.end(), leaf), out.end());
    return out;
  }
  static std::string BrokerBinary() {
    if (const char* env = std::getenv("ZOOMQ_BROKER_BIN"); env != nullptr && *env != '\0') {
      return env;
    }
    return ZOOMQ_CHAOS_BROKER_BIN;
  }

  std::string StartZooKeeper() {
    const std::string d = dir_ + "/zk";
    zoomq::testing::ZooKeeperConfig config;
    config.dir = d;
    config.client_address = Address("zk");
    config.client_port = kZooKeeperPort;
    const std::string cfg = zoomq::testing::WriteZooKeeperConfig(config);
    if (cfg.empty()) return "cannot write " + d + "/zoo.cfg";
    std::vector<std::string> command = {IpBinary(), "netns", "exec", prefix_ + "zk"};
    const auto java = zoomq::testing::ZooKeeperCommand(cfg, /*ensemble=*/false);
    if (java.empty()) return "java not found in PATH";
    command.insert(command.end(), java.begin(), java.end());
    std::string error;
    if (!zk_.Spawn(command, d + "/zk.log", &error)) return "ZooKeeper: " + error;
    if (!WaitFor([&] { return !zk_.Running() || Accepts(Address("zk"), kZooKeeperPort); },
                 milliseconds(30000), milliseconds(100)) ||
        !zk_.Running()) {
      return "ZooKeeper did not serve; log:\n" +
             cluster_testing::ReadFileTail(d + "/zk.log", 2000);
    }
    return "";
  }

  const std::string dir_;
  const std::string prefix_;
  int session_ms_ = 2000;
  bool keep_ = false;
  std::vector<std::string> namespaces_;
  ChildProcess zk_;
  std::map<int, std::unique_ptr<Broker>> brokers_;
  std::vector<std::pair<std::string, std::string>> routes_;  // (namespace, blackholed ip)
};

}  // namespace

std::unique_ptr<Hosts> MakeLoopbackHosts() { return std::make_unique<LoopbackHosts>(); }

std::unique_ptr<Hosts> MakeNetnsHosts(const std::string& dir, std::string* error) {
  if (::geteuid() != 0) {
    *error = "--netns needs root (id -u is " + std::to_string(::geteuid()) +
             "): it creates network namespaces, veth pairs and a bridge";
    return nullptr;
  }
  if (IpBinary().empty()) {
    *error = "--netns needs iproute2's `ip`";
    return nullptr;
  }
  RemoveStaleNamespaces();
  auto hosts = std::make_unique<NetnsHosts>(dir);
  if (std::string e = hosts->Setup(3); !e.empty()) {
    *error = e;
    return nullptr;  // the destructor removed what was made
  }
  return hosts;
}

int RemoveStaleNamespaces() {
  std::string list;
  if (IpBinary().empty() || RunIp("netns list", &list) != 0) return 0;
  std::istringstream lines(list);
  std::string line;
  int removed = 0;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));
    if (name.rfind(kNetPrefix, 0) != 0) continue;
    const std::string rest = name.substr(std::string(kNetPrefix).size());
    const pid_t pid = static_cast<pid_t>(std::atol(rest.substr(0, rest.find('-')).c_str()));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its run is still going
    if (RunIp("netns del " + name) == 0) ++removed;
  }
  return removed;
}

}  // namespace zoomq::chaos
