#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace zoomq::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Tail(const std::string& text, size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

}  // namespace

ChildProcess::ChildProcess(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

ChildProcess::~ChildProcess() = default;  // Child SIGKILLs a child still running

bool ChildProcess::Start(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& input, const std::vector<std::string>& env,
                         std::string* error) {
  {
    std::ofstream in(dir_ + "/stdin", std::ios::binary | std::ios::trunc);
    in << input;
  }
  zoomq::proc::SpawnOptions o;
  o.argv = {binary};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = env;
  o.stdin_path = dir_ + "/stdin";
  o.stdout_path = dir_ + "/stdout";
  o.stderr_path = dir_ + "/stderr";
  command_.clear();
  for (const auto& a : o.argv) command_ += (command_.empty() ? "" : " ") + a;
  started_ = child_.Start(o, error);
  return started_;
}

void ChildProcess::Signal(int signal) { child_.Signal(signal); }

bool ChildProcess::Running() { return child_.Running(); }

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto status = child_.WaitExit(timeout);
  if (!status || !WIFEXITED(*status)) return std::nullopt;
  return WEXITSTATUS(*status);
}

std::string ChildProcess::Stdout() const { return ReadAll(dir_ + "/stdout"); }
std::string ChildProcess::Stderr() const { return ReadAll(dir_ + "/stderr"); }

std::string ChildProcess::Describe() const {
  std::string status = "not started";
  if (started_ && child_.pid() > 0) {
    status = "running";
  } else if (started_) {
    const int st = child_.last_status();
    status = WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st))
                           : "signal " + std::to_string(WTERMSIG(st));
  }
  return "$ " + command_ + "\n[" + status + "]\n--- stdout ---\n" + Tail(Stdout(), 3000) +
         "\n--- stderr ---\n" + Tail(Stderr(), 3000);
}

RunResult RunToCompletion(const std::string& binary, const std::vector<std::string>& args,
                          const std::string& input, std::chrono::milliseconds timeout,
                          const std::vector<std::string>& env) {
  static std::atomic<int> counter{0};
  const std::string dir = MakeTempDir("zoomq-cli");
  RunResult result;
  {
    ChildProcess child(dir + "/run" + std::to_string(counter++));
    std::string error;
    if (!child.Start(binary, args, input, env, &error)) {
      result.description = "cannot start " + binary + ": " + error;
    } else {
      result.exit_code = child.Wait(timeout).value_or(-1);
      result.out = child.Stdout();
      result.err = child.Stderr();
      result.description = child.Describe();
    }
  }  // SIGKILLed here when it timed out
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return result;
}

}  // namespace zoomq::testing
