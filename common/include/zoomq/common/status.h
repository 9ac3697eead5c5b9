// Status and Result<T>: how errors cross module boundaries in zoomq (no exceptions).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace zoomq {

// Codes mirror the API's error codes (docs/api.md); common/src/error_json.cc maps each
// one to its HTTP status and its UPPER_SNAKE name.
enum class Code {
  kOk = 0,
  kInvalidRequest,     // 400
  kUnauthenticated,    // 401: no token, or one no principal holds
  kForbidden,          // 403: the principal may not do this
  kTopicNotFound,      // 404
  kGroupNotFound,      // 404
  kPartitionNotFound,  // 404
  kNotFound,           // 404
  kMethodNotAllowed,   // 405
  kTopicExists,        // 409
  kStaleEpoch,         // 409: a request from a deposed leader or for an old epoch
  kAlreadyExists,      // 409: a user, token or rule of that name exists
  kPayloadTooLarge,    // 413
  kOverloaded,         // 429
  kInternal,           // 500
  kNotEnoughReplicas,  // 503
  kNoLeader,           // 503
  kNotLeader,          // 503: this broker does not lead the partition (internal routes)
  kUnavailable,        // 503
  kTimedOut,           // 504: a client-side deadline ran out (SDK: delivery timeout, Flush)
};

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string m) { return {Code::kInvalidRequest, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T>: a value or a non-OK Status (g++ 12 has no std::expected).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                   // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Name of the code as it appears in the API ("TOPIC_NOT_FOUND").
const char* CodeName(Code code);
// HTTP status the API uses for the code.
int HttpStatus(Code code);

}  // namespace zoomq

#define ZOOMQ_RETURN_IF_ERROR(expr)        \
  do {                                     \
    ::zoomq::Status _st = (expr);          \
    if (!_st.ok()) return _st;             \
  } while (0)
