#include "zoomqctl.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "render.h"
#include "security_verbs.h"
#include "verbs.h"
#include "zoomq/client.h"
#include "zoomq/tools/cli.h"
#include "zoomq/tools/security_flags.h"
#include "zoomq/tools/stop_signal.h"

namespace zoomq::ctl {
namespace {

using std::chrono::milliseconds;

constexpr const char* kFooter = R"(
Output: human-readable tables by default. With --json every verb prints one JSON document on
stdout, except `consume`, which prints JSON lines (one message object per line, also with
--follow). With --json a failure also prints {"error":{"code":...,"message":...}} on stdout.

Exit codes:
  0  ok
  1  usage error (unknown verb or flag, missing argument)
  2  not found (topic, group or partition)
  3  unavailable or timed out (cluster unreachable, no leader, not enough replicas): retriable
  4  any other rejection by the server (invalid request, topic exists with another config...)
  5  not authenticated (no, unknown or revoked token) or not allowed (security on)

See docs/cli.md.)";

void AddPartitionRows(const std::string& topic, const std::vector<PartitionInfo>& partitions,
                      Table& table) {
  for (const PartitionInfo& p : partitions) {
    table.Add({topic, std::to_string(p.partition), p.leader < 0 ? "none" : std::to_string(p.leader),
               std::to_string(p.epoch), JoinIds(p.replicas), JoinIds(p.isr),
               std::to_string(p.high_watermark), std::to_string(p.log_end_offset),
               std::to_string(p.log_end_offset - p.high_watermark)});
  }
}

// ---- cluster ----

int CmdCluster(const Globals& g, Io& io) {
  Admin admin(MakeClient(g));
  Result<ClusterInfo> cluster = admin.Cluster();
  if (!cluster.ok()) return Fail(g, io, cluster.status());
  if (g.json) {
    io.out << ToJson(*cluster).dump(2) << '\n';
    return kExitOk;
  }
  io.out << "controller: "
         << (cluster->controller < 0 ? std::string("none") : std::to_string(cluster->controller))
         << "   (answered by broker " << cluster->broker << ")\n\n";
  Table brokers({"BROKER", "URL", "ALIVE"});
  for (const BrokerInfo& b : cluster->brokers) {
    brokers.Add({std::to_string(b.id), b.url, b.alive ? "yes" : "NO"});
  }
  brokers.Print(io.out);
  io.out << '\n';
  Table partitions(
      {"TOPIC", "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "HWM", "LOG_END", "LAG"});
  for (const TopicInfo& t : cluster->topics) {
    AddPartitionRows(t.name, t.partition_info, partitions);
  }
  partitions.Print(io.out);
  return kExitOk;
}

// ---- topic ----

struct TopicArgs {
  std::string name;
  int partitions = 0, replication_factor = 0, min_insync = 0, max_deliveries = 0;
  int64_t retention_ms = 0, retention_bytes = 0, visibility_ms = 0;
  std::vector<CLI::Option*> given;  // create's optional settings, in TopicSpec order
};

int CmdTopicCreate(const Globals& g, Io& io, const TopicArgs& a) {
  TopicSpec spec;
  spec.name = a.name;
  if (a.given[0]->count()) spec.partitions = a.partitions;
  if (a.given[1]->count()) spec.replication_factor = a.replication_factor;
  if (a.given[2]->count()) spec.min_insync_replicas = a.min_insync;
  if (a.given[3]->count()) spec.retention_ms = a.retention_ms;
  if (a.given[4]->count()) spec.retention_bytes = a.retention_bytes;
  if (a.given[5]->count()) spec.visibility_timeout_ms = a.visibility_ms;
  if (a.given[6]->count()) spec.max_deliveries = a.max_deliveries;
  Admin admin(MakeClient(g));
  Result<TopicInfo> topic = admin.CreateTopic(spec);
  if (!topic.ok()) return Fail(g, io, topic.status());
  if (g.json) {
    Json out = ToJson(*topic);
    out["created"] = topic->created;
    io.out << out.dump(2) << '\n';
  } else if (topic->created) {
    io.out << "created topic " << topic->name << " (" << topic->partitions
           << " partitions, replication factor " << topic->replication_factor << ")\n";
  } else {
    io.out << "topic " << topic->name << " already exists with this config\n";
  }
  return kExitOk;
}

void OverlayPlacement(const ClusterInfo& cluster, TopicInfo& topic) {
  for (const TopicInfo& t : cluster.topics) {
    if (t.name != topic.name) continue;
    for (PartitionInfo& p : topic.partition_info) {
      for (const PartitionInfo& placed : t.partition_info) {
        if (placed.partition != p.partition) continue;
        p.leader = placed.leader;
        p.epoch = placed.epoch;
        p.replicas = placed.replicas;
        p.isr = placed.isr;
      }
    }
  }
}

int CmdTopicList(const Globals& g, Io& io) {
  Admin admin(MakeClient(g));
  Result<std::vector<TopicInfo>> topics = admin.ListTopics();
  if (!topics.ok()) return Fail(g, io, topics.status());
  if (g.json) {
    if (Result<ClusterInfo> cluster = admin.Cluster(); cluster.ok()) {
      for (TopicInfo& t : topics.value()) OverlayPlacement(cluster.value(), t);
    }
    Json list = Json::array();
    for (const TopicInfo& t : *topics) list.push_back(ToJson(t));
    io.out << Json{{"topics", list}}.dump(2) << '\n';
    return kExitOk;
  }
  Table table(
      {"TOPIC", "PARTITIONS", "RF", "MIN_ISR", "RETENTION_MS", "VISIBILITY_MS", "MAX_DELIVERIES"});
  for (const TopicInfo& t : *topics) {
    table.Add({t.name, std::to_string(t.partitions), std::to_string(t.replication_factor),
               std::to_string(t.min_insync_replicas), std::to_string(t.retention_ms),
               std::to_string(t.visibility_timeout_ms), std::to_string(t.max_deliveries)});
  }
  table.Print(io.out);
  return kExitOk;
}

int CmdTopicDescribe(const Globals& g, Io& io, const std::string& name) {
  Admin admin(MakeClient(g));
  Result<TopicInfo> topic = admin.DescribeTopic(name);
  if (!topic.ok()) return Fail(g, io, topic.status());
  // A topic's description has offsets only; leaders and replicas come from the cluster view.
  if (Result<ClusterInfo> cluster = admin.Cluster(); cluster.ok()) {
    OverlayPlacement(cluster.value(), topic.value());
  }
  if (g.json) {
    io.out << ToJson(*topic).dump(2) << '\n';
    return kExitOk;
  }
  const TopicInfo& t = *topic;
  io.out << "topic " << t.name << ": " << t.partitions << " partitions, replication factor "
         << t.replication_factor << ", min in-sync " << t.min_insync_replicas << ", retention "
         << t.retention_ms << " ms, visibility " << t.visibility_timeout_ms
         << " ms, max deliveries " << t.max_deliveries << "\n\n";
  Table table(
      {"TOPIC", "PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "HWM", "LOG_END", "LAG"});
  AddPartitionRows(t.name, t.partition_info, table);
  table.Print(io.out);
  io.out << "\ngroups: ";
  for (size_t i = 0; i < t.groups.size(); ++i) io.out << (i ? ", " : "") << t.groups[i];
  io.out << (t.groups.empty() ? "none\n" : "\n");
  return kExitOk;
}

int CmdTopicDelete(const Globals& g, Io& io, const std::string& name) {
  Admin admin(MakeClient(g));
  Status status = admin.DeleteTopic(name);
  if (!status.ok()) return Fail(g, io, status);
  if (g.json) {
    io.out << Json{{"deleted", name}}.dump(2) << '\n';
  } else {
    io.out << "deleted topic " << name << '\n';
  }
  return kExitOk;
}

// ---- produce ----

struct ProduceArgs {
  std::string topic;
  std::string key;
  CLI::Option* key_given = nullptr;
  std::vector<std::string> headers;
  int partition = -1;
  CLI::Option* partition_given = nullptr;
  std::vector<std::string> values;
};

int CmdProduce(const Globals& g, Io& io, const ProduceArgs& a) {
  std::map<std::string, std::string> headers;
  for (const std::string& h : a.headers) {
    auto kv = ParseHeader(h);
    if (!kv) return Usage(io, "--header wants KEY=VALUE, got '" + h + "'");
    headers[kv->first] = kv->second;
  }
  ProducerOptions options;
  options.client = MakeClient(g);
  options.delivery_timeout = milliseconds(g.timeout_ms);
  options.max_block = milliseconds(g.timeout_ms);
  Producer producer(options);

  std::deque<std::future<DeliveryReport>> pending;  // in input order
  Json results = Json::array();
  int exit_code = kExitOk;
  auto report = [&](const DeliveryReport& r) {
    if (!r.status.ok() && exit_code == kExitOk) exit_code = ExitCodeFor(r.status);
    if (g.json) {
      results.push_back(ToJson(r));
    } else if (r.status.ok()) {
      io.out << "partition " << r.partition << " offset " << r.offset
             << (r.duplicate ? " (duplicate)" : "") << '\n';
    } else {
      io.out << "failed: " << r.status.ToString() << '\n';
    }
  };
  // Reports the finished head of `pending` (all of it when `all`), keeping input order.
  auto drain = [&](bool all) {
    while (!pending.empty() &&
           (all || pending.front().wait_for(milliseconds(0)) == std::future_status::ready)) {
      report(pending.front().get());
      pending.pop_front();
    }
  };
  auto send = [&](const std::string& text) {
    OutgoingMessage message = OutgoingMessage::Json(
        a.topic, ValueAsJson(text),
        a.key_given->count() ? std::optional<std::string>(a.key) : std::nullopt);
    message.headers = headers;
    if (a.partition_given->count()) message.partition = a.partition;
    pending.push_back(producer.Send(std::move(message)));
    drain(false);
  };
  if (!a.values.empty()) {
    for (const std::string& v : a.values) send(v);
  } else {
    std::string line;
    while (std::getline(io.in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) send(line);
    }
  }
  drain(true);
  producer.Close(milliseconds(1000));
  if (g.json) io.out << Json{{"results", results}}.dump(2) << '\n';
  return exit_code;
}

// ---- consume ----

struct ConsumeArgs {
  std::string topic;
  std::string group;
  std::string consumer;
  int max = 0;
  int wait_ms = 1000;
  int visibility_ms = 0;
  bool follow = false;
  bool no_ack = false;
  bool nack = false;
  int64_t from = 0;
  CLI::Option* from_given = nullptr;
  int partition = -1;
  CLI::Option* partition_given = nullptr;
};

int CmdConsume(const Globals& g, Io& io, const ConsumeArgs& a) {
  const bool group_mode = !a.group.empty();
  if (group_mode == (a.from_given->count() > 0)) {
    return Usage(io, "consume needs exactly one of --group GROUP or --from OFFSET");
  }
  if (group_mode && a.partition_given->count()) {
    return Usage(io, "--partition goes with --from (stream mode)");
  }
  if (!group_mode && (a.no_ack || a.nack || !a.consumer.empty())) {
    return Usage(io, "--consumer, --no-ack and --nack go with --group");
  }
  if (a.no_ack && a.nack) return Usage(io, "--no-ack and --nack exclude each other");
  const int64_t limit = a.max > 0 ? a.max : (a.follow ? INT64_MAX : 100);

  ConsumerOptions options;
  options.client = MakeClient(g);
  options.topic = a.topic;
  options.group = a.group;
  options.consumer = a.consumer;
  // Leases beyond what is asked for would sit unacked until they expire.
  options.prefetch = static_cast<int>(std::clamp<int64_t>(limit, 1, 100));
  if (a.visibility_ms > 0) options.visibility = milliseconds(a.visibility_ms);
  options.stream_from = a.from;
  if (a.partition_given->count()) options.stream_partitions = {a.partition};

  tools::StopSignal stop;  // before the consumer starts any thread
  Consumer consumer(options);
  int64_t received = 0;
  // A poll fails when no broker answered during it (a failover, with --follow's short
  // polls); only errors lasting a whole --timeout-ms end the command.
  std::optional<std::chrono::steady_clock::time_point> failing_since;
  while (!stop.stopped() && received < limit) {
    // With --follow, short polls so that a signal is seen within half a second.
    const int wait = a.follow ? std::min(a.wait_ms, 500) : a.wait_ms;
    Result<std::vector<ReceivedMessage>> batch = consumer.Poll(
        static_cast<int>(std::min<int64_t>(limit - received, 1000)), milliseconds(wait));
    if (!batch.ok()) {
      const auto now = std::chrono::steady_clock::now();
      if (!failing_since) failing_since = now;
      if (!IsRetriable(batch.status()) || now - *failing_since >= milliseconds(g.timeout_ms)) {
        return Fail(g, io, batch.status());
      }
      stop.WaitFor(milliseconds(100));  // Poll may fail at once (connection refused)
      continue;
    }
    failing_since.reset();
    if (batch->empty()) {
      if (!a.follow) break;
      continue;
    }
    std::vector<std::string> handles;
    for (const ReceivedMessage& m : *batch) {
      io.out << (g.json ? ToJson(m).dump() : MessageLine(m)) << '\n';
      handles.push_back(m.handle);
    }
    io.out.flush();
    received += static_cast<int64_t>(batch->size());
    if (!group_mode || a.no_ack) continue;
    Result<AckResult> acked = a.nack ? consumer.Nack(handles) : consumer.Ack(handles);
    if (!acked.ok()) return Fail(g, io, acked.status());
    if (!acked->unknown.empty()) {
      io.err << "zoomqctl: " << acked->unknown.size()
             << " message(s) were no longer leased (lease expired)\n";
    }
  }
  return kExitOk;
}

// ---- group, dlq ----

int CmdGroupDescribe(const Globals& g, Io& io, const std::string& topic, const std::string& group) {
  Admin admin(MakeClient(g));
  Result<GroupInfo> info = admin.DescribeGroup(topic, group);
  if (!info.ok()) return Fail(g, io, info.status());
  if (g.json) {
    io.out << ToJson(*info).dump(2) << '\n';
    return kExitOk;
  }
  io.out << "group " << info->group << " of topic " << info->topic << '\n'
         << "backlog:       " << info->backlog << '\n'
         << "in flight:     " << info->in_flight << '\n'
         << "acked:         " << info->acked << '\n'
         << "dead-lettered: " << info->dead_lettered << "\n\n";
  Table table({"CONSUMER", "LAST_SEEN_MS"});
  for (const GroupConsumerInfo& c : info->consumers) {
    table.Add({c.consumer, std::to_string(c.last_seen_ms)});
  }
  table.Print(io.out);
  return kExitOk;
}

int CmdDlqPeek(const Globals& g, Io& io, const std::string& topic, int max) {
  Admin admin(MakeClient(g));
  Result<std::vector<ReceivedMessage>> messages = admin.DlqPeek(topic, max);
  if (!messages.ok()) return Fail(g, io, messages.status());
  if (g.json) {
    Json list = Json::array();
    for (const ReceivedMessage& m : *messages) list.push_back(ToJson(m));
    io.out << Json{{"messages", list}}.dump(2) << '\n';
    return kExitOk;
  }
  for (const ReceivedMessage& m : *messages) io.out << MessageLine(m) << '\n';
  io.out << messages->size() << " dead letter(s) shown\n";
  return kExitOk;
}

int CmdDlqRedrive(const Globals& g, Io& io, const std::string& topic, int64_t max) {
  Admin admin(MakeClient(g));
  Result<int64_t> moved = admin.DlqRedrive(topic, max);
  if (!moved.ok()) return Fail(g, io, moved.status());
  if (g.json) {
    io.out << Json{{"redriven", *moved}}.dump(2) << '\n';
  } else {
    io.out << "moved " << *moved << " message(s) from " << topic << ".dlq back to " << topic
           << '\n';
  }
  return kExitOk;
}

}  // namespace

int Run(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  Io io{in, out, err};
  CLI::App app{"zoomqctl: inspect and use a zoomq cluster (topics, messages, groups, DLQs)",
               "zoomqctl"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global flags also after the verb

  Globals g;
  tools::AddBrokersOption(app, &g.brokers);
  tools::AddSecurityFlags(app, &g.security);
  app.add_flag("--json", g.json, "Print JSON instead of tables");
  app.add_option("--timeout-ms", g.timeout_ms, "Per request; also produce's delivery timeout")
      ->check(CLI::Range(1, 3600000))
      ->capture_default_str();

  CLI::App* cluster = app.add_subcommand("cluster", "Brokers, controller, partition leaders");
  cluster->footer(
      "\nBrokers (alive or not), the controller, and per partition: leader, leader epoch,\n"
      "replicas, in-sync replicas (ISR), high watermark (HWM), log end offset and LAG = log end -\n"
      "HWM (what the leader holds that the ISR has not all replicated yet).");

  CLI::App* topic = app.add_subcommand("topic", "Create, list, describe or delete topics");
  topic->require_subcommand(1);
  topic->fallthrough();
  TopicArgs ta;
  CLI::App* t_create = topic->add_subcommand("create",
                                             "Create a topic (ok if it exists with "
                                             "the same config)");
  t_create->add_option("NAME", ta.name, "Topic name")->required();
  ta.given = {
      t_create->add_option("--partitions", ta.partitions, "Partitions")->check(CLI::PositiveNumber),
      t_create
          ->add_option("--replication-factor", ta.replication_factor,
                       "Replicas per partition (default: min(3, live brokers))")
          ->check(CLI::PositiveNumber),
      t_create
          ->add_option("--min-insync", ta.min_insync,
                       "Replicas that must hold a write before it is acknowledged")
          ->check(CLI::PositiveNumber),
      t_create->add_option("--retention-ms", ta.retention_ms, "Delete messages older than this")
          ->check(CLI::PositiveNumber),
      t_create
          ->add_option("--retention-bytes", ta.retention_bytes,
                       "Delete the oldest messages beyond this size per partition")
          ->check(CLI::NonNegativeNumber),
      t_create->add_option("--visibility-ms", ta.visibility_ms, "Default lease of a delivery")
          ->check(CLI::PositiveNumber),
      t_create
          ->add_option("--max-deliveries", ta.max_deliveries,
                       "Dead-letter a message after this many deliveries (0: never)")
          ->check(CLI::NonNegativeNumber),
  };
  CLI::App* t_list = topic->add_subcommand("list", "List topics with their config");
  std::string topic_name;
  CLI::App* t_describe = topic->add_subcommand("describe",
                                               "A topic's config, partitions (offsets, leaders) "
                                               "and groups");
  t_describe->add_option("NAME", topic_name, "Topic name")->required();
  CLI::App* t_delete = topic->add_subcommand("delete", "Delete a topic (not its .dlq)");
  t_delete->add_option("NAME", topic_name, "Topic name")->required();

  ProduceArgs pa;
  CLI::App* produce = app.add_subcommand("produce", "Produce messages (arguments or stdin)");
  produce->footer(
      "\nEach VALUE argument is one message; without VALUEs, each non-empty stdin line is one.\n"
      "A value that parses as JSON (42, true, {\"a\":1}, \"text\") is sent as that JSON; anything\n"
      "else as a JSON string (hello -> \"hello\"). Prints partition and offset per message, in\n"
      "input order (--json: one document {\"results\":[...]}); exits non-zero (2, 3 or 4) if\n"
      "any message failed.");
  produce->add_option("TOPIC", pa.topic, "Topic")->required();
  produce->add_option("VALUE", pa.values, "Message values (default: stdin lines)");
  pa.key_given = produce->add_option("--key", pa.key, "Key of every message");
  produce->add_option("--header", pa.headers, "Header KEY=VALUE (repeatable)");
  pa.partition_given =
      produce->add_option("--partition", pa.partition, "Partition (default: by key hash)")
          ->check(CLI::NonNegativeNumber);

  ConsumeArgs ca;
  CLI::App* consume =
      app.add_subcommand("consume", "Consume as a group member or read a stream from an offset");
  consume->footer(
      "\n  consume TOPIC --group G [--consumer C] [--max N] [--wait-ms MS] [--follow] [--no-ack]\n"
      "      leases messages, prints them, then acks them (--nack: nacks; --no-ack: neither)\n"
      "  consume TOPIC --from OFFSET [--partition P] [--follow]\n"
      "      reads partitions by offset, no leases, no acks\n"
      "Without --follow it stops after --max messages (default 100) or when a poll of --wait-ms\n"
      "brings nothing; with --follow it runs until SIGINT/SIGTERM (exit 0) or --max.\n"
      "Output: one line per message; with --json JSON lines (one message object per line).");
  consume->add_option("TOPIC", ca.topic, "Topic")->required();
  consume->add_option("--group", ca.group, "Consumer group (group mode)");
  consume->add_option("--consumer", ca.consumer,
                      "Member name in the group (default: zoomqctl-<pid>)");
  ca.from_given = consume->add_option("--from", ca.from,
                                      "Stream mode: first offset of each partition (-1: only "
                                      "new messages)");
  ca.partition_given =
      consume->add_option("--partition", ca.partition, "Stream mode: only this partition")
          ->check(CLI::NonNegativeNumber);
  consume
      ->add_option("--max", ca.max,
                   "Stop after this many messages (default 100; "
                   "unlimited with --follow)")
      ->check(CLI::PositiveNumber);
  consume->add_option("--wait-ms", ca.wait_ms, "Long-poll wait")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  consume
      ->add_option("--visibility-ms", ca.visibility_ms,
                   "Group mode: lease length (default: the topic's)")
      ->check(CLI::PositiveNumber);
  consume->add_flag("--follow,-f", ca.follow, "Keep consuming until SIGINT/SIGTERM");
  consume->add_flag("--no-ack", ca.no_ack,
                    "Group mode: do not ack (the leases expire and the messages come back)");
  consume->add_flag("--nack", ca.nack,
                    "Group mode: nack instead of ack (redelivered at once, or dead-lettered "
                    "after the topic's max deliveries)");

  std::string group_topic, group_name;
  CLI::App* group = app.add_subcommand("group", "Consumer groups");
  group->require_subcommand(1);
  group->fallthrough();
  CLI::App* g_describe = group->add_subcommand(
      "describe", "A group's backlog, in-flight, acked and dead-lettered counts and consumers");
  g_describe->add_option("TOPIC", group_topic, "Topic")->required();
  g_describe->add_option("GROUP", group_name, "Group")->required();

  std::string dlq_topic;
  int64_t dlq_max = 0;
  CLI::App* dlq = app.add_subcommand("dlq", "Dead letters of a topic (its <topic>.dlq)");
  dlq->require_subcommand(1);
  dlq->fallthrough();
  CLI::App* d_peek = dlq->add_subcommand("peek", "Show dead letters without consuming them");
  d_peek->add_option("TOPIC", dlq_topic, "Topic (not the .dlq name)")->required();
  d_peek->add_option("--max", dlq_max, "At most this many (default 100)")
      ->check(CLI::Range(1, 1000));
  CLI::App* d_redrive = dlq->add_subcommand(
      "redrive", "Move dead letters back to the topic (as the group zoomq-redrive of the .dlq)");
  d_redrive->add_option("TOPIC", dlq_topic, "Topic (not the .dlq name)")->required();
  d_redrive->add_option("--max", dlq_max, "At most this many (default: all)")
      ->check(CLI::PositiveNumber);

  SecurityVerbs security_verbs(app);

  if (auto exit_code = tools::ParseArgs(app, argc, argv, out, err)) return *exit_code;

  if (cluster->parsed()) return CmdCluster(g, io);
  if (t_create->parsed()) return CmdTopicCreate(g, io, ta);
  if (t_list->parsed()) return CmdTopicList(g, io);
  if (t_describe->parsed()) return CmdTopicDescribe(g, io, topic_name);
  if (t_delete->parsed()) return CmdTopicDelete(g, io, topic_name);
  if (produce->parsed()) return CmdProduce(g, io, pa);
  if (consume->parsed()) return CmdConsume(g, io, ca);
  if (g_describe->parsed()) return CmdGroupDescribe(g, io, group_topic, group_name);
  if (d_peek->parsed()) return CmdDlqPeek(g, io, dlq_topic, dlq_max > 0 ? dlq_max : 100);
  if (d_redrive->parsed()) {
    return CmdDlqRedrive(g, io, dlq_topic, dlq_max > 0 ? dlq_max : 1000000);
  }
  if (auto code = security_verbs.Run(g, io)) return *code;
  return Usage(io, "no verb given");
}

}  // namespace zoomq::ctl
