#include "zoomq/proc/child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "zoomq/proc/wait.h"

extern char** environ;

namespace zoomq::proc {
namespace {

// A name without '/' is looked up in PATH, before fork (the child only calls
// async-signal-safe functions).
std::string Resolve(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

int OpenOrNull(const std::string& path, int flags) {
  return ::open(path.empty() ? "/dev/null" : path.c_str(), flags | O_CLOEXEC, 0644);
}

}  // namespace

Child::~Child() { Kill(); }

bool Child::Start(const SpawnOptions& options, std::string* error) {
  auto fail = [&](const std::string& what) {
    if (error != nullptr) *error = what;
    return false;
  };
  if (pid_ > 0) return fail("already running");
  // The parent ignores SIGPIPE (a child that dies mid-request must not kill it); the child
  // gets the default disposition back after fork.
  IgnoreSigpipe();
  if (options.argv.empty()) return fail("no command");
  std::vector<std::string> args = options.argv;
  args[0] = Resolve(args[0]);
  if (args[0].empty() || ::access(args[0].c_str(), X_OK) != 0) {
    return fail("not an executable: '" + options.argv[0] + "'");
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "ZOOMQ_", 6) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), options.env.begin(), options.env.end());
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out_flags = O_WRONLY | O_CREAT | (options.append ? O_APPEND : O_TRUNC);
  const int in_fd = OpenOrNull(options.stdin_path, O_RDONLY);
  const int out_fd = OpenOrNull(options.stdout_path, out_flags);
  if (out_fd >= 0 && !options.banner.empty()) {
    std::string line = "==== " + options.banner + ": starting";
    for (const auto& a : args) line += " " + a;
    line += "\n";
    (void)!::write(out_fd, line.data(), line.size());
  }
  const int err_fd = options.stderr_path.empty() ? -1 : OpenOrNull(options.stderr_path, out_flags);
  auto close_all = [&] {
    for (int fd : {in_fd, out_fd, err_fd}) {
      if (fd >= 0) ::close(fd);
    }
  };
  if (in_fd < 0 || out_fd < 0 || (!options.stderr_path.empty() && err_fd < 0)) {
    const std::string why = std::strerror(errno);
    close_all();
    return fail("cannot open the child's stdin/stdout/stderr: " + why);
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const std::string why = std::strerror(errno);
    close_all();
    return fail("fork: " + why);
  }
  if (pid == 0) {
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd >= 0 ? err_fd : out_fd, STDERR_FILENO);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the parent
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
  close_all();
  pid_ = pid;
  last_status_ = 0;
  return true;
}

bool Child::Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                  std::string* error, const std::string& banner) {
  SpawnOptions o;
  o.argv = argv;
  o.stdout_path = log_path;
  o.append = true;
  o.banner = banner;
  return Start(o, error);
}

bool Child::TryReap() {
  if (pid_ <= 0) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    last_status_ = status;
    pid_ = -1;
    return true;
  }
  return false;
}

bool Child::Running() { return !TryReap(); }

void Child::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void Child::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::kill(pid_, SIGCONT);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  last_status_ = status;
  pid_ = -1;
}

std::optional<int> Child::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (TryReap()) return last_status_;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // ok: waitpid has no timeout; polls with a deadline
  }
}

Child::Readiness Child::WaitReady(const std::function<bool()>& ready,
                                  std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds poll) {
  bool exited = false;
  const bool done = WaitFor(
      [&] {
        exited = !Running();
        return exited || ready();
      },
      timeout, poll);
  if (exited) return Readiness::kExited;
  return done ? Readiness::kReady : Readiness::kTimedOut;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { ::signal(SIGPIPE, SIG_IGN); });
}

std::string StackDump(pid_t pid) {
  if (pid <= 0 || ::access("/usr/bin/gdb", X_OK) != 0) return "";
  const std::string cmd = "/usr/bin/gdb -p " + std::to_string(pid) +
                          " -batch -nx -ex 'set pagination off' -ex 'thread apply all bt' "
                          "</dev/null 2>&1";
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    ::pclose(f);
  }
  // Keep the interesting part: the thread stacks.
  const size_t first = out.find("\nThread ");
  if (first != std::string::npos) out = out.substr(first + 1);
  return out;
}

}  // namespace zoomq::proc
