#include "sse_reader.h"

#include <utility>

namespace zoomq::testing {

SseReader::SseReader(int port, std::string path)
    : port_(port), path_(std::move(path)), client_("127.0.0.1", port) {
  IgnoreSigpipe();
  client_.set_tcp_nodelay(true);
  client_.set_connection_timeout(std::chrono::seconds(5));
  // Longer than the server's 15 s keep-alive comments.
  client_.set_read_timeout(std::chrono::seconds(60));
  thread_ = std::thread([this] { Run(); });
}

SseReader::~SseReader() { Stop(); }

void SseReader::Run() {
  auto result = client_.Get(
      path_,
      [this](const httplib::Response& response) {
        std::lock_guard<std::mutex> lock(mu_);
        status_ = response.status;
        content_type_ = response.get_header_value("Content-Type");
        headers_ = true;
        cv_.notify_all();
        return true;
      },
      [this](const char* data, size_t len) {
        std::lock_guard<std::mutex> lock(mu_);
        Feed(data, len);
        cv_.notify_all();
        return !stopping_.load();
      });
  std::lock_guard<std::mutex> lock(mu_);
  error_ = result.error();
  if (result && status_ == 0) status_ = result->status;
  ended_ = true;
  cv_.notify_all();
}

void SseReader::Feed(const char* data, size_t len) {
  buffer_.append(data, len);
  size_t start = 0;
  for (;;) {
    const size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string line = buffer_.substr(start, nl - start);
    start = nl + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      // End of an event.
      if (pending_has_data_ || !pending_.event.empty() || !pending_.id.empty()) {
        pending_.json = Json::parse(pending_.data, nullptr, false);
        if (pending_.json.is_discarded()) pending_.json = Json();
        if (pending_.event.empty() || pending_.event == "message") events_.push_back(pending_);
      }
      pending_ = SseEvent();
      pending_has_data_ = false;
      continue;
    }
    if (line[0] == ':') {
      ++comments_;
      continue;
    }
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field == "data") {
      if (pending_has_data_) pending_.data += "\n";
      pending_.data += value;
      pending_has_data_ = true;
    } else if (field == "event") {
      pending_.event = value;
    } else if (field == "id") {
      pending_.id = value;
    } else if (field == "retry") {
      // allowed by the SSE format
    } else {
      malformed_.push_back(line);
    }
  }
  buffer_.erase(0, start);
}

bool SseReader::WaitForEvents(size_t n, milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return events_.size() >= n || ended_.load(); });
  return events_.size() >= n;
}

bool SseReader::WaitForHeaders(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return headers_ || ended_.load(); });
  return headers_;
}

bool SseReader::WaitForEnd(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ended_.load(); });
}

std::vector<SseEvent> SseReader::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

size_t SseReader::EventCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

std::string SseReader::content_type() const {
  std::lock_guard<std::mutex> lock(mu_);
  return content_type_;
}

httplib::Error SseReader::error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

size_t SseReader::comments() const {
  std::lock_guard<std::mutex> lock(mu_);
  return comments_;
}

std::vector<std::string> SseReader::malformed_lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return malformed_;
}

void SseReader::Stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  // stop() shuts down the socket of a request in flight; repeat it in case the request had not
  // opened its socket yet. The receiver also returns false on the next chunk.
  while (!ended_.load()) {
    client_.stop();
    WaitForEnd(milliseconds(50));
  }
  thread_.join();
}

}  // namespace zoomq::testing
