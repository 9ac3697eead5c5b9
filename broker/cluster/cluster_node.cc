#include "broker/cluster/cluster_node.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "zoomq/common/names.h"
#include "zoomq/coordinator/zk_credentials.h"
#include "zoomq/coordinator/zk_status.h"

namespace zoomq::broker {

using coordinator::BrokerInfo;
using coordinator::PartitionState;

namespace {

// A controlled shutdown waits this long for the broker's leaderships to move, re-checking
// the metadata this often (followers' watches settle in between).
constexpr auto kControlledShutdownWait = std::chrono::seconds(5);
constexpr auto kControlledShutdownPoll = std::chrono::milliseconds(50);
// A broker stopping asks the controller for its controlled shutdown, waiting this long.
constexpr TimeMs kControlledShutdownAskMs = 5000;

std::string Tp(const std::string& t, int32_t p) { return t + "/" + std::to_string(p); }
std::string List(const std::vector<int32_t>& v) {
  std::string s;
  for (int32_t x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return "[" + s + "]";
}
}  // namespace

ClusterNode::ClusterNode(BrokerService* service, cluster::PeerClient* peers,
                         ClusterOptions options)
    : service_(service), peers_(peers), options_(std::move(options)) {}

ClusterNode::~ClusterNode() { Stop(); }

Status ClusterNode::Start() {
  coordinator::ZkSessionOptions so;
  so.connect_string = options_.zk_connect;
  so.session_timeout_ms = options_.session_timeout_ms;
  so.digest_auth = options_.zk_digest;
  session_ = std::make_unique<coordinator::ZkSession>(so);
  ZOOMQ_RETURN_IF_ERROR(session_->Start());
  if (session_->nodes_locked_at_start() > 0) {
    spdlog::warn("ZooKeeper: locked {} znodes under {} that had the open ACL (digest auth on)",
                 session_->nodes_locked_at_start(), session_->chroot());
  }
  meta_ = std::make_unique<coordinator::ClusterMetadata>(session_.get());
  ZOOMQ_RETURN_IF_ERROR(meta_->EnsureRoots());
  policy_ = std::make_unique<coordinator::Controller>(meta_.get());
  // A paused or partitioned leader must not acknowledge: answers that promise durability
  // need a session that is still safely ours (docs/replication.md, "Fencing").
  service_->SetAckGuard([this]() -> Status {
    if (session_->IsSafeToAct()) return Status::Ok();
    return Status::Unavailable("broker " + std::to_string(options_.broker_id) +
                               " is not safely connected to ZooKeeper; retry");
  });
  listener_id_ = session_->AddListener([this](const coordinator::SessionEvent& e) {
    // Expiry: the controller may have moved our leaderships already, so leading on from
    // what we last read could serve stale state (a deposed leader leasing an acked message
    // again: chaos seeds 4, 5). Step down first, lead again once the metadata says so.
    if (e.state == coordinator::SessionState::kExpired) StepDownAll("ZooKeeper session expired");
    if (e.state == coordinator::SessionState::kConnected && e.new_session && started_) {
      StepDownAll("new ZooKeeper session");
      spdlog::warn("new ZooKeeper session {:x}: re-reading cluster metadata", e.session_id);
      SyncTopics(/*all=*/true);  // every watch died with the old session
    }
  });
  membership_ = std::make_unique<coordinator::Membership>(
      session_.get(), BrokerInfo{options_.broker_id, options_.url},
      [this](const std::vector<BrokerInfo>& live) { OnBrokers(live); });
  ZOOMQ_RETURN_IF_ERROR(membership_->Start(options_.session_timeout_ms * 3));
  coordinator::LeaderElectionOptions eo;
  eo.candidate_data = coordinator::EncodeBrokerInfo({options_.broker_id, options_.url});
  election_ = std::make_unique<coordinator::LeaderElection>(
      session_.get(), eo,
      coordinator::LeaderElection::Callbacks{
          [this](int64_t epoch) {
            spdlog::info("controller: elected, controller epoch {}", epoch);
            controller_ = true;
            Reconcile(false);
            session_->PostAfter(options_.reconcile_ms, [this] { ReconcileTick(); });
          },
          [this] {
            spdlog::warn("controller: deposed");
            controller_ = false;
          }});
  session_->RunOnCoordinator([this] {
    started_ = true;
    SyncTopics();
  });
  ZOOMQ_RETURN_IF_ERROR(election_->Start(options_.session_timeout_ms * 3));
  session_->PostAfter(options_.isr_check_ms, [this] { IsrTick(); });
  session_->PostAfter(options_.metadata_check_ms, [this] { MetadataTick(); });
  spdlog::info("joined the cluster at {} (session timeout {} ms, {})", options_.zk_connect,
               session_->negotiated_timeout_ms(),
               options_.zk_digest.empty() ? std::string("open znode ACLs: no --zk-auth-file")
                                          : "znode ACLs for ZooKeeper user '" +
                                                coordinator::DigestUser(options_.zk_digest) + "'");
  return Status::Ok();
}

void ClusterNode::Stop() {
  if (!session_ || stopping_.exchange(true)) return;
  // Hand leaderships over first, while this broker still serves as a follower.
  auto start = std::chrono::steady_clock::now();
  Status st;
  if (IsController()) {
    st = ControlledShutdown(options_.broker_id);
  } else if (auto url = ControllerUrl()) {
    st = peers_->ControlledShutdown(*url, options_.broker_id, kControlledShutdownAskMs);
    if (!st.ok()) st = Status::Unavailable("controller did not confirm: " + st.message());
  }
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  spdlog::info("controlled shutdown: {} in {:.0f} ms", st.ok() ? "leaderships moved" : st.message(),
               took.count());
  // The watches that would make us a follower are not applied while stopping: stop serving
  // what we led ourselves, so the new leaders are the only ones leasing (chaos seed 9).
  StepDownAll("shutting down");
  if (election_) election_->Stop();
  if (membership_) membership_->Stop();
  session_->RemoveListener(listener_id_);
  session_->Stop();
}

// ---------------------------------------------------------------------------------------
// Metadata -> roles

void ClusterNode::OnBrokers(const std::vector<BrokerInfo>& live) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    brokers_.clear();
    incarnations_.clear();
    std::string ids;
    for (const BrokerInfo& b : live) {
      brokers_[b.id] = b.url;
      incarnations_[b.id] = b.incarnation;
      ids += (ids.empty() ? "" : ",") + std::to_string(b.id) + "@" + std::to_string(b.incarnation);
    }
    for (auto it = leaving_.begin(); it != leaving_.end();) {
      auto live = incarnations_.find(it->first);
      const bool same = live != incarnations_.end() && live->second == it->second;
      it = same ? std::next(it) : leaving_.erase(it);
    }
    spdlog::info("live brokers (id@incarnation): [{}]", ids);
  }
  leadership_.Notify();  // a leader that left has no URL any more
  if (controller_) Reconcile(false);
  ReapplyAll();  // followers waiting for a leader's URL
}

void ClusterNode::SyncTopics(bool all) {
  if (stopping_) return;
  auto names = meta_->ListTopics([this](const coordinator::WatchEvent&) { SyncTopics(); });
  if (!names.ok()) {
    spdlog::warn("cannot list topics: {}", names.status().ToString());
    session_->PostAfter(500, [this] { SyncTopics(); });
    return;
  }
  std::set<std::string> now(names->begin(), names->end());
  std::vector<std::string> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, t] : topics_) {
      if (!now.count(name)) gone.push_back(name);
    }
  }
  for (const std::string& name : gone) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      topics_.erase(name);
      states_.erase(name);
    }
    leadership_.Notify();
    Status st = service_->DeleteTopic(name);
    spdlog::info("topic={} deleted from the cluster: {}", name, st.ok() ? "removed locally"
                                                                         : st.message());
  }
  for (const std::string& name : now) {
    bool known;
    {
      std::lock_guard<std::mutex> lock(mu_);
      known = topics_.count(name) > 0;
    }
    if (!known || all) SyncTopic(name);
  }
}

void ClusterNode::SyncTopic(const std::string& name) {
  auto meta = meta_->GetTopic(name);
  if (!meta.ok()) {
    // Deleted meanwhile (the topics watch reports it), or ZooKeeper unreachable: read again.
    if (!coordinator::IsNoNode(meta.status()) && !stopping_) {
      session_->PostAfter(500, [this, name] { SyncTopic(name); });
    }
    return;
  }
  auto config = TopicConfigFromJson(meta->config_json);
  if (!config.ok()) {
    spdlog::error("topic={} has a corrupt config in ZooKeeper", name);
    return;
  }
  Status st = service_->EnsureTopic(meta->id, name, config.value(), meta->created_ms);
  if (!st.ok()) {
    spdlog::error("topic={} cannot be created locally: {}", name, st.ToString());
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    topics_[name] = meta.value();
    states_[name].resize(meta->partitions);
  }
  cv_.notify_all();
  for (int32_t p = 0; p < meta->partitions; ++p) SyncPartition(name, p);
}

void ClusterNode::SyncPartition(const std::string& topic, int32_t partition) {
  if (stopping_) return;
  auto s = meta_->GetPartition(topic, partition, [this, topic, partition](
                                                     const coordinator::WatchEvent& e) {
    if (e.type != coordinator::WatchType::kDeleted) SyncPartition(topic, partition);
  });
  if (!s.ok()) {
    // A failed read left no watch: without a retry this broker would keep the role it has
    // while the partition moves on (chaos seed 113731: a broker led epoch 4 for good while
    // the leader was at epoch 5). Deleted partitions go with their topic.
    if (!coordinator::IsNoNode(s.status())) {
      spdlog::warn("topic={} partition={} cannot read its state ({}): retrying", topic,
                   partition, s.status().ToString());
      session_->PostAfter(250, [this, topic, partition] { SyncPartition(topic, partition); });
    }
    return;
  }
  Apply(topic, partition, s.value());
}

void ClusterNode::Apply(const std::string& topic, int32_t partition, const PartitionState& s) {
  std::optional<std::string> leader_url;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = states_.find(topic);
    if (it == states_.end() || partition >= static_cast<int32_t>(it->second.size())) return;
    if (s.version < it->second[partition].version) return;  // an older read: already past it
    it->second[partition] = s;
    if (auto b = brokers_.find(s.leader); b != brokers_.end()) leader_url = b->second;
  }
  leadership_.Notify();
  const int32_t self = options_.broker_id;
  const int64_t incarnation = membership_ ? membership_->incarnation() : 0;
  const coordinator::Role role = coordinator::RoleFor(s, self, incarnation);
  Status st;
  switch (role) {
    case coordinator::Role::kLead:
      st = service_->BecomeLeader(topic, partition, s.epoch, s.replicas, s.isr);
      if (st.ok()) service_->OnIsrCommitted(topic, partition, s.epoch, s.isr);
      break;
    case coordinator::Role::kAwaitGrant:
      // Leading on could reuse an epoch this broker led before its restart (or session
      // expiry) while a follower holds entries of that epoch which this incarnation lost:
      // the controller grants a new epoch to this incarnation (docs/replication.md).
      st = service_->Resign(topic, partition, s.epoch);
      if (st.ok()) {
        spdlog::warn("topic={} partition={} epoch={} was granted to incarnation {} of this "
                     "broker, this is incarnation {}: not leading until the controller grants "
                     "a new epoch",
                     topic, partition, s.epoch, s.leader_incarnation, incarnation);
      }
      break;
    case coordinator::Role::kNone:
      st = service_->Resign(topic, partition, s.epoch);
      break;
    case coordinator::Role::kFollow:
      if (leader_url) {
        st = service_->BecomeFollower(topic, partition, s.epoch, s.leader, *leader_url);
      }
      break;
  }
  const bool failed = !st.ok() && st.code() != Code::kStaleEpoch;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed) {
      failed_.insert({topic, partition});
    } else {
      failed_.erase({topic, partition});
    }
  }
  if (failed) {
    spdlog::warn("topic={} partition={} epoch={} role change ({}) failed: {}", topic, partition,
                 s.epoch, coordinator::RoleName(role), st.ToString());
  }
}

void ClusterNode::MetadataTick() {
  if (stopping_) return;
  std::vector<std::tuple<std::string, int32_t, int32_t, bool>> known;  // topic, p, version, failed
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [t, parts] : states_) {
      for (size_t p = 0; p < parts.size(); ++p) {
        known.emplace_back(t, static_cast<int32_t>(p), parts[p].version,
                           failed_.count({t, static_cast<int32_t>(p)}) > 0);
      }
    }
  }
  for (const auto& [topic, partition, version, failed] : known) {
    if (stopping_) return;
    auto s = meta_->GetPartition(topic, partition);
    if (!s.ok()) continue;  // next tick
    if (s->version != version || failed) {
      if (s->version != version) {
        spdlog::warn("topic={} partition={} epoch={} state version {} was missed (had {}): "
                     "applying it now",
                     topic, partition, s->epoch, s->version, version);
      }
      Apply(topic, partition, s.value());
    }
  }
  session_->PostAfter(options_.metadata_check_ms, [this] { MetadataTick(); });
}

void ClusterNode::StepDownAll(const char* why) {
  std::vector<std::tuple<std::string, int32_t, int64_t>> led;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [t, parts] : states_) {
      for (size_t p = 0; p < parts.size(); ++p) {
        if (parts[p].leader == options_.broker_id) led.emplace_back(t, p, parts[p].epoch);
      }
    }
  }
  for (const auto& [topic, partition, epoch] : led) {
    Status st = service_->Resign(topic, partition, epoch);
    if (st.ok()) {
      spdlog::warn("topic={} partition={} epoch={} stepped down: {}", topic, partition, epoch,
                   why);
    }
  }
}

void ClusterNode::ReapplyAll() {
  std::vector<std::tuple<std::string, int32_t, PartitionState>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [t, parts] : states_) {
      for (size_t p = 0; p < parts.size(); ++p) all.emplace_back(t, p, parts[p]);
    }
  }
  for (auto& [t, p, s] : all) {
    if (s.version >= 0) Apply(t, p, s);
  }
}

void ClusterNode::IsrTick() {
  if (stopping_) return;
  if (session_->IsSafeToAct()) {
    for (const auto& change : service_->ProposedIsrChanges()) {
      auto s = meta_->GetPartition(change.topic, change.partition);
      if (!s.ok()) continue;  // unknown: the proposal stays pending (the next tick retries)
      if (s->leader != options_.broker_id || s->epoch != change.epoch) {
        service_->OnIsrAbandoned(change.topic, change.partition, change.epoch);
        continue;
      }
      auto sorted = [](std::vector<int32_t> v) {
        std::sort(v.begin(), v.end());
        return v;
      };
      if (sorted(s->isr) != sorted(change.from)) {
        // The controller changed the ISR since this leader last applied it (a dead broker
        // removed): a proposal computed from the old one would undo that (found by the
        // simulation, seed 9357). Take the new ISR; the next tick proposes from it.
        service_->OnIsrAbandoned(change.topic, change.partition, change.epoch);
        service_->OnIsrCommitted(change.topic, change.partition, change.epoch, s->isr);
        continue;
      }
      PartitionState want = s.value();
      want.isr = change.isr;
      auto written = meta_->SetPartition(change.topic, change.partition, want);
      if (written.ok()) {
        spdlog::info("topic={} partition={} epoch={} isr {} -> {}", change.topic,
                     change.partition, change.epoch, List(s->isr), List(want.isr));
        service_->OnIsrCommitted(change.topic, change.partition, change.epoch, want.isr);
      } else if (coordinator::IsBadVersion(written.status())) {
        // The controller changed the partition: our watch brings the new state.
        service_->OnIsrAbandoned(change.topic, change.partition, change.epoch);
        spdlog::info("topic={} partition={} isr write lost to a newer state", change.topic,
                     change.partition);
      }
    }
  }
  session_->PostAfter(options_.isr_check_ms, [this] { IsrTick(); });
}

// ---------------------------------------------------------------------------------------
// Controller

void ClusterNode::ReconcileTick() {
  if (stopping_ || !controller_) return;
  Reconcile(true);
  session_->PostAfter(options_.reconcile_ms, [this] { ReconcileTick(); });
}

void ClusterNode::Reconcile(bool prefer) {
  if (!controller_ || !session_->IsSafeToAct()) return;
  coordinator::LiveBrokers live;
  std::set<int32_t> leaving;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = incarnations_;
    for (auto& [id, incarnation] : leaving_) leaving.insert(id);
  }
  for (const coordinator::PartitionChange& c : policy_->Reconcile(live, leaving, prefer)) {
    spdlog::info("controller: topic={} partition={} leader {} -> {} (incarnation {} -> {}) "
                 "epoch {} -> {} isr {}",
                 c.topic, c.partition, c.from.leader, c.to.leader, c.from.leader_incarnation,
                 c.to.leader_incarnation, c.from.epoch, c.to.epoch, List(c.to.isr));
  }
}

Status ClusterNode::ControlledShutdown(int32_t broker) {
  if (!controller_) return Status(Code::kNoLeader, "this broker is not the controller");
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto live = incarnations_.find(broker);
    leaving_[broker] = live == incarnations_.end() ? 0 : live->second;
  }
  auto deadline = std::chrono::steady_clock::now() + kControlledShutdownWait;
  for (;;) {
    Reconcile(false);
    if (!policy_->LeadsAny(broker)) return Status::Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::Unavailable("broker " + std::to_string(broker) +
                                 " still leads partitions with no other in-sync replica");
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, kControlledShutdownPoll);  // let followers' watches settle
  }
}

Result<CreateOutcome> ClusterNode::CreateTopic(const TopicSpec& spec) {
  if (!controller_) return Status(Code::kNoLeader, "this broker is not the controller");
  std::lock_guard<std::mutex> admin(admin_mu_);
  std::vector<int32_t> live;
  coordinator::LiveBrokers incarnations;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, url] : brokers_) live.push_back(id);
    incarnations = incarnations_;
  }
  auto config = spec.Resolve(static_cast<int32_t>(live.size()));
  if (!config.ok()) return config.status();
  auto existing = meta_->GetTopic(spec.name);
  if (existing.ok()) {
    auto c = TopicConfigFromJson(existing->config_json);
    if (!c.ok() || !spec.Matches(c.value())) {
      return Status(Code::kTopicExists, "topic '" + spec.name +
                                            "' exists with a different config: " +
                                            existing->config_json);
    }
    ZOOMQ_RETURN_IF_ERROR(WaitForLocalTopic(spec.name, 5000));
    auto info = service_->DescribeTopic(spec.name);
    if (!info.ok()) return info.status();
    return CreateOutcome{false, info.value()};
  }
  // The dead-letter topic mirrors its parent's placement, so the broker leading a partition
  // also leads the partition its dead letters go to (they move without a network hop).
  auto create = [&](const std::string& name, const TopicConfig& c) -> Status {
    // Placed by the parent's name, so a dead-letter topic mirrors its parent.
    auto parts = coordinator::Controller::PlaceTopic(spec.name, c.partitions,
                                                     c.replication_factor, live, incarnations);
    auto r = meta_->CreateTopic(name, c.ToJson().dump(), service_->clock()->NowMs(), parts);
    if (!r.ok()) return r.status();
    spdlog::info("controller: topic={} created id={} config={}", name, r->id, c.ToJson().dump());
    return Status::Ok();
  };
  Status st = create(spec.name, config.value());
  if (coordinator::IsNodeExists(st)) return CreateTopic(spec);  // raced: compare again
  ZOOMQ_RETURN_IF_ERROR(st);
  if (config->max_deliveries > 0) {
    TopicConfig dlq = config.value();
    dlq.max_deliveries = 0;
    Status d = create(spec.name + ".dlq", dlq);
    if (!d.ok() && !coordinator::IsNodeExists(d)) return d;
  }
  ZOOMQ_RETURN_IF_ERROR(WaitForLocalTopic(spec.name, 5000));
  auto info = service_->DescribeTopic(spec.name);
  if (!info.ok()) return info.status();
  return CreateOutcome{true, info.value()};
}

Status ClusterNode::WaitForLocalTopic(const std::string& name, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  bool ok = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                         [&] { return topics_.count(name) > 0; });
  return ok ? Status::Ok() : Status::Unavailable("topic metadata did not arrive in time");
}

Status ClusterNode::DeleteTopic(const std::string& name) {
  if (!controller_) return Status(Code::kNoLeader, "this broker is not the controller");
  std::lock_guard<std::mutex> admin(admin_mu_);
  Status st = meta_->DeleteTopic(name);
  if (coordinator::IsNoNode(st)) {
    return Status(Code::kTopicNotFound, "topic '" + name + "' does not exist");
  }
  ZOOMQ_RETURN_IF_ERROR(st);
  spdlog::info("controller: topic={} deleted", name);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Routing

std::optional<std::string> ClusterNode::LeaderUrl(const std::string& topic, int32_t partition) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(topic);
  if (it == states_.end() || partition < 0 ||
      partition >= static_cast<int32_t>(it->second.size())) {
    return std::nullopt;
  }
  auto b = brokers_.find(it->second[partition].leader);
  if (b == brokers_.end()) return std::nullopt;
  return b->second;
}

std::optional<std::string> ClusterNode::ControllerUrl() {
  if (IsController()) return options_.url;
  auto data = election_ ? election_->LeaderData() : Result<std::string>(Status::NotFound("none"));
  if (!data.ok()) return std::nullopt;
  auto info = coordinator::ParseBrokerInfo(data.value());
  if (!info.ok()) return std::nullopt;
  return info->url;
}

bool ClusterNode::ZkConnected() {
  return session_ && session_->state() == coordinator::SessionState::kConnected;
}

bool ClusterNode::IsController() { return controller_ && election_ && election_->IsLeader(); }

std::vector<std::string> ClusterNode::BrokerUrls() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (auto& [id, url] : brokers_) out.push_back(url);
  return out;
}

ClusterInfo ClusterNode::View() {
  ClusterInfo v;
  v.broker = options_.broker_id;
  v.mode = "cluster";
  if (auto url = ControllerUrl()) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, u] : brokers_) {
      if (u == *url) v.controller = id;
    }
  }
  std::map<std::string, PartitionInfo> local;
  for (const TopicInfo& t : service_->ListTopics()) {
    for (const PartitionInfo& p : t.partitions) local[Tp(t.name, p.partition)] = p;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, url] : brokers_) v.brokers.push_back({id, url, true});
  for (auto& [name, parts] : states_) {
    zoomq::TopicInfo t;
    t.name = name;
    for (size_t p = 0; p < parts.size(); ++p) {
      const PartitionState& s = parts[p];
      const PartitionInfo& li = local[Tp(name, static_cast<int32_t>(p))];
      zoomq::PartitionInfo pi;
      pi.partition = static_cast<int>(p);
      pi.leader = s.leader;
      pi.epoch = s.epoch;
      pi.replicas = s.replicas;
      pi.isr = s.isr;
      pi.high_watermark = static_cast<int64_t>(li.high_watermark);
      pi.log_end_offset = static_cast<int64_t>(li.log_end_offset);
      pi.first_offset = static_cast<int64_t>(li.first_offset);
      t.partition_info.push_back(std::move(pi));
    }
    v.topics.push_back(std::move(t));
  }
  return v;
}

}  // namespace zoomq::broker
