// HttpPeerTransport: replication requests to other brokers over their /internal/v1 routes.
#pragma once

#include <cstdint>

#include "broker/service/broker_service.h"
#include "zoomq/net/http_client.h"

namespace zoomq::broker::http {

// Thread-safety: any thread; each thread uses its own keep-alive connection per peer.
class HttpPeerTransport : public PeerTransport {
 public:
  // `credentials`: what this broker trusts in the leaders it fetches from (the CA of their
  // https:// URLs) and presents to them (its certificate, its token). Empty: plain HTTP.
  explicit HttpPeerTransport(net::ClientCredentials credentials = {});

  Result<FetchResponse> Fetch(const std::string& leader_url, const FetchRequest& req) override;
  Result<std::pair<int64_t, uint64_t>> EpochEnd(const std::string& leader_url,
                                                const std::string& topic, int32_t partition,
                                                int64_t epoch, bool group_log) override;

 private:
  const net::ClientCredentials credentials_;
  // Tells this transport's connections from another's in the per-thread cache (tests run
  // several brokers in one process).
  const uint64_t serial_;
};

// The wire form of a fetch answer (shared by the route and the transport).
std::string EncodeFetchResponse(const FetchResponse& r);
Result<FetchResponse> DecodeFetchResponse(const std::string& body);

}  // namespace zoomq::broker::http
