// zoomqctl: the operator's CLI over the SDK's public API (zoomq::Admin, Producer, Consumer).
// Run() is main() minus the process: tests and main.cc call it with their own streams.
#pragma once

#include <istream>
#include <ostream>

namespace zoomq::ctl {

// Parses argv, runs one verb and returns the process exit code (see render.h). `consume`
// installs its own SIGINT/SIGTERM handling (a StopSignal) for the time it runs.
int Run(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace zoomq::ctl
