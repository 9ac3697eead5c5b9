// ZooKeeper outcomes as zoomq::Status.
//
// common/'s Status has no codes for "node exists" or "bad version", so a ZooKeeper error is
// carried twice: a zoomq::Code for callers that only propagate it (kNotFound, kUnavailable for
// retriable connection trouble, kInvalidRequest for failed preconditions, kInternal for the
// rest, ZNOAUTH included: a broker whose credentials do not open its own tree is misconfigured,
// not its caller), and the ZooKeeper error name as the message prefix ("ZBADVERSION: set /x ...").
// ZkErrorOf() reads the prefix back, so callers branch on a ZkError, never on message text.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "zoomq/common/status.h"

namespace zoomq::coordinator {

enum class ZkError {
  kOk = 0,
  kNoNode,                   // ZNONODE: the node (or a parent of a node being created) is missing
  kNodeExists,               // ZNODEEXISTS
  kBadVersion,               // ZBADVERSION: a version check (Set/Delete/Check) failed
  kNotEmpty,                 // ZNOTEMPTY: delete of a node that has children
  kNoChildrenForEphemerals,  // ZNOCHILDRENFOREPHEMERALS
  kConnectionLoss,    // ZCONNECTIONLOSS: outcome unknown; the operation may have been applied
  kOperationTimeout,  // ZOPERATIONTIMEOUT: no reply in time (client is reconnecting)
  kSessionExpired,    // ZSESSIONEXPIRED or ZINVALIDSTATE on an expired handle
  kClosing,           // ZCLOSING, or the ZkSession is stopped
  kBadArguments,      // ZBADARGUMENTS: e.g. an invalid path
  kNoAuth,            // ZNOAUTH: the node's ACL denies this session (digest credentials)
  kOther,             // anything else (message carries zerror() text)
};

// "ZNONODE", "ZBADVERSION", ...; "ZOK" for kOk.
const char* ZkErrorName(ZkError error);

// The zoomq::Code a ZkError is reported with.
Code ZkErrorCode(ZkError error);

// Builds the Status for `error` with `context` after the prefix: "ZNONODE: get /a/b".
// Returns Status::Ok() for kOk.
Status MakeZkStatus(ZkError error, const std::string& context);

// The ZkError carried by a Status made by MakeZkStatus (kOk for an OK status, kOther for a
// Status that did not come from this module).
ZkError ZkErrorOf(const Status& status);

inline bool IsNoNode(const Status& s) { return ZkErrorOf(s) == ZkError::kNoNode; }
inline bool IsNodeExists(const Status& s) { return ZkErrorOf(s) == ZkError::kNodeExists; }
inline bool IsBadVersion(const Status& s) { return ZkErrorOf(s) == ZkError::kBadVersion; }
inline bool IsNoAuth(const Status& s) { return ZkErrorOf(s) == ZkError::kNoAuth; }

// True for errors worth retrying with the same session once it is connected again
// (connection loss, operation timeout). Expiry and closing are not: they need a new session.
bool IsRetriable(const Status& s);

}  // namespace zoomq::coordinator
