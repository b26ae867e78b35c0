"""Fusion alone on a simulated raid: speed (x real time) and track quality against truth.

    python -m airwarn.cli simulate --out /tmp/raid          # the default record raid
    python bench/fuse_raid.py --scenario /tmp/raid [--tick 5] [--every 60]

Reports are fed to the Tracker in arrival (file) order, one decision tick every
``--tick`` seconds as in the pipeline (late reports arrive late). Tracker time
(wall and CPU) excludes parsing. Every ``--every`` seconds the confirmed tracks are
matched to the airborne threats (truth interpolated): coverage = share of airborne
threats with a confirmed track within 3 km, false = confirmed tracks with no threat
within 10 km, and the median/90th percentile position error of matched pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airwarn.contracts import CLS_CODE, read_truth  # noqa: E402
from airwarn.fuse import Tracker, TrackerConfig  # noqa: E402
from airwarn.fuse.run import _slice, load_batches  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, required=True)
    ap.add_argument("--tick", type=float, default=5.0)
    ap.add_argument("--every", type=float, default=60.0)
    ap.add_argument("--lag", type=float, default=None, help="TrackerConfig.process_lag_s")
    ap.add_argument("--rollback", type=float, default=None, help="TrackerConfig.rollback_s")
    a = ap.parse_args()
    c0 = time.perf_counter()
    reg, b, ing = load_batches(a.scenario / "sensors.jsonl", a.scenario / "detections.jsonl")
    truth = read_truth(a.scenario / "truth.jsonl")
    print(f"parsed {len(b)} reports in {time.perf_counter() - c0:.1f} s", file=sys.stderr)
    t0 = np.floor(b.t.min() / a.tick) * a.tick
    t1 = b.t.max() + 300.0
    ticks = np.arange(t0 + a.tick, t1, a.tick)
    clock = np.maximum.accumulate(b.t)
    upto = np.searchsorted(clock, ticks, side="right").tolist()
    # truth in the local frame
    fr = reg.frame
    tr_xy = [np.stack(fr.to_local(th.lat, th.lon), 1) for th in truth]
    tr_t = [th.t for th in truth]
    kw = {"process_lag_s": a.lag, "rollback_s": a.rollback}
    trk = Tracker(reg, TrackerConfig(**{k: v for k, v in kw.items() if v is not None}))
    wall = cpu = 0.0
    prev = 0
    cov, false, errs, n_live, n_conf = [], [], [], [], []
    cls_ok = cls_n = 0
    next_eval = ticks[0] + a.every
    for T, k in zip(ticks.tolist(), upto, strict=True):
        w0, p0 = time.perf_counter(), time.process_time()
        if k > prev:
            trk.add(_slice(b, prev, k))
            prev = k
        st = trk.advance(T)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - p0
        if T < next_eval:
            continue
        next_eval += a.every
        alive = [i for i in range(len(truth)) if tr_t[i][0] <= T <= tr_t[i][-1]]
        n_live.append(len(st))
        c = st.confirmed
        n_conf.append(int(c.sum()))
        if not alive:
            false.append(int(c.sum()))
            continue
        tp = np.array([[np.interp(T, tr_t[i], tr_xy[i][:, j]) for j in (0, 1)] for i in alive])
        xs = st.x[c, :2]
        if xs.shape[0] == 0:
            cov.append(0.0)
            false.append(0)
            continue
        d = np.hypot(xs[:, None, 0] - tp[None, :, 0], xs[:, None, 1] - tp[None, :, 1])
        ri, ci = linear_sum_assignment(np.minimum(d, 3000.0))
        ok = d[ri, ci] < 3000.0
        cov.append(ok.sum() / len(alive))
        errs.extend(d[ri[ok], ci[ok]].tolist())
        false.append(int((d.min(axis=1) > 10000.0).sum()))
        tcls = np.array([CLS_CODE[truth[alive[j]].cls] for j in ci[ok]])
        cls_ok += int((st.cls[c][ri[ok]] == tcls).sum())
        cls_n += int(ok.sum())
    dur = float(b.t.max() - b.t.min())
    out = {
        "reports": len(b),
        "raid_s": round(dur, 1),
        "ticks": len(ticks),
        "tracker_wall_s": round(wall, 2),
        "tracker_cpu_s": round(cpu, 2),
        "x_real_time_wall": round(dur / wall, 1),
        "x_real_time_cpu": round(dur / cpu, 1),
        "reports_per_s_cpu": round(len(b) / cpu, 0),
        "coverage_mean": round(float(np.mean(cov)), 3) if cov else None,
        "false_confirmed_mean": round(float(np.mean(false)), 2) if false else None,
        "live_tracks_mean": round(float(np.mean(n_live)), 1),
        "confirmed_mean": round(float(np.mean(n_conf)), 1),
        "pos_err_median_m": round(float(np.median(errs)), 0) if errs else None,
        "pos_err_p90_m": round(float(np.percentile(errs, 90)), 0) if errs else None,
        "class_accuracy": round(cls_ok / cls_n, 3) if cls_n else None,
        "tracker": trk.stats,
        "ingest": {k: v for k, v in ing.stats.to_json().items() if k != "error_samples"},
    }
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
