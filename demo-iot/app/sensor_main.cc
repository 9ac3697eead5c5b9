// zoomq-sensor TYPE ID INTERVAL_S: see demo-iot/README.md.
#include <iostream>

#include "zoomq/demo/reading.h"
#include "zoomq/demo/sensor.h"
#include "zoomq/tools/cli.h"
#include "zoomq/tools/security_flags.h"
#include "zoomq/tools/stop_signal.h"

int main(int argc, char** argv) {
  zoomq::tools::StopSignal stop;  // first: every later thread inherits the blocked signals
  CLI::App app{"zoomq-sensor: publishes simulated JSON readings to topic TYPE_ID (key: ID) "
               "until Ctrl-C",
               "zoomq-sensor"};
  zoomq::demo::SensorOptions options;
  std::string brokers;
  app.add_option("TYPE", options.type, "One of: " + zoomq::demo::SensorTypeNames())
      ->required();
  app.add_option("ID", options.id, "Sensor id (also the message key)")->required();
  app.add_option("INTERVAL_S", options.interval_s, "Seconds between readings (e.g. 1, 0.2)")
      ->required()
      ->check(CLI::Range(0.001, 3600.0));
  zoomq::tools::AddBrokersOption(app, &brokers);
  zoomq::tools::AddSecurityFlags(app, &options.client.security);
  app.add_option("--count", options.count, "Stop after this many readings (0: never)")
      ->check(CLI::NonNegativeNumber);
  if (auto exit_code = zoomq::tools::ParseArgs(app, argc, argv)) return *exit_code;
  options.client.brokers = zoomq::tools::SplitBrokers(brokers);
  options.client.client_id = "sensor-" + options.type + "-" + options.id;
  return zoomq::demo::RunSensor(options, stop, std::cout);
}
