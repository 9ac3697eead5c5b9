// Bearer tokens: random, hashed for storage, parsed from the Authorization header.
#include "zoomq/security/token.h"

#include <gtest/gtest.h>

#include <set>

namespace zoomq::security {
namespace {

TEST(TokenTest, TokensAre256RandomBitsInHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto t = GenerateToken();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    ASSERT_EQ(t->size(), kTokenPrefix.size() + 2 * kTokenBytes);
    EXPECT_TRUE(t->starts_with(kTokenPrefix));
    EXPECT_EQ(t->find_first_not_of("0123456789abcdef", kTokenPrefix.size()), std::string::npos);
    seen.insert(t.value());
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TokenTest, StoredHashIsSha256AndOnlyTheTokenMatchesIt) {
  // SHA-256("abc"), FIPS 180-2 test vector.
  EXPECT_EQ(HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto t = GenerateToken();
  ASSERT_TRUE(t.ok());
  const std::string hash = HashToken(t.value());
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_EQ(hash.find(t->substr(kTokenPrefix.size())), std::string::npos);  // not the token
  EXPECT_TRUE(TokenMatches(hash, t.value()));
  std::string other = t.value();
  other.back() = other.back() == '0' ? '1' : '0';
  EXPECT_FALSE(TokenMatches(hash, other));
  EXPECT_FALSE(TokenMatches(hash.substr(1), t.value()));
  EXPECT_FALSE(TokenMatches("", t.value()));
}

TEST(TokenTest, BearerHeaderGivesTheToken) {
  auto t = ParseBearer("Bearer zq_abc123");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t.value(), "zq_abc123");
  EXPECT_EQ(ParseBearer("bearer   zq_x  ").value(), "zq_x");  // scheme case, spaces
}

TEST(TokenTest, AnythingElseIsUnauthenticatedWithAReason) {
  for (const std::string h :
       {"", "Bearer", "Bearer ", "Bearer    ", "Basic dXNlcjpwYXNz", "Bearerzq_x", "Bearer zq x",
        "Bearer zq_\x01", "Bearer zq_é", "Bearer zq_x\r\nX-Evil: 1"}) {
    auto t = ParseBearer(h);
    ASSERT_FALSE(t.ok()) << h;
    EXPECT_EQ(t.status().code(), Code::kUnauthenticated) << h;
    EXPECT_FALSE(t.status().message().empty());
  }
  auto long_one = ParseBearer("Bearer " + std::string(kMaxAuthorizationLength, 'a'));
  ASSERT_FALSE(long_one.ok());
  EXPECT_NE(long_one.status().message().find("over"), std::string::npos);
}

TEST(TokenTest, BrokerCredentialProvesItsBrokerAndNothingElse) {
  const std::string secret = "zq_" + std::string(64, 'a');
  const std::string c2 = BrokerCredential(secret, 2);
  EXPECT_TRUE(c2.starts_with("zqb.2."));
  EXPECT_EQ(VerifyBrokerCredential(secret, c2), std::optional<int32_t>(2));
  // The MAC differs per broker and per secret, and a changed MAC or id is refused.
  EXPECT_NE(BrokerCredential(secret, 3).substr(6), c2.substr(6));
  EXPECT_NE(BrokerCredential(secret + "b", 2), c2);
  std::string forged = c2;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(VerifyBrokerCredential(secret, forged), std::nullopt);
  std::string other_id = c2;
  other_id[4] = '3';  // claims broker 3 with broker 2's MAC
  EXPECT_EQ(VerifyBrokerCredential(secret, other_id), std::nullopt);
  EXPECT_EQ(VerifyBrokerCredential(secret + "b", c2), std::nullopt);
  EXPECT_EQ(VerifyBrokerCredential("", c2), std::nullopt);
  for (const char* bad : {"", "zqb.", "zqb..", "zqb.x.00", "zqb.-1.00", "zq_abc", "zqb.2",
                          "zqb.99999999999.00"}) {
    EXPECT_EQ(VerifyBrokerCredential(secret, bad), std::nullopt) << bad;
  }
  // A client token never verifies as a broker's.
  auto t = GenerateToken();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(VerifyBrokerCredential(secret, t.value()), std::nullopt);
}

}  // namespace
}  // namespace zoomq::security
