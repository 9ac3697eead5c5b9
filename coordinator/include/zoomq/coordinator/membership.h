// Membership: this broker's presence in /brokers/ids, and the live broker set.
//
// Registers an ephemeral node /brokers/ids/<id> holding {"id":<id>,"url":"<url>"} and watches
// the children of /brokers/ids, reporting the live set to a callback whenever it changes.
//
// A broker restarted inside its old session's timeout finds its old node still there
// (GUARANTEES.md). If that node carries the same URL it is reclaimed at once (version-checked
// delete, then create): the new process has already bound that URL's port, so the old one is
// gone. This happens before the first registration only: a node with our URL that appears
// later belongs to a newer incarnation. Any other holder (another URL: maybe a live broker
// configured with the same id) is waited for: an exists watch until the node vanishes, which
// happens when its session ends.
//
// After session expiry it registers again and re-arms its watch by itself (session listener);
// after a reconnection of the same session it re-checks both. Every registration (first,
// reclaim, after expiry) is a new incarnation: a new czxid, reported to the callback even when
// the id and URL are unchanged.
//
// Thread-safety: Start/Stop from one owning thread (not the coordinator thread);
// LiveBrokers()/registered() from any thread. The callback runs on the session's coordinator
// thread with no lock held; it must not call Stop(). Ownership: borrows the ZkSession, which
// must outlive this object.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "zoomq/common/status.h"
#include "zoomq/coordinator/zk_session.h"

namespace zoomq::coordinator {

struct BrokerInfo {
  int32_t id = 0;
  std::string url;  // where other brokers and clients reach it, e.g. "http://127.0.0.1:9101"
  // The registration's czxid (Kafka's "broker epoch", KIP-380): unique per registration, so
  // it changes whenever the broker restarts or gets a new session. Read from the node's
  // stat, not encoded in its data; 0 when unknown. Not part of ==, which compares identity.
  int64_t incarnation = 0;
  bool operator==(const BrokerInfo& o) const { return id == o.id && url == o.url; }
};

// {"id":1,"url":"http://..."}; Parse rejects anything else (InvalidRequest).
std::string EncodeBrokerInfo(const BrokerInfo& info);
Result<BrokerInfo> ParseBrokerInfo(const std::string& json);

class Membership {
 public:
  // Live brokers sorted by id (this broker included once registered).
  using ChangeFn = std::function<void(const std::vector<BrokerInfo>& live)>;

  Membership(ZkSession* session, BrokerInfo self, ChangeFn on_change);
  ~Membership();  // Stop()
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Registers (waiting for a conflicting node as described above) and arms the watch. Returns
  // once registered, or Unavailable after `timeout_ms` (it keeps trying until Stop()).
  Status Start(int timeout_ms);
  // Deletes this broker's node (if this session owns it), ends the callbacks. Idempotent.
  void Stop();

  bool registered() const;
  // The incarnation (czxid) of this broker's own current registration; 0 while unregistered.
  // A broker may lead only a partition granted to this incarnation (docs/replication.md).
  int64_t incarnation() const;
  // Live brokers, each with the incarnation of its current registration.
  std::vector<BrokerInfo> LiveBrokers() const;

 private:
  struct Core;
  ZkSession* const session_;
  std::shared_ptr<Core> core_;  // shared with callbacks queued on the coordinator thread
  int listener_id_ = 0;
};

}  // namespace zoomq::coordinator
