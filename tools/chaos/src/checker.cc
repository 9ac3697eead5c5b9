#include "checker.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <iterator>
#include <set>
#include <tuple>

namespace zoomq::chaos {

namespace {

constexpr size_t kMaxExamples = 10;

std::string Handle(int partition, int64_t offset) {
  return std::to_string(partition) + "-" + std::to_string(offset);
}

// Where an id sits in the final log.
struct Position {
  int partition = -1;
  int64_t offset = -1;
};

// The final log of a partition: the replica with the highest high watermark (lowest broker id
// on ties), its entries below that watermark.
const Replica* FinalReplica(const std::map<int, Replica>& replicas) {
  const Replica* best = nullptr;
  for (const auto& [broker, r] : replicas) {
    if (r.answered && (best == nullptr || r.high_watermark > best->high_watermark)) best = &r;
  }
  return best;
}

// Figures are handed out by reference while more are added: a deque keeps them in place.
class Builder {
 public:
  Figure& Add(const std::string& name, bool must_be_zero) {
    figures_.push_back({name, 0, must_be_zero, {}});
    return figures_.back();
  }
  static void Count(Figure& f, const std::string& example) {
    ++f.value;
    if (f.examples.size() < kMaxExamples) f.examples.push_back(example);
  }
  Report Take() {
    Report r;
    r.figures.assign(std::make_move_iterator(figures_.begin()),
                     std::make_move_iterator(figures_.end()));
    return r;
  }

 private:
  std::deque<Figure> figures_;
};

}  // namespace

bool AckAnswer::Applied(const std::string& handle) const {
  return status == 200 && std::find(handles.begin(), handles.end(), handle) != handles.end() &&
         std::find(unknown.begin(), unknown.end(), handle) == unknown.end();
}

Replica ParseReplica(const Json& log) {
  Replica r;
  if (!log.is_object()) return r;
  r.answered = true;
  r.high_watermark = log.value("high_watermark", int64_t{-1});
  const Json& entries = log.contains("entries") ? log["entries"] : Json();
  if (!entries.is_array()) return r;
  for (const Json& e : entries) {
    if (!e.is_object()) continue;
    ReplicaEntry entry;
    entry.offset = e.value("offset", int64_t{-1});
    entry.epoch = e.value("epoch", int64_t{-1});
    entry.id = e.value("id", "");
    entry.raw = e;
    r.entries.push_back(std::move(entry));
  }
  return r;
}

bool Report::ok() const {
  for (const auto& f : figures) {
    if (f.must_be_zero && f.value != 0) return false;
  }
  return true;
}

int64_t Report::Value(const std::string& name) const {
  for (const auto& f : figures) {
    if (f.name == name) return f.value;
  }
  return -1;
}

std::string Report::Table() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof(line), "%-44s %12s  %s\n", "figure", "value", "must be 0");
  out += line;
  out += std::string(70, '-') + "\n";
  for (const auto& f : figures) {
    std::snprintf(line, sizeof(line), "%-44s %12lld  %s\n", f.name.c_str(),
                  static_cast<long long>(f.value),
                  f.must_be_zero ? (f.value == 0 ? "yes: ok" : "yes: VIOLATED") : "");
    out += line;
  }
  out += std::string(70, '-') + "\n";
  out += ok() ? "result: PASS\n" : "result: FAIL\n";
  for (const auto& f : figures) {
    if (f.examples.empty() || (!f.must_be_zero && f.value == 0)) continue;
    if (!f.must_be_zero) continue;
    out += f.name + ", first cases:\n";
    for (const auto& e : f.examples) out += "  " + e + "\n";
  }
  return out;
}

Json Report::ToJson() const {
  Json figures_json = Json::array();
  for (const auto& f : figures) {
    figures_json.push_back({{"name", f.name},
                            {"value", f.value},
                            {"must_be_zero", f.must_be_zero},
                            {"examples", f.examples}});
  }
  return {{"result", ok() ? "pass" : "fail"}, {"figures", figures_json}};
}

Report Check(const CheckInput& in) {
  Builder b;

  // ---- the final logs ----
  std::map<int, const Replica*> final_logs;
  std::map<std::string, std::vector<Position>> where;  // id -> every position in final logs
  std::map<std::pair<int, int64_t>, const ReplicaEntry*> at;  // (partition, offset) -> entry
  for (int p = 0; p < in.partitions; ++p) {
    auto it = in.replicas.find(p);
    const Replica* f = it == in.replicas.end() ? nullptr : FinalReplica(it->second);
    final_logs[p] = f;
    if (f == nullptr) continue;
    for (const auto& e : f->entries) {
      if (e.offset >= f->high_watermark) continue;
      at[{p, e.offset}] = &e;
      if (!e.id.empty()) where[e.id].push_back({p, e.offset});
    }
  }

  // ---- writes ----
  int64_t acked = 0, unfinished = 0, attempts = 0, failed = 0, indeterminate = 0;
  for (const auto& w : in.writes) {
    (w.outcome == Outcome::kOk ? acked : unfinished) += 1;
    attempts += w.attempts;
    failed += w.failed_attempts;
    indeterminate += w.indeterminate_attempts;
  }
  b.Add("writes (unique ids)", false).value = static_cast<int64_t>(in.writes.size());
  b.Add("acknowledged writes", false).value = acked;
  b.Add("writes not acked when producers stopped", false).value = unfinished;
  b.Add("produce requests", false).value = attempts;
  b.Add("  answered 4xx (failed)", false).value = failed;
  b.Add("  no answer or 5xx (indeterminate)", false).value = indeterminate;

  Figure& unsettled = b.Add("partitions not settled after healing", true);
  for (const auto& u : in.unsettled) Builder::Count(unsettled, u);
  Figure& lost = b.Add("lost (acked, absent from the log)", true);
  Figure& dup = b.Add("duplicated in the log", true);
  Figure& mismatch = b.Add("replica mismatches below the hwm", true);
  Figure& deposed = b.Add("acks not matching the log (deposed leader)", true);
  Figure& stream_bad = b.Add("stream reads not in the final log", true);
  Figure& never = b.Add("acked, never delivered to the group", true);
  Figure& redelivered_acked = b.Add("acked, then redelivered", true);
  Figure& redelivered = b.Add("redeliveries of unacked messages", false);
  Figure& log_order = b.Add("per-key order violations in the log", true);
  Figure& group_order = b.Add("per-key order violations in the group", true);

  for (const auto& w : in.writes) {
    if (w.outcome != Outcome::kOk) continue;
    auto it = where.find(w.id);
    if (it == where.end()) {
      Builder::Count(lost, "id " + w.id + " acked by broker " + std::to_string(w.answered_by) +
                               " at " + std::to_string(w.acked_ms) + " ms as " +
                               Handle(w.partition, w.offset) + " (epoch known " +
                               std::to_string(w.answered_epoch) + ") is in no final log");
    }
    auto e = at.find({w.partition, w.offset});
    if (e == at.end() || e->second->id != w.id) {
      Builder::Count(deposed,
                     "id " + w.id + " acked by broker " + std::to_string(w.answered_by) + " at " +
                         std::to_string(w.acked_ms) + " ms as " + Handle(w.partition, w.offset) +
                         (w.duplicate ? " (duplicate)" : "") + ", final log holds " +
                         (e == at.end() ? std::string("nothing")
                                        : "id '" + e->second->id + "' epoch " +
                                              std::to_string(e->second->epoch)));
    }
  }
  for (const auto& [id, positions] : where) {
    if (positions.size() < 2) continue;
    std::string s;
    for (const auto& pos : positions) s += " " + Handle(pos.partition, pos.offset);
    Builder::Count(dup, "id " + id + " at" + s);
  }

  // ---- replicas ----
  for (int p = 0; p < in.partitions; ++p) {
    auto it = in.replicas.find(p);
    if (it == in.replicas.end()) {
      Builder::Count(mismatch, "partition " + std::to_string(p) + ": no replica read");
      continue;
    }
    int64_t min_hwm = INT64_MAX;
    int64_t from = 0;
    for (const auto& [broker, r] : it->second) {
      if (!r.answered) {
        Builder::Count(mismatch, "partition " + std::to_string(p) + ": broker " +
                                     std::to_string(broker) + " did not answer its log");
        continue;
      }
      min_hwm = std::min(min_hwm, r.high_watermark);
      if (!r.entries.empty()) from = std::max(from, r.entries.front().offset);
    }
    if (min_hwm == INT64_MAX) continue;
    std::map<int, std::map<int64_t, const ReplicaEntry*>> by_offset;
    for (const auto& [broker, r] : it->second) {
      for (const auto& e : r.entries) by_offset[broker][e.offset] = &e;
    }
    for (int64_t off = from; off < min_hwm; ++off) {
      const ReplicaEntry* ref = nullptr;
      int ref_broker = 0;
      for (const auto& [broker, r] : it->second) {
        if (!r.answered) continue;
        auto e = by_offset[broker].find(off);
        if (e == by_offset[broker].end()) {
          Builder::Count(mismatch, Handle(p, off) + ": broker " + std::to_string(broker) +
                                       " lacks it below every hwm");
          continue;
        }
        if (ref == nullptr) {
          ref = e->second;
          ref_broker = broker;
        } else if (e->second->raw != ref->raw) {
          Builder::Count(mismatch, Handle(p, off) + ": broker " + std::to_string(ref_broker) +
                                       " has id '" + ref->id + "' epoch " +
                                       std::to_string(ref->epoch) + ", broker " +
                                       std::to_string(broker) + " has id '" + e->second->id +
                                       "' epoch " + std::to_string(e->second->epoch));
        }
      }
    }
  }

  // ---- stream reads ----
  for (const auto& g : in.stream_gaps) Builder::Count(stream_bad, g);
  for (const auto& s : in.stream_reads) {
    auto e = at.find({s.partition, s.offset});
    if (e == at.end() || e->second->id != s.id) {
      Builder::Count(stream_bad, "stream read " + Handle(s.partition, s.offset) + " id '" + s.id +
                                     "', final log holds " +
                                     (e == at.end() ? std::string("nothing")
                                                    : "'" + e->second->id + "'"));
    }
  }

  // ---- the group ----
  // Earliest answer that applied an ack, per handle.
  std::map<std::string, int64_t> acked_at;
  for (const auto& a : in.acks) {
    for (const auto& h : a.handles) {
      if (!a.Applied(h)) continue;
      auto [it, inserted] = acked_at.emplace(h, a.answered_ms);
      if (!inserted) it->second = std::min(it->second, a.answered_ms);
    }
  }
  std::map<std::string, int> deliveries_of;
  for (const auto& d : in.deliveries) ++deliveries_of[d.handle];
  for (const auto& w : in.writes) {
    if (w.outcome != Outcome::kOk) continue;
    auto it = where.find(w.id);
    if (it == where.end()) continue;  // lost: counted above
    const std::string h = Handle(it->second.front().partition, it->second.front().offset);
    if (deliveries_of.count(h) == 0) {
      Builder::Count(never, "id " + w.id + " at " + h + " (acked at " +
                                std::to_string(w.acked_ms) + " ms) never delivered");
    }
  }
  std::map<std::string, int> first_seen;
  std::map<std::string, const AckAnswer*> applying_ack;  // handle -> the earliest applied ack
  for (const auto& a : in.acks) {
    for (const auto& h : a.handles) {
      if (a.Applied(h) && acked_at[h] == a.answered_ms && !applying_ack.count(h)) {
        applying_ack[h] = &a;
      }
    }
  }
  for (const auto& d : in.deliveries) {
    auto a = acked_at.find(d.handle);
    if (a != acked_at.end() && a->second < d.pull_started_ms) {
      const AckAnswer* ack = applying_ack[d.handle];
      Builder::Count(redelivered_acked,
                     d.handle + " (id " + d.id + ") ack sent via broker " +
                         std::to_string(ack ? ack->via : 0) + " at " +
                         std::to_string(ack ? ack->sent_ms : 0) + " ms, answered as applied at " +
                         std::to_string(a->second) + " ms; delivered again to " + d.consumer +
                         " (delivery " + std::to_string(d.delivery) + ") by a pull via broker " +
                         std::to_string(d.via) + " started at " +
                         std::to_string(d.pull_started_ms) + " ms, answered at " +
                         std::to_string(d.pull_ended_ms) + " ms");
    } else if (first_seen[d.handle]++ > 0) {
      Builder::Count(redelivered, d.handle);
    }
  }
  // Group order: a delivery of offset o of key K by a pull that started after an applied ack
  // of a later offset of K, while o itself had no applied ack yet.
  {
    struct KeyAck {
      int64_t time;
      int partition;
      int64_t offset;
    };
    std::map<std::string, std::vector<KeyAck>> acks_by_key;
    std::map<std::string, std::string> key_of_handle;
    for (const auto& d : in.deliveries) key_of_handle[d.handle] = d.key;
    for (const auto& [h, t] : acked_at) {
      auto k = key_of_handle.find(h);
      if (k == key_of_handle.end() || k->second.empty()) continue;
      const size_t dash = h.find('-');
      acks_by_key[k->second].push_back(
          {t, std::stoi(h.substr(0, dash)), std::stoll(h.substr(dash + 1))});
    }
    for (const auto& d : in.deliveries) {
      if (d.key.empty()) continue;
      auto ka = acks_by_key.find(d.key);
      if (ka == acks_by_key.end()) continue;
      const size_t dash = d.handle.find('-');
      const int p = std::stoi(d.handle.substr(0, dash));
      const int64_t o = std::stoll(d.handle.substr(dash + 1));
      auto own = acked_at.find(d.handle);
      if (own != acked_at.end() && own->second < d.pull_started_ms) continue;  // counted above
      for (const auto& a : ka->second) {
        if (a.partition == p && a.offset > o && a.time < d.pull_started_ms) {
          Builder::Count(group_order, "key " + d.key + ": " + d.handle + " delivered to " +
                                          d.consumer + " by a pull started at " +
                                          std::to_string(d.pull_started_ms) + " ms after " +
                                          Handle(a.partition, a.offset) + " was acked at " +
                                          std::to_string(a.time) + " ms");
          break;
        }
      }
    }
  }

  // Log order: per producer thread and key, acked writes in sequence order sit at increasing
  // offsets of the final log.
  {
    std::map<std::pair<int, std::string>, std::vector<const Write*>> by_key;
    for (const auto& w : in.writes) {
      if (w.outcome == Outcome::kOk && !w.key.empty()) by_key[{w.thread, w.key}].push_back(&w);
    }
    for (auto& [k, ws] : by_key) {
      std::sort(ws.begin(), ws.end(),
                [](const Write* a, const Write* c) { return a->key_seq < c->key_seq; });
      Position prev;
      const Write* prev_w = nullptr;
      for (const Write* w : ws) {
        auto it = where.find(w->id);
        if (it == where.end()) continue;
        const Position pos = it->second.front();
        if (prev_w != nullptr && (pos.partition != prev.partition || pos.offset <= prev.offset)) {
          Builder::Count(log_order, "key " + k.second + ": seq " + std::to_string(w->key_seq) +
                                        " (" + w->id + ") at " +
                                        Handle(pos.partition, pos.offset) + " after seq " +
                                        std::to_string(prev_w->key_seq) + " at " +
                                        Handle(prev.partition, prev.offset));
        }
        prev = pos;
        prev_w = w;
      }
    }
  }

  b.Add("group deliveries", false).value = static_cast<int64_t>(in.deliveries.size());
  b.Add("stream reads", false).value = static_cast<int64_t>(in.stream_reads.size());

  // Longest write outage: the longest gap between consecutive acks (and the start and end of
  // the producers) while producers ran.
  {
    std::vector<int64_t> times{in.producers_started_ms, in.producers_stopped_ms};
    for (const auto& w : in.writes) {
      if (w.outcome == Outcome::kOk && w.acked_ms >= in.producers_started_ms &&
          w.acked_ms <= in.producers_stopped_ms) {
        times.push_back(w.acked_ms);
      }
    }
    std::sort(times.begin(), times.end());
    int64_t gap = 0;
    for (size_t i = 1; i < times.size(); ++i) gap = std::max(gap, times[i] - times[i - 1]);
    b.Add("longest write outage (ms)", false).value = gap;
  }
  return b.Take();
}

Json RecordsJson(const CheckInput& in) {
  Json writes = Json::array(), deliveries = Json::array(), acks = Json::array();
  for (const auto& w : in.writes) {
    writes.push_back({{"id", w.id}, {"key", w.key}, {"thread", w.thread}, {"seq", w.key_seq},
                      {"acked", w.outcome == Outcome::kOk}, {"attempts", w.attempts},
                      {"partition", w.partition}, {"offset", w.offset},
                      {"duplicate", w.duplicate}, {"answered_by", w.answered_by},
                      {"epoch_known", w.answered_epoch}, {"sent_ms", w.sent_ms},
                      {"acked_ms", w.acked_ms}});
  }
  for (const auto& d : in.deliveries) {
    deliveries.push_back({{"handle", d.handle}, {"id", d.id}, {"key", d.key},
                          {"consumer", d.consumer}, {"via", d.via}, {"delivery", d.delivery},
                          {"pull_started_ms", d.pull_started_ms},
                          {"pull_ended_ms", d.pull_ended_ms}});
  }
  for (const auto& a : in.acks) {
    acks.push_back({{"handles", a.handles}, {"unknown", a.unknown}, {"status", a.status},
                    {"via", a.via}, {"sent_ms", a.sent_ms}, {"answered_ms", a.answered_ms},
                    {"acked", a.acked}});
  }
  return {{"writes", writes}, {"deliveries", deliveries}, {"acks", acks},
          {"producers_started_ms", in.producers_started_ms},
          {"producers_stopped_ms", in.producers_stopped_ms}};
}

}  // namespace zoomq::chaos
