// zoomq::Producer. Threads and their roles:
// - the dispatcher: assigns partitions, cuts batches per partition (linger, size, count),
//   schedules retries when their backoff ran out, expires messages past their delivery
//   deadline, and fails what is left on Close;
// - kSenderThreads senders: each takes one unit of work (a batch to send, or a topic whose
//   partition count to learn), does the network part without the lock, and files the result;
// - the callback thread: runs delivery callbacks, in report order, never under the lock.
// All state is guarded by the one mutex mu_; the network and the callbacks run without it.
//
// A batch stays "in flight" for its partition from its first send until its messages are
// reported (including backoff waits between retries), so with max_in_flight_per_partition 1
// a partition's messages are written, and reported, in Send order.
//
// On 400/413 for a batch of several messages (the broker rejects a batch as a whole), its
// messages go back to the head of their partition's queue marked `solo` and are then sent
// one per request: only the offending message fails, the others keep their order.
#include "zoomq/client/producer.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster_view.h"
#include "codec.h"
#include "producer_internal.h"
#include "zoomq/common/names.h"

namespace zoomq {

namespace {

using SteadyClock = std::chrono::steady_clock;
using client_internal::ClusterView;
using client_internal::MessageBytes;
using client_internal::RetryDelay;

constexpr int kSenderThreads = 8;
// How long a topic absent from /v1/cluster is asked for again before its messages fail with
// TOPIC_NOT_FOUND: a topic created a moment ago may not be in every broker's view yet.
constexpr auto kUnknownTopicGrace = std::chrono::seconds(3);
constexpr size_t kMaxIdBytes = 256;

struct Pending {
  OutgoingMessage message;
  DeliveryCallback callback;
  size_t bytes = 0;  // MessageBytes(): batch sizes and the broker's limit
  size_t buffer_bytes = 0;  // what it holds of the producer's buffer
  uint64_t seq = 0;
  SteadyClock::time_point enqueued;
  SteadyClock::time_point deadline;  // enqueued + delivery_timeout
  int attempts = 0;
  bool maybe_persisted = false;  // an attempt may have been written
  bool solo = false;             // send alone (its batch was rejected as a whole)
};

struct Batch {
  std::string topic;
  int partition = 0;
  std::vector<std::unique_ptr<Pending>> messages;
  std::string body;  // encoded once, resent as is
  int retries = 0;
  bool refresh_first = false;  // ask /v1/cluster before the next attempt
  Status last_error;
  SteadyClock::time_point retry_at;
  SteadyClock::time_point deadline;  // the earliest of its messages'
};

// The result of one attempt at sending a batch (computed without the lock).
struct Attempt {
  Status status;
  bool maybe_written = false;  // the request may have reached a broker and been applied
  int retry_after_s = -1;
  std::vector<ProduceResult> results;
};

struct Report {
  DeliveryCallback callback;
  DeliveryReport report;
  uint64_t seq = 0;
};

std::string RandomHex(int digits) {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()));
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < digits; ++i) s += kHex[gen() % 16];
  return s;
}

}  // namespace

class Producer::Impl {
 public:
  explicit Impl(ProducerOptions options)
      : options_(std::move(options)),
        producer_id_((options_.client.client_id.empty() ? "p" : options_.client.client_id) +
                     "-" + RandomHex(12)),
        transport_(options_.client.transport ? options_.client.transport : MakeHttpTransport(options_.client.security)),
        view_(options_.client, transport_),
        rng_(std::random_device{}()) {
    if (options_.max_in_flight_per_partition < 1) options_.max_in_flight_per_partition = 1;
    if (options_.batch_messages < 1) options_.batch_messages = 1;
    dispatcher_ = std::thread([this] { DispatchLoop(); });
    for (int i = 0; i < kSenderThreads; ++i) senders_.emplace_back([this] { SenderLoop(); });
    callbacks_ = std::thread([this] { CallbackLoop(); });
  }

  ~Impl() { Close(options_.delivery_timeout); }

  Status Send(OutgoingMessage message, DeliveryCallback callback) {
    ZOOMQ_RETURN_IF_ERROR(Validate(message));
    const size_t bytes = MessageBytes(message);
    if (bytes > options_.max_message_bytes) {
      return Status(Code::kPayloadTooLarge, "message of " + std::to_string(bytes) +
                                                " bytes is over max_message_bytes");
    }
    const size_t held = bytes + message.id.size() + client_internal::kMessageOverheadBytes;
    if (held > options_.buffer_bytes) {
      return Status(Code::kPayloadTooLarge, "message is larger than the producer's buffer");
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (closed_) return Status::Invalid("the producer is closed");
    if (buffered_ + held > options_.buffer_bytes) {
      if (!options_.block_when_full) return Status(Code::kOverloaded, "producer buffer full");
      const auto until = SteadyClock::now() + options_.max_block;
      space_cv_.wait_until(lock, until,
                           [&] { return closed_ || buffered_ + held <= options_.buffer_bytes; });
      if (closed_) return Status::Invalid("the producer is closed");
      if (buffered_ + held > options_.buffer_bytes) {
        return Status(Code::kOverloaded, "producer buffer still full after max_block");
      }
    }
    buffered_ += held;
    auto p = std::make_unique<Pending>();
    if (message.id.empty()) message.id = producer_id_ + "-" + std::to_string(++counter_);
    p->message = std::move(message);
    p->callback = std::move(callback);
    p->bytes = bytes;
    p->buffer_bytes = held;
    p->seq = ++next_seq_;
    p->enqueued = SteadyClock::now();
    p->deadline = p->enqueued + options_.delivery_timeout;
    unfinished_.insert(p->seq);
    TopicState& ts = topics_[p->message.topic];
    bool wake = true;
    if (ts.partitions >= 0) {
      wake = Assign(ts, std::move(p));
    } else {
      ts.unresolved.push_back(std::move(p));
    }
    // The dispatcher needs a look only when there is a new deadline or a full batch.
    if (wake) dispatch_cv_.notify_one();
    return Status::Ok();
  }

  Status Flush(std::chrono::milliseconds timeout) {
    if (std::this_thread::get_id() == callbacks_.get_id()) {
      return Status::Invalid("Flush from a delivery callback would wait for itself");
    }
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t target = next_seq_;
    ++flushing_;
    dispatch_cv_.notify_one();
    const bool done = flush_cv_.wait_for(lock, timeout, [&] {
      return unfinished_.empty() || *unfinished_.begin() > target;
    });
    --flushing_;
    if (done) return Status::Ok();
    return Status(Code::kTimedOut, std::to_string(unfinished_.size()) +
                                       " messages still without an outcome");
  }

  void Close(std::chrono::milliseconds timeout) {
    if (std::this_thread::get_id() == callbacks_.get_id()) {
      // From a delivery callback: waiting here would wait for ourselves. Refuse new messages;
      // the destructor (on another thread) finishes the job.
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      space_cv_.notify_all();
      return;
    }
    std::lock_guard<std::mutex> close_lock(close_mu_);
    if (joined_) return;
    (void)Flush(timeout);
    {
      std::unique_lock<std::mutex> lock(mu_);
      closed_ = true;
      stopping_ = true;
      space_cv_.notify_all();
      dispatch_cv_.notify_all();
      work_cv_.notify_all();
      // Senders finish the request they are in (bounded by request_timeout) and fail the
      // rest; the dispatcher fails what is queued. Then every message has its report.
      flush_cv_.wait(lock, [&] { return unfinished_.empty(); });
      quit_ = true;
      dispatch_cv_.notify_all();
      work_cv_.notify_all();
      report_cv_.notify_all();
    }
    dispatcher_.join();
    for (std::thread& t : senders_) t.join();
    callbacks_.join();
    joined_ = true;
  }

  const std::string& producer_id() const { return producer_id_; }

  Stats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    Stats s = stats_;
    s.buffered_bytes = static_cast<int64_t>(buffered_);
    return s;
  }

 private:
  struct PartitionQueue {
    std::deque<std::unique_ptr<Pending>> queued;
    size_t bytes = 0;  // sum of queued MessageBytes
    int in_flight = 0;
  };
  struct TopicState {
    int partitions = -1;  // -1: not learnt yet
    bool resolving = false;
    int resolve_retries = 0;
    SteadyClock::time_point first_resolve{};
    SteadyClock::time_point resolve_at{};
    Status last_error;
    std::deque<std::unique_ptr<Pending>> unresolved;  // waiting for the partition count
    int sticky = -1;  // keyless messages go here until its batch is sent (KIP-480)
    std::map<int, PartitionQueue> parts;
  };
  struct Work {
    std::unique_ptr<Batch> batch;  // a batch to send, or...
    std::string resolve;           // ...a topic whose partition count to learn
  };

  static Status Validate(const OutgoingMessage& m) {
    ZOOMQ_RETURN_IF_ERROR(
        ValidateName(IsDlqName(m.topic) ? std::string_view(m.topic).substr(
                                              0, m.topic.size() - kDlqSuffix.size())
                                        : std::string_view(m.topic),
                     "topic"));
    if (m.partition && *m.partition < 0) return Status::Invalid("partition must be >= 0");
    if (m.id.size() > kMaxIdBytes) return Status::Invalid("id is longer than 256 characters");
    if (m.value_is_json && !nlohmann::json::accept(m.value)) {
      return Status::Invalid("value is not valid JSON (use OutgoingMessage::Bytes for bytes)");
    }
    return Status::Ok();
  }

  // REQUIRES: mu_ held. Picks the partition of `p` (ts.partitions known) and queues it.
  // Returns true when the dispatcher should look again (first message of its queue: a new
  // linger deadline; or a full batch; or a report to make).
  bool Assign(TopicState& ts, std::unique_ptr<Pending> p) {
    const int n = ts.partitions;
    int part = 0;
    if (p->message.partition) {
      part = *p->message.partition;
      if (part >= n) {
        Status st(Code::kPartitionNotFound,
                  "topic '" + p->message.topic + "' has " + std::to_string(n) + " partitions");
        FailLocked(std::move(p), std::move(st), false);
        return true;
      }
    } else if (p->message.key) {
      part = static_cast<int>(Fnv1a64(*p->message.key) % static_cast<uint64_t>(n));
    } else {
      if (ts.sticky < 0 || ts.sticky >= n) ts.sticky = static_cast<int>(rng_() % n);
      part = ts.sticky;
    }
    p->message.partition = part;
    PartitionQueue& q = ts.parts[part];
    q.bytes += p->bytes;
    q.queued.push_back(std::move(p));
    return q.queued.size() == 1 || q.queued.size() >= options_.batch_messages ||
           q.bytes >= options_.batch_bytes || flushing_ > 0;
  }

  // REQUIRES: mu_ held. Queues the report of one message (exactly once: `p` is consumed).
  void ReportLocked(std::unique_ptr<Pending> p, DeliveryReport r) {
    r.topic = p->message.topic;
    r.id = p->message.id;
    if (r.partition < 0 && p->message.partition) r.partition = *p->message.partition;
    r.attempts = p->attempts;
    if (r.status.ok()) {
      ++stats_.sent;
    } else {
      ++stats_.failed;
    }
    buffered_ -= p->buffer_bytes;
    reports_.push_back({std::move(p->callback), std::move(r), p->seq});
    space_cv_.notify_all();
    report_cv_.notify_one();
  }

  void FailLocked(std::unique_ptr<Pending> p, Status status, bool retriable) {
    DeliveryReport r;
    r.persistence =
        p->maybe_persisted ? Persistence::kPossiblyPersisted : Persistence::kNotPersisted;
    r.status = std::move(status);
    r.retriable = retriable;
    ReportLocked(std::move(p), std::move(r));
  }

  static Status Expired(const Pending& p, const Status& last) {
    return Status(Code::kTimedOut,
                  "delivery timeout after " + std::to_string(p.attempts) + " attempts" +
                      (last.ok() ? std::string() : "; last error: " + last.ToString()));
  }

  // REQUIRES: mu_ held. Ends a batch's flight: its partition may send again.
  void Land(const Batch& b) {
    topics_[b.topic].parts[b.partition].in_flight--;
    dispatch_cv_.notify_one();
  }

  void FailBatchLocked(std::unique_ptr<Batch> b, const Status& status, bool retriable) {
    for (auto& p : b->messages) FailLocked(std::move(p), status, retriable);
    Land(*b);
  }

  // ---- dispatcher ----

  void DispatchLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      const auto now = SteadyClock::now();
      auto wake = SteadyClock::time_point::max();
      ScheduleRetries(now, wake);
      for (auto& [name, ts] : topics_) {
        DispatchTopic(name, ts, now, wake);
      }
      if (wake == SteadyClock::time_point::max()) {
        dispatch_cv_.wait(lock);
      } else {
        dispatch_cv_.wait_until(lock, wake);
      }
    }
  }

  void ScheduleRetries(SteadyClock::time_point now, SteadyClock::time_point& wake) {
    for (auto it = retrying_.begin(); it != retrying_.end();) {
      Batch& b = **it;
      if (stopping_) {
        Status st = Status(Code::kTimedOut,
                           "producer closed before delivery; last error: " + b.last_error.ToString());
        FailBatchLocked(std::move(*it), st, true);
      } else if (b.retry_at <= now) {
        work_.push_back({std::move(*it), ""});
        work_cv_.notify_one();
      } else {
        wake = std::min(wake, b.retry_at);
        ++it;
        continue;
      }
      it = retrying_.erase(it);
    }
  }

  void DispatchTopic(const std::string& name, TopicState& ts, SteadyClock::time_point now,
                     SteadyClock::time_point& wake) {
    // Messages waiting for the topic's partition count.
    while (!ts.unresolved.empty() && (stopping_ || ts.unresolved.front()->deadline <= now)) {
      auto p = std::move(ts.unresolved.front());
      ts.unresolved.pop_front();
      Status st = stopping_ ? Status(Code::kTimedOut, "producer closed before delivery")
                            : Expired(*p, ts.last_error);
      FailLocked(std::move(p), st, true);
    }
    if (!ts.unresolved.empty()) {
      wake = std::min(wake, ts.unresolved.front()->deadline);
      if (!ts.resolving) {
        if (ts.resolve_at <= now) {
          ts.resolving = true;
          if (ts.resolve_retries == 0) ts.first_resolve = now;
          work_.push_back({nullptr, name});
          work_cv_.notify_one();
        } else {
          wake = std::min(wake, ts.resolve_at);
        }
      }
    }
    for (auto& [part, q] : ts.parts) {
      // Same delivery_timeout for all: deadlines grow along the queue.
      while (!q.queued.empty() && (stopping_ || q.queued.front()->deadline <= now)) {
        auto p = std::move(q.queued.front());
        q.queued.pop_front();
        q.bytes -= p->bytes;
        Status st = stopping_ ? Status(Code::kTimedOut, "producer closed before delivery")
                              : Expired(*p, Status::Ok());
        FailLocked(std::move(p), st, true);
      }
      while (q.in_flight < options_.max_in_flight_per_partition && !q.queued.empty()) {
        const Pending& front = *q.queued.front();
        const bool ready = flushing_ > 0 || front.solo || q.bytes >= options_.batch_bytes ||
                           q.queued.size() >= options_.batch_messages ||
                           front.enqueued + options_.linger <= now;
        if (!ready) {
          wake = std::min(wake, front.enqueued + options_.linger);
          break;
        }
        auto b = std::make_unique<Batch>();
        b->topic = name;
        b->partition = part;
        size_t bytes = 0;
        while (!q.queued.empty() && b->messages.size() < options_.batch_messages) {
          Pending& next = *q.queued.front();
          if (!b->messages.empty() &&
              (next.solo || b->messages.front()->solo ||
               bytes + next.bytes > options_.batch_bytes)) {
            break;
          }
          bytes += next.bytes;
          q.bytes -= next.bytes;
          b->messages.push_back(std::move(q.queued.front()));
          q.queued.pop_front();
        }
        b->deadline = b->messages.front()->deadline;
        ++q.in_flight;
        if (part == ts.sticky && ts.partitions > 1) {
          // The sticky partition's batch is cut: the next keyless messages go elsewhere.
          ts.sticky = (part + 1 + static_cast<int>(rng_() % (ts.partitions - 1))) % ts.partitions;
        }
        work_.push_back({std::move(b), ""});
        work_cv_.notify_one();
      }
      if (!q.queued.empty()) wake = std::min(wake, q.queued.front()->deadline);
    }
  }

  // ---- senders ----

  void SenderLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      work_cv_.wait(lock, [&] { return quit_ || !work_.empty(); });
      if (work_.empty()) return;  // quit_
      Work w = std::move(work_.front());
      work_.pop_front();
      if (!w.batch) {
        lock.unlock();
        Result<int> n = view_.Partitions(w.resolve);
        lock.lock();
        Resolved(w.resolve, n);
        continue;
      }
      if (stopping_) {
        FailBatchLocked(std::move(w.batch),
                        Status(Code::kTimedOut, "producer closed before delivery"), true);
        continue;
      }
      ++stats_.requests;
      if (w.batch->retries > 0) ++stats_.retries;
      lock.unlock();
      Attempt a = Try(*w.batch);
      lock.lock();
      Landed(std::move(w.batch), std::move(a));
    }
  }

  // One attempt, without the lock: the leader's URL, one POST.
  Attempt Try(Batch& b) {
    Attempt a;
    if (b.refresh_first) (void)view_.Refresh();
    Result<std::string> url = view_.LeaderUrl(b.topic, b.partition);
    if (!url.ok()) {
      a.status = url.status();
      return a;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        b.deadline - SteadyClock::now());
    if (left.count() <= 0) {
      a.status = Status(Code::kTimedOut, "no time left before the delivery timeout");
      return a;
    }
    if (b.body.empty()) {
      std::vector<const OutgoingMessage*> ms;
      for (auto& p : b.messages) ms.push_back(&p->message);
      b.body = client_internal::EncodeProduce(ms);
    }
    HttpRequest req{"POST", *url,
                    "/v1/topics/" + client_internal::UrlEncode(b.topic) + "/messages", b.body,
                    std::min(options_.client.request_timeout, left)};
    HttpResponse res = transport_->Send(req);
    a.status = client_internal::StatusOf(res);
    a.retry_after_s = res.retry_after_s;
    if (a.status.ok()) {
      auto results = api::DecodeProduceResults(res.body);
      if (results.ok() && results->size() == b.messages.size()) {
        a.results = std::move(results).value();
        return a;
      }
      // A 2xx we cannot read: it was probably written; a retry with the same ids is safe.
      a.status = Status::Internal("unreadable produce answer: " + res.body.substr(0, 200));
      a.maybe_written = true;
      return a;
    }
    // NOT_LEADER / NO_LEADER are answered before anything is written; 429 too; a refused
    // connection sent nothing. Any other failure after the request left (lost reply, 500,
    // 503 of a forwarding hop) may hide a write.
    const Code c = a.status.code();
    a.maybe_written = (res.status == 0 && !res.not_sent) ||
                      (res.status >= 500 && c != Code::kNotLeader && c != Code::kNoLeader);
    return a;
  }

  // REQUIRES: mu_ held. Files the outcome of an attempt.
  void Landed(std::unique_ptr<Batch> b, Attempt a) {
    for (auto& p : b->messages) {
      ++p->attempts;
      p->maybe_persisted = p->maybe_persisted || a.maybe_written;
    }
    if (a.status.ok()) {
      for (size_t i = 0; i < b->messages.size(); ++i) {
        DeliveryReport r;
        r.persistence = Persistence::kPersisted;
        r.partition = a.results[i].partition;
        r.offset = a.results[i].offset;
        r.duplicate = a.results[i].duplicate;
        ReportLocked(std::move(b->messages[i]), std::move(r));
      }
      Land(*b);
      return;
    }
    const Code code = a.status.code();
    if (code == Code::kTimedOut) {
      Status st = Expired(*b->messages.front(), b->last_error.ok() ? a.status : b->last_error);
      FailBatchLocked(std::move(b), st, true);
      return;
    }
    if (IsRetriable(a.status)) {
      b->last_error = a.status;
      if (stopping_) {
        FailBatchLocked(std::move(b),
                        Status(Code::kTimedOut, "producer closed before delivery; last error: " +
                                                    a.status.ToString()),
                        true);
        return;
      }
      const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
      auto delay = RetryDelay(b->retries, options_.retry_backoff, options_.retry_backoff_max,
                              unit);
      if (a.retry_after_s > 0) {
        // The broker's hint, but never beyond our own longest backoff.
        delay = std::max<std::chrono::microseconds>(
            delay, std::min<std::chrono::microseconds>(std::chrono::seconds(a.retry_after_s),
                                                       options_.retry_backoff_max));
      }
      b->retry_at = SteadyClock::now() + delay;
      if (b->retry_at >= b->deadline) {
        Status st = Expired(*b->messages.front(), a.status);
        FailBatchLocked(std::move(b), st, true);
        return;
      }
      ++b->retries;
      b->refresh_first = code != Code::kOverloaded;
      retrying_.push_back(std::move(b));
      dispatch_cv_.notify_one();
      return;
    }
    if ((code == Code::kInvalidRequest || code == Code::kPayloadTooLarge) &&
        b->messages.size() > 1) {
      // The broker refused the batch as a whole: resend its messages one by one, in order,
      // ahead of the rest of the partition, so only the culprit fails.
      PartitionQueue& q = topics_[b->topic].parts[b->partition];
      for (auto it = b->messages.rbegin(); it != b->messages.rend(); ++it) {
        (*it)->solo = true;
        q.bytes += (*it)->bytes;
        q.queued.push_front(std::move(*it));
      }
      Land(*b);
      return;
    }
    FailBatchLocked(std::move(b), a.status, false);
  }

  // REQUIRES: mu_ held. The answer to "how many partitions has `topic`".
  void Resolved(const std::string& topic, const Result<int>& n) {
    TopicState& ts = topics_[topic];
    ts.resolving = false;
    dispatch_cv_.notify_one();
    if (n.ok() && n.value() > 0) {
      ts.partitions = n.value();
      while (!ts.unresolved.empty()) {
        auto p = std::move(ts.unresolved.front());
        ts.unresolved.pop_front();
        Assign(ts, std::move(p));
      }
      return;
    }
    Status st = n.ok() ? Status(Code::kTopicNotFound, "topic '" + topic + "' has no partitions")
                       : n.status();
    const bool unknown = st.code() == Code::kTopicNotFound;
    const auto now = SteadyClock::now();
    if ((unknown && now - ts.first_resolve >= kUnknownTopicGrace) ||
        (!unknown && !IsRetriable(st)) || stopping_) {
      while (!ts.unresolved.empty()) {
        auto p = std::move(ts.unresolved.front());
        ts.unresolved.pop_front();
        FailLocked(std::move(p), st, IsRetriable(st));
      }
      ts.resolve_retries = 0;
      return;
    }
    ts.last_error = st;
    const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    ts.resolve_at = now + RetryDelay(ts.resolve_retries++, options_.retry_backoff,
                                     options_.retry_backoff_max, unit);
  }

  // ---- callbacks ----

  void CallbackLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      report_cv_.wait(lock, [&] { return quit_ || !reports_.empty(); });
      if (reports_.empty()) return;  // quit_
      std::deque<Report> batch;
      batch.swap(reports_);
      lock.unlock();
      for (Report& r : batch) {
        if (r.callback) r.callback(r.report);
      }
      lock.lock();
      for (const Report& r : batch) unfinished_.erase(r.seq);
      flush_cv_.notify_all();
    }
  }

  // Constant after construction.
  ProducerOptions options_;
  const std::string producer_id_;
  const std::shared_ptr<Transport> transport_;
  ClusterView view_;  // thread-safe itself

  mutable std::mutex mu_;
  std::condition_variable dispatch_cv_;  // the dispatcher has something to look at
  std::condition_variable work_cv_;      // work_ grew, or quit_
  std::condition_variable report_cv_;    // reports_ grew, or quit_
  std::condition_variable space_cv_;     // buffered_ shrank, or closed_
  std::condition_variable flush_cv_;     // unfinished_ shrank
  // All guarded by mu_:
  bool closed_ = false;    // Send fails
  bool stopping_ = false;  // fail instead of (re)sending
  bool quit_ = false;      // threads exit
  int flushing_ = 0;       // Flush calls waiting: every queued message is ready to go
  uint64_t counter_ = 0;   // generated ids
  uint64_t next_seq_ = 0;  // Send order
  size_t buffered_ = 0;    // buffer bytes of messages not yet reported
  std::set<uint64_t> unfinished_;  // seqs whose callback has not run yet
  std::map<std::string, TopicState> topics_;
  std::vector<std::unique_ptr<Batch>> retrying_;  // waiting for their retry_at
  std::deque<Work> work_;
  std::deque<Report> reports_;
  Stats stats_;
  std::mt19937_64 rng_;

  std::mutex close_mu_;  // one Close at a time
  bool joined_ = false;  // guarded by close_mu_
  std::thread dispatcher_;
  std::vector<std::thread> senders_;
  std::thread callbacks_;
};

Producer::Producer(ProducerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Producer::~Producer() = default;

Status Producer::Send(OutgoingMessage message, DeliveryCallback callback) {
  return impl_->Send(std::move(message), std::move(callback));
}

std::future<DeliveryReport> Producer::Send(OutgoingMessage message) {
  auto promise = std::make_shared<std::promise<DeliveryReport>>();
  std::future<DeliveryReport> future = promise->get_future();
  DeliveryReport local;
  local.topic = message.topic;
  local.id = message.id;
  Status st = impl_->Send(std::move(message),
                          [promise](const DeliveryReport& r) { promise->set_value(r); });
  if (!st.ok()) {
    local.status = std::move(st);
    promise->set_value(std::move(local));
  }
  return future;
}

Status Producer::Flush(std::chrono::milliseconds timeout) { return impl_->Flush(timeout); }
void Producer::Close(std::chrono::milliseconds timeout) { impl_->Close(timeout); }
const std::string& Producer::producer_id() const { return impl_->producer_id(); }
Producer::Stats Producer::stats() const { return impl_->stats(); }

}  // namespace zoomq
