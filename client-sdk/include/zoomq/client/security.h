// Types of the security administration (docs/security.md, docs/api.md "Security"): users,
// their tokens and access rules, managed through zoomq::Admin by a cluster_admin caller.
#pragma once

#include <cstdint>
#include <string>

namespace zoomq {

struct CallerInfo {
  bool security = false;  // false: the broker runs with security off
  std::string principal;  // the caller, as the broker sees it
  bool superuser = false;
};

struct UserInfo {
  std::string name;
  int64_t created_ms = 0;
};

struct TokenInfo {
  std::string id;  // public: names the token in lists and revocations
  std::string user;
  int64_t created_ms = 0;
  std::string description;
  std::string token;  // only in the answer to its creation: shown once, never stored
};

// An allow rule: `principal` may `operation` on the resource.
struct AclInfo {
  int64_t id = 0;  // set by the broker
  std::string principal;
  std::string resource;             // "topic", "group" or "cluster"
  std::string name;                 // the topic or group name (or prefix); "" for the cluster
  std::string pattern = "literal";  // "literal" or "prefix"
  std::string operation;  // produce, consume, describe, create, delete, alter, cluster_admin
  bool created = false;   // CreateAcl: false when the same rule existed
};

}  // namespace zoomq
