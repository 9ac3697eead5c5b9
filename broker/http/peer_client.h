// HttpPeerClient: cluster::PeerClient over the other brokers' public HTTP routes, each request
// marked with X-Zoomq-Forwarded: 1 (the receiving broker answers from its own state and never
// forwards it again). Pooled keep-alive connections, one per request in flight.
#pragma once

#include <memory>
#include <string>

#include "broker/cluster/peer_client.h"
#include "zoomq/net/http_client.h"

namespace zoomq::broker::http {

inline constexpr const char* kForwardedHeader = "X-Zoomq-Forwarded";
// With security on: the principal a broker forwards a request for (docs/security.md). The
// receiving broker checks the request as that principal, and believes the header only from a
// caller with a broker credential.
inline constexpr const char* kPrincipalHeader = "X-Zoomq-Principal";

class PeerClientPool;

class HttpPeerClient : public cluster::PeerClient {
 public:
  // `credentials`: what this broker trusts in other brokers (the CA of their https:// URLs)
  // and presents to them (its certificate, its token). Empty: plain HTTP, nothing presented.
  explicit HttpPeerClient(net::ClientCredentials credentials = {});
  ~HttpPeerClient() override;
  // The same client (its connections too) acting for `principal`, whose name every request
  // then carries ("" for the broker itself).
  HttpPeerClient As(const std::string& principal) const;

  Result<std::vector<ProduceResult>> Produce(const std::string& url, const std::string& topic,
                                             const std::vector<const ProduceMessage*>& messages,
                                             TimeMs timeout_ms) override;
  Result<cluster::PeerPullAnswer> Pull(const std::string& url, const cluster::PeerPull& pull,
                                       TimeMs timeout_ms) override;
  Result<size_t> InFlight(const std::string& url, const std::string& topic,
                          const std::string& group, const std::string& consumer,
                          TimeMs timeout_ms) override;
  Result<AckResult> Lease(const std::string& url, const cluster::PeerLease& lease,
                          TimeMs timeout_ms) override;
  Result<GroupInfo> DescribeGroup(const std::string& url, const std::string& topic,
                                  const std::string& group, TimeMs timeout_ms) override;
  Result<bool> CreateGroup(const std::string& url, const std::string& topic,
                           const std::string& group, bool latest, TimeMs timeout_ms) override;
  Result<StreamRead> Read(const std::string& url, const cluster::PeerRead& read,
                          TimeMs timeout_ms) override;
  Result<CreateOutcome> CreateTopic(const std::string& url, const TopicSpec& spec,
                                    TimeMs timeout_ms) override;
  Status DeleteTopic(const std::string& url, const std::string& topic, TimeMs timeout_ms) override;
  Status ControlledShutdown(const std::string& url, int32_t broker, TimeMs timeout_ms) override;

 private:
  // Each request holds a reference while it runs: a share that FanOut abandoned may still be
  // in flight when the broker shuts down.
  std::shared_ptr<PeerClientPool> pool_;
  std::string principal_;
};

}  // namespace zoomq::broker::http
