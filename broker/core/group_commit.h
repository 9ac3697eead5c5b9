// GroupCommitter: many writers, one transaction, one fsync (LevelDB's write path).
//
// Writers Submit() a batch and get a callback after it is durable. A single committer
// thread takes every batch queued so far, applies them all in one call (one transaction),
// then runs their callbacks in submission order. While it is busy, new batches queue up
// and go together in the next round, so throughput grows with concurrency.
//
// Thread-safety: Submit() from any thread. Callbacks run on the committer thread, with no
// lock held; they must not block for long.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "zoomq/common/status.h"

namespace zoomq::broker {

template <typename Batch>
class GroupCommitter {
 public:
  using Done = std::function<void(const Status&)>;
  // Applies all batches atomically (or fails them all). Runs on the committer thread.
  using ApplyFn = std::function<Status(const std::vector<Batch*>&)>;

  // `max_batches`: most batches per round (bounds a transaction's size).
  GroupCommitter(ApplyFn apply, size_t max_batches)
      : apply_(std::move(apply)), max_batches_(max_batches), thread_([this] { Run(); }) {}
  ~GroupCommitter() { Stop(); }

  void Submit(Batch batch, Done done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        queue_.push_back({std::move(batch), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done(Status::Unavailable("storage is shutting down"));
  }

  // Commits what is queued, then stops the thread. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
  }

  uint64_t rounds() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rounds_;
  }
  uint64_t batches() const {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  struct Item {
    Batch batch;
    Done done;
  };

  void Run() {
    std::vector<Item> round;
    std::vector<Batch*> ptrs;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        while (!queue_.empty() && round.size() < max_batches_) {
          round.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
        ++rounds_;
        batches_ += round.size();
      }
      ptrs.clear();
      for (auto& item : round) ptrs.push_back(&item.batch);
      Status st = apply_(ptrs);
      if (!st.ok() && round.size() > 1) {
        // One bad batch must not fail its neighbours: retry each on its own.
        for (auto& item : round) item.done(apply_({&item.batch}));
      } else {
        for (auto& item : round) item.done(st);
      }
      round.clear();
    }
  }

  const ApplyFn apply_;
  const size_t max_batches_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  uint64_t rounds_ = 0;     // guarded by mu_
  uint64_t batches_ = 0;    // guarded by mu_
  std::thread thread_;      // last: starts after the members above exist
};

}  // namespace zoomq::broker
