// zoomq-controller TOPIC...: see demo-iot/README.md.
#include <iostream>

#include "zoomq/demo/controller.h"
#include "zoomq/tools/cli.h"
#include "zoomq/tools/security_flags.h"
#include "zoomq/tools/stop_signal.h"

int main(int argc, char** argv) {
  zoomq::tools::StopSignal stop;  // first: every later thread inherits the blocked signals
  CLI::App app{"zoomq-controller: consumes sensor topics as a member of a consumer group, "
               "prints each reading (ALERT above a threshold) and acks it, until Ctrl-C",
               "zoomq-controller"};
  zoomq::demo::ControllerOptions options;
  std::string brokers;
  std::vector<std::string> thresholds;
  app.add_option("TOPIC", options.topics, "Sensor topics (TYPE_ID), e.g. temperature_1")
      ->required();
  app.add_option("--group", options.group, "Consumer group")->capture_default_str();
  app.add_option("--name", options.name, "Member name (default: controller-<pid>)");
  app.add_option("--threshold", thresholds,
                 "TYPE=VALUE alert threshold (repeatable; defaults: temperature=23.5, "
                 "humidity=58, pressure=1018)");
  zoomq::tools::AddBrokersOption(app, &brokers);
  zoomq::tools::AddSecurityFlags(app, &options.client.security);
  if (auto exit_code = zoomq::tools::ParseArgs(app, argc, argv)) return *exit_code;
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
