// An in-memory MetadataStore for unit tests of the controller: keeps the contract of
// metadata_store.h (versions, compare-and-set, all-or-nothing topic creation) without
// ZooKeeper. No watches. Tests can move a partition's state on behind the controller's back
// (Bump), as a partition leader's ISR write does.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "zoomq/coordinator/metadata_store.h"

namespace zoomq::coordinator::testing {

class FakeMetadataStore : public MetadataStore {
 public:
  Result<std::vector<std::string>> ListTopics(WatchFn) override {
    if (down) return Status::Unavailable("store down");
    std::vector<std::string> out;
    for (auto& [name, t] : topics_) out.push_back(name);
    return out;
  }
  Result<TopicMeta> GetTopic(const std::string& name, WatchFn) override {
    if (down) return Status::Unavailable("store down");
    auto it = topics_.find(name);
    if (it == topics_.end()) return Status::NotFound("no topic " + name);
    return it->second.meta;
  }
  Result<PartitionState> GetPartition(const std::string& topic, int32_t partition,
                                      WatchFn) override {
    if (down) return Status::Unavailable("store down");
    auto it = topics_.find(topic);
    if (it == topics_.end() || partition < 0 ||
        partition >= static_cast<int32_t>(it->second.parts.size())) {
      return Status::NotFound("no partition");
    }
    return it->second.parts[partition];
  }
  Result<TopicMeta> CreateTopic(const std::string& name, const std::string& config_json,
                                TimeMs created_ms,
                                const std::vector<PartitionState>& partitions) override {
    if (down) return Status::Unavailable("store down");
    if (topics_.count(name)) return Status(Code::kTopicExists, "node exists");
    Topic t;
    t.meta = {++next_id_, name, config_json, static_cast<int32_t>(partitions.size()),
              created_ms};
    for (PartitionState s : partitions) {
      s.version = 0;
      t.parts.push_back(std::move(s));
    }
    topics_[name] = t;
    return t.meta;
  }
  Status DeleteTopic(const std::string& name) override {
    if (down) return Status::Unavailable("store down");
    return topics_.erase(name) ? Status::Ok() : Status::NotFound("no topic " + name);
  }
  Result<int32_t> SetPartition(const std::string& topic, int32_t partition,
                               const PartitionState& s) override {
    ++writes;
    if (down) return Status::Unavailable("store down");
    auto it = topics_.find(topic);
    if (it == topics_.end()) return Status::NotFound("no topic " + topic);
    PartitionState& cur = it->second.parts.at(partition);
    if (cur.version != s.version) return Status(Code::kStaleEpoch, "bad version");
    const int32_t version = cur.version + 1;
    cur = s;
    cur.version = version;
    return version;
  }

  // Test helpers.
  PartitionState& At(const std::string& topic, int32_t partition) {
    return topics_.at(topic).parts.at(partition);
  }
  // Another writer (a partition leader's ISR change) moves the state on.
  void Bump(const std::string& topic, int32_t partition, std::vector<int32_t> isr) {
    PartitionState& s = At(topic, partition);
    s.isr = std::move(isr);
    ++s.version;
  }

  bool down = false;  // every call fails, as with a lost ZooKeeper connection
  int writes = 0;     // SetPartition calls, successful or not

 private:
  struct Topic {
    TopicMeta meta;
    std::vector<PartitionState> parts;
  };
  std::map<std::string, Topic> topics_;
  int64_t next_id_ = 0;
};

}  // namespace zoomq::coordinator::testing
