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


def test_a_capture_hands_decide_every_field_it_reads(
    tmp_path, zones, policy, mk, monkeypatch
) -> None:
    """What decide reads beyond positions - the altitude and vertical-speed variances
    (below ground, diving), tracks merged since the last tick, which dead sensors are
    monitored, antenna heights - survives a capture's save and load."""
    import airwarn.decide.tune as tune_mod
    from airwarn.decide.tune import _Recorder

    t = mk.T0
    trk = mk.tracks(t, [(1, 0, 0, 250, 0, "cruise", True), (2, 5000, 0, 50, 0, "drone", True)])
    trk.P[0, 2, 2], trk.P[0, 5, 5] = 400.0**2, 30.0**2
    trk.merged = np.array([[7, 1]], np.int64)
    h = mk.health(t, [(0.0, 0.0, 5000.0, False), (9000.0, 0.0, 200_000.0, False)])
    h.monitored = np.array([False, True])
    h.alt_m = np.array([np.nan, 25.0])
    rec = _Recorder(0.0)
    rec.step(t, mk.threats(t, [(0, 1, "cruise", 0.4, 0.0, 100.0, 150.0)]), trk, h)
    sensors = (h.x, h.y, h.range_m, h.kind, h.alt_m)
    Capture(5.0, rec.rows, sensors, {}).save(tmp_path / "c.npz")
    seen = []

    class Spy:
        def __init__(self, *a, **k) -> None:
            pass

        def step(self, t, threats, tracks, health):
            seen.append((tracks, health))
            return []

        def idle(self) -> bool:
            return True

    monkeypatch.setattr(tune_mod, "Decider", Spy)
    decide_from_capture(Capture.load(tmp_path / "c.npz"), zones, [policy])
    got_trk, got_h = seen[0]
    for k in (2, 5):
        assert np.array_equal(got_trk.P[:, k, k], trk.P[:, k, k])
    assert got_trk.merged.tolist() == [[7, 1]]
    assert got_trk.diving(50.0).tolist() == trk.diving(50.0).tolist()
    assert got_h.monitored.tolist() == [False, True]
    assert got_h.alive.tolist() == [False, False]
    assert np.array_equal(got_h.alt_m, h.alt_m, equal_nan=True)
