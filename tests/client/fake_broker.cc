#include "fake_broker.h"

#include <atomic>

#include <nlohmann/json.hpp>

namespace zoomq::client_testing {

using nlohmann::json;

FakeBroker::FakeBroker(int brokers)
    : brokers_(brokers),
      transport_(std::make_shared<FakeTransport>(
          [this](const HttpRequest& r) { return Handle(r); })) {}

void FakeBroker::AddTopic(const std::string& name, int partitions, int leader) {
  std::lock_guard<std::mutex> lock(mu_);
  leaders_[name] = std::vector<int>(partitions, leader);
  logs_[name] = std::vector<std::vector<Stored>>(partitions);
}

void FakeBroker::SetLeader(const std::string& topic, int partition, int leader) {
  std::lock_guard<std::mutex> lock(mu_);
  leaders_.at(topic).at(partition) = leader;
}

int FakeBroker::Leader(const std::string& topic, int partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  return leaders_.at(topic).at(partition);
}

void FakeBroker::SetDown(int broker, bool down) {
  std::lock_guard<std::mutex> lock(mu_);
  down_[broker] = down;
}

void FakeBroker::SetProduceHook(ProduceHook hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hook_ = std::move(hook);
}

void FakeBroker::LoseRepliesAfterWrite(int n) {
  auto left = std::make_shared<std::atomic<int>>(n);
  SetProduceHook([left](const HttpRequest&) {
    return left->fetch_sub(1) > 0 ? Action{Action::kApplyThenLose, {}} : Action{};
  });
}

void FakeBroker::set_max_value_bytes(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  max_value_bytes_ = n;
}

std::vector<FakeBroker::Stored> FakeBroker::Log(const std::string& topic, int partition) const {
  std::lock_guard<std::mutex> lock(mu_);
  return logs_.at(topic).at(partition);
}

std::vector<std::chrono::steady_clock::time_point> FakeBroker::ProduceTimes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return produce_times_;
}

int FakeBroker::cluster_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cluster_requests_;
}

HttpResponse FakeBroker::Handle(const HttpRequest& request) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int b = 1; b <= brokers_; ++b) {
      if (request.base_url == Url(b) && down_[b]) return RefusedConnection();
    }
  }
  if (request.method == "GET" && request.target == "/v1/cluster") return Cluster();
  if (request.method == "POST" && request.target.rfind("/v1/topics/", 0) == 0) {
    return Produce(request);
  }
  return ErrorAnswer(404, "NOT_FOUND", "fake broker: no route " + request.target);
}

HttpResponse FakeBroker::Cluster() const {
  std::lock_guard<std::mutex> lock(mu_);
  ++cluster_requests_;
  json brokers = json::array();
  for (int b = 1; b <= brokers_; ++b) {
    auto it = down_.find(b);
    brokers.push_back({{"id", b}, {"url", Url(b)}, {"alive", it == down_.end() || !it->second}});
  }
  json topics = json::array();
  for (const auto& [name, leaders] : leaders_) {
    json parts = json::array();
    for (size_t p = 0; p < leaders.size(); ++p) {
      parts.push_back({{"partition", p}, {"leader", leaders[p]}, {"epoch", 1},
                       {"replicas", {leaders[p]}}, {"isr", {leaders[p]}},
                       {"high_watermark", logs_.at(name)[p].size()},
                       {"log_end_offset", logs_.at(name)[p].size()}});
    }
    topics.push_back({{"name", name}, {"partitions", parts}});
  }
  json j = {{"broker", 1}, {"controller", 1}, {"brokers", brokers}, {"topics", topics}};
  return {200, j.dump(), "", -1};
}

HttpResponse FakeBroker::Produce(const HttpRequest& request) {
  const std::string prefix = "/v1/topics/";
  const std::string suffix = "/messages";
  const std::string& t = request.target;
  if (t.size() <= prefix.size() + suffix.size() ||
      t.compare(t.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return ErrorAnswer(404, "NOT_FOUND");
  }
  const std::string topic = t.substr(prefix.size(), t.size() - prefix.size() - suffix.size());
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.contains("messages") || !body["messages"].is_array() ||
      body["messages"].empty()) {
    return ErrorAnswer(400, "INVALID_REQUEST", "bad body");
  }
  ProduceHook hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    produce_times_.push_back(std::chrono::steady_clock::now());
    auto it = leaders_.find(topic);
    if (it == leaders_.end()) return ErrorAnswer(404, "TOPIC_NOT_FOUND");
    for (const json& m : body["messages"]) {
      if (!m.contains("partition")) return ErrorAnswer(400, "INVALID_REQUEST", "no partition");
      const int p = m["partition"].get<int>();
      if (p < 0 || p >= static_cast<int>(it->second.size())) {
        return ErrorAnswer(404, "PARTITION_NOT_FOUND");
      }
      if (request.base_url != Url(it->second[p])) return ErrorAnswer(503, "NOT_LEADER");
      const size_t size = m.contains("value") ? m["value"].dump().size()
                                              : m.value("value_b64", std::string()).size();
      if (size > max_value_bytes_) return ErrorAnswer(413, "PAYLOAD_TOO_LARGE");
    }
    hook = hook_;
  }
  Action action = hook ? hook(request) : Action{};
  if (action.kind == Action::kAnswer) return action.answer;

  json results = json::array();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const json& m : body["messages"]) {
      const int p = m["partition"].get<int>();
      std::vector<Stored>& log = logs_.at(topic).at(p);
      const std::string id = m.value("id", std::string());
      const Stored* dup = nullptr;
      for (const Stored& s : log) {
        if (!id.empty() && s.id == id) dup = &s;
      }
      if (dup != nullptr) {
        results.push_back({{"partition", p}, {"offset", dup->offset}, {"duplicate", true}});
        continue;
      }
      Stored s;
      s.id = id;
      if (m.contains("key")) s.key = m["key"].get<std::string>();
      s.value = m.contains("value") ? m["value"].dump()
                                    : "b64:" + m.value("value_b64", std::string());
      s.offset = static_cast<int64_t>(log.size());
      log.push_back(s);
      results.push_back({{"partition", p}, {"offset", s.offset}, {"duplicate", false}});
    }
  }
  if (action.kind == Action::kApplyThenLose) return LostReply("reply lost after the write");
  return {200, json{{"results", results}}.dump(), "", -1};
}

}  // namespace zoomq::client_testing
