#include "broker/http/tls_listener.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace zoomq::broker::http {

namespace {

// The reason OpenSSL gave for the last failure on this thread ("" if none), and an empty error
// queue afterwards: a stale entry would make a later SSL_get_error on this thread misreport.
std::string TakeOpenSslError() {
  std::string reason;
  while (unsigned long e = ERR_get_error()) {
    const char* r = ERR_reason_error_string(e);
    reason = r != nullptr ? r : "error " + std::to_string(e);
  }
  return reason;
}

// "" when `path` can be opened for reading, else why not (OpenSSL's own messages for a missing
// file are cryptic: "system lib").
std::string Unreadable(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return std::strerror(errno);
  std::fclose(f);
  return "";
}

// A file the listener needs, as errors name it: "--tls-cert '/etc/zoomq/broker.pem'".
std::string Named(const char* flag, const std::string& path) {
  return std::string(flag) + " '" + path + "'";
}

// Fills a fresh server context from `files`; "" or what is wrong.
std::string Configure(SSL_CTX& ctx, const TlsServerFiles& files) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // An encrypted key fails here instead of OpenSSL asking for its password on the terminal.
  SSL_CTX_set_default_passwd_cb(&ctx, [](char*, int, int, void*) { return 0; });

  const std::string cert = Named("--tls-cert", files.cert_file);
  const std::string key = Named("--tls-key", files.key_file);
  if (std::string e = Unreadable(files.cert_file); !e.empty()) {
    return "cannot read " + cert + ": " + e;
  }
  if (std::string e = Unreadable(files.key_file); !e.empty()) {
    return "cannot read " + key + ": " + e;
  }
  if (SSL_CTX_use_certificate_chain_file(&ctx, files.cert_file.c_str()) != 1) {
    return cert + " holds no usable PEM certificate (" + TakeOpenSslError() + ")";
  }
  if (SSL_CTX_use_PrivateKey_file(&ctx, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return key + " is not an unencrypted PEM private key matching " + cert + " (" +
           TakeOpenSslError() + ")";
  }
  if (SSL_CTX_check_private_key(&ctx) != 1) {
    return key + " is not the private key of " + cert + " (" + TakeOpenSslError() + ")";
  }
  if (!files.client_ca_file.empty()) {
    const char* flag = "--tls-client-ca";
    if (std::string e = CheckCaFile(flag, files.client_ca_file); !e.empty()) return e;
    if (SSL_CTX_load_verify_locations(&ctx, files.client_ca_file.c_str(), nullptr) != 1) {
      return Named(flag, files.client_ca_file) + ": " + TakeOpenSslError();
    }
    // The CA names offered in the handshake let a client holding several certificates pick
    // the right one (curl, browsers).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(&ctx, names);  // takes ownership
    }
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  TakeOpenSslError();
  return "";
}

}  // namespace

std::string CheckCaFile(const char* flag, const std::string& path) {
  const std::string named = Named(flag, path);
  if (std::string e = Unreadable(path); !e.empty()) return "cannot read " + named + ": " + e;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  const bool ok = store && X509_STORE_load_file(store.get(), path.c_str()) == 1;
  const std::string reason = TakeOpenSslError();
  if (ok) return "";
  return named + " holds no PEM CA certificate (" + reason + ")";
}

std::string CertificateTimeWarning(const std::string& cert_file) {
  std::FILE* f = std::fopen(cert_file.c_str(), "r");
  if (f == nullptr) return "";
  std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_X509(f, nullptr, nullptr, nullptr),
                                                   X509_free);
  std::fclose(f);
  TakeOpenSslError();
  if (!cert) return "";
  const std::string named = Named("--tls-cert", cert_file);
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return named + " has expired: clients and other brokers will refuse it";
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
    return named + " is not valid yet: clients and other brokers will refuse it";
  }
  return "";
}

Result<std::unique_ptr<httplib::Server>> MakeListener(const TlsServerFiles& files) {
  if (!files.enabled()) {
    return std::unique_ptr<httplib::Server>(std::make_unique<httplib::Server>());
  }
  if (files.cert_file.empty() || files.key_file.empty()) {
    return Status::Invalid(
        "TLS needs both --tls-cert and --tls-key (--tls-client-ca goes with them)");
  }
  std::string error;
  auto server = std::make_unique<httplib::SSLServer>(
      [&](SSL_CTX& ctx) { return (error = Configure(ctx, files)).empty(); });
  if (!server->is_valid()) {
    return Status::Invalid(error.empty() ? "cannot make a TLS context: " + TakeOpenSslError()
                                         : error);
  }
  return std::unique_ptr<httplib::Server>(std::move(server));
}

}  // namespace zoomq::broker::http
