// Broker answers for SDK unit tests (consumer_test, admin_test): /v1/cluster bodies, message
// lists, and query-string parsing of the requests the SDK sent. Brokers are named
// "http://b<id>".
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "zoomq/client/transport.h"

namespace zoomq::client_testing {

inline std::string BrokerUrl(int id) { return "http://b" + std::to_string(id); }

inline HttpResponse Answer(int status, const nlohmann::json& body) {
  return HttpResponse{status, body.dump(), "", -1};
}

// GET /v1/cluster: brokers 1..`brokers` (all alive), `topic` with partition p led by
// leaders[p] (-1: no leader).
inline nlohmann::json ClusterJson(int brokers, const std::string& topic,
                                  const std::vector<int>& leaders) {
  nlohmann::json b = nlohmann::json::array();
  for (int id = 1; id <= brokers; ++id) {
    b.push_back({{"id", id}, {"url", BrokerUrl(id)}, {"alive", true}});
  }
  nlohmann::json parts = nlohmann::json::array();
  for (size_t p = 0; p < leaders.size(); ++p) {
    parts.push_back({{"partition", p}, {"leader", leaders[p]}, {"epoch", 1},
                     {"replicas", {leaders[p]}}, {"isr", {leaders[p]}},
                     {"high_watermark", 0}, {"log_end_offset", 0}});
  }
  nlohmann::json topics = nlohmann::json::array();
  if (!topic.empty()) topics.push_back({{"name", topic}, {"partitions", parts}});
  return {{"broker", 1}, {"controller", 1}, {"brokers", b}, {"topics", topics}};
}

// One message as the broker renders it ("id" is the handle).
inline nlohmann::json MessageJson(int partition, int64_t offset,
                                  const std::map<std::string, std::string>& headers = {}) {
  nlohmann::json m = {{"id", std::to_string(partition) + "-" + std::to_string(offset)},
                      {"partition", partition},
                      {"offset", offset},
                      {"key", "k" + std::to_string(offset)},
                      {"value", {{"n", offset}}},
                      {"timestamp_ms", 1000 + offset},
                      {"delivery", 1}};
  if (!headers.empty()) m["headers"] = headers;
  return m;
}

// {"messages": [...]} with the given (partition, offset) pairs.
inline nlohmann::json MessagesJson(const std::vector<std::pair<int, int64_t>>& list) {
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& [p, o] : list) msgs.push_back(MessageJson(p, o));
  return {{"messages", msgs}};
}

// The path of a target (before '?') and its query parameters (not decoded: the tests use
// plain names).
inline std::string PathOf(const std::string& target) {
  return target.substr(0, target.find('?'));
}
inline std::map<std::string, std::string> QueryOf(const std::string& target) {
  std::map<std::string, std::string> out;
  size_t q = target.find('?');
  if (q == std::string::npos) return out;
  std::string rest = target.substr(q + 1);
  size_t pos = 0;
  while (pos <= rest.size()) {
    size_t amp = rest.find('&', pos);
    if (amp == std::string::npos) amp = rest.size();
    std::string kv = rest.substr(pos, amp - pos);
    size_t eq = kv.find('=');
    if (!kv.empty()) out[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
    pos = amp + 1;
  }
  return out;
}

}  // namespace zoomq::client_testing
