// /v1/health, /v1/cluster and /metrics of a standalone broker.

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "broker_test.h"

namespace zoomq::testing {
namespace {

class ClusterTest : public BrokerTest {
 protected:
  BrokerOptions Options() override { return {7, {}}; }
};

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the Prometheus text format (sample lines only).
std::vector<Sample> ParseMetrics(const std::string& text, std::vector<std::string>* bad_lines) {
  std::vector<Sample> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') break;
        std::string key = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) ++j;
          value += line[j];
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        bad_lines->push_back(line);
        continue;
      }
      ++i;  // '}'
    }
    std::istringstream rest(line.substr(i));
    std::string value;
    rest >> value;
    try {
      s.value = std::stod(value);
    } catch (...) {
      bad_lines->push_back(line);
      continue;
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

// Samples named `name` whose labels include all of `labels`.
std::vector<Sample> Find(const std::vector<Sample>& samples, const std::string& name,
                         const std::map<std::string, std::string>& labels = {}) {
  std::vector<Sample> out;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) out.push_back(s);
  }
  return out;
}

double Sum(const std::vector<Sample>& samples) {
  double total = 0;
  for (const auto& s : samples) total += s.value;
  return total;
}

TEST_F(ClusterTest, HealthReportsOkAndTheBrokerId) {
  auto r = http().Get("/v1/health");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.body["status"], Json("ok")) << r.Describe();
  EXPECT_EQ(r.body["broker"], Json(7)) << r.Describe();
  EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u);
}

TEST_F(ClusterTest, ClusterShowsTheStandaloneBrokerAsControllerAndItsPartitions) {
  CreateTopicOrFail("t", {{"partitions", 2}});
  ProduceOk("t", Json::array({{{"value", 1}, {"partition", 0}},
                              {{"value", 2}, {"partition", 0}},
                              {{"value", 3}, {"partition", 1}}}));
  auto r = http().Get("/v1/cluster");
  ASSERT_TRUE(IsStatus(r, 200));
  Json c = r.body;
  EXPECT_EQ(c["broker"], Json(7)) << r.Describe();
  EXPECT_EQ(c["controller"], Json(7)) << r.Describe();
  ASSERT_TRUE(c["brokers"].is_array()) << r.Describe();
  ASSERT_EQ(c["brokers"].size(), 1u) << r.Describe();
  Json b = c["brokers"][0];
  EXPECT_EQ(b["id"], Json(7));
  EXPECT_EQ(b["alive"], Json(true));
  ASSERT_TRUE(b["url"].is_string());
  EXPECT_NE(b["url"].get<std::string>().find(std::to_string(broker().port())), std::string::npos)
      << b.dump();

  ASSERT_TRUE(c["topics"].is_array()) << r.Describe();
  Json topic;
  for (auto& t : c["topics"]) {
    if (t["name"] == Json("t")) topic = t;
  }
  ASSERT_TRUE(topic.is_object()) << r.Describe();
  ASSERT_EQ(topic["partitions"].size(), 2u) << topic.dump();
  const int64_t expected_hw[] = {2, 1};
  for (auto p : topic["partitions"]) {
    SCOPED_TRACE(p.dump());
    ASSERT_TRUE(p["partition"].is_number_integer());
    const int index = p["partition"].get<int>();
    ASSERT_TRUE(index == 0 || index == 1);
    EXPECT_EQ(p["leader"], Json(7));
    EXPECT_TRUE(p["epoch"].is_number_integer());
    EXPECT_EQ(p["replicas"], Json::array({7}));
    EXPECT_EQ(p["isr"], Json::array({7}));
    EXPECT_EQ(p["high_watermark"], Json(expected_hw[index]));
    EXPECT_EQ(p["log_end_offset"], Json(expected_hw[index]));
  }

  // Leader epochs do not move without a change of leader.
  auto again = http().Get("/v1/cluster");
  ASSERT_TRUE(IsStatus(again, 200));
  for (auto& t : again.body["topics"]) {
    if (t["name"] != Json("t")) continue;
    for (size_t i = 0; i < t["partitions"].size(); ++i) {
      for (auto& p : topic["partitions"]) {
        if (p["partition"] == t["partitions"][i]["partition"]) {
          EXPECT_EQ(t["partitions"][i]["epoch"], p["epoch"]);
        }
      }
    }
  }
}

TEST_F(ClusterTest, MetricsExposeTheRequiredSeries) {
  CreateTopicOrFail("m", {{"partitions", 1}});
  ProduceOk("m", Json::array({{{"value", 1}}, {{"value", 2}}, {{"value", 3}}}));
  Json got = PullOk("m", "g", "c", 1, 0);
  ASSERT_EQ(got.size(), 1u);
  VerbOk("m", "g", "ack", IdsOf(got));

  auto r = http().Get("/metrics");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.header("Content-Type").rfind("text/plain", 0), 0u) << r.header("Content-Type");
  std::vector<std::string> bad_lines;
  const auto samples = ParseMetrics(r.raw, &bad_lines);
  EXPECT_TRUE(bad_lines.empty()) << "unparsable line: " << bad_lines[0];

  const std::map<std::string, std::string> partition = {{"topic", "m"}, {"partition", "0"}};
  auto leo = Find(samples, "zoomq_log_end_offset", partition);
  ASSERT_EQ(leo.size(), 1u) << r.raw;
  EXPECT_EQ(leo[0].value, 3);
  auto hw = Find(samples, "zoomq_high_watermark", partition);
  ASSERT_EQ(hw.size(), 1u) << r.raw;
  EXPECT_EQ(hw[0].value, 3);
  auto isr = Find(samples, "zoomq_isr_size", partition);
  ASSERT_EQ(isr.size(), 1u) << r.raw;
  EXPECT_EQ(isr[0].value, 1);
  auto backlog = Find(samples, "zoomq_group_backlog", {{"topic", "m"}, {"group", "g"}});
  ASSERT_EQ(backlog.size(), 1u) << r.raw;
  EXPECT_EQ(backlog[0].value, 2);  // 3 produced, 1 acked, none in flight

  EXPECT_GE(Sum(Find(samples, "zoomq_messages_produced_total")), 3) << r.raw;
  EXPECT_GE(Sum(Find(samples, "zoomq_messages_delivered_total")), 1) << r.raw;
  EXPECT_GE(Sum(Find(samples, "zoomq_requests_total")), 4) << r.raw;
  EXPECT_FALSE(Find(samples, "zoomq_leader_elections_total").empty()) << r.raw;

  // A request-latency histogram with a route label.
  bool histogram = false;
  for (const auto& s : samples) {
    const std::string suffix = "_bucket";
    if (s.name.rfind("zoomq_", 0) == 0 && s.name.size() > suffix.size() &&
        s.name.compare(s.name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        s.labels.count("route") != 0 && s.labels.count("le") != 0) {
      histogram = true;
      const std::string base = s.name.substr(0, s.name.size() - suffix.size());
      EXPECT_FALSE(Find(samples, base + "_count").empty()) << base;
      EXPECT_FALSE(Find(samples, base + "_sum").empty()) << base;
      break;
    }
  }
  EXPECT_TRUE(histogram) << "no zoomq_*_bucket{route=...,le=...} series:\n" << r.raw;
}

}  // namespace
}  // namespace zoomq::testing
