// TLS with real broker processes on loopback (docs/security.md, "TLS"; issue 12 items 3 and 8)
// and certificates made by the openssl command for each test: the SDK over HTTPS; clients
// that must be refused cleanly (plain HTTP on the TLS port, a client that does not trust the
// broker's CA, a client certificate from another CA) while the broker keeps serving; and a
// broker that will not start with TLS files it cannot serve.

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "broker_process.h"
#include "child_process.h"  // RunToCompletion
#include "test_certs.h"
#include "zoomq/client.h"
#include "zoomq/proc/broker_child.h"  // BrokerBinary
#include "zoomq/proc/files.h"

namespace zoomq::testing {
namespace {

// GET /v1/health through a fresh connection (a fresh TLS handshake) with `credentials`.
HttpResponse FreshHealth(const std::string& url, const net::ClientCredentials& credentials) {
  Http http(url, credentials, milliseconds(5000));
  return http.Get("/v1/health");
}

// The /v1/health requests a broker's handlers ran, from its /metrics (every status summed).
int64_t HealthRequestsServed(Http& http) {
  auto r = http.Get("/metrics");
  if (r.status != 200) return -1;
  int64_t total = 0;
  std::istringstream lines(r.raw);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("zoomq_requests_total{", 0) != 0) continue;
    if (line.find("route=\"health\"") == std::string::npos) continue;
    total += static_cast<int64_t>(std::stod(line.substr(line.rfind(' ') + 1)));
  }
  return total;
}

class TlsBrokerTest : public ::testing::Test {
 protected:
  // A CA for this test, and a broker serving HTTPS with a certificate it signed; with
  // `mutual`, the broker asks for client certificates from the same CA.
  void StartBroker(bool mutual, std::vector<std::string> extra_args = {}) {
    ASSERT_TRUE(pki_.Create());
    ASSERT_TRUE(MakeTlsSetup(pki_, mutual, &tls_));
    BrokerOptions options;
    options.tls = tls_;
    options.extra_args = std::move(extra_args);
    broker_ = std::make_unique<BrokerProcess>(options);
    ASSERT_TRUE(broker_->Start());
    ASSERT_EQ(broker_->url().rfind("https://", 0), 0u) << broker_->url();
  }

  // The broker answers a client with the right credentials over a new connection.
  void ExpectStillServing() {
    ASSERT_TRUE(broker_->Running());
    auto r = FreshHealth(broker_->url(), tls_.ClientCredentials());
    EXPECT_TRUE(IsStatus(r, 200));
  }

  TestPki pki_{"zoomq-test-ca"};
  TlsSetup tls_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(TlsBrokerTest, SdkProducesAndConsumesOverHttpsWithTheCaFile) {
  ASSERT_NO_FATAL_FAILURE(StartBroker(/*mutual=*/false));
  Http http(*broker_);
  auto health = http.Get("/v1/health");
  ASSERT_TRUE(IsStatus(health, 200));
  EXPECT_EQ(health.body.value("url", ""), broker_->url()) << "the advertised URL is https://";
  const std::string topic = UniqueName("tls");
  ASSERT_TRUE(IsStatus(CreateTopic(http, topic, {{"partitions", 2}}), 201));

  ClientOptions client;
  client.brokers = {broker_->url()};
  client.security.ca_file = tls_.ca_file;
  client.request_timeout = milliseconds(5000);
  constexpr int kMessages = 200;
  {
    ProducerOptions po;
    po.client = client;
    Producer producer(po);
    std::atomic<int> persisted{0};
    for (int i = 0; i < kMessages; ++i) {
      ASSERT_TRUE(producer
                      .Send(OutgoingMessage::Json(topic, "{\"n\":" + std::to_string(i) + "}",
                                                  "k" + std::to_string(i % 7)),
                            [&](const DeliveryReport& r) {
                              EXPECT_TRUE(r.status.ok()) << r.status.ToString();
                              if (r.status.ok()) persisted.fetch_add(1);
                            })
                      .ok());
    }
    ASSERT_TRUE(producer.Flush(milliseconds(20000)).ok());
    EXPECT_EQ(persisted.load(), kMessages);
  }

  ConsumerOptions co;
  co.client = client;
  co.topic = topic;
  co.group = "tls-group";
  Consumer consumer(co);
  std::set<std::string> values;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto batch = consumer.Poll(100, milliseconds(1000));
        if (!batch.ok()) {
          ADD_FAILURE() << batch.status().ToString();
          return true;
        }
        std::vector<std::string> handles;
        for (const ReceivedMessage& m : *batch) {
          values.insert(m.value);
          handles.push_back(m.handle);
        }
        if (!handles.empty()) {
          EXPECT_TRUE(consumer.Ack(handles).ok());
        }
        return values.size() >= static_cast<size_t>(kMessages);
      },
      milliseconds(20000), milliseconds(1)));
  EXPECT_EQ(values.size(), static_cast<size_t>(kMessages));
}

// A client speaking plain HTTP to the TLS port gets no answer at once (its request is no TLS
// handshake), and a stream of such failed handshakes neither holds the broker's threads (8
// here) nor spoils later handshakes.
TEST_F(TlsBrokerTest, PlainHttpClientOnTheTlsPortIsRefusedAtOnceAndTheBrokerKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(StartBroker(/*mutual=*/false, {"--http-threads", "8"}));
  const std::string plain_url = "http://127.0.0.1:" + std::to_string(broker_->port());
  for (int i = 0; i < 40; ++i) {
    const auto start = Clock::now();
    auto r = FreshHealth(plain_url, {});
    ASSERT_EQ(r.status, 0) << "a plain request was answered: " << r.Describe();
    EXPECT_LT(MillisSince(start), 2000) << "refusing took long: " << r.Describe();
  }
  for (int i = 0; i < 20; ++i) ASSERT_NO_FATAL_FAILURE(ExpectStillServing());
}

TEST_F(TlsBrokerTest, ClientThatDoesNotTrustTheBrokersCaFailsVerification) {
  ASSERT_NO_FATAL_FAILURE(StartBroker(/*mutual=*/false));
  TestPki other("zoomq-other-ca");
  ASSERT_TRUE(other.Create());
  net::ClientCredentials wrong_ca;
  wrong_ca.ca_file = other.ca_file();
  auto r = FreshHealth(broker_->url(), wrong_ca);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, httplib::Error::SSLServerVerification) << r.Describe();
  // Without a CA file the system's CAs are trusted: they do not know the test CA either.
  r = FreshHealth(broker_->url(), {});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.error, httplib::Error::SSLServerVerification) << r.Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectStillServing());
}

// Mutual TLS: only a certificate from --tls-client-ca's CA gets a request to a handler.
TEST_F(TlsBrokerTest, ClientCertificateFromAnotherCaIsRefusedBeforeAnyHandlerRuns) {
  ASSERT_NO_FATAL_FAILURE(StartBroker(/*mutual=*/true));
  Http http(*broker_);
  ASSERT_TRUE(IsStatus(http.Get("/v1/health"), 200));
  const int64_t served = HealthRequestsServed(http);
  ASSERT_GE(served, 1);

  TestPki other("zoomq-other-ca");
  ASSERT_TRUE(other.Create());
  CertFiles mallory;
  ASSERT_TRUE(other.Issue("mallory", &mallory));
  net::ClientCredentials foreign = tls_.ClientCredentials();
  foreign.cert_file = mallory.cert_file;
  foreign.key_file = mallory.key_file;
  net::ClientCredentials none = tls_.ClientCredentials();
  none.cert_file.clear();
  none.key_file.clear();
  for (const auto& [name, credentials] : std::map<std::string, net::ClientCredentials>{
           {"another CA's certificate", foreign}, {"no certificate", none}}) {
    const auto start = Clock::now();
    auto r = FreshHealth(broker_->url(), credentials);
    EXPECT_EQ(r.status, 0) << name << " was answered: " << r.Describe();
    EXPECT_LT(MillisSince(start), 2000) << name << ": refusing took long";
  }
  EXPECT_EQ(HealthRequestsServed(http), served) << "a refused client reached a handler";
  ASSERT_NO_FATAL_FAILURE(ExpectStillServing());
}

// Mutual TLS with security on (docs/security.md): a verified client certificate is a
// principal when no token is given, and the rules decide what it may do.
TEST_F(TlsBrokerTest, AClientCertificatesCommonNameIsAPrincipalUnderTheRules) {
  const std::string dir = zoomq::proc::MakeTempDir("zoomq-tls-admin");
  const std::string admin = "zq_" + std::string(64, 'e');
  std::ofstream(dir + "/admin.token") << admin << "\n";
  ::chmod((dir + "/admin.token").c_str(), 0600);
  ASSERT_NO_FATAL_FAILURE(
      StartBroker(/*mutual=*/true, {"--admin-token-file", dir + "/admin.token"}));
  // The test's certificate ("test-client") without a token.
  Http cert(broker_->url(), tls_.ClientCredentials(), milliseconds(5000));
  auto me = cert.Get("/v1/security/whoami");
  ASSERT_TRUE(IsStatus(me, 200));
  EXPECT_EQ(me.body["principal"], "test-client");
  EXPECT_EQ(me.body["superuser"], false);
  net::ClientCredentials as_admin = tls_.ClientCredentials();
  as_admin.token = admin;  // a token wins over the certificate
  Http admin_http(broker_->url(), as_admin, milliseconds(5000));
  ASSERT_TRUE(IsStatus(CreateTopic(admin_http, "orders"), 201));
  auto refused = Produce(cert, "orders", Json::array({{{"value", 1}}}));
  EXPECT_TRUE(IsStatus(refused, 403));
  EXPECT_NE(refused.error_message().find("principal 'test-client'"), std::string::npos);
  ASSERT_TRUE(IsStatus(admin_http.Post("/v1/security/acls", {{"principal", "test-client"},
                                                             {"resource", "topic"},
                                                             {"name", "orders"},
                                                             {"operation", "produce"}}),
                       201));
  EXPECT_TRUE(IsStatus(Produce(cert, "orders", Json::array({{{"value", 1}}})), 200));
  zoomq::proc::RemoveTempDir(dir);
}

// ---- Start-up checks: one line on stderr, exit code 2, the data dir untouched ----

struct BadStart {
  std::string name;
  std::vector<std::string> args;
  std::string says;  // what the message must contain
};

TEST(TlsBrokerStartTest, RefusesToStartWithTlsFilesItCannotServe) {
  TestPki pki;
  ASSERT_TRUE(pki.Create());
  CertFiles broker, other;
  ASSERT_TRUE(pki.Issue("broker", &broker));
  ASSERT_TRUE(pki.Issue("other", &other));
  const std::string missing = pki.dir() + "/missing.pem";
  const std::vector<BadStart> cases = {
      {"missing certificate",
       {"--tls-cert", missing, "--tls-key", broker.key_file},
       "cannot read --tls-cert '" + missing + "': No such file"},
      {"certificate without key",
       {"--tls-cert", broker.cert_file},
       "both --tls-cert and --tls-key"},
      {"a key file as certificate",
       {"--tls-cert", broker.key_file, "--tls-key", broker.key_file},
       "--tls-cert '" + broker.key_file + "' holds no usable PEM certificate"},
      {"another certificate's key",
       {"--tls-cert", broker.cert_file, "--tls-key", other.key_file},
       "--tls-key '" + other.key_file + "'"},
      {"client CA without certificates",
       {"--tls-cert", broker.cert_file, "--tls-key", broker.key_file, "--tls-client-ca",
        broker.key_file},
       "--tls-client-ca '" + broker.key_file + "' holds no PEM CA certificate"},
      {"peer CA missing",
       {"--tls-cert", broker.cert_file, "--tls-key", broker.key_file, "--tls-ca", missing},
       "cannot read --tls-ca '" + missing + "': No such file"},
      {"peer CA without certificates",
       {"--tls-cert", broker.cert_file, "--tls-key", broker.key_file, "--tls-ca", broker.key_file},
       "--tls-ca '" + broker.key_file + "' holds no PEM CA certificate"},
      {"TLS with an http:// advertised URL",
       {"--tls-cert", broker.cert_file, "--tls-key", broker.key_file, "--advertise-url",
        "http://127.0.0.1:1"},
       "must be https://"},
      {"plain with an https:// advertised URL",
       {"--advertise-url", "https://127.0.0.1:1"},
       "is https:// but the listener serves plain HTTP"},
  };
  for (const BadStart& c : cases) {
    const std::string data = pki.dir() + "/data-" + std::to_string(&c - cases.data());
    std::vector<std::string> args = {"--id", "1", "--listen", "127.0.0.1:0", "--data-dir", data};
    args.insert(args.end(), c.args.begin(), c.args.end());
    RunResult r = RunToCompletion(zoomq::proc::BrokerBinary(), args);
    EXPECT_EQ(r.exit_code, 2) << c.name << ": " << r.description;
    EXPECT_NE(r.err.find(c.says), std::string::npos)
        << c.name << ": stderr lacks \"" << c.says << "\": " << r.description;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(data + "/zoomq.db") ||
                 (std::filesystem::exists(data) && !std::filesystem::is_empty(data)))
        << c.name << ": the data dir was touched";
  }
}

}  // namespace
}  // namespace zoomq::testing
