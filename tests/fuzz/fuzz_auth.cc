// Authorization headers and ACL records: never crash; a rule that decodes encodes back to the
// same rule.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "zoomq/security/acl.h"
#include "zoomq/security/token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto token = zoomq::security::ParseBearer(input);
  if (token.ok() && token->empty()) std::abort();  // a parsed token is never empty
  auto rule = zoomq::security::DecodeRule(input);
  if (rule.ok()) {
    auto again = zoomq::security::DecodeRule(zoomq::security::EncodeRule(rule.value()));
    if (!again.ok() || !(again.value() == rule.value())) std::abort();
  }
  return 0;
}
