#include "zoomq/proc/broker_child.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "zoomq/proc/files.h"
#include "zoomq/proc/ports.h"

namespace zoomq::proc {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string BrokerBinary() {
  if (const char* env = std::getenv("ZOOMQ_BROKER_BIN"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef ZOOMQ_BROKER_BIN
  return ZOOMQ_BROKER_BIN;
#else
  return "";
#endif
}

std::vector<std::string> DebugBrokerArgs() {
  std::vector<std::string> args;
  if (const char* extra = std::getenv("ZOOMQ_CLUSTER_BROKER_ARGS"); extra != nullptr) {
    std::stringstream ss(extra);
    std::string word;
    while (ss >> word) args.push_back(word);
  }
  return args;
}

BrokerChild::BrokerChild(BrokerCommand command) : command_(std::move(command)) {
  IgnoreSigpipe();
  std::error_code ec;
  if (!command_.dir.empty()) std::filesystem::create_directories(data_dir(), ec);
}

std::string BrokerChild::LogTail(size_t max_bytes) const {
  return ReadFileTail(log_path(), max_bytes);
}

std::string BrokerChild::Start(milliseconds timeout) {
  const std::string bin = BrokerBinary();
  if (bin.empty() || ::access(bin.c_str(), X_OK) != 0) {
    return "broker binary not executable: '" + bin + "' (ZOOMQ_BROKER_BIN)";
  }
  std::vector<std::string> argv = command_.prefix;
  argv.insert(argv.end(), {bin, "--id", std::to_string(command_.id), "--listen",
                           command_.host + ":" + std::to_string(command_.port), "--data-dir",
                           data_dir()});
  argv.insert(argv.end(), command_.args.begin(), command_.args.end());
  // The child does not pick up ZOOMQ_* settings from this process's environment (Child).
  std::string error;
  stopped_ = false;
  if (!process_.Spawn(argv, log_path(), &error, command_.banner)) {
    return "broker " + std::to_string(command_.id) + ": " + error;
  }
  return WaitHealthy(timeout);
}

std::string BrokerChild::WaitHealthy(milliseconds timeout) {
  const auto readiness = process_.WaitReady(
      [&] {
        auto client = net::MakeHttpClient(url(), command_.credentials);
        client->set_connection_timeout(milliseconds(200));
        client->set_read_timeout(milliseconds(1000));
        auto res = client->Get("/v1/health");
        return res && res->status == 200;
      },
      timeout, milliseconds(20));
  const std::string id = std::to_string(command_.id);
  switch (readiness) {
    case Child::Readiness::kReady:
      return "";
    case Child::Readiness::kExited:
      return "broker " + id + " " + DescribeWaitStatus(process_.last_status()) +
             " before becoming healthy; log:\n" + LogTail(4000);
    case Child::Readiness::kTimedOut:
      break;
  }
  return "broker " + id + " not healthy within " + std::to_string(timeout.count()) +
         " ms on port " + std::to_string(command_.port) + "; log:\n" + LogTail(4000);
}

std::string BrokerChild::StartOnFreePort(milliseconds timeout) {
  std::string result;
  for (int attempt = 0; attempt < 3; ++attempt) {
    command_.port = PickFreePort();
    if (command_.port == 0) return "no free port";
    result = Start(timeout);
    if (result.empty() || Running()) break;
  }
  return result;
}

std::string BrokerChild::Restart(milliseconds timeout) {
  if (Running()) return "broker " + std::to_string(command_.id) + " is running";
  const auto deadline = Clock::now() + timeout;
  std::string result;
  do {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    result = Start(std::max(left, milliseconds(100)));
    if (result.empty() || Running()) break;
  } while (Clock::now() < deadline);
  return result;
}

void BrokerChild::Kill() {
  process_.Kill();
  stopped_ = false;
}

void BrokerChild::Signal(int sig) { process_.Signal(sig); }

void BrokerChild::Stop() {
  process_.Signal(SIGSTOP);
  stopped_ = true;
}

void BrokerChild::Cont() {
  process_.Signal(SIGCONT);
  stopped_ = false;
}

std::optional<int> BrokerChild::Term(milliseconds timeout) {
  if (stopped_) Cont();
  process_.Signal(SIGTERM);
  return WaitExit(timeout);
}

std::optional<int> BrokerChild::WaitExit(milliseconds timeout) {
  auto status = process_.WaitExit(timeout);
  if (!status) {
    std::fprintf(stderr,
                 "---- broker %d (pid %d) did not exit within %lld ms; its threads ----\n%s"
                 "---- end of stacks ----\n",
                 command_.id, static_cast<int>(process_.pid()),
                 static_cast<long long>(timeout.count()), StackDump(process_.pid()).c_str());
    Kill();
  }
  return status;
}

}  // namespace zoomq::proc
