// Free loopback ports for the servers a harness starts (brokers, ZooKeeper).
//
// Thread-safety: any thread.
#pragma once

namespace zoomq::proc {

// Binds 127.0.0.1:0, reads the port back and closes the socket; 0 if it cannot. Another
// process may take the port before the server binds it: callers retry on another one when
// their server exits at once.
int PickFreePort();

}  // namespace zoomq::proc
