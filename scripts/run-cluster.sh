#!/usr/bin/env bash
# A local cluster for development: Debian's redis-server on loopback and two
# (or --nodes N) controller nodes sharing its call directory, each with its own
# workers, in the foreground; Ctrl-C stops them all (nodes first, then Redis).
#
#   bash scripts/run-cluster.sh [--nodes N]
#
# node i (1-based) listens on http://127.0.0.1:$((BASE_PORT + i - 1)) (BASE_PORT
# default 3000) with NODE_ID node<i>, and its WebRTC ports are its share of
# 40000-41000; Redis listens on 127.0.0.1:${REDIS_PORT:-6390} with its data in a
# temporary directory (no persistence). Every node runs like `npm run dev`
# (JWT_SECRET dev-secret-change-me, RTC_DEV_ROUTES=1, readable logs, each line
# prefixed with [node<i>]); the demo page of any node joins any call:
#   http://127.0.0.1:3000/?callId=demo&userId=alice   and
#   http://127.0.0.1:3001/?callId=demo&userId=bob
# Other variables (RTC_WORKERS, CLUSTER_NODE_TTL_MS, CLUSTER_NODE_CAPACITY,
# LOG_LEVEL, ...) are passed through to every node.
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=2
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="${2:?--nodes needs a number}"; shift 2 ;;
    *) echo "usage: run-cluster.sh [--nodes N]" >&2; exit 2 ;;
  esac
done
case "$nodes" in ''|*[!0-9]*) echo "--nodes must be a number" >&2; exit 2 ;; esac
[ "$nodes" -ge 1 ] && [ "$nodes" -le 10 ] || { echo "--nodes must be 1..10" >&2; exit 2; }
redis_port="${REDIS_PORT:-6390}"
base_port="${BASE_PORT:-3000}"

bash scripts/setup.sh
make -j"$(nproc)" worker
(cd node-controller && npm run build --silent && node demo/build.mjs)

if (exec 3<>"/dev/tcp/127.0.0.1/$redis_port") 2>/dev/null; then
  echo "run-cluster: 127.0.0.1:$redis_port is in use (set REDIS_PORT)" >&2
  exit 1
fi
tmp="$(mktemp -d -t sfu-cluster-XXXXXX)"
pids=()
redis_pid=""
cleanup() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$redis_pid" ]; then kill -TERM "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# Redis runs in its own session: a Ctrl-C reaches the nodes (they leave the
# cluster gracefully), and Redis is stopped after them.
trap 'exit 130' INT TERM

setsid redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp" --save '' --appendonly no \
  --loglevel warning --logfile '' > >(sed -u 's/^/[redis] /') 2>&1 &
redis_pid=$!
for _ in $(seq 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || { echo "run-cluster: redis-server did not start" >&2; exit 1; }
echo "[cluster] redis on redis://127.0.0.1:$redis_port"

span=$(( 1000 / nodes ))
for i in $(seq 1 "$nodes"); do
  port=$(( base_port + i - 1 ))
  min=$(( 40000 + (i - 1) * span ))
  max=$(( min + span - 1 ))
  (
    cd node-controller
    exec env REDIS_URL="redis://127.0.0.1:$redis_port" NODE_ID="node$i" HOST=127.0.0.1 PORT="$port" \
      RTC_MIN_PORT="$min" RTC_MAX_PORT="$max" RTC_DEV_ROUTES=1 LOG_FORMAT="${LOG_FORMAT:-pretty}" \
      JWT_SECRET="${JWT_SECRET:-dev-secret-change-me}" LOG_LEVEL="${LOG_LEVEL:-info}" \
      node dist/src/server.js
  ) > >(sed -u "s/^/[node$i] /") 2>&1 &
  pids+=($!)
  echo "[cluster] node$i on http://127.0.0.1:$port (RTC ports $min-$max)"
done
echo "[cluster] demo: http://127.0.0.1:$base_port/?callId=demo&userId=alice and http://127.0.0.1:$(( base_port + 1 ))/?callId=demo&userId=bob; Ctrl-C stops"
# Until any node exits (or Ctrl-C).
wait -n "${pids[@]}"
