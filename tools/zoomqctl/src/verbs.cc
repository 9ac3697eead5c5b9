#include "verbs.h"

#include <unistd.h>

#include <chrono>

#include "render.h"
#include "zoomq/tools/brokers.h"

namespace zoomq::ctl {

ClientOptions MakeClient(const Globals& g) {
  ClientOptions options;
  options.brokers = tools::SplitBrokers(g.brokers);
  options.request_timeout = std::chrono::milliseconds(g.timeout_ms);
  options.security = g.security;
  // Also the default member name of `consume --group`: one per process.
  options.client_id = "zoomqctl-" + std::to_string(getpid());
  return options;
}

int Fail(const Globals& g, Io& io, const Status& status) {
  io.err << "zoomqctl: " << status.ToString() << '\n';
  if (g.json) io.out << Json{{"error", ErrorJson(status)}}.dump() << '\n';
  return ExitCodeFor(status);
}

int Usage(Io& io, const std::string& message) {
  io.err << "zoomqctl: " << message << " (see --help)\n";
  return kExitUsage;
}

int Done(const Globals& g, Io& io, const Status& st, const std::string& what) {
  if (!st.ok()) return Fail(g, io, st);
  if (g.json) {
    io.out << Json{{"ok", true}}.dump(2) << '\n';
  } else {
    io.out << what << '\n';
  }
  return kExitOk;
}

}  // namespace zoomq::ctl
