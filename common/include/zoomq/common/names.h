// Validation of names and hashing of keys, shared by broker and SDK.
#pragma once

#include <cstdint>
#include <string_view>

#include "zoomq/common/status.h"

namespace zoomq {

inline constexpr size_t kMaxNameLength = 196;
inline constexpr std::string_view kDlqSuffix = ".dlq";

// Topic, group and consumer names: [A-Za-z0-9._-]{1,196}, not starting with '.'.
// `what` names the field in the error ("topic", "group").
Status ValidateName(std::string_view name, std::string_view what);
bool IsDlqName(std::string_view topic);

// 64-bit FNV-1a of the key's UTF-8 bytes. Stable across versions and platforms:
// partition = Fnv1a64(key) % partitions (docs/api.md, "Partitioning").
uint64_t Fnv1a64(std::string_view bytes);

}  // namespace zoomq
