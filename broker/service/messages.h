// Messages: the message logs' write and read paths: placing and producing a batch (appended,
// replicated, acknowledged once committed) and stream reads by offset.
#pragma once

#include <string>
#include <vector>

#include "broker/service/state.h"

namespace zoomq::broker {

class Messages {
 public:
  explicit Messages(ServiceState& s) : s_(s) {}

  // Validates a batch and returns each message's partition (explicit, key hash, id hash,
  // else one partition per request: StickyPartition).
  Result<std::vector<int32_t>> Place(const std::string& topic,
                                     const std::vector<ProduceMessage>& messages);
  // The whole batch is validated before anything is written; answers once every message is
  // committed (the high watermark passed it).
  Result<std::vector<ProduceResult>> Produce(const std::string& topic,
                                             std::vector<ProduceMessage> messages);
  // Stream read by offset; long-polls up to wait_ms when `from` is at the high watermark.
  Result<StreamRead> Read(const std::string& topic, int64_t partition, uint64_t from, size_t max,
                          TimeMs wait_ms);

 private:
  // The partition for a request's messages that have neither key nor id: round robin per
  // request over the partitions this broker leads (any partition if it leads none).
  int32_t StickyPartition(Topic& topic);

  ServiceState& s_;
};

}  // namespace zoomq::broker
