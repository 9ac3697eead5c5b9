// Tolerant reads of a JSON answer (nlohmann): a field that is missing, null or of another type
// gives the fallback, so readers accept fields they do not know and brokers that lack optional
// ones. For the codecs of common/ and the SDK; not part of the SDK's public headers.
#pragma once

#include <type_traits>

#include <nlohmann/json.hpp>

namespace zoomq {

template <typename T>
T JsonGet(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return fallback;
  } else {
    if (!it->is_number()) return fallback;
  }
  return it->get<T>();
}

}  // namespace zoomq
