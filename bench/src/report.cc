#include "zoomq/bench/report.h"

#include <cstdio>
#include <sstream>

namespace zoomq::bench {
namespace {

using nlohmann::json;

json LatencyJson(const LatencySummary& s) {
  return json{{"count", s.count},   {"mean_ms", s.mean_ms}, {"p50_ms", s.p50_ms},
              {"p90_ms", s.p90_ms}, {"p99_ms", s.p99_ms},   {"p999_ms", s.p999_ms},
              {"max_ms", s.max_ms}};
}

json ErrorsJson(const ErrorCounts& e) {
  json statuses = json::object();
  for (const auto& [status, n] : e.statuses) statuses[std::to_string(status)] = n;
  json out{{"errors", e.errors}, {"transport_errors", e.transport_errors}, {"statuses", statuses}};
  if (!e.first_error.empty()) out["first_error"] = e.first_error;
  return out;
}

double MegabytesPerSecond(int64_t messages, int size, double seconds) {
  return seconds > 0 ? static_cast<double>(messages) * size / 1e6 / seconds : 0;
}

json ProduceJson(const ProduceStats& p, int size) {
  json out{{"requested", p.requested},
           {"produced", p.produced},
           {"duplicates", p.duplicates},
           {"requests", p.requests},
           {"retries", p.retries},
           {"elapsed_s", p.elapsed_s},
           {"msgs_per_s", p.MessagesPerSecond()},
           {"mb_per_s", MegabytesPerSecond(p.produced, size, p.elapsed_s)},
           {"latency", LatencyJson(p.latency)},
           {"errors", ErrorsJson(p.errors)}};
  if (p.target_rate > 0) {
    out["target_rate"] = p.target_rate;
    out["scheduled_latency"] = LatencyJson(p.scheduled_latency);
    out["late_sends"] = p.late_sends;
  }
  return out;
}

json ConsumeJson(const ConsumeStats& c, int size) {
  return json{{"target", c.target},
              {"acked", c.acked},
              {"received", c.received},
              {"redeliveries", c.redeliveries},
              {"ack_unknown", c.ack_unknown},
              {"pulls", c.pulls},
              {"empty_pulls", c.empty_pulls},
              {"acks", c.acks},
              {"elapsed_s", c.elapsed_s},
              {"msgs_per_s", c.MessagesPerSecond()},
              {"mb_per_s", MegabytesPerSecond(c.acked, size, c.elapsed_s)},
              {"pull_latency", LatencyJson(c.pull_latency)},
              {"ack_latency", LatencyJson(c.ack_latency)},
              {"errors", ErrorsJson(c.errors)}};
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

std::string LatencyLine(const LatencySummary& s) {
  return "p50 " + Fixed(s.p50_ms, 2) + " ms  p90 " + Fixed(s.p90_ms, 2) + " ms  p99 " +
         Fixed(s.p99_ms, 2) + " ms  p99.9 " + Fixed(s.p999_ms, 2) + " ms  max " +
         Fixed(s.max_ms, 2) + " ms  (n=" + std::to_string(s.count) + ")";
}

std::string ErrorLine(const ErrorCounts& e) {
  std::string line =
      std::to_string(e.errors) + " non-2xx, " + std::to_string(e.transport_errors) + " transport";
  for (const auto& [status, n] : e.statuses) {
    line += "  [" + std::to_string(status) + "]x" + std::to_string(n);
  }
  if (!e.first_error.empty()) line += "\n    first: " + e.first_error;
  return line;
}

void ProduceText(std::ostringstream& out, const char* title, const ProduceStats& p, int size) {
  out << title << ": " << p.produced << "/" << p.requested << " messages in "
      << Fixed(p.elapsed_s, 3) << " s = " << Fixed(p.MessagesPerSecond(), 0) << " msg/s, "
      << Fixed(MegabytesPerSecond(p.produced, size, p.elapsed_s), 2) << " MB/s (" << p.requests
      << " requests, " << p.retries << " retries)\n";
  out << "  request latency: " << LatencyLine(p.latency) << "\n";
  if (p.target_rate > 0) {
    out << "  target " << Fixed(p.target_rate, 0)
        << " msg/s; latency from due time: " << LatencyLine(p.scheduled_latency) << "\n";
    out << "  sends started >1 ms late: " << p.late_sends << "\n";
  }
  out << "  errors: " << ErrorLine(p.errors) << "\n";
}

}  // namespace

json ToJson(const Report& r) {
  const BenchOptions& o = r.options;
  json out{{"ok", r.ok()},
           {"mode", std::string(ModeName(o.mode))},
           {"urls", o.urls},
           {"topic", o.topic},
           {"group", o.group},
           {"config",
            {{"partitions", o.partitions},
             {"messages", o.messages},
             {"size", o.size},
             {"batch", o.batch},
             {"connections", o.connections},
             {"consumers", o.consumers},
             {"pull_max", o.pull_max},
             {"pull_wait_ms", o.pull_wait_ms},
             {"concurrent", o.concurrent},
             {"ids", o.ids},
             {"duration_s", o.duration_s},
             {"idle_waiters", o.idle_waiters},
             {"idle_kind", std::string(IdleKindName(o.idle_kind))}}},
           {"wall_s", r.wall_s},
           {"bench_cpu_s", {{"user", r.cpu_user_s}, {"sys", r.cpu_sys_s}}},
           {"deadline_hit", r.deadline_hit},
           {"failures", r.failures},
           {"warnings", r.warnings}};
  if (o.mode == Mode::kRate) out["config"]["rate"] = o.rate;
  out["config"]["client"] = o.sdk ? "sdk" : "http";
  if (o.sdk) {
    out["config"]["linger_ms"] = o.linger_ms;
    out["config"]["sdk_batch"] = o.sdk_batch;
  }
  if (r.produce) out["produce"] = ProduceJson(*r.produce, o.size);
  if (r.rate) out["rate"] = ProduceJson(*r.rate, o.size);
  if (r.consume) out["consume"] = ConsumeJson(*r.consume, o.size);
  if (r.idle) {
    out["idle"] = {{"requested", r.idle->requested},
                   {"in_flight_at_start", r.idle->in_flight_at_start},
                   {"in_flight_at_end", r.idle->in_flight_at_end},
                   {"issued", r.idle->issued},
                   {"returned", r.idle->returned},
                   {"sse_bytes", r.idle->sse_bytes},
                   {"errors", ErrorsJson(r.idle->errors)}};
  }
  return out;
}

std::string ToText(const Report& r) {
  const BenchOptions& o = r.options;
  std::ostringstream out;
  out << "zoomq-bench mode=" << ModeName(o.mode) << " topic=" << o.topic << " size=" << o.size
      << " batch=" << o.batch << " connections=" << o.connections;
  if (o.mode == Mode::kConsume || o.mode == Mode::kBoth) {
    out << " consumers=" << o.consumers << " pull_max=" << o.pull_max;
  }
  if (o.idle_waiters > 0) out << " idle=" << o.idle_waiters << "x" << IdleKindName(o.idle_kind);
  if (o.sdk) {
    out << " client=sdk linger_ms=" << o.linger_ms << " sdk_batch=" << o.sdk_batch
        << " (latency per message: Send to delivery report)";
  }
  out << "\n";
  if (r.produce) ProduceText(out, "produce", *r.produce, o.size);
  if (r.rate) ProduceText(out, "rate", *r.rate, o.size);
  if (r.consume) {
    const ConsumeStats& c = *r.consume;
    out << "consume+ack: " << c.acked << "/" << c.target << " messages in " << Fixed(c.elapsed_s, 3)
        << " s = " << Fixed(c.MessagesPerSecond(), 0) << " msg/s, "
        << Fixed(MegabytesPerSecond(c.acked, o.size, c.elapsed_s), 2) << " MB/s (" << c.pulls
        << " pulls, " << c.empty_pulls << " empty, " << c.redeliveries << " redelivered, "
        << c.ack_unknown << " unknown acks)\n";
    out << "  pull latency: " << LatencyLine(c.pull_latency) << "\n";
    out << "  ack latency:  " << LatencyLine(c.ack_latency) << "\n";
    out << "  errors: " << ErrorLine(c.errors) << "\n";
  }
  if (r.idle) {
    out << "idle " << IdleKindName(o.idle_kind) << ": " << r.idle->in_flight_at_start << "/"
        << r.idle->requested << " in flight at start, " << r.idle->in_flight_at_end << " at end; "
        << r.idle->issued << " issued, " << r.idle->returned << " returned\n";
    out << "  errors: " << ErrorLine(r.idle->errors) << "\n";
  }
  for (const std::string& w : r.warnings) out << "warning: " << w << "\n";
  for (const std::string& f : r.failures) out << "FAILED: " << f << "\n";
  out << (r.ok() ? "OK" : "FAILED") << " (" << Fixed(r.wall_s, 1) << " s wall, bench CPU "
      << Fixed(r.cpu_user_s, 2) << " s user + " << Fixed(r.cpu_sys_s, 2) << " s sys)\n";
  return out.str();
}

}  // namespace zoomq::bench
