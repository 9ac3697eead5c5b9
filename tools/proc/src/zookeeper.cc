#include "zoomq/proc/zookeeper.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace zoomq::proc {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream ss(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string p = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

}  // namespace

std::string WriteZooKeeperConfig(const ZooKeeperConfig& c) {
  std::error_code ec;
  std::filesystem::create_directories(c.dir + "/data", ec);
  if (ec) return "";
  const std::string path = c.dir + "/zoo.cfg";
  std::ofstream cfg(path);
  cfg << "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
      << "dataDir=" << c.dir << "/data\n"
      << "clientPort=" << c.client_port << "\nclientPortAddress=" << c.client_address << "\n"
      << "admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,mntr\n"
      << "maxClientCnxns=0\nforceSync=no\n";
  for (size_t i = 0; i < c.members.size(); ++i) {
    cfg << "server." << (i + 1) << "=" << c.members[i] << "\n";
  }
  if (c.id > 0) std::ofstream(c.dir + "/data/myid") << c.id << "\n";
  return cfg.good() ? path : "";
}

std::vector<std::string> ZooKeeperCommand(const std::string& config_path, bool ensemble) {
  std::string java = Env("ZOOMQ_JAVA");
  if (java.empty()) java = FindInPath("java");
  if (java.empty()) return {};
  std::string cp = Env("ZOOMQ_ZK_CLASSPATH");
  if (cp.empty()) {
    cp = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-api.jar";
    if (::access("/usr/share/java/slf4j-simple.jar", R_OK) == 0) {
      cp += ":/usr/share/java/slf4j-simple.jar";
    }
  }
  return {java,
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          "-Xmx128m",
          "-XX:-UsePerfData",
          "-cp",
          cp,
          ensemble ? "org.apache.zookeeper.server.quorum.QuorumPeerMain"
                   : "org.apache.zookeeper.server.ZooKeeperServerMain",
          config_path};
}

std::string FourLetterWord(const std::string& host, int port, const std::string& word) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::write(fd, word.data(), word.size()) == static_cast<ssize_t>(word.size())) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1000);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

bool ZooKeeperServing(const std::string& host, int port) {
  return port > 0 && FourLetterWord(host, port, "srvr").find("Mode:") != std::string::npos;
}

}  // namespace zoomq::proc
