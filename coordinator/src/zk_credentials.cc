#include "zoomq/coordinator/zk_credentials.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace zoomq::coordinator {

namespace {
// A line "user:password" is short; a larger file is the wrong file.
constexpr size_t kMaxFileBytes = 4096;
}  // namespace

Result<std::string> ParseDigestCredentials(const std::string& text) {
  std::string line = text;
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return Status::Invalid("empty, expected one line user:password");
  if (line.find_first_of("\r\n") != std::string::npos) {
    return Status::Invalid("more than one line, expected one line user:password");
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return Status::Invalid("no ':', expected one line user:password");
  if (colon == 0) return Status::Invalid("empty user before ':'");
  if (colon + 1 == line.size()) return Status::Invalid("empty password after ':'");
  return line;
}

Result<std::string> ReadDigestCredentials(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::Invalid("cannot read " + path + ": " + std::strerror(errno));
  std::string text(kMaxFileBytes + 1, '\0');
  const size_t n = std::fread(text.data(), 1, text.size(), f);
  const bool failed = std::ferror(f) != 0;  // e.g. EISDIR: a directory opens, reads fail
  const int read_errno = errno;
  std::fclose(f);
  if (failed) {
    return Status::Invalid("cannot read " + path + ": " + std::strerror(read_errno));
  }
  if (n > kMaxFileBytes) {
    return Status::Invalid(path + ": larger than " + std::to_string(kMaxFileBytes) +
                           " bytes, expected one line user:password");
  }
  text.resize(n);
  auto parsed = ParseDigestCredentials(text);
  if (!parsed.ok()) return Status::Invalid(path + ": " + parsed.status().message());
  return parsed;
}

std::string DigestUser(const std::string& credentials) {
  return credentials.substr(0, credentials.find(':'));
}

}  // namespace zoomq::coordinator
