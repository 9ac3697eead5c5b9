// The IoT demo end to end: one zoomq-sensor and two zoomq-controllers (one group) against a
// real standalone broker. Every persisted reading is handled by exactly one controller, and
// all three programs stop with exit code 0 on SIGINT.
#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "broker_process.h"
#include "child_process.h"
#include "demo_output.h"

namespace zoomq::testing {
namespace {

TEST(DemoTest, TwoControllersShareOneSensorsReadingsExactlyOnce) {
  BrokerProcess broker;
  ASSERT_TRUE(broker.Start());
  const std::string dir = MakeTempDir("zoomq-demo");
  const std::string id = "9";
  const std::string topic = "temperature_" + id;

  ChildProcess a(dir + "/a"), b(dir + "/b"), sensor(dir + "/sensor");
  // Controllers first: they wait for the topic that the sensor creates.
  ASSERT_TRUE(a.Start(ZOOMQ_CONTROLLER_BIN,
                      {topic, "--name", "ca", "--brokers", broker.url()}));
  ASSERT_TRUE(b.Start(ZOOMQ_CONTROLLER_BIN,
                      {topic, "--name", "cb", "--brokers", broker.url()}));
  ASSERT_TRUE(sensor.Start(ZOOMQ_SENSOR_BIN, {"temperature", id, "0.02", "--brokers",
                                              broker.url()}));
  auto all_handled = [&] {
    std::multiset<int64_t> all = HandledSequences(a.Stdout(), topic);
    for (int64_t s : HandledSequences(b.Stdout(), topic)) all.insert(s);
    return all;
  };
  // Both members take part: once both are consuming, their long polls alternate.
  ASSERT_TRUE(WaitFor(
      [&] {
        return all_handled().size() >= 40 && !HandledSequences(a.Stdout(), topic).empty() &&
               !HandledSequences(b.Stdout(), topic).empty();
      },
      milliseconds(20000)))
      << sensor.Describe() << "\n" << a.Describe() << "\n" << b.Describe();

  sensor.Signal(SIGINT);
  ASSERT_EQ(sensor.Wait(milliseconds(10000)), std::optional<int>(0)) << sensor.Describe();
  const std::multiset<int64_t> sent = PersistedSequences(sensor.Stdout(), topic);
  ASSERT_GE(sent.size(), 40u) << sensor.Describe();
  // Everything persisted reaches the controllers.
  ASSERT_TRUE(WaitFor(
      [&] {
        std::multiset<int64_t> got = all_handled();
        return std::set<int64_t>(got.begin(), got.end()) ==
               std::set<int64_t>(sent.begin(), sent.end());
      },
      milliseconds(15000)))
      << a.Describe() << "\n" << b.Describe();

  a.Signal(SIGINT);
  b.Signal(SIGINT);
  EXPECT_EQ(a.Wait(milliseconds(10000)), std::optional<int>(0)) << a.Describe();
  EXPECT_EQ(b.Wait(milliseconds(10000)), std::optional<int>(0)) << b.Describe();

  // Sequences 1..n, each persisted once and handled once, by one of the two.
  const std::multiset<int64_t> got = all_handled();
  EXPECT_EQ(got.size(), sent.size());
  for (int64_t s = 1; s <= static_cast<int64_t>(sent.size()); ++s) {
    EXPECT_EQ(sent.count(s), 1u) << "sequence " << s;
    EXPECT_EQ(got.count(s), 1u) << "sequence " << s;
  }
  EXPECT_NE(a.Stdout().find("ca stopped:"), std::string::npos) << a.Describe();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace zoomq::testing
