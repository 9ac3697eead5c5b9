// The cluster's users, token records and access rules (docs/security.md): one document,
// stored whole (in ZooKeeper in a cluster, in the broker's SQLite store standalone) and
// changed by compare-and-set, so every broker sees the same version. Pure: the mutations
// below change a value; a SecurityStore (state_store.h) persists it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "zoomq/common/status.h"
#include "zoomq/security/acl.h"

namespace zoomq::security {

// The principal of the bootstrap token (--admin-token-file): reserved, never a user.
inline constexpr std::string_view kAdminPrincipal = "admin";

struct UserRecord {
  std::string name;
  int64_t created_ms = 0;
  bool operator==(const UserRecord&) const = default;
};

// A token as stored: never the token itself. `id` is public (the first 16 hex digits of the
// hash): it names the token in lists and revocations.
struct TokenRecord {
  std::string id;
  std::string user;
  std::string hash;  // HashToken(token)
  int64_t created_ms = 0;
  std::string description;
  bool operator==(const TokenRecord&) const = default;
};

struct SecurityState {
  std::map<std::string, UserRecord> users;    // by name
  std::map<std::string, TokenRecord> tokens;  // by id
  std::map<int64_t, AclRule> rules;           // by id
  int64_t next_rule_id = 1;
  bool operator==(const SecurityState&) const = default;
};

// JSON, one document. Decoding is strict: unknown fields, wrong types, invalid names or rules,
// a token whose id is not its hash's prefix, or a token of an unknown user -> INVALID_REQUEST.
std::string EncodeState(const SecurityState& state);
Result<SecurityState> DecodeState(std::string_view json_text);

// A token's public id: the first 16 hex digits of its hash.
std::string TokenIdOf(std::string_view hash);

// Mutations. Errors: INVALID_REQUEST (bad name, reserved name), ALREADY_EXISTS, NOT_FOUND.
Status AddUser(SecurityState& state, const std::string& name, int64_t now_ms);
// Removes the user, its tokens and the rules naming it.
Status DeleteUser(SecurityState& state, const std::string& name);
// Records a token (by its hash) for an existing user; its id is derived from the hash.
Result<TokenRecord> AddToken(SecurityState& state, const std::string& user, const std::string& hash,
                             std::string description, int64_t now_ms);
Status RevokeToken(SecurityState& state, const std::string& id);
// The rule's id; an identical rule already present keeps its id (`*created` = false).
Result<int64_t> AddRule(SecurityState& state, const AclRule& rule, bool* created);
Status DeleteRule(SecurityState& state, int64_t id);

}  // namespace zoomq::security
