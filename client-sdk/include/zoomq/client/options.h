// Options shared by Producer, Consumer and Admin.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "zoomq/client/transport.h"

namespace zoomq {

struct ClientOptions {
  // Bootstrap brokers ("http://127.0.0.1:9101"); any one that answers is enough: the SDK
  // learns the others and the partition leaders from GET /v1/cluster.
  std::vector<std::string> brokers;
  // Optional ZooKeeper connect string ("127.0.0.1:2181/zoomq"): broker URLs are then also
  // read from the brokers' registrations (useful when no broker URL is known in advance).
  // Needs no ZooKeeper credentials: brokers with --zk-auth-file keep /brokers world-readable.
  std::string zookeeper;
  // Per HTTP request (a long poll adds its wait to this).
  std::chrono::milliseconds request_timeout{10000};
  // How old the cached cluster view may get before it is refreshed; errors refresh it sooner.
  std::chrono::milliseconds metadata_max_age{30000};
  // A name for logs and generated ids ("" → random).
  std::string client_id;
  // Credentials for brokers with security on (docs/security.md): a token, and for https://
  // broker URLs the CA file (and a client certificate when brokers ask for one).
  TransportSecurity security;
  // nullptr → MakeHttpTransport(security). Tests put a fake here.
  std::shared_ptr<Transport> transport;
};

}  // namespace zoomq
