// The security administration routes (docs/api.md, "Security"): users, tokens and access
// rules. The route table (http_server.cc) admits only cluster_admin callers, except whoami.
// With security off they answer 400: there is nothing to administer.
#include <httplib.h>

#include <charconv>

#include "broker/http/codec.h"
#include "broker/http/http_server.h"
#include "broker/http/reply.h"
#include "zoomq/common/names.h"
#include "zoomq/security/acl.h"

namespace zoomq::broker::http {

using nlohmann::json;

namespace {

// The longest token description kept.

Status SecurityOff() {
  return Status::Invalid("security is off on this broker (start it with --admin-token-file)");
}

// Who made a change, for the log line.
std::string By(const auth::Identity& who) {
  return who.principal.empty() ? "a broker" : who.principal;
}

json UserJson(const auth::UserRecord& u) {
  return {{"name", u.name}, {"created_ms", u.created_ms}};
}

json TokenJson(const auth::TokenRecord& t) {
  return {
      {"id", t.id}, {"user", t.user}, {"created_ms", t.created_ms}, {"description", t.description}};
}

json RuleJson(int64_t id, const auth::AclRule& rule) {
  json j = json::parse(zoomq::security::EncodeRule(rule));
  j["id"] = id;
  return j;
}

Result<int64_t> RuleId(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id < 1) {
    return Status::Invalid("a rule id is a positive integer, got '" + text + "'");
  }
  return id;
}

}  // namespace

void HttpServer::WhoAmI(const httplib::Request&, httplib::Response& res, const Identity& who) {
  if (!security_->enabled()) return Reply(res, 200, json{{"security", false}});
  json j = {{"security", true}, {"principal", who.principal}, {"superuser", who.superuser}};
  if (who.broker) j["broker"] = *who.broker;
  Reply(res, 200, j);
}

void HttpServer::ListUsers(const httplib::Request&, httplib::Response& res, const Identity&) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  json users = json::array();
  for (const auto& u : security_->Users()) users.push_back(UserJson(u));
  Reply(res, 200, json{{"users", users}});
}

void HttpServer::CreateUser(const httplib::Request& req, httplib::Response& res,
                            const Identity& who) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  auto parsed = ParseUserCreate(req.body);
  if (!parsed.ok()) return Error(res, parsed.status());
  const std::string& name = parsed.value();
  if (Status st = security_->AddUser(name, By(who)); !st.ok()) return Error(res, st);
  for (const auto& u : security_->Users()) {
    if (u.name == name) return Reply(res, 201, UserJson(u));
  }
  Reply(res, 201, json{{"name", name}});
}

void HttpServer::DeleteUser(const httplib::Request& req, httplib::Response& res,
                            const Identity& who) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  const std::string name = req.matches[1];
  if (Status st = ValidateName(name, "user"); !st.ok()) return Error(res, st);
  if (Status st = security_->DeleteUser(name, By(who)); !st.ok()) return Error(res, st);
  res.status = 204;
}

void HttpServer::IssueToken(const httplib::Request& req, httplib::Response& res,
                            const Identity& who) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  const std::string user = req.matches[1];
  if (Status st = ValidateName(user, "user"); !st.ok()) return Error(res, st);
  auto description = ParseTokenCreate(req.body);
  if (!description.ok()) return Error(res, description.status());
  auto issued = security_->IssueToken(user, description.value(), By(who));
  if (!issued.ok()) return Error(res, issued.status());
  json j = TokenJson(issued->record);
  j["token"] = issued->token;  // the only time it is shown
  res.set_header("Cache-Control", "no-store");
  Reply(res, 201, j);
}

void HttpServer::ListTokens(const httplib::Request& req, httplib::Response& res, const Identity&) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  const std::string user = req.has_param("user") ? req.get_param_value("user") : "";
  json tokens = json::array();
  for (const auto& t : security_->Tokens()) {
    if (user.empty() || t.user == user) tokens.push_back(TokenJson(t));
  }
  Reply(res, 200, json{{"tokens", tokens}});
}

void HttpServer::RevokeToken(const httplib::Request& req, httplib::Response& res,
                             const Identity& who) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  const std::string id = req.matches[1];
  if (Status st = security_->RevokeToken(id, By(who)); !st.ok()) return Error(res, st);
  res.status = 204;
}

void HttpServer::ListAcls(const httplib::Request&, httplib::Response& res, const Identity&) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  json acls = json::array();
  for (const auto& [id, rule] : security_->Rules()) acls.push_back(RuleJson(id, rule));
  Reply(res, 200, json{{"acls", acls}});
}

void HttpServer::CreateAcl(const httplib::Request& req, httplib::Response& res,
                           const Identity& who) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  auto rule = zoomq::security::DecodeRule(req.body);
  if (!rule.ok()) return Error(res, rule.status());
  auto added = security_->AddRule(rule.value(), By(who));
  if (!added.ok()) return Error(res, added.status());
  Reply(res, added->second ? 201 : 200, RuleJson(added->first, rule.value()));
}

void HttpServer::DeleteAcl(const httplib::Request& req, httplib::Response& res,
                           const Identity& who) {
  if (!security_->enabled()) return Error(res, SecurityOff());
  auto id = RuleId(req.matches[1]);
  if (!id.ok()) return Error(res, id.status());
  if (Status st = security_->DeleteRule(id.value(), By(who)); !st.ok()) return Error(res, st);
  res.status = 204;
}

}  // namespace zoomq::broker::http
