#include "zoomq/net/http_client.h"

#include <httplib.h>

namespace zoomq::net {

std::unique_ptr<httplib::Client> MakeHttpClient(const std::string& base_url,
                                                const ClientCredentials& credentials) {
  std::unique_ptr<httplib::Client> c;
  if (!credentials.cert_file.empty() || !credentials.key_file.empty()) {
    c = std::make_unique<httplib::Client>(base_url, credentials.cert_file, credentials.key_file);
  } else {
    c = std::make_unique<httplib::Client>(base_url);
  }
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  if (!credentials.ca_file.empty()) c->set_ca_cert_path(credentials.ca_file);
  if (!credentials.token.empty()) c->set_bearer_token_auth(credentials.token);
  return c;
}

std::string ErrorText(httplib::Error error, bool https) {
  switch (error) {
    case httplib::Error::SSLServerVerification:
      return "the server's TLS certificate was not accepted: it does not chain to the CA file "
             "(the system's CAs without one), or its subjectAltName does not name the host in "
             "the URL";
    case httplib::Error::SSLLoadingCerts:
      return "the CA file cannot be loaded (missing, or no PEM certificate in it)";
    case httplib::Error::SSLConnection:
      return "the TLS handshake failed (is it an http:// port? does the server accept this "
             "client's certificate?)";
    case httplib::Error::Read:
    case httplib::Error::Write:
      if (https) {
        return httplib::to_string(error) +
               " failed (a timeout or a closed connection; over TLS also how a server refuses "
               "a client certificate it does not trust, or the lack of one)";
      }
      break;
    default:
      break;
  }
  return httplib::to_string(error);
}

}  // namespace zoomq::net
