// How every handler answers: JSON bodies, and errors as the API's error JSON with the status
// of their code (docs/api.md, "Errors").
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "zoomq/common/error_json.h"
#include "zoomq/common/status.h"

namespace zoomq::broker::http {

inline void Reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

inline void Reply(httplib::Response& res, int status, const nlohmann::json& j) {
  Reply(res, status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

inline void Error(httplib::Response& res, const Status& st) {
  if (st.code() == Code::kOverloaded) res.set_header("Retry-After", "1");
  Reply(res, HttpStatus(st.code()), ErrorBody(st));
}

}  // namespace zoomq::broker::http
