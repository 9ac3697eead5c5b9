// Access control on zoomq's znodes (docs/znodes.md, "ACLs"): the digest login of a handle, the
// ACL each path is created with, and the one-time lock of a tree made before digest was on.
//
// With digest credentials every broker logs in as the same ZooKeeper identity, and what it
// creates is writable by that identity only: world-readable metadata (the SDK's optional
// ZooKeeper bootstrap reads /brokers without credentials), creator-only secrets under
// /security. Without credentials every node keeps ZooKeeper's open ACL, as before.
//
// Coordinator-internal (it needs <zookeeper/zookeeper.h>). Thread-safety: pure functions, and
// calls on a handle the caller owns.
#pragma once

#include <zookeeper/zookeeper.h>

#include <string>

#include "zoomq/common/status.h"

namespace zoomq::coordinator {

// Adds the digest `credentials` ("user:password") to `zh`. Call it right after
// zookeeper_init(), before any request: the client sends it ahead of every later request and
// again after each reconnection of the session. A wrong password is not an error here (the
// server accepts any digest); it shows later as ZNOAUTH. Returns the C client's code.
int AddDigestAuth(zhandle_t* zh, const std::string& credentials);

// The ACL of a node at `path`, a path inside the chroot ("/" is the chroot node itself).
// Without digest: ZOO_OPEN_ACL_UNSAFE. With it: ZOO_CREATOR_ALL_ACL at and under /security,
// world READ + creator ALL everywhere else. Static storage.
const struct ACL_vector* AclFor(const std::string& path, bool digest);

// Gives every node of the tree at `chroot` (a full path, not "/") that still has ZooKeeper's
// open ACL the ACL AclFor() names for it: a tree made before digest was turned on. Children
// go before their parent and a locked node's subtree is skipped, so the chroot node itself,
// locked last, marks the whole tree as done, and a walk cut short is finished by the next one.
// REQUIRES: `zh` has no chroot and carries the digest credentials. Returns how many nodes it
// locked (0 when the chroot was locked already: one read).
Result<int> LockOpenTree(zhandle_t* zh, const std::string& chroot);

}  // namespace zoomq::coordinator
