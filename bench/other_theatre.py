"""Is airwarn free of its home theatre? Replay a scenario as it is and moved to another
hemisphere and longitude, and compare the scorecards.

The move mirrors every latitude (lat -> -lat) and shifts every longitude (lon -> lon +
``--shift-lon``, wrapped to [-180, 180)): on the sphere that keeps every distance, bearing
magnitude and time, and flips north velocities (``vel_n``). Sensors, detections, truth
(paths and impact points) and zones move together. A theatre-free system scores the moved
raid as the original, up to the route noise that predict seeds from each track's first
report (its birth key hashes the report's coordinates): the same missed and late pairs, and
person-hours within the seed-to-seed spread (README, "How much of a difference is noise").

    python bench/other_theatre.py --scenario DIR [--zones FILE] [--shift-lon 100] \
        [--work /tmp/aw-theatre] [--policy P]

A zone the shift carries across the 180th meridian is split there into a MultiPolygon
(RFC 7946), so ``--shift-lon 145`` puts Israel's areas on both sides of it.

``DIR`` holds sensors.jsonl, detections.jsonl and truth.jsonl (``airwarn simulate`` or
another generator's); ``--zones`` defaults to DIR/zones.geojson.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np


def _lon(v: float, shift: float) -> float:
    return round(((v + shift + 180.0) % 360.0) - 180.0, 7)


def move(o: dict, shift: float) -> dict:
    """One sensors/detections/truth record mirrored to the other hemisphere and shifted."""
    for k in ("lat", "lon", "vel_n"):
        v = o.get(k)
        if v is None:
            continue
        f = (lambda a: _lon(a, shift)) if k == "lon" else (lambda a: -a)
        o[k] = [f(a) for a in v] if isinstance(v, list) else f(v)
    imp = o.get("impact")
    if isinstance(imp, dict):
        imp["lat"], imp["lon"] = -imp["lat"], _lon(imp["lon"], shift)
    return o


def _geometry(g: dict, shift: float) -> dict:
    """A zone geometry mirrored and shifted; one that the shift carries across the 180th
    meridian is split there into a MultiPolygon, as RFC 7946 asks."""
    import shapely
    from shapely.geometry import box, mapping, shape

    geom = shapely.transform(shape(g), lambda c: np.column_stack([c[:, 0] + shift, -c[:, 1]]))
    west, _, east, _ = geom.bounds
    if -180.0 <= west and east <= 180.0:
        return mapping(geom)
    parts = []
    for k in (-1, 0, 1):  # the part in each 360-degree band, brought into [-180, 180]
        part = geom.intersection(box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0))
        if not part.is_empty:
            parts.append(shapely.transform(part, lambda c, k=k: c - [360.0 * k, 0.0]))
    out = shapely.union_all(parts) if len(parts) > 1 else parts[0]
    return mapping(shapely.MultiPolygon(shapely.get_parts(out)) if len(parts) > 1 else out)


def move_scenario(src: Path, zones: Path, dst: Path, shift: float) -> None:
    """Write the moved copy of scenario ``src`` (and its zones) to ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("sensors.jsonl", "detections.jsonl", "truth.jsonl"):
        with open(src / name) as fi, open(dst / name, "w") as fo:
            for line in fi:
                if line.strip():
                    fo.write(json.dumps(move(json.loads(line), shift)) + "\n")
    fc = json.loads(zones.read_text())
    for ft in fc["features"]:
        ft["geometry"] = _geometry(ft["geometry"], shift)
    (dst / "zones.geojson").write_text(json.dumps(fc))


def run(scen: Path, zones: Path, out: Path, policy: str | None) -> dict:
    """Replay and evaluate one scenario; its scorecard."""
    aw = [sys.executable, "-m", "airwarn.cli"]
    cmd = [*aw, "replay", "--sensors", str(scen / "sensors.jsonl"), "--detections",
           str(scen / "detections.jsonl"), "--zones", str(zones), "--out", str(out), "--no-cap"]  # fmt: skip
    if policy:
        cmd += ["--policy", policy]
    for c in (cmd, [*aw, "evaluate", "--scenario", str(scen), "--alerts",
                    str(out / "alerts.jsonl"), "--zones", str(zones), "--out", str(out)]):  # fmt: skip
        r = subprocess.run(c, capture_output=True, text=True)
        if r.returncode:
            sys.exit(f"failed: {' '.join(c)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    return json.loads((out / "scorecard.json").read_text())


def row(name: str, s: dict) -> str:
    """One scorecard as a table row."""
    return (
        f"| {name} | {s['impact_hit']}/{s['impact_late']}/{s['impact_miss']} | "
        f"{s['overflight_hit']}/{s['overflight_late']}/{s['overflight_miss']} | "
        f"{s['ratio_to_oracle'] or 0:.3f} | {100 * (s['false_alert_frac'] or 0):.1f}% | "
        f"{s['person_hours_alert']:,.0f} |"
    )


def main() -> None:
    """Move the scenario, replay and evaluate both, print the two rows."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True, type=Path)
    ap.add_argument("--zones", type=Path, default=None)
    ap.add_argument("--shift-lon", type=float, default=100.0)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aw-theatre"))
    ap.add_argument("--policy", default=None)
    a = ap.parse_args()
    zones = a.zones or a.scenario / "zones.geojson"
    moved = a.work / "moved"
    move_scenario(a.scenario, zones, moved, a.shift_lon)
    here = run(a.scenario, zones, a.work / "run-original", a.policy)
    there = run(moved, moved / "zones.geojson", a.work / "run-moved", a.policy)
    print("| raid | impacts hit/late/miss | overflights hit/late/miss | ratio to oracle | "
          "false episodes | person-hours |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    print(row("original", here))
    print(row(f"mirrored, lon {a.shift_lon:+g}", there))


if __name__ == "__main__":
    main()
