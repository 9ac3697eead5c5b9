// zoomq-sim: runs seeded schedules of the replication simulation (docs/simulation.md).
//   zoomq-sim --schedules 1000000 --seed 1 --threads 2   many schedules, seeds 1..1000000
//   zoomq-sim --seed 4242 --trace                         replay one schedule, every event
// Exit status: 0 when every schedule held every invariant, 1 when one did not (its seed and
// the violation are printed; the same seed replays it exactly), 2 on bad arguments.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "zoomq/sim/sim.h"

int main(int argc, char** argv) {
  CLI::App app{"zoomq-sim: deterministic simulation of zoomq's replication"};
  uint64_t seed = 1;
  uint64_t schedules = 1;
  int threads = 1;
  bool trace = false, legacy = false, no_check = false, keep_going = false;
  zoomq::sim::SimOptions base;
  app.add_option("--seed", seed, "Seed of the first schedule (schedule i uses seed + i)");
  app.add_option("--schedules", schedules, "How many schedules to run")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "Worker threads")->check(CLI::Range(1, 64));
  app.add_option("--brokers", base.brokers, "Replicas of the partition")->check(CLI::Range(2, 5));
  app.add_option("--fault-ms", base.fault_ms, "Simulated ms of load and faults per schedule")
      ->check(CLI::Range(100, 600000));
  app.add_option("--settle-ms", base.settle_ms, "Simulated ms to settle after healing")
      ->check(CLI::Range(1000, 600000));
  app.add_flag("--trace", trace, "Print every event of the (first) schedule");
  app.add_flag("--legacy-epoch-reuse", legacy,
               "Model the broker before the fix of issue 10 (a restarted leader resumes its "
               "epoch): the simulation should find the bug");
  app.add_flag("--no-metadata-check", no_check,
               "Model the broker without its periodic metadata re-read");
  app.add_flag("--keep-going", keep_going, "Count every failing schedule instead of stopping");
  CLI11_PARSE(app, argc, argv);
  base.legacy_epoch_reuse = legacy;
  base.no_metadata_check = no_check;

  if (trace) {
    base.seed = seed;
    base.trace = true;
    auto r = zoomq::sim::RunSchedule(base);
    for (const auto& line : r.trace) std::printf("%s\n", line.c_str());
    std::printf("seed %llu: %s (%llu events, %llu acked, %llu faults)\n",
                static_cast<unsigned long long>(seed), r.ok ? "ok" : r.violation.c_str(),
                static_cast<unsigned long long>(r.events), static_cast<unsigned long long>(r.acked),
                static_cast<unsigned long long>(r.faults));
    return r.ok ? 0 : 1;
  }

  std::atomic<uint64_t> next{0}, failed{0}, events{0}, acked{0}, faults{0}, leader_changes{0};
  std::atomic<bool> stop{false};
  std::mutex out_mu;
  const auto start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (;;) {
      if (stop) return;
      const uint64_t i = next++;
      if (i >= schedules) return;
      zoomq::sim::SimOptions o = base;
      o.seed = seed + i;
      auto r = zoomq::sim::RunSchedule(o);
      events += r.events;
      acked += r.acked;
      faults += r.faults;
      leader_changes += r.leader_changes;
      if (!r.ok) {
        ++failed;
        std::lock_guard<std::mutex> lock(out_mu);
        std::printf("FAIL seed %llu at %lld ms: %s\n  replay: zoomq-sim --seed %llu --trace%s\n",
                    static_cast<unsigned long long>(o.seed), static_cast<long long>(r.at_ms),
                    r.violation.c_str(), static_cast<unsigned long long>(o.seed),
                    legacy ? " --legacy-epoch-reuse" : "");
        std::fflush(stdout);
        if (!keep_going) stop = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t ran = std::min<uint64_t>(next.load(), schedules);
  std::printf("%llu schedules (seeds %llu..%llu) in %.1f s: %.0f schedules/s, %llu events, "
              "%llu acknowledged entries, %llu faults, %llu leader changes; %llu failed\n",
              static_cast<unsigned long long>(ran), static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed + ran - 1), secs, ran / secs,
              static_cast<unsigned long long>(events.load()),
              static_cast<unsigned long long>(acked.load()),
              static_cast<unsigned long long>(faults.load()),
              static_cast<unsigned long long>(leader_changes.load()),
              static_cast<unsigned long long>(failed.load()));
  return failed == 0 ? 0 : 1;
}
