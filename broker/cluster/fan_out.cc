#include "broker/cluster/fan_out.h"

namespace zoomq::broker::cluster::fan_out_internal {

Status NoLeader(const std::string& topic, int32_t partition) {
  return Status(Code::kNoLeader, topic + "/" + std::to_string(partition) +
                                     " has no leader right now; retry shortly");
}

bool IsNotLeader(const Status& st) { return st.code() == Code::kNotLeader; }

Status Abandoned(const std::string& url, const std::string& topic, int32_t partition) {
  return Status(Code::kNotLeader, "the leadership of " + topic + "/" +
                                      std::to_string(partition) + " moved away from " + url +
                                      " while a request to it was waiting; retry");
}

void AwaitLeaders(ClusterRouter& router, const std::string& topic,
                  const std::map<int32_t, std::string>& moved) {
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    uint64_t changes = 0;
  };
  auto shared = std::make_shared<Shared>();
  LeadershipWatch watch(router, [shared] {
    std::lock_guard<std::mutex> lock(shared->mu);
    ++shared->changes;
    shared->cv.notify_all();
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kLeaderMoveWaitMs);
  uint64_t seen = 0;
  for (;;) {
    bool all_moved = true;
    for (auto& [p, old] : moved) {
      auto now = router.LeaderUrl(topic, p);
      if (!now || *now == old) all_moved = false;
    }
    if (all_moved) return;
    std::unique_lock<std::mutex> lock(shared->mu);
    if (!shared->cv.wait_until(lock, until, [&] { return shared->changes != seen; })) return;
    seen = shared->changes;
  }
}

}  // namespace zoomq::broker::cluster::fan_out_internal
