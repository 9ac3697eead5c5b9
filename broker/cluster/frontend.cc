#include "broker/cluster/frontend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>

#include "broker/cluster/fan_out.h"

namespace zoomq::broker::cluster {

using SteadyClock = std::chrono::steady_clock;

namespace {

// A subscription stream polls the remote leaders at most this often.
constexpr auto kRemotePollMin = std::chrono::milliseconds(200);

Status NotController(int32_t self) {
  return Status(Code::kNotLeader,
                "broker " + std::to_string(self) + " is not the controller; retry");
}

// Runs the calls concurrently (the first on this thread) and returns when all are done.
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

}  // namespace

// --- Topics --------------------------------------------------------------------------------

Result<std::string> Frontend::OtherController() {
  auto url = router_.ControllerUrl();
  if (!url) return Status(Code::kNoLeader, "no controller elected; retry shortly");
  if (IsSelf(*url)) return Status(Code::kNoLeader, "the controller is changing; retry shortly");
  return *url;
}

Result<CreateOutcome> Frontend::CreateTopic(const TopicSpec& spec, bool forwarded) {
  if (router_.IsController()) return router_.CreateTopic(spec);
  if (forwarded) return NotController(router_.self_id());
  auto url = OtherController();
  if (!url.ok()) return url.status();
  return peers_.CreateTopic(url.value(), spec, budgets_.topic_admin_ms);
}

Status Frontend::DeleteTopic(const std::string& topic, bool forwarded) {
  if (router_.IsController()) return router_.DeleteTopic(topic);
  if (forwarded) return NotController(router_.self_id());
  auto url = OtherController();
  if (!url.ok()) return url.status();
  return peers_.DeleteTopic(url.value(), topic, budgets_.topic_admin_ms);
}

Status Frontend::ControlledShutdown(int32_t broker, bool forwarded) {
  if (router_.IsController()) return router_.ControlledShutdown(broker);
  if (forwarded) return NotController(router_.self_id());
  auto url = OtherController();
  if (!url.ok()) return url.status();
  return peers_.ControlledShutdown(url.value(), broker, budgets_.controlled_shutdown_ms);
}

// --- Produce -------------------------------------------------------------------------------

Result<std::vector<ProduceResult>> Frontend::Produce(const std::string& topic,
                                                     std::vector<ProduceMessage> messages) {
  auto placed = svc_.Place(topic, messages);
  if (!placed.ok()) return placed.status();
  // Every share goes with explicit partitions: a leader must not place a message again
  // (round robin would pick another partition, maybe one it does not lead).
  for (size_t i = 0; i < messages.size(); ++i) messages[i].partition = placed.value()[i];

  using Results = std::vector<ProduceResult>;
  auto batch = std::make_shared<const std::vector<ProduceMessage>>(std::move(messages));
  auto local = [&](const Part& part) -> Result<Results> {
    std::vector<ProduceMessage> mine;
    mine.reserve(part.items.size());
    for (size_t i : part.items) mine.push_back((*batch)[i]);
    return svc_.Produce(topic, std::move(mine));
  };
  // A remote share reads the batch through its own reference: it may outlive this call.
  auto prepare = [&](const Part& part) -> std::function<Result<Results>()> {
    return [this, batch, topic, part, timeout = WriteBudget()]() -> Result<Results> {
      std::vector<const ProduceMessage*> theirs;
      theirs.reserve(part.items.size());
      for (size_t i : part.items) theirs.push_back(&(*batch)[i]);
      auto r = peers_.Produce(part.url, topic, theirs, timeout);
      if (r.ok() && r->size() != part.items.size()) {
        return Status::Unavailable("broker at " + part.url + " did not answer: " +
                                   "unexpected produce answer");
      }
      return r;
    };
  };
  auto outcomes = FanOut<Results>(
      router_, topic, batch->size(), [&](size_t i) { return placed.value()[i]; }, local, prepare);
  if (!outcomes.ok()) return outcomes.status();
  if (Status st = FirstFailure(outcomes.value()); !st.ok()) return st;
  std::vector<std::optional<ProduceResult>> results(batch->size());
  for (const auto& o : outcomes.value()) {
    if (o.result->size() != o.part.items.size()) {
      return Status::Internal("a part of the batch has " + std::to_string(o.result->size()) +
                              " results for " + std::to_string(o.part.items.size()) +
                              " messages");
    }
    for (size_t k = 0; k < o.part.items.size(); ++k) results[o.part.items[k]] = o.result.value()[k];
  }
  Results out;
  out.reserve(results.size());
  for (auto& r : results) {
    if (!r) return Status::Internal("a part of the batch has no result");
    out.push_back(*r);
  }
  return out;
}

// --- Stream read ---------------------------------------------------------------------------

std::optional<Result<StreamRead>> Frontend::Read(const std::string& topic, int64_t partition,
                                                 uint64_t from, size_t max, TimeMs wait_ms) {
  auto t = svc_.DescribeTopic(topic);
  // Unknown topic or partition: the local service gives the error.
  if (!t.ok() || partition < 0 || partition >= t->config.partitions) return std::nullopt;
  const int32_t p = static_cast<int32_t>(partition);
  auto url = router_.LeaderUrl(topic, p);
  if (!url) return Result<StreamRead>(fan_out_internal::NoLeader(topic, p));
  if (IsSelf(*url)) return std::nullopt;
  return peers_.Read(*url, PeerRead{topic, p, from, max, wait_ms},
                     wait_ms + budgets_.stream_read_extra_ms);
}

// --- ack / nack / extend -------------------------------------------------------------------

Result<AckResult> Frontend::Lease(const std::string& topic, const std::string& group,
                                   LeaseVerb verb, const std::vector<MessageRef>& ids,
                                   std::optional<int64_t> number) {
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return t.status();
  const int32_t n = t->config.partitions;
  const TimeMs visibility = t->config.visibility_timeout_ms;

  // A share whose broker has never seen the group answers GROUP_NOT_FOUND: nothing is leased
  // there, so its ids are unknown; only when every share says so is the answer that error.
  auto local = [&](const Part& part) -> Result<AckResult> {
    std::vector<MessageRef> mine;
    mine.reserve(part.items.size());
    for (size_t i : part.items) mine.push_back(ids[i]);
    if (verb == LeaseVerb::kAck) return svc_.Ack(topic, group, mine);
    if (verb == LeaseVerb::kNack) return svc_.Nack(topic, group, mine, number.value_or(0));
    return svc_.Extend(topic, group, mine, number.value_or(visibility));
  };
  auto prepare = [&](const Part& part) -> std::function<Result<AckResult>()> {
    PeerLease lease{topic, group, verb, {}, number};
    for (size_t i : part.items) lease.ids.push_back(ids[i].text);
    return [this, url = part.url, lease = std::move(lease), timeout = WriteBudget()] {
      return peers_.Lease(url, lease, timeout);
    };
  };
  auto partition_of = [&](size_t i) {
    // Partitions the topic lacks: "unknown", answered here.
    return ids[i].partition >= 0 && ids[i].partition < n ? ids[i].partition : -1;
  };
  auto outcomes = FanOut<AckResult>(router_, topic, ids.size(), partition_of, local, prepare);
  if (!outcomes.ok()) return outcomes.status();
  if (ids.empty()) {
    // Nothing to split: the local service still says whether the group exists.
    auto r = local(Part{router_.self_url(), true, {}});
    if (!r.ok()) return r.status();
    return AckResult{};
  }
  // Shares in item order, so the unknown ids keep the request's order within each broker.
  std::vector<const PartOutcome<AckResult>*> parts;
  for (const auto& o : outcomes.value()) parts.push_back(&o);
  std::sort(parts.begin(), parts.end(), [](auto* a, auto* b) {
    return a->part.items.front() < b->part.items.front();
  });
  Status first_failure = Status::Ok();
  std::optional<Status> no_group;
  size_t without_group = 0;
  AckResult merged;
  for (const auto* o : parts) {
    if (o->result.ok()) {
      merged.applied += o->result->applied;
      for (const std::string& u : o->result->unknown) merged.unknown.push_back(u);
    } else if (o->result.status().code() == Code::kGroupNotFound) {
      ++without_group;
      if (!no_group) no_group = o->result.status();
      for (size_t i : o->part.items) merged.unknown.push_back(ids[i].text);
    } else if (first_failure.ok()) {
      first_failure = o->result.status();
    }
  }
  if (!first_failure.ok()) return first_failure;
  if (without_group == parts.size() && no_group) return *no_group;
  return merged;
}

// --- Group pull ----------------------------------------------------------------------------

std::vector<std::string> Frontend::RemoteLeaders(const std::string& topic, int32_t partitions,
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

Result<std::vector<DeliveredMessage>> Frontend::Pull(const std::string& topic,
                                                     const std::string& group,
                                                     const std::string& consumer, size_t max,
                                                     TimeMs wait_ms,
                                                     std::optional<TimeMs> visibility,
                                                     const std::set<int32_t>& only) {
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return t.status();
  const int32_t n = t->config.partitions;
  for (int32_t p : only) {
    if (p >= n) {
      return Status(Code::kPartitionNotFound, "partition " + std::to_string(p) +
                                                  " of topic '" + topic +
                                                  "' does not exist (query parameter "
                                                  "'partitions')");
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
  std::vector<DeliveredMessage> collected;
  // How long to wait for a local change before asking the remote leaders again: short at
  // first, longer while nothing changes here (a follower sees new messages of the partitions
  // it follows; only remote redeliveries go unnoticed until the next poll).
  TimeMs interval = 100;
  for (;;) {
    const uint64_t gen = svc_.Generation(topic);
    bool leads_one = false;
    std::vector<std::string> remotes = RemoteLeaders(topic, n, only, &leads_one);
    // Sources: "" = this broker (always, unless a filter names none of its partitions: the
    // local pull also creates the group here), then the remote leaders; a request starts at
    // the next one in turn, so no leader is always last.
    std::vector<std::string> sources;
    if (only.empty() || leads_one) sources.push_back("");
    for (auto& u : remotes) sources.push_back(u);
    const size_t start = sources.empty() ? 0 : rotation.fetch_add(1) % sources.size();
    for (size_t k = 0; k < sources.size() && collected.size() < max; ++k) {
      const std::string& src = sources[(start + k) % sources.size()];
      const size_t want = max - collected.size();
      if (src.empty()) {
        auto r = svc_.Pull(topic, group, consumer, want, 0, visibility);
        if (!r.ok()) return r.status();
        for (DeliveredMessage& m : r.value()) collected.push_back(std::move(m));
      } else {
        auto r = peers_.Pull(src, PeerPull{topic, group, consumer, std::min<size_t>(want, 1000),
                                           visibility},
                             budgets_.read_ms);
        if (!r.ok()) {
          spdlog::debug("pull {}/{} from {}: {}", topic, group, src, r.status().message());
          continue;
        }
        for (DeliveredMessage& m : r->messages) collected.push_back(std::move(m));
      }
    }
    const auto now = SteadyClock::now();
    if (!collected.empty() || now >= deadline || svc_.stopping()) break;
    if (auto still = svc_.DescribeTopic(topic); !still.ok()) return still.status();
    if (!admitted) {
      if (!svc_.AdmitWaiter()) {
        return Status(Code::kOverloaded, "too many waiting consumers; retry later");
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
  return collected;
}

void Frontend::PollRemotes(RemoteStream& state, const std::string& topic,
                           const std::string& group, const std::string& consumer, size_t budget,
                           std::optional<TimeMs> visibility, std::vector<DeliveredMessage>* out) {
  const auto now = SteadyClock::now();
  const uint64_t gen = svc_.Generation(topic);
  const auto since = now - state.last_poll;
  if (since < kRemotePollMin) return;
  if (gen == state.seen_generation && since < std::chrono::milliseconds(state.interval_ms)) {
    return;
  }
  state.last_poll = now;
  state.seen_generation = gen;
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return;
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
      auto r = peers_.Pull(
          url, PeerPull{topic, group, consumer, std::min<size_t>(budget - held, 1000), visibility},
          budgets_.read_ms);
      if (!r.ok()) continue;
      const size_t got = r->messages.size();
      for (DeliveredMessage& m : r->messages) out->push_back(std::move(m));
      sent += got;
      state.in_flight[url] = r->in_flight ? *r->in_flight : state.in_flight[url] + got;
    } else {
      auto k = peers_.InFlight(url, topic, group, consumer, budgets_.in_flight_ms);
      if (k.ok()) state.in_flight[url] = k.value();
    }
  }
  state.interval_ms = sent > 0 ? 200 : std::min<TimeMs>(state.interval_ms * 2, 1000);
}

// --- Group stats and creation --------------------------------------------------------------

Result<GroupInfo> Frontend::DescribeGroup(const std::string& topic, const std::string& group) {
  auto local = svc_.DescribeGroup(topic, group);
  if (!local.ok() && local.status().code() != Code::kGroupNotFound) return local.status();
  auto t = svc_.DescribeTopic(topic);
  if (!t.ok()) return t.status();
  bool leads_one = false;
  std::vector<std::string> remotes = RemoteLeaders(topic, t->config.partitions, {}, &leads_one);
  std::vector<Result<GroupInfo>> answers(remotes.size(), Status::Internal("not asked"));
  std::vector<std::function<void()>> tasks;
  for (size_t k = 0; k < remotes.size(); ++k) {
    tasks.push_back([&, k] {
      answers[k] = peers_.DescribeGroup(remotes[k], topic, group, budgets_.read_ms);
    });
  }
  RunAll(tasks);

  std::optional<GroupInfo> merged;
  auto add = [&](const GroupInfo& g) {
    if (!merged) {
      merged = g;
      return;
    }
    merged->backlog += g.backlog;
    merged->in_flight += g.in_flight;
    merged->acked += g.acked;
    merged->dead_lettered += g.dead_lettered;
    if (g.created_ms > 0 && g.created_ms < merged->created_ms) merged->created_ms = g.created_ms;
    for (const GroupConsumerInfo& c : g.consumers) {
      auto it = std::find_if(merged->consumers.begin(), merged->consumers.end(),
                             [&](const GroupConsumerInfo& m) { return m.consumer == c.consumer; });
      if (it == merged->consumers.end()) {
        merged->consumers.push_back(c);
      } else {
        it->last_seen_ms = std::max(it->last_seen_ms, c.last_seen_ms);
      }
    }
  };
  if (local.ok()) add(local.value());
  for (const Result<GroupInfo>& a : answers) {
    if (a.ok()) {
      add(a.value());
    } else if (a.status().code() != Code::kGroupNotFound) {
      return a.status();  // partial stats would mislead (a backlog of 0 that is not)
    }
  }
  if (!merged) return local.status();
  std::sort(merged->consumers.begin(), merged->consumers.end(),
            [](const GroupConsumerInfo& a, const GroupConsumerInfo& b) {
              return a.consumer < b.consumer;
            });
  return *merged;
}

Result<Frontend::GroupCreated> Frontend::CreateGroup(const std::string& topic,
                                                     const std::string& group, bool latest) {
  auto r = svc_.CreateGroup(topic, group, latest);
  if (!r.ok()) return r.status();
  bool created = r.value();
  std::vector<std::string> others;
  for (auto& url : router_.BrokerUrls()) {
    if (!IsSelf(url)) others.push_back(url);
  }
  std::vector<Result<bool>> answers(others.size(), Status::Internal("not asked"));
  std::vector<std::function<void()>> tasks;
  for (size_t k = 0; k < others.size(); ++k) {
    tasks.push_back([&, k] {
      answers[k] = peers_.CreateGroup(others[k], topic, group, latest, WriteBudget());
    });
  }
  RunAll(tasks);
  for (const Result<bool>& a : answers) {
    // A leader that missed the creation would start the group at its earliest message on
    // the first pull: the client must retry (idempotent).
    if (!a.ok()) return a.status();
    if (a.value()) created = true;
  }
  auto info = svc_.DescribeGroup(topic, group);
  if (!info.ok()) return info.status();
  return GroupCreated{created, std::move(info).value()};
}

}  // namespace zoomq::broker::cluster
