// The AMQP 0-9-1 driver of zoomq-bench for RabbitMQ (issue 13; docs/peers.md), through
// librabbitmq-c. --client amqp --url amqp://HOST:PORT (user guest/guest, vhost /): --topic is
// a quorum queue (declared durable with x-queue-type=quorum when missing). Produce: publisher
// confirms on, persistent messages to the default exchange, --batch unconfirmed publishes in
// flight per connection; a message counts when its basic.ack arrives (a nack is an error).
// Consume: --consumers connections with prefetch --pull-max and manual acks, one basic.ack
// (multiple) for what has arrived whenever the socket has nothing more buffered (as zoomq's
// one ack per pull). AMQP acks have no answer: a message counts as acked when its ack is
// sent. Built only with librabbitmq-c (scripts/deps.sh compare); AmqpDriverBuilt() says
// whether it was.
#pragma once

#include <atomic>
#include <string>

#include "zoomq/bench/http.h"
#include "zoomq/bench/options.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

bool AmqpDriverBuilt();

// Logs in and declares the queue (an existing quorum queue is fine).
bool AmqpPrepare(const BenchOptions& options, std::string* error);
ProduceStats RunAmqpProduce(const BenchOptions& options, const StopSignal& stop);
ConsumeStats RunAmqpConsume(const BenchOptions& options, const StopSignal& stop,
                            const std::atomic<int64_t>& target);

}  // namespace zoomq::bench
