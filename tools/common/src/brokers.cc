#include "zoomq/tools/brokers.h"

#include <sstream>

namespace zoomq::tools {

std::vector<std::string> SplitBrokers(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace zoomq::tools
