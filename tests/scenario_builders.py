"""Small scenarios written in the public formats by a hand-made generator (not airwarn.sim)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from shapely.geometry import box

from airwarn.contracts import Sensor, Zone, write_jsonl, write_zones
from airwarn.geo import LocalFrame

LAT0, LON0 = 49.0, 32.0
T0 = 1_750_000_000.0


def square(frame: LocalFrame, cx: float, cy: float, half: float):
    """A lon/lat box around local point (cx, cy) with half-side ``half`` metres."""
    lat, lon = frame.to_geo(np.array([cx - half, cx + half]), np.array([cy - half, cy + half]))
    return box(lon[0], lat[0], lon[1], lat[1])


def write_straight_drone(
    out: Path,
    zones: Sequence[tuple[str, int, str, float, float]],
    *,
    length_m: float,
    seed: int,
    speed: float = 50.0,
    sigma_m: float = 150.0,
    max_latency_s: float = 20.0,
    vel_noise: float = 3.0,
    fate: str = "impact",
    heartbeat_tail: int = 30,
) -> None:
    """One drone flying east from the radar at ``speed``, reported every 5 s.

    ``zones`` are (id, population, region, x, y) squares of 4 km in the local frame.
    Reports arrive 0..max_latency_s after they are measured; the radar sends heartbeats.
    """
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frame = LocalFrame(LAT0, LON0)
    write_zones(
        out / "zones.geojson",
        [
            Zone(z, z.title(), pop, 60.0, reg, square(frame, x, y, 2000))
            for z, pop, reg, x, y in zones
        ],
    )
    write_jsonl(
        out / "sensors.jsonl",
        [Sensor("radar1", "radar", LAT0, LON0, 250_000.0, alt_m=50.0).to_json()],
    )
    t_end = length_m / speed
    rows = []
    for i, dt in enumerate(np.arange(0.0, t_end, 5.0)):
        lat, lon = frame.to_geo(speed * dt + rng.normal(0, sigma_m), rng.normal(0, sigma_m))
        ve, vn = frame.vel_to_geo(speed * dt, 0.0, speed, 0.0)
        rep = {
            "t": T0 + dt,
            "sensor": "radar1",
            "lat": float(lat),
            "lon": float(lon),
            "alt_m": 300.0,
            "sigma_m": sigma_m,
            "vel_e": float(ve) + rng.normal(0, vel_noise),
            "vel_n": float(vn) + rng.normal(0, vel_noise),
            "cls": "drone",
            "id": f"r{i}",
        }
        rows.append((T0 + dt + rng.uniform(0, max_latency_s), rep))
    for k in range(int(t_end // 60) + heartbeat_tail):
        rows.append((T0 + 60.0 * k, {"t": T0 + 60.0 * k, "sensor": "radar1", "heartbeat": True}))
    rows.sort(key=lambda r: r[0])
    write_jsonl(out / "detections.jsonl", [r[1] for r in rows])
    tt = T0 + np.arange(0.0, t_end + 1e-9, 5.0)
    la, lo = frame.to_geo(speed * (tt - T0), np.zeros_like(tt))
    impact = {"t": float(tt[-1]), "lat": float(la[-1]), "lon": float(lo[-1])}
    truth = {
        "id": "D1",
        "cls": "drone",
        "t": tt.tolist(),
        "lat": la.tolist(),
        "lon": lo.tolist(),
        "alt_m": [300.0] * len(tt),
        "fate": fate,
        "impact": impact if fate == "impact" else None,
    }
    write_jsonl(out / "truth.jsonl", [truth])
