#include "zoomq/demo/controller.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <unistd.h>

namespace zoomq::demo {
namespace {

using std::chrono::milliseconds;

std::string Format2(double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", value);
  return buf;
}

// Waits until `topic` exists (a sensor creates it), retrying until `stop`.
Status WaitForTopic(Admin& admin, const std::string& topic, tools::StopSignal& stop,
                    std::ostream& out, std::mutex& out_mu) {
  bool told = false;
  while (true) {
    Result<TopicInfo> info = admin.DescribeTopic(topic);
    if (info.ok()) return Status::Ok();
    const Code code = info.status().code();
    if (code != Code::kTopicNotFound && !IsRetriable(info.status())) return info.status();
    if (!told) {
      std::lock_guard lock(out_mu);
      out << "waiting for topic " << topic << " (" << info.status().ToString() << ")"
          << std::endl;
      told = true;
    }
    if (stop.WaitFor(milliseconds(500))) return info.status();
  }
}

}  // namespace

int RunController(const ControllerOptions& options, tools::StopSignal& stop,
                  std::ostream& out) {
  std::mutex out_mu;  // guards `out`: handlers of every topic print from consumer threads
  std::atomic<int64_t> handled{0}, alerts{0};
  const std::string name =
      options.name.empty() ? "controller-" + std::to_string(getpid()) : options.name;

  auto handle = [&](const ReceivedMessage& message) {
    Result<Reading> reading = ParseReading(message.value);
    std::lock_guard lock(out_mu);
    if (!reading.ok()) {
      // Acked all the same: a malformed message would otherwise come back forever.
      out << "skipped " << message.topic << " " << message.handle << ": "
          << reading.status().message() << std::endl;
      return true;
    }
    ++handled;
    out << "handled " << message.topic << " seq=" << reading->sequence
        << " value=" << Format2(reading->value) << " " << reading->unit
        << " partition=" << message.partition << " offset=" << message.offset
        << " delivery=" << message.delivery << std::endl;
    if (options.thresholds.Exceeds(*reading)) {
      ++alerts;
      out << "ALERT " << message.topic << " seq=" << reading->sequence << " value="
          << Format2(reading->value) << " " << reading->unit << " above "
          << Format2(*options.thresholds.For(reading->type)) << " " << reading->unit
          << std::endl;
    }
    return true;
  };

  Admin admin(options.client);
  std::vector<std::unique_ptr<Consumer>> consumers;
  int exit_code = 0;
  for (const std::string& topic : options.topics) {
    Status ready = WaitForTopic(admin, topic, stop, out, out_mu);
    if (!ready.ok()) {
      if (!stop.stopped()) {
        std::lock_guard lock(out_mu);
        out << "cannot consume " << topic << ": " << ready.ToString() << std::endl;
        exit_code = ready.code() == Code::kTopicNotFound ? 2 : 3;
      }
      break;
    }
    ConsumerOptions consumer_options;
    consumer_options.client = options.client;
    consumer_options.topic = topic;
    consumer_options.group = options.group;
    consumer_options.consumer = name;
    // Few leases ahead: a reading leased here is one the other controllers cannot take.
    consumer_options.prefetch = 1;
    consumer_options.auto_ack = true;
    auto consumer = std::make_unique<Consumer>(consumer_options);
    Status started = consumer->Start(handle);
    if (!started.ok()) {
      std::lock_guard lock(out_mu);
      out << "cannot consume " << topic << ": " << started.ToString() << std::endl;
      exit_code = started.code() == Code::kTopicNotFound ? 2 : 3;
      break;
    }
    {
      std::lock_guard lock(out_mu);
      out << name << " consuming " << topic << " in group " << options.group << std::endl;
    }
    consumers.push_back(std::move(consumer));
  }

  if (exit_code == 0) {
    while (!stop.WaitFor(milliseconds(60000))) {
    }
  }
  for (auto& consumer : consumers) consumer->Stop();
  std::lock_guard lock(out_mu);
  out << name << " stopped: " << handled << " readings handled, " << alerts << " alerts"
      << std::endl;
  return exit_code;
}

}  // namespace zoomq::demo
