# Sourced by the side-by-side benchmarks (issue 13): throwaway peers on loopback, each in a
# directory of its own, stopped by what started them (never by name). Facts and sources:
# docs/peers.md. Needs `scripts/deps.sh compare` (redis-server, redis-tools, rabbitmq-server).
#
#   peer_redis_start DIR PORT     Redis 7, AOF on with fsync before every reply (appendfsync
#                                 always), no RDB, no AOF rewrite; ready when PING answers
#   peer_redis_stop DIR
#   peer_rabbit_start DIR N PORT  N RabbitMQ nodes r1..rN@localhost, AMQP on 127.0.0.1:PORT+i,
#                                 joined into one cluster when N > 1; ready when all are online
#   peer_rabbit_stop DIR          stops the nodes, then the epmd they started
#   peer_rabbit_pids DIR          the nodes' Erlang VMs
#   peer_rss_kb PID...            resident memory of processes, in KiB (summed)
# Every wait has a deadline; a start that fails prints the log's tail and returns 1.
# Measured here (2026-12-07): Redis ready in under 1 s; 3 RabbitMQ nodes started and joined in
# 26 s, 124-144 MiB resident each, stopped in 3 s.

peer_wait() {  # peer_wait SECONDS WHAT COMMAND...: runs COMMAND until it succeeds
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then echo "peers: $what not ready after $1 s" >&2; return 1; fi
    sleep 0.2
  done
}

peer_redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes \
    --appendfsync always --save '' --auto-aof-rewrite-percentage 0 --daemonize no \
    --logfile "$dir/redis.log" >/dev/null 2>&1 &
  echo $! > "$dir/redis.pid"
  echo "$port" > "$dir/redis.port"
  if ! peer_wait 30 "redis on port $port" redis-cli -p "$port" ping; then
    tail -20 "$dir/redis.log" >&2; return 1
  fi
}

peer_redis_stop() {
  local dir=$1 pid
  [ -f "$dir/redis.pid" ] || return 0
  pid=$(cat "$dir/redis.pid")
  kill -TERM "$pid" 2>/dev/null
  peer_wait 30 "redis (pid $pid) to stop" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
  rm -f "$dir/redis.pid"
}

# The environment of node I of the RabbitMQ nodes in DIR (AMQP port BASE+I, distribution port
# BASE+20000+I, all on 127.0.0.1; one HOME with one cookie for nodes and CLI calls).
peer_rabbit_env() {
  local dir=$1 i=$2 base=$3
  echo HOME="$dir/home" RABBITMQ_NODENAME="r$i@localhost" RABBITMQ_NODE_PORT=$((base + i)) \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=$((base + 20000 + i)) \
    RABBITMQ_MNESIA_BASE="$dir/r$i/mnesia" RABBITMQ_LOG_BASE="$dir/r$i/log" \
    RABBITMQ_CONFIG_FILE="$dir/r$i/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS= \
    RABBITMQ_CONF_ENV_FILE=/dev/null ERL_EPMD_ADDRESS=127.0.0.1
}

peer_rabbitctl() {  # peer_rabbitctl DIR TOOL NODE ARGS...: a CLI call (its own Erlang VM)
  local dir=$1 tool=$2 node=$3; shift 3
  env HOME="$dir/home" ERL_EPMD_ADDRESS=127.0.0.1 "/usr/lib/rabbitmq/bin/$tool" -q \
    -n "$node" "$@"
}

peer_rabbit_start() {
  local dir=$1 n=$2 base=$3 i
  mkdir -p "$dir/home"
  printf 'zoomqbench' > "$dir/home/.erlang.cookie" && chmod 400 "$dir/home/.erlang.cookie"
  echo "$n $base" > "$dir/rabbit.nodes"
  for i in $(seq 1 "$n"); do
    mkdir -p "$dir/r$i/mnesia" "$dir/r$i/log"
    # Three nodes on one machine: each may use a tenth of the memory, not 40 %.
    printf 'distribution.listener.interface = 127.0.0.1\nvm_memory_high_watermark.relative = 0.1\n' \
      > "$dir/r$i/rabbitmq.conf"
    # shellcheck disable=SC2046
    env $(peer_rabbit_env "$dir" "$i" "$base") /usr/lib/rabbitmq/bin/rabbitmq-server \
      > "$dir/r$i/out.log" 2>&1 &
    echo $! > "$dir/r$i/script.pid"
  done
  for i in $(seq 1 "$n"); do
    if ! peer_wait 120 "rabbitmq node r$i" peer_rabbitctl "$dir" rabbitmq-diagnostics \
         "r$i@localhost" ping ||
       ! peer_rabbitctl "$dir" rabbitmqctl "r$i@localhost" await_startup --timeout 120; then
      tail -20 "$dir/r$i/out.log" >&2; return 1
    fi
  done
  local log="$dir/cluster.log"
  for i in $(seq 2 "$n"); do
    { peer_rabbitctl "$dir" rabbitmqctl "r$i@localhost" stop_app &&
        peer_rabbitctl "$dir" rabbitmqctl "r$i@localhost" reset &&
        peer_rabbitctl "$dir" rabbitmqctl "r$i@localhost" join_cluster r1@localhost &&
        peer_rabbitctl "$dir" rabbitmqctl "r$i@localhost" start_app; } >> "$log" 2>&1 ||
      { echo "peers: r$i did not join r1@localhost (see $log)" >&2; return 1; }
  done
  if [ "$n" -gt 1 ]; then
    peer_rabbitctl "$dir" rabbitmqctl r1@localhost await_online_nodes "$n" --timeout 120 \
      >> "$log" 2>&1 || { echo "peers: the cluster did not form (see $log)" >&2; return 1; }
  fi
}

peer_rabbit_pids() {  # the Erlang VMs (beam.smp) of the nodes in DIR, for peer_rss_kb
  local dir=$1 f
  for f in "$dir"/r*/script.pid; do [ -f "$f" ] && pgrep -P "$(cat "$f")" beam.smp; done
}

peer_rabbit_stop() {
  local dir=$1 i pid
  [ -f "$dir/rabbit.nodes" ] || return 0
  local n base; read -r n base < "$dir/rabbit.nodes"
  for i in $(seq 1 "$n"); do
    [ -f "$dir/r$i/script.pid" ] && kill -TERM "$(cat "$dir/r$i/script.pid")" 2>/dev/null
  done
  for i in $(seq 1 "$n"); do
    [ -f "$dir/r$i/script.pid" ] || continue
    pid=$(cat "$dir/r$i/script.pid")
    peer_wait 60 "rabbitmq node r$i to stop" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
    rm -f "$dir/r$i/script.pid"
  done
  env ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
  rm -f "$dir/rabbit.nodes"
}

peer_rss_kb() {
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
