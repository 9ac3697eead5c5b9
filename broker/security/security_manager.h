// SecurityManager: who a request is and what it may do (docs/security.md). Off unless the
// broker was given a bootstrap admin token (--admin-token-file); then every request must
// authenticate and every operation must be allowed by a rule.
//
// Identities: the bootstrap admin (the admin token), a user (one of its tokens), a client
// certificate's subject (mutual TLS), or another broker (its broker credential, token.h). A
// broker forwarding a client's request names the client (X-Zoomq-Principal) and is checked
// as that client: forwarding never widens what a caller may do.
//
// The users, token hashes and rules are one document in a StateStore (ZooKeeper in a
// cluster, SQLite standalone). Requests read an immutable view of it; the view is replaced
// when the store says it changed and at least every `poll_ms` (a change made on any broker
// applies everywhere within that time, watches or not).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"
#include "zoomq/security/acl.h"
#include "zoomq/security/state.h"
#include "zoomq/security/state_store.h"

namespace zoomq::broker::auth {

using zoomq::security::AclRule;
using zoomq::security::Operation;
using zoomq::security::ResourceType;
using zoomq::security::TokenRecord;
using zoomq::security::UserRecord;

struct SecurityOptions {
  // The bootstrap admin token; empty: security off. Also the secret behind broker credentials,
  // so every broker of a cluster must be given the same one.
  std::string admin_token;
  int32_t broker_id = 0;
  TimeMs poll_ms = 1000;
};

// Who made a request.
struct Identity {
  std::string principal;          // "" only for a broker acting for itself
  std::optional<int32_t> broker;  // set when a broker credential was presented
  bool superuser = false;         // the bootstrap admin, a broker for itself, security off
};

// What a request presented.
struct Presented {
  std::optional<std::string_view> authorization;   // the Authorization header
  std::optional<std::string_view> on_behalf_of;    // X-Zoomq-Principal (brokers only)
  std::optional<std::string> certificate_subject;  // a verified client certificate's CN
};

struct IssuedToken {
  TokenRecord record;
  std::string token;  // shown once, never stored
};

class SecurityManager {
 public:
  // Security off: everyone is a superuser and nothing is stored.
  SecurityManager() = default;
  SecurityManager(SecurityOptions options, const Clock* clock);
  ~SecurityManager();

  bool enabled() const { return !options_.admin_token.empty(); }
  // Loads the document from `store` and keeps it current. REQUIRES: enabled().
  Status Start(std::unique_ptr<zoomq::security::StateStore> store);
  // Stops re-reading (requests keep the last view). Idempotent.
  void Stop();

  // 401 UNAUTHENTICATED (no or unknown credentials), 403 FORBIDDEN (a client claiming to act
  // for another principal).
  Result<Identity> Authenticate(const Presented& presented) const;
  // 403 FORBIDDEN naming the principal, the operation and the resource.
  Status Authorize(const Identity& who, ResourceType type, std::string_view name,
                   Operation op) const;
  // Group routes: `op` on the topic and on the group.
  Status AuthorizeGroup(const Identity& who, std::string_view topic, std::string_view group,
                        Operation op) const;
  // Lists show the topics the caller may do anything with.
  bool SeesTopic(const Identity& who, std::string_view topic) const;
  // Internal routes: a broker credential, nothing else.
  static Status RequireBroker(const Identity& who);

  // This broker's credential for its calls to other brokers ("" when security is off).
  std::string OwnCredential() const;

  // --- administration (cluster_admin; the HTTP layer checks) -----------------------------
  // Each reads the stored document, changes it and stores it by compare-and-set (retried when
  // another broker wrote first), then applies it here at once. `by` names the caller in the
  // log line.
  Status AddUser(const std::string& name, const std::string& by);
  Status DeleteUser(const std::string& name, const std::string& by);
  Result<IssuedToken> IssueToken(const std::string& user, std::string description,
                                 const std::string& by);
  Status RevokeToken(const std::string& id, const std::string& by);
  // The rule's id and whether it is new.
  Result<std::pair<int64_t, bool>> AddRule(const AclRule& rule, const std::string& by);
  Status DeleteRule(int64_t id, const std::string& by);

  std::vector<UserRecord> Users() const;
  std::vector<TokenRecord> Tokens() const;
  std::map<int64_t, AclRule> Rules() const;
  // The version of the document this broker applies (-1: none stored yet).
  int64_t version() const;
  // Re-reads the store now (tests; the poll thread does it on its own).
  Status Refresh();

 private:
  struct View;
  std::shared_ptr<const View> view() const;
  // Read, change, compare-and-set; `change` may fail (nothing stored then).
  Status Mutate(const std::function<Status(zoomq::security::SecurityState&)>& change);
  void PollLoop();

  SecurityOptions options_;
  const Clock* clock_ = nullptr;
  std::string admin_hash_;
  std::unique_ptr<zoomq::security::StateStore> store_;

  mutable std::mutex view_mu_;
  std::shared_ptr<const View> view_;  // guarded by view_mu_

  std::mutex write_mu_;  // one change at a time from this broker

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool poll_now_ = false;  // guarded by poll_mu_
  bool stopping_ = false;  // guarded by poll_mu_
  std::thread poller_;
};

}  // namespace zoomq::broker::auth
