// FakeBroker: an in-memory zoomq cluster behind a FakeTransport, for SDK unit tests. It
// answers GET /v1/cluster and POST /v1/topics/{t}/messages the way docs/api.md says: produce
// only on the partition's leader (else 503 NOT_LEADER), dedup by id per partition (a repeat
// answers the first offset with "duplicate": true), batches all-or-nothing (413 when a value
// is over max_value_bytes). A produce hook lets a test decide each produce request's fate:
// apply it, apply it and lose the reply, or answer something else without applying.
// Thread-safe. Brokers are "http://b1", "http://b2"...
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fake_transport.h"

namespace zoomq::client_testing {

class FakeBroker {
 public:
  struct Stored {
    std::string id;
    std::optional<std::string> key;
    std::string value;  // JSON text, or "b64:<base64>" for bytes
    int64_t offset = 0;
  };
  struct Action {
    enum Kind { kApply, kApplyThenLose, kAnswer } kind = kApply;
    HttpResponse answer;  // for kAnswer (not applied)
  };
  // Called for every produce request that reached the partition's leader, without the
  // broker's lock (it may call SetLeader and friends).
  using ProduceHook = std::function<Action(const HttpRequest&)>;

  explicit FakeBroker(int brokers = 3);

  static std::string Url(int broker) { return "http://b" + std::to_string(broker); }
  void AddTopic(const std::string& name, int partitions, int leader = 1);
  void SetLeader(const std::string& topic, int partition, int leader);
  int Leader(const std::string& topic, int partition) const;
  // A down broker refuses every connection (status 0, not_sent) and is listed not alive.
  void SetDown(int broker, bool down);
  void SetProduceHook(ProduceHook hook);
  // A hook that applies the first `n` produce requests and loses their replies.
  void LoseRepliesAfterWrite(int n);
  void set_max_value_bytes(size_t n);

  std::vector<Stored> Log(const std::string& topic, int partition) const;
  // Times of the produce requests (all, in arrival order) and their base URLs.
  std::vector<std::chrono::steady_clock::time_point> ProduceTimes() const;
  int cluster_requests() const;

  HttpResponse Handle(const HttpRequest& request);
  std::shared_ptr<FakeTransport> transport() const { return transport_; }

 private:
  HttpResponse Cluster() const;
  HttpResponse Produce(const HttpRequest& request);

  mutable std::mutex mu_;
  int brokers_;
  std::map<int, bool> down_;                            // guarded by mu_
  std::map<std::string, std::vector<int>> leaders_;     // topic -> leader per partition
  std::map<std::string, std::vector<std::vector<Stored>>> logs_;  // guarded by mu_
  std::vector<std::chrono::steady_clock::time_point> produce_times_;  // guarded by mu_
  mutable int cluster_requests_ = 0;                    // guarded by mu_
  size_t max_value_bytes_ = 1 << 20;                    // guarded by mu_
  ProduceHook hook_;                                    // guarded by mu_
  std::shared_ptr<FakeTransport> transport_;
};

}  // namespace zoomq::client_testing
