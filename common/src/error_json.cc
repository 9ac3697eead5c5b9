#include "zoomq/common/error_json.h"

#include <nlohmann/json.hpp>

namespace zoomq {

std::string ErrorBody(const Status& status) {
  nlohmann::json j = {{"error", {{"code", CodeName(status.code())}, {"message", status.message()}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace zoomq
