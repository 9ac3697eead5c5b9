#include "zoomq/common/status.h"

namespace zoomq {

namespace {
struct CodeInfo {
  const char* name;
  int http;
};
CodeInfo Info(Code code) {
  switch (code) {
    case Code::kOk: return {"OK", 200};
    case Code::kInvalidRequest: return {"INVALID_REQUEST", 400};
    case Code::kUnauthenticated: return {"UNAUTHENTICATED", 401};
    case Code::kForbidden: return {"FORBIDDEN", 403};
    case Code::kTopicNotFound: return {"TOPIC_NOT_FOUND", 404};
    case Code::kGroupNotFound: return {"GROUP_NOT_FOUND", 404};
    case Code::kPartitionNotFound: return {"PARTITION_NOT_FOUND", 404};
    case Code::kNotFound: return {"NOT_FOUND", 404};
    case Code::kMethodNotAllowed: return {"METHOD_NOT_ALLOWED", 405};
    case Code::kTopicExists: return {"TOPIC_EXISTS", 409};
    case Code::kStaleEpoch: return {"STALE_EPOCH", 409};
    case Code::kAlreadyExists: return {"ALREADY_EXISTS", 409};
    case Code::kPayloadTooLarge: return {"PAYLOAD_TOO_LARGE", 413};
    case Code::kOverloaded: return {"OVERLOADED", 429};
    case Code::kInternal: return {"INTERNAL", 500};
    case Code::kNotEnoughReplicas: return {"NOT_ENOUGH_REPLICAS", 503};
    case Code::kNoLeader: return {"NO_LEADER", 503};
    case Code::kNotLeader: return {"NOT_LEADER", 503};
    case Code::kUnavailable: return {"UNAVAILABLE", 503};
    case Code::kTimedOut: return {"TIMED_OUT", 504};
  }
  return {"INTERNAL", 500};
}
}  // namespace

const char* CodeName(Code code) { return Info(code).name; }
int HttpStatus(Code code) { return Info(code).http; }

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace zoomq
