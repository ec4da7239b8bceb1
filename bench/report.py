#!/usr/bin/env python3
"""Turns the outputs of bench/run.sh into one Markdown table."""
import csv
import datetime
import json
import os
import platform
import re
import sys

out, duration, conns = sys.argv[1], sys.argv[2], sys.argv[3]
doc = "--doc" in sys.argv


def read(name, ext="out"):
    p = os.path.join(out, f"{name}.{ext}")
    return open(p).read() if os.path.exists(p) else None


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


def secs(v):
    m = re.match(r"([\d.]+)(us|µs|ms|s)", v)
    if not m:
        return None
    n, u = float(m.group(1)), m.group(2)
    return n / 1e6 if u in ("us", "µs") else n / 1e3 if u == "ms" else n


def throng(name):
    try:
        r = json.load(open(os.path.join(out, f"{name}.json")))
    except (OSError, ValueError):
        return None
    m = {x["name"]: x["values"] for x in r["metrics"]}
    d = m.get("http_req_duration", {})
    return m.get("http_reqs", {}).get("count"), r["run"]["duration_ms"] / 1e3, d.get("med", 0) / 1e3, d.get("p(99)", 0) / 1e3


def wrk():
    t = read("wrk")
    if not t:
        return None
    n = re.search(r"(\d+) requests in ([\d.]+)s", t)
    p50 = re.search(r"^\s+50%\s+(\S+)", t, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", t, re.M)
    return int(n.group(1)), float(n.group(2)), secs(p50.group(1)) if p50 else None, secs(p99.group(1)) if p99 else None


def hey():
    t = read("hey")
    if not t:
        return None
    n = sum(int(x) for x in re.findall(r"\[\d+\]\s+(\d+) responses", t))
    total = re.search(r"Total:\s+([\d.]+) secs", t)
    p50 = re.search(r"50% in ([\d.]+) secs", t)
    p99 = re.search(r"99% in ([\d.]+) secs", t)
    return n, float(total.group(1)) if total else None, float(p50.group(1)) if p50 else None, float(p99.group(1)) if p99 else None


def oha():
    t = read("oha")
    if not t:
        return None
    try:
        j = json.loads(t[t.index("{"):])
    except ValueError:
        return None
    s = j.get("summary", {})
    n = sum(j.get("statusCodeDistribution", {}).values())
    lp = j.get("latencyPercentiles", {})
    return n, s.get("total"), lp.get("p50"), lp.get("p99")


def k6(name):
    try:
        j = json.load(open(os.path.join(out, f"{name}.json")))
    except (OSError, ValueError):
        return None
    m = j["metrics"]
    d = m.get("http_req_duration", {})
    n = m.get("http_reqs", {}).get("count")
    rate = m.get("http_reqs", {}).get("rate") or 0
    return n, (n / rate if rate else None), (d.get("med") or 0) / 1e3, (d.get("p(99)") or 0) / 1e3


def locust():
    p = os.path.join(out, "locust_stats.csv")
    if not os.path.exists(p):
        return None
    for row in csv.DictReader(open(p)):
        if row.get("Name") == "Aggregated":
            n = int(row["Request Count"])
            rps = float(row["Requests/s"]) or 1
            return n, n / rps, float(row["50%"]) / 1e3, float(row["99%"]) / 1e3
    return None


rows = [
    ("throng quick", "throng", throng("throng")),
    ("throng plan (JSON body, 2 checks, extract)", "throng-plan", throng("throng-plan")),
    ("wrk 1 thread", "wrk", wrk()),
    ("hey", "hey", hey()),
    ("oha", "oha", oha()),
    ("k6", "k6", k6("k6")),
    ("locust (FastHttpUser)", "locust", locust()),
]

wrk_eff = None
table = []
for label, key, r in rows:
    cpu, rss = cpu_rss(key)
    if not r or not r[0] or not cpu:
        table.append((label, None))
        continue
    n, wall, p50, p99 = r
    eff = n / cpu
    if key == "wrk":
        wrk_eff = eff
    table.append((label, (n, n / wall if wall else None, cpu, eff, rss, p50, p99)))


def fmt_ms(s):
    return "—" if s is None else f"{s * 1e3:.2f} ms"


lines = []
if doc:
    lines += [
        "# Performance",
        "",
        "Measured by `bench/run.sh` (see bench/). Ratios matter, not absolute numbers: the",
        "machines are shared and noisy, so every tool runs in the same session, one after the",
        "other, pinned to the same core.",
        "",
    ]
lines += [
    f"Run {datetime.date.today()} on {platform.node()} ({os.cpu_count()} cores, {platform.machine()}); "
    f"nginx pinned to CPU 1, each generator to CPU 0; {conns} keep-alive connections, GET of a 2-byte body, {duration}.",
    "",
    "| tool | requests | req/s | generator CPU-s | requests per CPU-second | vs wrk | peak RSS | p50 | p99 |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
]
for label, v in table:
    if v is None:
        lines.append(f"| {label} | n/a | | | | | | | |")
        continue
    n, rps, cpu, eff, rss, p50, p99 = v
    ratio = f"{eff / wrk_eff:.2f}×" if wrk_eff else "—"
    lines.append(
        f"| {label} | {int(n):,} | {rps:,.0f} | {cpu:.2f} | {eff:,.0f} | {ratio} | {rss / 1e6:.1f} MB | {fmt_ms(p50)} | {fmt_ms(p99)} |"
    )

mem = []
for label, key, vus in [("throng, 10,000 VUs sleeping 1 s", "throng-10k", 10000), ("k6, 1,000 VUs sleeping 1 s", "k6-1k", 1000)]:
    cpu, rss = cpu_rss(key)
    if rss:
        mem.append(f"| {label} | {rss / 1e6:.1f} MB | {rss / vus / 1e3:.1f} kB |")
if mem:
    lines += ["", "| memory | peak RSS | per VU |", "|---|---:|---:|"] + mem
if doc:
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        lines.append(open(notes).read().rstrip())
print("\n".join(lines))
