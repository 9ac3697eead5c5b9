// The stored security document and broker credentials (issue 12 item 7): bytes read back from
// ZooKeeper or SQLite, and Authorization values claiming to be a broker, never crash; a document
// that decodes encodes back to itself, and the mutations keep it decodable.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "zoomq/security/state.h"
#include "zoomq/security/token.h"

using namespace zoomq::security;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (VerifyBrokerCredential("zq_fuzz_secret_0123456789abcdef", input)) std::abort();
  auto state = DecodeState(input);
  if (!state.ok()) return 0;
  auto again = DecodeState(EncodeState(state.value()));
  if (!again.ok() || !(again.value() == state.value())) std::abort();
  // Mutations on what was decoded keep the document valid.
  SecurityState s = state.value();
  if (!s.users.empty()) {
    const std::string user = s.users.begin()->first;
    (void)AddToken(s, user, HashToken(input), "fuzz", 1);
    bool created = false;
    (void)AddRule(s, AclRule{user, ResourceType::kTopic, "t", true, Operation::kProduce}, &created);
    (void)DeleteUser(s, user);
  }
  if (!DecodeState(EncodeState(s)).ok()) std::abort();
  return 0;
}
