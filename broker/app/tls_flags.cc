#include "broker/app/tls_flags.h"

#include <httplib.h>  // the listener made to check the files is destroyed here
#include <spdlog/spdlog.h>

namespace zoomq::broker {

void AddTlsFlags(CLI::App& app, TlsFlags* flags) {
  const char* group = "TLS (docs/security.md)";
  app.add_option("--tls-cert", flags->listener.cert_file,
                 "PEM certificate (then intermediates) of this broker: with --tls-key, the "
                 "listener serves HTTPS only")
      ->envname("ZOOMQ_TLS_CERT")
      ->group(group);
  app.add_option("--tls-key", flags->listener.key_file,
                 "PEM private key of --tls-cert (unencrypted)")
      ->envname("ZOOMQ_TLS_KEY")
      ->group(group);
  app.add_option("--tls-client-ca", flags->listener.client_ca_file,
                 "PEM CA certificates: clients must present a certificate signed by one of "
                 "them (mutual TLS)")
      ->envname("ZOOMQ_TLS_CLIENT_CA")
      ->group(group);
  app.add_option("--tls-ca", flags->peer_ca_file,
                 "PEM CA certificates other brokers' https:// certificates must chain to "
                 "(default: the system's CAs)")
      ->envname("ZOOMQ_TLS_CA")
      ->group(group);
}

std::string CheckTlsFlags(const TlsFlags& flags, const std::string& advertised_url) {
  if (flags.on()) {
    auto listener = http::MakeListener(flags.listener);
    if (!listener.ok()) return listener.status().message();
    if (!advertised_url.starts_with("https://")) {
      return "--advertise-url '" + advertised_url +
             "' must be https:// when the listener serves TLS (--tls-cert)";
    }
  } else if (advertised_url.starts_with("https://")) {
    return "--advertise-url '" + advertised_url +
           "' is https:// but the listener serves plain HTTP: give --tls-cert and --tls-key";
  }
  return flags.peer_ca_file.empty() ? "" : http::CheckCaFile("--tls-ca", flags.peer_ca_file);
}

net::ClientCredentials PeerCredentials(const TlsFlags& flags) {
  net::ClientCredentials c;
  c.ca_file = flags.peer_ca_file;
  if (flags.on()) {
    c.cert_file = flags.listener.cert_file;
    c.key_file = flags.listener.key_file;
  }
  return c;
}

void LogTls(const TlsFlags& flags) {
  if (!flags.on()) {
    spdlog::info("TLS off: the listener serves plain HTTP");
    return;
  }
  std::string s = "TLS on: the listener serves HTTPS only (" + flags.listener.cert_file + "); ";
  s += flags.listener.client_ca_file.empty()
           ? "no client certificate asked for; "
           : "client certificates must chain to " + flags.listener.client_ca_file + "; ";
  s += "other brokers verified against " +
       (flags.peer_ca_file.empty() ? std::string("the system's CAs") : flags.peer_ca_file);
  spdlog::info("{}", s);
  if (std::string w = http::CertificateTimeWarning(flags.listener.cert_file); !w.empty()) {
    spdlog::warn("{}", w);
  }
}

}  // namespace zoomq::broker
