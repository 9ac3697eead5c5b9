// The chaos checker: pure functions from what the clients recorded and what the replicas hold
// after the run to one table of figures (docs/chaos.md defines each figure precisely).
// No I/O, no clocks: times are milliseconds since the start of the run, as recorded.

#ifndef ZOOMQ_TOOLS_CHAOS_CHECKER_H_
#define ZOOMQ_TOOLS_CHAOS_CHECKER_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace zoomq::chaos {

using Json = nlohmann::json;

enum class Outcome { kOk, kFailed, kIndeterminate };

// One message a producer thread tried to write (every attempt used the same id).
struct Write {
  std::string id;
  std::string key;
  int thread = 0;       // producer thread; it waits for each write's ack before the next
  int64_t key_seq = 0;  // per-key sequence number of this thread (also in the value)
  Outcome outcome = Outcome::kIndeterminate;  // of the last attempt
  int attempts = 0;
  int failed_attempts = 0;         // answered 4xx: nothing written
  int indeterminate_attempts = 0;  // no answer or 5xx: maybe written
  int partition = -1;  // from the 200
  int64_t offset = -1;
  bool duplicate = false;
  int answered_by = 0;         // broker that answered 200
  int64_t answered_epoch = -1;  // the partition's epoch the producer knew when it sent
  int64_t sent_ms = -1;        // last attempt
  int64_t acked_ms = -1;
};

// One message handed to a group consumer by one pull.
struct Delivery {
  std::string handle;  // "<partition>-<offset>"
  std::string id;      // message_id
  std::string key;
  std::string consumer;
  int via = 0;       // broker the pull was sent to
  int delivery = 0;  // the broker's delivery count
  int64_t pull_started_ms = 0;
  int64_t pull_ended_ms = 0;
};

// One ack request and its answer.
struct AckAnswer {
  std::vector<std::string> handles;
  std::vector<std::string> unknown;
  int status = 0;  // HTTP status, 0: no answer
  int via = 0;     // broker the ack was sent to
  int64_t sent_ms = 0;
  int64_t answered_ms = 0;
  int64_t acked = -1;  // the answer's "acked" count (-1: none); handles - unknown when sound
  // Acked as applied: a 200 and the handle is not in `unknown`.
  bool Applied(const std::string& handle) const;
};

// One message a stream reader saw.
struct StreamRead {
  int partition = 0;
  int64_t offset = 0;
  std::string id;
};

struct ReplicaEntry {
  int64_t offset = 0;
  int64_t epoch = 0;
  std::string id;
  Json raw;  // the whole entry, compared between replicas
};

struct Replica {
  bool answered = false;
  int64_t high_watermark = -1;
  std::vector<ReplicaEntry> entries;
};

struct CheckInput {
  int partitions = 0;
  std::vector<Write> writes;
  std::vector<Delivery> deliveries;
  std::vector<AckAnswer> acks;
  std::vector<StreamRead> stream_reads;
  std::vector<std::string> stream_gaps;  // offsets a stream reader skipped (described)
  // partition -> broker -> its replica (GET /internal/v1/log)
  std::map<int, std::map<int, Replica>> replicas;
  int64_t producers_started_ms = 0;
  int64_t producers_stopped_ms = 0;
  // Partitions without a live leader and a full ISR (or with diverging high watermarks)
  // when the settling period after healing ended.
  std::vector<std::string> unsettled;
};

// Parses a GET /internal/v1/log answer.
Replica ParseReplica(const Json& log);

struct Figure {
  std::string name;
  int64_t value = 0;
  bool must_be_zero = false;
  std::vector<std::string> examples;  // the first few offenders, for the report
};

struct Report {
  std::vector<Figure> figures;
  bool ok() const;  // every must-be-0 figure is 0
  int64_t Value(const std::string& name) const;  // -1 if absent
  std::string Table() const;
  Json ToJson() const;
};

Report Check(const CheckInput& input);

// Every record of the run, for the forensics of a failed run (written next to the logs).
Json RecordsJson(const CheckInput& input);

}  // namespace zoomq::chaos

#endif  // ZOOMQ_TOOLS_CHAOS_CHECKER_H_
