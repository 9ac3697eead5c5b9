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

}  // namespace zoomq::net
