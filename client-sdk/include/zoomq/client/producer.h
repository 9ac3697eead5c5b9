// zoomq::Producer: asynchronous, batching, at-least-once without duplicates.
//
// Send() only queues the message (it fails at once only for local reasons: invalid message,
// full buffer, closed producer). Messages are batched per partition (`linger`, `batch_bytes`,
// `batch_messages`) and sent straight to the partition's leader. Every message gets an `id`
// (producer id + counter) unless it has one, and its partition is fixed before the first
// attempt, so a retry after an unknown outcome lands where the first try did and the broker
// recognises it: no duplicate. Retriable errors (503, 429, timeouts, lost connections, a
// leader that moved) are retried with exponential backoff and jitter until
// `delivery_timeout`; the outcome of every message is reported exactly once, in the order
// of the partition's sends, on the producer's callback thread.
//
// Thread-safety: all methods may be called from any thread. Callbacks run on the producer's
// own thread, never under a lock; a callback must not block for long (it delays others) and
// may call Send(). From a callback, Flush() returns INVALID_REQUEST and Close() only stops
// new sends; the Producer must not be destroyed from its own callback.
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>

#include "zoomq/client/options.h"
#include "zoomq/client/types.h"

namespace zoomq {

struct ProducerOptions {
  ClientOptions client;
  std::chrono::milliseconds linger{5};  // wait this long for a batch to fill
  size_t batch_bytes = 512 * 1024;      // a batch is sent when it reaches this size...
  size_t batch_messages = 1000;         // ...or this many messages
  size_t buffer_bytes = 32 * 1024 * 1024;  // queued + in-flight message bytes, at most
  bool block_when_full = true;  // Send blocks (up to max_block) when the buffer is full...
  std::chrono::milliseconds max_block{60000};  // ...else/then fails with OVERLOADED
  std::chrono::milliseconds delivery_timeout{120000};  // from Send to the final outcome
  std::chrono::milliseconds retry_backoff{100};        // first retry delay (doubles)...
  std::chrono::milliseconds retry_backoff_max{2000};   // ...up to this, with ±20% jitter
  // Requests in flight per partition. 1 keeps each partition's order even across retries.
  int max_in_flight_per_partition = 1;
  // A message larger than this (value, as sent, plus key and headers) fails Send() with
  // PAYLOAD_TOO_LARGE instead of failing its whole batch at the broker. Match the brokers'
  // max_message_bytes (default 1 MiB).
  size_t max_message_bytes = 1024 * 1024;
};

using DeliveryCallback = std::function<void(const DeliveryReport&)>;

class Producer {
 public:
  explicit Producer(ProducerOptions options);
  ~Producer();  // Close(): flushes for up to options.delivery_timeout.
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues `message`; `callback` (may be empty) gets its DeliveryReport once.
  Status Send(OutgoingMessage message, DeliveryCallback callback);
  // The same, as a future. A local failure gives a ready future with that status.
  std::future<DeliveryReport> Send(OutgoingMessage message);

  // Waits until every message queued so far has its outcome reported. Returns TIMED_OUT
  // (Code::kTimedOut) if some are still pending at the deadline.
  Status Flush(std::chrono::milliseconds timeout);
  // Flushes up to `timeout`, then fails what is left (NOT_PERSISTED or POSSIBLY_PERSISTED)
  // and stops the threads. Send afterwards fails.
  void Close(std::chrono::milliseconds timeout = std::chrono::milliseconds(30000));

  // The producer id in generated message ids ("<producer_id>-<counter>").
  const std::string& producer_id() const;

  struct Stats {
    int64_t sent = 0;       // messages persisted
    int64_t failed = 0;     // messages reported failed
    int64_t retries = 0;    // request retries
    int64_t requests = 0;   // produce requests sent
    int64_t buffered_bytes = 0;
  };
  Stats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zoomq
