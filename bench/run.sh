#!/usr/bin/env bash
# Side-by-side benchmark: nginx pinned to CPU 1, each load generator pinned to CPU 0,
# 50 keep-alive connections, GET of a 2-byte body, 8 s each. Prints a Markdown table of
# requests per generator CPU-second (the figure that survives a noisy shared machine),
# ratios to wrk, peak RSS and latency; writes it to bench/results/latest.md.
#   bench/run.sh            # everything (about 5 minutes after installs)
#   DURATION=4s bench/run.sh
#   bench/run.sh --write-docs   # also refresh docs/performance.md
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8s}
CONNS=${CONNS:-50}
URL=http://127.0.0.1:18090/
OUT=$(mktemp -d /tmp/throng-bench.XXXXXX)
GEN_CPU=${GEN_CPU:-0}
TARGET_CPU=${TARGET_CPU:-1}
ulimit -n 65536 2>/dev/null || true

bench/install.sh
cargo build --release -q
THRONG=$PWD/target/release/throng

# the target
mkdir -p "$OUT/nginx"
cp bench/nginx.conf "$OUT/nginx/nginx.conf"
taskset -c "$TARGET_CPU" nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
trap 'kill $NGINX 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$URL" >/dev/null && break; sleep 0.1; done

# run NAME CMD...: pinned to the generator CPU, CPU seconds and peak RSS from GNU time
run() {
  local name=$1; shift
  echo "== $name: $*" >&2
  taskset -c "$GEN_CPU" /usr/bin/time -f "%U %S %M" -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>&1 || true
}

run throng "$THRONG" quick -z "$DURATION" -c "$CONNS" --quiet --no-summary --results "$OUT/throng.json" "$URL"
run throng-plan "$THRONG" run bench/plan.yaml --quiet --no-summary --results "$OUT/throng-plan.json"
run wrk wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$URL"
run hey hey -z "$DURATION" -c "$CONNS" "$URL"
if command -v oha >/dev/null; then
  run oha oha -z "$DURATION" -c "$CONNS" --no-tui --output-format json "$URL"
fi
if command -v k6 >/dev/null; then
  run k6 env URL="$URL" VUS="$CONNS" DURATION="$DURATION" k6 run -q --summary-export "$OUT/k6.json" bench/k6.js
fi
if command -v locust >/dev/null; then
  run locust locust -f bench/locustfile.py --headless -u "$CONNS" -r "$CONNS" -t "$DURATION" --host "${URL%/}" --csv "$OUT/locust" --only-summary
fi
# memory per VU: 10,000 sleeping throng VUs vs 1,000 sleeping k6 VUs
run throng-10k "$THRONG" run bench/sleepers.yaml --quiet --no-summary --results "$OUT/throng-10k.json"
if command -v k6 >/dev/null; then
  run k6-1k env URL="$URL" VUS=1000 DURATION=15s SLEEP=1 k6 run -q --summary-export "$OUT/k6-1k.json" bench/k6.js
fi

mkdir -p bench/results
python3 bench/report.py "$OUT" "$DURATION" "$CONNS" | tee bench/results/latest.md
if [ "${1:-}" = "--write-docs" ]; then
  python3 bench/report.py "$OUT" "$DURATION" "$CONNS" --doc > docs/performance.md
  echo "wrote docs/performance.md" >&2
fi
