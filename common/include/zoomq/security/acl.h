// Access control (docs/security.md): allow rules, principal x resource x operation. With
// security on, what no rule allows is denied. Pure: the rules come from the cluster's store.
//
// A resource is a topic or a group, named exactly or by a prefix, or the cluster itself.
// Group routes need the operation on the topic and on the group. A principal allowed
// cluster_admin on the cluster may do everything (the bootstrap admin is one).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "zoomq/common/status.h"

namespace zoomq::security {

enum class Operation { kProduce, kConsume, kDescribe, kCreate, kDelete, kAlter, kClusterAdmin };
enum class ResourceType { kTopic, kGroup, kCluster };

// "produce", "consume", "describe", "create", "delete", "alter", "cluster_admin".
const char* OperationName(Operation op);
Result<Operation> ParseOperation(std::string_view name);
// "topic", "group", "cluster".
const char* ResourceTypeName(ResourceType type);
Result<ResourceType> ParseResourceType(std::string_view name);

struct AclRule {
  std::string principal;
  ResourceType resource = ResourceType::kTopic;
  std::string name;     // the exact name, or the prefix when `prefix`; "" for the cluster
  bool prefix = false;  // "pattern": "prefix" (else "literal")
  Operation operation = Operation::kDescribe;

  bool operator==(const AclRule&) const = default;
};

// INVALID_REQUEST naming what is wrong: a bad principal or name, a prefix on the cluster, an
// operation that means nothing on the resource (e.g. produce to a group).
Status ValidateRule(const AclRule& rule);

// JSON: {"principal":"p","resource":"topic","name":"sensors.","pattern":"prefix",
// "operation":"produce"}. Decoding validates (ValidateRule) and refuses unknown fields.
std::string EncodeRule(const AclRule& rule);
Result<AclRule> DecodeRule(std::string_view json_text);

class Authorizer {
 public:
  Authorizer() = default;
  explicit Authorizer(std::vector<AclRule> rules) : rules_(std::move(rules)) {}

  bool Allows(std::string_view principal, ResourceType type, std::string_view name,
              Operation op) const;
  // OK, or FORBIDDEN saying who may not do what to which resource.
  Status Check(std::string_view principal, ResourceType type, std::string_view name,
               Operation op) const;
  // Group routes: `op` on the topic and on the group.
  Status CheckGroup(std::string_view principal, std::string_view topic, std::string_view group,
                    Operation op) const;
  const std::vector<AclRule>& rules() const { return rules_; }

 private:
  bool Matches(const AclRule& rule, std::string_view principal, ResourceType type,
               std::string_view name, Operation op) const;

  std::vector<AclRule> rules_;
};

}  // namespace zoomq::security
