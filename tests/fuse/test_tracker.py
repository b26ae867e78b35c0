"""Scenario tests of the Tracker: confirmation, association, coasting, out of sequence."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.contracts import ANONYMOUS_OBSERVER, THREAT_CLASSES, UNREGISTERED
from airwarn.fuse import Tracker, TrackerConfig
from airwarn.fuse.models import G
from tests.fuse.conftest import batch, registry


def _radar_rows(truth: np.ndarray, times: np.ndarray, rng, sigma=50.0, sensor=0, pd=1.0):
    """Noisy radar reports of targets truth (T, K, 2) at times (T,)."""
    rows = []
    for k, t in enumerate(times):
        for j in range(truth.shape[1]):
            if rng.random() < pd:
                x, y = truth[k, j] + rng.normal(0, sigma, 2)
                rows.append({"t": float(t), "sensor": sensor, "x": x, "y": y, "sigma": sigma})
    return rows


def _run(reg, rows, times, cfg=None, per_tick=None):
    """Feed rows grouped by time, advance at each time; return the list of TrackStates."""
    trk = Tracker(reg, cfg)
    out = []
    n = 0
    for t in times:
        rs = [r for r in rows if r["t"] == t] if per_tick is None else per_tick(t)
        if rs:
            trk.add(batch(rs, reg, n))
            n += len(rs)
        out.append(trk.advance(float(t)))
    return trk, out


def test_single_target_confirms_after_three_radar_scans(radar_reg):
    rng = np.random.default_rng(0)
    times = np.arange(20.0)
    truth = np.stack([1000 + 40 * times, 2000 - 30 * times], axis=1)[:, None, :]
    trk, states = _run(radar_reg, _radar_rows(truth, times, rng), times)
    assert [bool(s.confirmed.any()) for s in states[:4]] == [False, False, True, True]
    last = states[-1]
    assert len(last) == 1 and last.confirmed[0]
    assert np.hypot(*(last.x[0, :2] - truth[-1, 0])) < 60
    assert np.hypot(last.x[0, 3] - 40, last.x[0, 4] + 30) < 10
    assert len({int(s.ids[0]) for s in states}) == 1  # stable id
    assert states[-1].cls[0] == 0  # 50 m/s at low altitude: drone


def test_birth_key_is_fixed_by_the_first_report_not_by_other_tracks(radar_reg):
    """Clutter elsewhere renumbers a target's track but leaves its birth key unchanged."""
    times = np.arange(10.0)
    truth = np.stack([1000 + 40 * times, 2000 - 30 * times], axis=1)[:, None, :]
    target = _radar_rows(truth, times, np.random.default_rng(0))
    clutter = [
        {"t": float(t), "sensor": 0, "x": x, "y": y, "sigma": 50.0}
        for t in times[:3]
        for x, y in np.random.default_rng(1).uniform(30000, 50000, (4, 2))
    ]
    keys, ids = [], []
    for rows in (target, clutter + target):
        _, states = _run(radar_reg, rows, times)
        last = states[-1]
        i = int(np.flatnonzero(last.confirmed)[0])
        keys.append(int(last.key[i]))
        ids.append(int(last.ids[i]))
    assert ids[0] != ids[1] and keys[0] == keys[1]


def test_crossing_targets_keep_their_ids(radar_reg):
    rng = np.random.default_rng(1)
    times = np.arange(40.0)
    a = np.stack([-1000 + 50 * times, -1000 + 50 * times], axis=1)
    b = np.stack([-1000 + 50 * times, 1000 - 50 * times], axis=1)  # cross at t = 20
    truth = np.stack([a, b], axis=1)
    _, states = _run(radar_reg, _radar_rows(truth, times, rng, sigma=30), times)
    first, last = states[5], states[-1]
    assert len(last) == 2 and last.confirmed.all()

    def owner(s, k):
        d = np.hypot(*(s.x[:, None, :2] - truth[k][None]).transpose(2, 0, 1))
        return {int(s.ids[i]): int(np.argmin(d[i])) for i in range(len(s))}

    assert owner(first, 5) == owner(last, 39)


def test_swarm_in_formation_gives_one_track_per_drone(radar_reg):
    rng = np.random.default_rng(2)
    times = np.arange(30.0)
    offsets = np.array([[0, 0], [400, 0], [0, 400], [400, 400], [800, 200]], float)
    base = np.stack([45 * times, 10 * times], axis=1)
    truth = base[:, None, :] + offsets[None]
    _, states = _run(radar_reg, _radar_rows(truth, times, rng, sigma=40, pd=0.9), times)
    last = states[-1]
    conf = last.x[last.confirmed, :2]
    assert conf.shape[0] == 5
    d = np.hypot(*(conf[:, None] - truth[-1][None]).transpose(2, 0, 1))
    assert (d.min(axis=0) < 100).all()


def test_acoustic_cluster_of_one_drone_is_one_track():
    # a grid of acoustic posts every 3 km, each hearing within 4 km, reporting its position
    g = np.arange(-15000.0, 15001.0, 3000.0)
    gx, gy = np.meshgrid(g, g)
    posts = [
        (f"a{i}", "acoustic", float(x), float(y), 4000.0)
        for i, (x, y) in enumerate(zip(gx.ravel(), gy.ravel(), strict=True))
    ]
    reg = registry(posts)
    times = np.arange(0.0, 300.0, 5.0)
    pos = np.stack([-12000 + 50 * times, -3000 + 20 * times], axis=1)

    def rows_at(t):
        k = int(np.flatnonzero(times == t)[0])
        d = np.hypot(reg.x - pos[k, 0], reg.y - pos[k, 1])
        return [
            {"t": float(t), "sensor": int(i), "x": reg.x[i], "y": reg.y[i], "sigma": 2000.0}
            for i in np.flatnonzero(d < 4000.0)
        ]

    _, states = _run(reg, None, times, per_tick=rows_at)
    for s in states[3:]:
        assert int(s.confirmed.sum()) == 1
    last = states[-1]
    i = int(np.flatnonzero(last.confirmed)[0])
    assert np.hypot(*(last.x[i, :2] - pos[-1])) < 2000
    assert len(last) <= 2


def test_single_post_false_reports_never_confirm():
    reg = registry([("a0", "acoustic", 0.0, 0.0, 3000.0), ("a1", "acoustic", 50000.0, 0, 3000.0)])
    times = np.arange(0.0, 200.0, 2.0)
    rows = [{"t": t, "sensor": 0, "x": 0.0, "y": 0.0, "sigma": 2000.0} for t in times]
    _, states = _run(reg, rows, times)
    assert all(not s.confirmed.any() for s in states)
    assert max(len(s) for s in states) >= 1  # it is tracked, tentatively


def test_isolated_clutter_never_confirms(radar_reg):
    rng = np.random.default_rng(3)
    times = np.arange(30.0)
    rows = [
        {"t": float(t), "sensor": 0, "x": x, "y": y, "sigma": 50.0}
        for t in times
        for x, y in rng.uniform(-50000, 50000, (10, 2))
    ]
    _, states = _run(radar_reg, rows, times)
    assert sum(int(s.confirmed.sum()) for s in states) == 0


def test_coasting_through_a_gap(radar_reg):
    rng = np.random.default_rng(4)
    times = np.arange(60.0)
    truth = np.stack([50 * times, 0 * times], axis=1)[:, None, :]
    rows = [r for r in _radar_rows(truth, times, rng) if not (20 <= r["t"] < 24)]
    _, states = _run(radar_reg, rows, times)
    ids = {int(s.ids[0]) for s in states[3:] if len(s)}
    assert len(ids) == 1
    gap = states[23]
    assert gap.last_update[0] == 19.0
    assert np.sqrt(gap.P[0, 0, 0]) > np.sqrt(states[19].P[0, 0, 0])  # uncertainty grows
    assert np.hypot(*(gap.x[0, :2] - truth[23, 0])) < 150
    assert len(states[-1]) == 1


def test_track_deleted_after_target_disappears(radar_reg):
    rng = np.random.default_rng(5)
    times = np.arange(40.0)
    truth = np.stack([50 * times, 0 * times], axis=1)[:, None, :]
    rows = [r for r in _radar_rows(truth, times, rng) if r["t"] < 20]
    # the radar keeps reporting elsewhere, so its silence on the target counts as misses
    rows += [{"t": float(t), "sensor": 0, "x": -90000.0, "y": 0.0, "sigma": 50.0} for t in times]
    _, states = _run(radar_reg, rows, times)
    near = [np.hypot(s.x[:, 0] - 1000, s.x[:, 1]) < 5000 for s in states]
    assert near[19].sum() == 1
    assert near[-1].sum() == 0


def test_a_lost_track_is_reacquired_by_one_post_that_hears_its_threat():
    """A drone (50 m/s east) tracked by radar drops out of its view at 40 s and is deleted;
    from 60 s one acoustic post 4 km on hears it. One post alone never confirms a track
    (see above), but with re-acquisition on, inside the lost track's dead-reckoned cloud it
    is the same threat."""
    reg = registry(
        [("radar1", "radar", 0.0, 0.0, 200_000.0), ("a0", "acoustic", 4000.0, 0, 3000.0)]
    )
    rng = np.random.default_rng(6)
    times = np.arange(0.0, 120.0, 1.0)
    truth = np.stack([50 * times, 0 * times], axis=1)[:, None, :]
    rows = [r for r in _radar_rows(truth, times, rng) if r["t"] < 40]
    # the radar keeps reporting elsewhere, so its silence on the drone counts as misses
    rows += [{"t": float(t), "sensor": 0, "x": -90000.0, "y": 0.0, "sigma": 50.0} for t in times]
    rows += [
        {"t": float(t), "sensor": 1, "x": 4000.0, "y": 0.0, "sigma": 3000.0}
        for t in np.arange(60.0, 120.0, 8.0)
        if abs(50.0 * t - 4000.0) < 3000.0
    ]

    def confirmed_near_post(cfg):
        _, states = _run(reg, rows, times, cfg)
        gone = [
            k for k in range(40, 60) if not (states[k].confirmed & (states[k].x[:, 0] > 0)).any()
        ]
        near = [
            bool((s.confirmed & (np.hypot(s.x[:, 0] - 4000.0, s.x[:, 1]) < 5000.0)).any())
            for s in states[60:]
        ]
        return bool(gone), any(near)

    assert confirmed_near_post(TrackerConfig(reacquire_s=300.0)) == (True, True)
    assert confirmed_near_post(TrackerConfig()) == (True, False)  # off by default
    # a lost track faster than reacquire_max_speed is not re-acquired
    slow_only = TrackerConfig(reacquire_s=300.0, reacquire_max_speed=40.0)
    assert confirmed_near_post(slow_only) == (True, False)

    def reacquired_velocity(cfg):
        """Velocity and its sd of the first confirmed track near the post after the loss."""
        _, states = _run(reg, rows, times, cfg)
        for s in states[60:]:
            m = s.confirmed & (np.hypot(s.x[:, 0] - 4000.0, s.x[:, 1]) < 5000.0)
            if m.any():
                i = np.flatnonzero(m)[0]
                return s.x[i, 3:5], np.sqrt(np.trace(s.P[i, 3:5, 3:5]) / 2)
        raise AssertionError("not re-acquired")

    # the successor takes the lost track's velocity: one post alone measures none
    v, sd = reacquired_velocity(TrackerConfig(reacquire_s=300.0))
    assert np.hypot(v[0] - 50.0, v[1]) < 10.0 and sd < 10.0
    v, sd = reacquired_velocity(TrackerConfig(reacquire_s=300.0, reacquire_inherit=False))
    assert np.hypot(v[0] - 50.0, v[1]) > 20.0 or sd > 20.0


@pytest.mark.parametrize(
    ("speed", "alt", "vz", "g"), [(230.0, 100.0, 0.0, 0.0), (1800.0, 30000.0, 200.0, 9.81)]
)
def test_fast_mover_without_radar_velocity_is_tracked_by_two_point_start(
    radar_reg, speed, alt, vz, g
):
    # a cruise or ballistic missile, plots every 10 s with position and altitude only:
    # it moves 2-18 km a scan, far beyond the one-plot track's prior velocity gate
    rng = np.random.default_rng(8)
    times = np.arange(0.0, 80.0, 10.0)
    truth = np.stack([20000 + speed * times, 5000 + 0.5 * speed * times], axis=1)[:, None, :]
    rows = _radar_rows(truth, times, rng, sigma=200.0)
    for r in rows:
        r["z"], r["sigma_z"] = alt + vz * r["t"] - 0.5 * g * r["t"] ** 2, 300.0
    trk, states = _run(radar_reg, rows, times)
    last = states[-1]
    conf = last.confirmed
    assert conf.sum() == 1
    assert trk.stats["fast_starts"] >= 1
    v = last.x[conf][0, 3:6]
    assert np.hypot(v[0] - speed, v[1] - 0.5 * speed) < max(0.05 * speed, 25.0)
    assert abs(v[2] - (vz - g * times[-1])) < 60.0
    assert np.hypot(*(last.x[conf][0, :2] - truth[-1, 0])) < 400.0
    # the prior velocity gate alone never confirms it
    _, off = _run(radar_reg, rows, times, cfg=TrackerConfig(fast_init=False))
    assert not off[-1].confirmed.any()


def _first_confirmed(reg, truth, times, rng, sigma, z, sigma_z, cfg) -> float | None:
    """Time of the first confirmed track from position-only radar plots of ``truth`` with
    altitude ``z(t)`` (sigma ``sigma_z``)."""
    rows = _radar_rows(truth, times, rng, sigma=sigma)
    for r in rows:
        r["z"], r["sigma_z"] = z(r["t"]), sigma_z
    _, states = _run(reg, rows, times, cfg=cfg)
    return next((float(t) for t, s in zip(times, states, strict=True) if s.confirmed.any()), None)


def test_high_two_point_track_confirms_at_its_second_plot(radar_reg):
    # a ballistic missile 40 km up, plots every 10 s, position and altitude only: the
    # two-point track confirms at once (clutter is low; the flight lasts minutes), a
    # cruise missile's only after fast_confirm_scans
    rng = np.random.default_rng(3)
    times = np.arange(0.0, 60.0, 10.0)
    truth = np.stack([20000 + 1800 * times, 5000 + 900 * times], axis=1)[:, None, :]
    first = {}
    for name, alt, cfg in (
        ("ballistic", 40000.0, TrackerConfig()),
        ("ballistic, high rule off", 40000.0, TrackerConfig(confirm_scans_high=5)),
        ("cruise", 100.0, TrackerConfig()),
    ):
        first[name] = _first_confirmed(
            radar_reg, truth, times, rng, 200.0, lambda t, alt=alt: alt, 300.0, cfg
        )
    assert first == {"ballistic": 10.0, "ballistic, high rule off": 40.0, "cruise": 40.0}


def test_climbing_two_point_track_confirms_at_its_third_plot(radar_reg):
    # a missile in its boost, climbing 650 m/s from 1.5 km, plots every 6 s: still below
    # confirm_high_alt_m at its third plot, it confirms there (+12 s), not at its fifth
    rng = np.random.default_rng(4)
    times = np.arange(0.0, 42.0, 6.0)
    truth = np.stack([20000 + 1000 * times, 5000 + 500 * times], axis=1)[:, None, :]
    first = {}
    for name, vz, cfg in (
        ("climbing", 650.0, TrackerConfig()),
        ("climbing, rule off", 650.0, TrackerConfig(confirm_climb_vz=np.inf)),
        ("level", 0.0, TrackerConfig()),
    ):
        z = lambda t, vz=vz: 1500.0 + vz * t - 0.5 * 9.81 * t**2  # noqa: E731
        first[name] = _first_confirmed(radar_reg, truth, times, rng, 250.0, z, 500.0, cfg)
    assert first == {"climbing": 12.0, "climbing, rule off": 24.0, "level": 24.0}


@pytest.mark.parametrize(
    ("z", "v", "cfg", "confirmed"),
    [
        # rising at 1.5 km/s, 40 km up: it may land within ~2 minutes
        (40000.0, (1500.0, 0.0, 300.0), TrackerConfig(), True),
        (40000.0, (1500.0, 0.0, 300.0), TrackerConfig(confirm_hypersonic=np.inf), False),
        # falling: a missile is tracked by then; one stray plot waits for a second
        (40000.0, (1500.0, 0.0, -300.0), TrackerConfig(), False),
        # as fast as an aircraft can fly
        (40000.0, (600.0, 0.0, 300.0), TrackerConfig(), False),
        # a long-range missile rising 150 km up lands more than 5 minutes later
        (150000.0, (2500.0, 0.0, 1500.0), TrackerConfig(), False),
    ],
)
def test_one_hypersonic_plot_confirms_a_short_flight(radar_reg, z, v, cfg, confirmed):
    row = {"t": 0.0, "sensor": 0, "x": 20000.0, "y": 5000.0, "sigma": 300.0, "z": z}
    row |= {"sigma_z": 500.0, "vx": v[0], "vy": v[1], "vz": v[2]}
    trk = Tracker(radar_reg, cfg)
    trk.add(batch([row], radar_reg))
    assert trk.advance(1.0).confirmed.tolist() == [confirmed]


def test_drone_reported_by_phone_observers_alone_is_tracked():
    # people along a drone's route (50 m/s) report it about once a minute, each from their
    # own unregistered phone (codes as ingest gives them, or anonymous: sensor -1), 2 km
    # sigma: reports a minute apart join one track, which confirms at the third; with the
    # ordinary 30 s tentative age none ever does, nor when one phone sends all the reports
    # (one person reporting again is no second source: a prankster cannot raise an alert)
    rng = np.random.default_rng(6)
    reg = registry([])
    times = np.arange(0.0, 900.0, 60.0) + rng.uniform(-10, 10, 15)
    rows = [
        {"t": float(t), "x": 50.0 * t + rng.normal(0, 2000), "y": rng.normal(0, 2000)}
        | {"sigma": 2000.0}
        for t in times
    ]
    people = UNREGISTERED - np.arange(len(rows))
    anonymous = np.full(len(rows), ANONYMOUS_OBSERVER)
    one_phone = np.full(len(rows), UNREGISTERED)

    def run(cfg: TrackerConfig, sensors: np.ndarray):
        # a tick every 5 s, as the pipeline does: the state just after each report is kept
        trk = Tracker(reg, cfg)
        out = []
        k = 0
        for tick in np.arange(-10.0, 920.0, 5.0):
            fresh = k < len(rows) and rows[k]["t"] <= tick
            if fresh:
                trk.add(batch([rows[k] | {"sensor": int(sensors[k])}], reg, k))
                k += 1
            # no sensor in the registry: an empty heartbeat table, as the pipeline gives
            s = trk.advance(float(tick), sensor_last_seen=np.zeros(0))
            if fresh:
                out.append(s)
        return out

    for sensors in (people, anonymous):
        states = run(TrackerConfig(), sensors)
        first = next(k for k, s in enumerate(states) if s.confirmed.any())
        assert first == 2
        last = states[-1]
        i = np.flatnonzero(last.confirmed)
        assert i.size == 1
        assert np.hypot(last.x[i[0], 0] - 50.0 * times[-1], last.x[i[0], 1]) < 4000.0
        assert 30.0 < np.hypot(*last.x[i[0], 3:5]) < 70.0
    assert not any(s.confirmed.any() for s in run(TrackerConfig(observer_max_age_s=30.0), people))
    assert not any(s.confirmed.any() for s in run(TrackerConfig(), one_phone))
    # with the observer clutter map the first reports of a quiet place still count fully
    states = run(TrackerConfig(obs_clutter=True), people)
    assert next(k for k, s in enumerate(states) if s.confirmed.any()) == 2


def _clutter_confirmed(radar_reg, cfg: TrackerConfig) -> int:
    """Confirmed track ids from 60 scans of 20 clutter plots (no velocity) within 60 km."""
    rng = np.random.default_rng(0)
    trk = Tracker(radar_reg, cfg)
    ids: set[int] = set()
    for k, t in enumerate(np.arange(0.0, 600.0, 10.0)):
        r = 60000 * np.sqrt(rng.random(20))
        a = rng.random(20) * 2 * np.pi
        z = rng.random(20) * 10000
        rows = [
            {"t": t, "sensor": 0, "x": r[i] * np.cos(a[i]), "y": r[i] * np.sin(a[i])}
            | {"sigma": 200.0, "z": z[i], "sigma_z": 300.0}
            for i in range(20)
        ]
        trk.add(batch(rows, radar_reg, 20 * k))
        s = trk.advance(float(t))
        ids |= {int(i) for i in s.ids[s.confirmed]}
    return len(ids)


def test_two_point_starts_confirm_no_more_clutter(radar_reg):
    # any two clutter plots of successive scans make a plausible fast mover: the extra
    # scans a two-point track needs keep clutter from confirming more than before
    without = _clutter_confirmed(radar_reg, TrackerConfig(fast_init=False))
    assert _clutter_confirmed(radar_reg, TrackerConfig()) <= without + 2
    assert _clutter_confirmed(radar_reg, TrackerConfig(fast_confirm_scans=3)) > without + 10


def _acoustic_rows(reg, truth, times, rng, period=8.0, pd=1.0, rng_m=3000.0):
    """Acoustic reports: each post within range of a target (truth (T, K, 2) at times)
    reports its own position every ``period`` (its own phase) with probability pd."""
    phase = (np.arange(len(reg.x)) % 4) * 2.0

    def rows_at(t):
        k = int(np.flatnonzero(times == t)[0])
        out = []
        for j in range(truth.shape[1]):
            d = np.hypot(reg.x - truth[k, j, 0], reg.y - truth[k, j, 1])
            due = np.isclose((t - phase) % period, 0.0) & (d < rng_m)
            for i in np.flatnonzero(due):
                if rng.random() < pd:
                    out.append({"t": float(t), "sensor": int(i), "x": reg.x[i], "y": reg.y[i]})
                    out[-1]["sigma"] = rng_m
        return out

    return rows_at


def test_cruise_heard_by_acoustic_posts_only_is_tracked_by_two_post_start():
    # a cruise missile below the radar horizon, heard by posts 12 km apart along its
    # route (each hears it for ~25 s): one post's reports never reach the next post's
    # through a drone-speed prior gate, a pair of posts does
    along = np.arange(-48000.0, 48001.0, 12000.0)
    u = np.array([0.95, 0.31])
    u /= np.hypot(*u)
    n = np.array([-u[1], u[0]])
    pts = [a * u + (1000.0 if k % 2 else -1000.0) * n for k, a in enumerate(along)]
    pts += [(x, y) for x in (-40000.0, 0.0, 40000.0) for y in (-40000.0, 40000.0)]
    reg = registry(
        [(f"a{i}", "acoustic", float(x), float(y), 3000.0) for i, (x, y) in enumerate(pts)]
    )
    times = np.arange(0.0, 420.0, 2.0)
    truth = (-50000.0 * u + 230.0 * times[:, None] * u)[:, None, :]
    rows_at = _acoustic_rows(reg, truth, times, np.random.default_rng(3))
    trk, states = _run(reg, None, times, per_tick=rows_at)
    assert trk.stats["fast_acoustic_starts"] >= 1
    hits = []
    for k, s in enumerate(states):
        for i in np.flatnonzero(s.confirmed):
            d = np.hypot(*(s.x[i, :2] - truth[k, 0]))
            sp = np.hypot(*s.x[i, 3:5])
            cosang = s.x[i, 3:5] @ u / max(sp, 1e-9)
            hits.append((times[k], d, sp, cosang))
    assert hits, "no confirmed track"
    t_first = hits[0][0]
    assert t_first < 250.0  # confirmed by the third or fourth post on its line
    late = [h for h in hits if h[0] >= t_first + 60.0]
    assert late
    # coarse (each post reports its own position), but a fast mover on the right course,
    # at nearly its speed: turn modes limited to 2.5 m/s^2 do not shrink it between posts
    for _, d, sp, cosang in late:
        assert d < 4000.0
        assert 180.0 < sp < 280.0
        assert cosang > np.cos(np.radians(15.0))
    # a fixed 3 deg/s turn rate swings the modes ~150 degrees apart between posts 50 s
    # apart; their mix is slower and behind (measured: 147-199 m/s, up to 5.3 km off)
    _, fixed = _run(reg, None, times, cfg=TrackerConfig(imm_turn_accel=0.0), per_tick=rows_at)
    sp_fixed = [np.hypot(*s.x[i, 3:5]) for s in fixed[-60:] for i in np.flatnonzero(s.confirmed)]
    sp_late = [h[2] for h in late[-60:]]
    assert sp_fixed and np.median(sp_fixed) < np.median(sp_late) - 10.0
    # without the two-post start, nothing confirms
    _, off = _run(reg, None, times, cfg=TrackerConfig(fast_acoustic=False), per_tick=rows_at)
    assert not any(s.confirmed.any() for s in off)


def test_an_airliner_beside_a_cruise_missile_does_not_take_its_acoustic_track():
    # the cruise missile above, heard by the posts only, and an airliner 9.5 km up flying
    # the same course at the same speed 5 km beside it, plotted by a radar every 5 s:
    # with the altitude gate the missile's track stays low (its posts hear nothing above
    # 3 km) and the airliner keeps its own; without it the airliner's plots take the
    # missile's track up to 9 km and its posts' reports then update that high track
    along = np.arange(-48000.0, 48001.0, 12000.0)
    u = np.array([0.95, 0.31])
    u /= np.hypot(*u)
    n = np.array([-u[1], u[0]])
    pts = [a * u + (1000.0 if k % 2 else -1000.0) * n for k, a in enumerate(along)]
    posts = [(f"a{i}", "acoustic", float(x), float(y), 3000.0) for i, (x, y) in enumerate(pts)]
    reg = registry([*posts, ("r", "radar", 0.0, -150000.0, 300000.0)])
    radar = len(posts)
    times = np.arange(0.0, 420.0, 2.0)
    missile = -50000.0 * u + 230.0 * times[:, None] * u
    jet = missile + 5000.0 * n
    heard = _acoustic_rows(reg, missile[:, None, :], times, np.random.default_rng(3))
    rng = np.random.default_rng(4)

    def rows_at(t):
        out = [r for r in heard(t) if r["sensor"] < radar]
        if t % 5.0 == 0.0:
            k = int(np.flatnonzero(times == t)[0])
            x, y = jet[k] + rng.normal(0, 300.0, 2)
            z = 9500.0 + rng.normal(0, 300.0)
            out.append({"t": t, "sensor": radar, "x": x, "y": y, "z": z, "sigma": 300.0})
            out[-1]["sigma_z"] = 300.0
        return out

    def low_track_on_missile(cfg: TrackerConfig) -> bool:
        _, states = _run(reg, None, times, cfg=cfg, per_tick=rows_at)
        s, k = states[-40], len(times) - 40
        d = np.hypot(s.x[:, 0] - missile[k, 0], s.x[:, 1] - missile[k, 1])
        return bool((s.confirmed & (d < 4000.0) & (s.x[:, 2] < 3000.0)).any())

    assert low_track_on_missile(TrackerConfig())
    assert not low_track_on_missile(TrackerConfig(alt_gate_d2=0.0))


def _rocket_plots(rng, every_s: float, end_s: float, sigma: float, sigma_z: float, v_sd=None):
    """Radar plots of a 30 km rocket launched at 50 degrees (drag-free), every ``every_s``
    until ``end_s`` before the impact, with velocity (sd ``v_sd``) or without (None):
    (plot times, rows, true vertical speeds, true altitudes)."""
    th, d = np.radians(50.0), 30000.0
    v0 = np.sqrt(d * 9.81 / np.sin(2 * th))
    tf = 2 * v0 * np.sin(th) / 9.81
    times = np.arange(every_s, tf - end_s, every_s)
    vx, vz = v0 * np.cos(th), v0 * np.sin(th) - 9.81 * times
    z = v0 * np.sin(th) * times - 4.905 * times**2
    rows = []
    for k, t in enumerate(times):
        row = {"t": float(t), "sensor": 0, "x": 20000.0 + vx * t + rng.normal(0, sigma)}
        row |= {"y": 5000.0, "z": float(z[k] + rng.normal(0, sigma_z))}
        row |= {"sigma_z": sigma_z, "sigma": sigma}
        if v_sd is not None:
            row |= {"vx": vx + rng.normal(0, v_sd), "vy": 0.0}
            row["vz"] = float(vz[k] + rng.normal(0, v_sd))
        rows.append(row)
    return times, rows, vz, z


def test_a_short_range_rocket_stays_ballistic_over_its_apogee(radar_reg):
    # a 30 km rocket launched at 50 degrees (apogee ~9 km, ~345 m/s level at the top),
    # plotted with altitude and velocity every 4 s: its measured climb keeps the class
    # ballistic over the apogee, where speed and height alone read as an aircraft
    times, rows, vz, _ = _rocket_plots(np.random.default_rng(5), 4.0, 4.0, 100.0, 150.0, 8.0)
    top = int(np.argmin(np.abs(vz)))
    ball = THREAT_CLASSES.index("ballistic")

    def class_at_top(cfg: TrackerConfig) -> int:
        _, states = _run(radar_reg, rows, times, cfg=cfg)
        s = states[top]
        return int(s.cls[np.argmax(s.confirmed)])

    assert class_at_top(TrackerConfig()) == ball
    # without the hint (and the fall test, which sees the parabola too, and the memory of
    # its class, which holds it) it is not
    off = TrackerConfig(ballistic_hint=0.0, fall_test=False, ballistic_memory_s=0.0)
    assert class_at_top(off) != ball


def test_a_missile_read_as_an_aircraft_stays_ballistic_for_the_memory(radar_reg):
    # a rocket plotted with velocity climbs at 400 m/s for 20 s, then flies level 9 km up
    # at 280 m/s (the class hint and the fall test off): read as an aircraft once level, it
    # is reported 'ballistic' until ballistic_memory_s (60 s) after its last steep climb,
    # then as the aircraft it reads as (only its own reading refreshes the memory)
    rng = np.random.default_rng(2)
    times = np.arange(0.0, 200.0, 5.0)
    rows = []
    for t in times:
        climb = t < 20.0
        row = {"t": float(t), "sensor": 0, "x": 20000.0 + 280.0 * t + rng.normal(0, 100)}
        row |= {"y": 5000.0 + rng.normal(0, 100), "sigma": 100.0, "sigma_z": 150.0}
        row["z"] = (1000.0 + 400.0 * t if climb else 9000.0) + rng.normal(0, 150)
        row |= {"vx": 280.0 + rng.normal(0, 5), "vy": 0.0}
        row["vz"] = (400.0 if climb else 0.0) + rng.normal(0, 5)
        rows.append(row)
    ball, air = THREAT_CLASSES.index("ballistic"), THREAT_CLASSES.index("aircraft")

    def classes(cfg: TrackerConfig) -> dict[float, int]:
        _, states = _run(radar_reg, rows, times, cfg=cfg)
        return {s.t: int(s.cls[np.argmax(s.confirmed)]) for s in states if s.confirmed.any()}

    on = classes(TrackerConfig(ballistic_hint=0.0, fall_test=False))
    assert {c for t, c in on.items() if t <= 75.0} == {ball}
    assert {c for t, c in on.items() if t >= 85.0} == {air}
    off = classes(TrackerConfig(ballistic_hint=0.0, fall_test=False, ballistic_memory_s=0.0))
    assert {c for t, c in off.items() if t >= 25.0} == {air}


def test_a_chain_that_takes_a_cruise_missile_restarts_as_a_fast_track():
    # two false reports 240 s apart start a chain (a drone's pace) on a line of posts
    # 12 km apart; a cruise missile then flies along the line and the chain takes its
    # reports, so they start no fast pair. Posts heard in turn that only a fast mover
    # links restart the chain as a fast track: confirmed when the missile reaches the
    # third post (x = 21 km at +347 s); without the restart it confirmed only at the fifth
    posts = [(f"p{i}", "acoustic", 12000.0 * i, 0.0, 3000.0) for i in range(10)]
    posts += [(f"q{i}", "acoustic", 12000.0 * i, 30000.0, 3000.0) for i in range(10)]
    reg = registry(posts)
    times = np.arange(0.0, 800.0, 2.0)
    t0 = 230.0
    truth = np.stack([-6000.0 + 230.0 * (times - t0), np.full_like(times, 500.0)], 1)[:, None]
    heard = _acoustic_rows(reg, truth, times, np.random.default_rng(1))

    def rows_at(t):
        rows = heard(t) if t >= t0 else []
        for tf, i in ((0.0, 0), (240.0, 1)):
            if t == tf:
                rows.append({"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0})
        return rows

    trk, states = _run(reg, None, times, per_tick=rows_at)
    assert trk.stats["chain_acoustic_starts"] >= 1
    assert trk.stats["chain_to_fast"] >= 1
    first = None
    for k, s in enumerate(states):
        fast = s.confirmed & (np.hypot(s.x[:, 3], s.x[:, 4]) > 150.0)
        if fast.any():
            i = np.flatnonzero(fast)[0]
            first = times[k]
            assert np.hypot(*(s.x[i, :2] - truth[k, 0])) < 5000.0
            break
    assert first is not None and first <= 380.0


def _missile_over_a_post_gap():
    """Posts on a line with a 40 km gap (and a second line 30 km off), a missile flying
    along it at 230 m/s: heard by the first two posts, then for 150 s by none, then by the
    third. Returns the registry, the times, the truth and the per-tick reports."""
    xs = [0.0, 16000.0, 56000.0, 72000.0, 88000.0, 104000.0]
    posts = [(f"p{i}", "acoustic", x, 0.0, 3000.0) for i, x in enumerate(xs)]
    posts += [(f"q{i}", "acoustic", 16000.0 * i, 30000.0, 3000.0) for i in range(6)]
    reg = registry(posts)
    times = np.arange(0.0, 600.0, 2.0)
    truth = np.stack([-8000.0 + 230.0 * times, np.full_like(times, 500.0)], 1)[:, None]
    heard = _acoustic_rows(reg, truth, times, np.random.default_rng(1))
    return reg, times, truth, heard


def test_fast_ac_next_s_lets_a_fast_track_wait_for_a_post_beyond_the_pair_window():
    # posts on a line with a 40 km gap: the missile is heard by the first two, then for
    # 150 s by none, then by the third; a pair that may wait 180 s waits for it
    reg, times, truth, heard = _missile_over_a_post_gap()

    def first_confirmed(cfg: TrackerConfig) -> float:
        _, states = _run(reg, None, times, cfg=cfg, per_tick=heard)
        return next(times[k] for k, s in enumerate(states) if s.confirmed.any())

    # waiting 180 s: confirmed when the third post hears it (x = 53 km at +266 s) ...
    assert 266.0 <= first_confirmed(TrackerConfig(fast_ac_next_s=180.0)) <= 280.0
    # ... where a pair that waits only the pair window (the default, 120 s) dies and, not
    # linked to the next pair (fast_ac_link_s), the fifth post confirms a later pair
    # (measured: +408 s)
    assert first_confirmed(TrackerConfig(fast_ac_link_s=0.0)) > 380.0


def test_a_fast_pair_that_continues_a_dead_one_confirms_with_its_posts():
    """The line of posts above, with the default pair window and fast_ac_link_s at 300 s
    (off by default): the first pair (posts at 0
    and 16 km) dies waiting through the 40 km gap. The next pair (56 and 72 km) lies on its
    line at its speed, so it counts the first pair's posts and confirms at once, before the
    fifth post; its velocity is fitted over all four posts."""
    reg, times, truth, heard = _missile_over_a_post_gap()
    link = TrackerConfig(fast_ac_link_s=300.0)  # off by default (policy.toml)
    trk, states = _run(reg, None, times, cfg=link, per_tick=heard)
    assert trk.stats["fast_links"] == 1
    k = next(k for k, s in enumerate(states) if s.confirmed.any())
    assert times[k] < 380.0  # unlinked: +408 s (the test above)
    i = np.flatnonzero(states[k].confirmed)[0]
    v = states[k].x[i, 3:5]
    assert 180.0 < v[0] < 280.0 and abs(v[1]) < 40.0
    assert np.hypot(*(states[k].x[i, :2] - truth[k, 0])) < 5000.0


def test_fast_pairs_off_the_dead_pair_s_line_are_not_linked():
    """A dead pair flying east at 229 m/s (posts at 0 and 16 km); new pairs that fly north
    from beside its line, fly back west, or come along the line 20 minutes on do not count
    its posts; one along the line at its pace does."""
    posts = [(f"p{i}", "acoustic", 16000.0 * i, 0.0, 3000.0) for i in range(8)]
    posts += [(f"n{i}", "acoustic", 60000.0, 16000.0 * (i + 1), 3000.0) for i in range(2)]
    reg = registry(posts)
    times = np.arange(0.0, 1400.0, 2.0)

    def links(second: list[tuple[float, int]]) -> int:
        rows = [
            {"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0}
            for t, i in [(0.0, 0), (70.0, 1), *second]
        ]
        return _run(reg, rows, times, cfg=TrackerConfig(fast_ac_link_s=300.0))[0].stats[
            "fast_links"
        ]

    assert links([(280.0, 4), (350.0, 5)]) == 1  # 64 and 80 km: on the line, at the pace
    assert links([(280.0, 8), (350.0, 9)]) == 0  # north from (60, 16 km)
    assert links([(280.0, 5), (350.0, 4)]) == 0  # back west
    assert links([(1280.0, 6), (1350.0, 7)]) == 0  # forgotten after fast_ac_link_s


def test_a_fast_pair_that_follows_a_drone_gives_way_to_its_chain():
    # a false report of a post 20 km back, then a drone entering the next post's range:
    # the pair looks like a fast mover and takes the drone's reports post after post,
    # counting none. Once that post has heard it for longer than a fast mover stays,
    # the pair is refuted and the drone's own chain confirms it at its third post
    # (x = 13 km at +430 s, as without the false report); unrefuted, never in 20 minutes
    xs = [-20000.0] + [8000.0 * i for i in range(8)]
    posts = [(f"p{i}", "acoustic", x, 0.0, 3000.0) for i, x in enumerate(xs)]
    posts += [(f"q{i}", "acoustic", 8000.0 * i - 20000, 30000.0, 3000.0) for i in range(9)]
    reg = registry(posts)
    times = np.arange(0.0, 1200.0, 2.0)
    truth = np.stack([-6000.0 + 45.0 * times, np.full_like(times, 300.0)], 1)[:, None]
    heard = _acoustic_rows(reg, truth, times, np.random.default_rng(1))

    def rows_at(t):
        rows = heard(t)
        if t == 10.0:
            rows.append({"t": t, "sensor": 0, "x": reg.x[0], "y": reg.y[0], "sigma": 3000.0})
        return rows

    def first(refute: bool) -> tuple[Tracker, float | None]:
        trk, states = _run(reg, None, times, TrackerConfig(fast_ac_refute=refute), rows_at)
        return trk, next((times[k] for k, s in enumerate(states) if s.confirmed.any()), None)

    trk, t_on = first(True)
    assert trk.stats["fast_acoustic_starts"] >= 1 and trk.stats["fast_refuted"] >= 1
    assert t_on is not None and 420.0 <= t_on <= 440.0
    assert first(False)[1] is None


def test_two_post_starts_confirm_no_fast_track_in_a_drone_swarm():
    # 12 drones at 50 m/s in a 6 km corridor over posts every 6 km, and false reports:
    # chance pairs of reports at a fast mover's spacing abound, chance lines do not
    g = np.arange(-42000.0, 42001.0, 6000.0)
    gx, gy = np.meshgrid(g, g)
    reg = registry(
        [
            (f"a{i}", "acoustic", float(x), float(y), 3000.0)
            for i, (x, y) in enumerate(zip(gx.ravel(), gy.ravel(), strict=True))
        ]
    )
    rng = np.random.default_rng(4)
    times = np.arange(0.0, 1200.0, 2.0)
    start = np.stack([-40000 - rng.uniform(0, 8000, 12), rng.uniform(-3000, 3000, 12)], 1)
    vel = np.stack([rng.uniform(45, 55, 12), rng.normal(0, 3, 12)], 1)
    truth = start[None] + times[:, None, None] * vel[None]

    def run(cfg: TrackerConfig, p_false: float) -> tuple[Tracker, set[int], set[int]]:
        rng = np.random.default_rng(5)
        heard = _acoustic_rows(reg, truth, times, rng, pd=0.85)
        trk = Tracker(reg, cfg)
        fast: set[int] = set()
        conf: set[int] = set()
        n = 0
        for t in times:
            rows = heard(t)
            if rng.random() < p_false:  # a false report of a random post
                i = int(rng.integers(len(reg.x)))
                rows.append({"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0})
            if rows:
                trk.add(batch(rows, reg, n))
                n += len(rows)
            s = trk.advance(float(t), np.full(len(reg.x), float(t)))  # every post live
            sp = np.hypot(s.x[:, 3], s.x[:, 4])
            fast |= set(s.ids[s.confirmed & (sp > 100.0)].tolist())
            conf |= set(s.ids[s.confirmed].tolist())
        return trk, fast, conf

    # false reports at 10x the simulator's rate (0.2 per post and hour); the slow two-post
    # initiator (which takes some of the reports) off, to see the fast one alone
    slow_off = {"slow_acoustic": False}
    trk, fast, conf = run(TrackerConfig(**slow_off), 0.025)
    assert trk.stats["fast_acoustic_starts"] >= 3  # chance pairs were started ...
    assert conf  # the swarm itself is tracked
    _, off_fast, _ = run(TrackerConfig(fast_acoustic=False, **slow_off), 0.025)
    # ... and confirmed no more fast movers than drone tracks' own jitter gives
    assert len(fast) <= len(off_fast)
    # at 40x (0.8 per post and hour), four posts in turn are needed for that
    _, off_fast, _ = run(TrackerConfig(fast_acoustic=False, **slow_off), 0.1)
    _, fast4, _ = run(TrackerConfig(fast_ac_confirm_posts=4, **slow_off), 0.1)
    assert len(fast4) <= len(off_fast)
    # with both initiators on, still no more fast movers than without the fast one
    _, fast_both, _ = run(TrackerConfig(), 0.025)
    assert len(fast_both) <= len(off_fast)


def _sparse_line_run(cfg: TrackerConfig, drone: bool, p_false: float, seed: int = 2):
    """Posts 15 km apart on a 6 x 3 grid (range 3 km); a drone at 50 m/s along the middle
    row (each post hears it ~2 min, then ~3 min of silence), and/or false reports of
    random posts. Confirmed states of every tick."""
    posts = [
        (f"p{i}{j}", "acoustic", 15000.0 * i, 15000.0 * (j - 1), 3000.0)
        for i in range(6)
        for j in range(3)
    ]
    reg = registry(posts)
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, 1800.0, 2.0)
    truth = np.stack([-4000.0 + 50.0 * times, np.full_like(times, 800.0)], 1)[:, None, :]
    heard = _acoustic_rows(reg, truth, times, rng, pd=0.85)

    def rows_at(t):
        rows = heard(t) if drone else []
        if rng.random() < p_false:
            i = int(rng.integers(len(reg.x)))
            rows.append({"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0})
        return rows

    trk, states = _run(reg, None, times, cfg=cfg, per_tick=rows_at)
    return trk, states, times, truth


def test_slow_two_post_start_tracks_a_drone_over_sparse_posts():
    trk, states, times, truth = _sparse_line_run(TrackerConfig(), True, 0.0)
    assert trk.stats["chain_acoustic_starts"] >= 1
    first = next(k for k, s in enumerate(states) if s.confirmed.any())
    # confirmed when the third post (x = 30 km) first hears it: x = 27 km at +620 s
    assert 610.0 <= times[first] <= 700.0
    last = states[-1]
    i = np.flatnonzero(last.confirmed)
    assert i.size == 1
    assert np.hypot(*(last.x[i[0], :2] - truth[-1, 0])) < 6000.0
    sp = np.hypot(*last.x[i[0], 3:5])
    assert 35.0 < sp < 65.0 and abs(last.x[i[0], 4]) < 15.0
    # one post at a time: without the slow start nothing ever confirms; it needs no fast one
    _, off, _, _ = _sparse_line_run(TrackerConfig(slow_acoustic=False), True, 0.0)
    assert not any(s.confirmed.any() for s in off)
    _, alone, _, _ = _sparse_line_run(TrackerConfig(fast_acoustic=False), True, 0.0)
    assert next(k for k, s in enumerate(alone) if s.confirmed.any()) == first
    # the turn modes on 200 s steps, or a post's run of reports as position updates, slow
    # the track far below the drone's 50 m/s
    for cfg in (TrackerConfig(imm_max_dt_s=1e9), TrackerConfig(slow_ac_hold=False)):
        _, st, _, _ = _sparse_line_run(cfg, True, 0.0)
        speeds = [np.hypot(*s.x[i, 3:5]) for s in st[-300:] for i in np.flatnonzero(s.confirmed)]
        assert speeds and np.median(speeds) < 35.0


def test_slow_two_post_start_confirms_no_false_reports():
    # false reports only, 0.8 per post and hour (40x the simulator's): chance pairs start
    # chain tracks, but no third post hears them in turn
    trk, states, _, _ = _sparse_line_run(TrackerConfig(), False, 0.008, seed=3)
    assert trk.stats["chain_acoustic_starts"] >= 1
    assert not any(s.confirmed.any() for s in states)


@pytest.mark.parametrize(
    ("middle", "starts"),
    [(None, 1), ("live", 0), ("dead", 1)],
)
def test_slow_pair_needs_an_unheard_way_between_the_posts(middle, starts):
    # posts A and B 15 km apart each report once, 200 s apart (a drone's pace): a chain
    # starts unless a live post covers the way between (the drone would have been heard)
    posts = [("A", "acoustic", 0.0, 0.0, 3000.0), ("B", "acoustic", 15000.0, 0.0, 3000.0)]
    if middle:
        posts.append(("M", "acoustic", 7500.0, 0.0, 3000.0))
    reg = registry(posts)
    seen = np.full(len(posts), 0.0)
    trk = Tracker(reg, TrackerConfig())
    for k, (t, i) in enumerate(((0.0, 0), (200.0, 1))):
        trk.add(
            batch([{"t": t, "sensor": i, "x": reg.x[i], "y": reg.y[i], "sigma": 3000.0}], reg, k)
        )
        seen[:2] = t
        if middle == "live":
            seen[2] = t
        trk.advance(t, seen)
    assert trk.stats["chain_acoustic_starts"] == starts


def test_posts_that_hear_a_drone_for_minutes_start_no_two_post_track():
    # four posts 27 km apart on a line, each passed in turn, 100 s apart, by a different
    # drone crossing the line: pairs of their reports look like a 270 m/s mover, but each
    # post hears its drone for ~2 minutes, and no fast mover stays that long in 3 km
    xs = 27000.0 * np.arange(4)
    reg = registry([(f"a{i}", "acoustic", float(x), 0.0, 3000.0) for i, x in enumerate(xs)])
    times = np.arange(0.0, 480.0, 2.0)
    y = -3000.0 + 47.0 * (times[:, None] - 100.0 * np.arange(4)[None, :])
    truth = np.stack([np.broadcast_to(xs, y.shape), y], axis=2)
    rows_at = _acoustic_rows(reg, truth, times, np.random.default_rng(7))

    def fast_confirmed(cfg: TrackerConfig) -> tuple[int, int]:
        trk, states = _run(reg, None, times, cfg=cfg, per_tick=rows_at)
        n = sum(int((s.confirmed & (np.hypot(s.x[:, 3], s.x[:, 4]) > 100.0)).sum()) for s in states)
        return trk.stats["fast_acoustic_starts"], n

    starts, n_fast = fast_confirmed(TrackerConfig(fast_ac_dwell=False))
    assert starts >= 3 and n_fast > 0  # the chance line is taken for a cruise missile
    assert fast_confirmed(TrackerConfig()) == (0, 0)


def _lone_target_life(radar_reg, radar_alive: bool, cfg=None) -> tuple[float, float]:
    """A radar scanning every 10 s sees one target (and nothing else) until t = 100, when
    the target vanishes. Returns (last time the track exists, its last update)."""
    rng = np.random.default_rng(6)
    scans = np.arange(0.0, 101.0, 10.0)
    truth = np.stack([50 * scans, 0 * scans], axis=1)[:, None, :]
    trk = Tracker(radar_reg, cfg)
    trk.add(batch(_radar_rows(truth, scans, rng), radar_reg))
    last = -1.0
    for t in np.arange(0.0, 400.0, 5.0):
        # the radar's heartbeat: heard from up to now, or last at t = 80 (down from then:
        # not live once ex_live_s = 70 s have passed, before its silence would count)
        seen = np.array([t if radar_alive else min(t, 80.0)])
        s = trk.advance(float(t), sensor_last_seen=seen)
        if len(s):
            last, upd = float(t), float(s.last_update[0])
    return last, upd


def test_live_radar_silence_deletes_a_vanished_target_after_its_misses(radar_reg):
    # no other plot from the radar: its scans are counted on the clock, one per scan
    # period seen on the track (10 s): 5 misses + 10 s delivery slack after t = 100
    last, upd = _lone_target_life(radar_reg, radar_alive=True)
    assert upd == 100.0
    assert 155.0 <= last < 165.0
    # without the clock count the confirmed track coasts for max_coast_s (180 s)
    off = TrackerConfig(radar_silence=False)
    last_off, _ = _lone_target_life(radar_reg, radar_alive=True, cfg=off)
    assert 275.0 <= last_off <= 280.0


def test_radars_taking_turns_on_a_target_count_its_silence(two_radar_reg):
    # two radars each scan every 10 s, 5 s apart, so every plot of the track comes from the
    # other radar; the target vanishes at t = 100. With radar_slots the track's scan period
    # is read per radar (10 s), and 5 misses + 10 s slack after the last plot delete it
    rng = np.random.default_rng(8)
    scans = np.arange(0.0, 101.0, 5.0)
    truth = np.stack([50 * scans, 0 * scans], axis=1)[:, None, :]
    rows = [
        r | {"sensor": k % 2}
        for k, t in enumerate(scans)
        for r in _radar_rows(truth[k : k + 1], scans[k : k + 1], rng)
    ]

    def life(cfg: TrackerConfig) -> float:
        trk = Tracker(two_radar_reg, cfg)
        trk.add(batch(rows, two_radar_reg))
        last = -1.0
        for t in np.arange(0.0, 400.0, 5.0):
            s = trk.advance(float(t), sensor_last_seen=np.array([t, t]))
            if len(s):
                assert s.confirmed.all() or t < 30.0
                last = float(t)
        return last

    assert 155.0 <= life(TrackerConfig(radar_slots=True)) < 165.0
    # read from two plots in a row of one radar only (the default), it has no scan period
    # and coasts for max_coast_s (180 s)
    assert 275.0 <= life(TrackerConfig()) <= 280.0


def _three_radar_rows(seed: int, period: float, offset: float, b_times: tuple) -> list[dict]:
    """Plots of three radars (sensor codes 0-2): a drone (A, y = 30 km) that radar k plots
    every ``period`` s from ``offset * k`` until t = 50, and a target (B, y = -30 km, 20 m/s)
    plotted once at each of ``b_times`` by radars 0, 1, 2 in turn; sorted by time."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(3):
        scans = np.arange(offset * k, 50.0, period)
        a = np.stack([50 * scans, 30000.0 + 0 * scans], axis=1)[:, None, :]
        rows += [r | {"sensor": k} for r in _radar_rows(a, scans, rng)]
    for k, tb in enumerate(b_times):
        b = np.array([[[-20000.0 + 20 * tb, -30000.0]]])
        rows += [r | {"sensor": k} for r in _radar_rows(b, np.array([tb]), rng)]
    return sorted(rows, key=lambda r: r["t"])


def test_a_track_no_radar_plotted_twice_takes_its_radars_scan_period(three_radar_reg):
    # three radars, each scanning every 10 s, see a drone (A) until t = 50, so their scan
    # period is known. Another target (B) is plotted once by each radar, 2 s apart, at
    # t = 60-64, then never again, though all three radars (live, sending nothing else)
    # still scan it: B's own track has no scan period, so (radar_slots) it takes its last
    # radar's (10 s) and is deleted 5 misses and 10 s of slack after its last plot;
    # without radar_slots it coasts max_coast_s (180 s)
    rows = _three_radar_rows(9, 10.0, 3.0, (60.0, 62.0, 64.0))

    def life_of_b(cfg: TrackerConfig) -> tuple[float, bool]:
        trk = Tracker(three_radar_reg, cfg)
        last, confirmed = -1.0, False
        for t in np.arange(0.0, 400.0, 2.0):
            trk.add(batch([r for r in rows if t - 2.0 < r["t"] <= t], three_radar_reg))
            s = trk.advance(float(t), sensor_last_seen=np.full(3, t))
            b = s.x[:, 1] < 0.0
            if b.any():
                last, confirmed = float(t), confirmed or bool(s.confirmed[b].any())
        return last, confirmed

    last, confirmed = life_of_b(TrackerConfig(radar_slots=True))
    assert confirmed and 124.0 <= last < 130.0
    last, confirmed = life_of_b(TrackerConfig())
    assert confirmed and 240.0 <= last <= 246.0


def test_a_tentative_track_waits_for_radars_taking_turns(three_radar_reg):
    # three radars scanning every 4 s see a drone (A) until t = 50: their period is known. A
    # weak target (B) is plotted by radar 0 at t = 60 and radar 1 at t = 62, missed for 23 s,
    # and plotted by radar 2 at t = 85: with radar_slots too, a tentative track waits
    # (tentative_max_age_s, 30 s) and confirms with the third plot; the radars' short period would have deleted it
    # 2 misses + 10 s after its last plot, and the third plot would start a track of its own
    rows = _three_radar_rows(10, 4.0, 1.3, (60.0, 62.0, 85.0))
    trk = Tracker(three_radar_reg, TrackerConfig(radar_slots=True))
    for t in np.arange(0.0, 90.0, 1.0):
        trk.add(batch([r for r in rows if t - 1.0 < r["t"] <= t], three_radar_reg))
        s = trk.advance(float(t), sensor_last_seen=np.full(3, t))
        b = s.x[:, 1] < 0.0
        if t == 84.0:
            assert b.sum() == 1 and not s.confirmed[b].any()
    assert b.sum() == 1 and s.confirmed[b].all()


def test_dead_radar_silence_is_no_evidence(radar_reg):
    # the radar itself went quiet (no heartbeat): the track coasts as before
    last, _ = _lone_target_life(radar_reg, radar_alive=False)
    assert 275.0 <= last <= 280.0


@pytest.mark.parametrize(("lag", "tol"), [(10.0, 1e-6), (30.0, 100.0)])
def test_out_of_sequence_equals_in_order(radar_reg, lag, tol):
    """Late by <= rollback_s: exactly the in-order result; later: close to it."""
    rng = np.random.default_rng(6)
    times = np.arange(60.0)
    truth = np.stack(
        [
            np.stack([50 * times, 10 * times], 1),
            np.stack([-3000 + 40 * times, 5000 - 20 * times], 1),
        ],
        axis=1,
    )
    rows = _radar_rows(truth, times, rng, pd=0.9)
    _, in_order = _run(radar_reg, rows, times)
    # the same reports, but those of every 7th second arrive ``lag`` s late
    late = {t for t in times if int(t) % 7 == 3}

    def delivered(t):
        on_time = [r for r in rows if r["t"] == t and r["t"] not in late]
        return on_time + [r for r in rows if r["t"] == t - lag and r["t"] in late]

    ticks = np.arange(0.0, 90.0)
    trk, ooo = _run(radar_reg, None, ticks, per_tick=delivered)
    assert trk.stats["rollbacks" if lag < 15 else "late_direct"] > 0
    a, b = in_order[-1], ooo[89]  # every late report has come in by t = 89
    assert len(b) == 2
    ib = np.argsort(b.ids)
    ia = np.argsort(a.ids)
    dt = b.t - a.t  # predict the in-order run to the same time for the comparison
    pa = a.x[ia, :2] + dt * a.x[ia, 3:5]
    np.testing.assert_allclose(b.x[ib, :2], pa, atol=tol)
    np.testing.assert_array_equal(a.ids[ia], b.ids[ib])
    # while reports are missing the tracks are still held
    assert len(ooo[40]) == 2


def test_causal_and_deterministic(radar_reg):
    rng = np.random.default_rng(7)
    times = np.arange(30.0)
    truth = np.stack([50 * times, 10 * times], 1)[:, None, :]
    rows = _radar_rows(truth, times, rng)
    _, a = _run(radar_reg, rows, times)
    _, b = _run(radar_reg, rows, times)
    # a run fed only the first half gives the same states up to there
    _, c = _run(radar_reg, [r for r in rows if r["t"] < 15], times[:15])
    for s, u in zip(a, b, strict=True):
        np.testing.assert_array_equal(s.x, u.x)
        np.testing.assert_array_equal(s.ids, u.ids)
    for s, u in zip(a[:15], c, strict=True):
        np.testing.assert_array_equal(s.x, u.x)


def test_radar_with_velocity_confirms_fast_mover(radar_reg):
    # a cruise missile at 250 m/s seen every 10 s with reported velocity and altitude
    rng = np.random.default_rng(8)
    times = np.arange(0.0, 120.0, 10.0)
    rows = []
    for t in times:
        x, y = 250 * t + rng.normal(0, 150), rng.normal(0, 150)
        rows.append(
            {
                "t": t,
                "sensor": 0,
                "x": x,
                "y": y,
                "sigma": 150.0,
                "z": 100.0,
                "sigma_z": 50.0,
                "vx": 250.0 + rng.normal(0, 5),
                "vy": 0.0,
                "vz": 0.0,
            }
        )
    _, states = _run(radar_reg, rows, times)
    last = states[-1]
    assert len(last) == 1 and last.confirmed[0]
    assert last.cls[0] == 2  # cruise


@pytest.mark.parametrize("bin_s", [0.5, 2.0])
def test_two_radars_one_target_is_one_track(bin_s):
    reg = registry([("r1", "radar", 0.0, 0.0, 100000.0), ("r2", "radar", 20000.0, 0.0, 1e5)])
    rng = np.random.default_rng(9)
    times = np.arange(30.0)
    truth = np.stack([5000 + 50 * times, 0 * times], 1)[:, None, :]
    rows = _radar_rows(truth, times, rng, sensor=0) + [
        dict(r, t=r["t"] + 0.3) for r in _radar_rows(truth, times, rng, sensor=1)
    ]
    rows.sort(key=lambda r: r["t"])
    ticks = np.arange(30.0) + 0.5
    _, states = _run(
        reg,
        None,
        ticks,
        TrackerConfig(bin_s=bin_s),
        per_tick=lambda t: [r for r in rows if t - 1 < r["t"] <= t],
    )
    assert int(states[-1].confirmed.sum()) == 1
    assert len(states[-1]) == 1


def test_a_rocket_plotted_without_velocity_is_ballistic_once_its_parabola_shows(radar_reg):
    # a 30 km rocket at 50 degrees (apogee ~9 km, ~345 m/s level at the top), plotted with
    # altitude only (sd 300 m) every 5 s: no climb is measured steep enough for the class
    # hint, and over the apogee speed and height read as an aircraft's; the fall test of
    # the plotted altitudes marks it ballistic from the apogee to the impact
    times, rows, _, z = _rocket_plots(np.random.default_rng(11), 5.0, 2.0, 200.0, 300.0)
    ball = THREAT_CLASSES.index("ballistic")
    top = int(np.argmax(z))

    def classes_after_apogee(cfg: TrackerConfig) -> list[int]:
        _, states = _run(radar_reg, rows, times, cfg=cfg)
        return [int(s.cls[np.argmax(s.confirmed)]) for s in states[top + 1 :]]

    assert set(classes_after_apogee(TrackerConfig())) == {ball}
    off = TrackerConfig(fall_test=False, ballistic_memory_s=0.0)
    assert ball not in classes_after_apogee(off)[:3]


def test_a_short_rocket_first_plotted_after_its_boost_is_ballistic_by_its_climb_rate(
    radar_reg,
):
    # an 8.5 km rocket launched at 51 degrees (apogee ~2.6 km, 46 s of flight, ~184 m/s
    # across: a jet drone's speed), first plotted 9 s after launch, climbing at 140 m/s (no
    # steep-climb hint), then every 4.5 s with altitude (sd 500 m) and velocity (sd 8 m/s):
    # its measured climb rate falling by g per second marks it ballistic from the second
    # plot after its confirmation on; its altitudes alone read a jet drone to the impact
    rng = np.random.default_rng(4)
    th, d = np.radians(51.0), 8500.0
    v0 = np.sqrt(d * 9.81 / np.sin(2 * th))
    tf = 2 * v0 * np.sin(th) / 9.81
    times = np.arange(9.0, tf - 2.0, 4.5)
    vx, vz = v0 * np.cos(th), v0 * np.sin(th) - 9.81 * times
    z = v0 * np.sin(th) * times - 4.905 * times**2
    rows = [
        {"t": float(t), "sensor": 0, "x": 20000.0 + vx * t + rng.normal(0, 200.0), "y": 5000.0}
        | {"z": float(z[k] + rng.normal(0, 500.0)), "sigma": 200.0, "sigma_z": 500.0}
        | {"vx": vx + rng.normal(0, 8.0), "vy": 0.0, "vz": float(vz[k] + rng.normal(0, 8.0))}
        for k, t in enumerate(times)
    ]
    assert vz[0] < 150.0
    ball = THREAT_CLASSES.index("ballistic")

    def classes(cfg: TrackerConfig) -> list[int]:
        _, states = _run(radar_reg, rows, times, cfg=cfg)
        return [int(s.cls[np.argmax(s.confirmed)]) if s.confirmed.any() else -1 for s in states]

    on = classes(TrackerConfig())
    assert on[2] != -1 and set(on[4:]) == {ball}  # confirmed at the third plot
    off = classes(TrackerConfig(fall_test_vz=False))
    assert ball not in off


def test_a_level_flyer_with_noisy_climb_rates_is_not_read_as_falling(radar_reg):
    # a jet drone 2 km up at 150 m/s, plotted every 4 s for 10 minutes with altitude (sd
    # 500 m) and velocity whose vertical part is twice as noisy as sigma_v (20 m/s): it is
    # never read as ballistic, and its fall test ends against falling (with the climb rates
    # taken at sigma_v, 10 m/s, it was read as ballistic twice)
    rng = np.random.default_rng(12)
    times = np.arange(4.0, 600.0, 4.0)
    rows = [
        {"t": float(t), "sensor": 0, "x": 20000.0 + 150.0 * t + rng.normal(0, 200.0)}
        | {"y": 5000.0, "z": 2000.0 + rng.normal(0, 500.0), "sigma": 200.0, "sigma_z": 500.0}
        | {"vx": 150.0 + rng.normal(0, 10.0), "vy": rng.normal(0, 10.0)}
        | {"vz": rng.normal(0, 20.0)}
        for t in times
    ]
    trk, states = _run(radar_reg, rows, times)
    ball = THREAT_CLASSES.index("ballistic")
    assert all(ball not in s.cls[s.confirmed] for s in states)
    assert trk.tracks.fllr.max() < 0.0


def _climb_plots(times: np.ndarray, east: tuple, up: tuple, seed: int) -> list[dict]:
    """Radar plots without velocity (sensor 0, y 5 km) of a threat crossing east and
    climbing: ``east`` and ``up`` are (start m, speed m/s, plot sd m), in that order."""
    rng = np.random.default_rng(seed)
    (x0, vx, sx), (z0, vz, sz) = east, up
    return [
        {"t": float(t), "sensor": 0, "x": x0 + vx * t + rng.normal(0, sx), "y": 5000.0}
        | {"z": z0 + vz * t + rng.normal(0, sz), "sigma": sx, "sigma_z": sz}
        for t in times
    ]


def test_a_steep_climb_plotted_without_velocity_is_followed(radar_reg):
    # a threat climbing at 150 m/s while crossing at 60 m/s (a rocket's boost), plotted with
    # altitude only (sd 300 m) every 5 s: the track starts from one plot, and its vertical
    # speed is taken from the plotted altitudes, not assumed level (prior_vz_sd)
    times = np.arange(5.0, 45.0, 5.0)
    rows = _climb_plots(times, (20000.0, 60.0, 150.0), (500.0, 150.0, 300.0), seed=1)

    def vz_at_confirmation(cfg: TrackerConfig) -> tuple[float, float]:
        _, states = _run(radar_reg, rows, times, cfg=cfg)
        s = next(s for s in states if s.confirmed.any())
        i = int(np.argmax(s.confirmed))
        return float(s.x[i, 5]), float(np.sqrt(s.P[i, 5, 5]))

    vz, sd = vz_at_confirmation(TrackerConfig())
    assert abs(vz - 150.0) <= 2.0 * sd and vz >= 100.0
    # assumed level (5 m/s), the climb read as a few m/s
    vz, _ = vz_at_confirmation(TrackerConfig(prior_vz_sd=5.0))
    assert vz < 20.0


def test_a_track_measured_climbing_steeply_coasts_under_gravity(radar_reg):
    # a rocket's boost plotted every 5 s with altitude (sd 100 m) but no velocity: climbing
    # at 300 m/s while crossing at 170 m/s, 3 to 8 km up; then the plots stop. Coasting, its
    # track slows its climb by g (the constant-velocity model would keep 300 m/s)
    times = np.arange(5.0, 95.0, 5.0)
    seen = times[times <= 20.0]
    rows = _climb_plots(seen, (20000.0, 170.0, 100.0), (3000.0, 300.0, 100.0), seed=2)

    def climb(cfg: TrackerConfig) -> tuple[float, float]:
        _, states = _run(radar_reg, rows, times, cfg=cfg)
        s20 = states[int(np.flatnonzero(times == 20.0)[0])]
        s50 = states[int(np.flatnonzero(times == 50.0)[0])]
        assert len(s20) == 1 and len(s50) == 1 and s50.ids[0] == s20.ids[0]
        return float(s20.x[0, 5]), float(s50.x[0, 5])

    vz20, vz50 = climb(TrackerConfig(fall_test=False, ballistic_hint=0.0))
    assert vz20 > 200.0
    assert abs((vz20 - vz50) - G * 30.0) < 5.0
    vz20, vz50 = climb(TrackerConfig(fall_test=False, ballistic_hint=0.0, steep_gravity=False))
    assert abs(vz20 - vz50) < 1.0


@pytest.mark.parametrize(("plots", "confirmed"), [(1, False), (3, True)])
def test_a_radar_plot_confirms_a_chain_track_only_by_the_radar_rule(plots, confirmed):
    # posts A and B 15 km apart each report once, 200 s apart: a chain track (a drone's
    # pace) waits for a third post. A radar plot 8 km off its dead-reckoned course is taken
    # into it, but is not that third post: one chance plot (clutter) confirms nothing and
    # the track dies, while a target the radar plots scan after scan confirms by the
    # radar's own rule (before, the one plot counted as the third post and confirmed it)
    posts = [("A", "acoustic", 0.0, 0.0, 3000.0), ("B", "acoustic", 15000.0, 0.0, 3000.0)]
    reg = registry([*posts, ("R", "radar", 60000.0, 0.0, 150000.0)])
    trk = Tracker(reg, TrackerConfig())
    rows = {0.0: (0, 0.0, 0.0, 3000.0), 200.0: (1, 15000.0, 0.0, 3000.0)}
    for k in range(plots):
        rows[300.0 + 10.0 * k] = (2, 22500.0 + 750.0 * k, 8000.0, 400.0)
    ever = False
    for n, t in enumerate(np.arange(0.0, 400.0, 5.0)):
        if t in rows:
            i, x, y, sigma = rows[t]
            trk.add(batch([{"t": t, "sensor": i, "x": x, "y": y, "sigma": sigma}], reg, n))
        state = trk.advance(float(t), np.full(3, float(t)))
        if t == 300.0:
            assert state.x[0, 1] > 7000.0  # the plot was taken into the chain track
        ever |= bool(state.confirmed.any())
    assert trk.stats["chain_acoustic_starts"] == 1
    assert ever is confirmed
