#include "zoomq/coordinator/cluster_metadata.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "zoomq/common/json_get.h"
#include "zoomq/coordinator/zk_status.h"

namespace zoomq::coordinator {

using nlohmann::json;

namespace {
constexpr char kTopics[] = "/topics";

bool Contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

std::string EncodePartitionState(const PartitionState& s) {
  return json{{"leader", s.leader},
              {"epoch", s.epoch},
              {"leader_incarnation", s.leader_incarnation},
              {"replicas", s.replicas},
              {"isr", s.isr}}
      .dump();
}

Result<PartitionState> ParsePartitionState(const std::string& data, int32_t version) {
  json j = json::parse(data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Internal("corrupt partition state");
  try {
    PartitionState s;
    s.leader = JsonIntAt<int32_t>(j, "leader");
    s.epoch = JsonIntAt<int64_t>(j, "epoch");
    s.leader_incarnation = JsonGet<int64_t>(j, "leader_incarnation", 0);
    s.replicas = j.at("replicas").get<std::vector<int32_t>>();
    s.isr = j.at("isr").get<std::vector<int32_t>>();
    s.version = version;
    return s;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("corrupt partition state: ") + e.what());
  }
}

std::vector<int32_t> AssignReplicas(int32_t partition, int32_t rf,
                                    const std::vector<int32_t>& live, int32_t rotation) {
  std::vector<int32_t> out;
  const int32_t n = static_cast<int32_t>(live.size());
  for (int32_t i = 0; i < rf && i < n; ++i) out.push_back(live[(partition + rotation + i) % n]);
  return out;
}

std::optional<PartitionState> DecidePartition(const PartitionState& s, const LiveBrokers& live,
                                              const std::set<int32_t>& leaving, bool prefer) {
  PartitionState want = s;
  // ISR: drop dead brokers, but never empty it (the last member is the only safe leader).
  std::vector<int32_t> isr;
  for (int32_t r : s.isr) {
    if (live.count(r)) isr.push_back(r);
  }
  if (isr.empty() && !s.isr.empty()) isr.push_back(s.leader != kNoLeaderId ? s.leader : s.isr[0]);
  want.isr = isr;
  auto can_lead = [&](int32_t r) {
    return live.count(r) && !leaving.count(r) && Contains(want.isr, r);
  };
  auto incarnation_of = [&](int32_t r) -> int64_t {
    auto it = live.find(r);
    return it == live.end() ? 0 : it->second;
  };
  int32_t leader = s.leader;
  const bool same_incarnation =
      leader != kNoLeaderId && incarnation_of(leader) == s.leader_incarnation;
  if (leader == kNoLeaderId || !can_lead(leader) || !same_incarnation) {
    leader = kNoLeaderId;
    for (int32_t r : s.replicas) {
      if (can_lead(r)) {
        leader = r;
        break;
      }
    }
  } else if (prefer && !s.replicas.empty() && s.replicas[0] != leader && can_lead(s.replicas[0])) {
    leader = s.replicas[0];
  }
  const int64_t incarnation = leader == kNoLeaderId ? 0 : incarnation_of(leader);
  if (leader != s.leader || incarnation != s.leader_incarnation) {
    want.leader = leader;
    want.leader_incarnation = incarnation;
    want.epoch = s.epoch + 1;
  }
  if (want == s) return std::nullopt;
  return want;
}

Role RoleFor(const PartitionState& s, int32_t self, int64_t self_incarnation) {
  if (s.leader == self) {
    if (self_incarnation != 0 && s.leader_incarnation == self_incarnation) return Role::kLead;
    return Role::kAwaitGrant;
  }
  if (s.leader == kNoLeaderId || !Contains(s.replicas, self)) return Role::kNone;
  return Role::kFollow;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kLead: return "lead";
    case Role::kFollow: return "follow";
    case Role::kNone: return "none";
    case Role::kAwaitGrant: return "await-grant";
  }
  return "?";
}

std::string ClusterMetadata::TopicPath(const std::string& name) {
  return std::string(kTopics) + "/" + name;
}

std::string ClusterMetadata::PartitionPath(const std::string& topic, int32_t partition) {
  return TopicPath(topic) + "/partitions/" + std::to_string(partition);
}

Status ClusterMetadata::EnsureRoots() { return session_->EnsurePath(kTopics); }

Result<std::vector<std::string>> ClusterMetadata::ListTopics(WatchFn watch) {
  return session_->GetChildren(kTopics, std::move(watch));
}

Result<TopicMeta> ClusterMetadata::GetTopic(const std::string& name, WatchFn watch) {
  auto node = session_->Get(TopicPath(name), std::move(watch));
  if (!node.ok()) return node.status();
  json j = json::parse(node->data, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Internal("corrupt topic " + name);
  TopicMeta t;
  t.id = node->stat.czxid;
  t.name = name;
  try {
    t.config_json = j.at("config").dump();
    t.partitions = JsonIntAt<int32_t>(j.at("config"), "partitions");
    t.created_ms = JsonIntAt<int64_t>(j, "created_ms");
  } catch (const std::exception& e) {
    return Status::Internal("corrupt topic " + name + ": " + e.what());
  }
  return t;
}

Result<PartitionState> ClusterMetadata::GetPartition(const std::string& topic, int32_t partition,
                                                     WatchFn watch) {
  auto node = session_->Get(PartitionPath(topic, partition), std::move(watch));
  if (!node.ok()) return node.status();
  return ParsePartitionState(node->data, node->stat.version);
}

Result<TopicMeta> ClusterMetadata::CreateTopic(const std::string& name,
                                               const std::string& config_json, TimeMs created_ms,
                                               const std::vector<PartitionState>& partitions) {
  json config = json::parse(config_json, nullptr, false);
  if (config.is_discarded()) return Status::Invalid("config is not JSON");
  std::vector<ZkOp> ops;
  ops.push_back(ZkOp::Create(TopicPath(name),
                             json{{"config", config}, {"created_ms", created_ms}}.dump()));
  ops.push_back(ZkOp::Create(TopicPath(name) + "/partitions", ""));
  for (size_t p = 0; p < partitions.size(); ++p) {
    ops.push_back(ZkOp::Create(PartitionPath(name, static_cast<int32_t>(p)),
                               EncodePartitionState(partitions[p])));
  }
  ZOOMQ_RETURN_IF_ERROR(session_->Multi(ops));
  return GetTopic(name);
}

Status ClusterMetadata::DeleteTopic(const std::string& name) {
  auto children = session_->GetChildren(TopicPath(name) + "/partitions");
  std::vector<ZkOp> ops;
  if (children.ok()) {
    for (const std::string& c : children.value()) {
      ops.push_back(ZkOp::Delete(TopicPath(name) + "/partitions/" + c));
    }
    ops.push_back(ZkOp::Delete(TopicPath(name) + "/partitions"));
  }
  ops.push_back(ZkOp::Delete(TopicPath(name)));
  return session_->Multi(ops);
}

Result<int32_t> ClusterMetadata::SetPartition(const std::string& topic, int32_t partition,
                                              const PartitionState& s) {
  auto stat = session_->Set(PartitionPath(topic, partition), EncodePartitionState(s), s.version);
  if (!stat.ok()) return stat.status();
  return stat->version;
}

}  // namespace zoomq::coordinator
