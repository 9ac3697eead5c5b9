// Broker lists as zoomqctl and the demo's programs take them (--brokers / ZOOMQ_BROKERS).
#pragma once

#include <string>
#include <vector>

namespace zoomq::tools {

// The brokers of scripts/run.sh's local cluster (scripts/cluster.sh, base port 9100).
inline constexpr const char* kDefaultBrokers =
    "http://127.0.0.1:9101,http://127.0.0.1:9102,http://127.0.0.1:9103";

// Comma-separated broker URLs; blanks around items and empty items dropped.
std::vector<std::string> SplitBrokers(const std::string& text);

}  // namespace zoomq::tools
