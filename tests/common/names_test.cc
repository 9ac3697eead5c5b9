#include <gtest/gtest.h>

#include "zoomq/common/base64.h"
#include "zoomq/common/names.h"
#include "zoomq/common/status.h"

namespace zoomq {
namespace {

TEST(NamesTest, AcceptsTheAllowedAlphabet) {
  EXPECT_TRUE(ValidateName("temp_1", "topic").ok());
  EXPECT_TRUE(ValidateName("A.b-c_9", "topic").ok());
  EXPECT_TRUE(ValidateName(std::string(196, 'x'), "topic").ok());
}

TEST(NamesTest, RefusesBadNames) {
  EXPECT_EQ(ValidateName("", "topic").code(), Code::kInvalidRequest);
  EXPECT_EQ(ValidateName(std::string(197, 'x'), "topic").code(), Code::kInvalidRequest);
  EXPECT_EQ(ValidateName(".hidden", "topic").code(), Code::kInvalidRequest);
  EXPECT_EQ(ValidateName("a b", "topic").code(), Code::kInvalidRequest);
  EXPECT_EQ(ValidateName("a/b", "topic").code(), Code::kInvalidRequest);
  EXPECT_EQ(ValidateName("caf\xc3\xa9", "topic").code(), Code::kInvalidRequest);
  EXPECT_NE(ValidateName("a\"b", "group").message().find("group"), std::string::npos);
}

TEST(NamesTest, DlqSuffix) {
  EXPECT_TRUE(IsDlqName("orders.dlq"));
  EXPECT_FALSE(IsDlqName(".dlq"));
  EXPECT_FALSE(IsDlqName("orders"));
}

TEST(NamesTest, KeyHashIsStableFnv1a64) {
  // Reference values of 64-bit FNV-1a; other clients must compute the same.
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ull);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(StatusTest, MapsCodesToHttp) {
  EXPECT_EQ(HttpStatus(Code::kInvalidRequest), 400);
  EXPECT_EQ(HttpStatus(Code::kTopicNotFound), 404);
  EXPECT_EQ(HttpStatus(Code::kTopicExists), 409);
  EXPECT_EQ(HttpStatus(Code::kPayloadTooLarge), 413);
  EXPECT_EQ(HttpStatus(Code::kOverloaded), 429);
  EXPECT_EQ(HttpStatus(Code::kNotEnoughReplicas), 503);
  EXPECT_STREQ(CodeName(Code::kGroupNotFound), "GROUP_NOT_FOUND");
}

TEST(Base64Test, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    auto decoded = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, bytes);
    bytes.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
}

TEST(Base64Test, RefusesMalformed) {
  EXPECT_FALSE(Base64Decode("abc").has_value());
  EXPECT_FALSE(Base64Decode("ab!d").has_value());
  EXPECT_FALSE(Base64Decode("a===").has_value());
  EXPECT_FALSE(Base64Decode("ab=c").has_value());
  EXPECT_FALSE(Base64Decode("ab==abcd").has_value());
}

}  // namespace
}  // namespace zoomq
