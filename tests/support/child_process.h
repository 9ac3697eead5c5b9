// Runs the CLI and demo binaries as child processes for tests/cli: stdin from a string,
// stdout and stderr into files that the test reads while the child runs.
//
// Thread-safety: a ChildProcess is used from the test's main thread only.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "zoomq/proc/child.h"  // Child (tools/proc)
#include "zoomq/proc/files.h"  // MakeTempDir (tools/proc)

namespace zoomq::testing {

class ChildProcess {
 public:
  // `dir` holds the child's stdin/stdout/stderr files (created if missing).
  explicit ChildProcess(std::string dir);
  ~ChildProcess();  // SIGKILLs a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `binary args...` with `input` on stdin. `env` ("NAME=value") is added to the
  // test's environment minus its ZOOMQ_* variables. False (with `error`) if it cannot.
  bool Start(const std::string& binary, const std::vector<std::string>& args,
             const std::string& input = "", const std::vector<std::string>& env = {},
             std::string* error = nullptr);
  void Signal(int signal);
  // The exit code once it exited within `timeout`; nullopt if it is still running at the
  // deadline or died from a signal (then `Describe()` says which).
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

  std::string Stdout() const;
  std::string Stderr() const;
  std::string Describe() const;  // command, exit status, output tails: for failure messages

 private:
  std::string dir_;
  std::string command_;
  bool started_ = false;
  zoomq::proc::Child child_;
};

// Runs to completion (SIGKILL after `timeout`, then exit_code is -1).
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  std::string description;  // command and outputs, for failure messages
};
RunResult RunToCompletion(const std::string& binary, const std::vector<std::string>& args,
                          const std::string& input = "",
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(20000),
                          const std::vector<std::string>& env = {});

// A fresh directory "<prefix>-XXXXXX" under $TMPDIR or /tmp ("" on failure).
using zoomq::proc::MakeTempDir;

}  // namespace zoomq::testing
