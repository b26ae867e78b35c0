"""Benchmark one decide tick at record scale, and optionally score policies on captures.

``step``: a Decider on the built-in region (or ``--zones``) fed ``--pairs`` random
(zone, track) pairs from ``--tracks`` tracks per tick, with ``--dead`` dead sensors
(degraded mode on); prints seconds per tick (median of ``--ticks``).

``score``: for scenario directories with a capture made by ``airwarn tune`` (or
``--capture``), decide with the policy (``--policy``) and print the scorecard figures
per scenario — the per-scenario figures of issue 4's targets.

    python bench/decide_bench.py step [--pairs 200000] [--tracks 600] [--ticks 20]
    python bench/decide_bench.py score --scenario DIR [--scenario DIR ...] [--policy P]

Timings on a shared 2-core machine are noisy; repeat and take the lowest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from airwarn.contracts import SensorHealth, TrackState, ZoneThreats
from airwarn.decide import Decider
from airwarn.decide.policy import Policy


def bench_step(args: argparse.Namespace) -> None:
    from airwarn.zones import builtin_zones, load_zones, zone_set

    c0 = time.perf_counter()
    zs = zone_set(load_zones(args.zones) if args.zones else builtin_zones())
    print(f"zones: {len(zs)} (built in {time.perf_counter() - c0:.1f} s)")
    rng = np.random.default_rng(1)
    pol = Policy.load(args.policy)
    dec = Decider(zs, pol)
    n, m = args.tracks, args.pairs
    s = 3000
    sx = rng.uniform(zs.cx.min(), zs.cx.max(), s)
    sy = rng.uniform(zs.cy.min(), zs.cy.max(), s)
    rngm = np.where(np.arange(s) < 30, 250_000.0, 3000.0)
    times = []
    t0 = 1.75e9
    for k in range(args.ticks):
        t = t0 + 5.0 * k
        x = np.zeros((n, 6))
        x[:, 0] = rng.uniform(zs.cx.min(), zs.cx.max(), n)
        x[:, 1] = rng.uniform(zs.cy.min(), zs.cy.max(), n)
        ang = rng.uniform(0, 2 * np.pi, n)
        x[:, 3], x[:, 4] = 50 * np.cos(ang), 50 * np.sin(ang)
        tracks = TrackState(
            t,
            np.arange(n, dtype=np.int64),
            x,
            np.zeros((n, 6, 6)),
            np.zeros(n, np.int64),
            np.zeros((n, 6)),
            np.ones(n, bool),
            np.full(n, t),
            np.full(n, 20, np.int64),
        )
        e10 = rng.uniform(0, 1800, m)
        thr = ZoneThreats(
            t,
            rng.integers(0, len(zs), m),
            rng.integers(0, n, m),
            rng.choice([0, 2, 3], m, p=[0.9, 0.05, 0.05]),
            rng.uniform(0.02, 0.5, m),
            rng.uniform(0, 0.05, m),
            e10,
            e10 + 120,
            rng.random(m) < 0.1,
        )
        alive = np.ones(s, bool)
        dead = rng.choice(s, args.dead, replace=False)
        alive[dead] = False
        # the dead sensors are of a kind no live sensor backs up: their coverage is lost and
        # degraded mode runs in full
        kind = np.zeros(s, np.int64)
        kind[dead] = 1
        health = SensorHealth(t, sx, sy, rngm, kind, np.full(s, t), alive)
        c0 = time.perf_counter()
        ch = dec.step(t, thr, tracks, health)
        times.append(time.perf_counter() - c0)
        if k == 0:
            print(f"tick 0: {len(ch)} changes, {dec.degraded_tracks.size} degraded tracks")
    print(
        f"decide step: {n} tracks, {m} pairs, {len(zs)} zones, {args.dead} dead sensors: "
        f"median {1000 * np.median(times):.1f} ms, min {1000 * min(times):.1f} ms per tick"
    )


def bench_score(args: argparse.Namespace) -> None:
    from airwarn.contracts import read_sensors, read_truth
    from airwarn.decide.tune import Capture, capture, decide_from_capture
    from airwarn.evaluate import score
    from airwarn.zones import builtin_zones, load_zones, zone_set

    pol = Policy.load(args.policy)
    for scen in map(Path, args.scenario):
        zf = scen / "zones.geojson"
        zs = zone_set(load_zones(zf) if zf.exists() else builtin_zones())
        cf = scen / "decide_capture.npz"
        c0 = time.perf_counter()
        if cf.exists():
            cap = Capture.load(cf)
        else:
            cap = capture(read_sensors(scen / "sensors.jsonl"), scen / "detections.jsonl", zs, pol)
            cap.save(cf)
        c1 = time.perf_counter()
        (alerts,), dsec = decide_from_capture(cap, zs, [pol])
        card = score(read_truth(scen / "truth.jsonl"), alerts, zs)
        s = card.summary
        keys = (
            "threats impact_pairs impact_hit impact_late impact_miss overflight_pairs "
            "overflight_hit overflight_late overflight_miss overflight_miss_frac alert_episodes "
            "false_alert_frac person_hours_alert person_hours_prealert person_hours_oracle "
            "ratio_to_oracle ratio_to_region_wide lead_median_s lead_p10_s"
        ).split()
        out = {k: s.get(k) for k in keys}
        out["drone_prealert_lead_median_s"] = card.by_class.get("drone", {}).get(
            "prealert_lead_median_s"
        )
        out["capture_s"] = round(c1 - c0, 1)
        out["decide_s"] = round(dsec, 1)
        out["ticks"] = len(cap.rows)
        print(json.dumps({"scenario": str(scen), **out}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("step")
    a.add_argument("--zones", type=Path)
    a.add_argument("--policy", type=Path)
    a.add_argument("--pairs", type=int, default=200_000)
    a.add_argument("--tracks", type=int, default=600)
    a.add_argument("--dead", type=int, default=100)
    a.add_argument("--ticks", type=int, default=20)
    b = sub.add_parser("score")
    b.add_argument("--scenario", type=Path, action="append", required=True)
    b.add_argument("--policy", type=Path)
    args = ap.parse_args()
    bench_step(args) if args.cmd == "step" else bench_score(args)


if __name__ == "__main__":
    main()
