// Request bodies the bench sends and the answers it reads (docs/API.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zoomq::bench {

// The value of message `seq`: a JSON string of exactly `size` bytes, starting with the
// decimal sequence number (when it fits) and padded with 'x'.
std::string MessageValue(int64_t seq, int size);

// {"messages":[{"value":"..."}, ...]} for messages first_seq .. first_seq+count-1. With a
// non-empty `id_prefix` each message also gets "id":"<id_prefix><seq>".
std::string BuildProduceBody(int64_t first_seq, int count, int size, std::string_view id_prefix);

struct ProduceAnswer {
  bool ok = false;  // the body parsed and had a "results" array
  int64_t results = 0;
  int64_t duplicates = 0;
};
ProduceAnswer ParseProduceAnswer(std::string_view body);

struct PullAnswer {
  bool ok = false;
  std::vector<std::string> ids;  // "id" of every returned message, in order
  int64_t redeliveries = 0;      // messages with "delivery" > 1
};
// Streams through the answer (no DOM): large values cost no allocations beyond one string.
PullAnswer ParsePullAnswer(std::string_view body);

// {"ids":["0-17","0-18"]}
std::string BuildIdsBody(const std::vector<std::string>& ids);

struct AckAnswer {
  bool ok = false;
  int64_t acked = 0;
  int64_t unknown = 0;
};
AckAnswer ParseAckAnswer(std::string_view body);

}  // namespace zoomq::bench
