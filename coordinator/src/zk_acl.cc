#include "zk_acl.h"

#include <cstring>
#include <vector>

#include "zk_rc.h"
#include "zoomq/coordinator/zk_session.h"
#include "zoomq/coordinator/znodes.h"

namespace zoomq::coordinator {

namespace {

bool IsUnder(const std::string& path, const std::string& root) {
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

// Exactly ZOO_OPEN_ACL_UNSAFE: anyone may do anything. Any other ACL was chosen by someone and
// is left alone.
bool IsOpenAcl(const struct ACL_vector& acl) {
  return acl.count == 1 && acl.data[0].perms == ZOO_PERM_ALL &&
         std::strcmp(acl.data[0].id.scheme, ZOO_ANYONE_ID_UNSAFE.scheme) == 0 &&
         std::strcmp(acl.data[0].id.id, ZOO_ANYONE_ID_UNSAFE.id) == 0;
}

// `rel` is the node's path inside the chroot; `chroot` + `rel` its full path.
Status LockSubtree(zhandle_t* zh, const std::string& chroot, const std::string& rel, int* locked) {
  const std::string full = rel == "/" ? chroot : chroot + rel;
  struct ACL_vector acl {};
  struct Stat stat {};
  int rc = zoo_get_acl(zh, full.c_str(), &acl, &stat);
  // Gone meanwhile (an ephemeral), or unreadable to us, which an open node never is.
  if (rc == ZNONODE || rc == ZNOAUTH) return Status::Ok();
  if (rc != ZOK) return ZkRcStatus(rc, "get acl " + full);
  const bool open = IsOpenAcl(acl);
  deallocate_ACL_vector(&acl);
  if (!open) return Status::Ok();

  struct String_vector children {};
  rc = zoo_get_children(zh, full.c_str(), 0, &children);
  if (rc == ZNONODE) return Status::Ok();
  if (rc != ZOK) return ZkRcStatus(rc, "get children " + full);
  std::vector<std::string> names(children.data, children.data + children.count);
  deallocate_String_vector(&children);
  for (const std::string& name : names) {
    ZOOMQ_RETURN_IF_ERROR(LockSubtree(zh, chroot, JoinPath(rel, name), locked));
  }
  rc = zoo_set_acl(zh, full.c_str(), -1, AclFor(rel, /*digest=*/true));
  if (rc == ZNONODE) return Status::Ok();
  if (rc != ZOK) return ZkRcStatus(rc, "set acl " + full);
  ++*locked;
  return Status::Ok();
}

}  // namespace

int AddDigestAuth(zhandle_t* zh, const std::string& credentials) {
  // No completion: its code is 0 even for a wrong password, so there is nothing to wait for.
  return zoo_add_auth(zh, "digest", credentials.data(), static_cast<int>(credentials.size()),
                      nullptr, nullptr);
}

const struct ACL_vector* AclFor(const std::string& path, bool digest) {
  if (!digest) return &ZOO_OPEN_ACL_UNSAFE;
  if (IsUnder(path, znodes::kSecurityRoot)) return &ZOO_CREATOR_ALL_ACL;
  // ZOO_AUTH_IDS: the server replaces it by the creator's authenticated ids, i.e. the digest
  // identity every broker shares.
  static struct ACL read_all_write_creator[2] = {{ZOO_PERM_READ, ZOO_ANYONE_ID_UNSAFE},
                                                 {ZOO_PERM_ALL, ZOO_AUTH_IDS}};
  static struct ACL_vector acl = {2, read_all_write_creator};
  return &acl;
}

Result<int> LockOpenTree(zhandle_t* zh, const std::string& chroot) {
  int locked = 0;
  ZOOMQ_RETURN_IF_ERROR(LockSubtree(zh, chroot, "/", &locked));
  return locked;
}

}  // namespace zoomq::coordinator
