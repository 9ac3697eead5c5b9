// zoomq-controller TOPIC...: see demo-iot/README.md.
#include <CLI/CLI.hpp>
#include <iostream>

#include "zoomq/demo/controller.h"
#include "zoomq/tools/brokers.h"
#include "zoomq/tools/stop_signal.h"

int main(int argc, char** argv) {
  zoomq::tools::StopSignal stop;  // first: every later thread inherits the blocked signals
  CLI::App app{"zoomq-controller: consumes sensor topics as a member of a consumer group, "
               "prints each reading (ALERT above a threshold) and acks it, until Ctrl-C",
               "zoomq-controller"};
  zoomq::demo::ControllerOptions options;
  std::string brokers = zoomq::tools::kDefaultBrokers;
  std::vector<std::string> thresholds;
  app.add_option("TOPIC", options.topics, "Sensor topics (TYPE_ID), e.g. temperature_1")
      ->required();
  app.add_option("--group", options.group, "Consumer group")->capture_default_str();
  app.add_option("--name", options.name, "Member name (default: controller-<pid>)");
  app.add_option("--threshold", thresholds,
                 "TYPE=VALUE alert threshold (repeatable; defaults: temperature=23.5, "
                 "humidity=58, pressure=1018)");
  app.add_option("--brokers", brokers, "Broker URLs, comma-separated")
      ->envname("ZOOMQ_BROKERS")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  for (const std::string& spec : thresholds) {
    zoomq::Status set = options.thresholds.Set(spec);
    if (!set.ok()) {
      std::cerr << "zoomq-controller: " << set.message() << "\n";
      return 1;
    }
  }
  options.client.brokers = zoomq::tools::SplitBrokers(brokers);
  options.client.client_id = options.name.empty() ? "controller" : options.name;
  return zoomq::demo::RunController(options, stop, std::cout);
}
