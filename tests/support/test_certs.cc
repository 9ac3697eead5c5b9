#include "test_certs.h"

#include <cctype>
#include <chrono>
#include <fstream>

#include "child_process.h"     // RunToCompletion
#include "zoomq/proc/files.h"  // MakeTempDir, RemoveTempDir (tools/proc)

namespace zoomq::testing {

namespace {

// What the command line calls a key: EC P-256, unencrypted.
const std::vector<std::string> kNewKey = {"-newkey", "ec", "-pkeyopt",
                                          "ec_paramgen_curve:prime256v1", "-nodes"};

// `name` as a file stem: letters, digits, '-', '_' and '.' kept, the rest '_'.
std::string FileStem(const std::string& name) {
  std::string s = name.empty() ? "cert" : name;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  }
  return s;
}

}  // namespace

TestPki::TestPki(std::string ca_name)
    : ca_name_(std::move(ca_name)), dir_(zoomq::proc::MakeTempDir(FileStem(ca_name_))) {}

TestPki::~TestPki() { zoomq::proc::RemoveTempDir(dir_); }

::testing::AssertionResult TestPki::OpenSsl(const std::vector<std::string>& args) {
  RunResult r = RunToCompletion("openssl", args, "", std::chrono::milliseconds(20000));
  if (r.exit_code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "openssl failed: " << r.description;
}

::testing::AssertionResult TestPki::Create() {
  if (dir_.empty()) return ::testing::AssertionFailure() << "mkdtemp failed";
  ca_file_ = dir_ + "/ca.pem";
  ca_key_ = dir_ + "/ca.key";
  std::vector<std::string> args = {"req", "-x509"};
  args.insert(args.end(), kNewKey.begin(), kNewKey.end());
  args.insert(args.end(), {"-keyout", ca_key_, "-out", ca_file_, "-days", "2", "-subj",
                           "/CN=" + ca_name_, "-addext", "basicConstraints=critical,CA:TRUE",
                           "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  return OpenSsl(args);
}

::testing::AssertionResult TestPki::Issue(const std::string& common_name, CertFiles* out) {
  if (ca_file_.empty()) return ::testing::AssertionFailure() << "TestPki::Create() first";
  const std::string stem = dir_ + "/" + FileStem(common_name);
  const std::string csr = stem + ".csr";
  const std::string ext = stem + ".ext";
  out->cert_file = stem + ".pem";
  out->key_file = stem + ".key";
  std::vector<std::string> request = {"req"};
  request.insert(request.end(), kNewKey.begin(), kNewKey.end());
  request.insert(request.end(),
                 {"-keyout", out->key_file, "-out", csr, "-subj", "/CN=" + common_name});
  if (auto r = OpenSsl(request); !r) return r;
  {
    std::ofstream f(ext);
    f << "basicConstraints=CA:FALSE\n"
         "keyUsage=critical,digitalSignature\n"
         "extendedKeyUsage=serverAuth,clientAuth\n"
         "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    if (!f) return ::testing::AssertionFailure() << "cannot write " << ext;
  }
  return OpenSsl({"x509", "-req", "-in", csr, "-CA", ca_file_, "-CAkey", ca_key_, "-CAcreateserial",
                  "-CAserial", dir_ + "/ca.srl", "-days", "2", "-extfile", ext, "-out",
                  out->cert_file});
}

std::vector<std::string> TlsSetup::BrokerArgs() const {
  std::vector<std::string> args = {"--tls-cert",    broker.cert_file, "--tls-key",
                                   broker.key_file, "--tls-ca",       ca_file};
  if (!client_ca_file.empty()) args.insert(args.end(), {"--tls-client-ca", client_ca_file});
  return args;
}

net::ClientCredentials TlsSetup::ClientCredentials() const {
  net::ClientCredentials c;
  c.ca_file = ca_file;
  if (!client_ca_file.empty()) {
    c.cert_file = client.cert_file;
    c.key_file = client.key_file;
  }
  return c;
}

::testing::AssertionResult MakeTlsSetup(TestPki& pki, bool mutual, TlsSetup* out) {
  *out = TlsSetup{};
  out->ca_file = pki.ca_file();
  if (auto r = pki.Issue("broker", &out->broker); !r) return r;
  if (mutual) {
    out->client_ca_file = pki.ca_file();
    if (auto r = pki.Issue("test-client", &out->client); !r) return r;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace zoomq::testing
