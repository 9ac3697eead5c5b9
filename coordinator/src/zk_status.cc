#include "zoomq/coordinator/zk_status.h"

#include <zookeeper/zookeeper.h>

#include <cstring>

#include "zk_rc.h"

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
    {ZkError::kNoAuth, "ZNOAUTH", Code::kInternal},
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

ZkError ZkErrorFromRc(int rc) {
  switch (rc) {
    case ZOK:
      return ZkError::kOk;
    case ZNONODE:
      return ZkError::kNoNode;
    case ZNODEEXISTS:
      return ZkError::kNodeExists;
    case ZBADVERSION:
      return ZkError::kBadVersion;
    case ZNOTEMPTY:
      return ZkError::kNotEmpty;
    case ZNOCHILDRENFOREPHEMERALS:
      return ZkError::kNoChildrenForEphemerals;
    case ZCONNECTIONLOSS:
      return ZkError::kConnectionLoss;
    case ZOPERATIONTIMEOUT:
      return ZkError::kOperationTimeout;
    // ZINVALIDSTATE: the handle is expired (or failed auth) and will never work again.
    case ZSESSIONEXPIRED:
    case ZINVALIDSTATE:
      return ZkError::kSessionExpired;
    case ZCLOSING:
      return ZkError::kClosing;
    case ZBADARGUMENTS:
      return ZkError::kBadArguments;
    case ZNOAUTH:
      return ZkError::kNoAuth;
    default:
      return ZkError::kOther;
  }
}

Status ZkRcStatus(int rc, const std::string& context) {
  ZkError e = ZkErrorFromRc(rc);
  if (e == ZkError::kOther) return MakeZkStatus(e, context + " (" + zerror(rc) + ")");
  return MakeZkStatus(e, context);
}

bool IsRetriable(const Status& s) {
  ZkError e = ZkErrorOf(s);
  return e == ZkError::kConnectionLoss || e == ZkError::kOperationTimeout;
}

}  // namespace zoomq::coordinator
