// FanOut: runs one request's items at the brokers leading their partitions (docs/api.md,
// "Cluster"). Items are split by leader; this broker's share runs on the calling thread, each
// other broker's share on a thread of its own, all at once. A share that another broker
// answered NOT_LEADER (its leadership moved meanwhile), or that was still waiting for an
// answer when the metadata named another leader for one of its partitions (a paused or
// partitioned leader: the answer may never come), gets one more round at the leader the
// metadata names then. Idempotent ids keep a write re-routed this way from being duplicated.
//
// A share abandoned while in flight keeps running on its thread until its own timeout; what
// it captured must not point into the caller's frame (the `Prepare` step copies its inputs).
//
// Thread-safety: a FanOut is used by one request; the router and peers are shared.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "broker/cluster/cluster_router.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::cluster {

// After a leader answered NOT_LEADER (or was abandoned), how long the second round waits for
// the metadata to name a new leader.
inline constexpr TimeMs kLeaderMoveWaitMs = 1000;

// One broker's share of a request.
struct Part {
  std::string url;
  bool local = false;          // this broker's share
  std::vector<size_t> items;   // indices into the request's items, ascending
};

// The outcome of one share that ended (with its answer or its failure).
template <typename R>
struct PartOutcome {
  Part part;
  Result<R> result;
};

// Splits items 0..count-1 by the leader of `partition_of(i)` (< 0: served here) and runs
// them: `local(part)` on this thread, `prepare(part)()` on a thread per remote share.
// Returns the outcomes of every share (in either round), or NO_LEADER when an item's partition
// has no leader. A remote share is abandoned (answered NOT_LEADER, and re-routed once) as soon
// as the router names another leader for one of its partitions.
template <typename R>
Result<std::vector<PartOutcome<R>>> FanOut(
    ClusterRouter& router, const std::string& topic, size_t count,
    const std::function<int32_t(size_t)>& partition_of,
    const std::function<Result<R>(const Part&)>& local,
    const std::function<std::function<Result<R>()>(const Part&)>& prepare);

// --- Implementation ------------------------------------------------------------------------

namespace fan_out_internal {

Status NoLeader(const std::string& topic, int32_t partition);
bool IsNotLeader(const Status& st);
Status Abandoned(const std::string& url, const std::string& topic, int32_t partition);

// What the waiting thread and the remote threads of one round share.
template <typename R>
struct Round {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Result<R>>> answers;  // per remote share
  uint64_t leadership_changes = 0;
};

// Waits until the leaders of `moved` differ from the URLs they had, or the wait ran out.
void AwaitLeaders(ClusterRouter& router, const std::string& topic,
                  const std::map<int32_t, std::string>& moved);

// Calls `on_change` on every leadership change while alive.
class LeadershipWatch {
 public:
  LeadershipWatch(ClusterRouter& router, std::function<void()> on_change)
      : router_(router), id_(router.AddLeadershipListener(std::move(on_change))) {}
  ~LeadershipWatch() { router_.RemoveLeadershipListener(id_); }
  LeadershipWatch(const LeadershipWatch&) = delete;
  LeadershipWatch& operator=(const LeadershipWatch&) = delete;

 private:
  ClusterRouter& router_;
  const int id_;
};

}  // namespace fan_out_internal

template <typename R>
Result<std::vector<PartOutcome<R>>> FanOut(
    ClusterRouter& router, const std::string& topic, size_t count,
    const std::function<int32_t(size_t)>& partition_of,
    const std::function<Result<R>(const Part&)>& local,
    const std::function<std::function<Result<R>()>(const Part&)>& prepare) {
  namespace fi = fan_out_internal;
  std::vector<size_t> pending(count);
  for (size_t i = 0; i < count; ++i) pending[i] = i;
  std::vector<PartOutcome<R>> outcomes;
  std::map<int32_t, std::string> moved;  // partition -> the leader that gave it up
  const std::string self = router.self_url();
  for (int round = 0; round < 2 && !pending.empty(); ++round) {
    if (round == 1) fi::AwaitLeaders(router, topic, moved);
    moved.clear();
    // Split by leader.
    std::map<int32_t, std::string> leader_of;
    std::map<std::string, std::vector<size_t>> by_url;
    for (size_t i : pending) {
      const int32_t p = partition_of(i);
      std::string url = self;
      if (p >= 0) {
        auto it = leader_of.find(p);
        if (it == leader_of.end()) {
          auto u = router.LeaderUrl(topic, p);
          if (!u) return fi::NoLeader(topic, p);
          it = leader_of.emplace(p, *u).first;
        }
        url = it->second;
      }
      by_url[url].push_back(i);
    }
    std::optional<Part> mine;
    std::vector<Part> remote;
    for (auto& [url, items] : by_url) {
      Part part{url, url == self, std::move(items)};
      if (part.local) {
        mine = std::move(part);
      } else {
        remote.push_back(std::move(part));
      }
    }
    // Only a request with remote shares watches leadership (a request served here alone
    // costs nothing more); a move between the split and the watch is caught by the first
    // check below, which always runs.
    auto state = std::make_shared<fi::Round<R>>();
    state->answers.resize(remote.size());
    std::optional<fi::LeadershipWatch> watch;
    if (!remote.empty()) {
      watch.emplace(router, [state] {
        std::lock_guard<std::mutex> lock(state->mu);
        ++state->leadership_changes;
        state->cv.notify_all();
      });
    }
    std::vector<std::set<int32_t>> partitions(remote.size());  // of each remote share
    for (size_t k = 0; k < remote.size(); ++k) {
      for (size_t i : remote[k].items) partitions[k].insert(partition_of(i));
      std::function<Result<R>()> call = prepare(remote[k]);
      std::thread([state, k, call = std::move(call)] {
        Result<R> r = Status::Internal("forwarding failed");
        try {
          r = call();
        } catch (const std::exception& e) {
          r = Status::Internal(std::string("forwarding failed: ") + e.what());
        }
        std::lock_guard<std::mutex> lock(state->mu);
        state->answers[k] = std::move(r);
        state->cv.notify_all();
      }).detach();
    }
    std::vector<PartOutcome<R>> round_outcomes;  // this broker's share first
    if (mine) {
      Result<R> r = Status::Internal("forwarding failed");
      try {
        r = local(*mine);
      } catch (const std::exception& e) {
        r = Status::Internal(std::string("local part failed: ") + e.what());
      }
      round_outcomes.push_back({std::move(*mine), std::move(r)});
    }
    // Wait for every remote share, abandoning those whose leadership moved.
    std::vector<std::optional<Result<R>>> answers(remote.size());
    {
      std::unique_lock<std::mutex> lock(state->mu);
      uint64_t seen_changes = ~uint64_t{0};  // never equal at first: check the leaders once
      for (;;) {
        bool waiting = false;
        for (size_t k = 0; k < remote.size(); ++k) {
          if (answers[k]) continue;
          if (state->answers[k]) {
            answers[k] = std::move(state->answers[k]);
            continue;
          }
          waiting = true;
        }
        if (!waiting) break;
        if (state->leadership_changes != seen_changes) {
          seen_changes = state->leadership_changes;
          lock.unlock();
          for (size_t k = 0; k < remote.size(); ++k) {
            if (answers[k]) continue;
            for (int32_t p : partitions[k]) {
              auto now = router.LeaderUrl(topic, p);
              if (!now || *now != remote[k].url) {
                answers[k] = Result<R>(fi::Abandoned(remote[k].url, topic, p));
                break;
              }
            }
          }
          lock.lock();
          continue;
        }
        state->cv.wait(lock);
      }
    }
    for (size_t k = 0; k < remote.size(); ++k) {
      round_outcomes.push_back({std::move(remote[k]), std::move(*answers[k])});
    }
    // Only shares that answered NOT_LEADER (this broker's own included: it lost the lead
    // meanwhile) get a second round; every other failure stays (clearing them answered 200
    // for a request whose failed share was dropped: chaos seed 510120).
    pending.clear();
    for (PartOutcome<R>& o : round_outcomes) {
      if (!o.result.ok() && round == 0 && fi::IsNotLeader(o.result.status())) {
        for (size_t i : o.part.items) {
          pending.push_back(i);
          if (partition_of(i) >= 0) moved[partition_of(i)] = o.part.url;
        }
        continue;
      }
      outcomes.push_back(std::move(o));
    }
    std::sort(pending.begin(), pending.end());
  }
  return outcomes;
}

// The failure of the share holding the lowest item, or Ok when every share succeeded.
template <typename R>
Status FirstFailure(const std::vector<PartOutcome<R>>& outcomes) {
  const PartOutcome<R>* first = nullptr;
  for (const auto& o : outcomes) {
    if (o.result.ok()) continue;
    if (first == nullptr || o.part.items.front() < first->part.items.front()) first = &o;
  }
  return first ? first->result.status() : Status::Ok();
}

}  // namespace zoomq::broker::cluster
