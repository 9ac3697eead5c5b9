#include "broker/http/forwarding.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>

#include "broker/http/codec.h"
#include "zoomq/common/error_json.h"

namespace zoomq::broker::http {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

// After a leader answered NOT_LEADER, how long the second round waits for the metadata to
// name the new leader, and how often it looks.
constexpr auto kLeaderMoveWait = std::chrono::milliseconds(1000);
constexpr auto kLeaderMovePoll = std::chrono::milliseconds(50);
// A subscription stream polls the remote leaders at most this often.
constexpr auto kRemotePollMin = std::chrono::milliseconds(200);

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Idle keep-alive connections to other brokers, one per request in flight (an httplib
// Client serializes its requests). A connection idle for longer than kMaxIdle is dropped
// rather than reused: the other broker closes idle connections after its keep-alive timeout
// (1 s by default), and a request sent into a closing connection fails.
class ClientPool {
 public:
  static constexpr auto kMaxIdle = std::chrono::milliseconds(500);
  static constexpr size_t kMaxIdlePerUrl = 64;

  std::unique_ptr<httplib::Client> Acquire(const std::string& url) {
    std::unique_ptr<httplib::Client> stale;  // closed outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& idle = idle_[url];
      const auto now = SteadyClock::now();
      while (!idle.empty()) {
        Idle last = std::move(idle.back());
        idle.pop_back();
        if (now - last.since < kMaxIdle) return std::move(last.client);
        stale = std::move(last.client);
        // Everything below `last` is older still.
        idle.clear();
      }
    }
    auto c = std::make_unique<httplib::Client>(url);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(1, 0);
    c->set_write_timeout(10, 0);
    return c;
  }

  void Release(const std::string& url, std::unique_ptr<httplib::Client> c) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& idle = idle_[url];
    if (idle.size() >= kMaxIdlePerUrl) return;
    idle.push_back({std::move(c), SteadyClock::now()});
  }

 private:
  struct Idle {
    std::unique_ptr<httplib::Client> client;
    SteadyClock::time_point since;
  };
  std::mutex mu_;
  std::map<std::string, std::vector<Idle>> idle_;  // most recently used last
};

ClientPool& Pool() {
  static ClientPool* pool = new ClientPool();  // never destroyed: threads may outlive main
  return *pool;
}

Answer Unreachable(const std::string& url, const std::string& why) {
  json j = {{"error",
             {{"code", CodeName(Code::kUnavailable)},
              {"message", "broker at " + url + " did not answer: " + why},
              {"broker", url}}}};
  return Answer::Json(503, Dump(j));
}

bool IsNotLeader(const Answer& a) {
  return a.status == 503 && ErrorCodeOf(a.body) == CodeName(Code::kNotLeader);
}

std::string GroupPath(const std::string& topic, const std::string& group) {
  return "/v1/topics/" + topic + "/groups/" + group;
}

// A part of a request that failed: its items and the answer to give.
struct FailedPart {
  std::vector<size_t> items;
  Answer answer;
};
using RunPart = std::function<Answer(const std::string& url, bool local,
                                     const std::vector<size_t>& items)>;

}  // namespace

Answer Answer::Error(const Status& st) {
  return Answer::Json(HttpStatus(st.code()), ErrorBody(st));
}

std::string ErrorCodeOf(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return "";
  auto e = j.find("error");
  if (e == j.end() || !e->is_object()) return "";
  auto c = e->find("code");
  return c != e->end() && c->is_string() ? c->get<std::string>() : "";
}

Answer Forward(const ForwardRequest& r) {
  auto client = Pool().Acquire(r.url);
  const TimeMs t = std::max<TimeMs>(r.timeout_ms, 1000);
  client->set_read_timeout(t / 1000, (t % 1000) * 1000);
  const httplib::Headers headers = {{kForwardedHeader, "1"}};
  if (r.method != "GET" && r.method != "POST" && r.method != "PUT" && r.method != "DELETE") {
    return Answer::Error(Status::Internal("cannot forward method " + r.method));
  }
  httplib::Result res = [&] {
    if (r.method == "GET") return client->Get(r.target, headers);
    if (r.method == "POST") return client->Post(r.target, headers, r.body, r.content_type);
    if (r.method == "PUT") return client->Put(r.target, headers, r.body, r.content_type);
    return client->Delete(r.target, headers);
  }();
  if (!res) {
    spdlog::debug("forward {} {}{} failed: {}", r.method, r.url, r.target,
                  httplib::to_string(res.error()));
    return Unreachable(r.url, httplib::to_string(res.error()));
  }
  Answer a{res->status, std::move(res->body), res->get_header_value("Content-Type")};
  if (a.content_type.empty()) a.content_type = "application/json";
  Pool().Release(r.url, std::move(client));
  return a;
}

void RunAll(const std::vector<std::function<void()>>& tasks) {
  if (tasks.empty()) return;
  auto guarded = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      spdlog::error("forwarding task failed: {}", e.what());
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(tasks.size() - 1);
  for (size_t i = 1; i < tasks.size(); ++i) threads.emplace_back(guarded, std::cref(tasks[i]));
  guarded(tasks[0]);
  for (auto& th : threads) th.join();
}

Result<std::set<int32_t>> ParsePartitionList(const std::string& text) {
  const Status bad = Status::Invalid(
      "query parameter 'partitions' must be comma-separated partition numbers (e.g. 0,2,5)");
  std::set<int32_t> out;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    size_t end = comma == std::string::npos ? text.size() : comma;
    int32_t p = 0;
    auto r = std::from_chars(text.data() + start, text.data() + end, p);
    if (end == start || r.ec != std::errc() || r.ptr != text.data() + end || p < 0 ||
        p > (1 << 30)) {
      return bad;
    }
    out.insert(p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string RenderProduceResults(const std::vector<ProduceResult>& results) {
  std::string body = "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const ProduceResult& pr = results[i];
    if (i) body += ',';
    body += "{\"partition\":" + std::to_string(pr.partition) +
            ",\"offset\":" + std::to_string(pr.offset) +
            ",\"duplicate\":" + (pr.duplicate ? "true" : "false") + "}";
  }
  body += "]}";
  return body;
}

// ---------------------------------------------------------------------------------------

Result<std::string> Forwarder::Leader(const std::string& topic, int32_t partition) {
  auto url = router_.LeaderUrl(topic, partition);
  if (!url) {
    return Status(Code::kNoLeader, topic + "/" + std::to_string(partition) +
                                       " has no leader right now; retry shortly");
  }
  return *url;
}

namespace {

// Splits items by the leader of their partition (`partition_of(i)` < 0: served here), runs
// `run` once per leader (all concurrently), and gives the items of parts that answered
// NOT_LEADER (leadership moved meanwhile) one more round after refreshing the leaders.
// Returns every part that failed (in either round); 503 NO_LEADER (as a Status) when a
// partition has no leader.
Result<std::vector<FailedPart>> SplitByLeader(ClusterRouter& router,
                                              const std::string& topic, size_t count,
                                              const std::function<int32_t(size_t)>& partition_of,
                                              const RunPart& run) {
  std::vector<size_t> pending(count);
  std::iota(pending.begin(), pending.end(), 0);
  std::vector<FailedPart> failed;
  // Partitions whose leader answered NOT_LEADER in the first round, and that leader.
  std::map<int32_t, std::string> moved;
  for (int round = 0; round < 2 && !pending.empty(); ++round) {
    if (round == 1) {
      // Give the metadata a moment to learn of the new leader (bounded).
      const auto until = SteadyClock::now() + kLeaderMoveWait;
      for (;;) {
        bool all_moved = true;
        for (auto& [p, old] : moved) {
          auto now_url = router.LeaderUrl(topic, p);
          if (!now_url || *now_url == old) all_moved = false;
        }
        if (all_moved || SteadyClock::now() >= until) break;
        std::this_thread::sleep_for(kLeaderMovePoll);
      }
    }
    const std::string self = router.self_url();
    std::map<int32_t, std::string> leader_of;
    std::map<std::string, std::vector<size_t>> by_url;
    for (size_t i : pending) {
      const int32_t p = partition_of(i);
      std::string url = self;
      if (p >= 0) {
        auto it = leader_of.find(p);
        if (it == leader_of.end()) {
          auto u = router.LeaderUrl(topic, p);
          if (!u) {
            return Status(Code::kNoLeader, topic + "/" + std::to_string(p) +
                                               " has no leader right now; retry shortly");
          }
          it = leader_of.emplace(p, *u).first;
        }
        url = it->second;
      }
      by_url[url].push_back(i);
    }
    // This broker's part first, so it runs on the calling thread.
    std::vector<std::pair<std::string, std::vector<size_t>>> parts;
    if (auto it = by_url.find(self); it != by_url.end()) {
      parts.emplace_back(it->first, std::move(it->second));
      by_url.erase(it);
    }
    for (auto& [url, items] : by_url) parts.emplace_back(url, std::move(items));
    // A task that threw leaves its part failed.
    std::vector<Answer> answers(parts.size(),
                                Answer::Error(Status::Internal("forwarding failed")));
    std::vector<std::function<void()>> tasks;
    for (size_t k = 0; k < parts.size(); ++k) {
      tasks.push_back([&, k] {
        answers[k] = run(parts[k].first, parts[k].first == self, parts[k].second);
      });
    }
    RunAll(tasks);
    // Failures of the first round stay: only the parts that answered NOT_LEADER get a second
    // round. Clearing them dropped a failed part from the answer when another part moved: an
    // ack then listed its handles neither as acked nor as unknown, and the client read them
    // as applied (chaos seed 510120).
    pending.clear();
    moved.clear();
    for (size_t k = 0; k < parts.size(); ++k) {
      if (answers[k].ok()) continue;
      if (round == 0 && IsNotLeader(answers[k])) {
        for (size_t i : parts[k].second) {
          pending.push_back(i);
          if (partition_of(i) >= 0) moved[partition_of(i)] = parts[k].first;
        }
        continue;
      }
      failed.push_back({std::move(parts[k].second), std::move(answers[k])});
    }
    std::sort(pending.begin(), pending.end());
  }
  return failed;
}

// The failure of the part holding the lowest item.
Answer FirstFailure(const std::vector<FailedPart>& failed) {
  const FailedPart* first = &failed.front();
  for (const FailedPart& f : failed) {
    if (f.items.front() < first->items.front()) first = &f;
  }
  return first->answer;
}

}  // namespace

// --- Topics --------------------------------------------------------------------------------

Answer Forwarder::ToController(const std::string& method, const std::string& target,
                               const std::string& body, const std::string& content_type,
                               TimeMs timeout_ms) {
  auto url = router_.ControllerUrl();
  if (!url) return Answer::Error(Status(Code::kNoLeader, "no controller elected; retry shortly"));
  if (IsSelf(*url)) {
    return Answer::Error(Status(Code::kNoLeader, "the controller is changing; retry shortly"));
  }
  return Forward({*url, method, target, body,
                  content_type.empty() ? "application/json" : content_type, timeout_ms});
}

namespace {
Status NotController(int32_t self) {
  return Status(Code::kNotLeader,
                "broker " + std::to_string(self) + " is not the controller; retry");
}
}  // namespace

Answer Forwarder::CreateTopic(const TopicSpec& spec, const std::string& body,
                              const std::string& content_type, const std::string& target,
                              bool forwarded) {
  if (router_.IsController()) {
    auto r = router_.CreateTopic(spec);
    if (!r.ok()) return Answer::Error(r.status());
    return Answer::Json(r->created ? 201 : 200, Dump(TopicJson(r->topic)));
  }
  if (forwarded) return Answer::Error(NotController(router_.self_id()));
  return ToController("POST", target, body, content_type, 60000);
}

Answer Forwarder::DeleteTopic(const std::string& topic, const std::string& target,
                              bool forwarded) {
  if (router_.IsController()) {
    if (Status st = router_.DeleteTopic(topic); !st.ok()) return Answer::Error(st);
    return Answer{204, "", ""};
  }
  if (forwarded) return Answer::Error(NotController(router_.self_id()));
  return ToController("DELETE", target, "", "", 60000);
}

Answer Forwarder::ControlledShutdown(int32_t broker, const std::string& target, bool forwarded) {
  if (router_.IsController()) {
    if (Status st = router_.ControlledShutdown(broker); !st.ok()) return Answer::Error(st);
    return Answer::Json(200, "{}");
  }
  if (forwarded) return Answer::Error(NotController(router_.self_id()));
  return ToController("POST", target, "", "application/json", 120000);
}

// --- Produce -------------------------------------------------------------------------------

Answer Forwarder::Produce(const std::string& topic, const std::string& body,
                          std::vector<ProduceMessage> messages) {
  auto placed = svc_.Place(topic, messages);
  if (!placed.ok()) return Answer::Error(placed.status());
  // Every part goes with explicit partitions: a leader must not place a message again (round
  // robin would pick another partition, maybe one it does not lead).
  for (size_t i = 0; i < messages.size(); ++i) messages[i].partition = placed.value()[i];

  // The original elements, re-serialized for the remote parts (parsed once, when needed).
  std::once_flag parsed_once;
  json elements;
  auto element = [&](size_t i) -> const json* {
    std::call_once(parsed_once, [&] {
      json j = json::parse(body, nullptr, false);
      if (j.is_object() && j.contains("messages")) elements = std::move(j["messages"]);
    });
    return elements.is_array() && i < elements.size() ? &elements[i] : nullptr;
  };

  std::vector<std::optional<ProduceResult>> results(messages.size());
  auto run = [&](const std::string& url, bool local, const std::vector<size_t>& items) {
    if (local) {
      std::vector<ProduceMessage> part;
      part.reserve(items.size());
      for (size_t i : items) part.push_back(messages[i]);
      auto r = svc_.Produce(topic, std::move(part));
      if (!r.ok()) return Answer::Error(r.status());
      for (size_t k = 0; k < items.size(); ++k) results[items[k]] = r.value()[k];
      return Answer::Json(200, "");
    }
    std::string out = "{\"messages\":[";
    for (size_t k = 0; k < items.size(); ++k) {
      const json* original = element(items[k]);
      if (original == nullptr || !original->is_object()) {
        return Answer::Error(Status::Internal("cannot re-read messages[" +
                                              std::to_string(items[k]) + "]"));
      }
      json e = *original;
      e["partition"] = placed.value()[items[k]];
      if (k) out += ',';
      out += Dump(e);
    }
    out += "]}";
    Answer a = Forward({url, "POST", "/v1/topics/" + topic + "/messages", std::move(out),
                        "application/json", WriteTimeout()});
    if (!a.ok()) return a;
    json j = json::parse(a.body, nullptr, false);
    const json* rs = j.is_object() && j.contains("results") ? &j["results"] : nullptr;
    if (rs == nullptr || !rs->is_array() || rs->size() != items.size()) {
      return Unreachable(url, "unexpected produce answer");
    }
    try {
      for (size_t k = 0; k < items.size(); ++k) {
        const json& x = (*rs)[k];
        results[items[k]] = ProduceResult{x.at("partition").get<int32_t>(),
                                          x.at("offset").get<uint64_t>(),
                                          x.at("duplicate").get<bool>()};
      }
    } catch (const std::exception& e) {
      return Unreachable(url, std::string("unexpected produce answer: ") + e.what());
    }
    return Answer::Json(200, "");
  };
  auto failed = SplitByLeader(
      router_, topic, messages.size(),
      [&](size_t i) { return placed.value()[i]; }, run);
  if (!failed.ok()) return Answer::Error(failed.status());
  if (!failed->empty()) return FirstFailure(failed.value());
  std::vector<ProduceResult> out;
  out.reserve(results.size());
  for (auto& r : results) {
    if (!r) return Answer::Error(Status::Internal("a part of the batch has no result"));
    out.push_back(*r);
  }
  return Answer::Json(200, RenderProduceResults(out));
}

// --- Stream read ---------------------------------------------------------------------------

std::optional<Answer> Forwarder::Read(const std::string& topic, int64_t partition,
                                      const std::string& target, TimeMs wait_ms) {
  auto t = svc_.DescribeTopic(topic);
  // Unknown topic or partition: the local service gives the error.
  if (!t.ok() || partition < 0 || partition >= t->config.partitions) return std::nullopt;
  auto url = Leader(topic, static_cast<int32_t>(partition));
  if (!url.ok()) return Answer::Error(url.status());
  if (IsSelf(url.value())) return std::nullopt;
  return Forward({url.value(), "GET", target, "", "application/json", wait_ms + 10000});
}

// --- ack / nack / extend -------------------------------------------------------------------

Answer Forwarder::GroupIds(const std::string& topic, const std::string& group, LeaseVerb verb,
                           const std::vector<MessageRef>& ids, std::optional<int64_t> number) {
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return Answer::Error(t.status());
  const int32_t n = t->config.partitions;

  std::mutex mu;  // guards the merge below
  AckOutcome merged;
  std::vector<std::vector<std::string>> unknown_of;  // per part, in part order
  size_t parts = 0, parts_without_group = 0;
  std::optional<Answer> no_group;
  auto run = [&](const std::string& url, bool local, const std::vector<size_t>& items) {
    Result<AckOutcome> outcome = Status::Internal("unreachable");
    if (local) {
      std::vector<MessageRef> part;
      part.reserve(items.size());
      for (size_t i : items) part.push_back(ids[i]);
      if (verb == LeaseVerb::kAck) {
        outcome = svc_.Ack(topic, group, part);
      } else if (verb == LeaseVerb::kNack) {
        outcome = svc_.Nack(topic, group, part, number.value_or(0));
      } else {
        outcome = svc_.Extend(topic, group, part,
                              number.value_or(t->config.visibility_timeout_ms));
      }
      if (!outcome.ok() && outcome.status().code() != Code::kGroupNotFound) {
        return Answer::Error(outcome.status());
      }
    } else {
      json req = {{"ids", json::array()}};
      for (size_t i : items) req["ids"].push_back(ids[i].text);
      if (LeaseVerbNumberField(verb) && number) req[LeaseVerbNumberField(verb)] = *number;
      Answer a = Forward({url, "POST", GroupPath(topic, group) + "/" + LeaseVerbPath(verb),
                          Dump(req),
                          "application/json", WriteTimeout()});
      if (!a.ok() && ErrorCodeOf(a.body) != CodeName(Code::kGroupNotFound)) return a;
      if (a.ok()) {
        json j = json::parse(a.body, nullptr, false);
        try {
          AckOutcome o;
          o.done = j.at(LeaseVerbDone(verb)).get<size_t>();
          o.unknown = j.at("unknown").get<std::vector<std::string>>();
          outcome = std::move(o);
        } catch (const std::exception& e) {
          return Unreachable(url, std::string("unexpected answer: ") + e.what());
        }
      } else {
        outcome = Status(Code::kGroupNotFound, "");
        std::lock_guard<std::mutex> lock(mu);
        if (!no_group) no_group = a;
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    ++parts;
    if (outcome.ok()) {
      merged.done += outcome->done;
      unknown_of.push_back(std::move(outcome->unknown));
    } else {
      // This broker has never seen the group: nothing is leased there.
      ++parts_without_group;
      if (!no_group) no_group = Answer::Error(outcome.status());
      std::vector<std::string> unknown;
      for (size_t i : items) unknown.push_back(ids[i].text);
      unknown_of.push_back(std::move(unknown));
    }
    return Answer::Json(200, "");
  };
  auto failed = SplitByLeader(
      router_, topic, ids.size(),
      [&](size_t i) {
        // Partitions the topic lacks: "unknown", answered here.
        return ids[i].partition >= 0 && ids[i].partition < n ? ids[i].partition : -1;
      },
      run);
  if (!failed.ok()) return Answer::Error(failed.status());
  if (!failed->empty()) return FirstFailure(failed.value());
  if (ids.empty()) {
    // Nothing to split: the local service still says whether the group exists.
    Answer a = run(router_.self_url(), true, {});
    if (!a.ok()) return a;
  }
  if (parts > 0 && parts_without_group == parts && no_group) return *no_group;
  for (auto& u : unknown_of) {
    for (auto& s : u) merged.unknown.push_back(std::move(s));
  }
  return Answer::Json(200, Dump(AckJson(merged, LeaseVerbDone(verb))));
}

// --- Group pull ----------------------------------------------------------------------------

std::vector<std::string> Forwarder::RemoteLeaders(const std::string& topic, int32_t partitions,
                                                  const std::set<int32_t>& only,
                                                  bool* leads_one) {
  std::vector<std::string> urls;
  *leads_one = false;
  const std::string self = router_.self_url();
  for (int32_t p = 0; p < partitions; ++p) {
    if (!only.empty() && !only.count(p)) continue;
    auto url = router_.LeaderUrl(topic, p);
    if (!url) continue;
    if (*url == self) {
      *leads_one = true;
    } else if (std::find(urls.begin(), urls.end(), *url) == urls.end()) {
      urls.push_back(*url);
    }
  }
  return urls;
}

namespace {
struct RemoteMessage {
  std::string id;
  std::string text;
};
Result<std::vector<RemoteMessage>> ParseMessages(const std::string& url, const Answer& a,
                                                 std::optional<size_t>* in_flight) {
  json j = json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("messages") || !j["messages"].is_array()) {
    return Status::Unavailable(url + ": unexpected pull answer");
  }
  std::vector<RemoteMessage> out;
  for (const json& m : j["messages"]) {
    if (!m.is_object() || !m.contains("id") || !m["id"].is_string()) {
      return Status::Unavailable(url + ": unexpected message in pull answer");
    }
    out.push_back({m["id"].get<std::string>(), Dump(m)});
  }
  if (in_flight) {
    auto f = j.find("in_flight");
    if (f != j.end() && f->is_number_unsigned()) *in_flight = f->get<size_t>();
  }
  return out;
}
}  // namespace

Answer Forwarder::Pull(const std::string& topic, const std::string& group,
                       const std::string& consumer, size_t max, TimeMs wait_ms,
                       std::optional<TimeMs> visibility, const std::set<int32_t>& only) {
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return Answer::Error(t.status());
  const int32_t n = t->config.partitions;
  for (int32_t p : only) {
    if (p >= n) {
      return Answer::Error(Status(Code::kPartitionNotFound,
                                  "partition " + std::to_string(p) + " of topic '" + topic +
                                      "' does not exist (query parameter 'partitions')"));
    }
  }
  static std::atomic<size_t> rotation{0};
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(wait_ms);
  bool admitted = false;
  struct Release {
    BrokerService& svc;
    bool& admitted;
    ~Release() {
      if (admitted) svc.ReleaseWaiter();
    }
  } release{svc_, admitted};
  std::vector<std::string> collected;
  // How long to wait for a local change before asking the remote leaders again: short at
  // first, longer while nothing changes here (a follower sees new messages of the partitions
  // it follows; only remote redeliveries go unnoticed until the next poll).
  TimeMs interval = 100;
  for (;;) {
    const uint64_t gen = svc_.Generation(topic);
    bool leads_one = false;
    std::vector<std::string> remotes = RemoteLeaders(topic, n, only, &leads_one);
    // Sources: "" = this broker (always, unless a filter names none of its partitions:
    // the local pull also creates the group here), then the remote leaders; a request
    // starts at the next one in turn, so no leader is always last.
    std::vector<std::string> sources;
    if (only.empty() || leads_one) sources.push_back("");
    for (auto& u : remotes) sources.push_back(u);
    const size_t start = sources.empty() ? 0 : rotation.fetch_add(1) % sources.size();
    for (size_t k = 0; k < sources.size() && collected.size() < max; ++k) {
      const std::string& src = sources[(start + k) % sources.size()];
      const size_t want = max - collected.size();
      if (src.empty()) {
        auto r = svc_.Pull(topic, group, consumer, want, 0, visibility);
        if (!r.ok()) return Answer::Error(r.status());
        for (const DeliveredMessage& m : r.value()) {
          collected.push_back(RenderMessage(m.message, m.delivery));
        }
      } else {
        auto r = RemotePull(src, topic, group, consumer, want, visibility, nullptr);
        if (!r.ok()) {
          spdlog::debug("pull {}/{} from {}: {}", topic, group, src, r.status().message());
          continue;
        }
        for (auto& s : r.value()) collected.push_back(std::move(s));
      }
    }
    const auto now = SteadyClock::now();
    if (!collected.empty() || now >= deadline || svc_.stopping()) break;
    if (auto still = svc_.DescribeTopic(topic); !still.ok()) {
      return Answer::Error(still.status());  // deleted meanwhile
    }
    if (!admitted) {
      if (!svc_.AdmitWaiter()) {
        return Answer::Error(Status(Code::kOverloaded, "too many waiting consumers; retry later"));
      }
      admitted = true;
    }
    // Local changes wake us at once (new messages of the partitions led here, and, as a
    // follower, of the others); remote leases that fall due are seen at the next poll.
    const TimeMs left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    svc_.WaitForChange(topic, gen, std::max<TimeMs>(1, std::min<TimeMs>(interval, left)));
    interval = svc_.Generation(topic) != gen ? 100 : std::min<TimeMs>(interval * 2, 500);
  }
  std::string body = "{\"messages\":[";
  for (size_t i = 0; i < collected.size(); ++i) {
    if (i) body += ',';
    body += collected[i];
  }
  body += "]}";
  return Answer::Json(200, std::move(body));
}

Result<std::vector<std::string>> Forwarder::RemotePull(const std::string& url,
                                                       const std::string& topic,
                                                       const std::string& group,
                                                       const std::string& consumer, size_t max,
                                                       std::optional<TimeMs> visibility,
                                                       std::optional<size_t>* in_flight) {
  std::string target = GroupPath(topic, group) + "/messages?max=" +
                       std::to_string(std::min<size_t>(max, 1000)) + "&wait_ms=0";
  if (!consumer.empty()) target += "&consumer=" + consumer;
  if (visibility) target += "&visibility_ms=" + std::to_string(*visibility);
  Answer a = Forward({url, "GET", target, "", "application/json", 10000});
  if (!a.ok()) return Status::Unavailable(url + " answered " + std::to_string(a.status));
  auto msgs = ParseMessages(url, a, in_flight);
  if (!msgs.ok()) return msgs.status();
  std::vector<std::string> out;
  for (auto& m : msgs.value()) out.push_back(std::move(m.text));
  return out;
}

Result<size_t> Forwarder::RemoteInFlight(const std::string& url, const std::string& topic,
                                         const std::string& group, const std::string& consumer) {
  Answer a = Forward({url, "GET",
                      "/internal/v1/in_flight?topic=" + topic + "&group=" + group +
                          "&consumer=" + consumer,
                      "", "application/json", 5000});
  if (!a.ok()) return Status::Unavailable(url + " answered " + std::to_string(a.status));
  json j = json::parse(a.body, nullptr, false);
  if (!j.is_object() || !j.contains("in_flight") || !j["in_flight"].is_number_unsigned()) {
    return Status::Unavailable(url + ": unexpected in_flight answer");
  }
  return j["in_flight"].get<size_t>();
}

size_t Forwarder::PollRemotes(RemoteStream& state, const std::string& topic,
                              const std::string& group, const std::string& consumer,
                              size_t budget, std::optional<TimeMs> visibility,
                              std::string* out) {
  const auto now = SteadyClock::now();
  const uint64_t gen = svc_.Generation(topic);
  const auto since = now - state.last_poll;
  if (since < kRemotePollMin) return 0;
  if (gen == state.seen_generation && since < std::chrono::milliseconds(state.interval_ms)) {
    return 0;
  }
  state.last_poll = now;
  state.seen_generation = gen;
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return 0;
  bool leads_one = false;
  std::vector<std::string> remotes = RemoteLeaders(topic, t->config.partitions, {}, &leads_one);
  // Leases at brokers that lead nothing of the topic any more cannot be acked there.
  for (auto it = state.in_flight.begin(); it != state.in_flight.end();) {
    if (std::find(remotes.begin(), remotes.end(), it->first) == remotes.end()) {
      it = state.in_flight.erase(it);
    } else {
      ++it;
    }
  }
  size_t sent = 0;
  for (const std::string& url : remotes) {
    const size_t held = state.Total();
    if (budget > held) {
      std::optional<size_t> in_flight;
      std::string target = GroupPath(topic, group) + "/messages?max=" +
                           std::to_string(std::min<size_t>(budget - held, 1000)) +
                           "&wait_ms=0&consumer=" + consumer;
      if (visibility) target += "&visibility_ms=" + std::to_string(*visibility);
      Answer a = Forward({url, "GET", target, "", "application/json", 10000});
      if (!a.ok()) continue;
      auto msgs = ParseMessages(url, a, &in_flight);
      if (!msgs.ok()) continue;
      for (const RemoteMessage& m : msgs.value()) {
        *out += "id: " + m.id + "\nevent: message\ndata: " + m.text + "\n\n";
      }
      sent += msgs->size();
      state.in_flight[url] = in_flight ? *in_flight : state.in_flight[url] + msgs->size();
    } else {
      auto k = RemoteInFlight(url, topic, group, consumer);
      if (k.ok()) state.in_flight[url] = k.value();
    }
  }
  state.interval_ms = sent > 0 ? 200 : std::min<TimeMs>(state.interval_ms * 2, 1000);
  return sent;
}

// --- Group stats and creation --------------------------------------------------------------

Answer Forwarder::DescribeGroup(const std::string& topic, const std::string& group) {
  auto local = svc_.DescribeGroup(topic, group);
  if (!local.ok() && local.status().code() != Code::kGroupNotFound) {
    return Answer::Error(local.status());
  }
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return Answer::Error(t.status());
  bool leads_one = false;
  std::vector<std::string> remotes = RemoteLeaders(topic, t->config.partitions, {}, &leads_one);
  std::vector<Answer> answers(remotes.size());
  std::vector<std::function<void()>> tasks;
  for (size_t k = 0; k < remotes.size(); ++k) {
    tasks.push_back([&, k] {
      answers[k] = Forward({remotes[k], "GET", GroupPath(topic, group), "", "application/json",
                            10000});
    });
  }
  RunAll(tasks);

  std::optional<json> merged;
  std::map<std::string, int64_t> consumers;
  auto add = [&](const json& g) {
    for (const json& c : g.value("consumers", json::array())) {
      const std::string name = c.value("consumer", "");
      const int64_t seen = c.value("last_seen_ms", int64_t{0});
      auto [it, fresh] = consumers.emplace(name, seen);
      if (!fresh) it->second = std::max(it->second, seen);
    }
    if (!merged) {
      merged = g;
      return;
    }
    for (const char* k : {"backlog", "in_flight", "acked", "dead_lettered"}) {
      (*merged)[k] = (*merged).value(k, uint64_t{0}) + g.value(k, uint64_t{0});
    }
    const int64_t created = g.value("created_ms", int64_t{0});
    if (created > 0 && created < (*merged).value("created_ms", int64_t{0})) {
      (*merged)["created_ms"] = created;
    }
  };
  if (local.ok()) add(GroupJson(local.value()));
  for (const Answer& a : answers) {
    if (a.ok()) {
      json j = json::parse(a.body, nullptr, false);
      if (!j.is_object()) return Unreachable("a partition leader", "unexpected group answer");
      add(j);
    } else if (ErrorCodeOf(a.body) != CodeName(Code::kGroupNotFound)) {
      return a;  // partial stats would mislead (a backlog of 0 that is not)
    }
  }
  if (!merged) return Answer::Error(local.status());
  json list = json::array();
  for (auto& [name, seen] : consumers) {
    list.push_back({{"consumer", name}, {"last_seen_ms", seen}});
  }
  (*merged)["consumers"] = std::move(list);
  return Answer::Json(200, Dump(*merged));
}

Answer Forwarder::CreateGroup(const std::string& topic, const std::string& group, bool latest,
                              const std::string& body) {
  auto r = svc_.CreateGroup(topic, group, latest);
  if (!r.ok()) return Answer::Error(r.status());
  bool created = r.value();
  std::vector<std::string> others;
  for (auto& url : router_.BrokerUrls()) {
    if (!IsSelf(url)) others.push_back(url);
  }
  std::vector<Answer> answers(others.size());
  std::vector<std::function<void()>> tasks;
  for (size_t k = 0; k < others.size(); ++k) {
    tasks.push_back([&, k] {
      answers[k] = Forward({others[k], "PUT", GroupPath(topic, group),
                            body.empty() ? "{}" : body, "application/json", WriteTimeout()});
    });
  }
  RunAll(tasks);
  for (const Answer& a : answers) {
    // A leader that missed the creation would start the group at its earliest message
    // on the first pull: the client must retry (idempotent).
    if (!a.ok()) return a;
    if (a.status == 201) created = true;
  }
  auto info = svc_.DescribeGroup(topic, group);
  if (!info.ok()) return Answer::Error(info.status());
  return Answer::Json(created ? 201 : 200, Dump(GroupJson(info.value())));
}

}  // namespace zoomq::broker::http
