// The bootstrap admin token (docs/security.md): read from the file --admin-token-file names.
#pragma once

#include <string>

#include "zoomq/common/status.h"

namespace zoomq::broker::auth {

// The shortest admin token accepted: a guessable one would open the whole cluster.
inline constexpr size_t kMinAdminTokenLength = 32;

// The token in `path` (surrounding whitespace trimmed). INVALID_REQUEST saying what is wrong
// when the file cannot be read, is empty, has more than one token, is shorter than
// kMinAdminTokenLength or holds characters a bearer token cannot carry. `warning` gets a line
// to log when the file is readable by other users (or "" when it is not).
Result<std::string> ReadAdminTokenFile(const std::string& path, std::string* warning);

}  // namespace zoomq::broker::auth
