// ServiceState: what the parts of BrokerService share (options, clock, store, the topics,
// health, counters, the ack guard), and the one way they submit a batch and advance the
// partitions it commits. Not a public header.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/service/topic_state.h"
#include "broker/service/types.h"
#include "broker/storage/store.h"
#include "zoomq/common/clock.h"
#include "zoomq/common/status.h"

namespace zoomq::broker {

// A partition whose log (below `end`) and group log (below `group_end`) a batch makes durable
// here (0: unchanged).
struct Commit {
  std::shared_ptr<Topic> topic;
  Partition* partition;
  uint64_t end;
  uint64_t group_end = 0;
};

class ServiceState {
 public:
  ServiceState(const BrokerOptions& options, std::unique_ptr<Store> store, const Clock* clock)
      : options(options), clock(clock), store(std::move(store)) {}

  const BrokerOptions options;
  const Clock* const clock;
  const std::unique_ptr<Store> store;

  std::shared_ptr<Topic> FindTopic(const std::string& name);
  std::vector<std::shared_ptr<Topic>> AllTopics();
  mutable std::mutex topics_mu;
  std::map<std::string, std::shared_ptr<Topic>> topics;  // guarded by topics_mu
  int64_t next_topic_id = 1;                             // guarded by topics_mu

  // Storage failed: every write is refused until restart (as LevelDB's bg_error).
  Status health() const;
  void Fail(const Status& st);

  // Submits `batch`; after its commit advances the listed partitions and wakes their
  // waiters, then sets `done` (may be null).
  void SubmitAndCommit(WriteBatch batch, std::vector<Commit> commits,
                       std::shared_ptr<std::promise<Status>> done);

  // Self-fencing (BrokerService::SetAckGuard): OK when no guard is set.
  Status CheckAckGuard() const { return ack_guard ? ack_guard() : Status::Ok(); }
  std::function<Status()> ack_guard;

  // Waiter admission: false when max_waiters are already waiting.
  bool AdmitWaiter();
  void ReleaseWaiter() { --waiters; }

  std::atomic<bool> stopping{false};
  std::atomic<size_t> waiters{0};
  std::atomic<uint64_t> produced{0}, delivered{0}, acked{0}, dead_lettered{0};

 private:
  mutable std::mutex fail_mu_;
  Status failure_;  // guarded by fail_mu_; non-OK once storage failed
};

// The answers every part gives alike.
Status TopicNotFound(const std::string& name);
// TOPIC_NOT_FOUND / PARTITION_NOT_FOUND for a missing topic (null) or partition.
Status CheckPartition(const Topic* topic, const std::string& name, int32_t partition);
// "topic/partition", for logs and errors.
std::string Tp(const std::string& topic, int32_t partition);
// The dead-letter topic of `topic`.
std::string DlqName(const std::string& topic);

}  // namespace zoomq::broker
