// zoomq-chaos: a fault-injection run against a real ZooKeeper and 3 real brokers, with a
// checker of docs/GUARANTEES.md at the end (docs/chaos.md).

#ifndef ZOOMQ_TOOLS_CHAOS_CHAOS_H_
#define ZOOMQ_TOOLS_CHAOS_CHAOS_H_

#include <cstdint>
#include <iosfwd>
#include <string>

namespace zoomq::chaos {

struct Options {
  int duration_s = 300;
  uint32_t seed = 1;
  bool json = false;
  std::string dir;  // parent of the run's temp dir (default $TMPDIR or /tmp)
  bool netns = false;
  int session_ms = 2000;  // brokers' ZooKeeper session timeout
  int producers = 3;
  int consumers = 3;
  bool keep = false;  // keep the run's dir (logs, data) also when the run passes
  // Security on (docs/security.md): brokers with an admin token, ZooKeeper digest ACLs; the
  // clients present the token.
  bool secure = false;
};

// Parses the command line (CLI11) and runs. Returns the process exit status: 0 when every
// must-be-0 figure is 0, 1 when one is not, 2 when the run could not be set up.
int Main(int argc, char** argv);

// Runs with `options`; the table (or JSON) goes to `out`, progress to `log`.
int Run(const Options& options, std::ostream& out, std::ostream& log);

}  // namespace zoomq::chaos

#endif  // ZOOMQ_TOOLS_CHAOS_CHAOS_H_
