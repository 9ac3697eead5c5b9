// zoomq-broker's TLS flags (docs/security.md, "TLS"): the listener's certificate and key,
// the CA of client certificates (mutual TLS), and the CA other brokers' certificates chain
// to. Checked together at start, before the data dir is opened, so that a broker that could
// not serve what it advertises never starts.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "broker/http/tls_listener.h"
#include "zoomq/net/http_client.h"

namespace zoomq::broker {

struct TlsFlags {
  http::TlsServerFiles listener;  // --tls-cert, --tls-key, --tls-client-ca
  std::string peer_ca_file;       // --tls-ca

  bool on() const { return listener.enabled(); }
};

// Adds --tls-cert, --tls-key, --tls-client-ca and --tls-ca (env ZOOMQ_TLS_CERT, ...).
void AddTlsFlags(CLI::App& app, TlsFlags* flags);

// "" when the flags make a listener (files readable, a key that is the certificate's, a
// client CA file with CAs in it), --tls-ca holds CAs, and the advertised URL's scheme is the
// listener's (https:// with TLS on, http:// without); else one line saying what is wrong.
std::string CheckTlsFlags(const TlsFlags& flags, const std::string& advertised_url);

// What this broker presents to and trusts in the other brokers: their certificates must chain
// to --tls-ca (the system's CAs without it), and with TLS on it offers its own certificate as
// a client certificate (sent only to brokers that ask for one: those with --tls-client-ca).
net::ClientCredentials PeerCredentials(const TlsFlags& flags);

// Logs what is served and verified, and a warning when the certificate has expired or is not
// valid yet (every client would refuse it).
void LogTls(const TlsFlags& flags);

}  // namespace zoomq::broker
