// zoomqctl and the demo's programs against a broker serving HTTPS with mutual TLS (issue 12):
// --cacert and --client-cert/--client-key, or their environment twins, reach it; without
// them the tools fail with the retriable exit code and say why.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker_process.h"
#include "child_process.h"
#include "demo_output.h"
#include "test_certs.h"

namespace zoomq::testing {
namespace {

class CliTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.Create());
    ASSERT_TRUE(MakeTlsSetup(pki_, /*mutual=*/true, &tls_));
    BrokerOptions options;
    options.tls = tls_;
    broker_ = std::make_unique<BrokerProcess>(options);
    ASSERT_TRUE(broker_->Start());
  }

  // zoomqctl --brokers <https url> --timeout-ms 3000 args..., with `env` ("NAME=value").
  RunResult Ctl(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
    args.insert(args.begin(), {"--brokers", broker_->url(), "--timeout-ms", "3000"});
    return RunToCompletion(ZOOMQCTL_BIN, args, "", milliseconds(20000), env);
  }
  std::vector<std::string> CertFlags() const {
    return {"--cacert",     tls_.ca_file,        "--client-cert", tls_.client.cert_file,
            "--client-key", tls_.client.key_file};
  }

  TestPki pki_;
  TlsSetup tls_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(CliTlsTest, ZoomqctlReachesTheBrokerWithFlagsOrEnvironment) {
  const std::string topic = UniqueName("t");
  std::vector<std::string> create = CertFlags();
  create.insert(create.end(), {"topic", "create", topic});
  RunResult r = Ctl(create);
  ASSERT_EQ(r.exit_code, 0) << r.description;

  r = Ctl({"topic", "describe", topic},
          {"ZOOMQ_CACERT=" + tls_.ca_file, "ZOOMQ_CLIENT_CERT=" + tls_.client.cert_file,
           "ZOOMQ_CLIENT_KEY=" + tls_.client.key_file});
  EXPECT_EQ(r.exit_code, 0) << r.description;
  EXPECT_NE(r.out.find(topic), std::string::npos) << r.description;
}

TEST_F(CliTlsTest, ZoomqctlWithoutTheRightFilesFailsRetriablyAndSaysWhy) {
  // No CA file: the system's CAs do not know the test CA.
  RunResult r = Ctl({"--client-cert", tls_.client.cert_file, "--client-key", tls_.client.key_file,
                     "topic", "list"});
  EXPECT_EQ(r.exit_code, 3) << r.description;
  EXPECT_NE(r.err.find("TLS certificate was not accepted"), std::string::npos) << r.description;
  // No client certificate: the broker ends the handshake.
  r = Ctl({"--cacert", tls_.ca_file, "topic", "list"});
  EXPECT_EQ(r.exit_code, 3) << r.description;
  EXPECT_NE(r.err.find("refuses a client certificate"), std::string::npos) << r.description;
  // A certificate without its key is a usage error.
  r = Ctl({"--cacert", tls_.ca_file, "--client-cert", tls_.client.cert_file, "topic", "list"});
  EXPECT_EQ(r.exit_code, 1) << r.description;
  EXPECT_NE(r.err.find("--client-key"), std::string::npos) << r.description;
  r = Ctl({"--cacert", pki_.dir() + "/missing.pem", "topic", "list"});
  EXPECT_EQ(r.exit_code, 1) << r.description;
}

TEST_F(CliTlsTest, SensorPublishesOverHttps) {
  std::vector<std::string> args = {"temperature", "7",         "0.01",        "--count",
                                   "5",           "--brokers", broker_->url()};
  const std::vector<std::string> flags = CertFlags();
  args.insert(args.end(), flags.begin(), flags.end());
  RunResult r = RunToCompletion(ZOOMQ_SENSOR_BIN, args, "", milliseconds(20000));
  ASSERT_EQ(r.exit_code, 0) << r.description;
  EXPECT_EQ(PersistedSequences(r.out, "temperature_7").size(), 5u) << r.description;
}

}  // namespace
}  // namespace zoomq::testing
