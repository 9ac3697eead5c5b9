#include "broker/http/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "broker/service/broker_service.h"

namespace zoomq::broker::http {

namespace {
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("zoomq_requests_total")
                   .Help("HTTP requests answered, by route and status")
                   .Register(*registry_);
  latency_ = &prometheus::BuildHistogram()
                  .Name("zoomq_request_duration_seconds")
                  .Help("HTTP request latency by route (long polls include their wait)")
                  .Register(*registry_);
  throttled_ = &prometheus::BuildCounter()
                    .Name("zoomq_quota_throttled_total")
                    .Help("Requests refused (429) by a quota, by principal and quota")
                    .Register(*registry_);
}

void Metrics::Throttled(const std::string& principal, const std::string& quota) {
  throttled_->Add({{"principal", principal}, {"quota", quota}}).Increment();
}

Metrics::~Metrics() = default;

void Metrics::Observe(const std::string& route, int status, double seconds) {
  requests_->Add({{"route", route}, {"status", std::to_string(status)}}).Increment();
  latency_->Add({{"route", route}}, kLatencyBuckets).Observe(seconds);
}

std::string Metrics::Render(BrokerService& service) {
  // State gauges are taken fresh at each scrape, so deleted topics simply disappear.
  prometheus::Registry snap;
  auto& leo = prometheus::BuildGauge()
                  .Name("zoomq_log_end_offset")
                  .Help("Offset after the last message in the partition's log")
                  .Register(snap);
  auto& hwm = prometheus::BuildGauge()
                  .Name("zoomq_high_watermark")
                  .Help("Offset after the last committed message")
                  .Register(snap);
  auto& first = prometheus::BuildGauge()
                    .Name("zoomq_log_start_offset")
                    .Help("First retained offset")
                    .Register(snap);
  auto& isr = prometheus::BuildGauge()
                  .Name("zoomq_isr_size")
                  .Help("Replicas in the in-sync set")
                  .Register(snap);
  auto& backlog = prometheus::BuildGauge()
                      .Name("zoomq_group_backlog")
                      .Help("Messages of the group neither done nor in flight")
                      .Register(snap);
  auto& inflight = prometheus::BuildGauge()
                       .Name("zoomq_group_in_flight")
                       .Help("Messages leased to consumers of the group")
                       .Register(snap);
  for (const TopicInfo& t : service.ListTopics()) {
    for (const PartitionInfo& p : t.partitions) {
      prometheus::Labels l{{"topic", t.name}, {"partition", std::to_string(p.partition)}};
      leo.Add(l).Set(static_cast<double>(p.log_end_offset));
      hwm.Add(l).Set(static_cast<double>(p.high_watermark));
      first.Add(l).Set(static_cast<double>(p.first_offset));
      isr.Add(l).Set(1);  // standalone: the broker is the only replica
    }
  }
  for (const GroupInfo& g : service.AllGroups()) {
    prometheus::Labels l{{"topic", g.topic}, {"group", g.group}};
    backlog.Add(l).Set(static_cast<double>(g.backlog));
    inflight.Add(l).Set(static_cast<double>(g.in_flight));
  }
  Counters c = service.counters();
  auto counter = [&snap](const char* name, const char* help, uint64_t v) {
    prometheus::BuildCounter().Name(name).Help(help).Register(snap).Add({}).Increment(
        static_cast<double>(v));
  };
  counter("zoomq_messages_produced_total", "Messages appended by produce requests", c.produced);
  counter("zoomq_messages_delivered_total", "Messages leased to group consumers", c.delivered);
  counter("zoomq_messages_acked_total", "Messages acked by group consumers", c.acked);
  counter("zoomq_messages_dead_lettered_total", "Messages moved to a dead-letter topic",
          c.dead_lettered);
  counter("zoomq_leader_elections_total",
          "Partition leaderships taken (standalone: none; the broker leads everything)", 0);
  counter("zoomq_storage_commits_total", "SQLite transactions committed (group commits)",
          c.commit_rounds);
  counter("zoomq_storage_batches_total", "Write batches committed; batches/commits = grouping",
          c.committed_batches);
  auto families = registry_->Collect();
  auto more = snap.Collect();
  families.insert(families.end(), more.begin(), more.end());
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace zoomq::broker::http
