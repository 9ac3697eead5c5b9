#include "zoomq/bench/http.h"

#include "zoomq/net/http_client.h"

namespace zoomq::bench {

std::unique_ptr<httplib::Client> MakeClient(const Endpoint& endpoint, int read_timeout_ms) {
  auto client = net::MakeHttpClient(endpoint.ToString(), endpoint.credentials);
  client->set_connection_timeout(2, 0);
  client->set_read_timeout(read_timeout_ms / 1000, (read_timeout_ms % 1000) * 1000);
  client->set_write_timeout(10, 0);
  client->set_decompress(false);
  client->set_default_headers(DefaultHeaders());
  return client;
}

const httplib::Headers& DefaultHeaders() {
  static const httplib::Headers kHeaders{{"Accept-Encoding", "identity"}};
  return kHeaders;
}

httplib::Client* ClientSet::Add(std::unique_ptr<httplib::Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) client->stop();
  clients_.push_back(std::move(client));
  return clients_.back().get();
}

void ClientSet::StopAll() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  for (auto& client : clients_) client->stop();
}

std::string ErrorName(httplib::Error error) { return httplib::to_string(error); }

}  // namespace zoomq::bench
