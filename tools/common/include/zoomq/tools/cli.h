// Command-line conventions shared by zoomqctl and the demo's programs (CLI11, header-only).
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "zoomq/tools/brokers.h"

namespace zoomq::tools {

// --brokers URL[,URL...] (env ZOOMQ_BROKERS), defaulting to the local cluster's brokers.
inline CLI::Option* AddBrokersOption(CLI::App& app, std::string* brokers) {
  *brokers = kDefaultBrokers;
  return app.add_option("--brokers", *brokers, "Broker URLs, comma-separated (any one is enough)")
      ->envname("ZOOMQ_BROKERS")
      ->capture_default_str();
}

// Parses argv; on --help (exit 0) or a usage error (exit 1, the documented usage code) prints
// CLI11's message and returns the exit code, else nullopt.
inline std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv,
                                    std::ostream& out = std::cout,
                                    std::ostream& err = std::cerr) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err) == 0 ? 0 : 1;
  }
  return std::nullopt;
}

}  // namespace zoomq::tools
