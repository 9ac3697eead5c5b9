// The znode tree zoomq uses (relative to the chroot of the connect string). docs/znodes.md
// describes every node and field.
#pragma once

#include <cstdint>
#include <string>

namespace zoomq::coordinator::znodes {

inline constexpr char kBrokerIds[] = "/brokers/ids";  // ephemeral /<id> per live broker
inline constexpr char kControllerElection[] =
    "/controller/election";                                      // ephemeral sequential candidates
inline constexpr char kControllerEpoch[] = "/controller/epoch";  // decimal counter
inline constexpr char kElectionPrefix[] = "n_";  // candidate names: n_<session hex>-<sequence>
// Users, token hashes and access rules (docs/security.md): secret, never world-readable.
inline constexpr char kSecurityRoot[] = "/security";
inline constexpr char kSecurityState[] = "/security/state";  // one JSON document, CAS by version

inline std::string BrokerIdPath(int32_t id) {
  return std::string(kBrokerIds) + "/" + std::to_string(id);
}

// "/a/b/c" -> "/a/b"; a top-level node's parent is "/".
inline std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// "/a/b/c" -> "c".
inline std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace zoomq::coordinator::znodes
