// zoomq-broker: parses flags, opens the service, binds, serves until SIGTERM/SIGINT.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <pthread.h>
#include <thread>

#include "broker/app/tls_flags.h"
#include "broker/cluster/cluster_node.h"
#include "broker/cluster/frontend.h"
#include "broker/http/http_server.h"
#include "broker/http/peer_client.h"
#include "broker/http/peer_transport.h"
#include "broker/security/admin_token.h"
#include "broker/security/security_manager.h"
#include "broker/service/broker_service.h"
#include "broker/storage/security_store.h"
#include "zoomq/coordinator/zk_state_store.h"
#include "zoomq/coordinator/zk_credentials.h"
#include "zoomq/coordinator/zk_status.h"

using namespace zoomq;
using namespace zoomq::broker;

int main(int argc, char** argv) {
  CLI::App app{"zoomq-broker: a zoomq message broker (standalone until --zk arrives)"};
  app.set_config();  // no config file
  int id = 1;
  std::string listen = "127.0.0.1:9101";
  std::string data_dir;
  std::string sync = "full";
  std::string advertise;
  std::string log_level = "info";
  BrokerOptions opts;
  http::HttpOptions hopts;
  int64_t max_waiters = 900;
  std::string zk;
  int zk_session_ms = 3000;
  std::string admin_token_file;
  auth::QuotaOptions quota;
  std::string zk_auth_file;
  TlsFlags tls;
  auto env = [](CLI::Option* o, const char* name) { return o->envname(name); };
  env(app.add_option("--id", id, "Broker id (positive integer)")->check(CLI::Range(1, 1 << 30)),
      "ZOOMQ_ID");
  env(app.add_option("--listen", listen, "HOST:PORT to serve HTTP on")->capture_default_str(),
      "ZOOMQ_LISTEN");
  env(app.add_option("--data-dir", data_dir, "Directory for the SQLite database")->required(),
      "ZOOMQ_DATA_DIR");
  env(app.add_option("--sync", sync,
                     "full: answer produces after fsync (default); normal: no fsync at commit "
                     "(survives a process crash, not an OS crash)")
          ->check(CLI::IsMember({"full", "normal"}))
          ->capture_default_str(),
      "ZOOMQ_SYNC");
  env(app.add_option("--advertise-url", advertise, "URL other parties reach this broker at "
                                                   "(default http://LISTEN, https:// with TLS)"),
      "ZOOMQ_ADVERTISE_URL");
  env(app.add_option("--http-threads", hopts.threads,
                     "HTTP worker threads; each keep-alive connection, long poll and SSE stream "
                     "holds one")
          ->check(CLI::Range(8, 8192))
          ->capture_default_str(),
      "ZOOMQ_HTTP_THREADS");
  env(app.add_option("--max-waiters", max_waiters,
                     "Long polls and SSE streams allowed at once (more get 429)")
          ->check(CLI::Range(1, 1 << 20))
          ->capture_default_str(),
      "ZOOMQ_MAX_WAITERS");
  env(app.add_option("--max-message-bytes", opts.max_message_bytes,
                     "Largest message (encoded value + key + headers)")
          ->check(CLI::Range(1, 16 << 20))
          ->capture_default_str(),
      "ZOOMQ_MAX_MESSAGE_BYTES");
  env(app.add_option("--dedup-window-ms", opts.dedup_window_ms,
                     "How long a message id is remembered for deduplication")
          ->check(CLI::Range(int64_t{0}, int64_t{7} * 24 * 3600 * 1000))
          ->capture_default_str(),
      "ZOOMQ_DEDUP_WINDOW_MS");
  env(app.add_option("--tick-ms", opts.tick_ms, "Resolution of lease expiry and nack delays")
          ->check(CLI::Range(1, 10000))
          ->capture_default_str(),
      "ZOOMQ_TICK_MS");
  env(app.add_option("--retention-check-ms", opts.retention_check_ms,
                     "How often retention is applied")
          ->check(CLI::Range(10, 3600000))
          ->capture_default_str(),
      "ZOOMQ_RETENTION_CHECK_MS");
  env(app.add_option("--keep-alive-timeout-s", hopts.keep_alive_timeout_s,
                     "Seconds an idle keep-alive connection stays open")
          ->check(CLI::Range(1, 600))
          ->capture_default_str(),
      "ZOOMQ_KEEP_ALIVE_TIMEOUT_S");
  env(app.add_option("--sse-keepalive-ms", hopts.sse_keepalive_ms,
                     "Interval of keep-alive comments on idle SSE streams")
          ->check(CLI::Range(100, 3600000))
          ->capture_default_str(),
      "ZOOMQ_SSE_KEEPALIVE_MS");
  env(app.add_option("--zk", zk,
                     "ZooKeeper connect string host:port[,host:port...][/chroot]; without it "
                     "the broker runs standalone"),
      "ZOOMQ_ZK");
  env(app.add_option("--zk-session-ms", zk_session_ms,
                     "ZooKeeper session timeout: a dead leader is replaced after about this "
                     "long (docs/replication.md explains the choice)")
          ->check(CLI::Range(1000, 60000))
          ->capture_default_str(),
      "ZOOMQ_ZK_SESSION_MS");
  env(app.add_option("--admin-token-file", admin_token_file,
                     "Turns security on (docs/security.md): the file holds the bootstrap admin "
                     "token (every broker of a cluster gets the same one); then every request "
                     "needs a token and every operation a rule"),
      "ZOOMQ_ADMIN_TOKEN_FILE");
  env(app.add_option("--quota-requests-per-s", quota.requests_per_s,
                     "Security on: requests per second each principal may send to this broker "
                     "(0: no limit); beyond it 429 with Retry-After")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str(),
      "ZOOMQ_QUOTA_REQUESTS_PER_S");
  env(app.add_option("--quota-produce-bytes-per-s", quota.produce_bytes_per_s,
                     "Security on: produced bytes (request bodies) per second each principal "
                     "may send to this broker (0: no limit)")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str(),
      "ZOOMQ_QUOTA_PRODUCE_BYTES_PER_S");
  env(app.add_option("--zk-auth-file", zk_auth_file,
                     "File holding one line user:password: ZooKeeper digest credentials; the "
                     "broker logs in with them and creates every znode with ACLs, so that "
                     "ZooKeeper clients without them change nothing (docs/security.md)"),
      "ZOOMQ_ZK_AUTH_FILE");
  app.add_option("--fault-hold-commits-while", opts.fault_hold_commits_file,
                 "Testing only: while this file exists, the broker's commits wait (an fsync "
                 "that does not return; a kill -9 then loses what waits)")
      ->group("Testing");
  AddTlsFlags(app, &tls);
  env(app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
          ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
          ->capture_default_str(),
      "ZOOMQ_LOG_LEVEL");
  CLI11_PARSE(app, argc, argv);

  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "--listen must be HOST:PORT, got '%s'\n", listen.c_str());
    return 2;
  }
  hopts.host = listen.substr(0, colon);
  try {
    hopts.port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
    hopts.port = -1;
  }
  if (hopts.port < 0 || hopts.port > 65535) {
    std::fprintf(stderr, "--listen port must be 0-65535, got '%s'\n", listen.c_str());
    return 2;
  }
  std::string zk_digest;
  if (!zk_auth_file.empty()) {
    auto credentials = coordinator::ReadDigestCredentials(zk_auth_file);
    if (!credentials.ok()) {
      std::fprintf(stderr, "--zk-auth-file: %s\n", credentials.status().message().c_str());
      return 2;
    }
    zk_digest = std::move(credentials.value());
  }
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ broker=" + std::to_string(id) + " %v");
  spdlog::set_level(spdlog::level::from_str(log_level));
  if (!zk_digest.empty() && zk.empty()) spdlog::warn("--zk-auth-file ignored: no --zk, standalone");

  // Signals are taken by a dedicated thread (sigwait), never by a handler.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  auth::SecurityOptions sopts;
  sopts.broker_id = id;
  if (!admin_token_file.empty()) {
    std::string warning;
    auto token = auth::ReadAdminTokenFile(admin_token_file, &warning);
    if (!token.ok()) {
      spdlog::critical("{}", token.status().message());
      return 2;
    }
    if (!warning.empty()) spdlog::warn("{}", warning);
    sopts.admin_token = token.value();
  } else {
    spdlog::warn("security is off (no --admin-token-file): anyone who reaches {} may produce, "
                 "consume, delete topics and call the routes between brokers (docs/security.md)",
                 listen);
  }
  auth::SecurityManager security(sopts, SystemClock::Default());
  auth::Quotas quotas(quota);  // per principal: only with security on

  opts.broker_id = id;
  opts.max_waiters = static_cast<size_t>(max_waiters);
  opts.advertised_url =
      advertise.empty() ? (tls.on() ? "https://" : "http://") + listen : advertise;
  if (std::string error = CheckTlsFlags(tls, opts.advertised_url); !error.empty()) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  hopts.tls = tls.listener;
  // TLS to the other brokers, and this broker's credential (security on) on every call.
  net::ClientCredentials peer_credentials = PeerCredentials(tls);
  peer_credentials.token = security.OwnCredential();
  opts.standalone = zk.empty();
  auto svc = BrokerService::Open(opts, data_dir, sync == "full" ? SyncMode::kFull
                                                                : SyncMode::kNormal,
                                 SystemClock::Default());
  if (!svc.ok()) {
    spdlog::critical("cannot open data dir {}: {}", data_dir, svc.status().ToString());
    return 1;
  }
  BrokerService& service = *svc.value();
  http::HttpPeerTransport transport(peer_credentials);
  service.SetPeerTransport(&transport);
  http::HttpServer server(&service, hopts);
  server.SetSecurity(&security);
  server.SetQuotas(&quotas);
  if (security.enabled() && zk.empty()) {
    auto store = SqliteStateStore::Open(data_dir + "/security.db");
    Status st = store.ok() ? security.Start(std::move(store).value()) : store.status();
    if (!st.ok()) {
      spdlog::critical("cannot load the users and access rules: {}", st.ToString());
      return 1;
    }
  }
  // Bind before joining the cluster: a broker that cannot serve must never be advertised.
  if (Status st = server.Bind(); !st.ok()) {
    spdlog::critical("{}", st.ToString());
    return 1;
  }
  service.Start();
  // The frontend's and the node's calls to other brokers.
  http::HttpPeerClient peers(peer_credentials);
  std::unique_ptr<ClusterNode> node;
  std::unique_ptr<cluster::Frontend> frontend;
  if (!zk.empty()) {
    ClusterOptions co;
    co.zk_connect = zk;
    co.session_timeout_ms = zk_session_ms;
    co.zk_digest = zk_digest;
    co.broker_id = id;
    co.url = opts.advertised_url;
    node = std::make_unique<ClusterNode>(&service, &peers, co);
    if (Status st = node->Start(); !st.ok()) {
      // The one mistake the ZooKeeper error cannot name: credentials that do not open the tree.
      const char* hint =
          !coordinator::IsNoAuth(st) ? ""
          : zk_digest.empty()
              ? " (the znodes are locked: give the cluster's --zk-auth-file)"
              : " (the znodes are locked with other credentials than --zk-auth-file's)";
      spdlog::critical("cannot join the cluster at {}: {}{}", zk, st.ToString(), hint);
      service.Stop();
      return 1;
    }
    if (security.enabled()) {
      Status st = security.Start(std::make_unique<coordinator::ZkStateStore>(node->session()));
      if (!st.ok()) {
        spdlog::critical("cannot load the users and access rules from ZooKeeper: {}",
                         st.ToString());
        node->Stop();
        service.Stop();
        return 1;
      }
    }
    frontend = std::make_unique<cluster::Frontend>(service, *node, peers);
    server.SetFrontend(frontend.get(), &peers);
  }
  std::thread signals([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("received {}, stopping: answering in-flight requests", strsignal(sig));
    security.Stop();  // requests keep the last users and rules
    if (node) node->Stop();  // leaderships move to other brokers first
    service.Stop();  // waiters answer now; the store commits what is queued and closes
    server.Stop();
  });
  spdlog::info("serving on {}:{} data_dir={} sync={} ({})", hopts.host, server.port(), data_dir,
               sync, zk.empty() ? "standalone" : "cluster");
  LogTls(tls);
  server.Serve();
  signals.join();
  spdlog::info("stopped cleanly");
  return 0;
}
