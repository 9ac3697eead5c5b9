// zoomq::Admin: topics, cluster, groups, dead letters. Each call is one or a few requests to
// any live broker (topic changes run on the controller; the brokers forward them).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "zoomq/client/options.h"
#include "zoomq/client/security.h"
#include "zoomq/client/types.h"

namespace zoomq {

class Admin {
 public:
  explicit Admin(ClientOptions options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Idempotent: an existing topic with the same config is ok (TopicInfo::created false).
  Result<TopicInfo> CreateTopic(const TopicSpec& spec);
  Result<std::vector<TopicInfo>> ListTopics();
  Result<TopicInfo> DescribeTopic(const std::string& topic);
  Status DeleteTopic(const std::string& topic);

  Result<ClusterInfo> Cluster();
  Result<GroupInfo> DescribeGroup(const std::string& topic, const std::string& group);
  // Creates the group at "earliest" or "latest"; ok if it exists.
  Status CreateGroup(const std::string& topic, const std::string& group,
                     const std::string& start = "earliest");

  // The first `max` messages of `<topic>.dlq` (all partitions, by offset), without consuming.
  Result<std::vector<ReceivedMessage>> DlqPeek(const std::string& topic, int max = 100);
  // Moves up to `max` dead letters of `topic` back to `topic` (same key, value and headers,
  // minus the zoomq-dlq-* / zoomq-original-* headers): reads them as the group
  // `zoomq-redrive` of `<topic>.dlq`, produces them, and acks each once it is persisted.
  // Returns how many were moved.
  Result<int64_t> DlqRedrive(const std::string& topic, int64_t max = 1000000);

  // Security administration (docs/security.md). WhoAmI works for any caller; the rest need
  // cluster_admin and a broker with security on.
  Result<CallerInfo> WhoAmI();
  Result<std::vector<UserInfo>> ListUsers();
  Result<UserInfo> CreateUser(const std::string& name);
  // Also removes the user's tokens and rules.
  Status DeleteUser(const std::string& name);
  // The answer holds the token itself (TokenInfo::token): the only time it is shown.
  Result<TokenInfo> CreateToken(const std::string& user, const std::string& description = "");
  Result<std::vector<TokenInfo>> ListTokens(const std::string& user = "");
  Status RevokeToken(const std::string& id);
  Result<std::vector<AclInfo>> ListAcls();
  Result<AclInfo> CreateAcl(const AclInfo& rule);
  Status DeleteAcl(int64_t id);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zoomq
