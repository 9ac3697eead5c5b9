// The broker's listener with TLS on (docs/security.md, "TLS"): an httplib::SSLServer whose
// OpenSSL context is built here from --tls-cert, --tls-key and --tls-client-ca. cpp-httplib
// 0.11.4's own file constructor is not used: it ignores a client CA file it cannot read (the
// server then refuses every client certificate without saying why), says nothing about which
// file is wrong, and accepts TLS 1.1.
//
// With TLS on, the listener serves HTTPS only: there is no second, plain listener.
#pragma once

#include <memory>
#include <string>

#include "zoomq/common/status.h"

namespace httplib {
class Server;
}

namespace zoomq::broker::http {

struct TlsServerFiles {
  std::string cert_file;  // PEM: this broker's certificate, then any intermediate CAs
  std::string key_file;   // PEM: its private key (unencrypted)
  // PEM: when set, every client must present a certificate that chains to one of these CAs
  // (mutual TLS); a client without one, or with another CA's, fails the handshake.
  std::string client_ca_file;

  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty();
  }
};

// A plain httplib::Server when `files` is empty; else an httplib::SSLServer over them, or why
// it cannot be made, naming the file at fault (missing, unreadable, not PEM, a key that is
// not the certificate's, a client CA file without certificates).
Result<std::unique_ptr<httplib::Server>> MakeListener(const TlsServerFiles& files);

// "" while the first certificate of `cert_file` is valid; else a warning for the operator
// (expired, or not valid yet). Such a certificate does not stop the broker: restarting with
// new files is how it is renewed.
std::string CertificateTimeWarning(const std::string& cert_file);

// "" when `path` holds PEM CA certificates that a verifier can load; else one line naming
// `flag` and the file ("--tls-ca '/etc/zoomq/ca.pem' holds no PEM CA certificate (...)").
std::string CheckCaFile(const char* flag, const std::string& path);

}  // namespace zoomq::broker::http
