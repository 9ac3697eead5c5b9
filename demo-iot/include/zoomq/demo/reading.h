// The IoT demo's data: a sensor reading, its JSON form, the simulated sensor types and the
// controller's alert thresholds. Pure code (no I/O), unit-tested in tests/cli/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>

#include "zoomq/common/status.h"

namespace zoomq::demo {

// One message on a sensor's topic:
// {"sensor":"1","type":"temperature","value":21.37,"unit":"C","timestamp_ms":...,"sequence":7}
struct Reading {
  std::string sensor;  // the sensor id, also the message key
  std::string type;    // temperature | humidity | pressure
  double value = 0;    // rounded to 2 decimals
  std::string unit;
  int64_t timestamp_ms = 0;  // wall clock when measured
  int64_t sequence = 0;      // 1, 2, 3... per sensor run: a gap means a lost reading
};

std::string ReadingToJson(const Reading& reading);
// INVALID_REQUEST when the text is not a JSON object with these fields and types.
Result<Reading> ParseReading(const std::string& json_text);

// A simulated kind of sensor. Values follow a random walk pulled back towards `base`:
// v += 0.2 * (base - v) + N(0, step), clamped to [min, max]; its spread is about
// step / 0.6, so `threshold` (base + ~1.5 spreads) is crossed now and then.
struct SensorType {
  const char* name;
  const char* unit;
  double base;
  double step;
  double min;
  double max;
  double threshold;  // the controller's default alert threshold
};

// nullptr for an unknown type.
const SensorType* FindSensorType(const std::string& name);
// "temperature, humidity, pressure" for messages.
std::string SensorTypeNames();

// Topic name of a sensor: "<type>_<id>". INVALID_REQUEST if the name would be invalid.
Result<std::string> SensorTopic(const std::string& type, const std::string& id);

// Not thread-safe: one per sensor.
class RandomWalk {
 public:
  RandomWalk(const SensorType& type, uint64_t seed);
  double Next();

 private:
  const SensorType& type_;
  std::mt19937_64 rng_;
  double value_;
};

// Alert thresholds per type: a reading above its type's threshold is an alert.
class Thresholds {
 public:
  Thresholds();  // the SensorType defaults
  // "TYPE=VALUE"; INVALID_REQUEST when malformed.
  Status Set(const std::string& spec);
  std::optional<double> For(const std::string& type) const;
  bool Exceeds(const Reading& reading) const;

 private:
  std::map<std::string, double> by_type_;
};

}  // namespace zoomq::demo
