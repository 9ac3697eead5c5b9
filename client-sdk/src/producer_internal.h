// Pure pieces of the Producer, apart so that unit tests check them without threads or time:
// the retry backoff and the size a message counts for. Internal to the SDK.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>

#include "zoomq/client/types.h"

namespace zoomq::client_internal {

// Delay before retry number `retry` (0 for the first retry): `base` doubled per retry, at most
// `max`, times a jitter factor in [0.8, 1.2) picked by `unit` in [0, 1). Jitter spreads the
// retries of many producers after a failover instead of having them all hit the new leader
// at the same instant. Microseconds so that the 1 ms backoffs of tests keep their jitter.
inline std::chrono::microseconds RetryDelay(int retry, std::chrono::milliseconds base,
                                            std::chrono::milliseconds max, double unit) {
  using std::chrono::microseconds;
  const microseconds cap = std::max<microseconds>(max, base);
  microseconds d = base;
  for (int i = 0; i < retry && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  const double factor = 0.8 + 0.4 * std::clamp(unit, 0.0, 0.999999);
  return microseconds(static_cast<int64_t>(static_cast<double>(d.count()) * factor));
}

// Bytes a message counts for, both in the producer's buffer and against the broker's
// max_message_bytes ("the encoded value plus key and headers"); bytes travel as base64.
inline size_t MessageBytes(const OutgoingMessage& m) {
  size_t n = m.value_is_json ? m.value.size() : (m.value.size() + 2) / 3 * 4;
  if (m.key) n += m.key->size();
  for (const auto& [k, v] : m.headers) n += k.size() + v.size();
  return n;
}

// Per-message overhead counted in the buffer beyond MessageBytes (id, bookkeeping).
inline constexpr size_t kMessageOverheadBytes = 64;

}  // namespace zoomq::client_internal
