// The broker's TLS listener (broker/http/tls_listener.h) and the client certificate subject
// (broker/http/tls_identity.h) in process, over real TLS connections on loopback: a handler
// that reports ClientCertificateSubject and counts its calls, so a refused client is seen not
// to reach it. Certificates are made by the openssl command for each test.

#include "broker/http/tls_listener.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "broker/http/tls_identity.h"
#include "broker_process.h"  // Http, WaitFor
#include "test_certs.h"

namespace zoomq::testing {
namespace {

using broker::http::CertificateTimeWarning;
using broker::http::ClientCertificateSubject;
using broker::http::MakeListener;
using broker::http::TlsServerFiles;

// A self-signed certificate valid from `from_days` to `to_days` from now, written to `path`
// (the openssl command of Debian 12 makes no certificate valid in the past only).
bool WriteCertificate(const std::string& path, long from_days, long to_days) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return false;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), to_days * 86400);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("dated"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return false;
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const bool ok = PEM_write_X509(f, cert.get()) == 1;
  std::fclose(f);
  return ok;
}

// A listener made by MakeListener, serving GET /whoami on a free loopback port: the subject's
// CN, or "-" when ClientCertificateSubject has none.
class WhoAmIServer {
 public:
  ::testing::AssertionResult Start(const TlsServerFiles& files) {
    auto made = MakeListener(files);
    if (!made.ok()) return ::testing::AssertionFailure() << made.status().message();
    server_ = std::move(made).value();
    server_->Get("/whoami", [this](const httplib::Request& req, httplib::Response& res) {
      calls_.fetch_add(1);
      res.set_content(ClientCertificateSubject(req).value_or("-"), "text/plain");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) return ::testing::AssertionFailure() << "cannot bind";
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    if (!WaitFor([this] { return server_->is_running(); }, milliseconds(5000))) {
      return ::testing::AssertionFailure() << "not running";
    }
    return ::testing::AssertionSuccess();
  }
  ~WhoAmIServer() {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  // GET /whoami over a new connection to `scheme`://127.0.0.1:port.
  HttpResponse Ask(const net::ClientCredentials& credentials, const std::string& scheme = "https") {
    Http http(scheme + "://127.0.0.1:" + std::to_string(port_), credentials, milliseconds(5000));
    return http.Get("/whoami");
  }
  int calls() const { return calls_.load(); }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> calls_{0};
};

class TlsListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki_.Create());
    ASSERT_TRUE(pki_.Issue("broker-1", &server_));
    ASSERT_TRUE(pki_.Issue("alice", &alice_));
  }

  TlsServerFiles Files(bool mutual) const {
    return {server_.cert_file, server_.key_file, mutual ? pki_.ca_file() : ""};
  }
  net::ClientCredentials As(const CertFiles& cert) const {
    return {"", pki_.ca_file(), cert.cert_file, cert.key_file};
  }

  TestPki pki_;
  CertFiles server_, alice_;
};

TEST_F(TlsListenerTest, SubjectIsTheCommonNameOfTheVerifiedClientCertificate) {
  WhoAmIServer server;
  ASSERT_TRUE(server.Start(Files(/*mutual=*/true)));
  auto r = server.Ask(As(alice_));
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.raw, "alice");
  // Another certificate of the same CA, another name.
  CertFiles bob;
  ASSERT_TRUE(pki_.Issue("bob", &bob));
  EXPECT_EQ(server.Ask(As(bob)).raw, "bob");
}

TEST_F(TlsListenerTest, ClientCertificateFromAnotherCaReachesNoHandler) {
  WhoAmIServer server;
  ASSERT_TRUE(server.Start(Files(/*mutual=*/true)));
  TestPki other("zoomq-other-ca");
  ASSERT_TRUE(other.Create());
  CertFiles mallory;
  ASSERT_TRUE(other.Issue("alice", &mallory));  // the same name, from the wrong CA
  auto r = server.Ask(As(mallory));
  EXPECT_EQ(r.status, 0) << r.Describe();
  r = server.Ask({"", pki_.ca_file(), "", ""});  // no certificate at all
  EXPECT_EQ(r.status, 0) << r.Describe();
  r = server.Ask({}, "http");  // not even TLS
  EXPECT_EQ(r.status, 0) << r.Describe();
  EXPECT_EQ(server.calls(), 0);
  EXPECT_EQ(server.Ask(As(alice_)).raw, "alice");
  EXPECT_EQ(server.calls(), 1);
}

TEST_F(TlsListenerTest, NoSubjectWhenTheListenerAsksForNoCertificate) {
  WhoAmIServer server;
  ASSERT_TRUE(server.Start(Files(/*mutual=*/false)));
  auto r = server.Ask(As(alice_));  // offered, never asked for
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.raw, "-");
}

TEST_F(TlsListenerTest, NoSubjectOnAPlainListener) {
  WhoAmIServer server;
  ASSERT_TRUE(server.Start(TlsServerFiles{}));
  auto r = server.Ask({}, "http");
  ASSERT_TRUE(IsStatus(r, 200));
  EXPECT_EQ(r.raw, "-");
}

TEST_F(TlsListenerTest, MakeListenerNamesTheFileAtFault) {
  CertFiles other;
  ASSERT_TRUE(pki_.Issue("other", &other));
  const std::string missing = pki_.dir() + "/missing.pem";
  const std::string empty = pki_.dir() + "/empty.pem";
  std::ofstream(empty).flush();
  auto error = [](const TlsServerFiles& files) {
    auto made = MakeListener(files);
    return made.ok() ? std::string("(made)") : made.status().message();
  };
  EXPECT_EQ(error({missing, server_.key_file, ""}),
            "cannot read --tls-cert '" + missing + "': No such file or directory");
  EXPECT_EQ(error({server_.cert_file, missing, ""}),
            "cannot read --tls-key '" + missing + "': No such file or directory");
  EXPECT_NE(error({empty, server_.key_file, ""})
                .find("--tls-cert '" + empty + "' holds no usable PEM certificate"),
            std::string::npos);
  EXPECT_NE(error({server_.cert_file, other.key_file, ""}).find("--tls-key '" + other.key_file),
            std::string::npos);
  EXPECT_NE(error({server_.cert_file, server_.key_file, server_.key_file})
                .find("--tls-client-ca '" + server_.key_file + "' holds no PEM CA certificate"),
            std::string::npos);
  EXPECT_NE(error({server_.cert_file, "", ""}).find("both --tls-cert and --tls-key"),
            std::string::npos);
  EXPECT_NE(error({"", "", pki_.ca_file()}).find("both --tls-cert and --tls-key"),
            std::string::npos);
  EXPECT_EQ(error({server_.cert_file, server_.key_file, pki_.ca_file()}), "(made)");
}

TEST_F(TlsListenerTest, CertificateTimeWarningNamesAnExpiredOrFutureCertificate) {
  EXPECT_EQ(CertificateTimeWarning(server_.cert_file), "");
  const std::string expired = pki_.dir() + "/expired.pem";
  const std::string future = pki_.dir() + "/future.pem";
  ASSERT_TRUE(WriteCertificate(expired, -3, -1));
  ASSERT_TRUE(WriteCertificate(future, 1, 3));
  EXPECT_EQ(CertificateTimeWarning(expired),
            "--tls-cert '" + expired + "' has expired: clients and other brokers will refuse it");
  EXPECT_EQ(CertificateTimeWarning(future), "--tls-cert '" + future +
                                                "' is not valid yet: clients and other brokers "
                                                "will refuse it");
}

}  // namespace
}  // namespace zoomq::testing
