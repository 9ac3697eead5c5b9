#include "broker/security/security_manager.h"

#include <spdlog/spdlog.h>

#include <unordered_map>

#include "zoomq/common/names.h"
#include "zoomq/security/token.h"

namespace zoomq::broker::auth {

namespace sec = zoomq::security;

struct SecurityManager::View {
  int64_t version = -1;
  sec::SecurityState state;
  std::unordered_map<std::string, std::string> user_of_hash;
  sec::Authorizer authorizer;

  View() = default;
  View(int64_t v, sec::SecurityState s) : version(v), state(std::move(s)) {
    for (const auto& [id, t] : state.tokens) user_of_hash[t.hash] = t.user;
    std::vector<AclRule> rules;
    for (const auto& [id, r] : state.rules) rules.push_back(r);
    authorizer = sec::Authorizer(std::move(rules));
  }
};

namespace {

constexpr int kMaxWriteAttempts = 8;

Status Unauthenticated(std::string message) {
  return Status(Code::kUnauthenticated, std::move(message));
}

Result<sec::SecurityState> Decode(const sec::StoredState& stored) {
  if (stored.version < 0) return sec::SecurityState{};
  return sec::DecodeState(stored.document);
}

}  // namespace

SecurityManager::SecurityManager(SecurityOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock),
      admin_hash_(options_.admin_token.empty() ? "" : sec::HashToken(options_.admin_token)),
      view_(std::make_shared<View>()) {}

SecurityManager::~SecurityManager() { Stop(); }

Status SecurityManager::Start(std::unique_ptr<sec::StateStore> store) {
  if (!enabled()) return Status::Invalid("security is off: no admin token");
  store_ = std::move(store);
  store_->Watch([this] {
    std::lock_guard<std::mutex> lock(poll_mu_);
    poll_now_ = true;
    poll_cv_.notify_all();
  });
  ZOOMQ_RETURN_IF_ERROR(Refresh());
  poller_ = std::thread([this] { PollLoop(); });
  spdlog::info("security on: tokens and access rules enforced (document version {})", version());
  return Status::Ok();
}

void SecurityManager::Stop() {
  {
    std::lock_guard<std::mutex> lock(poll_mu_);
    stopping_ = true;
    poll_cv_.notify_all();
  }
  if (poller_.joinable()) poller_.join();
}

void SecurityManager::PollLoop() {
  std::unique_lock<std::mutex> lock(poll_mu_);
  while (!stopping_) {
    poll_cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                      [this] { return stopping_ || poll_now_; });
    if (stopping_) break;
    poll_now_ = false;
    lock.unlock();
    if (Status st = Refresh(); !st.ok()) {
      spdlog::warn("security: cannot re-read the users and rules (keeping version {}): {}",
                   version(), st.ToString());
    }
    lock.lock();
  }
}

Status SecurityManager::Refresh() {
  auto stored = store_->Load();
  if (!stored.ok()) return stored.status();
  if (stored->version == version()) return Status::Ok();
  auto state = Decode(stored.value());
  if (!state.ok()) {
    return Status::Internal("the stored security document is invalid: " + state.status().message());
  }
  auto next = std::make_shared<const View>(stored->version, std::move(state).value());
  std::lock_guard<std::mutex> lock(view_mu_);
  // Two refreshes may race: never go back to an older version.
  if (next->version > view_->version) view_ = std::move(next);
  return Status::Ok();
}

std::shared_ptr<const SecurityManager::View> SecurityManager::view() const {
  std::lock_guard<std::mutex> lock(view_mu_);
  return view_;
}

int64_t SecurityManager::version() const { return view()->version; }

Result<Identity> SecurityManager::Authenticate(const Presented& p) const {
  if (!enabled()) return Identity{"", std::nullopt, true};
  if (!p.authorization) {
    if (p.certificate_subject) {
      if (p.on_behalf_of) {
        return Status(Code::kForbidden, "only a broker may act on behalf of a principal");
      }
      if (*p.certificate_subject == sec::kAdminPrincipal) {
        return Unauthenticated("a client certificate may not name the principal 'admin'");
      }
      if (Status st = ValidateName(*p.certificate_subject, "certificate subject"); !st.ok()) {
        return Unauthenticated(st.message());
      }
      return Identity{*p.certificate_subject, std::nullopt, false};
    }
    return Unauthenticated("this broker requires 'Authorization: Bearer <token>'");
  }
  auto token = sec::ParseBearer(*p.authorization);
  if (!token.ok()) return token.status();
  if (token->starts_with(sec::kBrokerCredentialPrefix)) {
    auto broker = sec::VerifyBrokerCredential(options_.admin_token, token.value());
    if (!broker) return Unauthenticated("invalid broker credential");
    if (!p.on_behalf_of) return Identity{"", broker, true};
    const std::string principal(*p.on_behalf_of);
    if (principal == sec::kAdminPrincipal) return Identity{principal, broker, true};
    if (Status st = ValidateName(principal, "principal"); !st.ok()) return st;
    return Identity{principal, broker, false};
  }
  if (p.on_behalf_of) {
    return Status(Code::kForbidden, "only a broker may act on behalf of a principal");
  }
  const std::string hash = sec::HashToken(token.value());
  if (sec::HashesEqual(admin_hash_, hash)) {  // one SHA-256 per request
    return Identity{std::string(sec::kAdminPrincipal), std::nullopt, true};
  }
  auto v = view();
  auto it = v->user_of_hash.find(hash);
  if (it == v->user_of_hash.end()) return Unauthenticated("unknown or revoked token");
  return Identity{it->second, std::nullopt, false};
}

Status SecurityManager::Authorize(const Identity& who, ResourceType type, std::string_view name,
                                  Operation op) const {
  if (!enabled() || who.superuser) return Status::Ok();
  return view()->authorizer.Check(who.principal, type, name, op);
}

Status SecurityManager::AuthorizeGroup(const Identity& who, std::string_view topic,
                                       std::string_view group, Operation op) const {
  if (!enabled() || who.superuser) return Status::Ok();
  return view()->authorizer.CheckGroup(who.principal, topic, group, op);
}

bool SecurityManager::SeesTopic(const Identity& who, std::string_view topic) const {
  if (!enabled() || who.superuser) return true;
  auto v = view();
  for (Operation op : {Operation::kDescribe, Operation::kProduce, Operation::kConsume,
                       Operation::kCreate, Operation::kDelete, Operation::kAlter}) {
    if (v->authorizer.Allows(who.principal, ResourceType::kTopic, topic, op)) return true;
  }
  return false;
}

Status SecurityManager::RequireBroker(const Identity& who) {
  if (who.broker || (who.superuser && who.principal.empty())) return Status::Ok();
  return Status(Code::kForbidden, "principal '" + who.principal +
                                      "' may not call a route between brokers; only brokers may");
}

std::string SecurityManager::OwnCredential() const {
  if (!enabled()) return "";
  return sec::BrokerCredential(options_.admin_token, options_.broker_id);
}

Status SecurityManager::Mutate(const std::function<Status(sec::SecurityState&)>& change) {
  if (!enabled() || !store_) return Status::Invalid("security is off on this broker");
  std::lock_guard<std::mutex> lock(write_mu_);
  for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
    auto stored = store_->Load();
    if (!stored.ok()) return stored.status();
    auto state = Decode(stored.value());
    if (!state.ok()) {
      return Status::Internal("the stored security document is invalid: " +
                              state.status().message());
    }
    ZOOMQ_RETURN_IF_ERROR(change(state.value()));
    Status st = store_->Save(sec::EncodeState(state.value()), stored->version);
    if (st.code() == Code::kStaleEpoch) continue;  // another broker wrote first: again
    ZOOMQ_RETURN_IF_ERROR(st);
    return Refresh();
  }
  return Status::Unavailable("the security document kept changing; retry");
}

Status SecurityManager::AddUser(const std::string& name, const std::string& by) {
  ZOOMQ_RETURN_IF_ERROR(
      Mutate([&](sec::SecurityState& s) { return sec::AddUser(s, name, clock_->NowMs()); }));
  spdlog::info("security: user '{}' created by '{}'", name, by);
  return Status::Ok();
}

Status SecurityManager::DeleteUser(const std::string& name, const std::string& by) {
  ZOOMQ_RETURN_IF_ERROR(Mutate([&](sec::SecurityState& s) { return sec::DeleteUser(s, name); }));
  spdlog::info("security: user '{}' deleted with its tokens and rules by '{}'", name, by);
  return Status::Ok();
}

Result<IssuedToken> SecurityManager::IssueToken(const std::string& user, std::string description,
                                                const std::string& by) {
  auto token = sec::GenerateToken();
  if (!token.ok()) return token.status();
  const std::string hash = sec::HashToken(token.value());
  TokenRecord record;
  ZOOMQ_RETURN_IF_ERROR(Mutate([&](sec::SecurityState& s) -> Status {
    auto r = sec::AddToken(s, user, hash, description, clock_->NowMs());
    if (!r.ok()) return r.status();
    record = r.value();
    return Status::Ok();
  }));
  spdlog::info("security: token {} issued to user '{}' by '{}'", record.id, user, by);
  return IssuedToken{record, token.value()};
}

Status SecurityManager::RevokeToken(const std::string& id, const std::string& by) {
  ZOOMQ_RETURN_IF_ERROR(Mutate([&](sec::SecurityState& s) { return sec::RevokeToken(s, id); }));
  spdlog::info("security: token {} revoked by '{}'", id, by);
  return Status::Ok();
}

Result<std::pair<int64_t, bool>> SecurityManager::AddRule(const AclRule& rule,
                                                          const std::string& by) {
  int64_t id = 0;
  bool created = false;
  ZOOMQ_RETURN_IF_ERROR(Mutate([&](sec::SecurityState& s) -> Status {
    auto r = sec::AddRule(s, rule, &created);
    if (!r.ok()) return r.status();
    id = r.value();
    return Status::Ok();
  }));
  if (created) spdlog::info("security: rule {} {} added by '{}'", id, sec::EncodeRule(rule), by);
  return std::make_pair(id, created);
}

Status SecurityManager::DeleteRule(int64_t id, const std::string& by) {
  ZOOMQ_RETURN_IF_ERROR(Mutate([&](sec::SecurityState& s) { return sec::DeleteRule(s, id); }));
  spdlog::info("security: rule {} deleted by '{}'", id, by);
  return Status::Ok();
}

std::vector<UserRecord> SecurityManager::Users() const {
  std::vector<UserRecord> out;
  for (const auto& [name, u] : view()->state.users) out.push_back(u);
  return out;
}

std::vector<TokenRecord> SecurityManager::Tokens() const {
  std::vector<TokenRecord> out;
  for (const auto& [id, t] : view()->state.tokens) out.push_back(t);
  return out;
}

std::map<int64_t, AclRule> SecurityManager::Rules() const { return view()->state.rules; }

}  // namespace zoomq::broker::auth
