// Reads a Server-Sent Events stream (GET .../subscribe) on its own thread with httplib's
// content receiver, and collects the `event: message` events.

#ifndef ZOOMQ_TESTS_INTEGRATION_SSE_READER_H_
#define ZOOMQ_TESTS_INTEGRATION_SSE_READER_H_

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker_process.h"

namespace zoomq::testing {

struct SseEvent {
  std::string id;     // the `id:` field
  std::string event;  // the `event:` field ("message" expected)
  std::string data;   // `data:` lines joined by '\n'
  Json json;          // data parsed, or null
};

class SseReader {
 public:
  // Starts reading `path` from the broker on `port` at once.
  SseReader(int port, std::string path);
  ~SseReader();  // Stop()s
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;

  // Waits until at least `n` message events arrived (or the stream ended).
  bool WaitForEvents(size_t n, milliseconds timeout);
  // Waits until the response status line arrived (or the stream ended).
  bool WaitForHeaders(milliseconds timeout);
  // Waits until the stream has ended (server closed it, or an error).
  bool WaitForEnd(milliseconds timeout);

  std::vector<SseEvent> Events() const;
  size_t EventCount() const;
  int status() const { return status_.load(); }
  std::string content_type() const;
  bool ended() const { return ended_.load(); }
  // Error of the finished request (Success, Canceled after Stop(), Read, ...).
  httplib::Error error() const;
  // Count of comment lines (": ..." keep-alives) seen.
  size_t comments() const;
  // Any malformed line seen (a line that is neither a field nor a comment).
  std::vector<std::string> malformed_lines() const;

  // Ends the stream from the client side and joins the thread.
  void Stop();

 private:
  void Run();
  void Feed(const char* data, size_t len);  // REQUIRES: mu_ held

  const int port_;
  const std::string path_;
  httplib::Client client_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ended_{false};
  std::atomic<int> status_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;                  // guarded by mu_: bytes not yet forming a whole line
  SseEvent pending_;                    // guarded by mu_: fields of the event being read
  bool pending_has_data_ = false;       // guarded by mu_
  std::vector<SseEvent> events_;        // guarded by mu_
  std::vector<std::string> malformed_;  // guarded by mu_
  size_t comments_ = 0;                 // guarded by mu_
  std::string content_type_;            // guarded by mu_
  bool headers_ = false;                // guarded by mu_
  httplib::Error error_ = httplib::Error::Success;  // guarded by mu_
};

}  // namespace zoomq::testing

#endif  // ZOOMQ_TESTS_INTEGRATION_SSE_READER_H_
