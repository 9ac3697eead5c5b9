#include "chaos.h"

#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "checker.h"
#include "hosts.h"
#include "zoomq/proc/child.h"       // IgnoreSigpipe (tools/proc)
#include "zoomq/proc/files.h"       // MakeTempDir
#include "zoomq/proc/wait.h"        // WaitFor
#include "zoomq/proc/wall_clock.h"  // WallClockNow
#include "zoomq/security/token.h"

namespace zoomq::chaos {

namespace {

using std::chrono::milliseconds;
using zoomq::proc::WaitFor;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 3;
constexpr int kMaxDeliveries = 10;
constexpr int kVisibilityMs = 3000;
constexpr int kKeysPerProducer = 4;
const char* const kTopic = "chaos";
const char* const kGroup = "chaos-group";

// Milliseconds since the start of the run: the time base of every record.
class RunClock {
 public:
  int64_t Ms() const {
    return std::chrono::duration_cast<milliseconds>(Clock::now() - start_).count();
  }

 private:
  const Clock::time_point start_ = Clock::now();
};

uint64_t Fnv1a64(const std::string& bytes) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::unique_ptr<httplib::Client> MakeClient(const Endpoint& e, milliseconds connect,
                                            milliseconds read) {
  auto c = std::make_unique<httplib::Client>(e.host, e.port);
  c->set_connection_timeout(connect);
  c->set_read_timeout(read);
  c->set_write_timeout(read);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  if (!e.token.empty()) c->set_bearer_token_auth(e.token);
  return c;
}

struct Answer {
  int status = 0;  // 0: no HTTP answer
  Json body;
};

Answer ToAnswer(const httplib::Result& r) {
  Answer a;
  if (!r) return a;
  a.status = r->status;
  a.body = Json::parse(r->body, nullptr, false);
  if (a.body.is_discarded()) a.body = Json();
  return a;
}

// The newest (highest epoch) leader of every partition, as the brokers report it.
// Thread-safe.
class Metadata {
 public:
  struct Leader {
    int id = -1;
    int64_t epoch = -1;
  };

  explicit Metadata(std::vector<Endpoint> brokers)
      : brokers_(std::move(brokers)), leaders_(kPartitions) {}

  Leader Get(int partition) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (leaders_[partition].id > 0) return leaders_[partition];
    }
    Refresh();
    std::lock_guard<std::mutex> lock(mu_);
    return leaders_[partition];
  }

  // Asks every broker (short timeouts); at most one refresh at a time and one per 100 ms:
  // every failing client calls it.
  void Refresh() {
    std::unique_lock<std::mutex> refreshing(refresh_mu_, std::try_to_lock);
    if (!refreshing.owns_lock()) return;
    if (Clock::now() - last_refresh_ < milliseconds(100)) return;
    std::vector<Leader> best(kPartitions);
    for (const auto& b : brokers_) {
      auto c = MakeClient(b, milliseconds(200), milliseconds(500));
      Answer a = ToAnswer(c->Get("/v1/cluster"));
      if (a.status != 200 || !a.body.contains("topics")) continue;
      for (const auto& t : a.body["topics"]) {
        if (!t.is_object() || t.value("name", "") != kTopic || !t.contains("partitions")) continue;
        for (const auto& p : t["partitions"]) {
          const int n = p.value("partition", -1);
          if (n < 0 || n >= kPartitions) continue;
          const int64_t epoch = p.value("epoch", int64_t{-1});
          if (epoch > best[n].epoch) best[n] = {p.value("leader", -1), epoch};
        }
      }
    }
    last_refresh_ = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    for (int p = 0; p < kPartitions; ++p) {
      if (best[p].epoch >= leaders_[p].epoch) leaders_[p] = best[p];
    }
  }

 private:
  const std::vector<Endpoint> brokers_;
  std::mutex refresh_mu_;
  Clock::time_point last_refresh_{};  // guarded by refresh_mu_
  std::mutex mu_;
  std::vector<Leader> leaders_;  // guarded by mu_
};

// What the client threads share. The vectors of results belong to one thread each until it
// is joined.
struct Workload {
  explicit Workload(std::vector<Endpoint> b, uint32_t seed)
      : brokers(std::move(b)), metadata(brokers), seed(seed) {}

  const std::vector<Endpoint> brokers;
  Metadata metadata;
  const uint32_t seed;
  RunClock clock;
  std::atomic<bool> stop_producers{false};
  std::atomic<bool> stop_consumers{false};
  std::atomic<bool> stop_reader{false};
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> deliveries{0};
  std::atomic<int64_t> last_delivery_ms{0};

  std::mutex delivered_mu;
  std::set<std::string> delivered_ids;  // guarded by delivered_mu

  const Endpoint& Random(std::mt19937& rng) const {
    return brokers[std::uniform_int_distribution<size_t>(0, brokers.size() - 1)(rng)];
  }
  const Endpoint* ById(int id) const {
    for (const auto& b : brokers) {
      if (b.id == id) return &b;
    }
    return nullptr;
  }
};

// One producer thread: its own keys, one message at a time, each retried with the same id
// until it is answered 200 or the producers stop.
void ProduceLoop(Workload& w, int thread, std::vector<Write>* out) {
  std::mt19937 rng(w.seed * 7919u + 101u * static_cast<uint32_t>(thread));
  std::vector<int64_t> next_seq(kKeysPerProducer, 0);
  std::map<int, std::unique_ptr<httplib::Client>> clients;
  const std::string path = std::string("/v1/topics/") + kTopic + "/messages";
  for (int64_t n = 0; !w.stop_producers; ++n) {
    const int k = std::uniform_int_distribution<int>(0, kKeysPerProducer - 1)(rng);
    Write rec;
    rec.key = "k" + std::to_string(thread) + "-" + std::to_string(k);
    rec.key_seq = next_seq[k]++;
    rec.thread = thread;
    rec.id = "w" + std::to_string(thread) + "-" + std::to_string(n);
    const int partition = static_cast<int>(Fnv1a64(rec.key) % kPartitions);
    const Json body = {
        {"messages",
         Json::array(
             {{{"id", rec.id},
               {"key", rec.key},
               {"value",
                {{"id", rec.id}, {"key", rec.key}, {"seq", rec.key_seq}, {"thread", thread}}}}})}};
    const std::string payload = body.dump();
    int backoff_ms = 20;
    while (!w.stop_producers) {
      // Mostly the leader; sometimes any broker (forwarding is part of what is tested).
      const Metadata::Leader leader = w.metadata.Get(partition);
      const Endpoint* target = w.ById(leader.id);
      if (target == nullptr || std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
        target = &w.Random(rng);
      }
      auto& client = clients[target->id];
      if (!client) client = MakeClient(*target, milliseconds(500), milliseconds(5000));
      ++rec.attempts;
      rec.sent_ms = w.clock.Ms();
      Answer a = ToAnswer(client->Post(path, payload, "application/json"));
      if (a.status == 200 && a.body.contains("results") && a.body["results"].is_array() &&
          a.body["results"].size() == 1) {
        const Json& r = a.body["results"][0];
        rec.outcome = Outcome::kOk;
        rec.acked_ms = w.clock.Ms();
        rec.partition = r.value("partition", -1);
        rec.offset = r.value("offset", int64_t{-1});
        rec.duplicate = r.value("duplicate", false);
        rec.answered_by = target->id;
        rec.answered_epoch = leader.id == target->id ? leader.epoch : -1;
        ++w.acked;
        break;
      }
      if (a.status >= 400 && a.status < 500) {
        rec.outcome = Outcome::kFailed;
        ++rec.failed_attempts;
      } else {
        rec.outcome = Outcome::kIndeterminate;
        ++rec.indeterminate_attempts;
      }
      if (a.status == 0) clients.erase(target->id);  // reconnect next time
      w.metadata.Refresh();
      std::this_thread::sleep_for(milliseconds(backoff_ms));  // ok: retry backoff
      backoff_ms = std::min(backoff_ms * 2, 200);
    }
    out->push_back(std::move(rec));
    // A bounded load: at most ~100 writes per second per thread.
    std::this_thread::sleep_for(milliseconds(10));  // ok: pacing
  }
}

// One group consumer: long-poll pulls through any broker, acks what it got (retrying a
// failed ack twice), records every delivery and every ack answer.
void ConsumeLoop(Workload& w, int index, std::vector<Delivery>* deliveries,
                 std::vector<AckAnswer>* acks) {
  std::mt19937 rng(w.seed * 104729u + 13u * static_cast<uint32_t>(index));
  const std::string consumer = "c" + std::to_string(index);
  const std::string base = std::string("/v1/topics/") + kTopic + "/groups/" + kGroup;
  const std::string pull = base + "/messages?consumer=" + consumer +
                           "&max=10&wait_ms=1000&visibility_ms=" + std::to_string(kVisibilityMs);
  while (!w.stop_consumers) {
    const Endpoint& from = w.Random(rng);
    auto client = MakeClient(from, milliseconds(500), milliseconds(5000));
    const int64_t started = w.clock.Ms();
    Answer a = ToAnswer(client->Get(pull));
    const int64_t ended = w.clock.Ms();
    if (a.status != 200 || !a.body.contains("messages") || !a.body["messages"].is_array()) {
      std::this_thread::sleep_for(milliseconds(50));  // ok: retry backoff
      continue;
    }
    std::vector<std::string> handles;
    for (const auto& m : a.body["messages"]) {
      Delivery d;
      d.handle = m.value("id", "");
      d.id = m.value("message_id", "");
      d.key = m.contains("key") && m["key"].is_string() ? m["key"].get<std::string>() : "";
      d.consumer = consumer;
      d.via = from.id;
      d.delivery = m.value("delivery", 0);
      d.pull_started_ms = started;
      d.pull_ended_ms = ended;
      handles.push_back(d.handle);
      {
        std::lock_guard<std::mutex> lock(w.delivered_mu);
        w.delivered_ids.insert(d.id);
      }
      deliveries->push_back(std::move(d));
      ++w.deliveries;
      w.last_delivery_ms = ended;
    }
    if (handles.empty()) continue;
    const std::string ack_body = Json{{"ids", handles}}.dump();
    for (int attempt = 0; attempt < 3; ++attempt) {
      const Endpoint& to = w.Random(rng);
      auto ack_client = MakeClient(to, milliseconds(500), milliseconds(5000));
      AckAnswer ack;
      ack.handles = handles;
      ack.via = to.id;
      ack.sent_ms = w.clock.Ms();
      Answer r = ToAnswer(ack_client->Post(base + "/ack", ack_body, "application/json"));
      ack.answered_ms = w.clock.Ms();
      ack.status = r.status;
      if (r.status == 200 && r.body.contains("acked") && r.body["acked"].is_number_integer()) {
        ack.acked = r.body["acked"].get<int64_t>();
      }
      if (r.status == 200 && r.body.contains("unknown") && r.body["unknown"].is_array()) {
        for (const auto& u : r.body["unknown"]) {
          if (u.is_string()) ack.unknown.push_back(u.get<std::string>());
        }
      }
      acks->push_back(std::move(ack));
      if (r.status == 200) break;
      std::this_thread::sleep_for(milliseconds(100));  // ok: retry backoff
    }
  }
}

// Follows every partition by stream reads through any broker.
void ReadLoop(Workload& w, std::vector<StreamRead>* reads, std::vector<std::string>* gaps) {
  std::mt19937 rng(w.seed * 15485863u + 7u);
  std::vector<int64_t> next(kPartitions, 0);
  while (!w.stop_reader) {
    bool got = false;
    for (int p = 0; p < kPartitions && !w.stop_reader; ++p) {
      auto client = MakeClient(w.Random(rng), milliseconds(500), milliseconds(5000));
      Answer a = ToAnswer(client->Get(std::string("/v1/topics/") + kTopic + "/partitions/" +
                                      std::to_string(p) +
                                      "/messages?max=500&from=" + std::to_string(next[p])));
      if (a.status != 200 || !a.body.contains("messages")) continue;
      for (const auto& m : a.body["messages"]) {
        const int64_t off = m.value("offset", int64_t{-1});
        if (off != next[p]) {
          gaps->push_back("stream read of partition " + std::to_string(p) + " from " +
                          std::to_string(next[p]) + " returned offset " + std::to_string(off));
        }
        reads->push_back({p, off, m.value("message_id", "")});
        next[p] = off + 1;
        got = true;
      }
    }
    if (!got) std::this_thread::sleep_for(milliseconds(100));  // ok: pacing at the log end
  }
}

// ---- The cluster, as the nemesis sees it ---------------------------------------------------

// Set by SIGINT/SIGTERM: the run stops its faults, heals, cleans up and exits.
std::atomic<bool> g_interrupted{false};

void OnInterrupt(int) { g_interrupted = true; }

std::optional<Json> Get(const Endpoint& e, const std::string& path, milliseconds read) {
  auto c = MakeClient(e, milliseconds(300), read);
  Answer a = ToAnswer(c->Get(path));
  if (a.status != 200 || !a.body.is_object()) return std::nullopt;
  return a.body;
}

struct PartitionState {
  int leader = -1;
  int64_t epoch = -1;
  std::vector<int> isr;
  std::set<int64_t> high_watermarks;  // as every live broker reports its own replica
};

std::vector<int> Ints(const Json& j) {
  std::vector<int> out;
  if (j.is_array()) {
    for (const auto& x : j) {
      if (x.is_number_integer()) out.push_back(x.get<int>());
    }
  }
  return out;
}

// The newest view of every partition among the live brokers.
std::vector<PartitionState> Partitions(Hosts& hosts) {
  std::vector<PartitionState> out(kPartitions);
  for (int id : hosts.LiveIds()) {
    auto v = Get(hosts.endpoint(id), "/v1/cluster", milliseconds(1000));
    if (!v || !v->contains("topics")) continue;
    for (const auto& t : (*v)["topics"]) {
      if (!t.is_object() || t.value("name", "") != kTopic || !t.contains("partitions")) continue;
      for (const auto& p : t["partitions"]) {
        const int n = p.value("partition", -1);
        if (n < 0 || n >= kPartitions) continue;
        out[n].high_watermarks.insert(p.value("high_watermark", int64_t{-1}));
        const int64_t epoch = p.value("epoch", int64_t{-1});
        if (epoch > out[n].epoch) {
          out[n].epoch = epoch;
          out[n].leader = p.value("leader", -1);
          out[n].isr = Ints(p.value("isr", Json::array()));
        }
      }
    }
  }
  return out;
}

// "" when every partition has a live leader and a full ISR (and, with `converged`, every
// live replica reports the same high watermark); else what is missing.
std::string Unhealthy(Hosts& hosts, bool converged, std::vector<std::string>* each = nullptr) {
  const auto live = hosts.LiveIds();
  std::string what;
  const auto parts = Partitions(hosts);
  for (int p = 0; p < kPartitions; ++p) {
    const auto& s = parts[p];
    std::string problem;
    if (s.leader <= 0 || std::find(live.begin(), live.end(), s.leader) == live.end()) {
      problem = "no live leader";
    } else if (s.isr.size() != hosts.ids().size()) {
      problem = "isr of " + std::to_string(s.isr.size());
    } else if (converged && s.high_watermarks.size() != 1) {
      problem = std::to_string(s.high_watermarks.size()) + " different high watermarks";
    }
    if (problem.empty()) continue;
    const std::string d = "partition " + std::to_string(p) + ": " + problem;
    if (each) each->push_back(d);
    what += (what.empty() ? "" : "; ") + d;
  }
  return what;
}

// Every broker lists every broker alive and they agree on a controller.
std::string WaitFormed(Hosts& hosts, milliseconds timeout) {
  std::string last;
  const bool ok = WaitFor(
      [&] {
        std::set<int> controllers;
        for (int id : hosts.ids()) {
          auto v = Get(hosts.endpoint(id), "/v1/cluster", milliseconds(1000));
          if (!v) {
            last = "broker " + std::to_string(id) + ": no /v1/cluster";
            return false;
          }
          size_t alive = 0;
          for (const auto& b : v->value("brokers", Json::array())) {
            if (b.is_object() && b.value("alive", true)) ++alive;
          }
          if (alive != hosts.ids().size()) {
            last = "broker " + std::to_string(id) + " sees " + std::to_string(alive) + " alive";
            return false;
          }
          controllers.insert(v->value("controller", -1));
        }
        last = "no agreed controller";
        return controllers.size() == 1 && *controllers.begin() > 0;
      },
      timeout, milliseconds(100));
  return ok ? "" : last;
}

// The topic (through any broker: it forwards to the controller) and the group, then waits
// for a leader and a full ISR everywhere.
std::string CreateTopicAndGroup(Hosts& hosts, milliseconds timeout) {
  const Json topic = {{"name", kTopic},
                      {"partitions", kPartitions},
                      {"replication_factor", 3},
                      {"min_insync_replicas", 2},
                      {"max_deliveries", kMaxDeliveries},
                      {"visibility_timeout_ms", kVisibilityMs}};
  std::string last;
  auto send = [&](const std::string& method, const std::string& path, const Json& body) {
    return WaitFor(
        [&] {
          for (int id : hosts.ids()) {
            auto c = MakeClient(hosts.endpoint(id), milliseconds(500), milliseconds(10000));
            auto r = method == "POST" ? c->Post(path, body.dump(), "application/json")
                                      : c->Put(path, body.dump(), "application/json");
            if (r && (r->status == 200 || r->status == 201)) return true;
            last = method + " " + path + ": " +
                   (r ? std::to_string(r->status) + " " + r->body : httplib::to_string(r.error()));
          }
          return false;
        },
        timeout, milliseconds(200));
  };
  if (!send("POST", "/v1/topics", topic)) return last;
  const bool ready = WaitFor(
      [&] {
        last = Unhealthy(hosts, false);
        return last.empty();
      },
      timeout, milliseconds(100));
  if (!ready) return "topic not ready: " + last;
  // The group starts at the earliest message: created before the first write.
  if (!send("PUT", std::string("/v1/topics/") + kTopic + "/groups/" + kGroup,
            Json{{"start", "earliest"}})) {
    return last;
  }
  return "";
}

struct Fault {
  int64_t at_ms = 0;
  std::string wall;
  std::string kind;
  int broker = 0;  // 0: ZooKeeper
  int partition = -1;
  int64_t healed_ms = 0;
  std::string note;
};

// Applies one fault chosen by `rng` and heals it before returning. Main thread only.
class Nemesis {
 public:
  Nemesis(Hosts& hosts, int session_ms, uint32_t seed, const RunClock& clock, std::ostream& log)
      : hosts_(hosts), session_ms_(session_ms), rng_(seed), clock_(clock), log_(log) {}

  // Sleeps between faults (pacing) so that the clients see each one and its healing.
  void Rest() {
    Hold(Between(1000, 3000));
    // Wait (bounded) for a healthy cluster first: one fault at a time is what 3 brokers with
    // min ISR 2 are meant to survive.
    WaitFor([&] { return g_interrupted || Unhealthy(hosts_, false).empty(); }, milliseconds(15000),
            milliseconds(100));
  }

  void Strike() {
    std::vector<std::string> kinds = {"kill-leader",    "kill-follower", "pause-leader",
                                      "pause-follower", "term-leader",   "kill-zookeeper"};
    if (hosts_.CanPartition()) {
      kinds.insert(kinds.end(),
                   {"cut-leader-from-zookeeper", "cut-follower-from-leader", "isolate-broker"});
    }
    Fault f;
    f.kind = kinds[Between(0, static_cast<int>(kinds.size()) - 1)];
    f.partition = Between(0, kPartitions - 1);
    const auto ids = hosts_.ids();
    int leader = Partitions(hosts_)[f.partition].leader;
    if (leader <= 0) leader = ids[Between(0, static_cast<int>(ids.size()) - 1)];
    std::vector<int> followers;
    for (int id : ids) {
      if (id != leader) followers.push_back(id);
    }
    const int follower = followers[Between(0, static_cast<int>(followers.size()) - 1)];
    f.broker = f.kind.find("follower") != std::string::npos ? follower : leader;
    f.at_ms = clock_.Ms();
    f.wall = zoomq::proc::WallClockNow();  // the brokers' log time
    const int cut_ms = session_ms_ + Between(500, 3000);
    if (f.kind == "kill-leader" || f.kind == "kill-follower") {
      hosts_.Kill(f.broker);
      Hold(Between(500, 4000));
      f.note = hosts_.Restart(f.broker);
    } else if (f.kind == "pause-leader" || f.kind == "pause-follower") {
      hosts_.Stop(f.broker);
      Hold(session_ms_ + Between(500, 2500));
      hosts_.Cont(f.broker);
    } else if (f.kind == "term-leader") {
      f.note = hosts_.Term(f.broker);
      Hold(Between(200, 2000));
      const std::string r = hosts_.Restart(f.broker);
      if (!r.empty()) f.note += "; " + r;
    } else if (f.kind == "kill-zookeeper") {
      f.broker = 0;
      hosts_.KillZooKeeper();
      Hold(Between(500, session_ms_ + 2000));
      f.note = hosts_.RestartZooKeeper();
    } else if (f.kind == "cut-leader-from-zookeeper") {
      f.note = hosts_.Cut(leader, 0);
      Hold(cut_ms);
      hosts_.HealNetwork();
    } else if (f.kind == "cut-follower-from-leader") {
      f.note = hosts_.Cut(follower, leader);
      Hold(cut_ms);
      hosts_.HealNetwork();
    } else {  // isolate-broker
      f.broker = ids[Between(0, static_cast<int>(ids.size()) - 1)];
      f.note = hosts_.Isolate(f.broker);
      Hold(cut_ms);
      hosts_.HealNetwork();
    }
    f.healed_ms = clock_.Ms();
    log_ << "[nemesis] " << f.wall << " +" << f.at_ms << " ms " << f.kind << " "
         << (f.broker ? "broker " + std::to_string(f.broker) : std::string("zookeeper"))
         << " (partition " << f.partition << ", leader " << leader << "), healed after "
         << (f.healed_ms - f.at_ms) << " ms" << (f.note.empty() ? "" : ": " + f.note) << std::endl;
    faults_.push_back(std::move(f));
  }

  // Brings back everything that is down, paused or cut off.
  void HealAll() {
    hosts_.HealNetwork();
    if (!hosts_.ZooKeeperUp()) {
      if (auto r = hosts_.RestartZooKeeper(); !r.empty()) log_ << "[nemesis] " << r << std::endl;
    }
    for (int id : hosts_.ids()) {
      if (hosts_.Stopped(id)) hosts_.Cont(id);
      if (!hosts_.Running(id)) {
        if (auto r = hosts_.Restart(id); !r.empty()) log_ << "[nemesis] " << r << std::endl;
      }
    }
  }

  const std::vector<Fault>& faults() const { return faults_; }

 private:
  int Between(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  // The fault lasts this long (or until Ctrl-C).
  static void Hold(int ms) {
    WaitFor([] { return g_interrupted.load(); }, milliseconds(ms), milliseconds(50));
  }

  Hosts& hosts_;
  const int session_ms_;
  std::mt19937 rng_;
  const RunClock& clock_;
  std::ostream& log_;
  std::vector<Fault> faults_;
};

Json FaultsJson(const std::vector<Fault>& faults) {
  Json out = Json::array();
  for (const auto& f : faults) {
    out.push_back({{"at_ms", f.at_ms},
                   {"wall", f.wall},
                   {"kind", f.kind},
                   {"broker", f.broker},
                   {"partition", f.partition},
                   {"healed_ms", f.healed_ms},
                   {"note", f.note}});
  }
  return out;
}

std::string FaultSummary(const std::vector<Fault>& faults) {
  std::map<std::string, int> by_kind;
  for (const auto& f : faults) ++by_kind[f.kind];
  std::string s;
  for (const auto& [k, n] : by_kind) s += (s.empty() ? "" : ", ") + k + " " + std::to_string(n);
  return std::to_string(faults.size()) + " (" + s + ")";
}

// The run proper, once the hosts are up: load, faults, healing, the checker.
int Drive(const Options& options, Hosts& hosts, const std::string& run_dir, std::ostream& out,
          std::ostream& log) {
  if (std::string e = WaitFormed(hosts, milliseconds(60000)); !e.empty()) {
    log << "zoomq-chaos: the cluster did not form: " << e << "\n";
    return 2;
  }
  if (std::string e = CreateTopicAndGroup(hosts, milliseconds(30000)); !e.empty()) {
    log << "zoomq-chaos: " << e << "\n";
    return 2;
  }
  std::vector<Endpoint> endpoints;
  for (int id : hosts.ids()) endpoints.push_back(hosts.endpoint(id));
  Workload w(endpoints, options.seed);
  std::vector<std::vector<Write>> writes(options.producers);
  std::vector<std::vector<Delivery>> deliveries(options.consumers);
  std::vector<std::vector<AckAnswer>> acks(options.consumers);
  std::vector<StreamRead> reads;
  std::vector<std::string> gaps;
  std::vector<std::thread> producers, consumers;
  CheckInput in;
  in.partitions = kPartitions;
  in.producers_started_ms = w.clock.Ms();
  for (int i = 0; i < options.producers; ++i) {
    producers.emplace_back(ProduceLoop, std::ref(w), i, &writes[i]);
  }
  for (int i = 0; i < options.consumers; ++i) {
    consumers.emplace_back(ConsumeLoop, std::ref(w), i, &deliveries[i], &acks[i]);
  }
  std::thread reader(ReadLoop, std::ref(w), &reads, &gaps);

  Nemesis nemesis(hosts, options.session_ms, options.seed, w.clock, log);
  const int64_t end_ms = w.clock.Ms() + int64_t{options.duration_s} * 1000;
  while (w.clock.Ms() < end_ms && !g_interrupted) {
    nemesis.Rest();
    if (w.clock.Ms() >= end_ms || g_interrupted) break;
    nemesis.Strike();
    log << "[chaos] +" << w.clock.Ms() / 1000 << " s: " << w.acked << " acked writes, "
        << w.deliveries << " deliveries" << std::endl;
  }

  // Heal, stop writing, settle.
  nemesis.HealAll();
  in.producers_stopped_ms = w.clock.Ms();
  w.stop_producers = true;
  for (auto& t : producers) t.join();
  std::string why;
  const bool settled = WaitFor(
      [&] {
        why = Unhealthy(hosts, true);
        return g_interrupted || why.empty();
      },
      milliseconds(60000), milliseconds(200));
  if (!settled) {
    log << "[chaos] not settled after 60 s: " << why << std::endl;
    Unhealthy(hosts, true, &in.unsettled);
  }
  log << "[chaos] settled: " << (settled ? "yes" : "no") << "; draining the group" << std::endl;

  // Final drain: until every acked write was delivered and nothing was delivered for longer
  // than a lease (so that unacked leases came back and were acked), bounded.
  std::set<std::string> acked_ids;
  for (const auto& v : writes) {
    for (const auto& wr : v) {
      if (wr.outcome == Outcome::kOk) acked_ids.insert(wr.id);
    }
  }
  WaitFor(
      [&] {
        if (g_interrupted) return true;
        if (w.clock.Ms() - w.last_delivery_ms < kVisibilityMs + 2000) return false;
        std::lock_guard<std::mutex> lock(w.delivered_mu);
        return std::includes(w.delivered_ids.begin(), w.delivered_ids.end(), acked_ids.begin(),
                             acked_ids.end());
      },
      milliseconds(60000), milliseconds(200));
  w.stop_consumers = true;
  for (auto& t : consumers) t.join();
  w.stop_reader = true;
  reader.join();
  if (g_interrupted) {
    log << "zoomq-chaos: interrupted; no check" << std::endl;
    return 130;
  }

  // Read every replica (a route between brokers: with security on the checker presents a
  // broker credential, broker 0's, made from the admin token).
  for (int p = 0; p < kPartitions; ++p) {
    for (int id : hosts.ids()) {
      Endpoint e = hosts.endpoint(id);
      if (!e.token.empty()) e.token = zoomq::security::BrokerCredential(e.token, 0);
      auto log_json = Get(
          e, std::string("/internal/v1/log?topic=") + kTopic + "&partition=" + std::to_string(p),
          milliseconds(30000));
      in.replicas[p][id] = log_json ? ParseReplica(*log_json) : Replica{};
    }
  }
  for (auto& v : writes) in.writes.insert(in.writes.end(), v.begin(), v.end());
  for (auto& v : deliveries) in.deliveries.insert(in.deliveries.end(), v.begin(), v.end());
  for (auto& v : acks) in.acks.insert(in.acks.end(), v.begin(), v.end());
  in.stream_reads = std::move(reads);
  in.stream_gaps = std::move(gaps);
  const Report report = Check(in);

  const std::string mode =
      std::string(options.netns ? "netns" : "loopback") + (options.secure ? "+secure" : "");
  if (options.json) {
    Json j = report.ToJson();
    j["seed"] = options.seed;
    j["duration_s"] = options.duration_s;
    j["session_ms"] = options.session_ms;
    j["mode"] = mode;
    j["faults"] = FaultsJson(nemesis.faults());
    j["dir"] = run_dir;
    out << j.dump(2) << std::endl;
  } else {
    out << "zoomq-chaos: seed " << options.seed << ", " << options.duration_s << " s, " << mode
        << ", faults " << FaultSummary(nemesis.faults()) << "\n"
        << report.Table();
  }
  std::ofstream saved(run_dir + "/report.txt");
  saved << "seed " << options.seed << ", " << mode << "\nfaults " << FaultSummary(nemesis.faults())
        << "\n"
        << report.Table();
  for (const auto& f : nemesis.faults()) {
    saved << f.wall << " +" << f.at_ms << " ms " << f.kind << " broker " << f.broker
          << " partition " << f.partition << " healed +" << f.healed_ms << " ms " << f.note << "\n";
  }
  if (!report.ok()) std::ofstream(run_dir + "/records.json") << RecordsJson(in).dump();
  return report.ok() ? 0 : 1;
}

}  // namespace

int Run(const Options& options, std::ostream& out, std::ostream& log) {
  zoomq::proc::IgnoreSigpipe();
  // Every temp dir (ZooKeeper, brokers) goes under the run's dir.
  std::string parent = options.dir;
  if (parent.empty()) {
    const char* t = std::getenv("TMPDIR");
    parent = (t != nullptr && *t != '\0') ? t : "/tmp";
  }
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  ::setenv("TMPDIR", parent.c_str(), 1);
  const std::string run_dir = zoomq::proc::MakeTempDir("zoomq-chaos");
  if (run_dir.empty()) {
    log << "zoomq-chaos: cannot create a temp dir under " << parent << "\n";
    return 2;
  }
  ::setenv("TMPDIR", run_dir.c_str(), 1);
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  log << "[chaos] seed " << options.seed << ", duration " << options.duration_s << " s, session "
      << options.session_ms << " ms, " << (options.netns ? "netns" : "loopback")
      << (options.secure ? ", secure" : "") << ", dir " << run_dir << std::endl;

  int status = 2;
  {
    std::unique_ptr<Hosts> hosts;
    if (options.netns) {
      std::string error;
      hosts = MakeNetnsHosts(run_dir + "/hosts", &error);
      if (!hosts) {
        log << "zoomq-chaos: " << error << "\n";
        std::filesystem::remove_all(run_dir, ec);
        return 2;
      }
    } else {
      hosts = MakeLoopbackHosts(run_dir + "/hosts");
    }
    if (options.secure) {
      // A fresh admin token and ZooKeeper digest for the run, in private files.
      auto token = zoomq::security::GenerateToken();
      auto password = zoomq::security::GenerateToken();
      if (!token.ok() || !password.ok()) {
        log << "zoomq-chaos: cannot make a token\n";
        return 2;
      }
      const std::string token_file = run_dir + "/admin.token";
      const std::string zk_file = run_dir + "/zk.auth";
      std::ofstream(token_file) << token.value() << "\n";
      std::ofstream(zk_file) << "zoomq:" << password.value() << "\n";
      ::chmod(token_file.c_str(), 0600);
      ::chmod(zk_file.c_str(), 0600);
      hosts->Secure(token.value(), {"--admin-token-file", token_file, "--zk-auth-file", zk_file});
    }
    if (std::string e = hosts->Start(3, options.session_ms); !e.empty()) {
      log << "zoomq-chaos: " << e << "\n";
      hosts->KeepFiles();
      log << "[chaos] logs kept under " << run_dir << std::endl;
      return 2;
    }
    status = Drive(options, *hosts, run_dir, out, log);
    if (status != 0 || options.keep) {
      hosts->KeepFiles();
      log << "[chaos] logs and data kept under " << run_dir << std::endl;
    }
  }  // the brokers and ZooKeeper are killed here (and the namespaces deleted)
  if (status == 0 && !options.keep) std::filesystem::remove_all(run_dir, ec);
  return status;
}

int Main(int argc, char** argv) {
  Options o;
  CLI::App app{
      "zoomq-chaos: faults against ZooKeeper and 3 brokers, then a checker "
      "(docs/chaos.md)"};
  app.add_option("--duration", o.duration_s, "Seconds of faults and load")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the nemesis and the clients")->capture_default_str();
  app.add_flag("--json", o.json, "Print the figures as JSON");
  app.add_option("--dir", o.dir, "Parent directory of the run's temp dir");
  app.add_flag("--netns", o.netns, "Each broker in its own network namespace (root)");
  app.add_option("--session-ms", o.session_ms, "Brokers' ZooKeeper session timeout")
      ->check(CLI::Range(1000, 10000))
      ->capture_default_str();
  app.add_option("--producers", o.producers, "Producer threads")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--consumers", o.consumers, "Group consumer threads")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_flag("--keep", o.keep, "Keep the run's directory (logs, data) also on success");
  app.add_flag("--secure", o.secure,
               "Security on: an admin token and ZooKeeper digest ACLs (docs/security.md); "
               "the clients present the token");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Whatever prints on stdout during the run goes to stderr, so that stdout carries the table
  // (or the JSON) alone.
  std::fflush(stdout);
  const int saved_stdout = ::dup(STDOUT_FILENO);
  ::dup2(STDERR_FILENO, STDOUT_FILENO);
  std::ostringstream out;
  const int status = Run(o, out, std::cerr);
  std::fflush(stdout);
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::close(saved_stdout);
  std::cout << out.str() << std::flush;
  return status;
}

}  // namespace zoomq::chaos
