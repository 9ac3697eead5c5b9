// Bearer tokens (docs/security.md): 256 random bits from OpenSSL's CSPRNG, shown once when
// created, stored only as their SHA-256. A token carries no data: the store maps its hash to
// a principal. (A fast hash is enough for 256-bit random secrets; a slow KDF protects only
// guessable passwords.)
#pragma once

#include <string>
#include <string_view>

#include "zoomq/common/status.h"

namespace zoomq::security {

inline constexpr std::string_view kTokenPrefix = "zq_";
inline constexpr size_t kTokenBytes = 32;
// Longest Authorization header value looked at; anything longer is refused unread.
inline constexpr size_t kMaxAuthorizationLength = 512;

// A fresh token: "zq_" and 64 lowercase hex digits.
Result<std::string> GenerateToken();
// What is stored for a token: 64 lowercase hex digits of SHA-256 of its text.
std::string HashToken(std::string_view token);
// True if `token` hashes to `hash`; the comparison takes the same time wherever they differ.
bool TokenMatches(std::string_view hash, std::string_view token);
// The token of an Authorization header value "Bearer <token>" (scheme case-insensitive).
// UNAUTHENTICATED, saying what is wrong, for anything else: another scheme, no token, a value
// over kMaxAuthorizationLength, characters outside [A-Za-z0-9._~+/=-].
Result<std::string> ParseBearer(std::string_view header);

}  // namespace zoomq::security
