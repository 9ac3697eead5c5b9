// Quotas (docs/security.md): per principal and per broker, a limit on requests per second and
// on produced bytes per second, like Kafka's per-user quotas. A request over its limit is
// answered 429 OVERLOADED with Retry-After (the SDK waits and retries) and counted; nothing is
// written. Brokers' own calls are never limited.
//
// Thread-safety: any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "broker/core/token_bucket.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::auth {

struct QuotaOptions {
  double requests_per_s = 0;       // 0: unlimited
  double produce_bytes_per_s = 0;  // 0: unlimited
};

class Quotas {
 public:
  explicit Quotas(QuotaOptions options = {}) : options_(options) {}

  bool enabled() const { return options_.requests_per_s > 0 || options_.produce_bytes_per_s > 0; }
  // OK, or OVERLOADED naming the limit; `retry_after_s` gets the seconds to wait (>= 1) and
  // `quota` which limit it was ("requests" or "produce_bytes"). `produce_bytes`: the body of a
  // produce request (0 for other routes). `now_ms`: monotonic.
  Status Admit(const std::string& principal, size_t produce_bytes, int64_t now_ms,
               int64_t* retry_after_s, const char** quota);

  struct Throttled {
    uint64_t requests = 0;
    uint64_t produce_bytes = 0;  // requests refused by the byte limit
  };
  std::map<std::string, Throttled> ThrottledByPrincipal() const;

 private:
  struct PerPrincipal {
    TokenBucket requests;
    TokenBucket bytes;
    Throttled throttled;
  };

  const QuotaOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, PerPrincipal> principals_;  // guarded by mu_
};

}  // namespace zoomq::broker::auth
