#include "zoomq/bench/options.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include "zoomq/bench/redis_runner.h"

namespace zoomq::bench {
namespace {

TEST(OptionsTest, ParsesEndpoints) {
  std::string error;
  auto e = ParseEndpoint("http://127.0.0.1:9101/", &error);
  ASSERT_TRUE(e.has_value()) << error;
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 9101);
  EXPECT_EQ(e->ToString(), "http://127.0.0.1:9101");
  auto tls = ParseEndpoint("https://127.0.0.1:9443", &error);
  ASSERT_TRUE(tls.has_value()) << error;
  EXPECT_TRUE(tls->tls);
  EXPECT_EQ(tls->ToString(), "https://127.0.0.1:9443");
  EXPECT_FALSE(ParseEndpoint("ftp://127.0.0.1:1", &error));
  EXPECT_FALSE(ParseEndpoint("https://127.0.0.1", &error));
  EXPECT_FALSE(ParseEndpoint("http://127.0.0.1", &error));
  EXPECT_FALSE(ParseEndpoint("http://127.0.0.1:0", &error));
  EXPECT_FALSE(ParseEndpoint("http://127.0.0.1:99999", &error));
  EXPECT_FALSE(ParseEndpoint("http://127.0.0.1:80x", &error));
}

TEST(OptionsTest, FlagsAndDefaults) {
  BenchOptions o;
  CLI::App app;
  AddFlags(app, &o);
  const char* argv[] = {"bench",
                        "--url",
                        "http://127.0.0.1:1,http://127.0.0.1:2",
                        "--url",
                        "http://127.0.0.1:3",
                        "--mode",
                        "rate",
                        "--batch",
                        "50"};
  app.parse(static_cast<int>(std::size(argv)), const_cast<char**>(argv));
  EXPECT_EQ(Finalize(&o), "");
  EXPECT_EQ(o.endpoints.size(), 3u);
  EXPECT_EQ(o.mode, Mode::kRate);
  EXPECT_EQ(o.batch, 1);  // rate mode sends one message per request
  EXPECT_FALSE(o.topic_given);
  EXPECT_EQ(o.topic.rfind("bench-", 0), 0u);
  EXPECT_EQ(o.partitions, 4);
  EXPECT_EQ(o.pull_max, 500);
}

TEST(OptionsTest, ConsumeNeedsTopic) {
  BenchOptions o;
  o.mode = Mode::kConsume;
  EXPECT_NE(Finalize(&o), "");
  o.topic = "t1";
  EXPECT_EQ(Finalize(&o), "");
  EXPECT_TRUE(o.topic_given);
}

// --client redis takes one redis://HOST:PORT (and refuses it plainly when built without
// hiredis).
TEST(OptionsTest, RedisUrl) {
  BenchOptions o;
  o.redis = true;
  o.urls = {"redis://127.0.0.1:16379"};
  if (!RedisDriverBuilt()) {
    EXPECT_NE(Finalize(&o).find("built without"), std::string::npos);
    return;
  }
  ASSERT_EQ(Finalize(&o), "");
  EXPECT_EQ(o.redis_host, "127.0.0.1");
  EXPECT_EQ(o.redis_port, 16379);
  EXPECT_TRUE(o.endpoints.empty());
  for (const char* bad : {"http://127.0.0.1:1", "redis://127.0.0.1", "redis://:1",
                          "redis://127.0.0.1:0", "redis://127.0.0.1:65536", "redis://h:1x"}) {
    BenchOptions b;
    b.redis = true;
    b.urls = {bad};
    EXPECT_NE(Finalize(&b), "") << bad;
  }
  BenchOptions two;
  two.redis = true;
  two.urls = {"redis://127.0.0.1:1", "redis://127.0.0.1:2"};
  EXPECT_NE(Finalize(&two), "");
  BenchOptions rate;
  rate.redis = true;
  rate.mode = Mode::kRate;
  rate.urls = {"redis://127.0.0.1:1"};
  EXPECT_NE(Finalize(&rate), "");
}

}  // namespace
}  // namespace zoomq::bench
