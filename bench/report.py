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
rounds = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4].isdigit() else 1
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


def wrk(name="wrk"):
    t = read(name)
    if not t:
        return None
    n = re.search(r"(\d+) requests in ([\d.]+)s", t)
    p50 = re.search(r"^\s+50%\s+(\S+)", t, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", t, re.M)
    return int(n.group(1)), float(n.group(2)), secs(p50.group(1)) if p50 else None, secs(p99.group(1)) if p99 else None


def hey(name="hey"):
    t = read(name)
    if not t:
        return None
    n = sum(int(x) for x in re.findall(r"\[\d+\]\s+(\d+) responses", t))
    total = re.search(r"Total:\s+([\d.]+) secs", t)
    p50 = re.search(r"50% in ([\d.]+) secs", t)
    p99 = re.search(r"99% in ([\d.]+) secs", t)
    return n, float(total.group(1)) if total else None, float(p50.group(1)) if p50 else None, float(p99.group(1)) if p99 else None


def oha(name="oha"):
    t = read(name)
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


def ab(name):
    t = read(name)
    if not t:
        return None
    n = re.search(r"Complete requests:\s+(\d+)", t)
    bad = re.search(r"Failed requests:\s+(\d+)", t)
    took = re.search(r"Time taken for tests:\s+([\d.]+) seconds", t)
    p50 = re.search(r"^\s+50%\s+(\d+)", t, re.M)
    p99 = re.search(r"^\s+99%\s+(\d+)", t, re.M)
    if not n or not took:
        return None
    ok = int(n.group(1)) - (int(bad.group(1)) if bad else 0)
    return ok, float(took.group(1)), int(p50.group(1)) / 1e3 if p50 else None, int(p99.group(1)) / 1e3 if p99 else None


def h2load(name):
    t = read(name)
    if not t:
        return None
    n = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded", t)
    took = re.search(r"finished in ([\d.]+)(ms|s),", t)
    if not n or not took:
        return None
    wall = float(took.group(1)) / (1e3 if took.group(2) == "ms" else 1)
    return int(n.group(1)), wall, None, None


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


def locust(name="locust"):
    p = os.path.join(out, f"{name}_stats.csv")
    if not os.path.exists(p):
        return None
    for row in csv.DictReader(open(p)):
        if row.get("Name") == "Aggregated":
            n = int(row["Request Count"])
            rps = float(row["Requests/s"]) or 1
            return n, n / rps, float(row["50%"]) / 1e3, float(row["99%"]) / 1e3
    return None


def throng_metrics(name):
    """{metric: values} of throng's results NAME.json (untagged metrics only), or None."""
    try:
        r = json.load(open(os.path.join(out, f"{name}.json")))
    except (OSError, ValueError):
        return None
    return {x["name"]: x["values"] for x in r["metrics"] if not x.get("filter")}


def demo_figures(name, route):
    """What the demo target saw between its two scrapes NAME.before.metrics and
    NAME.after.metrics: (requests on `route`, the mean time its handler took, s). Its
    /metrics answers are not in its histogram; the readiness check before the first scrape
    is, and is taken out by the difference."""
    def scrape(which):
        t = read(name, f"{which}.metrics")
        if not t:
            return None
        reqs = sum(
            float(m.group(1))
            for m in re.finditer(r'^demo_requests_total\{route="' + re.escape(route) + r'",status="\d+"\} (\S+)$', t, re.M)
        )
        total = re.search(r"^demo_request_duration_seconds_sum (\S+)$", t, re.M)
        count = re.search(r"^demo_request_duration_seconds_count (\S+)$", t, re.M)
        if not total or not count:
            return None
        return reqs, float(total.group(1)), float(count.group(1))
    b, a = scrape("before"), scrape("after")
    if not b or not a or a[2] <= b[2]:
        return None
    return a[0] - b[0], (a[1] - b[1]) / (a[2] - b[2])


def percentile(xs, p):
    """k6's percentile: linear interpolation at rank (n - 1) * p of the sorted values."""
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def stall_truth(n, rate, hold, base):
    """The true p99 of a schedule of `n` sends at `rate` a second when every response in
    a window of `hold` seconds (wholly inside the run) is held to its end: a send due t
    seconds into the window waits hold - t, the others `base`."""
    held = [hold - i / rate for i in range(int(rate * hold))]
    return percentile(held + [0.0] * (n - len(held)), 0.99) + base


def measure(key, r):
    """(requests, req/s, CPU-s, req per CPU-s, RSS, p50, p99) or None."""
    cpu, rss = cpu_rss(key)
    if not r or not r[0] or not cpu:
        return None
    n, wall, p50, p99 = r
    return (n, n / wall if wall else None, cpu, n / cpu, rss, p50, p99)


def fmt_ms(s):
    return "—" if s is None else f"{s * 1e3:.2f} ms"


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def rounds_of(key, parse):
    """Each round's measure of `key` (None where it did not run)."""
    return [measure(f"{key}.{r}", parse(f"{key}.{r}")) for r in range(1, rounds + 1)]


def table(rows, base):
    """A Markdown table of `rows` (label, key, parser): each tool's median round, and its
    ratio to the row keyed `base` as the median of the per-round ratios (rounds alternate
    the tools, so a ratio compares runs made minutes apart at most)."""
    got = {key: rounds_of(key, parse) for _, key, parse in rows}
    out = [
        f"| tool | requests | req/s | generator CPU-s | requests per CPU-second | vs {base} | peak RSS | p50 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key, _ in rows:
        ok = [v for v in got[key] if v]
        if not ok:
            out.append(f"| {label} | n/a | | | | | | | |")
            continue
        n, rps, cpu, eff, rss, p50, p99 = sorted(ok, key=lambda v: v[3])[len(ok) // 2]
        r = ratio_of(got, key, base)
        ratio_s = "—" if r is None else f"{r:.2f}×"
        rps_s = f"{rps:,.0f}" if rps else "—"
        out.append(
            f"| {label} | {int(n):,} | {rps_s} | {cpu:.2f} | {eff:,.0f} | {ratio_s} | {rss / 1e6:.1f} MB | {fmt_ms(p50)} | {fmt_ms(p99)} |"
        )
    return out, got


def ratio_of(got, a, b):
    """The median over rounds of a's requests per CPU-second over b's."""
    pairs = [x[3] / y[3] for x, y in zip(got.get(a, []), got.get(b, [])) if x and y]
    return median(pairs) if pairs else None


h1_rows = [
    ("throng quick", "throng", throng),
    ("throng plan (JSON body, 2 checks, extract)", "throng-plan", throng),
    ("wrk 1 thread", "wrk", wrk),
    ("ab -k", "ab", ab),
    ("h2load --h1 1 thread", "h2load-h1", h2load),
    ("hey", "hey", hey),
    ("oha", "oha", oha),
    ("k6", "k6", k6),
    ("locust (FastHttpUser)", "locust", locust),
]
h2_rows = [
    ("throng quick --http2 --streams 10 (h2c, 50 connections x 10 streams)", "throng-h2", throng),
    ("h2load (h2c, 50 connections x 10 streams)", "h2load-h2", h2load),
]
tls_rows = [
    ("throng quick https, keep-alive", "throng-tls", throng),
    ("wrk https, keep-alive", "wrk-tls", wrk),
]
tls_new_rows = [
    ("throng quick https --no-keepalive (a handshake per request)", "throng-tls-new", throng),
    ("ab https without -k (a handshake per request)", "ab-tls-new", ab),
]
conn_rows = [
    ("throng quick -c 1000", "throng-1k", throng),
    ("wrk -c1000", "wrk-1k", wrk),
]
conn10k_rows = [
    ("throng quick -c 10000", "throng-10kc", throng),
    ("h2load --h1 -c 10000", "h2load-10kc", h2load),
]

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
    f"nginx pinned to CPU 1, each generator to CPU 0; {conns} keep-alive connections, GET of a 2-byte body, {duration}; "
    f"{rounds} round(s) with the tools of each group in turn: each row is its median round, each ratio the median of the per-round ratios.",
    "",
]
t, h1 = table(h1_rows, "wrk")
lines += t
mem = []
for label, key, vus in [("throng, 10,000 VUs sleeping 1 s", "throng-10k.1", 10000), ("k6, 1,000 VUs sleeping 1 s", "k6-1k.1", 1000)]:
    cpu, rss = cpu_rss(key)
    if rss:
        mem.append(f"| {label} | {rss / 1e6:.1f} MB | {rss / vus / 1e3:.1f} kB |")
if mem:
    lines += ["", "| memory | peak RSS | per VU |", "|---|---:|---:|"] + mem
sections = [
    ("HTTP/2 (h2c, prior knowledge, port 18091)", h2_rows, "h2load-h2"),
    ("TLS keep-alive (HTTP/1.1 over TLS 1.3, self-signed certificate, port 18443)", tls_rows, "wrk-tls"),
    ("TLS, a new connection and handshake per request", tls_new_rows, "ab-tls-new"),
    ("1,000 connections (plain HTTP/1.1 keep-alive)", conn_rows, "wrk-1k"),
    ("10,000 connections (plain HTTP/1.1 keep-alive)", conn10k_rows, "h2load-10kc"),
]
got = dict(h1)
for title, rows, base in sections:
    t, g = table(rows, base)
    got.update(g)
    if any(any(v) for v in g.values()):
        lines += ["", f"**{title}**", ""] + t


def ratio(a, b):
    return ratio_of(got, a, b)


def goal(text, value, fmt, ok):
    if value is None:
        return f"| {text} | not measured in this run | — |"
    return f"| {text} | {fmt.format(value)} | {'met' if ok(value) else '**missed**'} |"


def rss(k):
    ok = [v[4] / 1e6 for v in got.get(k, []) if v]
    return max(ok) if ok else None


sleep_rss = cpu_rss("throng-10k.1")[1]
goals = [
    goal("1. throng quick ≥ 1.05× wrk per CPU-second", ratio("throng", "wrk"), "{:.2f}×", lambda v: v >= 1.05),
    goal("1. throng quick ≥ 1.0× ab -k per CPU-second", ratio("throng", "ab"), "{:.2f}×", lambda v: v >= 1.0),
    goal("2. plan (JSON body, 2 checks, extract) ≥ 0.85× wrk", ratio("throng-plan", "wrk"), "{:.2f}×", lambda v: v >= 0.85),
    goal("3. HTTP/2 h2c ≥ 1.0× h2load -m 10", ratio("throng-h2", "h2load-h2"), "{:.2f}×", lambda v: v >= 1.0),
    goal("4. TLS keep-alive ≥ 1.0× wrk", ratio("throng-tls", "wrk-tls"), "{:.2f}×", lambda v: v >= 1.0),
    goal("4. TLS, a new connection per request ≥ 1.0× ab without -k", ratio("throng-tls-new", "ab-tls-new"), "{:.2f}×", lambda v: v >= 1.0),
    goal("5. 1,000 connections ≥ 1.0× wrk", ratio("throng-1k", "wrk-1k"), "{:.2f}×", lambda v: v >= 1.0),
    goal("5. 10,000 connections: peak RSS ≤ 100 MB", rss("throng-10kc"), "{:.1f} MB", lambda v: v <= 100),
    goal("5. 10,000 connections ≥ 1.0× h2load per CPU-second", ratio("throng-10kc", "h2load-10kc"), "{:.2f}×", lambda v: v >= 1.0),
    goal("6. 10,000 sleeping VUs ≤ 80 MB", sleep_rss / 1e6 if sleep_rss else None, "{:.1f} MB", lambda v: v <= 80),
]
# accuracy: throng beside the demo target's own figure, and beside the schedule's truth
acc = []
delay_ok = stall_ok = None
d, ds = throng_metrics("throng-delay.1"), demo_figures("delay", "/api/v1/ingest")
if d and ds:
    dur = d.get("http_req_duration", {})
    n, server_mean = ds
    avg, med = dur.get("avg", 0), dur.get("med", 0)
    delay_ok = (avg - server_mean * 1e3) / (server_mean * 1e3)
    acc.append(
        f"| 20 ms delay on the target (`serve-demo --latency 20ms`), `quick -c 10 -z {duration}`, POST /api/v1/ingest | "
        f"{server_mean * 1e3:.3f} ms (its handler, mean) | {avg:.3f} ms mean, {med:.3f} ms median | "
        f"{delay_ok * 100:+.2f}% | {int(d.get('http_reqs', {}).get('count', 0)):,} `http_reqs` ({d.get('http_req_failed', {}).get('rate', 0) * 100:.1f}% failed), {int(n):,} at the target{'' if int(n) == int(d.get('http_reqs', {}).get('count', 0)) else ' (**differ**)'} |"
    )
st, ss = throng_metrics("throng-stall.1"), demo_figures("stall", "/health")
if st and ss:
    n = int(st.get("http_reqs", {}).get("count", 0))
    base = st.get("http_req_duration", {}).get("med", 0)
    truth = stall_truth(n, 200, 1.0, base / 1e3) * 1e3
    got_p99 = st.get("http_req_duration_corrected", {}).get("p(99)", 0)
    sent_p99 = st.get("http_req_duration", {}).get("p(99)", 0)
    stall_ok = (got_p99 - truth) / truth
    acc.append(
        f"| 1 s stall every 10 s (`serve-demo --stall 1s/10s`), `quick -q 200 -c 10 -z 11s` | "
        f"{truth:.1f} ms (p99 of the schedule) | {got_p99:.1f} ms `http_req_duration_corrected` p99 "
        f"({sent_p99:.2f} ms from the send) | {stall_ok * 100:+.2f}% | {n:,} `http_reqs`, {int(ss[0]):,} at the target{'' if n == int(ss[0]) else ' (**differ**)'} |"
    )
if acc:
    lines += [
        "",
        "**Latency accuracy** (the demo target on CPU 1, throng on CPU 0)",
        "",
        "| case | truth | throng | off by | requests |",
        "|---|---:|---:|---:|---|",
    ] + acc
goals += [
    goal("6. latency against a 20 ms delay within 2% of the target's own figure", None if delay_ok is None else delay_ok * 100, "{:+.2f}%", lambda v: abs(v) <= 2),
    goal("6. corrected p99 under a 1 s stall within 10% of the truth", None if stall_ok is None else stall_ok * 100, "{:+.2f}%", lambda v: abs(v) <= 10),
]
lines += ["", "| goal (issue 16, this run) | figure | verdict |", "|---|---:|---|"] + goals
if doc:
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        lines.append(open(notes).read().rstrip())
print("\n".join(lines))
