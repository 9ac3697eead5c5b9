#include "zoomq/security/token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cctype>
#include <charconv>

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

bool HashesEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool TokenMatches(std::string_view hash, std::string_view token) {
  return HashesEqual(hash, HashToken(token));
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

std::string BrokerCredential(std::string_view secret, int32_t broker_id) {
  const std::string message = "zoomq broker " + std::to_string(broker_id);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &n);
  return std::string(kBrokerCredentialPrefix) + std::to_string(broker_id) + "." + Hex(mac, n);
}

std::optional<int32_t> VerifyBrokerCredential(std::string_view secret,
                                              std::string_view credential) {
  if (secret.empty() || !credential.starts_with(kBrokerCredentialPrefix)) return std::nullopt;
  std::string_view rest = credential.substr(kBrokerCredentialPrefix.size());
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 10) return std::nullopt;
  int32_t id = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + dot, id);
  if (ec != std::errc() || end != rest.data() + dot || id < 0) return std::nullopt;
  const std::string expected = BrokerCredential(secret, id);
  if (expected.size() != credential.size() ||
      CRYPTO_memcmp(expected.data(), credential.data(), expected.size()) != 0) {
    return std::nullopt;
  }
  return id;
}

}  // namespace zoomq::security
