#include "zoomq/demo/reading.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "zoomq/common/names.h"

namespace zoomq::demo {
namespace {

using Json = nlohmann::json;

constexpr SensorType kTypes[] = {
    {"temperature", "C", 22.0, 0.8, -20.0, 50.0, 23.5},
    {"humidity", "%", 50.0, 3.0, 0.0, 100.0, 58.0},
    {"pressure", "hPa", 1013.0, 2.0, 950.0, 1050.0, 1018.0},
};

double Round2(double v) { return std::round(v * 100.0) / 100.0; }

}  // namespace

std::string ReadingToJson(const Reading& r) {
  return Json{{"sensor", r.sensor},     {"type", r.type},
              {"value", Round2(r.value)}, {"unit", r.unit},
              {"timestamp_ms", r.timestamp_ms}, {"sequence", r.sequence}}
      .dump();
}

Result<Reading> ParseReading(const std::string& json_text) {
  Json j = Json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Invalid("reading is not a JSON object");
  auto str = [&](const char* f) { return j.contains(f) && j[f].is_string(); };
  auto num = [&](const char* f) { return j.contains(f) && j[f].is_number(); };
  auto integer = [&](const char* f) { return j.contains(f) && j[f].is_number_integer(); };
  if (!str("sensor") || !str("type") || !num("value") || !str("unit") ||
      !integer("timestamp_ms") || !integer("sequence")) {
    return Status::Invalid("reading lacks a field or has a wrong type: " + json_text);
  }
  Reading r;
  r.sensor = j["sensor"].get<std::string>();
  r.type = j["type"].get<std::string>();
  r.value = j["value"].get<double>();
  r.unit = j["unit"].get<std::string>();
  r.timestamp_ms = j["timestamp_ms"].get<int64_t>();
  r.sequence = j["sequence"].get<int64_t>();
  return r;
}

const SensorType* FindSensorType(const std::string& name) {
  for (const SensorType& t : kTypes) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

std::string SensorTypeNames() {
  std::string out;
  for (const SensorType& t : kTypes) out += (out.empty() ? "" : ", ") + std::string(t.name);
  return out;
}

Result<std::string> SensorTopic(const std::string& type, const std::string& id) {
  std::string topic = type + "_" + id;
  Status valid = ValidateName(topic, "topic");
  if (!valid.ok()) return valid;
  return topic;
}

RandomWalk::RandomWalk(const SensorType& type, uint64_t seed)
    : type_(type), rng_(seed), value_(type.base) {}

double RandomWalk::Next() {
  std::normal_distribution<double> noise(0.0, type_.step);
  value_ += 0.2 * (type_.base - value_) + noise(rng_);
  value_ = std::clamp(value_, type_.min, type_.max);
  return Round2(value_);
}

Thresholds::Thresholds() {
  for (const SensorType& t : kTypes) by_type_[t.name] = t.threshold;
}

Status Thresholds::Set(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Status::Invalid("threshold wants TYPE=VALUE, got '" + spec + "'");
  }
  const std::string number = spec.substr(eq + 1);
  double value = 0;
  auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || end != number.data() + number.size() || number.empty() ||
      !std::isfinite(value)) {
    return Status::Invalid("threshold value is not a number: '" + number + "'");
  }
  by_type_[spec.substr(0, eq)] = value;
  return Status::Ok();
}

std::optional<double> Thresholds::For(const std::string& type) const {
  auto it = by_type_.find(type);
  if (it == by_type_.end()) return std::nullopt;
  return it->second;
}

bool Thresholds::Exceeds(const Reading& reading) const {
  std::optional<double> limit = For(reading.type);
  return limit && reading.value > *limit;
}

}  // namespace zoomq::demo
