// The ZooKeeper digest credentials of a broker (`--zk-auth-file`, docs/security.md,
// "ZooKeeper"): a file holding one line "user:password", the value ZkSessionOptions::
// digest_auth takes. Every broker of a cluster uses the same credentials.
//
// Thread-safety: pure functions (ReadDigestCredentials reads the file once).
#pragma once

#include <string>

#include "zoomq/common/status.h"

namespace zoomq::coordinator {

// Checks `text` as the content of a credentials file: one line "user:password", its trailing
// line break(s) removed; user and password not empty (the password may hold ':'). Returns
// "user:password", or kInvalidRequest saying what is wrong (never echoing the password).
Result<std::string> ParseDigestCredentials(const std::string& text);

// Reads `path` (at most 4 KiB) and parses it. kInvalidRequest when the file is missing,
// unreadable, too large or malformed; the message names the path.
Result<std::string> ReadDigestCredentials(const std::string& path);

// "user" of "user:password": what logs may show.
std::string DigestUser(const std::string& credentials);

}  // namespace zoomq::coordinator
