#include "zoomq/client/admin.h"

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "cluster_view.h"
#include "codec.h"
#include "retry.h"
#include "zoomq/client/consumer.h"
#include "zoomq/client/producer.h"
#include "zoomq/common/json_get.h"

namespace zoomq {

using client_internal::Clock;
using client_internal::ClusterView;
using client_internal::StatusOf;
using client_internal::UrlEncode;
using std::chrono::milliseconds;

namespace {

// Headers the broker adds when it dead-letters a message (docs/api.md): not the message's own.
bool IsDeadLetterHeader(const std::string& name) {
  return name.rfind("zoomq-dlq-", 0) == 0 || name.rfind("zoomq-original-", 0) == 0 ||
         name == "zoomq-deliveries";
}

}  // namespace

class Admin::Impl {
 public:
  explicit Impl(ClientOptions options)
      : options_(std::move(options)),
        transport_(options_.transport ? options_.transport : MakeHttpTransport(options_.security)),
        view_(options_, transport_) {}

  // One request to any live broker, failing over to the next on no answer or a 503, within
  // one request_timeout overall.
  HttpResponse Send(const std::string& method, const std::string& target, std::string body = "") {
    HttpRequest req{method, "", target, std::move(body), options_.request_timeout};
    return client_internal::SendToAnyBroker(view_, *transport_, std::move(req),
                                            Clock::now() + options_.request_timeout);
  }

  Result<std::vector<ReceivedMessage>> DlqPeek(const std::string& topic, int max);
  Result<int64_t> DlqRedrive(const std::string& topic, int64_t max);
  Result<TopicInfo> Describe(const std::string& topic) {
    HttpResponse res = Send("GET", "/v1/topics/" + UrlEncode(topic));
    ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
    return api::DecodeTopic(res.body);
  }

  const ClientOptions& options() const { return options_; }

 private:
  // Constant after construction (ClusterView is thread-safe).
  const ClientOptions options_;
  const std::shared_ptr<Transport> transport_;
  ClusterView view_;
};

Result<std::vector<ReceivedMessage>> Admin::Impl::DlqPeek(const std::string& topic, int max) {
  const std::string dlq = topic + ".dlq";
  Result<TopicInfo> info = Describe(dlq);
  if (!info.ok()) return info.status();
  std::vector<ReceivedMessage> out;
  // By partition, then offset: a stream read of each partition from its first offset.
  std::vector<PartitionInfo> parts = info->partition_info;
  std::sort(parts.begin(), parts.end(), [](const PartitionInfo& a, const PartitionInfo& b) {
    return a.partition < b.partition;
  });
  for (const PartitionInfo& p : parts) {
    int64_t from = p.first_offset;
    while (static_cast<int>(out.size()) < max) {
      const int ask = std::min(1000, max - static_cast<int>(out.size()));
      HttpResponse res = Send(
          "GET", "/v1/topics/" + UrlEncode(dlq) + "/partitions/" + std::to_string(p.partition) +
                     "/messages?from=" + std::to_string(from) + "&max=" + std::to_string(ask));
      ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
      int64_t hwm = -1;
      auto page = client_internal::DecodeMessages(dlq, res.body, &hwm);
      if (!page.ok()) return page.status();
      if (page->empty()) break;
      for (ReceivedMessage& m : *page) {
        from = std::max(from, m.offset + 1);
        if (static_cast<int>(out.size()) < max) out.push_back(std::move(m));
      }
      if (hwm >= 0 && from >= hwm) break;
    }
  }
  return out;
}

Result<int64_t> Admin::Impl::DlqRedrive(const std::string& topic, int64_t max) {
  ConsumerOptions co;
  co.client = options_;
  co.client.transport = transport_;
  co.topic = topic + ".dlq";
  co.group = "zoomq-redrive";
  co.consumer = "zoomq-redrive";
  co.prefetch = static_cast<int>(std::min<int64_t>(std::max<int64_t>(max, 1), 100));
  Consumer consumer(co);

  ProducerOptions po;
  po.client = options_;
  po.client.transport = transport_;
  po.delivery_timeout = std::max(options_.request_timeout * 3, milliseconds(1000));
  Producer producer(po);

  int64_t moved = 0;
  while (moved < max) {
    const int ask = static_cast<int>(std::min<int64_t>(max - moved, 100));
    // A short wait: the dead letters are already there; an empty answer means "all moved".
    Result<std::vector<ReceivedMessage>> batch = consumer.Poll(ask, milliseconds(200));
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    std::vector<std::future<DeliveryReport>> reports;
    for (const ReceivedMessage& m : *batch) {
      OutgoingMessage out;
      out.topic = topic;
      out.key = m.key;
      out.value = m.value;
      out.value_is_json = m.value_is_json;
      for (const auto& [k, v] : m.headers) {
        if (!IsDeadLetterHeader(k)) out.headers[k] = v;
      }
      // One id per dead letter: redriving the same letter twice (a crash between produce and
      // ack) is deduplicated by the broker within its window. The original producer id is
      // not reused: the original topic may still remember it and drop the copy.
      out.id = "zoomq-redrive-" + m.handle;
      reports.push_back(producer.Send(std::move(out)));
    }
    std::vector<std::string> persisted;
    Status failure;
    for (size_t i = 0; i < reports.size(); ++i) {
      DeliveryReport r = reports[i].get();
      if (r.status.ok()) {
        persisted.push_back((*batch)[i].handle);
      } else if (failure.ok()) {
        failure = r.status;
      }
    }
    // Only what is persisted in `topic` leaves the DLQ; the rest is retried by a later run.
    if (!persisted.empty()) {
      // A lease that ran out meanwhile is still acked (docs/api.md); an id listed unknown
      // after a retried ack was acked by the first try: either way the letter was moved.
      Result<AckResult> acked = consumer.Ack(persisted);
      if (!acked.ok()) return acked.status();
      moved += static_cast<int64_t>(persisted.size());
    }
    if (!failure.ok()) return failure;
  }
  return moved;
}

Admin::Admin(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Admin::~Admin() = default;

Result<TopicInfo> Admin::CreateTopic(const TopicSpec& spec) {
  HttpResponse res = impl_->Send("POST", "/v1/topics", client_internal::EncodeTopicSpec(spec));
  ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
  Result<TopicInfo> info = api::DecodeTopic(res.body);
  if (info.ok()) info->created = res.status == 201;
  return info;
}

Result<std::vector<TopicInfo>> Admin::ListTopics() {
  HttpResponse res = impl_->Send("GET", "/v1/topics");
  ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
  return api::DecodeTopicList(res.body);
}

Result<TopicInfo> Admin::DescribeTopic(const std::string& topic) { return impl_->Describe(topic); }

Status Admin::DeleteTopic(const std::string& topic) {
  return StatusOf(impl_->Send("DELETE", "/v1/topics/" + UrlEncode(topic)));
}

Result<ClusterInfo> Admin::Cluster() {
  HttpResponse res = impl_->Send("GET", "/v1/cluster");
  ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
  return api::DecodeCluster(res.body);
}

Result<GroupInfo> Admin::DescribeGroup(const std::string& topic, const std::string& group) {
  HttpResponse res =
      impl_->Send("GET", "/v1/topics/" + UrlEncode(topic) + "/groups/" + UrlEncode(group));
  ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
  return api::DecodeGroup(res.body);
}

Status Admin::CreateGroup(const std::string& topic, const std::string& group,
                          const std::string& start) {
  return StatusOf(impl_->Send("PUT",
                              "/v1/topics/" + UrlEncode(topic) + "/groups/" + UrlEncode(group),
                              nlohmann::json{{"start", start}}.dump()));
}

Result<std::vector<ReceivedMessage>> Admin::DlqPeek(const std::string& topic, int max) {
  if (max <= 0) return std::vector<ReceivedMessage>{};
  return impl_->DlqPeek(topic, max);
}

Result<int64_t> Admin::DlqRedrive(const std::string& topic, int64_t max) {
  if (max <= 0) return int64_t{0};
  return impl_->DlqRedrive(topic, max);
}

// ---- security administration ----

namespace {

using nlohmann::json;

// A JSON object from an answer's body, or UNAVAILABLE when the broker sent something else.
Result<json> ObjectOf(const HttpResponse& res) {
  ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
  json j = json::parse(res.body, nullptr, false);
  if (!j.is_object()) return Status::Unavailable("the broker's answer is not a JSON object");
  return j;
}

UserInfo UserOf(const json& j) {
  return {JsonGet<std::string>(j, "name", ""), JsonGet<int64_t>(j, "created_ms", 0)};
}

TokenInfo TokenOf(const json& j) {
  return {JsonGet<std::string>(j, "id", ""), JsonGet<std::string>(j, "user", ""),
          JsonGet<int64_t>(j, "created_ms", 0), JsonGet<std::string>(j, "description", ""),
          JsonGet<std::string>(j, "token", "")};
}

AclInfo AclOf(const json& j) {
  AclInfo a;
  a.id = JsonGet<int64_t>(j, "id", 0);
  a.principal = JsonGet<std::string>(j, "principal", "");
  a.resource = JsonGet<std::string>(j, "resource", "");
  a.name = JsonGet<std::string>(j, "name", "");
  a.pattern = JsonGet<std::string>(j, "pattern", "literal");
  a.operation = JsonGet<std::string>(j, "operation", "");
  return a;
}

template <typename T, typename F>
Result<std::vector<T>> ListOf(const HttpResponse& res, const char* field, F decode) {
  auto j = ObjectOf(res);
  if (!j.ok()) return j.status();
  std::vector<T> out;
  auto it = j->find(field);
  if (it == j->end() || !it->is_array()) {
    return Status::Unavailable(std::string("the broker's answer has no '") + field + "' list");
  }
  for (const json& e : *it) {
    if (e.is_object()) out.push_back(decode(e));
  }
  return out;
}

}  // namespace

Result<CallerInfo> Admin::WhoAmI() {
  auto j = ObjectOf(impl_->Send("GET", "/v1/security/whoami"));
  if (!j.ok()) return j.status();
  return CallerInfo{JsonGet<bool>(*j, "security", false), JsonGet<std::string>(*j, "principal", ""),
                    JsonGet<bool>(*j, "superuser", false)};
}

Result<std::vector<UserInfo>> Admin::ListUsers() {
  return ListOf<UserInfo>(impl_->Send("GET", "/v1/security/users"), "users", UserOf);
}

Result<UserInfo> Admin::CreateUser(const std::string& name) {
  auto j = ObjectOf(impl_->Send("POST", "/v1/security/users", json{{"name", name}}.dump()));
  if (!j.ok()) return j.status();
  return UserOf(*j);
}

Status Admin::DeleteUser(const std::string& name) {
  return StatusOf(impl_->Send("DELETE", "/v1/security/users/" + UrlEncode(name)));
}

Result<TokenInfo> Admin::CreateToken(const std::string& user, const std::string& description) {
  auto j = ObjectOf(impl_->Send("POST", "/v1/security/users/" + UrlEncode(user) + "/tokens",
                                json{{"description", description}}.dump()));
  if (!j.ok()) return j.status();
  return TokenOf(*j);
}

Result<std::vector<TokenInfo>> Admin::ListTokens(const std::string& user) {
  std::string target = "/v1/security/tokens";
  if (!user.empty()) target += "?user=" + UrlEncode(user);
  return ListOf<TokenInfo>(impl_->Send("GET", target), "tokens", TokenOf);
}

Status Admin::RevokeToken(const std::string& id) {
  return StatusOf(impl_->Send("DELETE", "/v1/security/tokens/" + UrlEncode(id)));
}

Result<std::vector<AclInfo>> Admin::ListAcls() {
  return ListOf<AclInfo>(impl_->Send("GET", "/v1/security/acls"), "acls", AclOf);
}

Result<AclInfo> Admin::CreateAcl(const AclInfo& rule) {
  json body = {{"principal", rule.principal},
               {"resource", rule.resource},
               {"pattern", rule.pattern},
               {"operation", rule.operation}};
  if (!rule.name.empty()) body["name"] = rule.name;
  HttpResponse res = impl_->Send("POST", "/v1/security/acls", body.dump());
  auto j = ObjectOf(res);
  if (!j.ok()) return j.status();
  AclInfo out = AclOf(*j);
  out.created = res.status == 201;
  return out;
}

Status Admin::DeleteAcl(int64_t id) {
  return StatusOf(impl_->Send("DELETE", "/v1/security/acls/" + std::to_string(id)));
}

}  // namespace zoomq
