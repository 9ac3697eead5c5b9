// Tolerant reads of a JSON answer (nlohmann): a field that is missing, null or of another type
// gives the fallback, so readers accept fields they do not know and brokers that lack optional
// ones. For the decoders of common/, the SDK, the broker and the coordinator; not part of the
// SDK's public headers.
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace zoomq {

// The value of `v` as the integer type T when it is a JSON integer that fits T; false (and
// `out` untouched) for anything else: a float (nlohmann's get<T>() of 3e86 or 1e19 is undefined
// behaviour, and of 1.5 a silent truncation), a string, null, an integer out of T's range.
template <typename T>
bool JsonIntegerOf(const nlohmann::json& v, T* out) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  if (v.is_number_unsigned()) {
    const auto n = v.get<uint64_t>();
    if (!std::in_range<T>(n)) return false;
    *out = static_cast<T>(n);
    return true;
  }
  if (!v.is_number_integer()) return false;
  const auto n = v.get<int64_t>();
  if (!std::in_range<T>(n)) return false;
  *out = static_cast<T>(n);
  return true;
}

// Strict reads for decoders that turn exceptions into a Status: the integer `v` holds, else
// std::invalid_argument naming `what`.
template <typename T>
T JsonInt(const nlohmann::json& v, const char* what = "value") {
  T out{};
  if (!JsonIntegerOf(v, &out)) {
    throw std::invalid_argument(std::string("'") + what + "' is not an integer in range");
  }
  return out;
}
// The member `key` of object `j` as JsonInt (nlohmann's out_of_range when it is missing, as
// j.at(key) would throw).
template <typename T>
T JsonIntAt(const nlohmann::json& j, const char* key) {
  return JsonInt<T>(j.at(key), key);
}

template <typename T>
T JsonGet(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return fallback;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return fallback;
  } else if constexpr (std::is_integral_v<T>) {
    T out{};
    return JsonIntegerOf(*it, &out) ? out : fallback;
  } else {
    if (!it->is_number()) return fallback;
  }
  return it->get<T>();
}

}  // namespace zoomq
