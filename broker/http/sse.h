// The group subscription stream (GET /v1/topics/T/groups/G/subscribe, docs/api.md): Server-Sent
// Events of leased messages, topped up to `prefetch` leases as the consumer acks, with
// keep-alive comments while idle. In a cluster the partitions led elsewhere are polled through
// the cluster Frontend (their leases count towards the prefetch as the leaders last reported).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "broker/cluster/frontend.h"
#include "broker/service/broker_service.h"

namespace httplib {
struct Response;
}

namespace zoomq::broker::http {

struct SubscribeParams {
  std::string topic, group;
  std::string consumer;  // never empty (the handler names anonymous consumers)
  size_t prefetch = 100;
  std::optional<TimeMs> visibility;
  TimeMs keepalive_ms = 15000;
};

// Answers 200 text/event-stream on `res` and streams until the client leaves, the broker
// stops or a pull fails (an `error` event). REQUIRES: a waiter slot admitted for this stream
// (BrokerService::AdmitWaiter); the stream releases it when it ends.
// `frontend`: in a cluster, for a client's stream (nullptr standalone or when forwarded); the
// stream keeps it until it ends.
void StreamGroup(BrokerService& svc, std::shared_ptr<cluster::Frontend> frontend,
                 SubscribeParams params, httplib::Response& res);

}  // namespace zoomq::broker::http
