#include "broker/security/admin_token.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "zoomq/security/token.h"

namespace zoomq::broker::auth {

Result<std::string> ReadAdminTokenFile(const std::string& path, std::string* warning) {
  std::ifstream in(path);
  if (!in) return Status::Invalid("cannot read the admin token file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos)
    return Status::Invalid("the admin token file " + path + " is empty");
  const size_t end = text.find_last_not_of(" \t\r\n");
  std::string token = text.substr(begin, end - begin + 1);
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    return Status::Invalid("the admin token file " + path + " must hold one token");
  }
  if (token.size() < kMinAdminTokenLength) {
    return Status::Invalid("the admin token in " + path + " is shorter than " +
                           std::to_string(kMinAdminTokenLength) +
                           " characters (make one with: zoomqctl token generate)");
  }
  if (auto parsed = zoomq::security::ParseBearer("Bearer " + token); !parsed.ok()) {
    return Status::Invalid("the admin token in " + path + ": " + parsed.status().message());
  }
  if (token.starts_with(zoomq::security::kBrokerCredentialPrefix)) {
    return Status::Invalid("the admin token in " + path + " must not start with 'zqb.'");
  }
  struct stat st {};
  if (warning) {
    warning->clear();
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      *warning = "the admin token file " + path + " is readable by other users; chmod 600 it";
    }
  }
  return token;
}

}  // namespace zoomq::broker::auth
