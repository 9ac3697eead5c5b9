// What each phase of a run measured.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "zoomq/bench/latency.h"

namespace zoomq::bench {

// Error accounting shared by every phase.
struct ErrorCounts {
  int64_t errors = 0;            // answers other than 200/201
  int64_t transport_errors = 0;  // no answer (connect/read/write failure, interrupted)
  std::map<int, int64_t> statuses;
  std::string first_error;  // "status 503: {...}" or "transport: Read", for the report

  void AddStatus(int status, const std::string& body);
  void AddTransport(const std::string& what);
  void Merge(const ErrorCounts& other);
};

// --mode produce/both (batched requests) and --mode rate (one message per request).
struct ProduceStats {
  int64_t requested = 0;   // messages to produce
  int64_t produced = 0;    // messages acknowledged by 200 answers
  int64_t duplicates = 0;  // results with "duplicate": true
  int64_t requests = 0;    // HTTP requests sent, retries included
  int64_t retries = 0;
  ErrorCounts errors;
  double elapsed_s = 0;  // first request sent → last answer received
  // Request latency (send → answer) of successful requests.
  LatencySummary latency;
  // --mode rate only: intended send time → answer (includes falling behind schedule),
  // and how many sends started more than 1 ms after their intended time.
  LatencySummary scheduled_latency;
  int64_t late_sends = 0;
  double target_rate = 0;

  double MessagesPerSecond() const { return elapsed_s > 0 ? produced / elapsed_s : 0; }
};

struct ConsumeStats {
  int64_t target = 0;    // messages to consume
  int64_t acked = 0;     // sum of "acked" over ack answers
  int64_t received = 0;  // messages returned by pulls (redeliveries included)
  int64_t redeliveries = 0;
  int64_t ack_unknown = 0;
  int64_t pulls = 0;
  int64_t empty_pulls = 0;
  int64_t acks = 0;
  ErrorCounts errors;
  double elapsed_s = 0;  // first pull sent → last ack answered
  LatencySummary pull_latency;
  LatencySummary ack_latency;

  double MessagesPerSecond() const { return elapsed_s > 0 ? acked / elapsed_s : 0; }
};

struct IdleStats {
  int requested = 0;           // --idle-waiters
  int in_flight_at_start = 0;  // waiters inside a request when measuring began
  int in_flight_at_end = 0;    // ... and when it ended
  int64_t issued = 0;          // requests (long-polls / streams) opened
  int64_t returned = 0;        // long-polls answered 200 (re-issued), streams ended
  int64_t sse_bytes = 0;       // bytes received on SSE streams (keep-alive comments)
  ErrorCounts errors;
};

}  // namespace zoomq::bench
