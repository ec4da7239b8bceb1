#!/usr/bin/env python3
"""Turns the outputs of bench/protocols.sh into one Markdown table: operations per
generator CPU-second (user+sys) and the ratio of throng's figure to the peer's."""
import datetime
import json
import os
import platform
import re
import sys

out, duration, conns = sys.argv[1], sys.argv[2], sys.argv[3]


def read(name, ext="out"):
    p = os.path.join(out, f"{name}.{ext}")
    return open(p, errors="replace").read() if os.path.exists(p) else None


def cpu_rss(name):
    t = read(name, "time")
    if not t:
        return None, None
    for line in t.splitlines()[::-1]:
        parts = line.split()
        if len(parts) == 3:
            try:
                return float(parts[0]) + float(parts[1]), int(parts[2]) * 1024
            except ValueError:
                pass
    return None, None


def throng(name, ops_metric, err_metric):
    """(operations, errors, wall seconds) from throng's results JSON."""
    try:
        r = json.load(open(os.path.join(out, f"{name}.json")))
    except (OSError, ValueError):
        return None
    m = {x["name"]: x.get("values", {}) for x in r.get("metrics", [])}
    ops = m.get(ops_metric, {}).get("count")
    if ops is None:
        return None
    if err_metric == "checks":
        c = m.get("checks", {})
        errs = c.get("fails")
        if errs is None and "rate" in c:
            errs = round(ops * (1 - c["rate"]))
    else:
        errs = m.get(err_metric, {}).get("count", 0)
    return int(ops), errs, r["run"]["duration_ms"] / 1e3


def pgbench():
    t = read("pgbench")
    if not t:
        return None
    n = re.search(r"number of transactions actually processed: (\d+)", t)
    f = re.search(r"number of failed transactions: (\d+)", t)
    d = re.search(r"duration: (\d+) s", t)
    if not n:
        return None
    return int(n.group(1)), int(f.group(1)) if f else 0, float(d.group(1)) if d else None


def redis_benchmark():
    t = read("redis-benchmark")
    n = read("redis-benchmark", "n")
    if not t or not n:
        return None
    rps = re.search(r'^"GET","([\d.]+)"', t, re.M)
    if not rps:
        return None
    n = int(n)
    return n, 0, n / float(rps.group(1))


def h2load():
    t = read("h2load")
    if not t:
        return None
    r = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored", t)
    w = re.search(r"finished in ([\d.]+)(ms|s),", t)
    if not r:
        return None
    wall = float(w.group(1)) / (1000 if w.group(2) == "ms" else 1) if w else None
    return int(r.group(1)), int(r.group(2)) + int(r.group(3)), wall


def grpc_ok():
    t = read("nghttp-check")
    if t is None:
        return None
    return bool(re.search(r"grpc-status: 0\b", t))


def mib(b):
    return f"{b / 2**20:.0f} MiB" if b else "—"


rows = []  # (comparison, generator, command, (ops, errs, wall), cpu, rss, goal)
sql = ("SQL `SELECT 1`", 0.8)
rows.append((sql, "throng quick --sql", "throng-sql", throng("throng-sql", "sql_queries", "sql_errors")))
rows.append((sql, "pgbench", "pgbench", pgbench()))
red = ("Redis `GET`", 0.8)
rows.append((red, "throng (bench/redis.yaml)", "throng-redis", throng("throng-redis", "redis_commands", "redis_errors")))
rows.append((red, "redis-benchmark", "redis-benchmark", redis_benchmark()))
grpc = ("gRPC unary `Publish`", None)
rows.append((grpc, "throng (bench/grpc.yaml)", "throng-grpc", throng("throng-grpc", "grpc_reqs", "checks")))
if read("h2load") is not None:
    rows.append((grpc, "h2load", "h2load", h2load()))

per_cpu = {}
for (comp, _), gen, name, res in rows:
    cpu, _ = cpu_rss(name)
    if res and cpu:
        per_cpu[name] = res[0] / cpu

peer = {"throng-sql": "pgbench", "throng-redis": "redis-benchmark", "throng-grpc": "h2load"}

print(f"# Protocol benchmarks (issue 13)\n")
print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
      f"{os.cpu_count()} CPUs; targets pinned to CPU 1, generators to CPU 0; "
      f"{conns} connections, {duration} s per run. Operations per generator CPU-second "
      f"(user+sys from GNU time) is the figure to compare; wall-clock rates depend on the "
      f"target and on whatever else the machine runs.\n")
print("| comparison | generator | operations | errors | ops/s (wall) | generator CPU-s | ops per CPU-s | throng ÷ peer | peak RSS |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for (comp, goal), gen, name, res in rows:
    cpu, rss = cpu_rss(name)
    if not res:
        print(f"| {comp} | {gen} | failed (see {name}.out) | | | | | | |")
        continue
    ops, errs, wall = res
    ratio = ""
    if name in peer and peer[name] in per_cpu and name in per_cpu:
        r = per_cpu[name] / per_cpu[peer[name]]
        ratio = f"**{r:.2f}×**"
        if goal:
            ratio += f" ({'meets' if r >= goal else 'below'} ≥ {goal}×)"
    elif name not in peer:
        ratio = "1.00× (peer)"
    rate = f"{ops / wall:,.0f}" if wall else "—"
    print(f"| {comp} | {gen} | {ops:,} | {int(errs) if errs is not None else '?'} | {rate} | "
          f"{cpu:.2f} | {per_cpu.get(name, 0):,.0f} | {ratio} | {mib(rss)} |" if cpu else
          f"| {comp} | {gen} | {ops:,} | {errs} | {rate} | — | — | | |")

print()
print("Commands (ports are the run's free loopback ports):\n")
for _, gen, name, _ in rows:
    c = read(name, "cmd")
    if c:
        c = c.strip().replace(out.rstrip("/"), "$TMP").replace(os.getcwd() + "/", "")
        print(f"- {gen}: `{c}`")
ok = grpc_ok()
if read("h2load") is None:
    print("\nh2load is not installed (apt-get install nghttp2-client): gRPC shows throng alone.")
elif ok is not None:
    print(f"\nh2load posts a fixed gRPC frame (`Event {{id: \"ev-1\", kind: \"click\", payload: \"hi\"}}`); "
          f"one call of it through nghttp {'returned grpc-status 0' if ok else 'did NOT return grpc-status 0'}. "
          "h2load counts HTTP 2xx as success and does not read gRPC trailers.")
