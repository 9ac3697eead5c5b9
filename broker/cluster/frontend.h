// Frontend: how a broker answers a client's request it cannot serve alone in a cluster
// (docs/api.md, "Cluster"). The HTTP layer parses and validates once, then calls the Frontend
// with typed requests and renders its typed answers. The Frontend splits work by partition
// leader (ClusterRouter), runs this broker's share on the BrokerService, sends the others to
// their leaders through the PeerClient, and merges the answers (fan_out.h: retries after a
// leadership move, partial failures).
//
// Requests another broker forwarded never reach the Frontend: the HTTP layer answers them from
// the local service (loop protection).
//
// Thread-safety: one Frontend per broker, shared by every request thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/cluster/cluster_router.h"
#include "broker/cluster/peer_client.h"
#include "broker/service/broker_service.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::cluster {

// How long a call to another broker may take before it counts as unanswered.
struct PeerBudgets {
  TimeMs write_extra_ms = 5000;    // produce, ack/nack/extend, group creation: + write timeout
  TimeMs read_ms = 10000;          // pulls and group stats
  TimeMs in_flight_ms = 5000;      // lease counts for subscription streams
  TimeMs stream_read_extra_ms = 10000;  // stream reads: + the read's own wait
  TimeMs topic_admin_ms = 60000;   // topic creation and deletion at the controller
  TimeMs controlled_shutdown_ms = 120000;
};

class Frontend {
 public:
  Frontend(BrokerService& service, ClusterRouter& router, PeerClient& peers,
           PeerBudgets budgets = {})
      : svc_(service), router_(router), peers_(peers), budgets_(budgets) {}

  ClusterRouter& router() { return router_; }
  // The same frontend calling other brokers through `peers` (which must outlive it): a
  // request's own PeerClient carries its caller's identity (docs/security.md).
  Frontend With(PeerClient& peers) const { return Frontend(svc_, router_, peers, budgets_); }

  // --- Topics: run on the controller, or sent to it. A forwarded request reaching a broker
  // that is not the controller (any more) is answered NOT_LEADER.
  Result<CreateOutcome> CreateTopic(const TopicSpec& spec, bool forwarded);
  Status DeleteTopic(const std::string& topic, bool forwarded);
  Status ControlledShutdown(int32_t broker, bool forwarded);

  // --- Produce: `messages` is the validated batch; results in the batch's order.
  Result<std::vector<ProduceResult>> Produce(const std::string& topic,
                                             std::vector<ProduceMessage> messages);

  // --- Stream read: nullopt when this broker leads the partition, or the topic or partition
  // is unknown here (the local service answers).
  std::optional<Result<StreamRead>> Read(const std::string& topic, int64_t partition,
                                         uint64_t from, size_t max, TimeMs wait_ms);

  // --- ack, nack or extend, with the optional delay_ms / visibility_ms.
  Result<AckResult> Lease(const std::string& topic, const std::string& group, LeaseVerb verb,
                           const std::vector<MessageRef>& ids, std::optional<int64_t> number);

  // --- Group pull through any broker: the local partitions plus every remote leader, until
  // something is collected or wait_ms passed. `only`: the partitions= filter (empty: all).
  // `consumer` is never empty (the HTTP layer names anonymous consumers).
  Result<std::vector<DeliveredMessage>> Pull(const std::string& topic, const std::string& group,
                                             const std::string& consumer, size_t max,
                                             TimeMs wait_ms, std::optional<TimeMs> visibility,
                                             const std::set<int32_t>& only);

  Result<GroupInfo> DescribeGroup(const std::string& topic, const std::string& group);
  // Creates the group here and on every other broker.
  struct GroupCreated {
    bool created = false;
    GroupInfo info;
  };
  Result<GroupCreated> CreateGroup(const std::string& topic, const std::string& group,
                                   bool latest);

  // --- Subscription streams: what a stream remembers about the remote leaders between rounds.
  struct RemoteStream {
    std::map<std::string, size_t> in_flight;  // leader URL -> leases of the consumer there
    std::chrono::steady_clock::time_point last_poll{};
    TimeMs interval_ms = 200;  // grows while the remotes have nothing, up to 1 s
    uint64_t seen_generation = 0;  // of the local topic, at the last poll
    size_t Total() const {
      size_t n = 0;
      for (auto& [url, k] : in_flight) n += k;
      return n;
    }
  };
  // Non-waiting pulls from the remote leaders of the topic, at most `budget` messages in all
  // (minus what the remotes already hold in flight for the consumer). At most every 200 ms;
  // while the remotes have nothing, less often (up to every 1 s) unless the topic changed
  // here (as a follower this broker sees new messages of the partitions it follows).
  // Appends the messages to `out`.
  void PollRemotes(RemoteStream& state, const std::string& topic, const std::string& group,
                   const std::string& consumer, size_t budget, std::optional<TimeMs> visibility,
                   std::vector<DeliveredMessage>* out);

 private:
  // URLs of the other brokers leading partitions of `topic` (all, or those in `only`), and
  // whether this broker leads one of them.
  std::vector<std::string> RemoteLeaders(const std::string& topic, int32_t partitions,
                                         const std::set<int32_t>& only, bool* leads_one);
  bool IsSelf(const std::string& url) const { return url == router_.self_url(); }
  // The controller's URL when it is another broker; NO_LEADER when none is or this broker
  // is becoming it.
  Result<std::string> OtherController();
  TimeMs WriteBudget() const { return svc_.options().write_timeout_ms + budgets_.write_extra_ms; }

  BrokerService& svc_;
  ClusterRouter& router_;
  PeerClient& peers_;
  const PeerBudgets budgets_;
};

}  // namespace zoomq::broker::cluster
