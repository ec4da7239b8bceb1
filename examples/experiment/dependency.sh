#!/bin/sh
# Takes the demo target's dependency down, or brings it back: what
# `docker compose stop redis` / `docker compose start redis` do in a real experiment.
#   sh experiment/dependency.sh down|up
# throng runs `exec` actions in the plan's folder with THRONG_BASE_URL set to the plan's
# base_url.
set -eu
case "${1:-}" in
  down) up=false ;;
  up) up=true ;;
  *) echo "usage: $0 down|up" >&2; exit 2 ;;
esac
url="${THRONG_BASE_URL:-http://127.0.0.1:8080}/admin/dependency"
python3 - "$url" "$up" <<'PY'
import sys, urllib.request
url, up = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, data=('{"up": %s}' % up).encode(), method="POST",
                             headers={"Content-Type": "application/json"})
print(urllib.request.urlopen(req, timeout=5).read().decode())
PY
