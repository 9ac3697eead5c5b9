// The result of one bench run, as text for people or JSON for scripts.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/bench/options.h"
#include "zoomq/bench/stats.h"

namespace zoomq::bench {

struct Report {
  BenchOptions options;
  std::optional<ProduceStats> produce;  // --mode produce, both
  std::optional<ProduceStats> rate;     // --mode rate
  std::optional<ConsumeStats> consume;  // --mode consume, both
  std::optional<IdleStats> idle;        // --idle-waiters > 0
  bool deadline_hit = false;
  double wall_s = 0;
  double cpu_user_s = 0;  // CPU the bench itself used (it shares the machine with the broker)
  double cpu_sys_s = 0;
  std::vector<std::string> failures;  // non-empty: exit status 1
  std::vector<std::string> warnings;

  bool ok() const { return failures.empty(); }
};

nlohmann::json ToJson(const Report& report);
std::string ToText(const Report& report);

}  // namespace zoomq::bench
