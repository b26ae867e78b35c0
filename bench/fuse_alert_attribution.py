"""Which tracks the alerts of a replay came from: real threats, threats already down, or none.

    python bench/fuse_alert_attribution.py --run /tmp/awq_fuse/run-il-s13 \\
        --scenario /tmp/awq_fuse/sim-israel-13-1-20-2-12

Each published confirmed track (``tracks.jsonl``) is matched, at every time it was
published, to the nearest airborne threat (truth interpolated); a track never within
``--near`` m of one is *false*. Each zone entering ``alert`` (``alerts.jsonl``) is shared
among the tracks it names: to false tracks, to real tracks while their threat flies, and
to real tracks after their threat's path ended (downed or struck: a coasting track or its
ghost). Prints the counts and the false tracks with the most alert starts.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airwarn.contracts import read_truth  # noqa: E402
from airwarn.geo import LocalFrame  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--scenario", type=Path, required=True)
    ap.add_argument("--near", type=float, default=10000.0)
    a = ap.parse_args()
    truth = read_truth(a.scenario / "truth.jsonl")
    lat0 = float(np.mean([np.mean(th.lat) for th in truth])) if truth else 0.0
    lon0 = float(np.mean([np.mean(th.lon) for th in truth])) if truth else 0.0
    fr = LocalFrame(lat0, lon0)
    txy = [np.stack(fr.to_local(th.lat, th.lon), 1) for th in truth]
    tt = [np.asarray(th.t, float) for th in truth]
    tend = np.array([t[-1] for t in tt])
    # per track: nearest threat per publication
    best: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    seen: set[str] = set()
    for line in (a.run / "tracks.jsonl").open():
        o = json.loads(line)
        if not o.get("confirmed"):
            continue
        tid, t = o["track"], float(o["t"])
        seen.add(tid)
        x, y = fr.to_local(np.array([o["lat"]]), np.array([o["lon"]]))
        d_best, i_best = np.inf, -1
        for i in range(len(truth)):
            if tt[i][0] <= t <= tt[i][-1]:
                px = np.interp(t, tt[i], txy[i][:, 0])
                py = np.interp(t, tt[i], txy[i][:, 1])
                d = float(np.hypot(x[0] - px, y[0] - py))
                if d < d_best:
                    d_best, i_best = d, i
        if d_best <= a.near:
            best[tid][i_best] += 1
    match = {k: max(v, key=v.get) for k, v in best.items()}
    false_ids = seen - set(match)
    counts = defaultdict(float)
    per_false = defaultdict(float)
    for line in (a.run / "alerts.jsonl").open():
        o = json.loads(line)
        if o.get("state") != "alert":
            continue
        trs = o.get("tracks") or []
        if not trs:
            counts["no track"] += 1
            continue
        w = 1.0 / len(trs)
        for tid in trs:
            if tid in match:
                after = float(o["t"]) > tend[match[tid]] + 10.0
                counts["real, threat down" if after else "real, threat flying"] += w
            elif tid in false_ids:
                counts["false track"] += w
                per_false[tid] += w
            else:
                counts["unpublished track"] += w
    out = {
        "confirmed_tracks": len(seen),
        "false_tracks": len(false_ids),
        "false_tracks_alerting": sum(1 for v in per_false.values() if v > 0),
        "alert_starts": {k: round(v, 1) for k, v in sorted(counts.items())},
        "top_false": sorted(((round(v, 1), k) for k, v in per_false.items()), reverse=True)[:10],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
