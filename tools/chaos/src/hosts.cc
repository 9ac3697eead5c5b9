#include "hosts.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "zoomq/proc/broker_child.h"      // BrokerChild (tools/proc)
#include "zoomq/proc/zookeeper_server.h"  // ZooKeeperServer (tools/proc)

namespace zoomq::chaos {

using std::chrono::milliseconds;

std::vector<int> Hosts::LiveIds() {
  std::vector<int> out;
  for (int id : ids()) {
    if (Running(id) && !Stopped(id)) out.push_back(id);
  }
  return out;
}

namespace {

// ---- Processes: ZooKeeper and the brokers, the same way on every kind of hosts ------------

// ZooKeeper and the brokers as child processes (tools/proc, the code the cluster tests run
// them with) with their files under `dir`. The kinds of hosts differ only in where the
// processes are: addresses, ports, a command prefix.
class ProcessHosts : public Hosts {
 public:
  explicit ProcessHosts(std::string dir) : dir_(std::move(dir)) {}
  ~ProcessHosts() override {
    KillAll();
    if (!keep_) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string Start(int brokers, int session_ms) override {
    proc::ZooKeeperServerOptions zo = ZooKeeperAt();
    zo.dir = dir_ + "/zk";
    zk_ = std::make_unique<proc::ZooKeeperServer>(std::move(zo));
    if (std::string e = zk_->Start(); !e.empty()) return "ZooKeeper: " + e;
    for (int id = 1; id <= brokers; ++id) {
      proc::BrokerCommand c = BrokerAt(id);
      c.id = id;
      c.dir = dir_ + "/broker" + std::to_string(id);
      c.args.insert(c.args.end(), {"--zk", zk_->hosts() + "/chaos", "--zk-session-ms",
                                   std::to_string(session_ms)});
      c.args.insert(c.args.end(), secure_args_.begin(), secure_args_.end());
      const auto debug = proc::DebugBrokerArgs();
      c.args.insert(c.args.end(), debug.begin(), debug.end());
      c.banner = "zoomq-chaos";
      auto& b = brokers_[id] = std::make_unique<proc::BrokerChild>(std::move(c));
      const milliseconds ready(60000);
      const std::string e = b->port() == 0 ? b->StartOnFreePort(ready) : b->Start(ready);
      if (!e.empty()) return e;
    }
    return "";
  }

  std::vector<int> ids() const override {
    std::vector<int> out;
    for (auto& [id, b] : brokers_) out.push_back(id);
    return out;
  }
  Endpoint endpoint(int id) const override {
    return {id, brokers_.at(id)->host(), brokers_.at(id)->port(), token_};
  }
  void Kill(int id) override { B(id).Kill(); }
  std::string Term(int id) override {
    auto status = B(id).Term(milliseconds(15000));  // SIGKILLed at the deadline
    return status ? proc::DescribeWaitStatus(*status) : "no exit within 15 s: killed";
  }
  void Stop(int id) override { B(id).Stop(); }
  void Cont(int id) override { B(id).Cont(); }
  bool Stopped(int id) const override { return brokers_.at(id)->stopped(); }
  bool Running(int id) override { return B(id).Running(); }
  std::string Restart(int id) override { return B(id).Restart(milliseconds(30000)); }
  void KillZooKeeper() override { zk_->Kill(); }
  std::string RestartZooKeeper() override {
    const std::string e = zk_->Restart();
    return e.empty() ? "" : "ZooKeeper restart: " + e;
  }
  bool ZooKeeperUp() override { return zk_->Serving(); }
  void KeepFiles() override { keep_ = true; }

 protected:
  // Where ZooKeeper runs: address, port (0: a free loopback port), command prefix.
  virtual proc::ZooKeeperServerOptions ZooKeeperAt() const = 0;
  // Where broker `id` runs: host, port (0: a free loopback port), command prefix, flags.
  virtual proc::BrokerCommand BrokerAt(int id) const = 0;

  // Before anything the processes live in goes.
  void KillAll() {
    brokers_.clear();
    zk_.reset();
  }

  std::map<int, std::unique_ptr<proc::BrokerChild>> brokers_;

 private:
  proc::BrokerChild& B(int id) { return *brokers_.at(id); }

  const std::string dir_;
  bool keep_ = false;
  std::unique_ptr<proc::ZooKeeperServer> zk_;
};

// ---- Loopback ------------------------------------------------------------------------------

// Everything on 127.0.0.1, on free ports: what ZooKeeperServerOptions and BrokerCommand say
// when nothing is set.
class LoopbackHosts : public ProcessHosts {
 public:
  using ProcessHosts::ProcessHosts;

 protected:
  proc::ZooKeeperServerOptions ZooKeeperAt() const override { return {}; }
  proc::BrokerCommand BrokerAt(int id) const override { return {}; }
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

class NetnsHosts : public ProcessHosts {
 public:
  explicit NetnsHosts(std::string dir)
      : ProcessHosts(std::move(dir)), prefix_(kNetPrefix + std::to_string(::getpid()) + "-") {}

  ~NetnsHosts() override {
    KillAll();
    // Deleting the hub takes every veth pair with it; the others go with their names.
    for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it) {
      RunIp("netns del " + *it);
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

 protected:
  // Each in its own namespace, on a fixed address and port, through `ip netns exec`.
  proc::ZooKeeperServerOptions ZooKeeperAt() const override {
    proc::ZooKeeperServerOptions o;
    o.address = Address("zk");
    o.port = kZooKeeperPort;
    o.prefix = {IpBinary(), "netns", "exec", prefix_ + "zk"};
    return o;
  }
  proc::BrokerCommand BrokerAt(int id) const override {
    proc::BrokerCommand c;
    c.host = Address(Leaf(id));
    c.port = kBrokerPort;
    c.prefix = {IpBinary(), "netns", "exec", prefix_ + Leaf(id)};
    c.args = {"--advertise-url", "http://" + c.host + ":" + std::to_string(c.port)};
    return c;
  }

 private:
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

  const std::string prefix_;
  std::vector<std::string> namespaces_;
  std::vector<std::pair<std::string, std::string>> routes_;  // (namespace, blackholed ip)
};

}  // namespace

std::unique_ptr<Hosts> MakeLoopbackHosts(const std::string& dir) {
  return std::make_unique<LoopbackHosts>(dir);
}

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
