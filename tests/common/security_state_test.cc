// The security document: users, token records and rules; pure mutations and a strict codec.
#include "zoomq/security/state.h"

#include <gtest/gtest.h>

#include "zoomq/security/token.h"

namespace zoomq::security {
namespace {

AclRule Rule(std::string principal, std::string topic, Operation op, bool prefix = false) {
  return AclRule{std::move(principal), ResourceType::kTopic, std::move(topic), prefix, op};
}

TEST(SecurityStateTest, UsersTokensAndRulesRoundTripThroughTheDocument) {
  SecurityState s;
  ASSERT_TRUE(AddUser(s, "alice", 1000).ok());
  ASSERT_TRUE(AddUser(s, "bob", 2000).ok());
  auto t = AddToken(s, "alice", HashToken("zq_secret"), "laptop", 3000);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->id, HashToken("zq_secret").substr(0, 16));
  bool created = false;
  auto r1 = AddRule(s, Rule("alice", "sensors.", Operation::kProduce, true), &created);
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(created);
  auto again = AddRule(s, Rule("alice", "sensors.", Operation::kProduce, true), &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again.value(), r1.value()) << "an identical rule keeps its id";
  auto r2 = AddRule(s, Rule("bob", "orders", Operation::kConsume), &created);
  ASSERT_TRUE(r2.ok());
  EXPECT_NE(r2.value(), r1.value());

  const std::string doc = EncodeState(s);
  EXPECT_EQ(doc.find("zq_secret"), std::string::npos) << "the token itself is never stored";
  auto back = DecodeState(doc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back.value(), s);
}

TEST(SecurityStateTest, MutationsRefuseWhatMeansNothing) {
  SecurityState s;
  EXPECT_EQ(AddUser(s, "admin", 1).code(), Code::kInvalidRequest) << "reserved";
  EXPECT_EQ(AddUser(s, "a b", 1).code(), Code::kInvalidRequest);
  EXPECT_EQ(AddUser(s, "", 1).code(), Code::kInvalidRequest);
  ASSERT_TRUE(AddUser(s, "alice", 1).ok());
  EXPECT_EQ(AddUser(s, "alice", 2).code(), Code::kAlreadyExists);
  EXPECT_EQ(AddToken(s, "nobody", HashToken("x"), "", 1).status().code(), Code::kNotFound);
  EXPECT_EQ(AddToken(s, "alice", "not-a-hash", "", 1).status().code(), Code::kInvalidRequest);
  EXPECT_EQ(AddToken(s, "alice", HashToken("x"), std::string(300, 'd'), 1).status().code(),
            Code::kInvalidRequest);
  ASSERT_TRUE(AddToken(s, "alice", HashToken("x"), "", 1).ok());
  EXPECT_EQ(AddToken(s, "alice", HashToken("x"), "", 1).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(RevokeToken(s, "0123456789abcdef").code(), Code::kNotFound);
  EXPECT_EQ(DeleteRule(s, 7).code(), Code::kNotFound);
  EXPECT_EQ(DeleteUser(s, "bob").code(), Code::kNotFound);
  bool created = false;
  AclRule group_produce{"alice", ResourceType::kGroup, "g", false, Operation::kProduce};
  EXPECT_EQ(AddRule(s, group_produce, &created).status().code(), Code::kInvalidRequest);
}

TEST(SecurityStateTest, DeletingAUserTakesItsTokensAndRules) {
  SecurityState s;
  ASSERT_TRUE(AddUser(s, "alice", 1).ok());
  ASSERT_TRUE(AddUser(s, "bob", 1).ok());
  auto ta = AddToken(s, "alice", HashToken("a"), "", 1);
  auto tb = AddToken(s, "bob", HashToken("b"), "", 1);
  ASSERT_TRUE(ta.ok() && tb.ok());
  bool created = false;
  ASSERT_TRUE(AddRule(s, Rule("alice", "t", Operation::kProduce), &created).ok());
  auto rb = AddRule(s, Rule("bob", "t", Operation::kProduce), &created);
  ASSERT_TRUE(rb.ok());
  ASSERT_TRUE(DeleteUser(s, "alice").ok());
  EXPECT_EQ(s.users.size(), 1u);
  ASSERT_EQ(s.tokens.size(), 1u);
  EXPECT_EQ(s.tokens.begin()->second.user, "bob");
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules.begin()->first, rb.value());
  ASSERT_TRUE(RevokeToken(s, tb->id).ok());
  EXPECT_TRUE(s.tokens.empty());
}

TEST(SecurityStateTest, DecodingIsStrict) {
  SecurityState s;
  ASSERT_TRUE(AddUser(s, "alice", 1).ok());
  ASSERT_TRUE(AddToken(s, "alice", HashToken("a"), "", 1).ok());
  const std::string good = EncodeState(s);
  ASSERT_TRUE(DecodeState(good).ok());
  const std::string hash = HashToken("a");
  for (const std::string& bad : {
           std::string(""), std::string("[]"), std::string("{}"), std::string("nul"),
           std::string(R"({"users":[],"tokens":[],"rules":[],"next_rule_id":0})"),
           std::string(R"({"users":[],"tokens":[],"rules":[],"next_rule_id":1,"x":1})"),
           std::string(R"({"users":{},"tokens":[],"rules":[],"next_rule_id":1})"),
           std::string(R"({"users":[{"name":"admin","created_ms":1}],"tokens":[],"rules":[],)"
                       R"("next_rule_id":1})"),
           std::string(R"({"users":[{"name":"a","created_ms":1},{"name":"a","created_ms":2}],)"
                       R"("tokens":[],"rules":[],"next_rule_id":1})"),
           // a token of nobody
           std::string(R"({"users":[],"tokens":[{"id":")") + hash.substr(0, 16) +
               R"(","user":"x","hash":")" + hash +
               R"(","created_ms":1,"description":""}],"rules":[],"next_rule_id":1})",
           // an id that is not the hash's
           std::string(R"({"users":[{"name":"x","created_ms":1}],"tokens":[{"id":"0000000000000000",)"
                       R"("user":"x","hash":")") +
               hash + R"(","created_ms":1,"description":""}],"rules":[],"next_rule_id":1})",
           // a rule id beyond next_rule_id, a bad rule
           std::string(R"({"users":[],"tokens":[],"rules":[{"id":5,"principal":"p","resource":)"
                       R"("topic","name":"t","pattern":"literal","operation":"produce"}],)"
                       R"("next_rule_id":2})"),
           std::string(R"({"users":[],"tokens":[],"rules":[{"id":1,"principal":"p","resource":)"
                       R"("group","name":"t","pattern":"literal","operation":"produce"}],)"
                       R"("next_rule_id":2})"),
       }) {
    EXPECT_EQ(DecodeState(bad).status().code(), Code::kInvalidRequest) << bad;
  }
}

}  // namespace
}  // namespace zoomq::security
