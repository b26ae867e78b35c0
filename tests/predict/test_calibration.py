"""Calibration on routes the predictor did not generate (other turn statistics)."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.decide.policy import Policy
from airwarn.predict.calibrate import Path, calibrate

from .conftest import make_zones


def waypoint_routes(n: int, rng: np.random.Generator, hours: float = 1.0) -> list[Path]:
    """Constant-speed polylines: legs of 15-60 km, turns of 10-60 degrees either side,
    plus a slow weave (300 m, 3 min period) — unlike the predictor's OU turns and doglegs."""
    out = []
    for _ in range(n):
        speed = rng.uniform(42.0, 51.0)
        pts = [rng.uniform(-70e3, 70e3, 2)]
        head = rng.uniform(0, 2 * np.pi)
        total = 0.0
        while total < speed * hours * 3600:
            leg = rng.uniform(15e3, 60e3)
            pts.append(pts[-1] + leg * np.array([np.cos(head), np.sin(head)]))
            total += leg
            head += np.sign(rng.uniform(-1, 1)) * np.radians(rng.uniform(10, 60))
        pts = np.array(pts)
        seg = np.hypot(*np.diff(pts, axis=0).T)
        s = np.arange(0.0, seg.sum(), speed * 10.0)
        cum = np.r_[0.0, np.cumsum(seg)]
        x, y = np.interp(s, cum, pts[:, 0]), np.interp(s, cum, pts[:, 1])
        t = s / speed
        d = np.gradient(np.c_[x, y], axis=0)
        nrm = np.c_[-d[:, 1], d[:, 0]] / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
        w = 300.0 * np.sin(2 * np.pi * t / 180.0)
        out.append(Path("drone", t, x + w * nrm[:, 0], y + w * nrm[:, 1], np.full(t.size, 300.0)))
    return out


@pytest.fixture(scope="module")
def cal():
    rng = np.random.default_rng(42)
    zones = make_zones(
        [(f"g{i}_{j}", 6000.0 * i, 6000.0 * j) for i in range(-13, 14) for j in range(-13, 14)],
        half=3000.0,
    )
    paths = waypoint_routes(16, rng)
    times = np.arange(60.0, 1800.0, 180.0)
    pol = Policy.load()
    pol.predict = {"drone": {"target_frac": 0.0}}  # uniform synthetic zones: no likely targets
    return calibrate(paths, zones, pol, times, sigma_pos=300.0, sigma_vel=3.0, survivors=False)


def test_near_arrivals_are_predicted(cal):
    assert cal.arrived.sum() > 200
    assert cal.recall(0.05, 0, 300) >= 0.95
    # these routes turn every 5-20 minutes (the default model expects ~2 doglegs an hour):
    # zones 5-15 minutes out still get some probability, if less
    assert cal.recall(0.02, 300, 900) >= 0.9
    assert cal.recall(0.05, 300, 900) >= 0.7


def test_early_eta_is_early(cal):
    before_p10, before_p50 = cal.eta_early(0.05)
    assert before_p10 <= 0.15  # eta_p10 is rarely later than the true arrival
    assert 0.2 <= before_p50 <= 0.8


def test_probabilities_are_calibrated(cal):
    rel = {lo: (n, f) for lo, hi, n, f in cal.reliability() if n >= 30}
    assert rel[0.7][1] >= 0.6  # confident predictions come true
    assert rel[0.02][1] <= 0.15  # long shots mostly do not
    # overall mass: the expected number of zones reached is near the true number
    ratio = cal.p.sum() / cal.arrived.sum()
    assert 0.6 <= ratio <= 1.8
