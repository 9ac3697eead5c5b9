#include "broker/http/sse.h"

#include <httplib.h>

#include <chrono>
#include <memory>

#include "broker/http/codec.h"
#include "zoomq/common/error_json.h"

namespace zoomq::broker::http {
namespace {

struct Stream {
  SubscribeParams params;
  std::chrono::steady_clock::time_point last_write;
  std::shared_ptr<cluster::Frontend> fwd;  // cluster: also pull from the remote leaders
  cluster::Frontend::RemoteStream remote;
};

// One step of the stream: tops the consumer's leases up to the prefetch, writes them, or a
// keep-alive when idle for keepalive_ms, then waits (bounded) for a change of the topic.
// False ends the stream.
void AppendEvent(const DeliveredMessage& m, std::string* out) {
  *out += "id: " + std::to_string(m.message.partition) + "-" + std::to_string(m.message.offset) +
          "\nevent: message\ndata: ";
  *out += RenderMessage(m.message, m.delivery);
  *out += "\n\n";
}

bool Step(BrokerService& svc, Stream& st, httplib::DataSink& sink) {
  const SubscribeParams& p = st.params;
  if (svc.stopping()) return false;
  const uint64_t gen = svc.Generation(p.topic);
  const size_t inflight = svc.InFlight(p.topic, p.group, p.consumer);
  // In a cluster the leases at remote leaders count too (as they last reported).
  const size_t held = inflight + (st.fwd ? st.remote.Total() : 0);
  std::string out;
  if (held < p.prefetch) {
    auto r = svc.PullNow(p.topic, p.group, p.consumer, p.prefetch - held, p.visibility);
    if (!r.ok()) {
      std::string ev = "event: error\ndata: " + ErrorBody(r.status()) + "\n\n";
      sink.write(ev.data(), ev.size());
      return false;
    }
    for (const DeliveredMessage& m : r.value()) AppendEvent(m, &out);
    if (st.fwd) {
      std::vector<DeliveredMessage> remote;
      st.fwd->PollRemotes(st.remote, p.topic, p.group, p.consumer,
                          p.prefetch - inflight - r->size(), p.visibility, &remote);
      for (const DeliveredMessage& m : remote) AppendEvent(m, &out);
    }
  } else if (st.fwd) {
    // Full (as far as we know): refreshes the remote counts, pulls if they dropped.
    std::vector<DeliveredMessage> remote;
    st.fwd->PollRemotes(st.remote, p.topic, p.group, p.consumer,
                        p.prefetch > inflight ? p.prefetch - inflight : 0, p.visibility, &remote);
    for (const DeliveredMessage& m : remote) AppendEvent(m, &out);
  }
  if (!out.empty()) {
    st.last_write = std::chrono::steady_clock::now();
    return sink.write(out.data(), out.size());
  }
  if (!sink.is_writable()) return false;
  if (std::chrono::steady_clock::now() - st.last_write >=
      std::chrono::milliseconds(p.keepalive_ms)) {
    static const std::string kAlive = ": keep-alive\n\n";
    if (!sink.write(kAlive.data(), kAlive.size())) return false;
    st.last_write = std::chrono::steady_clock::now();
  }
  svc.WaitForChange(p.topic, gen, 200);
  return true;
}

}  // namespace

void StreamGroup(BrokerService& svc, std::shared_ptr<cluster::Frontend> frontend,
                 SubscribeParams params, httplib::Response& res) {
  auto st = std::make_shared<Stream>(
      Stream{std::move(params), std::chrono::steady_clock::now(), std::move(frontend), {}});
  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      "text/event-stream",
      [&svc, st](size_t, httplib::DataSink& sink) { return Step(svc, *st, sink); },
      [&svc](bool) { svc.ReleaseWaiter(); });
}

}  // namespace zoomq::broker::http
