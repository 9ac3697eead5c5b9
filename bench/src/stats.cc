#include "zoomq/bench/stats.h"

namespace zoomq::bench {

void ErrorCounts::AddStatus(int status, const std::string& body) {
  ++errors;
  ++statuses[status];
  if (first_error.empty())
    first_error = "status " + std::to_string(status) + ": " + body.substr(0, 300);
}

void ErrorCounts::AddTransport(const std::string& what) {
  ++transport_errors;
  if (first_error.empty()) first_error = "transport: " + what;
}

void ErrorCounts::Merge(const ErrorCounts& other) {
  errors += other.errors;
  transport_errors += other.transport_errors;
  for (const auto& [status, n] : other.statuses) statuses[status] += n;
  if (first_error.empty()) first_error = other.first_error;
}

}  // namespace zoomq::bench
