#include "zoomq/client/consumer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "cluster_view.h"
#include "codec.h"
#include "retry.h"

namespace zoomq {

using client_internal::Backoff;
using client_internal::Clock;
using client_internal::ClusterView;
using client_internal::Remaining;
using client_internal::ShouldRetry;
using client_internal::StatusOf;
using client_internal::UrlEncode;
using std::chrono::milliseconds;

namespace {

// Longest wait_ms of one request: the destructor waits for requests in flight, so this
// bounds how long it takes (a longer Poll simply asks again).
constexpr milliseconds kLongPollCap{1000};
// Ids per ack/nack/extend request (the API's limit).
constexpr size_t kMaxIdsPerRequest = 10000;

// "<partition>-<offset>", both non-negative decimals.
bool ParseHandle(const std::string& handle, int* partition) {
  size_t dash = handle.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == handle.size() || dash > 10) {
    return false;
  }
  for (size_t i = 0; i < handle.size(); ++i) {
    if (i != dash && (handle[i] < '0' || handle[i] > '9')) return false;
  }
  if (handle.size() - dash - 1 > 19) return false;
  int64_t p = std::stoll(handle.substr(0, dash));
  if (p > (1 << 30)) return false;
  *partition = static_cast<int>(p);
  return true;
}

std::string RandomName() {
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  std::string name = "c-";
  for (int i = 0; i < 12; ++i) name += kHex[rd() % 16];
  return name;
}

}  // namespace

// Poll machinery: each outstanding request (a group pull from one leader, or a stream read of
// one partition) runs on its own short-lived thread and, when it ends, appends what it got to
// buffer_ and wakes cv_. Poll() hands out the buffer first and only asks again when it is
// empty, so messages a leader answered after Poll returned wait there for the next Poll
// (leased messages are never dropped). At most one request per key is in flight.
class Consumer::Impl {
 public:
  explicit Impl(ConsumerOptions options);
  ~Impl();

  Result<std::vector<ReceivedMessage>> Poll(int max, milliseconds timeout);
  Result<AckResult> Settle(const char* verb, const char* count_key,
                           const std::vector<std::string>& handles, const char* extra_key,
                           int64_t extra_value);
  std::vector<std::pair<int, int64_t>> Positions() const;
  void Seek(int partition, int64_t offset);
  Status Start(Handler handler);
  void Stop();
  const std::string& name() const { return name_; }

 private:
  struct Fetch {
    std::string key;  // leader URL (group) or "p<partition>" (stream)
    std::thread thread;
    bool done = false;
  };
  // What a finished request brought back.
  struct Answer {
    Status status;
    std::vector<ReceivedMessage> messages;
    int partition = -1;  // stream reads
    int64_t from = 0;
    uint64_t seek_generation = 0;
    int64_t first_offset = -1;
    bool broker_down = false;  // the broker refused the connection (its process is gone)
  };

  Status EnsureGroup(Clock::time_point deadline);
  Status EnsureStream(Clock::time_point deadline);
  // Starts the requests that are not in flight. Errors: what LeadersOf/LeaderUrl said.
  Status Launch(milliseconds wait);
  void StartFetchLocked(const std::string& key, HttpRequest request, Answer base);
  void Finish(std::list<Fetch>::iterator fetch, Answer answer);
  // Joins the finished fetch threads (all of them when `all`, waiting for those in flight).
  void Reap(bool all);
  std::vector<ReceivedMessage> TakeLocked(int max);
  // Stream: one GET of `partition` from its leader, retried until `deadline`.
  Result<int64_t> HighWatermark(int partition, Clock::time_point deadline);
  void RunWorker(const Handler& handler);
  // Group mode: gives back the leases of the buffered messages (best effort, one round).
  void ReleaseBuffer();
  // Group mode: forgets the buffered messages that came from `url`, after it refused a
  // connection (its process is gone; a timeout does not count: a slow broker, e.g. one whose
  // ack waits for the in-sync replicas during a failover, still holds its leases). A lease
  // lives on the leader that granted it: once that broker is gone, the message may already
  // be with another consumer, so handing it out would only make a duplicate. It is not lost:
  // the partition's leader delivers it again. (An error answer such as NOT_LEADER does not
  // count: that broker lives and still holds the leases of its other partitions.)
  void DropLeasesLocked(const std::string& url);
  std::string TopicPath() const;

  // Constant after construction.
  const ConsumerOptions options_;
  const std::string name_;
  const bool stream_;
  const std::shared_ptr<Transport> transport_;
  const std::unique_ptr<ClusterView> view_;

  mutable std::mutex mu_;
  std::condition_variable cv_;          // a fetch finished, or stopping_ was set
  // A buffered message and the leader URL that leased it ("" for stream reads).
  struct Buffered {
    ReceivedMessage message;
    std::string source;
  };
  std::deque<Buffered> buffer_;         // leased/read, not yet returned; guarded by mu_
  std::list<Fetch> fetches_;            // guarded by mu_
  Status fetch_error_;                  // the last failed fetch, until a Poll sees it; mu_
  uint64_t answers_ = 0;                // fetches that got an answer; guarded by mu_
  bool group_ready_ = false;            // the group exists; guarded by mu_
  bool stream_ready_ = false;           // positions initialised; guarded by mu_
  std::map<int, int64_t> positions_;    // stream: next offset for the app; guarded by mu_
  std::map<int, int64_t> fetch_from_;   // stream: next offset to ask for; guarded by mu_
  std::map<int, uint64_t> seek_gen_;    // stream: bumped by Seek (drops older reads); mu_
  std::atomic<bool> stopping_{false};

  std::mutex setup_mu_;  // serialises group creation / stream initialisation

  std::vector<std::thread> workers_;  // callback mode; Start/Stop's thread only
};

Consumer::Impl::Impl(ConsumerOptions options)
    : options_(std::move(options)),
      name_(!options_.consumer.empty()      ? options_.consumer
            : !options_.client.client_id.empty() ? options_.client.client_id
                                                 : RandomName()),
      stream_(options_.group.empty()),
      transport_(options_.client.transport ? options_.client.transport : MakeHttpTransport(options_.client.security)),
      view_(std::make_unique<ClusterView>(options_.client, transport_)) {}

Consumer::Impl::~Impl() {
  Stop();
  Reap(true);
  ReleaseBuffer();
}

std::string Consumer::Impl::TopicPath() const {
  return "/v1/topics/" + UrlEncode(options_.topic);
}

Status Consumer::Impl::EnsureGroup(Clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (group_ready_) return Status::Ok();
  }
  std::lock_guard<std::mutex> setup(setup_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (group_ready_) return Status::Ok();
  }
  HttpRequest req{"PUT", "", TopicPath() + "/groups/" + UrlEncode(options_.group),
                  nlohmann::json{{"start", options_.start}}.dump(),
                  options_.client.request_timeout};
  // Creating the group is needed once: give it a whole request timeout even in a short Poll.
  deadline = std::max(deadline, Clock::now() + options_.client.request_timeout);
  HttpResponse res = client_internal::SendToAnyBroker(*view_, *transport_, req, deadline);
  ZOOMQ_RETURN_IF_ERROR(StatusOf(res));
  std::lock_guard<std::mutex> lock(mu_);
  group_ready_ = true;
  return Status::Ok();
}

Result<int64_t> Consumer::Impl::HighWatermark(int partition, Clock::time_point deadline) {
  Backoff backoff;
  Status last = Status::Unavailable("no time left");
  while (Remaining(deadline).count() > 0) {
    Result<std::string> url = view_->LeaderUrl(options_.topic, partition);
    if (!url.ok()) return url.status();
    HttpRequest req{"GET", *url,
                    TopicPath() + "/partitions/" + std::to_string(partition) +
                        "/messages?from=0&max=1&wait_ms=0",
                    "", std::min(options_.client.request_timeout, Remaining(deadline))};
    HttpResponse res = transport_->Send(req);
    if (res.status == 200) {
      int64_t hwm = -1;
      auto decoded = client_internal::DecodeMessages(options_.topic, res.body, &hwm);
      if (!decoded.ok()) return decoded.status();
      if (hwm < 0) return Status::Internal("stream read answer without high_watermark");
      return hwm;
    }
    last = StatusOf(res);
    if (!ShouldRetry(res)) return last;
    (void)view_->Refresh();
    if (!backoff.Wait(deadline)) break;
  }
  return last;
}

Status Consumer::Impl::EnsureStream(Clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_ready_) return Status::Ok();
  }
  std::lock_guard<std::mutex> setup(setup_mu_);
  std::vector<int> partitions = options_.stream_partitions;
  if (partitions.empty()) {
    Result<int> n = view_->Partitions(options_.topic);
    if (!n.ok()) return n.status();
    for (int p = 0; p < *n; ++p) partitions.push_back(p);
  }
  deadline = std::max(deadline, Clock::now() + options_.client.request_timeout);
  for (int p : partitions) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (positions_.count(p)) continue;  // Seek() came first
    }
    int64_t from = options_.stream_from;
    if (from < 0) {
      Result<int64_t> hwm = HighWatermark(p, deadline);
      if (!hwm.ok()) return hwm.status();
      from = *hwm;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!positions_.count(p)) positions_[p] = fetch_from_[p] = from;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stream_ready_ = true;
  return Status::Ok();
}

Status Consumer::Impl::Launch(milliseconds wait) {
  const int max = std::clamp(options_.prefetch, 1, 1000);
  const std::string q_max = "max=" + std::to_string(max);
  const std::string q_wait = "&wait_ms=" + std::to_string(wait.count());
  const milliseconds timeout = options_.client.request_timeout + wait;
  if (!stream_) {
    auto leaders = view_->LeadersOf(options_.topic);
    if (!leaders.ok()) return leaders.status();
    if (leaders->empty()) return Status(Code::kNoLeader, "no partition leader known");
    std::string base = TopicPath() + "/groups/" + UrlEncode(options_.group) +
                       "/messages?consumer=" + UrlEncode(name_) + "&" + q_max + q_wait;
    if (options_.visibility) base += "&visibility_ms=" + std::to_string(options_.visibility->count());
    std::lock_guard<std::mutex> lock(mu_);
    for (const ClusterView::LeaderGroup& g : *leaders) {
      std::string parts;
      for (int p : g.partitions) parts += (parts.empty() ? "" : ",") + std::to_string(p);
      StartFetchLocked(g.url, HttpRequest{"GET", g.url, base + "&partitions=" + parts, "", timeout},
                       Answer{});
    }
    return Status::Ok();
  }
  std::map<int, int64_t> from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = fetch_from_;
  }
  for (const auto& [p, offset] : from) {
    Result<std::string> url = view_->LeaderUrl(options_.topic, p);
    if (!url.ok()) return url.status();
    std::lock_guard<std::mutex> lock(mu_);
    Answer base;
    base.partition = p;
    base.from = fetch_from_[p];
    base.seek_generation = seek_gen_[p];
    StartFetchLocked("p" + std::to_string(p),
                     HttpRequest{"GET", *url,
                                 TopicPath() + "/partitions/" + std::to_string(p) +
                                     "/messages?from=" + std::to_string(base.from) + "&" + q_max +
                                     q_wait,
                                 "", timeout},
                     std::move(base));
  }
  return Status::Ok();
}

void Consumer::Impl::StartFetchLocked(const std::string& key, HttpRequest request, Answer base) {
  for (const Fetch& f : fetches_) {
    if (f.key == key && !f.done) return;  // one request per leader / partition at a time
  }
  fetches_.push_back(Fetch{key, std::thread(), false});
  auto it = std::prev(fetches_.end());
  // The thread finishes under mu_, which this caller holds until the entry is complete.
  it->thread = std::thread([this, it, request = std::move(request), base = std::move(base)] {
    HttpResponse res = transport_->Send(request);
    Answer answer = base;
    if (res.status == 200) {
      int64_t first = -1;
      auto decoded = client_internal::DecodeMessages(options_.topic, res.body, nullptr, &first);
      if (decoded.ok()) {
        answer.messages = std::move(decoded).value();
        answer.first_offset = first;
      } else {
        answer.status = decoded.status();
      }
    } else {
      answer.status = StatusOf(res);
      answer.broker_down = res.not_sent;
      if (answer.status.ok()) answer.status = Status::Internal("unexpected HTTP status");
    }
    Finish(it, std::move(answer));
  });
}

void Consumer::Impl::Finish(std::list<Fetch>::iterator fetch, Answer answer) {
  std::lock_guard<std::mutex> lock(mu_);
  fetch->done = true;
  if (!answer.status.ok()) {
    if (answer.status.code() == Code::kGroupNotFound) group_ready_ = false;  // deleted: redo
    if (!stream_ && answer.broker_down) DropLeasesLocked(fetch->key);
    fetch_error_ = answer.status;
  } else if (!stream_) {
    ++answers_;
    for (ReceivedMessage& m : answer.messages) buffer_.push_back({std::move(m), fetch->key});
  } else if (answer.seek_generation == seek_gen_[answer.partition] &&
             answer.from == fetch_from_[answer.partition]) {
    ++answers_;
    const int p = answer.partition;
    int64_t& next = fetch_from_[p];
    if (answer.first_offset > next) next = answer.first_offset;  // retention moved the head
    for (ReceivedMessage& m : answer.messages) {
      if (m.partition != p || m.offset < next) continue;
      next = m.offset + 1;
      buffer_.push_back({std::move(m), ""});
    }
    bool buffered = std::any_of(buffer_.begin(), buffer_.end(),
                                [p](const Buffered& b) { return b.message.partition == p; });
    if (!buffered) positions_[p] = next;
  } else {
    ++answers_;  // read before a Seek: outdated, dropped
  }
  cv_.notify_all();
}

void Consumer::Impl::Reap(bool all) {
  std::list<Fetch> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (all) {
      finished.splice(finished.end(), fetches_);
    } else {
      for (auto it = fetches_.begin(); it != fetches_.end();) {
        auto next = std::next(it);
        if (it->done) finished.splice(finished.end(), fetches_, it);
        it = next;
      }
    }
  }
  for (Fetch& f : finished) f.thread.join();
}

std::vector<ReceivedMessage> Consumer::Impl::TakeLocked(int max) {
  std::vector<ReceivedMessage> out;
  while (!buffer_.empty() && static_cast<int>(out.size()) < max) {
    out.push_back(std::move(buffer_.front().message));
    buffer_.pop_front();
    if (stream_) positions_[out.back().partition] = out.back().offset + 1;
  }
  return out;
}

Result<std::vector<ReceivedMessage>> Consumer::Impl::Poll(int max, milliseconds timeout) {
  if (max <= 0) return Status::Invalid("Poll: max must be positive");
  if (options_.topic.empty()) return Status::Invalid("ConsumerOptions::topic is empty");
  const auto deadline = Clock::now() + std::max(timeout, milliseconds(0));
  ZOOMQ_RETURN_IF_ERROR(stream_ ? EnsureStream(deadline) : EnsureGroup(deadline));
  uint64_t answers_at_start;
  {
    std::lock_guard<std::mutex> lock(mu_);
    answers_at_start = answers_;
  }
  Backoff backoff;
  Status last_error;
  while (true) {
    Reap(false);
    bool retry = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!buffer_.empty()) return TakeLocked(max);
      if (!fetch_error_.ok()) {
        last_error = std::exchange(fetch_error_, Status::Ok());
        if (!IsRetriable(last_error) && last_error.code() != Code::kGroupNotFound) {
          return last_error;
        }
        retry = true;
      }
    }
    if (retry) {
      // A leader moved or a broker is down: ask where leaders are now, then again.
      (void)view_->Refresh();
      if (!stream_) ZOOMQ_RETURN_IF_ERROR(EnsureGroup(deadline));
      if (!backoff.Wait(deadline, &stopping_, &cv_, &mu_)) break;
    }
    const milliseconds left = Remaining(deadline);
    if (stopping_) break;
    Status st = Launch(std::min(left, kLongPollCap));
    if (!st.ok()) {
      if (!IsRetriable(st)) return st;
      last_error = st;
      (void)view_->Refresh();
      if (!backoff.Wait(deadline, &stopping_, &cv_, &mu_)) break;
      continue;
    }
    // With no time left (Poll(max, 0)), still wait for the non-waiting requests just sent.
    const auto wait_until =
        left.count() > 0 ? deadline : Clock::now() + options_.client.request_timeout;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, wait_until, [this] {
      return !buffer_.empty() || !fetch_error_.ok() || stopping_ ||
             std::any_of(fetches_.begin(), fetches_.end(), [](const Fetch& f) { return f.done; });
    });
    if (!buffer_.empty()) return TakeLocked(max);
    if (left.count() == 0 && fetch_error_.ok()) break;
    if (Remaining(deadline).count() == 0 && fetch_error_.ok()) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!buffer_.empty()) return TakeLocked(max);
  if (answers_ == answers_at_start && !last_error.ok()) return last_error;
  return std::vector<ReceivedMessage>{};
}

Result<AckResult> Consumer::Impl::Settle(const char* verb, const char* count_key,
                                         const std::vector<std::string>& handles,
                                         const char* extra_key, int64_t extra_value) {
  if (stream_) return Status::Invalid(std::string(verb) + " needs a group (stream mode)");
  // Parse every handle before sending anything (all or nothing, like the broker).
  std::vector<std::pair<int, std::string>> pending;
  pending.reserve(handles.size());
  for (const std::string& h : handles) {
    int partition = 0;
    if (!ParseHandle(h, &partition)) {
      return Status::Invalid("malformed handle '" + h + "' (expected <partition>-<offset>)");
    }
    pending.emplace_back(partition, h);
  }
  // Retriable failures are retried (against the new leader after a refresh) until
  // request_timeout. Ack is idempotent, but a retry after a lost reply reports the ids the
  // first try acked as `unknown`: after a retry, unknown means "not leased now", not "not
  // acked". Partial failure: a non-retriable error is returned even if other leaders applied
  // their part.
  AckResult total;
  const std::string target = TopicPath() + "/groups/" + UrlEncode(options_.group) + "/" + verb;
  const auto deadline = Clock::now() + options_.client.request_timeout;
  // A hung leader (SIGSTOP, a partition) must not eat the whole budget: a third of it per
  // attempt leaves time to retry against its successor.
  const milliseconds per_attempt =
      std::max(options_.client.request_timeout / 3, milliseconds(1000));
  Backoff backoff;
  Status last;
  while (!pending.empty()) {
    // Each partition's handles go to its leader, as one request per leader (chunked).
    std::map<std::string, std::vector<size_t>> by_url;
    for (size_t i = 0; i < pending.size(); ++i) {
      Result<std::string> url = view_->LeaderUrl(options_.topic, pending[i].first);
      if (!url.ok()) {
        if (!IsRetriable(url.status())) return url.status();
        last = url.status();
        continue;
      }
      by_url[*url].push_back(i);
    }
    std::vector<bool> done(pending.size(), false);
    for (const auto& [url, indexes] : by_url) {
      for (size_t start = 0; start < indexes.size(); start += kMaxIdsPerRequest) {
        size_t end = std::min(indexes.size(), start + kMaxIdsPerRequest);
        std::vector<std::string> ids;
        for (size_t k = start; k < end; ++k) ids.push_back(pending[indexes[k]].second);
        HttpRequest req{"POST", url, target,
                        client_internal::EncodeIds(ids, extra_key, extra_value),
                        std::min(per_attempt, std::max(Remaining(deadline), milliseconds(1)))};
        HttpResponse res = transport_->Send(req);
        if (res.status == 200) {
          Result<AckResult> r = api::DecodeAck(res.body, count_key);
          if (!r.ok()) return r.status();
          total.applied += r->applied;
          total.unknown.insert(total.unknown.end(), r->unknown.begin(), r->unknown.end());
          for (size_t k = start; k < end; ++k) done[indexes[k]] = true;
          continue;
        }
        last = StatusOf(res);
        if (res.not_sent) {
          std::lock_guard<std::mutex> lock(mu_);
          DropLeasesLocked(url);
        }
        if (!ShouldRetry(res)) return last;
      }
    }
    std::vector<std::pair<int, std::string>> rest;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!done[i]) rest.push_back(std::move(pending[i]));
    }
    pending = std::move(rest);
    if (pending.empty()) break;
    (void)view_->Refresh();
    if (!backoff.Wait(deadline)) return last;
  }
  return total;
}

std::vector<std::pair<int, int64_t>> Consumer::Impl::Positions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {positions_.begin(), positions_.end()};
}

void Consumer::Impl::Seek(int partition, int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  positions_[partition] = fetch_from_[partition] = std::max<int64_t>(offset, 0);
  ++seek_gen_[partition];
  buffer_.erase(std::remove_if(buffer_.begin(), buffer_.end(),
                               [partition](const Buffered& b) {
                                 return b.message.partition == partition;
                               }),
                buffer_.end());
}

Status Consumer::Impl::Start(Handler handler) {
  if (!handler) return Status::Invalid("Start: empty handler");
  if (!workers_.empty()) return Status::Invalid("Start: already running");
  stopping_ = false;
  const int threads = std::max(1, options_.callback_threads);
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this, handler] { RunWorker(handler); });
  }
  return Status::Ok();
}

void Consumer::Impl::RunWorker(const Handler& handler) {
  const int threads = std::max(1, options_.callback_threads);
  const int batch = std::clamp(options_.prefetch / threads, 1, 32);
  Backoff backoff;
  while (!stopping_) {
    Result<std::vector<ReceivedMessage>> polled = Poll(batch, kLongPollCap);
    if (!polled.ok()) {
      // Nobody to report to: keep trying (the application sees the silence), gently.
      backoff.Wait(Clock::now() + milliseconds(1000), &stopping_, &cv_, &mu_);
      continue;
    }
    backoff = Backoff();
    std::vector<std::string> acks, nacks, unhandled;
    for (const ReceivedMessage& m : *polled) {
      if (stopping_) {
        unhandled.push_back(m.handle);
        continue;
      }
      bool handled = false;
      try {
        handled = handler(m);
      } catch (...) {
        handled = false;  // a throwing handler counts as "not handled"
      }
      if (options_.auto_ack && !stream_) (handled ? acks : nacks).push_back(m.handle);
    }
    if (!acks.empty()) (void)Settle("ack", "acked", acks, nullptr, 0);
    if (!nacks.empty()) {
      (void)Settle("nack", "nacked", nacks, "delay_ms", options_.nack_delay.count());
    }
    // Leased but never shown to the handler: give them back at once.
    if (!unhandled.empty() && !stream_) {
      (void)Settle("nack", "nacked", unhandled, "delay_ms", 0);
    }
  }
}

void Consumer::Impl::ReleaseBuffer() {
  std::vector<std::string> handles;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_) return;
    for (const Buffered& b : buffer_) handles.push_back(b.message.handle);
    buffer_.clear();
  }
  if (!handles.empty()) (void)Settle("nack", "nacked", handles, "delay_ms", 0);
}

void Consumer::Impl::DropLeasesLocked(const std::string& url) {
  buffer_.erase(std::remove_if(buffer_.begin(), buffer_.end(),
                               [&](const Buffered& b) { return b.source == url; }),
                buffer_.end());
}

void Consumer::Impl::Stop() {
  if (workers_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  // Give the leases nobody will handle back to the group. Requests still in flight (at most
  // kLongPollCap of waiting) are not waited for: what they bring stays buffered for a later
  // Poll, and the destructor waits for them and gives those back too.
  ReleaseBuffer();
  stopping_ = false;
}

Consumer::Consumer(ConsumerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Consumer::~Consumer() = default;

Result<std::vector<ReceivedMessage>> Consumer::Poll(int max, milliseconds timeout) {
  return impl_->Poll(max, timeout);
}
Result<AckResult> Consumer::Ack(const std::vector<std::string>& handles) {
  return impl_->Settle("ack", "acked", handles, nullptr, 0);
}
Result<AckResult> Consumer::Nack(const std::vector<std::string>& handles, milliseconds delay) {
  return impl_->Settle("nack", "nacked", handles, "delay_ms", delay.count());
}
Result<AckResult> Consumer::Extend(const std::vector<std::string>& handles,
                                   milliseconds visibility) {
  return impl_->Settle("extend", "extended", handles, "visibility_ms", visibility.count());
}
std::vector<std::pair<int, int64_t>> Consumer::Positions() const { return impl_->Positions(); }
void Consumer::Seek(int partition, int64_t offset) { impl_->Seek(partition, offset); }
Status Consumer::Start(Handler handler) { return impl_->Start(std::move(handler)); }
void Consumer::Stop() { impl_->Stop(); }
const std::string& Consumer::consumer_name() const { return impl_->name(); }

}  // namespace zoomq
