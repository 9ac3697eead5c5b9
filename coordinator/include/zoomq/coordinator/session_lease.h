// SessionLease: may a ZooKeeper session holder still act (e.g. as leader) at time `now`?
//
// The server expires a session when it has heard nothing from the client for the session
// timeout T. A reply to a request sent at time s proves the server heard from this session at
// some time >= s, so the session cannot expire before s + T. The lease therefore trusts the
// session until s + fraction * T (default 2/3 T), where s is the send time of the most recent
// request that got a reply; the remaining third covers clock-rate drift and the time the holder
// needs to notice and stop. A paused or partitioned leader stops acting before its session can
// expire and before anyone else can be elected in its place.
//
// Disconnection (the client is reconnecting) or expiry ends the lease at once: the server may
// already have expired the session.
//
// Pure: every input is an argument, times are monotonic milliseconds (any origin, e.g.
// steady_clock). Not thread-safe; the owner serializes calls (ZkSession guards it with a mutex).
#pragma once

#include <cstdint>

#include "zoomq/common/clock.h"

namespace zoomq::coordinator {

class SessionLease {
 public:
  // `safe_fraction` in (0, 1): the share of the session timeout a contact is trusted for.
  explicit SessionLease(double safe_fraction = 2.0 / 3.0);

  // The client (re)connected with the negotiated `session_timeout_ms`. No contact is counted
  // yet: the lease starts with the first reply to a request sent after this call.
  void OnConnected(TimeMs session_timeout_ms);
  // A request sent at `sent_at` got a reply from the server. Ignored while disconnected. Keeps
  // the latest send time (replies may arrive out of order).
  void OnContact(TimeMs sent_at);
  // The client lost its connection and is reconnecting (possibly to another server of the
  // ensemble) with the same session: the server cannot expire the session before the last
  // contact + the timeout, so the current window stays valid; no new contact counts until
  // the client is connected again.
  void OnSuspended();
  // The client reconnected with the same session: the window continues from the last contact
  // (a fresh reply will extend it).
  void OnReconnected();
  // The session expired, or it was closed: the lease ends at once.
  void OnDisconnected();

  // True iff connected and `now` is before SafeUntil().
  bool IsSafeToAct(TimeMs now) const;
  // End of the trusted window (last contact + fraction * timeout); 0 when there is none.
  TimeMs SafeUntil() const;
  // The trusted window's length: fraction * session timeout, in ms (0 before OnConnected).
  TimeMs BudgetMs() const { return budget_ms_; }
  bool connected() const { return connected_; }

 private:
  const double safe_fraction_;
  bool connected_ = false;
  bool has_contact_ = false;
  TimeMs last_contact_ = 0;  // send time of the latest answered request
  TimeMs budget_ms_ = 0;
};

}  // namespace zoomq::coordinator
