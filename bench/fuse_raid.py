"""Fusion alone on a simulated raid: speed (x real time) and track quality against truth.

    python -m airwarn.cli simulate --out /tmp/raid          # the default record raid
    python bench/fuse_raid.py --scenario /tmp/raid [--tick 5] [--every 60]

Reports are fed to the Tracker in arrival (file) order, one decision tick every
``--tick`` seconds as in the pipeline (late reports arrive late). Tracker time
(wall and CPU) excludes parsing. Every ``--every`` seconds the confirmed tracks are
matched to the airborne threats (truth interpolated): coverage = share of airborne
threats with a confirmed track within 3 km, false = confirmed tracks with no threat
within 10 km, and the median/90th percentile position error of matched pairs.
At every tick, each confirmed track id is checked against the airborne threats:
``confirmed_ids_false`` counts the ids never within 10 km of one while confirmed, and
``confirm_delay_s`` is, per threat, the time from its launch to the
first confirmed track within 3 km of it (median, 90th percentile).

Sensor liveness (heartbeats and reports, by time stamp) is passed to the tracker as the
pipeline does (``--no-liveness``: not passed; ``--no-existence``: existence off;
``--old``: the tracker without existence and duplicate handling).
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
    ap.add_argument("--no-liveness", action="store_true", help="pass no sensor liveness")
    ap.add_argument("--no-existence", action="store_true", help="TrackerConfig.existence=False")
    ap.add_argument("--old", action="store_true", help="existence, absorb and merge all off")
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
    if a.no_existence or a.old:
        kw["existence"] = False
    if a.old:
        kw.update(absorb=False, merge=False)
    hb_t, hb_s = _seen_events(a.scenario / "detections.jsonl", reg)
    last_seen = np.full(len(reg), -np.inf)
    hb_k = 0
    conf_true: dict[int, bool] = {}
    first_conf: dict[int, float] = {}
    t_start = np.array([t[0] for t in tr_t])
    trk = Tracker(reg, TrackerConfig(**{k: v for k, v in kw.items() if v is not None}))
    wall = cpu = 0.0
    prev = 0
    cov, false, errs, n_live, n_conf = [], [], [], [], []
    nees_p: list[float] = []
    nees_v: list[float] = []
    cls_ok = cls_n = 0
    next_eval = ticks[0] + a.every
    for T, k in zip(ticks.tolist(), upto, strict=True):
        w0, p0 = time.perf_counter(), time.process_time()
        if k > prev:
            trk.add(_slice(b, prev, k))
            prev = k
        if not a.no_liveness:
            k2 = int(np.searchsorted(hb_t, T, side="right"))
            np.maximum.at(last_seen, hb_s[hb_k:k2], hb_t[hb_k:k2])
            hb_k = k2
            st = trk.advance(T, sensor_last_seen=last_seen)
        else:
            st = trk.advance(T)
        wall += time.perf_counter() - w0
        cpu += time.process_time() - p0
        _score_tick(T, st, tr_t, tr_xy, conf_true, first_conf)
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
        m = np.flatnonzero(c)[ri[ok]]  # matched confirmed tracks
        tv = np.zeros((m.size, 2))
        for r, j in enumerate(ci[ok]):
            tv[r] = _truth_vel(tr_t[alive[j]], tr_xy[alive[j]], T)
        nees_p.extend(_nees(st.x[m, :2] - tp[ci[ok]], st.P[m, :2, :2]).tolist())
        nees_v.extend(_nees(st.x[m, 3:5] - tv, st.P[m, 3:5, 3:5]).tolist())
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
        # normalised estimation error squared of matched confirmed tracks (2-D, horizontal):
        # a consistent filter gives a mean of 2; below, its covariance is too large (spread
        # predictions too wide); above, too small
        "nees_pos_mean": round(float(np.mean(nees_p)), 2) if nees_p else None,
        "nees_pos_median": round(float(np.median(nees_p)), 2) if nees_p else None,
        "nees_vel_mean": round(float(np.mean(nees_v)), 2) if nees_v else None,
        "nees_vel_median": round(float(np.median(nees_v)), 2) if nees_v else None,
        "class_accuracy": round(cls_ok / cls_n, 3) if cls_n else None,
        "confirmed_ids": len(conf_true),
        "confirmed_ids_false": int(sum(not v for v in conf_true.values())),
        "threats_confirmed": f"{len(first_conf)}/{len(truth)}",
        "confirm_delay_s_median": _pct(first_conf, t_start, 50),
        "confirm_delay_s_p90": _pct(first_conf, t_start, 90),
        "tracker": trk.stats,
        "ingest": {k: v for k, v in ing.stats.to_json().items() if k != "error_samples"},
    }
    print(json.dumps(out, indent=1))
    return out


def _nees(e: np.ndarray, P: np.ndarray) -> np.ndarray:
    """e^T P^-1 e for each row (2-D errors, 2x2 covariances)."""
    if e.shape[0] == 0:
        return np.zeros(0)
    return np.einsum("ni,nij,nj->n", e, np.linalg.inv(P), e)


def _truth_vel(t: np.ndarray, xy: np.ndarray, T: float, h: float = 5.0) -> np.ndarray:
    """Truth horizontal velocity at T (central difference over +-h seconds)."""
    a, b = max(t[0], T - h), min(t[-1], T + h)
    if b <= a:
        return np.zeros(2)
    pa = np.array([np.interp(a, t, xy[:, 0]), np.interp(a, t, xy[:, 1])])
    pb = np.array([np.interp(b, t, xy[:, 0]), np.interp(b, t, xy[:, 1])])
    return (pb - pa) / (b - a)


def _seen_events(path: Path, reg) -> tuple[np.ndarray, np.ndarray]:
    """(time, sensor index) of every heartbeat and report of a registered sensor, by time."""
    ts, ss = [], []
    for line in path.open():
        try:
            o = json.loads(line)
            i = reg.index.get(o["sensor"])
            t = float(o["t"])
        except (ValueError, KeyError, TypeError):
            continue
        if i is not None:
            ts.append(t)
            ss.append(i)
    t = np.asarray(ts, float)
    o = np.argsort(t, kind="stable")
    return t[o], np.asarray(ss, np.int64)[o]


def _score_tick(T, st, tr_t, tr_xy, conf_true, first_conf) -> None:
    """Mark confirmed ids near an airborne threat (10 km); note first confirmations (3 km)."""
    c = np.flatnonzero(st.confirmed)
    if c.size == 0:
        return
    alive = [i for i in range(len(tr_t)) if tr_t[i][0] <= T <= tr_t[i][-1]]
    xs = st.x[c, :2]
    if alive:
        tp = np.array([[np.interp(T, tr_t[i], tr_xy[i][:, j]) for j in (0, 1)] for i in alive])
        d = np.hypot(xs[:, None, 0] - tp[None, :, 0], xs[:, None, 1] - tp[None, :, 1])
    else:
        d = np.full((c.size, 1), np.inf)
    near = d.min(axis=1) <= 10000.0
    for tid, ok in zip(st.ids[c].tolist(), near.tolist(), strict=True):
        conf_true[tid] = conf_true.get(tid, False) or ok
    for j, i in enumerate(alive):
        if i not in first_conf and d[:, j].min() <= 3000.0:
            first_conf[i] = T


def _pct(first_conf: dict, t_start: np.ndarray, q: float) -> float | None:
    if not first_conf:
        return None
    dl = [T - t_start[i] for i, T in first_conf.items()]
    return round(float(np.percentile(dl, q)), 1)


if __name__ == "__main__":
    main()
