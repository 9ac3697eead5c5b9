// The API's error body: {"error": {"code": "UPPER_SNAKE", "message": "..."}}, both ways: the
// broker renders it, and whoever reads an answer (the SDK, a broker forwarding to another)
// turns it back into the same Status.
#pragma once

#include <string>

#include "zoomq/common/status.h"

namespace zoomq {

std::string ErrorBody(const Status& status);

// The code named in the API ("TOPIC_NOT_FOUND"); kOk for a name it does not know.
Code CodeFromName(const std::string& name);
// The code an HTTP status stands for when the body names none (404 -> kNotFound, ...).
Code CodeFromHttp(int status);

// A non-2xx answer as a Status: the body's error code and message when it has them, else by
// HTTP status. 2xx -> Ok. (Status 0, "no answer", is the transport's to describe.)
Status StatusOfAnswer(int http_status, const std::string& body);

}  // namespace zoomq
