#include "zoomq/proc/files.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace zoomq::proc {

std::string MakeTempDir(const std::string& prefix) {
  std::string base = "/tmp";
  if (const char* t = std::getenv("TMPDIR"); t != nullptr && *t != '\0') base = t;
  std::string tmpl = base + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return "";
  return std::string(buf.data());
}

void RemoveTempDir(const std::string& dir) {
  if (dir.empty()) return;
  if (std::getenv("ZOOMQ_IT_KEEP") != nullptr) {
    std::fprintf(stderr, "keeping %s\n", dir.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

std::string ReadFileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path + ")";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  if (all.size() > max_bytes) {
    all = all.substr(all.size() - max_bytes);
    const size_t nl = all.find('\n');
    if (nl != std::string::npos && nl + 1 < all.size()) all = all.substr(nl + 1);
    all = "...\n" + all;
  }
  return all;
}

}  // namespace zoomq::proc
