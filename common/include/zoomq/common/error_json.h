// The API's error body: {"error": {"code": "UPPER_SNAKE", "message": "..."}}.
#pragma once

#include <string>

#include "zoomq/common/status.h"

namespace zoomq {

std::string ErrorBody(const Status& status);

}  // namespace zoomq
