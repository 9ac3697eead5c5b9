// HTTP clients with the caller's credentials (docs/security.md): every client zoomq makes (the
// SDK, zoomqctl, a broker calling another) comes from here, so a token and TLS settings are
// applied in one place.
#pragma once

#include <memory>
#include <string>

namespace httplib {
class Client;
enum class Error;
}  // namespace httplib

namespace zoomq::net {

// What a client presents and trusts. Empty fields: not used.
struct ClientCredentials {
  std::string token;      // sent as "Authorization: Bearer <token>" on every request
  std::string ca_file;    // PEM: the CAs an https:// server's certificate must chain to
  std::string cert_file;  // PEM: a client certificate (mutual TLS), with its key
  std::string key_file;
};

// A keep-alive, TCP_NODELAY client for `base_url` ("http://host:port" or
// "https://host:port"). An https:// client verifies the server's certificate (against
// `ca_file`, or the system's CAs when it is empty). Check is_valid() before use.
std::unique_ptr<httplib::Client> MakeHttpClient(const std::string& base_url,
                                                const ClientCredentials& credentials);

// A failed request's error for people: what the TLS errors mean and what to check, where
// cpp-httplib gives only the enum's name ("SSLServerVerification"). `https`: the request went
// to an https:// URL (a broker refusing a client certificate shows up as a failed read or
// write: TLS 1.3 ends the handshake before the server has checked the certificate).
std::string ErrorText(httplib::Error error, bool https);

}  // namespace zoomq::net
