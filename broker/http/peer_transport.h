// HttpPeerTransport: replication requests to other brokers over their /internal/v1 routes.
#pragma once

#include "broker/service/broker_service.h"
#include "zoomq/net/http_client.h"

namespace zoomq::broker::http {

// Thread-safety: any thread; each thread uses its own keep-alive connection per peer.
class HttpPeerTransport : public PeerTransport {
 public:
  // `credentials`: what this broker presents to leaders (its broker credential, TLS).
  explicit HttpPeerTransport(net::ClientCredentials credentials = {})
      : credentials_(std::move(credentials)) {}

  Result<FetchResponse> Fetch(const std::string& leader_url, const FetchRequest& req) override;
  Result<std::pair<int64_t, uint64_t>> EpochEnd(const std::string& leader_url,
                                                const std::string& topic, int32_t partition,
                                                int64_t epoch, bool group_log) override;

 private:
  const net::ClientCredentials credentials_;
};

// The wire form of a fetch answer (shared by the route and the transport).
std::string EncodeFetchResponse(const FetchResponse& r);
Result<FetchResponse> DecodeFetchResponse(const std::string& body);

}  // namespace zoomq::broker::http
