#include "zoomq/coordinator/zk_status.h"

#include <cstring>

namespace zoomq::coordinator {

namespace {
struct ErrorInfo {
  ZkError error;
  const char* name;
  Code code;
};
constexpr ErrorInfo kErrors[] = {
    {ZkError::kOk, "ZOK", Code::kOk},
    {ZkError::kNoNode, "ZNONODE", Code::kNotFound},
    {ZkError::kNodeExists, "ZNODEEXISTS", Code::kInvalidRequest},
    {ZkError::kBadVersion, "ZBADVERSION", Code::kInvalidRequest},
    {ZkError::kNotEmpty, "ZNOTEMPTY", Code::kInvalidRequest},
    {ZkError::kNoChildrenForEphemerals, "ZNOCHILDRENFOREPHEMERALS", Code::kInvalidRequest},
    {ZkError::kConnectionLoss, "ZCONNECTIONLOSS", Code::kUnavailable},
    {ZkError::kOperationTimeout, "ZOPERATIONTIMEOUT", Code::kUnavailable},
    {ZkError::kSessionExpired, "ZSESSIONEXPIRED", Code::kUnavailable},
    {ZkError::kClosing, "ZCLOSING", Code::kUnavailable},
    {ZkError::kBadArguments, "ZBADARGUMENTS", Code::kInvalidRequest},
    {ZkError::kOther, "ZERROR", Code::kInternal},
};
const ErrorInfo& InfoOf(ZkError error) {
  for (const auto& info : kErrors) {
    if (info.error == error) return info;
  }
  return kErrors[sizeof(kErrors) / sizeof(kErrors[0]) - 1];
}
}  // namespace

const char* ZkErrorName(ZkError error) { return InfoOf(error).name; }
Code ZkErrorCode(ZkError error) { return InfoOf(error).code; }

Status MakeZkStatus(ZkError error, const std::string& context) {
  if (error == ZkError::kOk) return Status::Ok();
  const ErrorInfo& info = InfoOf(error);
  return Status(info.code, std::string(info.name) + ": " + context);
}

ZkError ZkErrorOf(const Status& status) {
  if (status.ok()) return ZkError::kOk;
  const std::string& m = status.message();
  size_t colon = m.find(':');
  if (colon == std::string::npos) return ZkError::kOther;
  for (const auto& info : kErrors) {
    // The code must match too, so a foreign message that merely starts with "ZNONODE:" and
    // carries another code is not mistaken for ours.
    if (info.code == status.code() && m.compare(0, colon, info.name) == 0 &&
        std::strlen(info.name) == colon) {
      return info.error;
    }
  }
  return ZkError::kOther;
}

bool IsRetriable(const Status& s) {
  ZkError e = ZkErrorOf(s);
  return e == ZkError::kConnectionLoss || e == ZkError::kOperationTimeout;
}

}  // namespace zoomq::coordinator
