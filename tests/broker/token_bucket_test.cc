// TokenBucket and Quotas on a hand-stepped clock: a rate holds over time, bursts pass up to one
// second's worth, and a refusal says how long to wait.
#include "broker/core/token_bucket.h"

#include <gtest/gtest.h>

#include "broker/security/quotas.h"

namespace zoomq::broker {
namespace {

TEST(TokenBucketTest, AdmitsTheRateAndSaysHowLongToWaitBeyondIt) {
  TokenBucket b(10, 10);  // 10/s, burst 10
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Take(1, 0), 0) << i;
  EXPECT_EQ(b.Take(1, 0), 100) << "one token comes back every 100 ms";
  EXPECT_EQ(b.Take(1, 50), 50);
  EXPECT_EQ(b.Take(1, 100), 0);
  // A day later the bucket is full again, never fuller.
  const int64_t day = 86'400'000;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Take(1, day), 0);
  EXPECT_GT(b.Take(1, day), 0);
}

TEST(TokenBucketTest, AnAmountAboveTheBurstPassesOnceFullThenIsPaidFor) {
  TokenBucket b(1000, 1000);  // 1000 bytes/s
  EXPECT_EQ(b.Take(5000, 0), 0) << "a large batch is slowed, never refused forever";
  EXPECT_EQ(b.Take(1, 0), 4001) << "4000 bytes of debt, then one more";
  EXPECT_GT(b.Take(1000, 4000), 0);
  EXPECT_EQ(b.Take(1000, 5000), 0);
}

TEST(QuotasTest, EachPrincipalHasItsOwnLimits) {
  auth::Quotas q({/*requests_per_s=*/2, /*produce_bytes_per_s=*/100});
  int64_t retry = 0;
  const char* quota = "";
  EXPECT_TRUE(q.Admit("alice", 0, 0, &retry, &quota).ok());
  EXPECT_TRUE(q.Admit("alice", 0, 0, &retry, &quota).ok());
  Status st = q.Admit("alice", 0, 0, &retry, &quota);
  EXPECT_EQ(st.code(), Code::kOverloaded);
  EXPECT_EQ(std::string(quota), "requests");
  EXPECT_EQ(retry, 1);
  EXPECT_NE(st.message().find("principal 'alice'"), std::string::npos) << st.message();
  EXPECT_TRUE(q.Admit("bob", 100, 0, &retry, &quota).ok()) << "bob has his own buckets";
  EXPECT_EQ(q.Admit("bob", 100, 10, &retry, &quota).code(), Code::kOverloaded);
  EXPECT_EQ(std::string(quota), "produce_bytes");
  EXPECT_TRUE(q.Admit("alice", 0, 1000, &retry, &quota).ok()) << "a second later";
  auto throttled = q.ThrottledByPrincipal();
  EXPECT_EQ(throttled["alice"].requests, 1u);
  EXPECT_EQ(throttled["bob"].produce_bytes, 1u);
  auth::Quotas off;
  EXPECT_FALSE(off.enabled());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(off.Admit("x", 1 << 20, 0, &retry, &quota).ok());
}

}  // namespace
}  // namespace zoomq::broker
