"""Benchmark of Predictor.update: 600 threats x 20,000 zones over Ukraine, one core.

Builds a synthetic ZoneSet of square cells tiling a box of Ukraine's area around the
built-in frame centre (every square populated: the worst case, real zones leave gaps),
and a raid of drones, cruise missiles and ballistic missiles spread over it. Prints the
time per update and per (track, zone) pair, and the same with lost-track ghosts.

    python bench/predict_bench.py [--zones 20000] [--tracks 600] [--updates 5] \
        [--ballistic N] [--policy P]

``--ballistic`` sets how many of the tracks are ballistic missiles (default 2%; a barrage
such as Iran's of April 2024 had ~120), ``--policy`` another policy TOML (e.g. one with
``[predict.ballistic] path_samples = 0``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, TrackState, Zone  # noqa: E402
from airwarn.decide.policy import Policy  # noqa: E402
from airwarn.geo import UKRAINE_CENTER, LocalFrame  # noqa: E402
from airwarn.predict import Predictor  # noqa: E402
from airwarn.zones.zoneset import ZoneSet  # noqa: E402

UKRAINE_AREA_M2 = 603_550e6


def square_zones(n: int, frame: LocalFrame, rng: np.random.Generator) -> list[Zone]:
    """About ``n`` square zones tiling a square of Ukraine's area, as WGS84 polygons."""
    side = int(np.ceil(np.sqrt(n)))
    cell = np.sqrt(UKRAINE_AREA_M2 / (side * side))
    half = side * cell / 2
    ii, jj = np.divmod(np.arange(n), side)
    x0 = -half + ii * cell
    y0 = -half + jj * cell
    xs = np.stack([x0, x0 + cell, x0 + cell, x0], 1)
    ys = np.stack([y0, y0, y0 + cell, y0 + cell], 1)
    lat, lon = frame.to_geo(xs.ravel(), ys.ravel())
    lat, lon = lat.reshape(-1, 4), lon.reshape(-1, 4)
    pop = np.maximum(rng.lognormal(7.0, 1.6, n).astype(np.int64), 0)
    return [
        Zone(
            f"Z{i:05d}",
            f"Z{i:05d}",
            int(pop[i]),
            60.0,
            f"R{i % 24}",
            Polygon(zip(lon[i], lat[i], strict=True)),
        )
        for i in range(n)
    ]


def raid(
    n: int, t: float, frame_half: float, rng: np.random.Generator, n_bal: int | None = None
) -> TrackState:
    """``n`` confirmed threats: 2% cruise, ``n_bal`` (default 2%) ballistic, the rest drones,
    spread over the box."""
    n_bal = max(1, n // 50) if n_bal is None else n_bal
    n_cru = max(1, n // 50)
    n_dr = n - n_bal - n_cru
    cls = np.array(
        [CLS_CODE["drone"]] * n_dr + [CLS_CODE["cruise"]] * n_cru + [CLS_CODE["ballistic"]] * n_bal
    )
    x = np.zeros((n, 6))
    x[:, :2] = rng.uniform(-0.9 * frame_half, 0.9 * frame_half, (n, 2))
    ang = rng.uniform(0, 2 * np.pi, n)
    sp = np.where(cls == CLS_CODE["drone"], rng.uniform(40, 52, n), 230.0)
    x[:, 2] = np.where(cls == CLS_CODE["cruise"], 100.0, 300.0)
    x[:, 3], x[:, 4] = sp * np.cos(ang), sp * np.sin(ang)
    b = cls == CLS_CODE["ballistic"]
    # ballistic: 40 km up, from climbing (the whole path ahead) to falling
    x[b, 2] = 40000.0
    x[b, 3], x[b, 4] = 1200 * np.cos(ang[b]), 1200 * np.sin(ang[b])
    x[b, 5] = rng.uniform(-600.0, 600.0, int(b.sum()))
    P = np.zeros((n, 6, 6))
    for i in range(3):
        P[:, i, i] = 300.0**2
        P[:, i + 3, i + 3] = 4.0**2
    prob = np.zeros((n, len(THREAT_CLASSES)))
    prob[np.arange(n), cls] = 1.0
    return TrackState(
        t=t,
        ids=np.arange(1, n + 1, dtype=np.int64),
        x=x,
        P=P,
        cls=cls,
        cls_prob=prob,
        confirmed=np.ones(n, bool),
        last_update=np.full(n, t),
        n_updates=np.full(n, 20, np.int64),
    )


def moved(tr: TrackState, dt: float, keep: np.ndarray | None = None) -> TrackState:
    """The raid ``dt`` seconds later (straight flight), optionally only rows ``keep``."""
    x = tr.x.copy()
    x[:, :3] += dt * x[:, 3:6]
    sel = np.arange(len(tr)) if keep is None else np.flatnonzero(keep)
    return TrackState(
        t=tr.t + dt,
        ids=tr.ids[sel],
        x=x[sel],
        P=tr.P[sel],
        cls=tr.cls[sel],
        cls_prob=tr.cls_prob[sel],
        confirmed=tr.confirmed[sel],
        last_update=np.full(sel.size, tr.t + dt),
        n_updates=tr.n_updates[sel],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zones", type=int, default=20000)
    ap.add_argument("--tracks", type=int, default=600)
    ap.add_argument("--updates", type=int, default=5, help="full updates to time")
    ap.add_argument("--ticks", type=int, default=24, help="pipeline ticks (5 s) to time")
    ap.add_argument("--ghosts", type=int, default=100, help="tracks deleted for the ghost run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ballistic", type=int, default=None, help="ballistic tracks among them")
    ap.add_argument("--policy", type=Path, default=None, help="policy TOML (default: built-in)")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    frame = LocalFrame(*UKRAINE_CENTER)
    c0 = time.perf_counter()
    zl = square_zones(a.zones, frame, rng)
    zs = ZoneSet(zl, frame)
    c1 = time.perf_counter()
    pred = Predictor(zs, Policy.load(a.policy))
    c2 = time.perf_counter()
    print(f"zones: {len(zs)} squares of {np.sqrt(zs.area_m2.mean()) / 1000:.2f} km side")
    print(f"ZoneSet build {c1 - c0:.2f} s; Predictor init (raster) {c2 - c1:.2f} s, ", end="")
    print(f"{pred.raster.nx * pred.raster.ny} cells, {pred.raster.n_pairs} (cell, zone) entries")
    half = np.sqrt(UKRAINE_AREA_M2) / 2
    tr = raid(a.tracks, 1.7e9, half, rng, a.ballistic)
    pairs = len(tr) * len(zs)

    def run(label: str, states: list[TrackState]) -> None:
        times, cpu, rows = [], [], []
        for s in states:
            u0, p0 = time.perf_counter(), time.process_time()
            zt = pred.update(s)
            times.append(time.perf_counter() - u0)
            cpu.append(time.process_time() - p0)
            rows.append(len(zt))
        tm = np.array(times[1:] if len(times) > 1 else times)
        tc = np.array(cpu[1:] if len(cpu) > 1 else cpu)
        print(
            f"{label}: per tick wall mean {tm.mean() * 1000:.0f} ms, CPU mean "
            f"{tc.mean() * 1000:.0f} ms (max {tc.max() * 1000:.0f}); {int(np.median(rows))} rows,"
            f" ghosts {pred.n_ghosts}"
        )

    # full updates: every track predicted afresh (a new predictor each time: no reuse)
    states = [moved(tr, 5.0 * i) for i in range(a.updates + 1)]
    times, cpu = [], []
    for s in states:
        pred.cache = type(pred.cache)()
        u0, p0 = time.perf_counter(), time.process_time()
        zt = pred.update(s)
        times.append(time.perf_counter() - u0)
        cpu.append(time.process_time() - p0)
    tm, tc = np.array(times[1:]), np.array(cpu[1:])
    print(
        f"full update, {len(tr)} tracks x {len(zs)} zones: wall median {np.median(tm) * 1000:.0f}"
        f" ms (min {tm.min() * 1000:.0f}), CPU median {np.median(tc) * 1000:.0f} ms (min "
        f"{tc.min() * 1000:.0f}) = {np.median(tc) / pairs * 1e9:.1f} ns CPU per (track, zone) "
        f"pair; {len(zt)} rows"
    )
    # pipeline steady state: a tick every 5 s, predictions reused until refresh_s
    pred.cache = type(pred.cache)()
    ticks = [moved(tr, 5.0 * i) for i in range(a.ticks)]
    run(f"pipeline ticks (5 s, reuse), {len(tr)} live tracks", ticks)
    keep = np.ones(len(tr), bool)
    keep[rng.choice(len(tr) - len(tr) // 25, a.ghosts, replace=False)] = False
    t_last = ticks[-1].t - tr.t
    gst = [moved(tr, t_last + 5.0 * (i + 1), keep) for i in range(a.ticks)]
    run(f"pipeline ticks, {int(keep.sum())} live + {a.ghosts} just lost", gst)
    print("(timings on a shared machine: noisy; one core, OMP/BLAS threads = 1)")


if __name__ == "__main__":
    main()
