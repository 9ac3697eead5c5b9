// The SDK's and the frontend's parsing of broker answers (common/api_codec): the first byte
// picks the decoder, the rest is the body. Never crash; errors are Status values.
#include <cstdint>
#include <string>

#include "zoomq/common/api_codec.h"
#include "zoomq/common/error_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace api = zoomq::api;
  switch (data[0] % 7) {
    case 0: (void)api::DecodeProduceResults(body); break;
    case 1: (void)api::DecodeAck(body, "acked"); break;
    case 2: (void)api::DecodeTopic(body); break;
    case 3: (void)api::DecodeTopicList(body); break;
    case 4: (void)api::DecodeCluster(body); break;
    case 5: (void)api::DecodeGroup(body); break;
    case 6: (void)zoomq::StatusOfAnswer(400 + data[0] % 200, body); break;
  }
  return 0;
}
