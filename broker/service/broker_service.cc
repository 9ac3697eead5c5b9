// BrokerService: opening, the ticker, stopping; every other call goes to the part that owns it.
#include "broker/service/broker_service.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "broker/service/groups.h"
#include "broker/service/messages.h"
#include "broker/service/replica_manager.h"
#include "broker/service/state.h"
#include "broker/service/topics.h"

namespace zoomq::broker {

using SteadyClock = std::chrono::steady_clock;

BrokerService::BrokerService(const BrokerOptions& options, std::unique_ptr<Store> store,
                             const Clock* clock)
    : state_(std::make_unique<ServiceState>(options, std::move(store), clock)),
      topics_(std::make_unique<TopicManager>(*state_)),
      messages_(std::make_unique<Messages>(*state_)),
      groups_(std::make_unique<GroupCoordinator>(*state_)),
      replicas_(std::make_unique<ReplicaManager>(*state_, *groups_)) {}

BrokerService::~BrokerService() { Stop(); }

Result<std::unique_ptr<BrokerService>> BrokerService::Open(const BrokerOptions& options,
                                                           const std::string& data_dir,
                                                           SyncMode sync, const Clock* clock) {
  auto store = Store::Open(data_dir, sync);
  if (!store.ok()) return store.status();
  if (!options.fault_hold_commits_file.empty()) {
    (*store)->SetFaultHold(options.fault_hold_commits_file);
  }
  std::unique_ptr<BrokerService> svc(new BrokerService(options, std::move(store).value(), clock));
  ZOOMQ_RETURN_IF_ERROR(svc->Load());
  return svc;
}

Status BrokerService::Load() {
  std::vector<LoadedTopic> loaded;
  ZOOMQ_RETURN_IF_ERROR(state_->store->LoadTopics(&loaded));
  state_->next_topic_id = state_->store->MaxTopicId() + 1;
  for (auto& lt : loaded) {
    uint64_t messages = 0;
    auto t = topics_->Load(lt, &messages);
    if (!t.ok()) return t.status();
    ZOOMQ_RETURN_IF_ERROR(groups_->LoadGroups(t.value()));
    spdlog::info("loaded topic={} id={} partitions={} messages={} groups={}", (*t)->name, (*t)->id,
                 (*t)->config.partitions, messages, (*t)->groups.size());
    std::lock_guard<std::mutex> lock(state_->topics_mu);
    state_->topics[(*t)->name] = std::move(t).value();
  }
  return Status::Ok();
}

void BrokerService::Start() {
  ticker_ = std::thread([this] { TickerLoop(); });
}

void BrokerService::Stop() {
  if (state_->stopping.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(ticker_mu_);
    ticker_cv_.notify_all();
  }
  if (ticker_.joinable()) ticker_.join();
  for (auto& t : state_->AllTopics()) {
    t->Notify();
    for (auto& p : t->partitions) {
      std::lock_guard<std::mutex> lock(p->mu);
      p->hwm_cv.notify_all();
      p->WakeFetchersLocked();
    }
  }
  replicas_->WaitForFollowers();
  state_->store->Close();
}

Status BrokerService::health() const { return state_->health(); }
bool BrokerService::stopping() const { return state_->stopping.load(); }
const BrokerOptions& BrokerService::options() const { return state_->options; }
const Clock* BrokerService::clock() const { return state_->clock; }
void BrokerService::SetAckGuard(std::function<Status()> guard) {
  state_->ack_guard = std::move(guard);
}
void BrokerService::SetPeerTransport(PeerTransport* transport) {
  replicas_->SetPeerTransport(transport);
}

void BrokerService::TickOnce() { groups_->TickOnce(); }
void BrokerService::RetentionOnce() { topics_->RetentionOnce(); }

void BrokerService::TickerLoop() {
  auto next_retention = SteadyClock::now();
  std::unique_lock<std::mutex> lock(ticker_mu_);
  while (!state_->stopping) {
    ticker_cv_.wait_for(lock, std::chrono::milliseconds(state_->options.tick_ms));
    if (state_->stopping) break;
    lock.unlock();
    TickOnce();
    if (SteadyClock::now() >= next_retention) {
      RetentionOnce();
      next_retention =
          SteadyClock::now() + std::chrono::milliseconds(state_->options.retention_check_ms);
    }
    lock.lock();
  }
}

Counters BrokerService::counters() const {
  Counters c;
  c.produced = state_->produced;
  c.delivered = state_->delivered;
  c.acked = state_->acked;
  c.dead_lettered = state_->dead_lettered;
  c.commit_rounds = state_->store->commit_rounds();
  c.committed_batches = state_->store->committed_batches();
  return c;
}

bool BrokerService::AdmitWaiter() { return state_->AdmitWaiter(); }
void BrokerService::ReleaseWaiter() { state_->ReleaseWaiter(); }

uint64_t BrokerService::Generation(const std::string& topic) {
  auto t = state_->FindTopic(topic);
  return t ? t->Generation() : 0;
}

void BrokerService::WaitForChange(const std::string& topic, uint64_t seen, TimeMs wait_ms) {
  auto t = state_->FindTopic(topic);
  if (!t || wait_ms <= 0) return;
  t->WaitForChange(seen, SteadyClock::now() + std::chrono::milliseconds(wait_ms), state_->stopping);
}

// ---------------------------------------------------------------------------------------
// The parts' calls

Result<CreateOutcome> BrokerService::CreateTopic(const TopicSpec& spec) {
  return topics_->CreateTopic(spec);
}
Status BrokerService::DeleteTopic(const std::string& name) { return topics_->DeleteTopic(name); }
std::vector<TopicInfo> BrokerService::ListTopics() { return topics_->ListTopics(); }
Result<TopicInfo> BrokerService::DescribeTopic(const std::string& name) {
  return topics_->DescribeTopic(name);
}
Status BrokerService::EnsureTopic(int64_t id, const std::string& name, const TopicConfig& config,
                                  TimeMs created_ms) {
  return topics_->EnsureTopic(id, name, config, created_ms);
}

Result<std::vector<int32_t>> BrokerService::Place(const std::string& topic,
                                                  const std::vector<ProduceMessage>& messages) {
  return messages_->Place(topic, messages);
}
Result<std::vector<ProduceResult>> BrokerService::Produce(const std::string& topic,
                                                          std::vector<ProduceMessage> messages) {
  return messages_->Produce(topic, std::move(messages));
}
Result<StreamRead> BrokerService::Read(const std::string& topic, int64_t partition, uint64_t from,
                                       size_t max, TimeMs wait_ms) {
  return messages_->Read(topic, partition, from, max, wait_ms);
}

Result<bool> BrokerService::CreateGroup(const std::string& topic, const std::string& group,
                                        bool latest) {
  return groups_->CreateGroup(topic, group, latest);
}
Result<std::vector<DeliveredMessage>> BrokerService::Pull(const std::string& topic,
                                                          const std::string& group,
                                                          const std::string& consumer, size_t max,
                                                          TimeMs wait_ms,
                                                          std::optional<TimeMs> visibility_ms) {
  return groups_->Pull(topic, group, consumer, max, wait_ms, visibility_ms);
}
Result<std::vector<DeliveredMessage>> BrokerService::PullNow(const std::string& topic,
                                                             const std::string& group,
                                                             const std::string& consumer,
                                                             size_t max,
                                                             std::optional<TimeMs> visibility_ms) {
  return groups_->PullNow(topic, group, consumer, max, visibility_ms);
}
Result<AckResult> BrokerService::Ack(const std::string& topic, const std::string& group,
                                     const std::vector<MessageRef>& ids) {
  return groups_->Apply(topic, group, ids, LeaseVerb::kAck, 0);
}
Result<AckResult> BrokerService::Nack(const std::string& topic, const std::string& group,
                                      const std::vector<MessageRef>& ids, TimeMs delay_ms) {
  return groups_->Apply(topic, group, ids, LeaseVerb::kNack, delay_ms);
}
Result<AckResult> BrokerService::Extend(const std::string& topic, const std::string& group,
                                        const std::vector<MessageRef>& ids, TimeMs visibility_ms) {
  return groups_->Apply(topic, group, ids, LeaseVerb::kExtend, visibility_ms);
}
Result<GroupInfo> BrokerService::DescribeGroup(const std::string& topic, const std::string& group) {
  return groups_->DescribeGroup(topic, group);
}
size_t BrokerService::InFlight(const std::string& topic, const std::string& group,
                               const std::string& consumer) {
  return groups_->InFlight(topic, group, consumer);
}
std::vector<GroupInfo> BrokerService::AllGroups() { return groups_->AllGroups(); }

Result<FetchResponse> BrokerService::Fetch(const FetchRequest& req) {
  return replicas_->Fetch(req);
}
Result<std::pair<int64_t, uint64_t>> BrokerService::EpochEnd(const std::string& topic,
                                                             int32_t partition, int64_t epoch,
                                                             bool group_log) {
  return replicas_->EpochEnd(topic, partition, epoch, group_log);
}
Status BrokerService::BecomeLeader(const std::string& topic, int32_t partition, int64_t epoch,
                                   std::vector<int32_t> replicas, std::vector<int32_t> isr) {
  return replicas_->BecomeLeader(topic, partition, epoch, std::move(replicas), std::move(isr));
}
Status BrokerService::BecomeFollower(const std::string& topic, int32_t partition, int64_t epoch,
                                     int32_t leader_id, std::string leader_url) {
  return replicas_->BecomeFollower(topic, partition, epoch, leader_id, std::move(leader_url));
}
Status BrokerService::Resign(const std::string& topic, int32_t partition, int64_t epoch) {
  return replicas_->Resign(topic, partition, epoch);
}
std::vector<IsrChange> BrokerService::ProposedIsrChanges() {
  return replicas_->ProposedIsrChanges();
}
void BrokerService::OnIsrCommitted(const std::string& topic, int32_t partition, int64_t epoch,
                                   std::vector<int32_t> isr) {
  replicas_->OnIsrCommitted(topic, partition, epoch, std::move(isr));
}
void BrokerService::OnIsrAbandoned(const std::string& topic, int32_t partition, int64_t epoch) {
  replicas_->OnIsrAbandoned(topic, partition, epoch);
}
Result<std::vector<StoredMessage>> BrokerService::CommittedLog(const std::string& topic,
                                                               int32_t partition,
                                                               uint64_t* high_watermark) {
  return replicas_->CommittedLog(topic, partition, high_watermark);
}

}  // namespace zoomq::broker
