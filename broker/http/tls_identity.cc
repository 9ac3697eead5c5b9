#include "broker/http/tls_identity.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

namespace zoomq::broker::http {

std::optional<std::string> ClientCertificateSubject(const httplib::Request& req) {
  const SSL* ssl = req.ssl;
  if (ssl == nullptr) return std::nullopt;  // a plain connection
  // The handshake fails on an unverified certificate when the listener asks for one; checked
  // again so that a listener set up otherwise can never hand out an unproven name.
  if (SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
  if (!cert) return std::nullopt;

  const X509_NAME* subject = X509_get_subject_name(cert.get());
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, at) >= 0) {
    return std::nullopt;  // none, or more than one
  }
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) return std::nullopt;
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  const bool control = std::any_of(cn.begin(), cn.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (cn.empty() || control) return std::nullopt;
  return cn;
}

}  // namespace zoomq::broker::http
