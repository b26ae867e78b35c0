"""How many false alert episodes lie ahead of a threat that was downed before it got there.

A warning system cannot know that a threat will be intercepted: zones on its path are
alerted, and if it is downed before it comes within 15 km they count as false episodes.
This splits the false episodes of a replay (approximately: zone centroids, an
equirectangular frame) into those with a threat downed within 10 min before or during the
episode, within 100 km of the zone and heading within 60 degrees of it, and the rest.

    python bench/false_alert_downed.py SCENARIO_DIR RUN_DIR [ZONES_GEOJSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

R = 6_371_000.0


def main(sim: Path, run: Path, zfile: Path) -> None:
    """Print the split for one replay."""
    truth = [json.loads(line) for line in (sim / "truth.jsonl").open()]
    lat0 = float(np.mean([d["lat"][0] for d in truth]))
    lon0 = float(np.mean([d["lon"][0] for d in truth]))

    def xy(lat, lon):
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        return np.radians(lon - lon0) * R * np.cos(np.radians(lat0)), np.radians(lat - lat0) * R

    pts, ends = [], []
    for d in truth:
        x, y = xy(d["lat"], d["lon"])
        pts.append(np.column_stack([d["t"], x, y]))
        if d["fate"] == "downed" and len(d["t"]) > 1:
            dt = max(d["t"][-1] - d["t"][-2], 1e-3)
            ends.append((d["t"][-1], x[-1], y[-1], (x[-1] - x[-2]) / dt, (y[-1] - y[-2]) / dt))
    T = np.concatenate(pts)
    E = np.array(ends).reshape(-1, 5)
    zc = {}
    for f in json.loads(zfile.read_text())["features"]:
        g = f["geometry"]
        ring = np.array(g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0])
        zc[f["properties"].get("id") or f.get("id")] = xy(ring[:, 1].mean(), ring[:, 0].mean())
    state: dict[str, tuple] = {}
    eps = []
    for line in (run / "alerts.jsonl").open():
        a = json.loads(line)
        z = a["zone"]
        if a["state"] == "alert":
            if state.get(z, (None,))[0] != "alert":
                state[z] = ("alert", a["t"])
        else:
            s = state.get(z)
            if s and s[0] == "alert":
                eps.append((z, s[1], a["t"]))
            state[z] = (a["state"],)
    n_false = n_downed = 0
    for z, t0, t1 in eps:
        x, y = zc[z]
        m = (T[:, 0] >= t0 - 300) & (T[:, 0] <= t1 + 300)
        if m.any() and np.hypot(T[m, 1] - x, T[m, 2] - y).min() <= 15_000:
            continue
        n_false += 1
        e = E[(E[:, 0] >= t0 - 600) & (E[:, 0] <= t1)]
        if len(e):
            rx, ry = x - e[:, 1], y - e[:, 2]
            dist, sp = np.hypot(rx, ry), np.hypot(e[:, 3], e[:, 4])
            cos = (rx * e[:, 3] + ry * e[:, 4]) / np.maximum(dist * sp, 1e-9)
            n_downed += bool(((dist < 100_000) & (cos > 0.5)).any())
    print(
        f"{run}: {len(eps)} alert episodes (closed), {n_false} false "
        f"({n_false / max(len(eps), 1):.1%}); {n_downed} of them "
        f"({n_downed / max(n_false, 1):.0%}) ahead of a threat downed before it got there"
    )


if __name__ == "__main__":
    a = [Path(p) for p in sys.argv[1:]]
    main(a[0], a[1], a[2] if len(a) > 2 else a[0] / "zones.geojson")
