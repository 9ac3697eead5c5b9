#include "broker/service/state.h"

#include <spdlog/spdlog.h>

#include "zoomq/common/names.h"

namespace zoomq::broker {

std::shared_ptr<Topic> ServiceState::FindTopic(const std::string& name) {
  std::lock_guard<std::mutex> lock(topics_mu);
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : it->second;
}

Status ServiceState::health() const {
  std::lock_guard<std::mutex> lock(fail_mu_);
  return failure_;
}

void ServiceState::Fail(const Status& st) {
  if (stopping) return;  // the store refuses new batches while closing; that is no failure
  std::lock_guard<std::mutex> lock(fail_mu_);
  if (failure_.ok()) {
    spdlog::critical("storage failed, refusing writes until restart: {}", st.message());
    failure_ = Status::Unavailable("storage failed: " + st.message());
  }
}

void ServiceState::SubmitAndCommit(WriteBatch batch, std::vector<Commit> commits,
                                   std::shared_ptr<std::promise<Status>> done) {
  store->Submit(std::move(batch), [this, commits = std::move(commits), done](const Status& st) {
    if (!st.ok()) Fail(st);
    for (const Commit& c : commits) {
      if (st.ok()) {
        std::lock_guard<std::mutex> lock(c.partition->mu);
        c.partition->OnDurableLocked(c.end, c.group_end);
      } else {
        // No lock: a refused Submit (store closing) runs this inline, under the caller's
        // partition locks. Waiters re-check health() at least every write timeout.
        c.partition->hwm_cv.notify_all();
      }
      c.topic->Notify();
    }
    if (done) done->set_value(st);
  });
}

bool ServiceState::AdmitWaiter() {
  size_t cur = waiters.load();
  do {
    if (cur >= options.max_waiters) return false;
  } while (!waiters.compare_exchange_weak(cur, cur + 1));
  return true;
}

Status TopicNotFound(const std::string& name) {
  return Status(Code::kTopicNotFound, "topic '" + name + "' does not exist");
}

Status CheckPartition(const Topic* t, const std::string& topic, int32_t partition) {
  if (!t) return Status(Code::kTopicNotFound, "topic '" + topic + "' does not exist");
  if (partition < 0 || partition >= t->config.partitions) {
    return Status(Code::kPartitionNotFound, "no partition " + Tp(topic, partition));
  }
  return Status::Ok();
}

std::vector<std::shared_ptr<Topic>> ServiceState::AllTopics() {
  std::lock_guard<std::mutex> lock(topics_mu);
  std::vector<std::shared_ptr<Topic>> out;
  for (auto& [name, t] : topics) out.push_back(t);
  return out;
}

std::string Tp(const std::string& topic, int32_t p) { return topic + "/" + std::to_string(p); }

std::string DlqName(const std::string& topic) { return topic + std::string(kDlqSuffix); }

}  // namespace zoomq::broker
