#include "zoomq/coordinator/controller.h"

#include "zoomq/common/names.h"

namespace zoomq::coordinator {

void Controller::ForEachPartition(const PartitionFn& fn) {
  auto names = store_->ListTopics();
  if (!names.ok()) return;
  for (const std::string& name : names.value()) {
    auto t = store_->GetTopic(name);
    if (!t.ok()) continue;
    for (int32_t p = 0; p < t->partitions; ++p) {
      auto s = store_->GetPartition(name, p);
      if (s.ok() && !fn(name, p, s.value())) return;
    }
  }
}

std::vector<PartitionChange> Controller::Reconcile(const LiveBrokers& live,
                                                   const std::set<int32_t>& leaving,
                                                   bool prefer) {
  std::vector<PartitionChange> written;
  ForEachPartition([&](const std::string& topic, int32_t p, const PartitionState& s) {
    auto want = DecidePartition(s, live, leaving, prefer);
    if (!want) return true;
    auto version = store_->SetPartition(topic, p, *want);
    if (!version.ok()) return true;
    want->version = version.value();
    written.push_back({topic, p, s, *want});
    return true;
  });
  return written;
}

bool Controller::LeadsAny(int32_t broker) {
  bool leads = false;
  ForEachPartition([&](const std::string&, int32_t, const PartitionState& s) {
    leads = s.leader == broker;
    return !leads;
  });
  return leads;
}

std::vector<PartitionState> Controller::PlaceTopic(const std::string& name, int32_t partitions,
                                                   int32_t replication_factor,
                                                   const std::vector<int32_t>& live_sorted,
                                                   const LiveBrokers& incarnations) {
  std::vector<PartitionState> parts;
  const int32_t rotation = static_cast<int32_t>(Fnv1a64(name) % live_sorted.size());
  for (int32_t p = 0; p < partitions; ++p) {
    PartitionState s;
    s.replicas = AssignReplicas(p, replication_factor, live_sorted, rotation);
    s.isr = s.replicas;
    s.leader = s.replicas.front();
    auto it = incarnations.find(s.leader);
    s.leader_incarnation = it == incarnations.end() ? 0 : it->second;
    s.epoch = 1;
    parts.push_back(std::move(s));
  }
  return parts;
}

}  // namespace zoomq::coordinator
