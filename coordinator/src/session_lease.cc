#include "zoomq/coordinator/session_lease.h"

#include <algorithm>

namespace zoomq::coordinator {

SessionLease::SessionLease(double safe_fraction)
    : safe_fraction_(std::clamp(safe_fraction, 0.0, 1.0)) {}

void SessionLease::OnConnected(TimeMs session_timeout_ms) {
  connected_ = true;
  has_contact_ = false;
  budget_ms_ = static_cast<TimeMs>(static_cast<double>(session_timeout_ms) * safe_fraction_);
}

void SessionLease::OnContact(TimeMs sent_at) {
  if (!connected_) return;
  if (!has_contact_ || sent_at > last_contact_) last_contact_ = sent_at;
  has_contact_ = true;
}

void SessionLease::OnSuspended() { connected_ = false; }

void SessionLease::OnReconnected() { connected_ = true; }

void SessionLease::OnDisconnected() {
  connected_ = false;
  has_contact_ = false;
}

TimeMs SessionLease::SafeUntil() const {
  if (!has_contact_) return 0;
  return last_contact_ + budget_ms_;
}

bool SessionLease::IsSafeToAct(TimeMs now) const {
  // Strict: at exactly last_contact + budget the window is over. A suspended session keeps
  // its window (OnSuspended); an expired or closed one has no contact left.
  return has_contact_ && now < last_contact_ + budget_ms_;
}

}  // namespace zoomq::coordinator
