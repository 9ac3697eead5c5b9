#include "zoomq/bench/amqp_runner.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>

#include <memory>

#include "zoomq/bench/peer_runs.h"

namespace zoomq::bench {
namespace {

constexpr amqp_channel_t kChannel = 1;

std::string ReplyText(const amqp_rpc_reply_t& r) {
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
      return "ok";
    case AMQP_RESPONSE_NONE:
      return "no reply";
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
      return amqp_error_string2(r.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* m = static_cast<amqp_channel_close_t*>(r.reply.decoded);
        return "channel closed: " +
               std::string(static_cast<const char*>(m->reply_text.bytes), m->reply_text.len);
      }
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* m = static_cast<amqp_connection_close_t*>(r.reply.decoded);
        return "connection closed: " +
               std::string(static_cast<const char*>(m->reply_text.bytes), m->reply_text.len);
      }
      return "server exception";
  }
  return "unknown reply";
}

// One logged-in connection with channel 1 open; closed and destroyed with the object.
class Connection {
 public:
  bool Open(const BenchOptions& o, std::string* error) {
    conn_ = amqp_new_connection();
    amqp_socket_t* socket = amqp_tcp_socket_new(conn_);
    const timeval tv{5, 0};
    if (!socket ||
        amqp_socket_open_noblock(socket, o.amqp_host.c_str(), o.amqp_port, &tv) != AMQP_STATUS_OK) {
      *error = "amqp at " + o.amqp_host + ":" + std::to_string(o.amqp_port) + ": cannot connect";
      return false;
    }
    const amqp_rpc_reply_t login =
        amqp_login(conn_, "/", 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, "guest", "guest");
    if (login.reply_type != AMQP_RESPONSE_NORMAL) {
      *error = "amqp login: " + ReplyText(login);
      return false;
    }
    amqp_channel_open(conn_, kChannel);
    if (amqp_rpc_reply_t r = amqp_get_rpc_reply(conn_); r.reply_type != AMQP_RESPONSE_NORMAL) {
      *error = "amqp channel.open: " + ReplyText(r);
      return false;
    }
    open_ = true;
    return true;
  }
  ~Connection() {
    if (!conn_) return;
    if (open_) {
      amqp_channel_close(conn_, kChannel, AMQP_REPLY_SUCCESS);
      amqp_connection_close(conn_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(conn_);
  }
  amqp_connection_state_t get() const { return conn_; }

 private:
  amqp_connection_state_t conn_ = nullptr;
  bool open_ = false;
};

}  // namespace

bool AmqpDriverBuilt() { return true; }

bool AmqpPrepare(const BenchOptions& o, std::string* error) {
  Connection c;
  if (!c.Open(o, error)) return false;
  amqp_table_entry_t type;
  type.key = amqp_cstring_bytes("x-queue-type");
  type.value.kind = AMQP_FIELD_KIND_UTF8;
  type.value.value.bytes = amqp_cstring_bytes("quorum");
  amqp_table_t args{1, &type};
  amqp_queue_declare(c.get(), kChannel, amqp_cstring_bytes(o.topic.c_str()), 0, /*durable=*/1, 0, 0,
                     args);
  if (amqp_rpc_reply_t r = amqp_get_rpc_reply(c.get()); r.reply_type != AMQP_RESPONSE_NORMAL) {
    *error = "amqp queue.declare " + o.topic + ": " + ReplyText(r);
    return false;
  }
  return true;
}

namespace {

// Publisher confirms: sequence numbers start at 1 on the channel and count every publish.
class AmqpProducer : public PeerProducer {
 public:
  explicit AmqpProducer(const BenchOptions& o) : o_(o) {
    props_._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props_.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  }
  bool Open(std::string* error) override {
    if (!c_.Open(o_, error)) return false;
    if (!amqp_confirm_select(c_.get(), kChannel)) {
      *error = "amqp confirm.select: " + ReplyText(amqp_get_rpc_reply(c_.get()));
      return false;
    }
    return true;
  }
  bool Send(const std::string& value, std::string* error) override {
    const amqp_bytes_t body{value.size(), const_cast<char*>(value.data())};
    if (amqp_basic_publish(c_.get(), kChannel, amqp_empty_bytes,
                           amqp_cstring_bytes(o_.topic.c_str()), 0, 0, &props_,
                           body) != AMQP_STATUS_OK) {
      *error = "amqp basic.publish failed";
      return false;
    }
    ++published_;
    return true;
  }
  bool Await(int64_t* confirmed, int64_t* failed, std::string* error) override {
    amqp_frame_t frame;
    const timeval tv{30, 0};
    amqp_maybe_release_buffers(c_.get());
    if (amqp_simple_wait_frame_noblock(c_.get(), &frame, &tv) != AMQP_STATUS_OK) {
      *error = "amqp: no confirm within 30 s";
      return false;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) return true;
    const amqp_method_number_t id = frame.payload.method.id;
    uint64_t tag = 0;
    bool multiple = false;
    if (id == AMQP_BASIC_ACK_METHOD) {
      const auto* m = static_cast<amqp_basic_ack_t*>(frame.payload.method.decoded);
      tag = m->delivery_tag;
      multiple = m->multiple;
    } else if (id == AMQP_BASIC_NACK_METHOD) {
      const auto* m = static_cast<amqp_basic_nack_t*>(frame.payload.method.decoded);
      tag = m->delivery_tag;
      multiple = m->multiple;
    } else {
      *error = "amqp: the channel or connection was closed (method " + std::to_string(id) + ")";
      return false;
    }
    // Confirms come in order: everything up to `tag` (multiple) or `tag` alone.
    if (tag < confirmed_up_to_ + 1 || tag > published_) return true;  // nothing new
    const int64_t n = multiple ? static_cast<int64_t>(tag - confirmed_up_to_) : 1;
    confirmed_up_to_ = tag;
    (id == AMQP_BASIC_ACK_METHOD ? *confirmed : *failed) = n;
    return true;
  }

 private:
  const BenchOptions& o_;
  Connection c_;
  amqp_basic_properties_t props_{};
  uint64_t published_ = 0;
  uint64_t confirmed_up_to_ = 0;
};

}  // namespace

ProduceStats RunAmqpProduce(const BenchOptions& o, const StopSignal& stop) {
  return RunWindowedProduce(o, stop, [&] { return std::make_unique<AmqpProducer>(o); });
}

ConsumeStats RunAmqpConsume(const BenchOptions& o, const StopSignal& stop,
                            const std::atomic<int64_t>& target) {
  const auto start = SteadyClock::now();
  return RunConsumers(
      o, target,
      [&](int, ConsumerFigures& mine, std::atomic<int64_t>& acked, std::atomic<int64_t>& last_ns) {
        std::string error;
        Connection c;
        if (!c.Open(o, &error)) {
          mine.stats.errors.AddTransport(error);
          return;
        }
        amqp_basic_qos(c.get(), kChannel, 0, static_cast<uint16_t>(o.pull_max), 0);
        amqp_basic_consume(c.get(), kChannel, amqp_cstring_bytes(o.topic.c_str()), amqp_empty_bytes,
                           0, /*no_ack=*/0, 0, amqp_empty_table);
        if (amqp_rpc_reply_t r = amqp_get_rpc_reply(c.get());
            r.reply_type != AMQP_RESPONSE_NORMAL) {
          mine.stats.errors.AddTransport("amqp basic.consume: " + ReplyText(r));
          return;
        }
        uint64_t unacked_tag = 0;  // the last delivery received and not yet acked
        int64_t unacked = 0;
        while (!stop.ShouldStop() && acked.load() < target.load()) {
          amqp_envelope_t envelope;
          const auto asked = SteadyClock::now();
          const timeval tv{o.pull_wait_ms / 1000, (o.pull_wait_ms % 1000) * 1000};
          amqp_maybe_release_buffers(c.get());
          const amqp_rpc_reply_t r = amqp_consume_message(c.get(), &envelope, &tv, 0);
          ++mine.stats.pulls;
          if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            mine.pulls.Add(NanosBetween(asked, SteadyClock::now()));
            ++mine.stats.received;
            if (envelope.redelivered) ++mine.stats.redeliveries;
            unacked_tag = envelope.delivery_tag;
            ++unacked;
            amqp_destroy_envelope(&envelope);
          } else if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
                     r.library_error == AMQP_STATUS_TIMEOUT) {
            ++mine.stats.empty_pulls;
          } else {
            mine.stats.errors.AddTransport("amqp consume: " + ReplyText(r));
            return;
          }
          // What has arrived is acked at once when nothing more is buffered.
          if (unacked > 0 && (unacked >= o.pull_max ||
                              (!amqp_data_in_buffer(c.get()) && !amqp_frames_enqueued(c.get())))) {
            if (amqp_basic_ack(c.get(), kChannel, unacked_tag, /*multiple=*/1) != AMQP_STATUS_OK) {
              mine.stats.errors.AddTransport("amqp basic.ack failed");
              return;
            }
            ++mine.stats.acks;
            mine.stats.acked += unacked;
            acked += unacked;
            unacked = 0;
            AtomicMax(last_ns, NanosBetween(start, SteadyClock::now()));
          }
        }
      });
}

}  // namespace zoomq::bench
