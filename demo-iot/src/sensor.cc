#include "zoomq/demo/sensor.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <unistd.h>

#include "zoomq/demo/reading.h"

namespace zoomq::demo {
namespace {

using std::chrono::milliseconds;

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Format(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// Creates the topic, retrying while the cluster is not there yet. One partition: every
// reading has the same key (the sensor id), so all of them would hash to one partition
// anyway; more partitions would stay empty.
Status EnsureTopic(const ClientOptions& client, const std::string& topic,
                   tools::StopSignal& stop, std::ostream& out, std::mutex& out_mu) {
  Admin admin(client);
  TopicSpec spec;
  spec.name = topic;
  spec.partitions = 1;
  while (true) {
    Result<TopicInfo> created = admin.CreateTopic(spec);
    if (created.ok()) return Status::Ok();
    // Created earlier with other settings (e.g. by hand): use it as it is.
    if (created.status().code() == Code::kTopicExists) return Status::Ok();
    if (!IsRetriable(created.status())) return created.status();
    {
      std::lock_guard lock(out_mu);
      out << "waiting for the cluster to create " << topic << ": "
          << created.status().ToString() << std::endl;
    }
    if (stop.WaitFor(milliseconds(1000))) return created.status();
  }
}

}  // namespace

int RunSensor(const SensorOptions& options, tools::StopSignal& stop, std::ostream& out) {
  std::mutex out_mu;  // guards `out`: delivery callbacks print from the producer's thread
  const SensorType* type = FindSensorType(options.type);
  if (type == nullptr) {
    out << "unknown sensor type '" << options.type << "' (known: " << SensorTypeNames() << ")"
        << std::endl;
    return 1;
  }
  Result<std::string> topic = SensorTopic(options.type, options.id);
  if (!topic.ok()) {
    out << topic.status().ToString() << std::endl;
    return 1;
  }
  Status ready = EnsureTopic(options.client, *topic, stop, out, out_mu);
  if (!ready.ok()) {
    out << "cannot create " << *topic << ": " << ready.ToString() << std::endl;
    return stop.stopped() ? 0 : 3;
  }

  ProducerOptions producer_options;
  producer_options.client = options.client;
  producer_options.linger = milliseconds(0);  // one reading at a time: nothing to batch
  Producer producer(producer_options);
  std::atomic<int64_t> persisted{0}, failed{0};
  {
    std::lock_guard lock(out_mu);
    out << "sensor " << options.id << " (" << type->name << ") publishing to " << *topic
        << " every " << options.interval_s << " s as producer " << producer.producer_id()
        << std::endl;
  }

  RandomWalk walk(*type, std::hash<std::string>{}(*topic) ^ static_cast<uint64_t>(getpid()));
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options.interval_s));
  const auto start = std::chrono::steady_clock::now();
  int64_t sequence = 0;
  while (!stop.stopped() && (options.count == 0 || sequence < options.count)) {
    Reading reading{options.id, type->name, walk.Next(), type->unit, NowMs(), ++sequence};
    const std::string what = *topic + " seq=" + std::to_string(reading.sequence) +
                             " value=" + Format("%.2f", reading.value) + " " + reading.unit;
    Status sent = producer.Send(
        OutgoingMessage::Json(*topic, ReadingToJson(reading), options.id),
        [&, what](const DeliveryReport& report) {
          std::lock_guard lock(out_mu);
          if (report.status.ok()) {
            ++persisted;
            out << what << " -> partition " << report.partition << " offset " << report.offset
                << (report.duplicate ? " (duplicate)" : "") << std::endl;
          } else {
            ++failed;
            out << what << " -> FAILED " << report.status.ToString()
                << (report.persistence == Persistence::kPossiblyPersisted
                        ? " (possibly persisted)"
                        : "")
                << std::endl;
          }
        });
    if (!sent.ok()) {
      std::lock_guard lock(out_mu);
      ++failed;
      out << what << " -> NOT SENT " << sent.ToString() << std::endl;
    }
    // A fixed schedule (not "interval after the last send"), so slow sends do not drift.
    const auto next = start + interval * sequence;
    stop.WaitFor(std::chrono::duration_cast<milliseconds>(
        std::max(next - std::chrono::steady_clock::now(),
                 std::chrono::steady_clock::duration::zero())));
  }

  Status flushed = producer.Flush(milliseconds(10000));
  producer.Close(milliseconds(1000));  // fails what is left; callbacks have all run after it
  std::lock_guard lock(out_mu);
  out << "sensor " << options.id << " stopped: " << sequence << " readings, " << persisted
      << " persisted, " << failed << " failed"
      << (flushed.ok() ? "" : " (flush: " + flushed.ToString() + ")") << std::endl;
  return 0;
}

}  // namespace zoomq::demo
