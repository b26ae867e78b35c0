"""Track existence with negative information: silent live acoustic posts lower it."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.fuse import Tracker, TrackerConfig
from tests.fuse.conftest import batch, registry

SPACING = 3000.0
RANGE = 4000.0
ALT = 500.0
PERIOD_TICKS = 3  # each post reports once per 3 ticks of 5 s while it hears something


@pytest.fixture(scope="module")
def grid():
    """Acoustic posts every 3 km over 60 x 30 km, each hearing within 4 km slant range."""
    gx, gy = np.meshgrid(
        np.arange(-30000.0, 30001.0, SPACING), np.arange(-15000.0, 15001.0, SPACING)
    )
    posts = [
        (f"a{i}", "acoustic", float(x), float(y), RANGE)
        for i, (x, y) in enumerate(zip(gx.ravel(), gy.ravel(), strict=True))
    ]
    return registry(posts)


def _post(reg, x, y) -> int:
    return int(np.argmin(np.hypot(reg.x - x, reg.y - y)))


def _drone_rows(reg, t: float, pos: np.ndarray) -> list[dict]:
    """Reports of the posts hearing a drone at ``pos`` (altitude ALT) at tick ``t``."""
    k = int(round(t / 5.0))
    d = np.hypot(np.hypot(reg.x - pos[0], reg.y - pos[1]), ALT)
    hear = np.flatnonzero((d <= RANGE) & ((np.arange(len(reg)) + k) % PERIOD_TICKS == 0))
    return [
        {"t": t, "sensor": int(i), "x": reg.x[i], "y": reg.y[i], "sigma": 0.75 * RANGE}
        for i in hear
    ]


def _run(reg, times, rows_at, last_seen_at=None, cfg=None):
    """Tick every time in ``times``: add that tick's rows, advance with the liveness given."""
    trk = Tracker(reg, cfg or TrackerConfig())
    out = []
    n = 0
    for t in times:
        rs = rows_at(float(t))
        if rs:
            trk.add(batch(rs, reg, n))
            n += len(rs)
        ls = None if last_seen_at is None else last_seen_at(float(t))
        out.append(trk.advance(float(t), sensor_last_seen=ls))
    return trk, out


def _all_live(reg):
    return lambda t: np.full(len(reg), t - 10.0)  # heartbeats 10 s ago: every post is live


def _first_confirmed(states) -> float | None:
    for s in states:
        if s.confirmed.any():
            return s.t
    return None


def test_false_alarm_pair_in_silent_coverage_does_not_confirm(grid):
    reg = grid
    a, b = _post(reg, 0.0, 0.0), _post(reg, 6000.0, 3000.0)  # ~6.7 km apart
    bursts = {0.0: a, 15.0: a, 25.0: b, 40.0: b, 55.0: b}

    def rows_at(t):
        if t not in bursts:
            return []
        i = bursts[t]
        return [{"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0}]

    times = np.arange(0.0, 200.0, 5.0)
    # without liveness the pair confirms as a "drone" (the old behaviour) ...
    _, blind = _run(reg, times, rows_at)
    assert _first_confirmed(blind) is not None
    # ... with the surrounding posts known live and silent it never does
    _, states = _run(reg, times, rows_at, _all_live(reg))
    assert _first_confirmed(states) is None


def test_a_feed_without_heartbeats_still_refutes_a_false_pair(grid):
    from airwarn.ingest import Ingestor

    reg = grid
    a, b = _post(reg, 0.0, 0.0), _post(reg, 6000.0, 3000.0)
    bursts = {0.0: a, 15.0: a, 25.0: b, 40.0: b, 55.0: b}

    def rows_at(t):
        i = bursts.get(t)
        return (
            []
            if i is None
            else [{"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0}]
        )

    times = np.arange(0.0, 200.0, 5.0)
    # no heartbeat line anywhere: the ingestor takes the registered posts as up, so their
    # silence refutes the pair as heartbeats would ...
    _, states = _run(reg, times, rows_at, Ingestor(reg).liveness)
    assert _first_confirmed(states) is None
    # ... where "live only while reporting" left it to confirm as a drone
    _, states = _run(reg, times, rows_at, Ingestor(reg, assume_up=False).liveness)
    assert _first_confirmed(states) is not None


def _flight(reg, t_end: float, t_stop: float = np.inf):
    """A drone flying east across the grid at 50 m/s: times (5 s apart) up to ``t_end``,
    its positions, and its acoustic reports at a time (none from ``t_stop`` on)."""
    times = np.arange(0.0, t_end, 5.0)
    pos = np.stack([-27000.0 + 50.0 * times, 1000.0 + 5.0 * times], axis=1)

    def rows_at(t):
        return _drone_rows(reg, t, pos[int(round(t / 5.0))]) if t < t_stop else []

    return times, pos, rows_at


def test_drone_crossing_dense_coverage_confirms_as_fast_as_before(grid):
    reg = grid
    times, pos, rows_at = _flight(reg, 600.0)

    _, old = _run(reg, times, rows_at, cfg=TrackerConfig(existence=False))
    _, new = _run(reg, times, rows_at, _all_live(reg))
    t_old, t_new = _first_confirmed(old), _first_confirmed(new)
    assert t_old is not None and t_new is not None
    assert t_new <= t_old
    # and it stays confirmed, one track, all the way across
    for s in new[int(t_new / 5.0) :]:
        assert int(s.confirmed.sum()) == 1
        k = int(round(s.t / 5.0))
        i = int(np.flatnonzero(s.confirmed)[0])
        assert np.hypot(*(s.x[i, :2] - pos[k])) < 4000.0


def _stopping(reg, t_stop):
    times, _, rows_at = _flight(reg, 700.0, t_stop)
    return times, rows_at


def _alive_after(states, t):
    return [len(s) > 0 and s.confirmed.any() for s in states if s.t >= t]


def test_downed_drone_inside_live_coverage_is_deleted_fast(grid):
    reg = grid
    t_stop = 400.0  # at x = -7 km, deep inside the grid
    times, rows_at = _stopping(reg, t_stop)
    _, old = _run(reg, times, rows_at, cfg=TrackerConfig(existence=False))
    _, new = _run(reg, times, rows_at, _all_live(reg))
    k_stop = int(t_stop / 5.0)
    assert new[k_stop - 1].confirmed.any()
    gone_new = next(s.t for s in new[k_stop:] if not s.confirmed.any())
    gone_old = next(s.t for s in old[k_stop:] if not s.confirmed.any())
    assert gone_new - t_stop <= 90.0
    assert gone_old - t_stop > 150.0  # the old tracker coasted it for max_coast_s


def test_drone_silent_where_posts_are_dead_is_not_deleted_early(grid):
    reg = grid
    t_stop = 400.0
    times, rows_at = _stopping(reg, t_stop)
    x_stop = -27000.0 + 50.0 * t_stop

    def last_seen_at(t):
        # posts east of the point where the reports stop send no heartbeats at all
        ls = np.full(len(reg), t - 10.0)
        ls[reg.x > x_stop - 4000.0] = -np.inf
        return ls

    def rows_live(t):
        return [r for r in rows_at(t) if reg.x[r["sensor"]] <= x_stop - 4000.0]

    _, states = _run(reg, times, rows_live, last_seen_at)
    t_last = max(s.t for s in states if s.confirmed.any())
    k = int(np.flatnonzero(np.array([s.t for s in states]) == t_last)[0])
    assert states[k].last_update.max() < t_stop
    # it coasts on for about max_coast_s after its last update (no silence counted)
    assert t_last - float(states[k].last_update.max()) >= 150.0


def test_existence_off_without_liveness_keeps_old_rules(grid):
    reg = grid
    times, pos, rows_at = _flight(reg, 300.0)

    _, a = _run(reg, times, rows_at, cfg=TrackerConfig(existence=False))
    _, b = _run(reg, times, rows_at)
    assert [int(s.confirmed.sum()) for s in a] == [int(s.confirmed.sum()) for s in b]


def _radar_scan_rows(radars, t, pos, rng, sigma=300.0):
    """One plot per radar of a target at ``pos`` (with velocity), each radar 0.2 s apart."""
    return [
        {
            "t": t + 0.2 * k,
            "sensor": s,
            "x": pos[0] - 1400.0 * 0.2 * k + rng.normal(0, sigma),
            "y": pos[1] - 1000.0 * 0.2 * k + rng.normal(0, sigma),
            "z": 9000.0 + rng.normal(0, 500),
            "sigma": sigma,
            "sigma_z": 500.0,
            "vx": -1400.0 + rng.normal(0, 10),
            "vy": -1000.0 + rng.normal(0, 10),
            "vz": rng.normal(0, 10),
        }
        for k, s in enumerate(radars)
    ]


def _five_radars():
    """Five radars 30 km apart, each plotting one fast target every 5 s for 2 minutes:
    (registry, times, rows per time, the target's path)."""
    reg = registry([(f"r{i}", "radar", 30000.0 * i, 0.0, 400000.0) for i in range(5)])
    rng = np.random.default_rng(7)
    times = np.arange(0.0, 120.0, 5.0)
    path = np.stack([200000.0 - 1400.0 * times, 100000.0 - 1000.0 * times], 1)

    def rows_at(t):
        return _radar_scan_rows(range(5), t, path[int(round(t / 5.0))], rng)

    return reg, times, rows_at, path


@pytest.mark.parametrize("merge", [True, False])
def test_five_radars_on_one_fast_target_give_one_track(merge):
    reg, times, rows_at, path = _five_radars()
    cfg = TrackerConfig(merge=merge, absorb=merge, merge_ballistic=True)
    trk, states = _run(reg, times, rows_at, cfg=cfg)
    n_conf = [int(s.confirmed.sum()) for s in states[4:]]
    if merge:
        assert max(n_conf) == 1 and min(n_conf) == 1
        i = int(np.flatnonzero(states[-1].confirmed)[0])
        assert np.hypot(*(states[-1].x[i, :2] - path[-1])) < 1000.0
    else:
        assert max(n_conf) > 1  # the duplicates the old tracker made


def test_dense_posts_give_one_track_per_drone(grid):
    reg = grid
    times, pos, rows_at = _flight(reg, 600.0)

    _, states = _run(reg, times, rows_at, _all_live(reg))
    t_conf = _first_confirmed(states)
    assert all(len(s) <= 2 for s in states)  # at most one tentative beside the track
    assert all(int(s.confirmed.sum()) == 1 for s in states if s.t >= t_conf)


def test_ballistic_track_ends_once_predicted_below_ground():
    reg = registry([("r0", "radar", 0.0, 0.0, 400000.0)])
    rng = np.random.default_rng(3)
    g = 9.81

    def truth(t):
        return (100000.0 - 1500.0 * t, 50000.0 - 1000.0 * t, 40000.0 - 800.0 * t - 0.5 * g * t * t)

    def rows_at(t):
        if t > 25.0:  # the radar loses it at ~17 km; it lands at ~40 s
            return []
        x, y, z = truth(t)
        return [
            {
                "t": t, "sensor": 0, "x": x + rng.normal(0, 200), "y": y + rng.normal(0, 200),
                "z": z + rng.normal(0, 300), "sigma": 200.0, "sigma_z": 300.0,
                "vx": -1500.0 + rng.normal(0, 5), "vy": -1000.0 + rng.normal(0, 5),
                "vz": -800.0 - g * t + rng.normal(0, 5),
            }
        ]  # fmt: skip

    times = np.arange(0.0, 200.0, 5.0)
    _, new = _run(reg, times, rows_at, cfg=TrackerConfig(landed_sd=3.0))
    _, old = _run(reg, times, rows_at)
    alive = {s.t: bool(s.confirmed.any()) for s in new}
    assert alive[35.0]  # still falling
    assert not alive[60.0]  # landed (predicted ~40 s)
    # listed as landed once: predict starts no ghost from it
    ids = {int(i) for s in new if s.t <= 35.0 for i in s.ids[s.confirmed]}
    landed = [int(i) for s in new if s.landed is not None for i in s.landed]
    assert len(landed) == 1 and landed[0] in ids
    assert all(s.confirmed.any() for s in old if 10.0 <= s.t <= 90.0)  # old: it coasted


def test_a_missile_deleted_below_ground_is_listed_as_landed():
    # a rocket falls at 300 m/s, plotted down to the ground and (stray plots) 3 km below
    # it, then coasts until it is deleted: listed as landed (predict starts no ghost from
    # it); with ballistic_memory_s 0 it is not
    reg = registry([("r0", "radar", 0.0, 0.0, 400000.0)])

    def rows_at(t, vz=-300.0, speed=250.0):
        if t > 70.0:
            return []
        z = 18000.0 + vz * t
        return [
            {
                "t": t, "sensor": 0, "x": 30000.0 + speed * t, "y": 20000.0, "z": z,
                "sigma": 100.0, "sigma_z": 150.0, "vx": speed, "vy": 0.0, "vz": vz,
            }
        ]  # fmt: skip

    times = np.arange(0.0, 300.0, 2.0)

    def landed(cfg: TrackerConfig, **kw) -> list[int]:
        _, states = _run(reg, times, lambda t: rows_at(t, **kw), cfg=cfg)
        assert any(s.confirmed.any() for s in states)
        assert not states[-1].confirmed.any()  # deleted in the end
        return [int(i) for s in states if s.landed is not None for i in s.landed]

    assert len(landed(TrackerConfig())) == 1
    assert landed(TrackerConfig(ballistic_memory_s=0.0)) == []


def test_merged_duplicates_are_reported_with_their_survivor():
    # five radars each start a track on one target (no absorbing): the merges that follow
    # are listed in the states, absorbed track -> surviving track
    reg, times, rows_at, _ = _five_radars()
    cfg = TrackerConfig(merge=True, absorb=False, merge_ballistic=True)
    _, states = _run(reg, times, rows_at, cfg=cfg)
    merged = [s for s in states if s.merged is not None and len(s.merged)]
    assert merged
    for s in merged:
        assert not np.isin(s.merged[:, 0], s.ids).any()
        assert np.isin(s.merged[:, 1], s.ids).all()
        assert np.isin(s.survivor(s.merged[:, 0]), s.ids).all()
    assert sum(len(s.merged) for s in merged) >= 3


def test_merged_ballistic_duplicates_fuse_their_estimates():
    # two tracks of one missile at one time: the survivor keeps its id and takes the
    # covariance intersection of both estimates (equal weights)
    reg = registry([("r0", "radar", 0.0, 0.0, 400000.0), ("r1", "radar", 1e5, 0.0, 4e5)])
    trk = Tracker(reg, TrackerConfig(merge_ballistic=True))
    rows = [
        {"t": 10.0, "sensor": 0, "x": 50000.0, "y": 0.0, "z": 8000.0, "sigma": 300.0},
        {"t": 10.0, "sensor": 1, "x": 90000.0, "y": 0.0, "z": 9000.0, "sigma": 300.0},
    ]
    trk.add(batch(rows, reg))
    trk.advance(10.0)
    tr = trk.tracks
    assert len(tr) == 2
    tr.ballistic[:] = True
    P0 = np.diag([300.0**2, 300.0**2, 200.0**2, 50.0**2, 50.0**2, 20.0**2])
    P1 = np.diag([300.0**2, 300.0**2, 800.0**2, 50.0**2, 50.0**2, 150.0**2])
    tr.P[0], tr.P[1] = P0, P1
    x0, x1 = tr.x[0].copy(), tr.x[1].copy()
    x0[5], x1[5] = -100.0, 100.0
    tr.x[0], tr.x[1] = x0, x1
    ids = tr.ids.copy()
    trk._fuse_states(np.array([1]), np.array([0]))
    Y = 0.5 * (np.linalg.inv(P0) + np.linalg.inv(P1))
    P = np.linalg.inv(Y)
    x = P @ (0.5 * (np.linalg.inv(P0) @ x0 + np.linalg.inv(P1) @ x1))
    assert np.allclose(tr.P[0], P) and np.allclose(tr.x[0], x)
    assert tr.ids.tolist() == ids.tolist()  # ids are left to the merge
    # the better measured climb rate dominates
    assert abs(tr.x[0, 5] - x0[5]) < abs(tr.x[0, 5] - x1[5])


def test_a_missile_track_that_came_down_takes_no_passing_drones_plots():
    # a rocket falls at 300 m/s onto (45 km, 20 km) at t = 60 s; from t = 66 s a drone
    # 800 m up flies east from where the rocket would be had it flown on (46.5 km), plotted
    # by the same radar. The rocket's track, predicted under gravity 3 sigma below the
    # ground, takes none of the drone's plots: the drone starts a track of its own and the
    # rocket's ends as landed. Without the gate the rocket's track flies on with the
    # drone's plots.
    reg = registry([("r0", "radar", 0.0, 0.0, 400000.0)])
    rng = np.random.default_rng(5)

    def rows_at(t):
        if t <= 60.0:
            x, z, vx, vz = 30000.0 + 250.0 * t, 18000.0 - 300.0 * t, 250.0, -300.0
        elif t >= 66.0:
            x, z, vx, vz = 46500.0 + 50.0 * (t - 66.0), 800.0, 50.0, 0.0
        else:
            return []
        return [
            {
                "t": t, "sensor": 0, "x": x + rng.normal(0, 100), "y": 20000.0 + rng.normal(0, 100),
                "z": z + rng.normal(0, 150), "sigma": 100.0, "sigma_z": 150.0,
                "vx": vx + rng.normal(0, 3), "vy": rng.normal(0, 3), "vz": vz + rng.normal(0, 3),
            }
        ]  # fmt: skip

    times = np.arange(0.0, 200.0, 2.0)

    def run(cfg: TrackerConfig) -> tuple[set[int], set[int], list[int]]:
        _, states = _run(reg, times, rows_at, cfg=cfg)
        rocket = {int(i) for s in states if s.t <= 56.0 for i in s.ids[s.confirmed]}
        late = {int(i) for s in states if s.t >= 150.0 for i in s.ids[s.confirmed]}
        landed = [int(i) for s in states if s.landed is not None for i in s.landed]
        return rocket, late, landed

    rocket, late, landed = run(TrackerConfig())
    assert len(rocket) == 1 and len(late) == 1 and not rocket & late  # the drone's own track
    assert landed == sorted(rocket)
    rocket, late, landed = run(TrackerConfig(landed_gate=False))
    assert rocket == late  # the rocket's track took the drone's plots
