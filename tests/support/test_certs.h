// Certificates for TLS tests, made at run time with the `openssl` command in a temp dir: a CA
// and the certificates it signs for brokers and clients (EC P-256: fast to make). Two TestPki
// objects are two unrelated CAs, e.g. for a client certificate "from another CA".
//
// Also TlsSetup: the TLS flags a test broker starts with and the credentials the test's
// clients use with it (BrokerOptions::tls, ClusterOptions::tls).
//
// Thread-safety: a TestPki is used from one thread.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "zoomq/net/http_client.h"

namespace zoomq::testing {

struct CertFiles {
  std::string cert_file;  // PEM certificate
  std::string key_file;   // PEM private key, unencrypted
};

class TestPki {
 public:
  // `ca_name`: the CA's common name, also the temp dir's prefix.
  explicit TestPki(std::string ca_name = "zoomq-test-ca");
  ~TestPki();  // removes the dir (kept when ZOOMQ_IT_KEEP is set)
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // Makes the CA: a key and a self-signed CA certificate (valid for 2 days).
  ::testing::AssertionResult Create();
  // A certificate for `common_name` signed by this CA, for a TLS server on loopback and as a
  // client certificate alike: subjectAltName IP:127.0.0.1 and DNS:localhost, extended key
  // usage serverAuth and clientAuth. REQUIRES: Create() succeeded.
  ::testing::AssertionResult Issue(const std::string& common_name, CertFiles* out);

  const std::string& ca_file() const { return ca_file_; }
  const std::string& dir() const { return dir_; }

 private:
  // Runs `openssl args...`; its output in the failure.
  ::testing::AssertionResult OpenSsl(const std::vector<std::string>& args);

  std::string ca_name_;
  std::string dir_;
  std::string ca_file_;
  std::string ca_key_;
};

// How a test broker (or every broker of a test cluster: they share one certificate, all on
// 127.0.0.1) serves TLS, and what the test's clients present to it.
struct TlsSetup {
  CertFiles broker;            // --tls-cert, --tls-key
  std::string ca_file;         // --tls-ca, and the CA the test's clients trust
  std::string client_ca_file;  // --tls-client-ca when set (mutual TLS)
  CertFiles client;            // the test's client certificate (with client_ca_file)

  // The broker's TLS flags.
  std::vector<std::string> BrokerArgs() const;
  // For the test's clients: the CA, and the client certificate under mutual TLS.
  net::ClientCredentials ClientCredentials() const;
};

// A TlsSetup from `pki` (which must be created): a "broker" certificate, and with `mutual` a
// "test-client" certificate and the CA as --tls-client-ca.
::testing::AssertionResult MakeTlsSetup(TestPki& pki, bool mutual, TlsSetup* out);

}  // namespace zoomq::testing
