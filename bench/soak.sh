#!/usr/bin/env bash
# Soak test (issue 20 item 13): does throng's memory stay flat over a long run?
#
# 1 hour at 2,000 requests/s with 1,000 VUs (POST /api/v1/ingest) against `throng
# serve-demo` with stalls and errors on. Samples throng's resident memory (VmRSS) every minute, and reports it at
# 5 minutes and at the end (60 minutes), the growth between them, a linear projection to
# 24 hours, and whether the server's request count equals throng's http_reqs and every
# output file was written. Not part of CI: it takes an hour.
#
# Shorter runs, to check the script itself (the early sample moves to a third of the run):
#   SOAK_MINUTES=3 bench/soak.sh
#
# Knobs (environment): SOAK_MINUTES (60), SOAK_EARLY_MINUTES (5, or MINUTES/3 when the run
# is shorter than 15 min), SOAK_RATE (2000), SOAK_VUS (1000), SOAK_PORT (18080),
# SOAK_STALL (1s/30s), SOAK_ERROR_RATE (0.02), SOAK_LATENCY (5ms..25ms),
# SOAK_OUT (target/soak), THRONG (target/release/throng; built unless SOAK_NO_BUILD=1).
# Exit status: 0 when the counts agree, every file was written and RSS at the end is within
# 5 % of RSS at the early sample; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${SOAK_MINUTES:-60}
if [ -n "${SOAK_EARLY_MINUTES:-}" ]; then
    EARLY_S=$(awk -v m="$SOAK_EARLY_MINUTES" 'BEGIN { printf "%d", m * 60 }')
elif [ "$MINUTES" -ge 15 ]; then
    EARLY_S=300
else
    EARLY_S=$((MINUTES * 60 / 3))
fi
RATE=${SOAK_RATE:-2000}
VUS=${SOAK_VUS:-1000}
PORT=${SOAK_PORT:-18080}
STALL=${SOAK_STALL:-1s/30s}
ERROR_RATE=${SOAK_ERROR_RATE:-0.02}
LATENCY=${SOAK_LATENCY:-5ms..25ms}
OUT=${SOAK_OUT:-target/soak}
THRONG=${THRONG:-target/release/throng}
TOTAL_S=$((MINUTES * 60))
# the late sample: just before the run stops issuing
LATE_S=$((TOTAL_S - 5))

if [ "${SOAK_NO_BUILD:-0}" != 1 ]; then
    cargo build --release -p throng >&2
fi
rm -rf "$OUT"
mkdir -p "$OUT"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

"$THRONG" serve-demo --addr "127.0.0.1:$PORT" --latency "$LATENCY" \
    --stall "$STALL" --error-rate "$ERROR_RATE" >"$OUT/serve-demo.log" 2>&1 &
DEMO=$!
trap 'kill "$DEMO" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then break; fi
    sleep 0.1
done
BASE_COUNT=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '$1 == "demo_requests_received_total" { print $2 }')

echo "soak: ${MINUTES} min at ${RATE} req/s, ${VUS} VUs, serve-demo --stall $STALL --error-rate $ERROR_RATE --latency $LATENCY" >&2
START=$(date +%s)
"$THRONG" quick -z "${MINUTES}m" -q "$RATE" -c "$VUS" --timeout 10s --quiet \
    --no-thresholds -m POST -H 'X-API-KEY: test-api-key' \
    -d '{"user_id":{{random_int(1,10000)}},"content":"soak {{uuid}}"}' \
    --results "$OUT/results.json" --summary-export "$OUT/summary.json" \
    --html "$OUT/report.html" --md "$OUT/report.md" \
    "http://127.0.0.1:$PORT/api/v1/ingest" >"$OUT/summary.txt" 2>"$OUT/throng.log" &
T=$!

echo "elapsed_s,rss_kb" >"$OUT/rss.csv"
EARLY_KB=0
LATE_KB=0
while kill -0 "$T" 2>/dev/null; do
    now=$(($(date +%s) - START))
    kb=$(rss_kb "$T")
    if [ "$kb" != 0 ]; then
        echo "$now,$kb" >>"$OUT/rss.csv"
        if [ "$EARLY_KB" = 0 ] && [ "$now" -ge "$EARLY_S" ]; then EARLY_KB=$kb; EARLY_AT=$now; fi
        if [ "$now" -le "$LATE_S" ]; then LATE_KB=$kb; LATE_AT=$now; fi
    fi
    # every 60 s, and close to the early and late sample points
    next=$((now + 60))
    for mark in "$EARLY_S" "$LATE_S"; do
        if [ "$mark" -gt "$now" ] && [ "$mark" -lt "$next" ]; then next=$mark; fi
    done
    while [ $(($(date +%s) - START)) -lt "$next" ] && kill -0 "$T" 2>/dev/null; do sleep 1; done
done
set +e
wait "$T"
RC=$?
set -e

SERVER=$(curl -fsS "http://127.0.0.1:$PORT/metrics" | awk '$1 == "demo_requests_received_total" { print $2 }')
SERVER=$((SERVER - BASE_COUNT))
read -r HTTP_REQS FAILED RESULTS_BYTES POINTS <<<"$(python3 - "$OUT/results.json" <<'EOF'
import json, os, sys
p = sys.argv[1]
r = json.load(open(p))
m = {x["name"]: x["values"] for x in r["metrics"]}
print(int(m["http_reqs"]["count"]), int(m.get("http_req_failed", {}).get("passes", 0)),
      os.path.getsize(p), len(r["seconds"]))
EOF
)"

ok=1
missing=""
for f in results.json summary.json report.html report.md; do
    [ -s "$OUT/$f" ] || { missing="$missing $f"; ok=0; }
done
[ "$SERVER" = "$HTTP_REQS" ] || ok=0
GROWTH=$(awk -v a="$EARLY_KB" -v b="$LATE_KB" 'BEGIN { if (a > 0) printf "%.2f", (b - a) * 100 / a; else print "nan" }')
within=$(awk -v g="$GROWTH" 'BEGIN { print (g != "nan" && g <= 5 && g >= -5) ? 1 : 0 }')
[ "$within" = 1 ] || ok=0
# linear projection of the growth from the early sample to 24 h
PROJ=$(awk -v a="$EARLY_KB" -v b="$LATE_KB" -v t0="${EARLY_AT:-0}" -v t1="${LATE_AT:-1}" \
    'BEGIN { if (t1 > t0) printf "%.1f", (b + (b - a) / (t1 - t0) * (86400 - t1)) / 1024; else print "nan" }')

cat <<EOF | tee "$OUT/figures.txt"
throng exit code:        $RC
duration:                ${MINUTES} min at ${RATE} req/s, ${VUS} VUs
RSS at ${EARLY_AT:-?} s:          $((EARLY_KB / 1024)) MB ($EARLY_KB kB)
RSS at ${LATE_AT:-?} s:         $((LATE_KB / 1024)) MB ($LATE_KB kB)
RSS growth:              ${GROWTH} % (limit 5 %)
RSS projected to 24 h:   ${PROJ} MB (linear)
server count:            $SERVER
http_reqs:               $HTTP_REQS (failed: $FAILED)
counts agree:            $([ "$SERVER" = "$HTTP_REQS" ] && echo yes || echo NO)
results.json:            $RESULTS_BYTES bytes, $POINTS points in seconds[]
files missing:           ${missing:-none}
verdict:                 $([ "$ok" = 1 ] && echo PASS || echo FAIL)
EOF
[ "$ok" = 1 ]
