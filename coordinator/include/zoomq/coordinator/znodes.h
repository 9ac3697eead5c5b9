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

inline std::string BrokerIdPath(int32_t id) {
  return std::string(kBrokerIds) + "/" + std::to_string(id);
}

}  // namespace zoomq::coordinator::znodes
