// Bearer tokens (docs/security.md): 256 random bits from OpenSSL's CSPRNG, shown once when
// created, stored only as their SHA-256. A token carries no data: the store maps its hash to
// a principal. (A fast hash is enough for 256-bit random secrets; a slow KDF protects only
// guessable passwords.)
#pragma once

#include <cstdint>
#include <optional>
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
// True if two stored hashes are equal; the comparison takes the same time wherever they differ.
bool HashesEqual(std::string_view a, std::string_view b);
// The token of an Authorization header value "Bearer <token>" (scheme case-insensitive).
// UNAUTHENTICATED, saying what is wrong, for anything else: another scheme, no token, a value
// over kMaxAuthorizationLength, characters outside [A-Za-z0-9._~+/=-].
Result<std::string> ParseBearer(std::string_view header);

// Broker credentials: what a broker presents to another (replication, forwarded requests).
// "zqb.<id>.<64 hex of HMAC-SHA256(secret, "zoomq broker <id>")>": every broker of a cluster
// shares `secret` (the bootstrap admin token), so each can check that a caller is broker <id>
// and no client token can pass for one.
inline constexpr std::string_view kBrokerCredentialPrefix = "zqb.";
std::string BrokerCredential(std::string_view secret, int32_t broker_id);
// The broker id `credential` proves, or nullopt (not a broker credential, or a wrong MAC).
std::optional<int32_t> VerifyBrokerCredential(std::string_view secret, std::string_view credential);

}  // namespace zoomq::security
