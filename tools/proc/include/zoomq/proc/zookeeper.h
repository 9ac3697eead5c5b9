// ZooKeeper servers for tests and the chaos tool, in one place: the configuration file, the
// command line (Debian's jars) and whether a server serves. ZooKeeperServer
// (zookeeper_server.h) runs a standalone one; the ensemble of the cluster tests and the
// coordinator tests' server own their processes (child.h) and lifecycles.
#pragma once

#include <string>
#include <vector>

namespace zoomq::proc {

struct ZooKeeperConfig {
  std::string dir;                           // holds zoo.cfg and data/ (created)
  std::string client_address = "127.0.0.1";  // clientPortAddress
  int client_port = 0;
  // Ensemble member: its id (1-based) and every member's "host:peer_port:election_port" in
  // id order. id 0: a standalone server.
  int id = 0;
  std::vector<std::string> members;
};

// Writes dir/zoo.cfg (tickTime=500, no fsync: tests only; 4-letter words ruok/srvr/mntr) and,
// for an ensemble member, dir/data/myid. Returns the config's path, "" if it cannot.
std::string WriteZooKeeperConfig(const ZooKeeperConfig& config);

// `java ... <main class> <config>` for a standalone server or an ensemble member: java from
// $ZOOMQ_JAVA or PATH, the classpath from $ZOOMQ_ZK_CLASSPATH or Debian's zookeeper and slf4j
// jars. Empty when java cannot be found.
std::vector<std::string> ZooKeeperCommand(const std::string& config_path, bool ensemble);

// The server's whole answer to a four-letter word ("" when it does not answer within 1 s).
std::string FourLetterWord(const std::string& host, int port, const std::string& word);
// True when `srvr` answers with a Mode: line (ruok answers before the server serves).
bool ZooKeeperServing(const std::string& host, int port);

}  // namespace zoomq::proc
