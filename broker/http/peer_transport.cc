#include "broker/http/peer_transport.h"

#include <httplib.h>

#include <atomic>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "zoomq/common/base64.h"
#include "zoomq/common/json_get.h"

namespace zoomq::broker::http {

using nlohmann::json;

namespace {

// This thread's connection to `url` for the transport numbered `serial`.
httplib::Client& ClientFor(uint64_t serial, const net::ClientCredentials& credentials,
                           const std::string& url, TimeMs read_timeout_ms) {
  thread_local std::map<std::pair<uint64_t, std::string>, std::unique_ptr<httplib::Client>> clients;
  auto& c = clients[{serial, url}];
  if (!c) {
    c = net::MakeHttpClient(url, credentials);
    c->set_connection_timeout(1, 0);
  }
  c->set_read_timeout(read_timeout_ms / 1000, (read_timeout_ms % 1000) * 1000);
  return *c;
}

Result<json> Get(httplib::Client& client, const std::string& url, const std::string& path) {
  auto res = client.Get(path);
  if (!res) {
    return Status::Unavailable(url + path + ": " +
                               net::ErrorText(res.error(), url.starts_with("https://")));
  }
  json j = json::parse(res->body, nullptr, false);
  if (j.is_discarded()) return Status::Unavailable(url + ": answer is not JSON");
  if (res->status != 200) {
    std::string code = j.contains("error") ? j["error"].value("code", "") : "";
    std::string message = j.contains("error") ? j["error"].value("message", "") : res->body;
    Code c = code == "STALE_EPOCH"   ? Code::kStaleEpoch
             : code == "NOT_LEADER"  ? Code::kNotLeader
             : code == "TOPIC_NOT_FOUND" ? Code::kTopicNotFound
                                        : Code::kUnavailable;
    return Status(c, url + ": " + message);
  }
  return j;
}

std::atomic<uint64_t> next_serial{1};

}  // namespace

HttpPeerTransport::HttpPeerTransport(net::ClientCredentials credentials)
    : credentials_(std::move(credentials)), serial_(next_serial.fetch_add(1)) {}

std::string EncodeFetchResponse(const FetchResponse& r) {
  json entries = json::array();
  for (const StoredMessage& m : r.entries) {
    json e = {{"offset", m.offset},       {"epoch", m.epoch},
              {"ts", m.timestamp_ms},     {"key_hash", m.key_hash},
              {"value_b64", Base64Encode(m.value)}, {"is_bytes", m.value_is_bytes},
              {"bytes", m.bytes}};
    if (m.key) e["key"] = *m.key;
    if (m.headers_json) e["headers"] = *m.headers_json;
    if (m.id) e["id"] = *m.id;
    entries.push_back(std::move(e));
  }
  json group = json::array();
  for (const GroupLogEntry& e : r.group_entries) {
    group.push_back({{"seq", e.seq}, {"epoch", e.epoch}, {"ops", e.ops}});
  }
  return json{{"epoch", r.epoch},
              {"high_watermark", r.high_watermark},
              {"group_high_watermark", r.group_high_watermark},
              {"log_start", r.log_start},
              {"entries", entries},
              {"group_entries", group}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<FetchResponse> DecodeFetchResponse(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Unavailable("bad fetch answer");
  try {
    FetchResponse r;
    r.epoch = JsonIntAt<int64_t>(j, "epoch");
    r.high_watermark = JsonIntAt<uint64_t>(j, "high_watermark");
    r.log_start = JsonIntAt<uint64_t>(j, "log_start");
    r.group_high_watermark = JsonGet<uint64_t>(j, "group_high_watermark", 0);
    if (j.contains("group_entries")) {
      for (const json& e : j["group_entries"]) {
        r.group_entries.push_back({JsonIntAt<uint64_t>(e, "seq"), JsonIntAt<int64_t>(e, "epoch"),
                                   e.at("ops").get<std::string>()});
      }
    }
    for (const json& e : j.at("entries")) {
      StoredMessage m;
      m.offset = JsonIntAt<uint64_t>(e, "offset");
      m.epoch = JsonIntAt<int64_t>(e, "epoch");
      m.timestamp_ms = JsonIntAt<int64_t>(e, "ts");
      m.key_hash = JsonIntAt<uint64_t>(e, "key_hash");
      auto value = Base64Decode(e.at("value_b64").get<std::string>());
      if (!value) return Status::Unavailable("bad value in fetch answer");
      m.value = std::move(*value);
      m.value_is_bytes = e.at("is_bytes").get<bool>();
      m.bytes = JsonIntAt<uint32_t>(e, "bytes");
      if (e.contains("key")) m.key = e["key"].get<std::string>();
      if (e.contains("headers")) m.headers_json = e["headers"].get<std::string>();
      if (e.contains("id")) m.id = e["id"].get<std::string>();
      r.entries.push_back(std::move(m));
    }
    return r;
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("bad fetch answer: ") + e.what());
  }
}

Result<FetchResponse> HttpPeerTransport::Fetch(const std::string& leader_url,
                                               const FetchRequest& req) {
  std::string path = "/internal/v1/fetch?topic=" + req.topic +
                     "&partition=" + std::to_string(req.partition) +
                     "&replica=" + std::to_string(req.replica) +
                     "&offset=" + std::to_string(req.offset) +
                     "&group_offset=" + std::to_string(req.group_offset) +
                     "&epoch=" + std::to_string(req.epoch) +
                     "&max_bytes=" + std::to_string(req.max_bytes) +
                     "&wait_ms=" + std::to_string(req.wait_ms);
  auto res = ClientFor(serial_, credentials_, leader_url, req.wait_ms + 5000).Get(path);
  if (!res) {
    return Status::Unavailable(leader_url + ": " +
                               net::ErrorText(res.error(), leader_url.starts_with("https://")));
  }
  if (res->status != 200) {
    auto j = json::parse(res->body, nullptr, false);
    std::string code = j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
    Code c = code == "STALE_EPOCH" ? Code::kStaleEpoch
             : code == "NOT_LEADER" ? Code::kNotLeader
                                    : Code::kUnavailable;
    return Status(c, leader_url + ": fetch answered " + std::to_string(res->status));
  }
  return DecodeFetchResponse(res->body);
}

Result<std::pair<int64_t, uint64_t>> HttpPeerTransport::EpochEnd(const std::string& leader_url,
                                                                 const std::string& topic,
                                                                 int32_t partition,
                                                                 int64_t epoch, bool group_log) {
  auto j = Get(ClientFor(serial_, credentials_, leader_url, 5000), leader_url,
               "/internal/v1/epoch_end?topic=" + topic + "&partition=" + std::to_string(partition) +
                   "&epoch=" + std::to_string(epoch) + (group_log ? "&log=group" : ""));
  if (!j.ok()) return j.status();
  try {
    return std::make_pair(JsonIntAt<int64_t>(*j, "epoch"), JsonIntAt<uint64_t>(*j, "end_offset"));
  } catch (const std::exception& e) {
    return Status::Unavailable(std::string("bad epoch_end answer: ") + e.what());
  }
}

}  // namespace zoomq::broker::http
