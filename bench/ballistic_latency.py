"""Ballistic alert latency, per threat: seconds from the first confirmed track near a ballistic
missile (within 5 km of its true position) to the start of the alert of the zone it strikes.

Usage: python bench/ballistic_latency.py SCENARIO_DIR REPLAY_DIR
(REPLAY_DIR from `airwarn replay ... --track-every 5`, so track snapshots resolve one tick.)
Example:
  airwarn simulate --out /tmp/bal --seed 11 --hours 1 --drones 0 --cruise 0 --ballistic 20
  airwarn replay --sensors /tmp/bal/sensors.jsonl --detections /tmp/bal/detections.jsonl \
      --zones /tmp/bal/zones.geojson --out /tmp/balout --no-cap --track-every 5
  python bench/ballistic_latency.py /tmp/bal /tmp/balout
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from airwarn.contracts import read_alerts, read_truth, read_zones
from airwarn.zones import zone_set


def main(scen: Path, out: Path) -> None:
    zs = zone_set(read_zones(scen / "zones.geojson"))
    fr = zs.frame
    snaps: dict[float, list[tuple[float, float]]] = defaultdict(list)
    for line in (out / "tracks.jsonl").open():
        u = json.loads(line)
        if u["confirmed"]:
            x, y = fr.to_local(u["lat"], u["lon"])
            snaps[u["t"]].append((float(x), float(y)))
    times = np.array(sorted(snaps))
    starts: dict[str, list[float]] = defaultdict(list)
    for a in read_alerts(out / "alerts.jsonl"):
        if a.state == "alert":
            starts[a.zone].append(a.t)
    rows = []
    for th in read_truth(scen / "truth.jsonl"):
        if th.cls != "ballistic" or not th.impact:
            continue
        ix, iy = fr.to_local(th.impact["lat"], th.impact["lon"])
        z = int(zs.containing(ix, iy)[0])
        if z < 0:
            continue  # falls in open ground: nobody to alert
        tx, ty = fr.to_local(th.lat, th.lon)
        t_conf = None
        for t in times[(times >= th.t[0]) & (times <= th.t[-1])]:
            px, py = np.interp(t, th.t, tx), np.interp(t, th.t, ty)
            p = np.array(snaps[t])
            if np.min(np.hypot(p[:, 0] - px, p[:, 1] - py)) < 5000.0:
                t_conf = float(t)
                break
        s = [t for t in starts.get(zs.ids[z], []) if t <= th.impact["t"]]
        t_alert = max(s) if s else None
        rows.append((th.id, t_conf, t_alert, th.impact["t"]))
    lat = np.array([a - c for _, c, a, _ in rows if c is not None and a is not None])
    print(f"ballistic impacts in zones: {len(rows)}; tracked and alerted: {lat.size}")
    for tid, c, a, ti in rows:
        print(f"  {tid}: first confirmed {None if c is None else round(c - ti)} s, "
              f"alert {None if a is None else round(a - ti)} s before impact")  # fmt: skip
    if lat.size:
        print(
            f"alert start - first confirmed track: median {np.median(lat):.1f} s, "
            f"max {lat.max():.1f} s, within 10 s {np.mean(lat <= 10.0):.0%}"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
