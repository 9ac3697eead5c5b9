// Forwarding: how a broker answers a request it cannot serve alone in a cluster (docs/api.md,
// "Cluster"). The HTTP handlers parse and validate; the Forwarder splits the work by
// partition leader (ClusterRouter::LeaderUrl), runs the local part on the BrokerService,
// sends every remote part to its leader with the header X-Zoomq-Forwarded: 1, and merges
// the answers.
//
// Loop protection: a request carrying X-Zoomq-Forwarded is never forwarded again; the broker
// that receives it answers from its local state (or with the service's error, e.g. 503
// NOT_LEADER, which clients retry).
//
// Thread-safety: a Forwarder is a pair of pointers, built per request; every function may
// run on any thread. Remote calls use pooled keep-alive connections (one per request in
// flight), so a fan-out may run its parts on several threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/http/cluster_router.h"
#include "broker/service/broker_service.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::http {

inline constexpr const char* kForwardedHeader = "X-Zoomq-Forwarded";

// An HTTP answer, ready to be sent as it is.
struct Answer {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";

  bool ok() const { return status >= 200 && status < 300; }
  static Answer Error(const Status& st);
  static Answer Json(int status, std::string body) {
    return Answer{status, std::move(body), "application/json"};
  }
};

// The error code of an API error body ({"error": {"code": ...}}), or "".
std::string ErrorCodeOf(const std::string& body);

struct ForwardRequest {
  std::string url;     // base URL of the broker, e.g. http://127.0.0.1:9102
  std::string method;  // GET, POST, PUT or DELETE
  std::string target;  // path and query string
  std::string body;
  std::string content_type = "application/json";
  TimeMs timeout_ms = 10000;  // read timeout: longer than any wait the request asks for
};

// Sends one request with X-Zoomq-Forwarded: 1 and returns the remote status and body as they
// are. A transport failure is 503 UNAVAILABLE naming the broker's URL.
Answer Forward(const ForwardRequest& request);

// Runs the tasks concurrently (the first on this thread) and returns when all are done.
void RunAll(const std::vector<std::function<void()>>& tasks);

// Parses `partitions=0,2,5`.
Result<std::set<int32_t>> ParsePartitionList(const std::string& text);

// The "results" array of a produce answer.
std::string RenderProduceResults(const std::vector<ProduceResult>& results);

class Forwarder {
 public:
  Forwarder(BrokerService& service, ClusterRouter& router) : svc_(service), router_(router) {}

  // Topics: run on the controller, or forwarded to it (`target`: the request's path and
  // query). A forwarded request reaching a broker that is not the controller (any more) is
  // answered 503 NOT_LEADER.
  Answer CreateTopic(const TopicSpec& spec, const std::string& body,
                     const std::string& content_type, const std::string& target,
                     bool forwarded);
  Answer DeleteTopic(const std::string& topic, const std::string& target, bool forwarded);
  Answer ControlledShutdown(int32_t broker, const std::string& target, bool forwarded);

  // Produce: `messages` is the validated batch, `body` the request body it came from.
  Answer Produce(const std::string& topic, const std::string& body,
                 std::vector<ProduceMessage> messages);

  // Stream read: nullopt when this broker leads the partition (serve it locally).
  std::optional<Answer> Read(const std::string& topic, int64_t partition,
                             const std::string& target, TimeMs wait_ms);

  // ack, nack or extend, with the optional delay_ms / visibility_ms.
  Answer GroupIds(const std::string& topic, const std::string& group, LeaseVerb verb,
                  const std::vector<MessageRef>& ids, std::optional<int64_t> number);

  // Group pull through any broker: the local partitions plus every remote leader, until
  // something is collected or wait_ms passed. `only`: the partitions= filter (empty: all).
  Answer Pull(const std::string& topic, const std::string& group, const std::string& consumer,
              size_t max, TimeMs wait_ms, std::optional<TimeMs> visibility,
              const std::set<int32_t>& only);

  Answer DescribeGroup(const std::string& topic, const std::string& group);
  // Creates the group here and on every other broker.
  Answer CreateGroup(const std::string& topic, const std::string& group, bool latest,
                     const std::string& body);

  // SSE: what a stream remembers about the remote leaders between rounds.
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
  // Appends SSE events to `out`; returns how many messages it appended.
  size_t PollRemotes(RemoteStream& state, const std::string& topic, const std::string& group,
                     const std::string& consumer, size_t budget,
                     std::optional<TimeMs> visibility, std::string* out);

  // URLs of the other brokers leading partitions of `topic` (all, or those in `only`), and
  // whether this broker leads one of them.
  std::vector<std::string> RemoteLeaders(const std::string& topic, int32_t partitions,
                                         const std::set<int32_t>& only, bool* leads_one);

 private:
  // The leader's URL of (topic, partition), or 503 NO_LEADER.
  Result<std::string> Leader(const std::string& topic, int32_t partition);
  bool IsSelf(const std::string& url) const { return url == router_.self_url(); }
  Answer ToController(const std::string& method, const std::string& target,
                      const std::string& body, const std::string& content_type,
                      TimeMs timeout_ms);
  // One pull from a remote leader: the messages' JSON texts, and its in-flight count.
  Result<std::vector<std::string>> RemotePull(const std::string& url, const std::string& topic,
                                              const std::string& group,
                                              const std::string& consumer, size_t max,
                                              std::optional<TimeMs> visibility,
                                              std::optional<size_t>* in_flight);
  Result<size_t> RemoteInFlight(const std::string& url, const std::string& topic,
                                const std::string& group, const std::string& consumer);
  TimeMs WriteTimeout() const { return svc_.options().write_timeout_ms + 5000; }

  BrokerService& svc_;
  ClusterRouter& router_;
};

}  // namespace zoomq::broker::http
