#include "broker/security/quotas.h"

#include <algorithm>

namespace zoomq::broker::auth {

namespace {
// A bucket holds one second of its rate: short bursts pass, a sustained excess waits.
constexpr double kBurstSeconds = 1.0;
}  // namespace

Status Quotas::Admit(const std::string& principal, size_t produce_bytes, int64_t now_ms,
                     int64_t* retry_after_s, const char** quota) {
  if (!enabled()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = principals_.find(principal);
  if (it == principals_.end()) {
    const double rps = options_.requests_per_s > 0 ? options_.requests_per_s : 1;
    const double bps = options_.produce_bytes_per_s > 0 ? options_.produce_bytes_per_s : 1;
    it = principals_
             .emplace(principal, PerPrincipal{TokenBucket(rps, std::max(1.0, rps * kBurstSeconds)),
                                              TokenBucket(bps, std::max(1.0, bps * kBurstSeconds)),
                                              {}})
             .first;
  }
  PerPrincipal& p = it->second;
  auto refuse = [&](int64_t wait_ms, const std::string& what) {
    *retry_after_s = std::max<int64_t>(1, (wait_ms + 999) / 1000);
    return Status(Code::kOverloaded, "principal '" + principal + "' is over its quota of " + what +
                                         " on this broker; retry after " +
                                         std::to_string(*retry_after_s) + " s");
  };
  if (options_.requests_per_s > 0) {
    if (int64_t wait = p.requests.Take(1, now_ms); wait > 0) {
      ++p.throttled.requests;
      *quota = "requests";
      return refuse(wait,
                    std::to_string(static_cast<int64_t>(options_.requests_per_s)) + " requests/s");
    }
  }
  if (options_.produce_bytes_per_s > 0 && produce_bytes > 0) {
    if (int64_t wait = p.bytes.Take(static_cast<double>(produce_bytes), now_ms); wait > 0) {
      ++p.throttled.produce_bytes;
      *quota = "produce_bytes";
      return refuse(wait, std::to_string(static_cast<int64_t>(options_.produce_bytes_per_s)) +
                              " produced bytes/s");
    }
  }
  return Status::Ok();
}

std::map<std::string, Quotas::Throttled> Quotas::ThrottledByPrincipal() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, Throttled> out;
  for (const auto& [name, p] : principals_) out[name] = p.throttled;
  return out;
}

}  // namespace zoomq::broker::auth
