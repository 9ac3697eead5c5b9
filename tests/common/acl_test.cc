// Access rules: deny by default, exact and prefix names, group routes, validation and codec.
#include "zoomq/security/acl.h"

#include <gtest/gtest.h>

#include "zoomq/common/error_json.h"

namespace zoomq::security {
namespace {

using RT = ResourceType;
using Op = Operation;

AclRule Rule(std::string principal, RT type, std::string name, bool prefix, Op op) {
  return AclRule{std::move(principal), type, std::move(name), prefix, op};
}

TEST(AclTest, NothingIsAllowedWithoutARule) {
  Authorizer none;
  EXPECT_FALSE(none.Allows("alice", RT::kTopic, "t", Op::kDescribe));
  Status st = none.Check("alice", RT::kTopic, "t", Op::kProduce);
  EXPECT_EQ(st.code(), Code::kForbidden);
  EXPECT_EQ(st.message(), "principal 'alice' may not produce on topic 't'");
  EXPECT_EQ(HttpStatus(st.code()), 403);
  EXPECT_EQ(std::string(CodeName(st.code())), "FORBIDDEN");
}

TEST(AclTest, ExactAndPrefixNamesPerPrincipalAndOperation) {
  Authorizer a({Rule("sensor", RT::kTopic, "sensors.", true, Op::kProduce),
                Rule("dash", RT::kTopic, "alerts", false, Op::kConsume)});
  EXPECT_TRUE(a.Allows("sensor", RT::kTopic, "sensors.kitchen", Op::kProduce));
  EXPECT_TRUE(a.Allows("sensor", RT::kTopic, "sensors.", Op::kProduce));
  EXPECT_FALSE(a.Allows("sensor", RT::kTopic, "sensors", Op::kProduce));           // shorter
  EXPECT_FALSE(a.Allows("sensor", RT::kTopic, "sensors.kitchen", Op::kConsume));   // op
  EXPECT_FALSE(a.Allows("sensor", RT::kGroup, "sensors.kitchen", Op::kProduce));   // type
  EXPECT_FALSE(a.Allows("sensor2", RT::kTopic, "sensors.kitchen", Op::kProduce));  // who
  EXPECT_TRUE(a.Allows("dash", RT::kTopic, "alerts", Op::kConsume));
  EXPECT_FALSE(a.Allows("dash", RT::kTopic, "alerts2", Op::kConsume));  // literal
}

TEST(AclTest, GroupRoutesNeedTheTopicAndTheGroup) {
  Authorizer a({Rule("app", RT::kTopic, "orders", false, Op::kConsume),
                Rule("app", RT::kGroup, "billing", false, Op::kConsume)});
  EXPECT_TRUE(a.CheckGroup("app", "orders", "billing", Op::kConsume).ok());
  Status other_group = a.CheckGroup("app", "orders", "audit", Op::kConsume);
  EXPECT_EQ(other_group.code(), Code::kForbidden);
  EXPECT_NE(other_group.message().find("group 'audit'"), std::string::npos);
  Status other_topic = a.CheckGroup("app", "payments", "billing", Op::kConsume);
  EXPECT_NE(other_topic.message().find("topic 'payments'"), std::string::npos);
}

TEST(AclTest, ClusterAdminMayDoEverything) {
  Authorizer a({Rule("admin", RT::kCluster, "", false, Op::kClusterAdmin),
                Rule("ops", RT::kCluster, "", false, Op::kDescribe)});
  EXPECT_TRUE(a.Allows("admin", RT::kTopic, "any", Op::kDelete));
  EXPECT_TRUE(a.Allows("admin", RT::kGroup, "g", Op::kConsume));
  EXPECT_TRUE(a.Check("admin", RT::kCluster, "", Op::kAlter).ok());
  EXPECT_TRUE(a.Allows("ops", RT::kCluster, "", Op::kDescribe));
  EXPECT_FALSE(a.Allows("ops", RT::kCluster, "", Op::kAlter));
  EXPECT_FALSE(a.Allows("ops", RT::kTopic, "any", Op::kDescribe));
  EXPECT_EQ(a.Check("ops", RT::kCluster, "", Op::kCreate).message(),
            "principal 'ops' may not create on cluster");
}

TEST(AclTest, RulesThatMeanNothingAreRefused) {
  EXPECT_TRUE(ValidateRule(Rule("p", RT::kTopic, "t", false, Op::kProduce)).ok());
  for (const AclRule& bad : {Rule("", RT::kTopic, "t", false, Op::kProduce),
                             Rule("bad name", RT::kTopic, "t", false, Op::kProduce),
                             Rule("p", RT::kTopic, "", false, Op::kProduce),
                             Rule("p", RT::kTopic, "", true, Op::kProduce),
                             Rule("p", RT::kTopic, "a/b", false, Op::kProduce),
                             Rule("p", RT::kGroup, "g", false, Op::kProduce),
                             Rule("p", RT::kTopic, "t", false, Op::kClusterAdmin),
                             Rule("p", RT::kCluster, "x", false, Op::kClusterAdmin),
                             Rule("p", RT::kCluster, "", true, Op::kDescribe),
                             Rule("p", RT::kCluster, "", false, Op::kProduce)}) {
    Status st = ValidateRule(bad);
    EXPECT_EQ(st.code(), Code::kInvalidRequest) << EncodeRule(bad);
    EXPECT_FALSE(st.message().empty());
  }
}

TEST(AclTest, RulesRoundTripThroughJsonAndBadJsonIsRefused) {
  const AclRule r = Rule("sensor", RT::kTopic, "sensors.", true, Op::kProduce);
  auto back = DecodeRule(EncodeRule(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back.value(), r);
  auto literal =
      DecodeRule(R"({"principal":"a","resource":"group","name":"g","operation":"consume"})");
  ASSERT_TRUE(literal.ok());
  EXPECT_FALSE(literal->prefix);
  for (const char* bad :
       {"", "[]", "{", R"({"resource":"topic","name":"t","operation":"produce"})",
        R"({"principal":1,"resource":"topic","name":"t","operation":"produce"})",
        R"({"principal":"a","resource":"queue","name":"t","operation":"produce"})",
        R"({"principal":"a","resource":"topic","name":"t","operation":"write"})",
        R"({"principal":"a","resource":"topic","name":"t","pattern":"glob","operation":"produce"})",
        R"({"principal":"a","resource":"topic","name":"t","operation":"produce","x":1})",
        R"({"principal":"a","resource":"group","name":"g","operation":"produce"})"}) {
    auto r2 = DecodeRule(bad);
    ASSERT_FALSE(r2.ok()) << bad;
    EXPECT_EQ(r2.status().code(), Code::kInvalidRequest) << bad;
  }
}

TEST(AclTest, NamesOfOperationsAndResourcesRoundTrip) {
  for (Op op : {Op::kProduce, Op::kConsume, Op::kDescribe, Op::kCreate, Op::kDelete, Op::kAlter,
                Op::kClusterAdmin}) {
    EXPECT_EQ(ParseOperation(OperationName(op)).value(), op);
  }
  for (RT t : {RT::kTopic, RT::kGroup, RT::kCluster}) {
    EXPECT_EQ(ParseResourceType(ResourceTypeName(t)).value(), t);
  }
  EXPECT_EQ(CodeFromHttp(401), Code::kUnauthenticated);
  EXPECT_EQ(CodeFromName("UNAUTHENTICATED"), Code::kUnauthenticated);
  EXPECT_EQ(CodeFromName("FORBIDDEN"), Code::kForbidden);
}

}  // namespace
}  // namespace zoomq::security
