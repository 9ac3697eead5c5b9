#include "zoomq/bench/payload.h"

#include <nlohmann/json.hpp>

namespace zoomq::bench {
namespace {

using nlohmann::json;

// SAX handler that keeps only messages[*].id and messages[*].delivery.
class PullSax : public nlohmann::json_sax<json> {
 public:
  explicit PullSax(PullAnswer* out) : out_(out) {}

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t v) override {
    if (AtMessageField("delivery") && v > 1) ++out_->redeliveries;
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (AtMessageField("delivery") && v > 1) ++out_->redeliveries;
    return true;
  }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& v) override {
    if (AtMessageField("id")) out_->ids.push_back(std::move(v));
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) in_messages_ = (k == "messages");
    if (depth_ == 3) key_ = k;
    return true;
  }
  bool end_object() override {
    --depth_;
    if (depth_ == 2) key_.clear();
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    if (depth_ == 2 && in_messages_) saw_messages_ = true;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
  bool saw_messages() const { return saw_messages_; }

 private:
  // A scalar directly under one message object: depth 3 = root{ messages[ {here} ] }.
  bool AtMessageField(std::string_view name) const {
    return depth_ == 3 && in_messages_ && key_ == name;
  }

  PullAnswer* out_;
  int depth_ = 0;
  bool in_messages_ = false;
  bool saw_messages_ = false;
  std::string key_;
};

}  // namespace

std::string MessageValue(int64_t seq, int size) {
  std::string value(static_cast<size_t>(size), 'x');
  const std::string digits = std::to_string(seq);
  if (digits.size() < value.size()) value.replace(0, digits.size(), digits);
  return value;
}

std::string BuildProduceBody(int64_t first_seq, int count, int size, std::string_view id_prefix) {
  std::string body;
  body.reserve(static_cast<size_t>(count) * (static_cast<size_t>(size) + 40 + id_prefix.size()) +
               16);
  body += "{\"messages\":[";
  for (int i = 0; i < count; ++i) {
    const int64_t seq = first_seq + i;
    if (i > 0) body += ',';
    body += '{';
    if (!id_prefix.empty()) {
      body += "\"id\":\"";
      body += id_prefix;
      body += std::to_string(seq);
      body += "\",";
    }
    body += "\"value\":\"";
    body += MessageValue(seq, size);
    body += "\"}";
  }
  body += "]}";
  return body;
}

ProduceAnswer ParseProduceAnswer(std::string_view body) {
  ProduceAnswer answer;
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return answer;
  auto it = doc.find("results");
  if (it == doc.end() || !it->is_array()) return answer;
  answer.ok = true;
  answer.results = static_cast<int64_t>(it->size());
  for (const json& r : *it) {
    if (r.is_object() && r.value("duplicate", false)) ++answer.duplicates;
  }
  return answer;
}

PullAnswer ParsePullAnswer(std::string_view body) {
  PullAnswer answer;
  PullSax sax(&answer);
  const bool parsed = json::sax_parse(body, &sax, json::input_format_t::json, true, false);
  answer.ok = parsed && sax.saw_messages();
  return answer;
}

std::string BuildIdsBody(const std::vector<std::string>& ids) {
  std::string body = "{\"ids\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) body += ',';
    body += json(ids[i]).dump();
  }
  body += "]}";
  return body;
}

AckAnswer ParseAckAnswer(std::string_view body) {
  AckAnswer answer;
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return answer;
  auto acked = doc.find("acked");
  if (acked == doc.end() || !acked->is_number_integer()) return answer;
  answer.ok = true;
  answer.acked = acked->get<int64_t>();
  auto unknown = doc.find("unknown");
  if (unknown != doc.end() && unknown->is_array()) {
    answer.unknown = static_cast<int64_t>(unknown->size());
  }
  return answer;
}

}  // namespace zoomq::bench
