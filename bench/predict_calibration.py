"""Calibration of the predictor on a scenario's truth (e.g. one written by `airwarn simulate`).

Every ``--every`` seconds, each airborne threat becomes a confirmed track from its true
path (with position/velocity errors ``--sigma-pos`` / ``--sigma-vel``); the predicted
(zone, track) rows are compared with the zones the path really reaches within the
horizon. Prints, per class: recall (share of true arrivals predicted with p_reach at
or above a threshold) by lead time, a reliability table, and how often the true arrival
came before the predicted eta_p10 / eta_p50.

    python bench/predict_calibration.py --scenario DIR [--every 120] [--policy FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from airwarn.contracts import CLS_CODE, read_truth  # noqa: E402
from airwarn.decide.policy import Policy  # noqa: E402
from airwarn.predict.calibrate import LEAD_BINS, calibrate, paths_from_truth  # noqa: E402
from airwarn.zones import load_zones, zone_set  # noqa: E402


def report(cal, label: str) -> None:
    """Print recall, reliability and ETA coverage of one calibration."""
    n_arr = int(cal.arrived.sum())
    print(f"\n== {label}: {cal.p.size} (sample, zone) pairs, {n_arr} true arrivals")
    if n_arr == 0:
        return
    head = "recall  p>=  " + "  ".join(
        f"{int(a / 60)}-{int(b / 60)}min"
        for a, b in zip(LEAD_BINS[:-1], LEAD_BINS[1:], strict=True)
    )
    print(head)
    for pm in (0.02, 0.05, 0.1, 0.3):
        vals = [cal.recall(pm, a, b) for a, b in zip(LEAD_BINS[:-1], LEAD_BINS[1:], strict=True)]
        print(f"        {pm:<5}" + "  ".join(f"{v:8.3f}" for v in vals))
    print("reliability: predicted p bin -> pairs, observed arrival frequency")
    for lo, hi, n, f in cal.reliability():
        if n:
            print(f"   [{lo:.2f}, {min(hi, 1):.2f})  {n:7d}  {f:.3f}")
    e10, e50 = cal.eta_early(0.05)
    print(f"true arrival earlier than eta_p10: {e10:.3f}, than eta_p50: {e50:.3f} (p>=0.05)")
    pred_pairs = int((cal.p >= 0.05).sum())
    print(f"pairs predicted p>=0.05: {pred_pairs} for {n_arr} true arrivals")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, required=True)
    ap.add_argument("--every", type=float, default=120.0)
    ap.add_argument("--policy", type=Path, default=None)
    ap.add_argument("--sigma-pos", type=float, default=300.0)
    ap.add_argument("--sigma-vel", type=float, default=3.0)
    ap.add_argument("--max-times", type=int, default=400)
    a = ap.parse_args()
    zp = a.scenario / "zones.geojson"
    from airwarn.zones import builtin_zones

    zs = zone_set(load_zones(zp) if zp.exists() else builtin_zones())
    paths = paths_from_truth(read_truth(a.scenario / "truth.jsonl"), zs)
    t0 = min(p.t[0] for p in paths)
    t1 = max(p.t[-1] for p in paths)
    times = np.arange(t0 + a.every / 2, t1, a.every)[: a.max_times]
    pol = Policy.load(a.policy)
    c0 = time.process_time()
    cal = calibrate(paths, zs, pol, times, sigma_pos=a.sigma_pos, sigma_vel=a.sigma_vel)
    print(f"{len(paths)} threats, {len(times)} sample times, {time.process_time() - c0:.1f} s CPU")
    for name in ("drone", "jet_drone", "cruise", "ballistic"):
        m = cal.cls == CLS_CODE[name]
        if m.any():
            sub = type(cal)(*(getattr(cal, f)[m] for f in cal.__dataclass_fields__))
            report(sub, name)


if __name__ == "__main__":
    main()
