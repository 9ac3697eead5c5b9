// The broker's parsing of request bodies and query values (broker/http/codec, the topic
// config of broker/core): the first byte picks the parser, the rest is the input. Never crash;
// a produce that parses has a valid shape.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "broker/core/topic_config.h"
#include "broker/http/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  namespace http = zoomq::broker::http;
  switch (data[0] % 9) {
    case 0: {
      auto msgs = http::ParseProduce(input);
      if (msgs.ok() && msgs->empty()) std::abort();  // an empty batch is a 400
      break;
    }
    case 1:
      (void)http::ParseIds(input, "delay_ms", 0, 3'600'000);
      break;
    case 2:
      (void)http::ParseNumber(input, "max", 1, 1000, 10);
      break;
    case 3:
      (void)http::ParsePartitionList(input);
      break;
    case 4:
      (void)http::ValidateTopicRef(input);
      break;
    case 5:
      (void)http::ParseObject(input, data[0] & 0x80);
      break;
    case 6: {  // POST /v1/topics
      auto body = http::ParseObject(input);
      if (body.ok()) (void)zoomq::broker::TopicSpec::FromJson(body.value());
      break;
    }
    case 7:
      (void)http::ParseUserCreate(input);
      break;
    case 8:
      (void)http::ParseTokenCreate(input);
      break;
  }
  return 0;
}
