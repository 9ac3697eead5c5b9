// ClusterNode: this broker's part in the cluster. It connects to ZooKeeper (coordinator/),
// registers the broker, runs for controller, watches topic and partition metadata and turns
// it into roles of the BrokerService (leader / follower / none), writes the ISR changes its
// leaderships propose, and, while it is the controller, elects partition leaders.
//
// The controller (docs/replication.md): on every change of the live broker set, and every
// `reconcile_ms`, it reads each partition's state and writes what DecidePartition() wants
// (dead leaders replaced from the ISR, dead brokers out of the ISR, preferred leaders back),
// each write version-checked. Topic creation and deletion run on the controller only.
//
// Threads: ZooKeeper events, watches and the periodic work run on the session's coordinator
// thread; the ClusterRouter methods run on request threads. mu_ guards the cached metadata.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "broker/cluster/cluster_router.h"
#include "broker/cluster/peer_client.h"
#include "broker/service/broker_service.h"
#include "zoomq/coordinator/cluster_metadata.h"
#include "zoomq/coordinator/controller.h"
#include "zoomq/coordinator/leader_election.h"
#include "zoomq/coordinator/membership.h"
#include "zoomq/coordinator/zk_session.h"

namespace zoomq::broker {

struct ClusterOptions {
  std::string zk_connect;     // host:port[,host:port...][/chroot]
  int session_timeout_ms = 3000;
  // ZooKeeper digest credentials "user:password" (--zk-auth-file); empty: open ACLs.
  std::string zk_digest;
  int32_t broker_id = 1;
  std::string url;            // advertised URL of this broker
  int isr_check_ms = 250;     // how often led partitions' ISR proposals are written
  int reconcile_ms = 1000;    // controller: periodic full check (preferred leaders)
  // Every broker: periodic re-read of every partition state, without watches: a role is
  // applied even when a watch's read failed (ZooKeeper restarting) or a role change did.
  int metadata_check_ms = 2000;
};

class ClusterNode : public cluster::ClusterRouter {
 public:
  // `peers` reaches the controller for this broker's controlled shutdown; it must outlive
  // the node.
  ClusterNode(BrokerService* service, cluster::PeerClient* peers, ClusterOptions options);
  ~ClusterNode() override;

  // Connects, registers and joins the controller election. Call after the HTTP port is
  // bound (a broker that cannot serve must never be elected or advertised).
  Status Start();
  // Graceful: asks the controller to move this broker's leaderships away (waits for it),
  // then leaves the election and closes the session. Idempotent.
  void Stop();
  // The ZooKeeper session (after Start()), for what else the broker keeps there (the
  // security document). Owned by the node: valid until it is destroyed.
  coordinator::ZkSession* session() { return session_.get(); }

  // --- ClusterRouter ---
  int32_t self_id() const override { return options_.broker_id; }
  std::string self_url() const override { return options_.url; }
  std::optional<std::string> LeaderUrl(const std::string& topic, int32_t partition) override;
  std::optional<std::string> ControllerUrl() override;
  bool IsController() override;
  std::vector<std::string> BrokerUrls() override;
  ClusterInfo View() override;
  int AddLeadershipListener(std::function<void()> listener) override {
    return leadership_.Add(std::move(listener));
  }
  void RemoveLeadershipListener(int id) override { leadership_.Remove(id); }
  bool ZkConnected() override;
  Result<CreateOutcome> CreateTopic(const TopicSpec& spec) override;
  Status DeleteTopic(const std::string& name) override;
  Status ControlledShutdown(int32_t broker) override;

 private:
  // Coordinator thread.
  void OnBrokers(const std::vector<coordinator::BrokerInfo>& live);
  // Reads the topic list (re-arming its watch) and syncs new topics, or all with `all`
  // (after a new session: every partition watch has to be set again).
  void SyncTopics(bool all = false);
  void SyncTopic(const std::string& name);
  void SyncPartition(const std::string& topic, int32_t partition);
  // Turns a partition state into this broker's role (coordinator::RoleFor). States older
  // than the one already applied are ignored.
  void Apply(const std::string& topic, int32_t partition, const coordinator::PartitionState& s);
  void ReapplyAll();
  // Re-reads every partition state (no watch) and applies those that changed since they
  // were applied, or whose role change failed.
  void MetadataTick();
  // Stops serving every partition this broker leads (they answer NOT_LEADER until roles are
  // applied again): when the session expired (another broker may lead them already) and when
  // shutting down after the hand-over.
  void StepDownAll(const char* why);
  void IsrTick();
  void Reconcile(bool prefer);
  void ReconcileTick();
  Status WaitForLocalTopic(const std::string& name, int timeout_ms);

  BrokerService* const service_;
  cluster::PeerClient* const peers_;
  const ClusterOptions options_;
  cluster::LeadershipListeners leadership_;  // told after the leaders in states_ changed
  std::unique_ptr<coordinator::ZkSession> session_;
  std::unique_ptr<coordinator::ClusterMetadata> meta_;
  std::unique_ptr<coordinator::Controller> policy_;  // the controller's decisions over meta_
  std::unique_ptr<coordinator::Membership> membership_;
  std::unique_ptr<coordinator::LeaderElection> election_;
  int listener_id_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;                 // a topic was synced
  std::map<int32_t, std::string> brokers_;     // guarded by mu_: live id -> url
  coordinator::LiveBrokers incarnations_;      // guarded by mu_: live id -> incarnation
  // guarded by mu_: partitions whose last role change failed (retried by MetadataTick)
  std::set<std::pair<std::string, int32_t>> failed_;
  std::map<std::string, coordinator::TopicMeta> topics_;  // guarded by mu_
  std::map<std::string, std::vector<coordinator::PartitionState>> states_;  // guarded by mu_
  // guarded by mu_: controller, brokers shutting down -> the incarnation that asked (a
  // broker that died mid-shutdown and came back is a new incarnation, not leaving)
  std::map<int32_t, int64_t> leaving_;
  std::atomic<bool> controller_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> started_{false};
  std::mutex admin_mu_;  // controller: one topic create/delete at a time
};

}  // namespace zoomq::broker
