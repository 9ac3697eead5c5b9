#include "zoomq/security/acl.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "zoomq/common/names.h"

namespace zoomq::security {

namespace {

constexpr std::array<std::pair<Operation, const char*>, 7> kOperations{{
    {Operation::kProduce, "produce"},
    {Operation::kConsume, "consume"},
    {Operation::kDescribe, "describe"},
    {Operation::kCreate, "create"},
    {Operation::kDelete, "delete"},
    {Operation::kAlter, "alter"},
    {Operation::kClusterAdmin, "cluster_admin"},
}};
constexpr std::array<std::pair<ResourceType, const char*>, 3> kResources{{
    {ResourceType::kTopic, "topic"},
    {ResourceType::kGroup, "group"},
    {ResourceType::kCluster, "cluster"},
}};

// The operations that mean something on each kind of resource.
bool Applies(ResourceType type, Operation op) {
  switch (type) {
    case ResourceType::kTopic:
      return op != Operation::kClusterAdmin;
    case ResourceType::kGroup:
      return op == Operation::kConsume || op == Operation::kDescribe || op == Operation::kDelete;
    case ResourceType::kCluster:
      return op == Operation::kClusterAdmin || op == Operation::kDescribe ||
             op == Operation::kCreate || op == Operation::kAlter;
  }
  return false;
}

// Name <-> value through one of the tables above; `what` names the kind in the error.
template <class E, size_t N>
const char* NameIn(const std::array<std::pair<E, const char*>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}
template <class E, size_t N>
Result<E> ValueIn(const std::array<std::pair<E, const char*>, N>& table, std::string_view name,
                  const char* what) {
  std::string known;
  for (const auto& [v, n] : table) {
    if (name == n) return v;
    known += (known.empty() ? "" : ", ") + std::string(n);
  }
  return Status::Invalid("unknown " + std::string(what) + " '" + std::string(name) + "' (" + known +
                         ")");
}

}  // namespace

const char* OperationName(Operation op) { return NameIn(kOperations, op); }
Result<Operation> ParseOperation(std::string_view name) {
  return ValueIn(kOperations, name, "operation");
}
const char* ResourceTypeName(ResourceType type) { return NameIn(kResources, type); }
Result<ResourceType> ParseResourceType(std::string_view name) {
  return ValueIn(kResources, name, "resource");
}

Status ValidateRule(const AclRule& rule) {
  ZOOMQ_RETURN_IF_ERROR(ValidateName(rule.principal, "principal"));
  if (rule.resource == ResourceType::kCluster) {
    if (!rule.name.empty() || rule.prefix) {
      return Status::Invalid("a cluster rule names no resource and has no prefix");
    }
  } else {
    ZOOMQ_RETURN_IF_ERROR(ValidateName(rule.name, rule.prefix ? "prefix" : "name"));
  }
  if (!Applies(rule.resource, rule.operation)) {
    return Status::Invalid(std::string("operation '") + OperationName(rule.operation) +
                           "' means nothing on a " + ResourceTypeName(rule.resource));
  }
  return Status::Ok();
}

std::string EncodeRule(const AclRule& rule) {
  nlohmann::json j = {{"principal", rule.principal},
                      {"resource", ResourceTypeName(rule.resource)},
                      {"name", rule.name},
                      {"pattern", rule.prefix ? "prefix" : "literal"},
                      {"operation", OperationName(rule.operation)}};
  return j.dump();
}

Result<AclRule> DecodeRule(std::string_view json_text) {
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object()) return Status::Invalid("an ACL rule must be a JSON object");
  AclRule rule;
  auto text = [&](const char* field, bool required, std::string* out) -> Status {
    auto it = j.find(field);
    if (it == j.end()) {
      return required ? Status::Invalid(std::string("field '") + field + "' is required")
                      : Status::Ok();
    }
    if (!it->is_string())
      return Status::Invalid(std::string("field '") + field + "' must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  };
  for (const auto& [key, value] : j.items()) {
    if (key != "principal" && key != "resource" && key != "name" && key != "pattern" &&
        key != "operation") {
      return Status::Invalid("unknown field '" + key + "' in an ACL rule");
    }
  }
  std::string resource, pattern = "literal", operation;
  ZOOMQ_RETURN_IF_ERROR(text("principal", true, &rule.principal));
  ZOOMQ_RETURN_IF_ERROR(text("resource", true, &resource));
  ZOOMQ_RETURN_IF_ERROR(text("name", false, &rule.name));
  ZOOMQ_RETURN_IF_ERROR(text("pattern", false, &pattern));
  ZOOMQ_RETURN_IF_ERROR(text("operation", true, &operation));
  auto type = ParseResourceType(resource);
  if (!type.ok()) return type.status();
  rule.resource = type.value();
  auto op = ParseOperation(operation);
  if (!op.ok()) return op.status();
  rule.operation = op.value();
  if (pattern != "literal" && pattern != "prefix") {
    return Status::Invalid("unknown pattern '" + pattern + "' (literal, prefix)");
  }
  rule.prefix = pattern == "prefix";
  ZOOMQ_RETURN_IF_ERROR(ValidateRule(rule));
  return rule;
}

bool Authorizer::Matches(const AclRule& rule, std::string_view principal, ResourceType type,
                         std::string_view name, Operation op) const {
  if (rule.principal != principal) return false;
  if (rule.resource == ResourceType::kCluster && rule.operation == Operation::kClusterAdmin) {
    return true;  // the superuser rule
  }
  if (rule.resource != type || rule.operation != op) return false;
  if (type == ResourceType::kCluster) return true;
  return rule.prefix ? name.starts_with(rule.name) : name == rule.name;
}

bool Authorizer::Allows(std::string_view principal, ResourceType type, std::string_view name,
                        Operation op) const {
  for (const AclRule& rule : rules_) {
    if (Matches(rule, principal, type, name, op)) return true;
  }
  return false;
}

Status Authorizer::Check(std::string_view principal, ResourceType type, std::string_view name,
                         Operation op) const {
  if (Allows(principal, type, name, op)) return Status::Ok();
  std::string what = ResourceTypeName(type);
  if (type != ResourceType::kCluster) what += " '" + std::string(name) + "'";
  return Status(Code::kForbidden, "principal '" + std::string(principal) + "' may not " +
                                      OperationName(op) + " on " + what);
}

Status Authorizer::CheckGroup(std::string_view principal, std::string_view topic,
                              std::string_view group, Operation op) const {
  ZOOMQ_RETURN_IF_ERROR(Check(principal, ResourceType::kTopic, topic, op));
  return Check(principal, ResourceType::kGroup, group, op);
}

}  // namespace zoomq::security
