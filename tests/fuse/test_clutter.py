"""Observer clutter map (``TrackerConfig.obs_clutter``): report rates learned per cell, and
chance phone reports in a city that confirm fewer tracks once the map has learned them."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.fuse import Tracker, TrackerConfig
from airwarn.fuse.clutter import ClutterMap
from tests.fuse.conftest import batch, registry

UNREGISTERED = -1000  # ingest gives each named phone user its own negative code


def test_constant_rate_is_estimated_from_the_start_and_decays_after():
    rng = np.random.default_rng(1)
    m = ClutterMap(cell_m=5000.0, tau_s=1800.0, min_s=600.0, reach=0)
    # 12 reports an hour in one cell for two hours, none in the cell beside it
    times = np.sort(rng.uniform(0.0, 7200.0, 24))
    for t in times:
        m.add(float(t), np.array([1000.0]), np.array([2000.0]), np.ones(1))
    at = np.array([1000.0, 7000.0]), np.array([2000.0, 2000.0])
    rate = m.rate_per_h(7200.0, *at)
    assert 6.0 < rate[0] < 24.0
    assert rate[1] == 0.0
    early = ClutterMap(cell_m=5000.0, tau_s=1800.0, min_s=600.0, reach=0)
    for t in times[times < 900.0]:
        early.add(float(t), np.array([1000.0]), np.array([2000.0]), np.ones(1))
    assert 3.0 < early.rate_per_h(900.0, *at)[0] < 40.0
    # two memories later the cell is quiet again
    assert m.rate_per_h(7200.0 + 2 * 3600.0, *at)[0] < 0.2 * rate[0]
    assert m.density(7200.0, *at)[0] == pytest.approx(rate[0] / 3600.0 / 5000.0**2)


def test_the_rate_around_a_point_sums_the_square_of_cells_about_its_cell():
    m = ClutterMap(cell_m=1000.0, tau_s=1e9, min_s=3600.0, reach=1)
    # one report in each of the 3 x 3 cells about (500, 500), one two cells away
    xs, ys = np.meshgrid([-500.0, 500.0, 1500.0], [-500.0, 500.0, 1500.0])
    m.add(0.0, np.r_[xs.ravel(), 2500.0], np.r_[ys.ravel(), 500.0], np.ones(10))
    at = np.array([500.0, 2500.0]), np.array([500.0, 500.0])
    assert m.rate_per_h(3600.0, *at) == pytest.approx([9.0, 4.0], rel=1e-5)
    assert m.density(3600.0, *at)[0] == pytest.approx(9.0 / 3600.0 / 3000.0**2, rel=1e-5)


def test_copy_is_independent_and_counts_add_up_per_cell():
    m = ClutterMap(cell_m=1000.0, tau_s=1e9, min_s=3600.0, reach=0)
    m.add(0.0, np.array([10.0, 20.0, 5000.0]), np.array([10.0, 30.0, 0.0]), np.array([1, 2, 1]))
    snap = m.copy()
    m.add(10.0, np.array([10.0]), np.array([10.0]), np.ones(1))
    assert m.rate_per_h(3600.0, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(4.0, 1e-3)
    assert snap.rate_per_h(3600.0, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(3.0, 1e-3)
    assert snap.rate_per_h(3600.0, np.array([5500.0]), np.array([500.0]))[0] == pytest.approx(
        1.0, 1e-3
    )


def test_with_people_the_regions_rate_is_shared_by_population():
    # a city of 100,000 in one cell, a town of 10,000 in another and nobody in a third:
    # 11 reports in the first hour, wherever they came from, are 10 an hour for the city's
    # window and 1 for the town's, none where nobody lives
    m = ClutterMap(cell_m=1000.0, tau_s=1e9, min_s=3600.0, reach=0)
    m.set_people(np.array([500.0, 20500.0]), np.array([500.0, 500.0]), np.array([1e5, 1e4]))
    m.add(0.0, np.full(11, 20500.0), np.full(11, 500.0), np.ones(11))
    at = np.array([100.0, 20900.0, 40500.0]), np.array([200.0, 800.0, 500.0])
    assert m.rate_per_h(3600.0, *at) == pytest.approx([10.0, 1.0, 0.0], rel=1e-5)
    # the same reports in the city read the same; the layer survives a copy
    other = ClutterMap(cell_m=1000.0, tau_s=1e9, min_s=3600.0, reach=0)
    other.set_people(np.array([500.0, 20500.0]), np.array([500.0, 500.0]), np.array([1e5, 1e4]))
    other.add(0.0, np.full(11, 500.0), np.full(11, 500.0), np.ones(11))
    assert other.copy().rate_per_h(3600.0, *at) == pytest.approx([10.0, 1.0, 0.0], rel=1e-5)
    # without the layer, each cell's own rate
    m.set_people(np.zeros(0), np.zeros(0), np.zeros(0))
    assert m.rate_per_h(3600.0, *at) == pytest.approx([0.0, 11.0, 0.0], rel=1e-5)


def _city_false_reports(hours: float, per_h: float, seed: int) -> list[dict]:
    """Phone reports of nothing, each from a new phone, over a city 8 km across."""
    rng = np.random.default_rng(seed)
    n = rng.poisson(per_h * hours)
    t = np.sort(rng.uniform(0.0, hours * 3600.0, n))
    x, y = rng.normal(0.0, 2000.0, (2, n))
    return [
        {"t": float(t[k]), "x": float(x[k]), "y": float(y[k]), "sigma": 2000.0}
        | {"sensor": UNREGISTERED - k}
        for k in range(n)
    ]


def _ticks(cfg: TrackerConfig, rows: list[dict], t_end: float, people=None):
    """Feed time-sorted rows to a tracker (with an optional population layer) ticking every
    5 s; yield (tick, state)."""
    reg = registry([])
    trk = Tracker(reg, cfg, people=people)
    k = 0
    for tick in np.arange(0.0, t_end, 5.0):
        new = []
        while k < len(rows) and rows[k]["t"] <= tick:
            new.append(rows[k])
            k += 1
        if new:
            trk.add(batch(new, reg, k))
        yield float(tick), trk.advance(float(tick))


def _confirmed_ids(cfg: TrackerConfig, rows: list[dict], t_from: float) -> set[int]:
    """Ids of tracks confirmed at some tick at or after ``t_from``."""
    ids: set[int] = set()
    for tick, s in _ticks(cfg, rows, rows[-1]["t"] + 300.0):
        if tick >= t_from:
            ids |= set(s.ids[s.confirmed].tolist())
    return ids


def test_chance_phone_reports_in_a_city_confirm_fewer_tracks():
    # 20 reports of nothing an hour over one city, six raids: with every report counting
    # the same (obs_clutter off, the default) three of them in a few minutes keep
    # confirming tracks in the second hour; with the map, which has learned the city's
    # rate by then, about half as many (measured: 17 -> 9 tracks)
    off = on = 0
    for seed in range(1, 7):
        rows = _city_false_reports(2.0, 20.0, seed=seed)
        off += len(_confirmed_ids(TrackerConfig(obs_clutter=False), rows, 3600.0))
        on += len(_confirmed_ids(TrackerConfig(obs_clutter=True), rows, 3600.0))
    assert off >= 10
    assert on <= 0.6 * off


def test_drone_reported_by_phones_through_a_noisy_city_is_still_tracked():
    # the same city's chance reports, and a drone (50 m/s) crossing it after an hour that
    # people report about twice a minute: it is confirmed while it crosses the city
    rng = np.random.default_rng(4)
    noise = _city_false_reports(1.5, 40.0, seed=5)
    tt = 3600.0 + np.arange(0.0, 600.0, 30.0) + rng.uniform(-5, 5, 20)
    drone = [
        {"t": float(t), "x": -15000.0 + 50.0 * (t - 3600.0) + rng.normal(0, 1000)}
        | {"y": float(rng.normal(0, 1000)), "sigma": 1500.0, "sensor": UNREGISTERED - 500 - k}
        for k, t in enumerate(tt)
    ]
    rows = sorted(noise + drone, key=lambda r: r["t"])
    near = False
    for tick, s in _ticks(TrackerConfig(obs_clutter=True), rows, 4200.0):
        if 3600.0 + 240.0 <= tick and s.confirmed.any():
            xd = -15000.0 + 50.0 * (tick - 3600.0)
            c = s.x[s.confirmed]
            near |= bool((np.hypot(c[:, 0] - xd, c[:, 1]) < 5000.0).any())
    assert near


def test_a_late_report_counts_from_its_own_time():
    m = ClutterMap(cell_m=1000.0, tau_s=600.0, min_s=3600.0, reach=0)
    m.add(1000.0, np.array([0.0]), np.array([0.0]), np.ones(1))
    m.add(400.0, np.array([0.0]), np.array([0.0]), np.ones(1))  # arrived late
    one = 3600.0 / (600.0 * -np.expm1(-3600.0 / 600.0))  # rate of one fresh count
    got = m.rate_per_h(1000.0, np.array([0.0]), np.array([0.0]))[0]
    assert got == pytest.approx(one * (1.0 + np.exp(-1.0)))


def _town_drones(seed: int) -> list[dict]:
    """A drone (50 m/s) crossing a quiet town 60 km from the city after an hour, reported
    every 60-180 s by people who place it where they stand (~3 km off, sigma 1.5 km) and
    send it 10-60 s late."""
    rng = np.random.default_rng(seed)
    t = 3600.0 + np.cumsum(rng.uniform(40.0, 120.0, 10))
    seen = t - rng.uniform(10.0, 60.0, t.size)
    x = 45000.0 + 50.0 * (seen - 3600.0) + rng.normal(0.0, 2000.0, t.size)
    y = rng.normal(0.0, 2000.0, t.size)
    return [
        {"t": float(t[k]), "x": float(x[k]), "y": float(y[k]), "sigma": 1500.0}
        | {"sensor": UNREGISTERED - 700 - k}
        for k in range(t.size)
    ]


def _confirmed_where(cfg: TrackerConfig, rows: list[dict], people) -> tuple[bool, set[int]]:
    """(a track confirmed within 20 km of the town, ids confirmed within 20 km of the city
    in the second hour)."""
    town, city = False, set()
    for tick, s in _ticks(cfg, rows, rows[-1]["t"] + 60.0, people):
        c = s.x[s.confirmed]
        town |= bool((np.hypot(c[:, 0] - 60000.0, c[:, 1]) < 20000.0).any())
        if tick >= 3600.0:
            near = np.hypot(s.x[:, 0], s.x[:, 1]) < 20000.0
            city |= set(s.ids[s.confirmed & near].tolist())
    return town, city


def test_with_the_population_layer_a_quiet_towns_drone_confirms_and_the_city_less():
    # the city (a million people) sends 20 reports of nothing an hour; a drone crossing a
    # town of 30,000 60 km away is reported sparsely and loosely. With the map spreading
    # the region's chance rate by population, the drone is confirmed in each of six raids,
    # as with the map off, and the city's chance reports confirm fewer tracks
    people = (np.array([0.0, 60000.0]), np.array([0.0, 0.0]), np.array([1e6, 3e4]))
    on_city = off_city = 0
    for seed in range(1, 7):
        rows = sorted(
            _city_false_reports(2.0, 20.0, seed=seed) + _town_drones(seed), key=lambda r: r["t"]
        )
        town_on, city_on = _confirmed_where(TrackerConfig(obs_clutter=True), rows, people)
        town_off, city_off = _confirmed_where(TrackerConfig(obs_clutter=False), rows, people)
        assert town_on and town_off
        on_city += len(city_on)
        off_city += len(city_off)
    assert off_city >= 10
    assert on_city <= 0.6 * off_city
