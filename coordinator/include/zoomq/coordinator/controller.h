// Controller: the cluster controller's policy over a MetadataStore (ZooKeeper in a broker, an
// in-memory store in unit tests). It decides and writes; it does not watch, log or wait: the
// broker's ClusterNode calls it when membership or metadata change, logs what it wrote, and
// retries on its tick. The decisions themselves are the pure functions of cluster_metadata.h
// (DecidePartition, AssignReplicas).
//
// Thread-safety: none of its own; calls go to the store, which must be thread-safe if the
// caller uses a Controller from several threads (ClusterMetadata is).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "zoomq/coordinator/cluster_metadata.h"
#include "zoomq/coordinator/metadata_store.h"

namespace zoomq::coordinator {

// One partition state the controller wrote.
struct PartitionChange {
  std::string topic;
  int32_t partition = 0;
  PartitionState from;  // as read (with its version)
  PartitionState to;    // as written (with the new version)
};

class Controller {
 public:
  explicit Controller(MetadataStore* store) : store_(store) {}

  // One pass over every partition of every topic: reads its state, decides
  // (DecidePartition: live brokers with their incarnations, brokers leaving, whether to move
  // leadership back to preferred replicas) and writes the decision with a compare-and-set.
  // A partition that cannot be read, or whose state moved on before the write (a leader's ISR
  // change), is left for the next pass, which reads it again. Returns what was written.
  std::vector<PartitionChange> Reconcile(const LiveBrokers& live,
                                         const std::set<int32_t>& leaving, bool prefer);

  // Whether the store says `broker` leads any partition (unreadable topics and partitions
  // count as not led: the caller's deadline bounds the wait, not this answer).
  bool LeadsAny(int32_t broker);

  // The partition states of a new topic: replicas spread over the live brokers (sorted ids),
  // starting at an offset derived from the topic name so that topics do not all prefer the
  // same brokers; every replica in the ISR; the preferred replica leads epoch 1 in its
  // current incarnation. REQUIRES: 0 < replication_factor <= live_sorted.size().
  static std::vector<PartitionState> PlaceTopic(const std::string& name, int32_t partitions,
                                                int32_t replication_factor,
                                                const std::vector<int32_t>& live_sorted,
                                                const LiveBrokers& incarnations);

 private:
  // Calls fn for every readable partition state, until it returns false.
  using PartitionFn =
      std::function<bool(const std::string& topic, int32_t partition, const PartitionState& s)>;
  void ForEachPartition(const PartitionFn& fn);

  MetadataStore* const store_;
};

}  // namespace zoomq::coordinator
