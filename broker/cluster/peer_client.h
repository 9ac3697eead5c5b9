// PeerClient: the public API of another broker, as typed calls (the frontend's view of a
// peer; replication has its own PeerTransport in broker_service.h). Every call carries the
// mark of a forwarded request, so the broker receiving it answers from its own state and
// never forwards it again (docs/api.md, "Cluster").
//
// Errors: the other broker's answer as a Status (its code and message, as the API's error
// JSON had them), or UNAVAILABLE naming the broker's URL when it did not answer in time.
//
// Thread-safety: any thread; calls to one peer may run concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/service/broker_service.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::cluster {

struct PeerPull {
  std::string topic, group;
  std::string consumer;  // never empty: forwarding names anonymous consumers
  size_t max = 100;
  std::optional<TimeMs> visibility;
};
struct PeerPullAnswer {
  std::vector<DeliveredMessage> messages;
  std::optional<size_t> in_flight;  // the consumer's leases at that broker, when it said
};
struct PeerRead {
  std::string topic;
  int32_t partition = 0;
  uint64_t from = 0;
  size_t max = 100;
  TimeMs wait_ms = 0;
};
struct PeerLease {
  std::string topic, group;
  LeaseVerb verb = LeaseVerb::kAck;
  std::vector<std::string> ids;  // "P-O"
  std::optional<int64_t> number;  // delay_ms (nack) or visibility_ms (extend)
};

class PeerClient {
 public:
  virtual ~PeerClient() = default;

  // Each message has its partition set (a leader must not place a message again).
  virtual Result<std::vector<ProduceResult>> Produce(
      const std::string& url, const std::string& topic,
      const std::vector<const ProduceMessage*>& messages, TimeMs timeout_ms) = 0;
  // A pull that does not wait.
  virtual Result<PeerPullAnswer> Pull(const std::string& url, const PeerPull& pull,
                                      TimeMs timeout_ms) = 0;
  virtual Result<size_t> InFlight(const std::string& url, const std::string& topic,
                                  const std::string& group, const std::string& consumer,
                                  TimeMs timeout_ms) = 0;
  virtual Result<AckResult> Lease(const std::string& url, const PeerLease& lease,
                                   TimeMs timeout_ms) = 0;
  virtual Result<GroupInfo> DescribeGroup(const std::string& url, const std::string& topic,
                                          const std::string& group, TimeMs timeout_ms) = 0;
  // True when that broker created the group (false: it had it already).
  virtual Result<bool> CreateGroup(const std::string& url, const std::string& topic,
                                   const std::string& group, bool latest,
                                   TimeMs timeout_ms) = 0;
  virtual Result<StreamRead> Read(const std::string& url, const PeerRead& read,
                                  TimeMs timeout_ms) = 0;
  // Controller calls.
  virtual Result<CreateOutcome> CreateTopic(const std::string& url, const TopicSpec& spec,
                                            TimeMs timeout_ms) = 0;
  virtual Status DeleteTopic(const std::string& url, const std::string& topic,
                             TimeMs timeout_ms) = 0;
  virtual Status ControlledShutdown(const std::string& url, int32_t broker,
                                    TimeMs timeout_ms) = 0;
};

}  // namespace zoomq::broker::cluster
