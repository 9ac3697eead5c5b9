// ZooKeeper C client return codes as ZkError and Status. Coordinator-internal: the codes are
// <zookeeper/zookeeper.h>'s, which the public headers do not include.
#pragma once

#include <string>

#include "zoomq/common/status.h"
#include "zoomq/coordinator/zk_status.h"

namespace zoomq::coordinator {

// ZOK -> kOk, ZNONODE -> kNoNode, ...; codes zoomq does not tell apart -> kOther.
ZkError ZkErrorFromRc(int rc);
// MakeZkStatus(ZkErrorFromRc(rc), context); kOther adds zerror()'s text: "ZERROR: op /a (...)".
Status ZkRcStatus(int rc, const std::string& context);

}  // namespace zoomq::coordinator
