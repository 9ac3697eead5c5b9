#include "security_verbs.h"

#include <string>
#include <vector>

#include "render.h"
#include "zoomq/security/token.h"

namespace zoomq::ctl {
namespace {

int CmdWhoAmI(const Globals& g, Io& io) {
  Admin admin(MakeClient(g));
  Result<CallerInfo> me = admin.WhoAmI();
  if (!me.ok()) return Fail(g, io, me.status());
  if (g.json) {
    io.out << Json{{"security", me->security},
                   {"principal", me->principal},
                   {"superuser", me->superuser}}
                  .dump(2)
           << '\n';
  } else if (!me->security) {
    io.out << "security is off on this cluster: every caller may do everything\n";
  } else {
    io.out << "principal " << me->principal << (me->superuser ? " (superuser)" : "") << '\n';
  }
  return kExitOk;
}

int CmdUserCreate(const Globals& g, Io& io, const std::string& name) {
  Admin admin(MakeClient(g));
  Result<UserInfo> user = admin.CreateUser(name);
  if (!user.ok()) return Fail(g, io, user.status());
  if (g.json) {
    io.out << Json{{"name", user->name}, {"created_ms", user->created_ms}}.dump(2) << '\n';
  } else {
    io.out << "created user " << user->name << '\n';
  }
  return kExitOk;
}

int CmdUserList(const Globals& g, Io& io) {
  Admin admin(MakeClient(g));
  Result<std::vector<UserInfo>> users = admin.ListUsers();
  if (!users.ok()) return Fail(g, io, users.status());
  if (g.json) {
    Json list = Json::array();
    for (const UserInfo& u : *users)
      list.push_back({{"name", u.name}, {"created_ms", u.created_ms}});
    io.out << Json{{"users", list}}.dump(2) << '\n';
    return kExitOk;
  }
  Table table({"USER", "CREATED_MS"});
  for (const UserInfo& u : *users) table.Add({u.name, std::to_string(u.created_ms)});
  table.Print(io.out);
  return kExitOk;
}

int CmdTokenCreate(const Globals& g, Io& io, const SecurityArgs& a) {
  Admin admin(MakeClient(g));
  Result<TokenInfo> t = admin.CreateToken(a.user, a.description);
  if (!t.ok()) return Fail(g, io, t.status());
  if (g.json) {
    io.out << Json{{"id", t->id},
                   {"user", t->user},
                   {"created_ms", t->created_ms},
                   {"description", t->description},
                   {"token", t->token}}
                  .dump(2)
           << '\n';
  } else {
    io.out << "token " << t->id << " for user " << t->user << " (shown once; store it now):\n"
           << t->token << '\n';
  }
  return kExitOk;
}

int CmdTokenList(const Globals& g, Io& io, const std::string& user) {
  Admin admin(MakeClient(g));
  Result<std::vector<TokenInfo>> tokens = admin.ListTokens(user);
  if (!tokens.ok()) return Fail(g, io, tokens.status());
  if (g.json) {
    Json list = Json::array();
    for (const TokenInfo& t : *tokens) {
      list.push_back({{"id", t.id},
                      {"user", t.user},
                      {"created_ms", t.created_ms},
                      {"description", t.description}});
    }
    io.out << Json{{"tokens", list}}.dump(2) << '\n';
    return kExitOk;
  }
  Table table({"ID", "USER", "CREATED_MS", "DESCRIPTION"});
  for (const TokenInfo& t : *tokens) {
    table.Add({t.id, t.user, std::to_string(t.created_ms), t.description});
  }
  table.Print(io.out);
  return kExitOk;
}

int CmdTokenGenerate(const Globals& g, Io& io) {
  Result<std::string> token = security::GenerateToken();
  if (!token.ok()) return Fail(g, io, token.status());
  if (g.json) {
    io.out << Json{{"token", *token}}.dump(2) << '\n';
  } else {
    io.out << *token << '\n';
  }
  return kExitOk;
}

int CmdAclAdd(const Globals& g, Io& io, const SecurityArgs& a) {
  const int kinds = (a.topic.empty() ? 0 : 1) + (a.group.empty() ? 0 : 1) + (a.cluster ? 1 : 0);
  if (kinds != 1) return Usage(io, "give exactly one of --topic, --group, --cluster");
  AclInfo rule;
  rule.principal = a.principal;
  rule.operation = a.operation;
  rule.resource = a.cluster ? "cluster" : !a.topic.empty() ? "topic" : "group";
  rule.name = a.cluster ? "" : !a.topic.empty() ? a.topic : a.group;
  rule.pattern = a.prefix ? "prefix" : "literal";
  Admin admin(MakeClient(g));
  Result<AclInfo> added = admin.CreateAcl(rule);
  if (!added.ok()) return Fail(g, io, added.status());
  if (g.json) {
    io.out << Json{{"id", added->id}, {"created", added->created}}.dump(2) << '\n';
  } else {
    io.out << (added->created ? "added rule " : "rule exists: ") << added->id << '\n';
  }
  return kExitOk;
}

int CmdAclList(const Globals& g, Io& io) {
  Admin admin(MakeClient(g));
  Result<std::vector<AclInfo>> acls = admin.ListAcls();
  if (!acls.ok()) return Fail(g, io, acls.status());
  if (g.json) {
    Json list = Json::array();
    for (const AclInfo& r : *acls) {
      list.push_back({{"id", r.id},
                      {"principal", r.principal},
                      {"resource", r.resource},
                      {"name", r.name},
                      {"pattern", r.pattern},
                      {"operation", r.operation}});
    }
    io.out << Json{{"acls", list}}.dump(2) << '\n';
    return kExitOk;
  }
  Table table({"ID", "PRINCIPAL", "OPERATION", "RESOURCE", "NAME", "PATTERN"});
  for (const AclInfo& r : *acls) {
    table.Add({std::to_string(r.id), r.principal, r.operation, r.resource, r.name, r.pattern});
  }
  table.Print(io.out);
  return kExitOk;
}

}  // namespace

SecurityVerbs::SecurityVerbs(CLI::App& app) {
  whoami_ = app.add_subcommand("whoami", "Who the brokers take you for");
  CLI::App* user = app.add_subcommand("user", "Users (security on; cluster_admin)");
  user->require_subcommand(1);
  user->fallthrough();
  u_create_ = user->add_subcommand("create", "Create a user");
  u_create_->add_option("NAME", sa_.name, "User name")->required();
  u_list_ = user->add_subcommand("list", "List users");
  u_delete_ = user->add_subcommand("delete", "Delete a user with its tokens and rules");
  u_delete_->add_option("NAME", sa_.name, "User name")->required();
  CLI::App* token = app.add_subcommand("token", "Tokens (security on; cluster_admin)");
  token->require_subcommand(1);
  token->fallthrough();
  k_create_ = token->add_subcommand("create", "Issue a token to a user (printed once)");
  k_create_->add_option("USER", sa_.user, "User")->required();
  k_create_->add_option("--description", sa_.description, "What the token is for");
  k_list_ = token->add_subcommand("list", "List tokens (ids, never the tokens)");
  k_list_->add_option("--user", sa_.user, "Only this user's");
  k_revoke_ = token->add_subcommand("revoke", "Revoke a token by id");
  k_revoke_->add_option("ID", sa_.id, "Token id (from token list)")->required();
  k_generate_ = token->add_subcommand(
      "generate", "Print a fresh random token (for --admin-token-file); asks no broker");
  CLI::App* acl = app.add_subcommand("acl", "Access rules (security on; cluster_admin)");
  acl->require_subcommand(1);
  acl->fallthrough();
  a_add_ = acl->add_subcommand("add", "Allow a principal an operation on a resource");
  a_add_->add_option("--principal", sa_.principal, "User (or certificate subject)")->required();
  a_add_
      ->add_option("--operation", sa_.operation,
                   "produce, consume, describe, create, delete, alter, cluster_admin")
      ->required();
  a_add_->add_option("--topic", sa_.topic, "A topic (or a prefix with --prefix)");
  a_add_->add_option("--group", sa_.group, "A group (or a prefix with --prefix)");
  a_add_->add_flag("--cluster", sa_.cluster, "The cluster itself");
  a_add_->add_flag("--prefix", sa_.prefix, "The name is a prefix");
  a_list_ = acl->add_subcommand("list", "List access rules");
  a_delete_ = acl->add_subcommand("delete", "Delete an access rule by id");
  a_delete_->add_option("ID", sa_.rule_id, "Rule id (from acl list)")
      ->required()
      ->check(CLI::PositiveNumber);
}

std::optional<int> SecurityVerbs::Run(const Globals& g, Io& io) const {
  if (whoami_->parsed()) return CmdWhoAmI(g, io);
  if (u_create_->parsed()) return CmdUserCreate(g, io, sa_.name);
  if (u_list_->parsed()) return CmdUserList(g, io);
  if (u_delete_->parsed()) {
    return Done(g, io, Admin(MakeClient(g)).DeleteUser(sa_.name), "deleted user " + sa_.name);
  }
  if (k_create_->parsed()) return CmdTokenCreate(g, io, sa_);
  if (k_list_->parsed()) return CmdTokenList(g, io, sa_.user);
  if (k_revoke_->parsed()) {
    return Done(g, io, Admin(MakeClient(g)).RevokeToken(sa_.id), "revoked token " + sa_.id);
  }
  if (k_generate_->parsed()) return CmdTokenGenerate(g, io);
  if (a_add_->parsed()) return CmdAclAdd(g, io, sa_);
  if (a_list_->parsed()) return CmdAclList(g, io);
  if (a_delete_->parsed()) {
    return Done(g, io, Admin(MakeClient(g)).DeleteAcl(sa_.rule_id),
                "deleted rule " + std::to_string(sa_.rule_id));
  }
  return std::nullopt;
}

}  // namespace zoomq::ctl
