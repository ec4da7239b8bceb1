#!/usr/bin/env bash
# Side-by-side benchmark: nginx pinned to CPU 1, each load generator pinned to CPU 0,
# 50 keep-alive connections, GET of a 2-byte body, 8 s each. Prints a Markdown table of
# requests per generator CPU-second (the figure that survives a noisy shared machine),
# ratios to wrk, peak RSS and latency; writes it to bench/results/latest.md.
#   bench/run.sh            # everything (about 5 minutes after installs)
#   DURATION=4s bench/run.sh
#   bench/run.sh --write-docs   # also refresh docs/performance.md
#   ROWS="h1 h2 tls conns accuracy" bench/run.sh   # only some groups of rows (default: all)
#   REPEAT=3 bench/run.sh   # each group's tools in turn, three times: medians and the
#                           # median of the per-round ratios (default 3; 1 for a quick look)
#   SKIP_INSTALL=1 bench/run.sh   # use the tools already installed (rows of missing ones: n/a)
# Groups: h1 (HTTP/1.1 keep-alive: throng, the plan, wrk, ab, h2load --h1, hey, oha, k6,
# locust, sleeping VUs), h2 (h2c: throng --http2 vs h2load -m 10), tls (keep-alive vs wrk,
# a new connection per request vs ab without -k), conns (1,000 connections vs wrk, 10,000
# vs h2load), accuracy (once: latency against the demo target's 20 ms delay beside the
# target's own figure, and the corrected p99 under a 1 s stall beside the schedule's).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8s}
CONNS=${CONNS:-50}
URL=http://127.0.0.1:18090/
H2_URL=http://127.0.0.1:18091/
TLS_URL=https://127.0.0.1:18443/
ROWS=${ROWS:-h1 h2 tls conns accuracy}
REPEAT=${REPEAT:-3}
has() { [[ " $ROWS " == *" $1 "* ]]; }
OUT=$(mktemp -d /tmp/throng-bench.XXXXXX)
GEN_CPU=${GEN_CPU:-0}
TARGET_CPU=${TARGET_CPU:-1}
ulimit -n 65536 2>/dev/null || true

[ -n "${SKIP_INSTALL:-}" ] || bench/install.sh
cargo build --release -q -p throng
THRONG=$PWD/target/release/throng

# the target
mkdir -p "$OUT/nginx"
cp bench/nginx.conf "$OUT/nginx/nginx.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$OUT/nginx/key.pem" -out "$OUT/nginx/cert.pem" 2>/dev/null
taskset -c "$TARGET_CPU" nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
DEMO=
trap 'kill $NGINX $DEMO 2>/dev/null || true' EXIT
up() { for _ in $(seq 50); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done; return 1; }
up "$URL" || echo "== nginx did not answer on $URL" >&2

# run NAME CMD...: pinned to the generator CPU, CPU seconds and peak RSS from GNU time;
# the files are NAME.ROUND.* (ROUND is $R)
run() {
  local name=$1.$R; shift
  command -v "$1" >/dev/null || { echo "== $name: $1 not installed" >&2; return 0; }
  echo "== $name: $*" >&2
  taskset -c "$GEN_CPU" /usr/bin/time -f "%U %S %M" -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>&1 || true
}

# -n for ab: more than it can send in the time, so -t ends it
SECS=${DURATION%s}
BIG=100000000
for R in $(seq "$REPEAT"); do
if has h1; then
  run throng "$THRONG" quick -z "$DURATION" -c "$CONNS" --quiet --no-summary --results "$OUT/throng.$R.json" "$URL"
  run throng-plan "$THRONG" run bench/plan.yaml --quiet --no-summary --results "$OUT/throng-plan.$R.json"
  run wrk wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$URL"
  run ab ab -q -k -c "$CONNS" -t "$SECS" -n "$BIG" "$URL"
  run h2load-h1 h2load --h1 -t1 -c "$CONNS" -D "$SECS" "$URL"
  if [ "$R" = 1 ]; then
  run hey hey -z "$DURATION" -c "$CONNS" "$URL"
  if command -v oha >/dev/null; then
    run oha oha -z "$DURATION" -c "$CONNS" --no-tui --output-format json "$URL"
  fi
  if command -v k6 >/dev/null; then
    run k6 env URL="$URL" VUS="$CONNS" DURATION="$DURATION" k6 run -q --summary-export "$OUT/k6.$R.json" bench/k6.js
  fi
  if command -v locust >/dev/null; then
    run locust locust -f bench/locustfile.py --headless -u "$CONNS" -r "$CONNS" -t "$DURATION" --host "${URL%/}" --csv "$OUT/locust.$R" --only-summary
  fi
  # memory per VU: 10,000 sleeping throng VUs vs 1,000 sleeping k6 VUs
  run throng-10k "$THRONG" run bench/sleepers.yaml --quiet --no-summary --results "$OUT/throng-10k.$R.json"
  if command -v k6 >/dev/null; then
    run k6-1k env URL="$URL" VUS=1000 DURATION=15s SLEEP=1 k6 run -q --summary-export "$OUT/k6-1k.$R.json" bench/k6.js
  fi
  fi
fi
if has h2; then
  # h2c with prior knowledge, like for like: 50 connections x 10 streams each (throng's
  # 500 VUs share the 50 connections, one stream a VU)
  run throng-h2 "$THRONG" quick --http2 -z "$DURATION" -c "$CONNS" --streams 10 --quiet --no-summary --results "$OUT/throng-h2.$R.json" "$H2_URL"
  run h2load-h2 h2load -t1 -c "$CONNS" -m 10 -D "$SECS" "$H2_URL"
fi
if has tls; then
  run throng-tls "$THRONG" quick --insecure -z "$DURATION" -c "$CONNS" --quiet --no-summary --results "$OUT/throng-tls.$R.json" "$TLS_URL"
  run wrk-tls wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$TLS_URL"
  # a new TCP connection and TLS handshake per request
  run throng-tls-new "$THRONG" quick --insecure --no-keepalive -z "$DURATION" -c "$CONNS" --quiet --no-summary --results "$OUT/throng-tls-new.$R.json" "$TLS_URL"
  run ab-tls-new ab -q -c "$CONNS" -t "$SECS" -n "$BIG" "$TLS_URL"
fi
if has conns; then
  run throng-1k "$THRONG" quick -z "$DURATION" -c 1000 --quiet --no-summary --results "$OUT/throng-1k.$R.json" "$URL"
  run wrk-1k wrk -t1 -c1000 -d"$DURATION" --latency "$URL"
  run throng-10kc "$THRONG" quick -z "$DURATION" -c 10000 --quiet --no-summary --results "$OUT/throng-10kc.$R.json" "$URL"
  run h2load-10kc h2load --h1 -t1 -c 10000 -D "$SECS" "$URL"
fi
done

# the demo target at ADDR with FLAGS, pinned to the target CPU; its /metrics before and
# after what follows are NAME.before.metrics and NAME.after.metrics (see demo_stop)
demo_start() {
  local name=$1 addr=$2; shift 2
  taskset -c "$TARGET_CPU" "$THRONG" serve-demo --addr "$addr" "$@" >"$OUT/$name.demo.log" 2>&1 &
  DEMO=$!
  if ! up "http://$addr/health"; then
    echo "== $name: the demo target did not start" >&2
    kill "$DEMO" 2>/dev/null || true
    wait "$DEMO" 2>/dev/null || true
    DEMO=
    return 1
  fi
  curl -sf "http://$addr/metrics" >"$OUT/$name.before.metrics" || true
}
demo_stop() {
  curl -sf "http://$2/metrics" >"$OUT/$1.after.metrics" || true
  kill "$DEMO" 2>/dev/null || true
  wait "$DEMO" 2>/dev/null || true
  DEMO=
}
if has accuracy; then
  R=1
  # a fixed 20 ms on an API route (ingest: a JSON event and the demo's API key, answered
  # 202): throng's http_req_duration beside the target's own figure (the time its
  # handler took, from its histogram's sum and count)
  if demo_start delay 127.0.0.1:18095 --latency 20ms; then
    run throng-delay "$THRONG" quick -z "$DURATION" -c 10 -m POST -H 'X-API-KEY: test-api-key' -d '{"event":"bench"}' --quiet --no-summary --results "$OUT/throng-delay.1.json" http://127.0.0.1:18095/api/v1/ingest
    demo_stop delay 127.0.0.1:18095
  fi
  # every response held from 9 s to 10 s of the target's life, 200 requests a second for
  # 11 s (10 VUs, late sends queued): the corrected p99 beside the schedule's own
  if demo_start stall 127.0.0.1:18096 --stall 1s/10s; then
    run throng-stall "$THRONG" quick -q 200 -c 10 -z 11s --quiet --no-summary --results "$OUT/throng-stall.1.json" http://127.0.0.1:18096/health
    demo_stop stall 127.0.0.1:18096
  fi
fi

mkdir -p bench/results
python3 bench/report.py "$OUT" "$DURATION" "$CONNS" "$REPEAT" | tee bench/results/latest.md
if [ "${1:-}" = "--write-docs" ]; then
  python3 bench/report.py "$OUT" "$DURATION" "$CONNS" "$REPEAT" --doc > docs/performance.md
  echo "wrote docs/performance.md" >&2
fi
