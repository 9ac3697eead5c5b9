#include "zoomq/tools/stop_signal.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace zoomq::tools {
namespace {

sigset_t StopSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

StopSignal::StopSignal() {
  sigset_t set = StopSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this] { Run(); });
}

StopSignal::~StopSignal() {
  done_ = true;
  thread_.join();
}

void StopSignal::Run() {
  sigset_t set = StopSet();
  // A short timeout so that the destructor's done_ is seen without sending a signal.
  const timespec tick{0, 100 * 1000 * 1000};
  while (!done_) {
    int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig > 0) Stop();
  }
}

void StopSignal::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

bool StopSignal::WaitFor(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return stopped_.load(); });
}

}  // namespace zoomq::tools
