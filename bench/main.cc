// zoomq-bench: throughput and latency of a zoomq broker. See docs/benchmarks.md.
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>

#include "zoomq/bench/options.h"
#include "zoomq/bench/report.h"
#include "zoomq/bench/runner.h"

int main(int argc, char** argv) {
  zoomq::bench::BenchOptions options;
  CLI::App app{"zoomq-bench: load generator and latency meter for a zoomq broker"};
  zoomq::bench::AddFlags(app, &options);
  CLI11_PARSE(app, argc, argv);
  if (const std::string error = zoomq::bench::Finalize(&options); !error.empty()) {
    std::cerr << "zoomq-bench: " << error << "\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);  // only httplib clients here: a closed socket must not kill us

  const zoomq::bench::Report report = zoomq::bench::RunBench(options);
  if (options.json) {
    std::cout << zoomq::bench::ToJson(report).dump(2) << std::endl;
  } else {
    std::cout << zoomq::bench::ToText(report) << std::flush;
  }
  return report.ok() ? 0 : 1;
}
