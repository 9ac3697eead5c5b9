// Base fixture: one fresh broker per test (each discovered test runs in its own process, so a
// suite-wide broker would not be shared anyway), plus small asserting helpers.

#ifndef ZOOMQ_TESTS_INTEGRATION_BROKER_TEST_H_
#define ZOOMQ_TESTS_INTEGRATION_BROKER_TEST_H_

#include <memory>
#include <string>
#include <vector>

#include "broker_process.h"

namespace zoomq::testing {

class BrokerTest : public ::testing::Test {
 protected:
  // Override to start the broker with other flags.
  virtual BrokerOptions Options() { return {}; }

  void SetUp() override {
    broker_ = std::make_unique<BrokerProcess>(Options());
    ASSERT_TRUE(broker_->Start());
    http_ = std::make_unique<Http>(*broker_);
  }

  void TearDown() override {
    http_.reset();
    broker_.reset();
  }

  Http& http() { return *http_; }
  BrokerProcess& broker() { return *broker_; }

  // Creates a topic and expects 201.
  void CreateTopicOrFail(const std::string& name, Json extra = Json::object()) {
    auto r = CreateTopic(http(), name, std::move(extra));
    ASSERT_TRUE(IsStatus(r, 201)) << "creating topic " << name;
  }

  // Produces and expects 200 with one result per message; returns the results.
  Json ProduceOk(const std::string& topic, const Json& messages) {
    auto r = Produce(http(), topic, messages);
    EXPECT_TRUE(IsStatus(r, 200)) << "producing to " << topic;
    if (r.status != 200 || !r.body.contains("results") || !r.body["results"].is_array()) {
      ADD_FAILURE() << "no results: " << r.Describe();
      return Json::array();
    }
    EXPECT_EQ(r.body["results"].size(), messages.size()) << r.Describe();
    return r.body["results"];
  }

  // Pull that must answer 200 with a "messages" array; returns the array.
  Json PullOk(const std::string& topic, const std::string& group, const std::string& consumer,
              int max, int wait_ms, int visibility_ms = 0) {
    auto r = Pull(http(), topic, group, consumer, max, wait_ms, visibility_ms);
    EXPECT_TRUE(IsStatus(r, 200)) << "pull " << topic << "/" << group;
    if (r.status != 200 || !r.body.contains("messages") || !r.body["messages"].is_array()) {
      ADD_FAILURE() << "no messages array: " << r.Describe();
      return Json::array();
    }
    return r.body["messages"];
  }

  // ack/nack/extend that must answer 200; returns the body.
  Json VerbOk(const std::string& topic, const std::string& group, const std::string& verb,
              const std::vector<std::string>& ids, Json extra = Json::object()) {
    auto r = GroupVerb(http(), topic, group, verb, ids, std::move(extra));
    EXPECT_TRUE(IsStatus(r, 200)) << verb << " " << topic << "/" << group;
    return r.body;
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<Http> http_;
};

}  // namespace zoomq::testing

#endif  // ZOOMQ_TESTS_INTEGRATION_BROKER_TEST_H_
