// What every zoomqctl verb shares: the global flags, the streams, the SDK options they make,
// and how a failure is reported (stderr, --json on stdout, the exit code of render.h).
#pragma once

#include <istream>
#include <ostream>
#include <string>

#include "zoomq/client.h"

namespace zoomq::ctl {

// The flags before (or after) the verb.
struct Globals {
  std::string brokers;
  TransportSecurity security;
  bool json = false;
  int timeout_ms = 10000;
};

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

// The SDK's options for the cluster the flags name.
ClientOptions MakeClient(const Globals& g);
// Reports `status` and returns its exit code.
int Fail(const Globals& g, Io& io, const Status& status);
// A usage error (exit 1).
int Usage(Io& io, const std::string& message);
// The end of a verb that answers with nothing but success: `what` (or {"ok":true}) or the
// failure.
int Done(const Globals& g, Io& io, const Status& st, const std::string& what);

}  // namespace zoomq::ctl
