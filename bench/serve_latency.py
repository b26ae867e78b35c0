"""Ingest-to-alert latency of `airwarn serve`, and how many SSE subscribers one process holds.

Starts `airwarn serve` as a subprocess on loopback (the scenario's zones and sensors, MQTT
off) and plays a simulated raid's detections.jsonl at it over HTTP, time-rebased so that
report times are "now": the busiest window of the raid at its own rate (1x), then ten
windows of the raid around its peak at once (10x: ten times the reports and threats).
A load generator posts NDJSON batches every ``--batch-s`` seconds and listens on SSE.

Figures (per rate):
* ingest ack: POST round trip (validation + SQLite append with synchronous=FULL);
* report->decision: from posting a report to receiving the SSE ``tick`` event of the
  first decision tick that used it (ticks run every policy.tick_s on the wall clock, so
  up to tick_s of waiting is by design);
* report->alert: the same, for reports that fed a tick which published alert changes
  (each such report's post time to the receipt of those alert events);
* tick compute time (fuse + predict + decide + publish) as reported by the service.
Then SSE capacity: N raw SSE connections, one operator action, time until all N got it.

Usage: python bench/serve_latency.py --scenario runs/raid   (after `airwarn simulate --out runs/raid`)
Timings are wall clock on a shared machine: noisy; compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

SENSOR_TOKEN = "bench-sensor-token-0123456789"
OPERATOR_TOKEN = "bench-operator-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def load_lines(path: Path) -> tuple[np.ndarray, list[str]]:
    """Times and raw lines of detections.jsonl (arrival order)."""
    ts, lines = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            s = line.strip()
            if not s:
                continue
            i = s.find('"t":')
            j = s.find(",", i)
            ts.append(float(s[i + 4 : j]))
            lines.append(s)
    return np.array(ts), lines


def peak_start(ts: np.ndarray, width_s: float) -> float:
    """Start of the busiest ``width_s`` window (by lines per second)."""
    t0 = ts.min()
    m = ((ts - t0) // 60).astype(int)
    c = np.bincount(m)
    k = max(1, int(width_s // 60))
    roll = np.convolve(c, np.ones(k), "valid")
    return float(t0 + 60 * int(np.argmax(roll)))


def segments(ts, lines, start: float, dur: float, factor: int) -> list[tuple[float, str]]:
    """(offset s, rebased line template) of ``factor`` raid windows of ``dur`` s, merged."""
    out = []
    offs = [k * dur for k in range(-(factor // 2), factor - factor // 2)]
    for k, off in enumerate(offs):
        a = start + off
        idx = np.flatnonzero((ts >= a) & (ts < a + dur))
        for i in idx:
            obj = json.loads(lines[i])
            rel = float(ts[i] - a)
            if "id" in obj:
                obj["id"] = f"w{k}-{obj['id']}"
            out.append((rel, obj))
    out.sort(key=lambda x: x[0])
    return out


class Server:
    def __init__(self, scenario: Path, data: Path, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        tok = data / "tokens.json"
        data.mkdir(parents=True, exist_ok=True)
        tok.write_text(
            json.dumps(
                {
                    "tokens": [
                        {"token": SENSOR_TOKEN, "name": "bench", "role": "sensor", "sensors": "*"},
                        {"token": OPERATOR_TOKEN, "name": "bench-op", "role": "operator"},
                    ]
                }
            )
        )
        env = {**os.environ, "AIRWARN_TOKENS": str(tok), "AIRWARN_MQTT": "0"}
        cmd = [sys.executable, "-m", "airwarn.cli", "serve", "--port", str(port)]
        cmd += ["--data", str(data / "state"), "--zones", str(scenario / "zones.geojson")]
        cmd += ["--sensors", str(scenario / "sensors.jsonl")]
        self.log = open(data / "server.log", "wb")
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=raise_nofile
        )
        c0 = time.perf_counter()
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError((data / "server.log").read_text()[-3000:])
            try:
                if httpx.get(self.url + "/api/v1/status", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.startup_s = time.perf_counter() - c0

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def pct(a, q) -> float:
    return float(np.percentile(a, q)) if len(a) else math.nan


def weighted_pct(vals, weights, q) -> float:
    if not len(vals):
        return math.nan
    o = np.argsort(vals)
    v, w = np.asarray(vals)[o], np.asarray(weights, float)[o]
    c = np.cumsum(w) / w.sum()
    return float(v[np.searchsorted(c, q / 100.0)])


async def run_load(url: str, plan, warmup_s: float, measure_s: float, batch_s: float) -> dict:
    """Post the plan on the wall clock; listen on SSE; return latency figures."""
    ticks: list[tuple] = []  # (recv wall, log_seq, n_changes, compute_s, publish_s)
    stop = asyncio.Event()

    async def listen(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", url + "/api/v1/stream", timeout=None) as r:
            data = None
            async for line in r.aiter_lines():
                if line.startswith("data: "):
                    data = line[6:]
                elif line == "" and data is not None:
                    ev = json.loads(data)
                    if ev.get("type") == "tick":
                        ticks.append(
                            (
                                time.time(),
                                ev["log_seq"],
                                ev["n_changes"],
                                ev["compute_s"],
                                ev.get("publish_s", 0.0),
                            )
                        )
                    data = None
                if stop.is_set():
                    return

    batches: list[tuple[float, float, int, int, float]] = []  # (post start, ack, seq, n, rel)
    hdr = {"Authorization": f"Bearer {SENSOR_TOKEN}", "Content-Type": "application/x-ndjson"}
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        lt = asyncio.create_task(listen(client))
        await asyncio.sleep(0.5)
        wall0 = time.time()
        total = warmup_s + measure_s
        i, n = 0, len(plan)
        inflight: set[asyncio.Task] = set()

        async def post(rows: list[str], rel: float) -> None:
            t_start = time.time()
            r = await client.post(url + "/api/v1/reports", content="\n".join(rows), headers=hdr)
            d = r.json()
            batches.append((t_start, time.time(), d.get("seq") or 0, d["n_accepted"], rel))

        k = 0
        while True:
            rel_end = (k + 1) * batch_s
            if rel_end > total:
                break
            await asyncio.sleep(max(0.0, wall0 + rel_end - time.time()))
            rows = []
            while i < n and plan[i][0] < rel_end:
                rel, obj = plan[i]
                o = dict(obj)
                o["t"] = round(wall0 + rel, 3)
                rows.append(json.dumps(o, separators=(",", ":")))
                i += 1
            if rows:
                task = asyncio.create_task(post(rows, rel_end))
                inflight.add(task)
                task.add_done_callback(inflight.discard)
            k += 1
        await asyncio.gather(*inflight)
        await asyncio.sleep(12.0)  # let the last ticks come in
        stop.set()
        lt.cancel()
        try:
            await lt
        except (asyncio.CancelledError, Exception):
            pass
    # match batches to the first tick that used them
    tk = sorted(ticks, key=lambda x: x[1])
    tseq = np.array([x[1] for x in tk])
    dec, dec_w, alert, alert_w, acks = [], [], [], [], []
    for t_start, t_ack, seq, nacc, rel in batches:
        if rel <= warmup_s or nacc == 0:
            continue
        acks.append(t_ack - t_start)
        j = int(np.searchsorted(tseq, seq, side="left"))
        if j >= len(tk):
            continue
        recv, _, nch = tk[j][:3]
        dec.append(recv - t_start)
        dec_w.append(nacc)
        if nch > 0:
            alert.append(recv - t_start)
            alert_w.append(nacc)
    comp = [x[3] for x in ticks]
    pub = [x[4] for x in ticks]
    gaps = np.diff(sorted(x[0] for x in ticks))
    n_meas = sum(b[3] for b in batches if b[4] > warmup_s)
    return {
        "lines_per_s": round(n_meas / measure_s, 1),
        "batches": len(acks),
        "ack_p50_ms": round(1000 * pct(acks, 50), 1),
        "ack_p99_ms": round(1000 * pct(acks, 99), 1),
        "report_to_decision_p50_s": round(weighted_pct(dec, dec_w, 50), 3),
        "report_to_decision_p99_s": round(weighted_pct(dec, dec_w, 99), 3),
        "report_to_alert_p50_s": round(weighted_pct(alert, alert_w, 50), 3),
        "report_to_alert_p99_s": round(weighted_pct(alert, alert_w, 99), 3),
        "alert_ticks": int(sum(1 for x in ticks if x[2] > 0)),
        "reports_feeding_alerts": int(sum(alert_w)),
        "tick_compute_p50_s": round(pct(comp, 50), 3),
        "tick_compute_max_s": round(max(comp) if comp else math.nan, 3),
        "tick_publish_p50_s": round(pct(pub, 50), 3),
        "tick_publish_max_s": round(max(pub) if pub else math.nan, 3),
        "tick_gap_p50_s": round(pct(gaps, 50), 3),
        "tick_gap_max_s": round(float(gaps.max()) if len(gaps) else math.nan, 3),
        "max_alert_changes_in_a_tick": int(max((x[2] for x in ticks), default=0)),
    }


async def sse_capacity(url: str, port: int, n: int, zone: str) -> dict:
    """Open ``n`` raw SSE connections, send one operator action, time its fan-out."""
    conns = []
    t0 = time.perf_counter()
    sem = asyncio.Semaphore(200)

    async def open_one():
        async with sem:
            r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
            w.write(b"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            await w.drain()
            buf = b""
            while b"snapshot" not in buf:
                chunk = await r.read(65536)
                if not chunk:
                    raise RuntimeError("stream closed")
                buf += chunk
            conns.append((r, w))

    res = await asyncio.gather(*(open_one() for _ in range(n)), return_exceptions=True)
    failed = sum(isinstance(x, Exception) for x in res)
    open_s = time.perf_counter() - t0

    async def wait_one(r):
        buf = b""
        while b"event: operator" not in buf:
            chunk = await r.read(65536)
            if not chunk:
                return None
            buf = buf[-64:] + chunk
        return time.perf_counter()

    waiters = [asyncio.create_task(wait_one(r)) for r, _ in conns]
    async with httpx.AsyncClient(timeout=60) as c:
        st = (await c.get(url + "/api/v1/status")).json()
        t_send = time.perf_counter()
        body = {"action": "extend", "zones": [zone], "why": "bench fan-out", "duration_s": 60}
        await c.post(
            url + "/api/v1/operator/actions",
            json=body,
            headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        )
    done, _ = await asyncio.wait(waiters, timeout=120)
    lat = [t.result() - t_send for t in done if t.result() is not None]
    for _, w in conns:
        w.close()
    await asyncio.sleep(1.0)
    return {
        "requested": n,
        "held": len(conns),
        "open_failed": failed,
        "server_count": st["subscribers"],
        "received": len(lat),
        "open_s": round(open_s, 2),
        "fanout_p50_s": round(pct(lat, 50), 3),
        "fanout_p99_s": round(pct(lat, 99), 3),
        "fanout_max_s": round(max(lat) if lat else math.nan, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, required=True, help="airwarn simulate output dir")
    ap.add_argument("--factors", default="1,10", help="rate multipliers")
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds not measured")
    ap.add_argument("--measure", type=float, default=120.0, help="seconds measured")
    ap.add_argument("--batch-s", type=float, default=0.2, help="seconds between posts")
    ap.add_argument("--sse", default="1000,4000,8000", help="SSE subscriber counts to try")
    args = ap.parse_args()
    raise_nofile()
    ts, lines = load_lines(args.scenario / "detections.jsonl")
    dur = args.warmup + args.measure
    start = peak_start(ts, dur)
    print(
        f"scenario {args.scenario}: {len(lines)} lines, peak window starts {start - ts.min():.0f} s in"
    )
    results = {}
    for f in [int(x) for x in args.factors.split(",") if x]:
        plan = segments(ts, lines, start, dur, f)
        with tempfile.TemporaryDirectory(prefix="airwarn-bench-") as d:
            srv = Server(args.scenario, Path(d), free_port())
            try:
                print(
                    f"{f}x: server up in {srv.startup_s:.1f} s; {len(plan)} lines over {dur:.0f} s"
                )
                r = asyncio.run(run_load(srv.url, plan, args.warmup, args.measure, args.batch_s))
                st = httpx.get(srv.url + "/api/v1/status", timeout=30).json()
                r["zones"] = st["zones"]
                r["ingest_errors"] = st["ingest"]["errors"]
            finally:
                srv.stop()
        results[f"{f}x"] = r
        print(f"{f}x:", json.dumps(r))
    zone = json.loads((args.scenario / "zones.geojson").read_text())["features"][0]["properties"][
        "id"
    ]
    with tempfile.TemporaryDirectory(prefix="airwarn-bench-") as d:
        srv = Server(args.scenario, Path(d), free_port())
        try:
            for n in [int(x) for x in args.sse.split(",") if x]:
                r = asyncio.run(sse_capacity(srv.url, srv.port, n, zone))
                results[f"sse_{n}"] = r
                print(f"SSE {n}:", json.dumps(r))
        finally:
            srv.stop()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
