#!/usr/bin/env bash
# Protocol benchmarks (issue 13): throng's sql:, redis: and grpc: steps against the native
# load generator of each server, on the same private server. Targets (PostgreSQL, Redis,
# throng serve-demo) are pinned to CPU 1, each generator to CPU 0; 50 connections, a few
# seconds each. The figure is operations per generator CPU-second (user+sys from GNU time,
# the one that survives a noisy shared machine) and its ratio to the peer.
#   1. SQL   `throng quick --sql "SELECT 1"`  vs  `pgbench -n -f select1.sql -c 50 -j 1`
#   2. Redis `throng run bench/redis.yaml`    vs  `redis-benchmark -c 50 -t get -P 1`
#   3. gRPC  `throng run bench/grpc.yaml`     vs  `h2load -c 50 -m 1 -d frame.bin` (if installed)
# PostgreSQL and Redis are private instances in a temp folder on free loopback ports,
# stopped (and the folder removed) on exit. Writes bench/results/protocols.md.
#   bench/protocols.sh
#   DURATION=3 CONNS=50 SKIP_BUILD=1 KEEP=1 bench/protocols.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}          # seconds per run
CONNS=${CONNS:-50}
GEN_CPU=${GEN_CPU:-0}
TARGET_CPU=${TARGET_CPU:-1}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
OUT=$(mktemp -d /tmp/throng-protocols.XXXXXX)
chmod 755 "$OUT"
ulimit -n 65536 2>/dev/null || true

if [ -z "${SKIP_BUILD:-}" ]; then
  CARGO_INCREMENTAL=0 cargo build --release -q -p throng
fi
THRONG=$PWD/target/release/throng

PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then
    rm -rf "$OUT/pg/data" "$OUT/redis"
    echo "outputs kept in $OUT" >&2
  else
    rm -rf "$OUT"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run NAME CMD...: pinned to the generator CPU, CPU seconds and peak RSS from GNU time
run() {
  local name=$1; shift
  echo "== $name: $*" >&2
  python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "$@" >"$OUT/$name.cmd"
  taskset -c "$GEN_CPU" /usr/bin/time -f "%U %S %M" -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>&1 || true
}

# ---- PostgreSQL: initdb + postgres as an unprivileged user (PostgreSQL refuses root)
as_pg=()
if [ "$(id -u)" = 0 ]; then
  PG_USER=postgres
  id -u postgres >/dev/null 2>&1 || PG_USER=nobody
  as_pg=(setpriv --reuid="$PG_USER" --regid="$(id -g "$PG_USER")" --init-groups --)
fi
mkdir -p "$OUT/pg"
[ "$(id -u)" = 0 ] && chown "$PG_USER" "$OUT/pg"
(cd "$OUT/pg" && "${as_pg[@]}" "$PG_BIN/initdb" -U bench -A trust -E UTF8 --no-sync -D "$OUT/pg/data" >"$OUT/pg/initdb.log" 2>&1) \
  || { tail -20 "$OUT/pg/initdb.log" >&2; exit 1; }
PG_PORT=$(free_port)
(cd "$OUT/pg" && exec taskset -c "$TARGET_CPU" "${as_pg[@]}" "$PG_BIN/postgres" -D "$OUT/pg/data" -k "$OUT/pg" \
  -h 127.0.0.1 -p "$PG_PORT" -c fsync=off -c synchronous_commit=off \
  -c max_connections=$((CONNS + 20)) >"$OUT/pg/postgres.log" 2>&1) &
PIDS+=($!)
for _ in $(seq 300); do "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.1; done
"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || { tail -20 "$OUT/pg/postgres.log" >&2; exit 1; }
PG_URL="postgres://bench@127.0.0.1:$PG_PORT/postgres"

# ---- Redis
mkdir -p "$OUT/redis"
REDIS_PORT=$(free_port)
taskset -c "$TARGET_CPU" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize no --dir "$OUT/redis" --maxclients $((CONNS + 100)) >"$OUT/redis/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" set k v >/dev/null

# ---- gRPC: throng serve-demo (h2c on its HTTP port)
GRPC_PORT=$(free_port)
taskset -c "$TARGET_CPU" "$THRONG" serve-demo --addr "127.0.0.1:$GRPC_PORT" >"$OUT/serve-demo.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$GRPC_PORT/" && break; sleep 0.1; done

echo "PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, serve-demo :$GRPC_PORT (CPU $TARGET_CPU); generators on CPU $GEN_CPU; ${DURATION}s x $CONNS connections; outputs in $OUT" >&2

# ---- 1. SQL: SELECT 1
echo "SELECT 1;" >"$OUT/select1.sql"
run throng-sql "$THRONG" quick --sql "SELECT 1" "$PG_URL" -c "$CONNS" -z "${DURATION}s" \
  --quiet --no-summary --results "$OUT/throng-sql.json"
run pgbench "$PG_BIN/pgbench" -n -f "$OUT/select1.sql" -c "$CONNS" -j 1 -T "$DURATION" \
  -h 127.0.0.1 -p "$PG_PORT" -U bench postgres

# ---- 2. Redis: GET
run throng-redis "$THRONG" run bench/redis.yaml -e "REDIS_URL=redis://127.0.0.1:$REDIS_PORT" \
  --vus "$CONNS" --duration "${DURATION}s" --quiet --no-summary --results "$OUT/throng-redis.json"
# the same number of GETs as throng did (at least 100,000)
REDIS_N=${REDIS_N:-$(python3 - "$OUT/throng-redis.json" <<'EOF'
import json, sys
try:
    m = {x["name"]: x["values"] for x in json.load(open(sys.argv[1]))["metrics"]}
    n = int(m["redis_commands"]["count"])
except Exception:
    n = 0
print(max(n, 100000))
EOF
)}
echo "$REDIS_N" >"$OUT/redis-benchmark.n"
run redis-benchmark redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$CONNS" -n "$REDIS_N" -t get -P 1 --csv

# ---- 3. gRPC unary: events.EventService/Publish
run throng-grpc "$THRONG" run bench/grpc.yaml -e "GRPC_TARGET=http://127.0.0.1:$GRPC_PORT" \
  --vus "$CONNS" --duration "${DURATION}s" --quiet --no-summary --results "$OUT/throng-grpc.json"
if command -v h2load >/dev/null; then
  # the same Event {id: "ev-1", kind: "click", payload: "hi"} as one gRPC frame:
  # flag 0 (uncompressed), a 4-byte big-endian length, the protobuf message
  python3 - "$OUT/publish.bin" <<'EOF'
import struct, sys
def field(n, b): return bytes([n << 3 | 2, len(b)]) + b
msg = field(1, b"ev-1") + field(2, b"click") + field(3, b"hi")
open(sys.argv[1], "wb").write(b"\0" + struct.pack(">I", len(msg)) + msg)
EOF
  GRPC_URL="http://127.0.0.1:$GRPC_PORT/events.EventService/Publish"
  # one call first, to see the trailers: grpc-status 0 means the frame is a valid call
  if command -v nghttp >/dev/null; then
    nghttp -v -d "$OUT/publish.bin" -H 'content-type: application/grpc' -H 'te: trailers' \
      "$GRPC_URL" >"$OUT/nghttp-check.out" 2>&1 || true
  fi
  run h2load h2load -c "$CONNS" -m 1 -t 1 -D "$DURATION" -d "$OUT/publish.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' "$GRPC_URL"
fi

mkdir -p bench/results
python3 bench/protocols_report.py "$OUT" "$DURATION" "$CONNS" | tee bench/results/protocols.md
