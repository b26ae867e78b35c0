"""Benchmark the scorecard on a record-scale raid over the built-in region.

Truth comes from the simulator (``airwarn.sim.threats.build_raid``, 539 drones, 7 cruise,
4 ballistic by default) or from ``--scenario DIR`` (truth.jsonl, zones.geojson); alerts
from ``--alerts FILE`` or, by default, a synthetic "noisy oracle" policy (alerts every
threatened zone with a random lead, drops a few, adds a few false ones) so the scorer
is timed on tens of thousands of alert lines. Prints seconds per step and the scores.

    python bench/bench_evaluate.py [--seed 1] [--zones Z] [--scenario DIR --alerts FILE]
        [--report DIR]

Timings on a shared 2-core machine are noisy; repeat and take the lowest.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from airwarn.contracts import AlertChange, Threat, read_alerts, read_truth
from airwarn.evaluate import score, scoring, write_report
from airwarn.evaluate.scoring import union_intervals
from airwarn.zones import builtin_zones, load_zones, zone_set


def sim_truth(seed: int, frame) -> list[Threat]:
    """A record raid's truth from the simulator, as Threat records."""
    from airwarn.sim.params import SimParams
    from airwarn.sim.theatre import ukraine_theatre
    from airwarn.sim.threats import build_raid

    p = SimParams(seed=seed)
    raid = build_raid(
        p, ukraine_theatre(), frame, np.random.default_rng(seed), p.start_t,
        p.start_t + 3600 * p.hours,
    )  # fmt: skip
    out = []
    for k in range(len(raid)):
        i = raid.truth_idx[k]
        lat, lon = frame.to_geo(raid.x[i], raid.y[i])
        imp = None
        if raid.impact_xy[k] is not None:
            ti, xi, yi = raid.impact_xy[k]
            la, lo = frame.to_geo(xi, yi)
            imp = {"t": float(ti), "lat": float(la), "lon": float(lo)}
        fate = raid.fate[k]
        out.append(Threat(raid.ids[k], raid.cls[k], raid.t[i], lat, lon, raid.z[i], fate, imp))
    return out


def noisy_oracle(truth, zs, seed: int) -> list[AlertChange]:
    """Alert lines of a synthetic policy: each threatened zone alerted with a random lead."""
    rng = np.random.default_rng(seed)
    card = score(truth, [], zs)
    pr = card.pairs
    n = len(pr)
    keep = rng.random(n) > 0.01
    start = pr.t_arr - zs.shelter_s[pr.zone] - rng.uniform(-60, 600, n)
    end = pr.t_leave + rng.uniform(300, 900, n)
    nf = n // 20
    fz = rng.integers(0, len(zs), nf)
    fs = rng.uniform(pr.t_arr.min(), pr.t_arr.max(), nf)
    g, s, e = union_intervals(
        np.r_[pr.zone[keep], fz], np.r_[start[keep], fs], np.r_[end[keep], fs + 900]
    )
    rows = []
    for z, a, b in zip(g, s, e, strict=True):
        zid = zs.ids[z]
        rows += [
            AlertChange(a - 900, zid, "pre_alert"),
            AlertChange(a, zid, "alert"),
            AlertChange(0.5 * (a + b), zid, "alert"),
            AlertChange(b, zid, "clear"),
        ]
    rows.sort(key=lambda r: r.t)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", type=Path)
    ap.add_argument("--alerts", type=Path)
    ap.add_argument("--zones", type=Path, help="zones.geojson (default: scenario's or built-in)")
    ap.add_argument("--report", type=Path, help="also write report.md and figures here")
    a = ap.parse_args()
    c0 = time.perf_counter()
    zp = a.zones or (a.scenario / "zones.geojson" if a.scenario else None)
    zs = zone_set(load_zones(zp) if zp and zp.exists() else builtin_zones())
    c1 = time.perf_counter()
    truth = read_truth(a.scenario / "truth.jsonl") if a.scenario else sim_truth(a.seed, zs.frame)
    c2 = time.perf_counter()
    alerts = read_alerts(a.alerts) if a.alerts else noisy_oracle(truth, zs, a.seed)
    scoring._INDEX_CACHE.clear()  # time a cold score: truth index built from scratch
    c3 = time.perf_counter()
    card = score(truth, alerts, zs)
    c4 = time.perf_counter()
    score(truth, alerts, zs)
    c5 = time.perf_counter()
    if a.report:
        write_report(card, a.report)
    c6 = time.perf_counter()
    n_vert = sum(len(t.t) for t in truth)
    print(
        f"zones {len(zs)}, threats {len(truth)} ({n_vert} truth vertices), "
        f"alert lines {len(alerts)}"
    )
    print(
        f"seconds: zones {c1 - c0:.2f}, truth {c2 - c1:.2f}, alerts {c3 - c2:.2f}, "
        f"score cold {c4 - c3:.2f}, warm (cached truth index) {c5 - c4:.2f}, "
        f"report {c6 - c5:.2f}"
    )
    print(json.dumps({k: v for k, v in card.summary.items()}, indent=1))


if __name__ == "__main__":
    main()
