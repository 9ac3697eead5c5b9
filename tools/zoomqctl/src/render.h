// zoomqctl's pure parts: exit codes, value parsing, JSON renderings of the SDK's types and a
// plain-text table. No I/O beyond the stream a caller passes; unit-tested without a broker.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "zoomq/client.h"

namespace zoomq::ctl {

using Json = nlohmann::json;

// Exit codes (documented in `zoomqctl --help` and docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitNotFound = 2;     // topic, group or partition unknown
inline constexpr int kExitUnavailable = 3;  // unreachable, timed out, no leader: retriable
inline constexpr int kExitRejected = 4;     // any other refusal (invalid, exists...)
inline constexpr int kExitDenied = 5;       // 401/403: no or a bad token, or not allowed

// 0 for ok; 2 for the *_NOT_FOUND codes; 3 when retrying may help (IsRetriable or
// TIMED_OUT); 4 otherwise.
int ExitCodeFor(const Status& status);

// A command-line or stdin value as the JSON text to produce: the text itself when it parses
// as JSON (`42`, `{"a":1}`, `"quoted"`, `true`), else the text as a JSON string
// (`hello` -> "hello").
std::string ValueAsJson(const std::string& text);

// "k=v" -> {k, v} (v may contain '='); nullopt without '=' or with an empty key.
std::optional<std::pair<std::string, std::string>> ParseHeader(const std::string& text);

Json ErrorJson(const Status& status);
Json ToJson(const PartitionInfo& partition);  // with "lag" = log_end_offset - high_watermark
Json ToJson(const TopicInfo& topic);
Json ToJson(const ClusterInfo& cluster);
Json ToJson(const GroupInfo& group);
Json ToJson(const ReceivedMessage& message);
Json ToJson(const DeliveryReport& report);

// One line for a received message: "<partition>-<offset> key=<key> <value> [headers]".
std::string MessageLine(const ReceivedMessage& message);

// Columns padded to their widest cell, two spaces apart.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : rows_{std::move(header)} {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;  // rows_[0] is the header
};

// "1,2,3" for a list of broker ids.
std::string JoinIds(const std::vector<int>& ids);

}  // namespace zoomq::ctl
