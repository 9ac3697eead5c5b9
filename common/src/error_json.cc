#include "zoomq/common/error_json.h"

#include <nlohmann/json.hpp>

namespace zoomq {

using nlohmann::json;

std::string ErrorBody(const Status& status) {
  json j = {{"error", {{"code", CodeName(status.code())}, {"message", status.message()}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Code CodeFromName(const std::string& name) {
  for (int c = static_cast<int>(Code::kOk); c <= static_cast<int>(Code::kTimedOut); ++c) {
    if (name == CodeName(static_cast<Code>(c))) return static_cast<Code>(c);
  }
  return Code::kOk;
}

Code CodeFromHttp(int status) {
  switch (status) {
    case 400: return Code::kInvalidRequest;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kForbidden;
    case 404: return Code::kNotFound;
    case 405: return Code::kMethodNotAllowed;
    case 409: return Code::kTopicExists;
    case 413: return Code::kPayloadTooLarge;
    case 429: return Code::kOverloaded;
    case 503: return Code::kUnavailable;
    case 504: return Code::kTimedOut;
    default: return status >= 500 ? Code::kInternal : Code::kInvalidRequest;
  }
}

Status StatusOfAnswer(int http_status, const std::string& body) {
  if (http_status >= 200 && http_status < 300) return Status::Ok();
  Code code = Code::kOk;
  std::string message = "HTTP " + std::to_string(http_status);
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto e = j.find("error");
    if (e != j.end() && e->is_object()) {
      auto c = e->find("code");
      if (c != e->end() && c->is_string()) code = CodeFromName(c->get<std::string>());
      auto m = e->find("message");
      if (m != e->end() && m->is_string() && !m->get_ref<const std::string&>().empty()) {
        message = m->get<std::string>();
      }
    }
  }
  if (code == Code::kOk) code = CodeFromHttp(http_status);
  return Status(code, std::move(message));
}

}  // namespace zoomq
