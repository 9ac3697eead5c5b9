#include "zoomq/security/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cctype>

namespace zoomq::security {

namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

bool TokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '~' ||
         c == '+' || c == '/' || c == '=' || c == '-';
}

Status Unauthenticated(std::string message) {
  return Status(Code::kUnauthenticated, std::move(message));
}

}  // namespace

Result<std::string> GenerateToken() {
  unsigned char bytes[kTokenBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return Status::Internal("the random generator failed: no token created");
  }
  return std::string(kTokenPrefix) + Hex(bytes, sizeof(bytes));
}

std::string HashToken(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(token.data(), token.size(), digest, &n, EVP_sha256(), nullptr);
  return Hex(digest, n);
}

bool TokenMatches(std::string_view hash, std::string_view token) {
  const std::string mine = HashToken(token);
  return hash.size() == mine.size() && CRYPTO_memcmp(hash.data(), mine.data(), mine.size()) == 0;
}

Result<std::string> ParseBearer(std::string_view header) {
  if (header.size() > kMaxAuthorizationLength) {
    return Unauthenticated("the Authorization header is over " +
                           std::to_string(kMaxAuthorizationLength) + " bytes");
  }
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size()) {
    return Unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) {
      return Unauthenticated("the Authorization header must be 'Bearer <token>'");
    }
  }
  std::string_view token = header.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return Unauthenticated("the Authorization header has no token");
  for (char c : token) {
    if (!TokenChar(c)) return Unauthenticated("the token has a character no token has");
  }
  return std::string(token);
}

}  // namespace zoomq::security
