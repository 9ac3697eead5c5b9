#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

extern char** environ;

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

std::string MakeTestDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" +
                     prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return "";
  return buf.data();
}

ChildProcess::ChildProcess(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool ChildProcess::Start(const std::string& binary, const std::vector<std::string>& args,
                         const std::string& input, const std::vector<std::string>& env,
                         std::string* error) {
  auto fail = [&](const std::string& what) {
    if (error != nullptr) *error = what + ": " + std::strerror(errno);
    return false;
  };
  {
    std::ofstream in(dir_ + "/stdin", std::ios::binary | std::ios::trunc);
    in << input;
  }
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  command_.clear();
  for (const auto& a : argv_s) command_ += (command_.empty() ? "" : " ") + a;
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ZOOMQ_", 6) != 0) env_s.emplace_back(*e);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  // Everything is prepared before fork: only async-signal-safe calls in the child.
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int in_fd = ::open((dir_ + "/stdin").c_str(), O_RDONLY | O_CLOEXEC);
  const int out_fd =
      ::open((dir_ + "/stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd =
      ::open((dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in_fd < 0 || out_fd < 0 || err_fd < 0) return fail("open " + dir_);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    if (::getppid() != parent) ::_exit(127);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_fd);
  pid_ = pid;
  exited_ = false;
  return true;
}

bool ChildProcess::Reap(bool block) {
  if (exited_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    exited_ = true;
    wait_status_ = status;
  }
  return exited_;
}

void ChildProcess::Signal(int signal) {
  if (pid_ > 0 && !exited_) ::kill(pid_, signal);
}

bool ChildProcess::Running() { return pid_ > 0 && !Reap(false); }

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // ok: poll with deadline
  }
  if (!exited_ || !WIFEXITED(wait_status_)) return std::nullopt;
  return WEXITSTATUS(wait_status_);
}

std::string ChildProcess::Stdout() const { return ReadAll(dir_ + "/stdout"); }
std::string ChildProcess::Stderr() const { return ReadAll(dir_ + "/stderr"); }

std::string ChildProcess::Describe() const {
  std::string status = "running";
  if (exited_) {
    status = WIFEXITED(wait_status_) ? "exit " + std::to_string(WEXITSTATUS(wait_status_))
                                     : "signal " + std::to_string(WTERMSIG(wait_status_));
  }
  return "$ " + command_ + "\n[" + status + "]\n--- stdout ---\n" + Tail(Stdout(), 3000) +
         "\n--- stderr ---\n" + Tail(Stderr(), 3000);
}

RunResult RunToCompletion(const std::string& binary, const std::vector<std::string>& args,
                          const std::string& input, std::chrono::milliseconds timeout,
                          const std::vector<std::string>& env) {
  static std::atomic<int> counter{0};
  const std::string dir = MakeTestDir("zoomq-cli");
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
