// zoomq-controller's body: consumes each topic as a member of a consumer group (callback
// mode, auto-ack), prints one line per reading handled and an ALERT line when a reading is
// above its type's threshold. Members of one group share the readings: each is handled by
// one of them (at-least-once across a failover: a reading leased but not acked before a
// broker died may come back, marked delivery=2).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "zoomq/client.h"
#include "zoomq/demo/reading.h"
#include "zoomq/tools/stop_signal.h"

namespace zoomq::demo {

struct ControllerOptions {
  std::vector<std::string> topics;
  std::string group = "controllers";
  std::string name;  // member name ("" -> "controller-<pid>")
  Thresholds thresholds;
  ClientOptions client;
};

// Waits for each topic to exist, consumes until `stop`, stops the consumers and returns the
// exit code: 0 after a clean stop, 2 or 3 if a consumer could not start.
int RunController(const ControllerOptions& options, tools::StopSignal& stop,
                  std::ostream& out);

}  // namespace zoomq::demo
