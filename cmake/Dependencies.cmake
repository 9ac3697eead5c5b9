# Every dependency is a Debian package; scripts/test.sh installs the missing ones.
find_package(Threads REQUIRED)
find_package(SQLiteCpp 3.2 REQUIRED)          # target SQLiteCpp
find_package(nlohmann_json 3.11 REQUIRED)     # nlohmann_json::nlohmann_json
find_package(GTest 1.12 REQUIRED)             # GTest::gtest, GTest::gtest_main
find_package(CLI11 CONFIG REQUIRED)           # CLI11::CLI11 (flags, with ZOOMQ_* env fallbacks)
find_package(spdlog CONFIG REQUIRED)          # spdlog::spdlog (one line per event)
find_package(prometheus-cpp CONFIG REQUIRED)  # prometheus-cpp::core (registry + text format)
find_package(OpenSSL 3 REQUIRED)               # OpenSSL::Crypto (tokens: CSPRNG, SHA-256)
find_package(PkgConfig REQUIRED)
# Debian's cpp-httplib is a compiled library: always go through its pkg-config flags
# (they define CPPHTTPLIB_OPENSSL_SUPPORT etc.; without them the ABI silently differs).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
find_path(ZOOKEEPER_INCLUDE_DIR zookeeper/zookeeper.h REQUIRED)
find_library(ZOOKEEPER_MT_LIBRARY zookeeper_mt REQUIRED)
if(NOT TARGET zookeeper::zookeeper_mt)
  add_library(zookeeper::zookeeper_mt UNKNOWN IMPORTED)
  set_target_properties(zookeeper::zookeeper_mt PROPERTIES
    IMPORTED_LOCATION "${ZOOKEEPER_MT_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${ZOOKEEPER_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS THREADED
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
# A ZooKeeper server to run (java and Debian's zookeeper jar, not linked): the cluster tests'
# harness (tests/support) and zoomq-chaos (tools/chaos) are built only where it exists.
find_program(ZOOMQ_JAVA java)
if(ZOOMQ_JAVA AND EXISTS /usr/share/java/zookeeper.jar)
  set(ZOOMQ_ZOOKEEPER_SERVER_FOUND TRUE)
else()
  set(ZOOMQ_ZOOKEEPER_SERVER_FOUND FALSE)
endif()
