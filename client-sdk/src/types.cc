#include "zoomq/client/types.h"

namespace zoomq {

bool IsRetriable(const Status& status) {
  switch (status.code()) {
    case Code::kOverloaded:         // 429: back-pressure, retry after Retry-After
    case Code::kInternal:           // 500: a broker fault, not the request's
    case Code::kNotEnoughReplicas:  // 503s: nothing written, the cluster is healing
    case Code::kNoLeader:
    case Code::kNotLeader:
    case Code::kUnavailable:        // also status 0: connect failed, timeout, lost reply
    case Code::kTimedOut:
      return true;
    default:
      return false;
  }
}

OutgoingMessage OutgoingMessage::Json(std::string topic, std::string json_text,
                                      std::optional<std::string> key) {
  OutgoingMessage m;
  m.topic = std::move(topic);
  m.value = std::move(json_text);
  m.value_is_json = true;
  m.key = std::move(key);
  return m;
}

OutgoingMessage OutgoingMessage::Bytes(std::string topic, std::string bytes,
                                       std::optional<std::string> key) {
  OutgoingMessage m = Json(std::move(topic), std::move(bytes), std::move(key));
  m.value_is_json = false;
  return m;
}

}  // namespace zoomq
