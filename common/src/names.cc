#include "zoomq/common/names.h"

#include <string>

namespace zoomq {

Status ValidateName(std::string_view name, std::string_view what) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return Status::Invalid(std::string(what) + " name must be 1-196 characters");
  }
  if (name.front() == '.') {
    return Status::Invalid(std::string(what) + " name must not start with '.'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::Invalid(std::string(what) + " name may only contain [A-Za-z0-9._-]");
    }
  }
  return Status::Ok();
}

bool IsDlqName(std::string_view topic) {
  return topic.size() > kDlqSuffix.size() && topic.ends_with(kDlqSuffix);
}

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace zoomq
