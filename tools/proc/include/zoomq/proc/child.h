// Child processes for the test harnesses and zoomq-chaos (broker processes, ZooKeeper servers,
// the CLI and the demo): fork + exec with the child tied to its parent (PR_SET_PDEATHSIG: it
// never outlives a crashed test or tool), default SIGPIPE and an empty signal mask, the
// parent's ZOOMQ_* variables removed from its environment (the caller passes what it means),
// stdin and outputs from/to files.
//
// Thread-safety: a Child is used from one thread (the one that started it: the death signal
// is tied to the forking thread). IgnoreSigpipe and StackDump from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zoomq::proc {

struct SpawnOptions {
  // argv[0] is a path, or a name looked up in PATH (e.g. "java").
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value", added to the parent's environment
  std::string stdin_path;        // "" reads /dev/null
  std::string stdout_path;       // "" writes to /dev/null
  std::string stderr_path;       // "" goes where stdout goes
  bool append = false;           // append to the output files instead of truncating them
  // When set, "==== <banner>: starting <argv...>" is written to the stdout file first, so a
  // log that several runs append to says where each starts.
  std::string banner;
};

class Child {
 public:
  Child() = default;
  ~Child();  // SIGKILLs a child still running, and reaps it
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // False (and `error`) if the files cannot be opened, the binary is not found or fork fails.
  // REQUIRES: no child running.
  bool Start(const SpawnOptions& options, std::string* error);
  // Shorthand: `argv` with stdout and stderr appended to `log_path`, after a banner line.
  bool Spawn(const std::vector<std::string>& argv, const std::string& log_path,
             std::string* error, const std::string& banner = "zoomq-test");

  // True while the process has not been reaped (a stopped process is running).
  bool Running();
  void Signal(int sig);
  // SIGKILL (SIGCONT first, for a stopped process) and reap.
  void Kill();
  // Waits up to `timeout` for the process to exit; its wait status, or nullopt if it still
  // runs at the deadline.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  // Polls `ready` every `poll` until it holds or the process exits, for up to `timeout`
  // (a server starting: it serves, or it died trying).
  enum class Readiness { kReady, kExited, kTimedOut };
  Readiness WaitReady(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                      std::chrono::milliseconds poll);
  pid_t pid() const { return pid_; }
  int last_status() const { return last_status_; }

 private:
  bool TryReap();
  pid_t pid_ = -1;
  int last_status_ = 0;
};

// "exited with code N" or "killed by signal N".
std::string DescribeWaitStatus(int status);

// Ignores SIGPIPE in this process once (a process with only httplib clients must do it itself:
// a peer that dies mid-request must not kill it).
void IgnoreSigpipe();

// Every thread's backtrace of a live process (gdb -batch), for hangs; "" without gdb.
std::string StackDump(pid_t pid);

}  // namespace zoomq::proc
