#include "zoomq/security/state.h"

#include <nlohmann/json.hpp>

#include "zoomq/common/json_get.h"
#include "zoomq/common/names.h"

namespace zoomq::security {

using nlohmann::json;

namespace {

constexpr size_t kHashLength = 64;
constexpr size_t kTokenIdLength = 16;
constexpr size_t kMaxDescription = 256;

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Strict field access for a record: `fields` lists every allowed key.
class Record {
 public:
  Record(const json& j, const char* what) : j_(j), what_(what) {}

  Status Only(std::initializer_list<const char*> fields) const {
    if (!j_.is_object()) return Status::Invalid(std::string(what_) + " must be a JSON object");
    for (const auto& [key, value] : j_.items()) {
      bool known = false;
      for (const char* f : fields) known = known || key == f;
      if (!known) return Status::Invalid("unknown field '" + key + "' in " + what_);
    }
    return Status::Ok();
  }
  Status Text(const char* field, std::string* out) const {
    auto it = j_.find(field);
    if (it == j_.end() || !it->is_string()) return Missing(field, "a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status Int(const char* field, int64_t* out) const {
    auto it = j_.find(field);
    if (it == j_.end() || !JsonIntegerOf(*it, out)) return Missing(field, "an integer");
    return Status::Ok();
  }

 private:
  Status Missing(const char* field, const char* type) const {
    return Status::Invalid(std::string(what_) + " needs '" + field + "' as " + type);
  }
  const json& j_;
  const char* what_;
};

Status ValidateUserName(const std::string& name) {
  ZOOMQ_RETURN_IF_ERROR(ValidateName(name, "user"));
  if (name == kAdminPrincipal) {
    return Status::Invalid("user name 'admin' is reserved for the bootstrap token");
  }
  return Status::Ok();
}

Status ValidateToken(const TokenRecord& t, const SecurityState& state) {
  if (t.hash.size() != kHashLength || !IsLowerHex(t.hash)) {
    return Status::Invalid("a token hash must be 64 lowercase hex digits");
  }
  if (t.id != TokenIdOf(t.hash))
    return Status::Invalid("token id '" + t.id + "' is not its hash's");
  if (!state.users.count(t.user)) {
    return Status::Invalid("token '" + t.id + "' belongs to unknown user '" + t.user + "'");
  }
  if (t.description.size() > kMaxDescription) {
    return Status::Invalid("a token description is at most 256 bytes");
  }
  return Status::Ok();
}

Status NotFound(const std::string& what) { return Status(Code::kNotFound, what); }

}  // namespace

std::string TokenIdOf(std::string_view hash) { return std::string(hash.substr(0, kTokenIdLength)); }

std::string EncodeState(const SecurityState& state) {
  json users = json::array(), tokens = json::array(), rules = json::array();
  for (const auto& [name, u] : state.users) {
    users.push_back({{"name", u.name}, {"created_ms", u.created_ms}});
  }
  for (const auto& [id, t] : state.tokens) {
    tokens.push_back({{"id", t.id},
                      {"user", t.user},
                      {"hash", t.hash},
                      {"created_ms", t.created_ms},
                      {"description", t.description}});
  }
  for (const auto& [id, rule] : state.rules) {
    json r = json::parse(EncodeRule(rule));
    r["id"] = id;
    rules.push_back(std::move(r));
  }
  return json{
      {"users", users}, {"tokens", tokens}, {"rules", rules}, {"next_rule_id", state.next_rule_id}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<SecurityState> DecodeState(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  Record top(j, "the security document");
  ZOOMQ_RETURN_IF_ERROR(top.Only({"users", "tokens", "rules", "next_rule_id"}));
  SecurityState state;
  ZOOMQ_RETURN_IF_ERROR(top.Int("next_rule_id", &state.next_rule_id));
  if (state.next_rule_id < 1) return Status::Invalid("next_rule_id must be positive");
  for (const char* list : {"users", "tokens", "rules"}) {
    if (!j.contains(list) || !j[list].is_array()) {
      return Status::Invalid(std::string("the security document needs '") + list + "' as an array");
    }
  }
  for (const json& u : j["users"]) {
    Record r(u, "a user record");
    ZOOMQ_RETURN_IF_ERROR(r.Only({"name", "created_ms"}));
    UserRecord user;
    ZOOMQ_RETURN_IF_ERROR(r.Text("name", &user.name));
    ZOOMQ_RETURN_IF_ERROR(r.Int("created_ms", &user.created_ms));
    ZOOMQ_RETURN_IF_ERROR(ValidateUserName(user.name));
    if (!state.users.emplace(user.name, user).second) {
      return Status::Invalid("user '" + user.name + "' appears twice");
    }
  }
  for (const json& t : j["tokens"]) {
    Record r(t, "a token record");
    ZOOMQ_RETURN_IF_ERROR(r.Only({"id", "user", "hash", "created_ms", "description"}));
    TokenRecord token;
    ZOOMQ_RETURN_IF_ERROR(r.Text("id", &token.id));
    ZOOMQ_RETURN_IF_ERROR(r.Text("user", &token.user));
    ZOOMQ_RETURN_IF_ERROR(r.Text("hash", &token.hash));
    ZOOMQ_RETURN_IF_ERROR(r.Int("created_ms", &token.created_ms));
    ZOOMQ_RETURN_IF_ERROR(r.Text("description", &token.description));
    ZOOMQ_RETURN_IF_ERROR(ValidateToken(token, state));
    if (!state.tokens.emplace(token.id, token).second) {
      return Status::Invalid("token '" + token.id + "' appears twice");
    }
  }
  for (const json& rj : j["rules"]) {
    if (!rj.is_object()) return Status::Invalid("a rule record must be a JSON object");
    Record r(rj, "a rule record");
    int64_t id = 0;
    ZOOMQ_RETURN_IF_ERROR(r.Int("id", &id));
    if (id < 1 || id >= state.next_rule_id) {
      return Status::Invalid("rule id " + std::to_string(id) + " is out of range");
    }
    json body = rj;
    body.erase("id");
    auto rule = DecodeRule(body.dump());
    if (!rule.ok()) return rule.status();
    if (!state.rules.emplace(id, rule.value()).second) {
      return Status::Invalid("rule " + std::to_string(id) + " appears twice");
    }
  }
  return state;
}

Status AddUser(SecurityState& state, const std::string& name, int64_t now_ms) {
  ZOOMQ_RETURN_IF_ERROR(ValidateUserName(name));
  if (state.users.count(name)) {
    return Status(Code::kAlreadyExists, "user '" + name + "' exists");
  }
  state.users[name] = UserRecord{name, now_ms};
  return Status::Ok();
}

Status DeleteUser(SecurityState& state, const std::string& name) {
  if (!state.users.erase(name)) return NotFound("no user '" + name + "'");
  std::erase_if(state.tokens, [&](const auto& kv) { return kv.second.user == name; });
  std::erase_if(state.rules, [&](const auto& kv) { return kv.second.principal == name; });
  return Status::Ok();
}

Result<TokenRecord> AddToken(SecurityState& state, const std::string& user, const std::string& hash,
                             std::string description, int64_t now_ms) {
  if (!state.users.count(user)) return NotFound("no user '" + user + "'");
  TokenRecord t{TokenIdOf(hash), user, hash, now_ms, std::move(description)};
  ZOOMQ_RETURN_IF_ERROR(ValidateToken(t, state));
  if (state.tokens.count(t.id)) {
    return Status(Code::kAlreadyExists, "token '" + t.id + "' exists");
  }
  state.tokens[t.id] = t;
  return t;
}

Status RevokeToken(SecurityState& state, const std::string& id) {
  if (!state.tokens.erase(id)) return NotFound("no token '" + id + "'");
  return Status::Ok();
}

Result<int64_t> AddRule(SecurityState& state, const AclRule& rule, bool* created) {
  ZOOMQ_RETURN_IF_ERROR(ValidateRule(rule));
  for (const auto& [id, existing] : state.rules) {
    if (existing == rule) {
      if (created) *created = false;
      return id;
    }
  }
  const int64_t id = state.next_rule_id++;
  state.rules[id] = rule;
  if (created) *created = true;
  return id;
}

Status DeleteRule(SecurityState& state, int64_t id) {
  if (!state.rules.erase(id)) return NotFound("no rule " + std::to_string(id));
  return Status::Ok();
}

}  // namespace zoomq::security
