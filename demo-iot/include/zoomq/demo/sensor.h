// zoomq-sensor's body: publishes a simulated reading every interval to topic "<type>_<id>"
// (created with one partition if missing) with the sensor id as key, through a
// zoomq::Producer, and prints one line per reading with its outcome.
#pragma once

#include <ostream>
#include <string>

#include "zoomq/client.h"
#include "zoomq/tools/stop_signal.h"

namespace zoomq::demo {

struct SensorOptions {
  std::string type;  // temperature | humidity | pressure
  std::string id;
  double interval_s = 1.0;
  int64_t count = 0;  // stop after this many readings (0: until stopped)
  ClientOptions client;
};

// Runs until `stop` (SIGINT/SIGTERM) or `count` readings, then flushes the producer (up to
// 10 s) and returns the exit code: 0 after a clean stop, 1 for bad options, 3 when the topic
// could not be created before the stop.
int RunSensor(const SensorOptions& options, tools::StopSignal& stop, std::ostream& out);

}  // namespace zoomq::demo
