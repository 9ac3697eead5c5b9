// Reading the demo programs' output in tests: which sequence numbers a zoomq-sensor reports
// persisted and which a zoomq-controller reports handled (formats: demo-iot/README.md).
#pragma once

#include <cstdint>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace zoomq::testing {

// Sequence numbers of the lines of `text` matching `pattern` (group 1 is the number).
inline std::multiset<int64_t> Sequences(const std::string& text, const std::regex& pattern) {
  std::multiset<int64_t> out;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, pattern)) out.insert(std::stoll(m[1]));
  }
  return out;
}

// "temperature_1 seq=12 value=22.31 C -> partition 0 offset 11"
inline std::multiset<int64_t> PersistedSequences(const std::string& sensor_output,
                                                 const std::string& topic) {
  return Sequences(sensor_output,
                   std::regex(topic + " seq=(\\d+) value=\\S+ \\S+ -> partition \\d+ offset \\d+"));
}

// "handled temperature_1 seq=12 value=22.31 C partition=0 offset=11 delivery=1"
inline std::multiset<int64_t> HandledSequences(const std::string& controller_output,
                                               const std::string& topic) {
  return Sequences(controller_output, std::regex("^handled " + topic + " seq=(\\d+) "));
}

}  // namespace zoomq::testing
