// The replication fetch answer as a follower decodes it (broker/http/peer_transport): what the
// leader encodes comes back equal; a field of the wrong kind (a float where an offset or an
// epoch belongs, a negative offset) is refused as a bad answer instead of being converted.
#include <gtest/gtest.h>

#include "broker/http/peer_transport.h"

namespace zoomq::broker::http {
namespace {

FetchResponse OneEntry() {
  FetchResponse r;
  r.epoch = 3;
  r.high_watermark = 10;
  r.log_start = 2;
  StoredMessage m;
  m.offset = 9;
  m.epoch = 3;
  m.timestamp_ms = 1700000000000;
  m.key_hash = 42;
  m.value = "\"v\"";
  m.bytes = 3;
  r.entries.push_back(m);
  return r;
}

TEST(PeerCodecTest, FetchAnswerRoundTrips) {
  auto r = DecodeFetchResponse(EncodeFetchResponse(OneEntry()));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->epoch, 3);
  EXPECT_EQ(r->high_watermark, 10u);
  ASSERT_EQ(r->entries.size(), 1u);
  EXPECT_EQ(r->entries[0].offset, 9u);
  EXPECT_EQ(r->entries[0].value, "\"v\"");
}

TEST(PeerCodecTest, FetchAnswerWithAFloatOrNegativeIntegerIsRefused) {
  const std::string good = EncodeFetchResponse(OneEntry());
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\"epoch\":3,\"group", "\"epoch\":3e300,\"group"},
           {"\"offset\":9", "\"offset\":1.5"},
           {"\"offset\":9", "\"offset\":-9"},
           {"\"high_watermark\":10", "\"high_watermark\":1e20"},
           {"\"bytes\":3", "\"bytes\":4294967296"}}) {
    std::string bad = good;
    const auto at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from << " not in " << good;
    bad.replace(at, from.size(), to);
    auto r = DecodeFetchResponse(bad);
    ASSERT_FALSE(r.ok()) << "accepted " << bad;
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
    EXPECT_NE(r.status().message().find("bad fetch answer"), std::string::npos);
  }
}

}  // namespace
}  // namespace zoomq::broker::http
