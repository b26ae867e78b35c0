"""airwarn tune on a tiny hand-written scenario: one replay, several deciders, a trade-off."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from airwarn.contracts import Sensor, Zone, write_jsonl, write_zones
from airwarn.decide.config import DecideConfig
from airwarn.decide.policy import Policy
from airwarn.decide.tune import (
    Capture,
    GridPoint,
    decide_from_capture,
    pareto,
    policy_variant,
    tune,
)
from airwarn.geo import LocalFrame

T0 = 1_750_000_000.0


def square(frame: LocalFrame, cx: float, cy: float, half: float):
    from shapely.geometry import box

    lat, lon = frame.to_geo(np.array([cx - half, cx + half]), np.array([cy - half, cy + half]))
    return box(lon[0], lat[0], lon[1], lat[1])


def write_scenario(out: Path, seed: int) -> None:
    """One drone east at 50 m/s over zones on its path; radar reports every 5 s, heartbeats."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frame = LocalFrame(49.0, 32.0)
    zones = [
        Zone(f"z{k}", f"Z{k}", 2000, 60.0, "R1", square(frame, x, y, 2000))
        for k, (x, y) in enumerate([(12_000, 0), (24_000, 0), (24_000, 8_000), (24_000, 30_000)])
    ]
    write_zones(out / "zones.geojson", zones)
    write_jsonl(out / "sensors.jsonl", [Sensor("r1", "radar", 49.0, 32.0, 200_000.0).to_json()])
    speed, t_end = 50.0, 30_000 / 50.0
    rows = []
    for i, dt in enumerate(np.arange(0.0, t_end, 5.0)):
        lat, lon = frame.to_geo(speed * dt + rng.normal(0, 100), rng.normal(0, 100))
        ve, vn = frame.vel_to_geo(speed * dt, 0.0, speed, 0.0)
        rows.append(
            (
                T0 + dt + rng.uniform(0, 10),
                {
                    "t": T0 + dt,
                    "sensor": "r1",
                    "lat": float(lat),
                    "lon": float(lon),
                    "alt_m": 300.0,
                    "sigma_m": 100.0,
                    "vel_e": float(ve),
                    "vel_n": float(vn),
                    "cls": "drone",
                    "id": f"r{i}",
                },
            )
        )
    for k in range(int(t_end // 60) + 3):
        rows.append((T0 + 60.0 * k, {"t": T0 + 60.0 * k, "sensor": "r1", "heartbeat": True}))
    rows.sort(key=lambda r: r[0])
    write_jsonl(out / "detections.jsonl", [r[1] for r in rows])
    tt = T0 + np.arange(0.0, t_end + 1e-9, 5.0)
    la, lo = frame.to_geo(speed * (tt - T0), np.zeros_like(tt))
    truth = {
        "id": "D1",
        "cls": "drone",
        "t": tt.tolist(),
        "lat": la.tolist(),
        "lon": lo.tolist(),
        "alt_m": [300.0] * len(tt),
        "fate": "downed",
        "impact": None,
    }
    write_jsonl(out / "truth.jsonl", [truth])


def test_policy_variant_scales_every_class() -> None:
    base = Policy.load()
    pol = policy_variant(base, GridPoint(2.0, 0.0, 0.5))
    cfg = DecideConfig.from_policy(pol)
    ref = DecideConfig.from_policy(base)
    assert np.allclose(cfg.per_class["alert_p"], 2 * ref.per_class["alert_p"])
    assert np.allclose(cfg.per_class["hold_s"], 0.5 * ref.per_class["hold_s"])
    assert np.all(cfg.per_class["margin_s"] == 0.0)
    assert base.decide["alert_p"] == 0.05  # base untouched


def test_pareto_front() -> None:
    pts = [(1.0, 5.0), (2.0, 1.0), (1.5, 6.0), (3.0, 1.0), (0.8, 9.0)]
    assert pareto(pts) == [4, 0, 1]


@pytest.mark.slow
def test_tune_writes_table_and_plot(tmp_path) -> None:
    scen = [tmp_path / "s1", tmp_path / "s2"]
    for i, s in enumerate(scen):
        write_scenario(s, seed=i)
    pts = [GridPoint(1.0, 120.0, 1.0), GridPoint(20.0, 0.0, 1.0)]
    table = tune(scen, tmp_path / "out", points=pts, log=None)
    out = tmp_path / "out"
    assert (out / "tradeoff.png").stat().st_size > 5000
    rows = list(csv.DictReader(open(out / "tune.csv")))
    assert len(rows) == len(table) == 2 * 2 + 2
    doc = json.loads((out / "tune.json").read_text())
    agg = {r["label"]: r for r in doc["aggregate"]}
    strict, loose = agg[pts[1].label], agg[pts[0].label]
    # the on-path zones z0, z1 (and z2, 8 km off) are threatened; defaults warn them all in time
    assert loose["pairs"] >= 4 and loose["miss_frac"] == 0.0
    # 20x thresholds (capped at p = 1) and no margin: fewer person-hours, shorter lead
    assert strict["person_hours_alert"] < loose["person_hours_alert"]
    assert strict["lead_median_s"] < loose["lead_median_s"]
    assert {r["scenario"] for r in doc["rows"]} == {"s1", "s2"}
    assert doc["default"] == pts[0].label


@pytest.mark.slow
def test_deciding_from_a_capture_equals_the_replay(tmp_path) -> None:
    from airwarn.contracts import read_sensors, read_zones
    from airwarn.decide.tune import capture
    from airwarn.pipeline import replay
    from airwarn.zones import zone_set

    scen = tmp_path / "s"
    write_scenario(scen, seed=7)
    zs = zone_set(read_zones(scen / "zones.geojson"))
    pol = Policy.load()
    sensors = read_sensors(scen / "sensors.jsonl")
    ref = replay(sensors, scen / "detections.jsonl", zs, pol, tmp_path / "r", cap=False).alerts
    cap = capture(sensors, scen / "detections.jsonl", zs, pol)
    cap.save(tmp_path / "c.npz")
    (got,), _ = decide_from_capture(Capture.load(tmp_path / "c.npz"), zs, [pol])
    assert ref and [a.to_json() for a in got] == [a.to_json() for a in ref]
