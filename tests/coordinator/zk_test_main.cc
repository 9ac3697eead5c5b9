// main() of the coordinator tests: GoogleTest plus the environment that kills the one
// ZooKeeper server of this binary at exit.
#include <gtest/gtest.h>

#include "zk_test_server.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new zoomq::coordinator::testing::ZkTestEnvironment);
  return RUN_ALL_TESTS();
}
