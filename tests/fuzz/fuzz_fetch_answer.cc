// The replication fetch answer a follower decodes (issue 12 item 7): a leader's (or an
// impostor's) bytes never crash the follower; an answer that decodes encodes back to the same
// entries.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "broker/http/peer_transport.h"

using namespace zoomq::broker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto r = http::DecodeFetchResponse(input);
  if (!r.ok()) return 0;
  auto again = http::DecodeFetchResponse(http::EncodeFetchResponse(r.value()));
  if (!again.ok()) std::abort();
  if (again->entries.size() != r->entries.size() ||
      again->group_entries.size() != r->group_entries.size() ||
      again->high_watermark != r->high_watermark || again->epoch != r->epoch) {
    std::abort();
  }
  for (size_t i = 0; i < r->entries.size(); ++i) {
    const StoredMessage& a = r->entries[i];
    const StoredMessage& b = again->entries[i];
    if (a.offset != b.offset || a.value != b.value || a.key != b.key || a.id != b.id) {
      std::abort();
    }
  }
  return 0;
}
