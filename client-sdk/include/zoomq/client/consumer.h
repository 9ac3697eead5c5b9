// zoomq::Consumer: a member of a consumer group (competing consumers), or a stream reader.
//
// Group mode (`group` set): Poll() long-polls every partition leader of the topic directly
// (the cluster view says who leads what) and returns leased messages; Ack/Nack/Extend go to
// each message's partition leader. A failover costs latency only: requests that fail are
// retried against the new leader after a metadata refresh. Leases live on the leader, so a
// failover may redeliver messages that were leased but not acked (at-least-once); an acked
// message is never delivered again.
//
// Stream mode (`group` empty): Poll() reads each partition from its position (starting at
// `stream_from`), without leases; Ack/Nack/Extend are not used.
//
// Callback mode: Start(handler) runs polling threads that call `handler` for each message;
// with `auto_ack` the message is acked after the handler returns true, nacked (after
// `nack_delay`) when it returns false. Stop() ends them.
//
// Thread-safety: Poll, Ack, Nack, Extend may be called from any thread; Start/Stop from one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/client/options.h"
#include "zoomq/client/types.h"

namespace zoomq {

struct ConsumerOptions {
  ClientOptions client;
  std::string topic;
  std::string group;     // "" → stream mode
  std::string consumer;  // member name ("" → client_id or a random one)
  std::optional<std::chrono::milliseconds> visibility;  // lease length (default: topic's)
  // Messages buffered locally ahead of the application, per Poll round (also the max asked
  // from each leader); in callback mode, the most leased and not yet handled.
  int prefetch = 100;
  // Group mode: create the group at "earliest" (default) or "latest" if it does not exist.
  std::string start = "earliest";
  // Stream mode: the first offset of every partition (clamped to the first retained one);
  // -1 means "from the high watermark" (only new messages).
  int64_t stream_from = 0;
  // Stream mode: only these partitions (empty: all).
  std::vector<int> stream_partitions;
  // Callback mode.
  bool auto_ack = true;
  std::chrono::milliseconds nack_delay{1000};
  int callback_threads = 1;
};

class Consumer {
 public:
  explicit Consumer(ConsumerOptions options);
  ~Consumer();  // Stop()
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Up to `max` messages, waiting up to `timeout` for the first one. An empty vector means
  // nothing arrived in time. Errors only for what retrying cannot fix (unknown topic, bad
  // options) or when no broker answered for the whole timeout.
  Result<std::vector<ReceivedMessage>> Poll(int max, std::chrono::milliseconds timeout);

  // `handles` are ReceivedMessage::handle values ("<partition>-<offset>").
  Result<AckResult> Ack(const std::vector<std::string>& handles);
  Result<AckResult> Nack(const std::vector<std::string>& handles,
                         std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  Result<AckResult> Extend(const std::vector<std::string>& handles,
                           std::chrono::milliseconds visibility);

  // Stream mode: the next offset Poll reads per partition.
  std::vector<std::pair<int, int64_t>> Positions() const;
  // Stream mode: move one partition's position.
  void Seek(int partition, int64_t offset);

  // Callback mode. The handler returns true when the message was handled (auto_ack acks it)
  // and false to have it nacked. Runs until Stop().
  using Handler = std::function<bool(const ReceivedMessage&)>;
  Status Start(Handler handler);
  void Stop();

  const std::string& consumer_name() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zoomq
