#include "broker/core/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

namespace zoomq::broker {
namespace {

TEST(GroupCommitTest, ConcurrentBatchesShareOneRound) {
  std::mutex gate;
  std::unique_lock<std::mutex> hold(gate);  // the first round blocks until released
  std::atomic<int> rounds{0};
  std::vector<size_t> sizes;
  GroupCommitter<int> c(
      [&](const std::vector<int*>& batches) {
        if (rounds++ == 0) std::lock_guard<std::mutex> wait(gate);
        sizes.push_back(batches.size());
        return Status::Ok();
      },
      1000);
  std::promise<void> first_done;
  c.Submit(0, [&](const Status&) { first_done.set_value(); });
  // While round 1 is stuck, 50 more writers queue up.
  std::atomic<int> ok{0};
  std::promise<void> all_done;
  for (int i = 1; i <= 50; ++i) {
    c.Submit(i, [&](const Status& st) {
      if (st.ok() && ++ok == 50) all_done.set_value();
    });
  }
  hold.unlock();
  first_done.get_future().wait();
  all_done.get_future().wait();
  c.Stop();
  EXPECT_EQ(c.batches(), 51u);
  EXPECT_LE(c.rounds(), 3u);  // 1 + the 50 queued ones together (at most split once)
  EXPECT_EQ(ok.load(), 50);
}

TEST(GroupCommitTest, CallbacksRunInSubmissionOrder) {
  GroupCommitter<int> c([](const std::vector<int*>&) { return Status::Ok(); }, 7);
  std::mutex mu;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) {
    c.Submit(i, [&, i](const Status&) {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
  }
  c.Stop();  // drains the queue
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
}

TEST(GroupCommitTest, OneBadBatchDoesNotFailItsNeighbours) {
  std::mutex gate;
  std::unique_lock<std::mutex> hold(gate);
  std::atomic<bool> first{true};
  GroupCommitter<int> c(
      [&](const std::vector<int*>& batches) {
        if (first.exchange(false)) std::lock_guard<std::mutex> wait(gate);
        for (int* b : batches) {
          if (*b == 13) return Status::Unavailable("bad batch");
        }
        return Status::Ok();
      },
      100);
  std::vector<std::promise<Status>> results(4);
  c.Submit(0, [&](const Status& st) { results[0].set_value(st); });
  c.Submit(12, [&](const Status& st) { results[1].set_value(st); });
  c.Submit(13, [&](const Status& st) { results[2].set_value(st); });
  c.Submit(14, [&](const Status& st) { results[3].set_value(st); });
  hold.unlock();
  EXPECT_TRUE(results[0].get_future().get().ok());
  EXPECT_TRUE(results[1].get_future().get().ok());
  EXPECT_FALSE(results[2].get_future().get().ok());
  EXPECT_TRUE(results[3].get_future().get().ok());
}

TEST(GroupCommitTest, SubmitAfterStopFailsCleanly) {
  GroupCommitter<int> c([](const std::vector<int*>&) { return Status::Ok(); }, 10);
  c.Stop();
  Status got;
  c.Submit(1, [&](const Status& st) { got = st; });
  EXPECT_EQ(got.code(), Code::kUnavailable);
}

}  // namespace
}  // namespace zoomq::broker
