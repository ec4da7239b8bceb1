#!/usr/bin/env bash
# Instructions per request, repeatable on a noisy machine: runs a command under callgrind at
# two request counts and divides the difference, so start-up and end-of-run work cancel out.
#   bench/instr.sh                          # throng quick -c 50 against nginx on :18090
#   bench/instr.sh plan                     # bench/plan.yaml as 10,000 / 30,000 iterations
#   TOP=25 bench/instr.sh                   # also the top functions (inclusive) of the larger run
#   FN='FlowVu::run_steps::\{\{closure\}\} \[' bench/instr.sh plan
#                                           # also the inclusive instructions per request of the
#                                           # first function matching FN (an ERE): steadier than
#                                           # the total, which includes once-a-second work
# Needs valgrind and the bench nginx (bench/run.sh starts one; or see bench/notes.md).
set -euo pipefail
cd "$(dirname "$0")/.."
THRONG=${THRONG:-target/release/throng}
URL=${URL:-http://127.0.0.1:18090/}
LO=${LO:-10000}
HI=${HI:-30000}
OUT=$(mktemp -d /tmp/throng-instr.XXXXXX)
what=${1:-quick}
cmd() {
  case $what in
    quick) echo "$THRONG quick -n $1 -c 50 --quiet --no-summary $URL" ;;
    plan) sed -e "s/executor: constant-vus/executor: shared-iterations/" \
              -e "s/duration: 8s/iterations: $1/" bench/plan.yaml >"$OUT/plan.$1.yaml"
          echo "$THRONG run $OUT/plan.$1.yaml --quiet --no-summary --results $OUT/r.$1.json" ;;
    *) echo "unknown: $what (quick or plan)" >&2; exit 2 ;;
  esac
}
ir() {
  # shellcheck disable=SC2046
  valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$1" $(cmd "$1") >/dev/null 2>"$OUT/vg.$1"
  grep -o 'Collected : [0-9]*' "$OUT/vg.$1" | grep -o '[0-9]*$'
}
# the VUs run on tokio's worker threads; the once-a-second work (the time series, the
# live aggregate) runs on the main thread and grows with the run's wall time, which
# callgrind stretches: the workers' figure is the per-request cost without it
workers() {
  callgrind_annotate --inclusive=yes "$OUT/cg.$1" 2>/dev/null |
    grep -E 'multi_thread::worker::run \[' | head -1 | awk '{gsub(",","",$1); print $1}'
}
a=$(ir "$LO"); b=$(ir "$HI")
wa=$(workers "$LO"); wb=$(workers "$HI")
echo "$what: $(( (wb - wa) / (HI - LO) )) instructions per request on the VU threads, $(( (b - a) / (HI - LO) )) in all (callgrind, $LO vs $HI requests)"
if [ -n "${FN:-}" ]; then
  fn_ir() { callgrind_annotate --inclusive=yes "$OUT/cg.$1" 2>/dev/null | grep -E "$FN" | head -1 | awk '{gsub(",", "", $1); print $1}'; }
  fa=$(fn_ir "$LO"); fb=$(fn_ir "$HI")
  echo "$what: $(( (fb - fa) / (HI - LO) )) instructions per request in $FN (inclusive)"
fi
if [ -n "${TOP:-}" ]; then
  callgrind_annotate --inclusive=yes "$OUT/cg.$HI" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | head -"$TOP" | cut -c1-200
fi
echo "callgrind files: $OUT" >&2
