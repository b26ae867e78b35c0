"""airwarn tune on a tiny hand-written scenario: one replay, several deciders, a trade-off."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

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
from tests.scenario_builders import write_straight_drone


def write_scenario(out: Path, seed: int) -> None:
    """One drone east at 50 m/s over zones on its path; radar reports every 5 s, heartbeats."""
    zones = [
        (f"z{k}", 2000, "R1", x, y)
        for k, (x, y) in enumerate([(12_000, 0), (24_000, 0), (24_000, 8_000), (24_000, 30_000)])
    ]
    write_straight_drone(
        out, zones, length_m=30_000, seed=seed, sigma_m=100.0, max_latency_s=10.0,
        vel_noise=0.0, fate="downed", heartbeat_tail=3,
    )  # fmt: skip


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
