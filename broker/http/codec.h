// Codec: request bodies and query strings in, JSON out. No behaviour, only shapes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "broker/service/broker_service.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::http {

// Parses a body that must be a JSON object ("" is an error unless allow_empty).
Result<nlohmann::json> ParseObject(const std::string& body, bool allow_empty = false);

Result<std::vector<ProduceMessage>> ParseProduce(const std::string& body);

// {"ids": ["0-17", ...]} plus one optional integer field (delay_ms / visibility_ms).
struct IdsRequest {
  std::vector<MessageRef> ids;
  std::optional<int64_t> number;
};
Result<IdsRequest> ParseIds(const std::string& body, const char* number_field, int64_t min,
                            int64_t max);

// A decimal query parameter in [min, max]; `fallback` when absent.
Result<int64_t> ParseNumber(const std::optional<std::string>& text, const char* name, int64_t min,
                            int64_t max, int64_t fallback);

// Topic names in routes: user names, or "<user name>.dlq".
Status ValidateTopicRef(const std::string& name);

std::string RenderMessage(const StoredMessage& m, std::optional<uint32_t> delivery);
// {"messages":[...]} (each message rendered once, as stored); `in_flight`, when given, adds
// the consumer's lease count for a forwarding broker's SSE prefetch.
std::string RenderMessages(const std::vector<DeliveredMessage>& msgs,
                           std::optional<size_t> in_flight = std::nullopt);
nlohmann::json TopicJson(const TopicInfo& t);
nlohmann::json GroupJson(const GroupInfo& g);
nlohmann::json AckJson(const AckOutcome& o, const char* verb);

}  // namespace zoomq::broker::http
