"""ingest: bad lines are counted and named, duplicates ignored, late reports kept up to 60 s."""

from __future__ import annotations

import json

import numpy as np
import pytest

from airwarn.contracts import UNREGISTERED, Detection, Heartbeat, Sensor
from airwarn.geo import LocalFrame
from airwarn.ingest import Ingestor, SensorRegistry, unregistered_code


@pytest.fixture
def ingestor() -> Ingestor:
    sensors = [
        Sensor("a1", "acoustic", 50.0, 30.0, 3000.0),
        Sensor("r1", "radar", 50.5, 30.5, 200_000.0, alt_m=30.0),
    ]
    return Ingestor(SensorRegistry(sensors, LocalFrame(50.0, 30.0)))


def det(t: float, rid: str, sensor: str = "a1", **kw) -> str:
    d = {"t": t, "sensor": sensor, "lat": 50.0, "lon": 30.0, "sigma_m": 2000.0, "id": rid}
    d.update(kw)
    return json.dumps(d)


def test_bad_lines_counted_named_and_skipped(ingestor: Ingestor) -> None:
    lines = [
        det(100.0, "a"),
        "{not json",
        det(101.0, "b", lat="north"),
        json.dumps({"t": 102.0, "sensor": "a1", "heartbeat": True}),
        det(103.0, "c"),
    ]
    recs = [ingestor.accept_line(s, i + 1) for i, s in enumerate(lines)]
    assert isinstance(recs[0], Detection) and recs[1] is None and recs[2] is None
    assert isinstance(recs[3], Heartbeat) and isinstance(recs[4], Detection)
    assert ingestor.stats.errors == 2
    assert ingestor.errors[0].line == 2 and ingestor.errors[0].field is None
    assert ingestor.errors[1].line == 3 and ingestor.errors[1].field == "lat"
    batch = ingestor.drain()
    assert batch.ids == ["a", "c"]  # nothing accepted is lost


def test_duplicates_ignored(ingestor: Ingestor) -> None:
    for i, s in enumerate([det(100.0, "a"), det(100.0, "a"), det(101.0, "a")]):
        ingestor.accept_line(s, i + 1)
    assert ingestor.stats.duplicates == 2
    assert len(ingestor.drain()) == 1


def test_late_reports(ingestor: Ingestor) -> None:
    ingestor.accept_line(det(1000.0, "a"), 1)
    assert ingestor.accept_line(det(945.0, "b"), 2) is not None  # 55 s late: used
    assert ingestor.accept_line(det(930.0, "c"), 3) is None  # 70 s late: too late
    assert ingestor.stats.too_late == 1 and ingestor.stats.out_of_order == 1
    assert ingestor.clock == 1000.0


def test_lateness_quantiles_of_the_last_reports(ingestor: Ingestor) -> None:
    """How far behind the arrival clock reports came: 0 before any; here 0, 10, 20 and 30 s."""
    assert ingestor.lateness(0.75) == 0.0
    for i, t in enumerate([1000.0, 990.0, 980.0, 970.0, 1000.5]):
        ingestor.accept_line(det(t, f"r{i}"), i + 1)
    # the first report sets the clock (no lateness); then 10, 20, 30 s behind, then 0
    assert ingestor.lateness(0.5) == pytest.approx(15.0)
    assert ingestor.lateness(1.0) == pytest.approx(30.0)


def test_batch_columns_in_local_frame(ingestor: Ingestor) -> None:
    ingestor.accept_line(
        det(1.0, "a", sensor="r1", alt_m=500.0, vel_e=50.0, vel_n=0.0, cls="drone"), 1
    )
    ingestor.accept_line(det(2.0, "b", sensor="phone-7"), 2)
    b = ingestor.drain()
    assert b.sensor.tolist() == [1, unregistered_code("phone-7")]
    assert b.sensor_kind.tolist() == [1, 2]  # radar; unregistered -> observer
    assert np.allclose([b.x[0], b.y[0]], 0.0, atol=1e-6)
    assert b.vx[0] == pytest.approx(50.0, abs=0.1) and np.isnan(b.vx[1])
    assert b.z[0] == 500.0 and np.isnan(b.z[1])


def test_unregistered_phones_keep_one_code_each(ingestor: Ingestor) -> None:
    # fusion must tell one person reporting twice from two people: each unregistered id
    # keeps its code across batches, and registered sensors keep their index
    for i, s in enumerate(["phone-7", "phone-9", "phone-7"]):
        ingestor.accept_line(det(10.0 + i, f"x{i}", sensor=s), i + 1)
    first = ingestor.drain().sensor.tolist()
    ingestor.accept_line(det(20.0, "y0", sensor="phone-9"), 4)
    ingestor.accept_line(det(21.0, "y1", sensor="a1"), 5)
    ingestor.accept_line(det(22.0, "y2", sensor="phone-3"), 6)
    second = ingestor.drain().sensor.tolist()
    p7, p9, p3 = (unregistered_code(s) for s in ("phone-7", "phone-9", "phone-3"))
    assert first == [p7, p9, p7]
    assert second == [p9, 0, p3]
    assert len({p7, p9, p3}) == 3 and max(p7, p9, p3) <= UNREGISTERED
    assert ingestor.stats.unregistered == 5
    # the same in another registry (a restarted service)
    other = SensorRegistry([], LocalFrame(50.0, 30.0))
    assert other.code("phone-9") == p9


def test_sensor_kinds_read_in_any_case() -> None:
    sensors = [
        Sensor("a", "Acoustic", 50.0, 30.0, 3000.0),
        Sensor("r", " RADAR", 50.0, 30.0, 3000.0),
        Sensor("e", "eo_tracker", 50.0, 30.0, 3000.0),
    ]
    assert SensorRegistry(sensors, LocalFrame(50.0, 30.0)).kind.tolist() == [0, 1, 3]


def test_sensor_kinds_under_other_generators_names_get_their_models() -> None:
    """ "Acoustic post", "Sky-Fortress", "radar station" and "phone" are the kinds with a
    model of their own; a kind with none stays 'other'."""
    names = ["Acoustic post", "Sky-Fortress", "radar station", "Phone", "lidar"]
    sensors = [Sensor(f"s{i}", k, 50.0, 30.0, 3000.0) for i, k in enumerate(names)]
    assert SensorRegistry(sensors, LocalFrame(50.0, 30.0)).kind.tolist() == [0, 0, 1, 2, 3]


def test_health_from_heartbeats(ingestor: Ingestor) -> None:
    ingestor.accept_line(json.dumps({"t": 0.0, "sensor": "a1", "heartbeat": True}), 1)
    ingestor.accept_line(json.dumps({"t": 200.0, "sensor": "r1", "heartbeat": True}), 2)
    h = ingestor.health(220.0)
    assert h.alive.tolist() == [False, True]
    assert h.monitored.tolist() == [True, True]  # both send heartbeats: silence means failure
    # the radar's antenna height, for decide's horizon test; none given for the post
    assert np.isnan(h.alt_m[0]) and h.alt_m[1] == 30.0


def _three_posts_and_a_radar(**kw) -> Ingestor:
    """Posts a0-a2 and radar r1, no heartbeat yet; ``kw``: Ingestor options."""
    sensors = [Sensor(f"a{i}", "acoustic", 50.0, 30.0 + i / 10, 3000.0) for i in range(3)]
    sensors.append(Sensor("r1", "radar", 50.5, 30.5, 200_000.0))
    return Ingestor(SensorRegistry(sensors, LocalFrame(50.0, 30.0)), **kw)


def test_sensors_that_send_no_heartbeats_are_never_taken_for_dead() -> None:
    # live only while they report (assume_up off: silence proves nothing)
    ing = _three_posts_and_a_radar(assume_up=False)
    ing.accept_line(det(10.0, "x1", "a0"), 1)
    ing.accept_line(det(12.0, "x2", "r1"), 2)
    h = ing.health(400.0)
    # silent for 6 minutes, but no heartbeats anywhere: nobody is taken for dead
    assert h.alive.tolist() == [False, False, False, False]
    assert h.monitored.tolist() == [False, False, False, False]
    # once the posts send heartbeats, a post never heard is monitored (the radar still not)
    ing.accept_line(json.dumps({"t": 390.0, "sensor": "a1", "heartbeat": True}), 3)
    h = ing.health(400.0)
    assert h.alive.tolist() == [False, True, False, False]
    assert h.monitored.tolist() == [False, True, True, False]


def test_a_feed_without_heartbeats_takes_its_registered_sensors_as_up() -> None:
    ing = _three_posts_and_a_radar()  # the default
    ing.accept_line(det(10.0, "x1", "a0"), 1)
    h = ing.health(400.0)
    # another generator's feed, no heartbeats: every post and radar is up (its silence says
    # nothing flies near it), none is monitored (nobody is ever taken for dead)
    assert h.alive.tolist() == [True, True, True, True]
    assert h.monitored.tolist() == [False, False, False, False]
    # once the posts send heartbeats they follow them; the radar, whose kind sends none, is up
    ing.accept_line(json.dumps({"t": 390.0, "sensor": "a1", "heartbeat": True}), 2)
    h = ing.health(400.0)
    assert h.alive.tolist() == [False, True, False, True]
    assert h.monitored.tolist() == [False, True, True, False]


def test_a_months_long_feed_keeps_a_bounded_id_memory_and_drops_the_same_duplicates(
    ingestor: Ingestor,
) -> None:
    """Report ids are remembered only for the lateness window, yet every record gets the
    answer a memory of every id ever seen would give: an id forgotten belongs to a record
    older than the window, and such a record is refused as too late first."""
    rng = np.random.default_rng(5)
    n = 20_000
    t_new = 1.7e9 + np.arange(n) * 1.5  # 8 hours, a report every 1.5 s
    feed: list[tuple[float, str]] = []
    for i in range(n):
        t = t_new[i] - rng.exponential(20.0)  # late by ~20 s, some past the 60 s window
        feed.append((t, f"r{i}"))
        u = rng.random()
        if u < 0.05 and i > 10:  # a resend of a recent report, same time
            feed.append(feed[-1 - rng.integers(1, 10)])
        elif u < 0.07 and i > 500:  # a resend of an old one (hours later)
            feed.append(feed[rng.integers(0, i - 400)])
    seen: set[str] = set()  # the unbounded rule: remember every id
    clock = -np.inf
    want: list[bool] = []
    for t, rid in feed:
        ok = t >= clock - ingestor.max_lateness_s and rid not in seen
        if ok:
            seen.add(rid)
            clock = max(clock, t)
        want.append(ok)
    largest = 0
    got = []
    for k, (t, rid) in enumerate(feed):
        got.append(ingestor.accept_line(det(t, rid), k + 1) is not None)
        largest = max(largest, len(ingestor._seen))
    assert got == want
    assert ingestor.stats.duplicates > 500 and ingestor.stats.too_late > 500
    assert ingestor.stats.reports == sum(want)
    # two lateness windows of reports at one per 1.5 s, not the 20,000 seen
    assert largest <= 2 * ingestor.max_lateness_s / 1.5 + 10


def _beats(ing: Ingestor, sensor: str, times, line0: int = 1) -> None:
    for k, t in enumerate(times):
        ing.accept_line(json.dumps({"t": float(t), "sensor": sensor, "heartbeat": True}), line0 + k)


def test_a_slower_heartbeat_is_learned_and_keeps_its_sensor_alive_between_beats() -> None:
    sensors = [Sensor(f"a{i}", "acoustic", 50.0, 30.0 + i / 10, 3000.0) for i in range(3)]
    ing = Ingestor(SensorRegistry(sensors, LocalFrame(50.0, 30.0)))
    _beats(ing, "a0", [0, 60, 120, 180])  # the contract's minute
    _beats(ing, "a1", [0, 300, 600, 900], 10)  # another generator's five minutes
    assert ing.heartbeat_period().tolist() == [60.0, 300.0, 180.0]  # a2: its kind's median
    # 200 s after the last beat: the 1-minute post missed three, the 5-minute one none
    h = ing.health(1100.0)
    assert h.alive[:2].tolist() == [False, True] and h.monitored[:2].tolist() == [True, True]
    assert ing.health(180.0 + 140.0).alive[0] and not ing.health(180.0 + 160.0).alive[0]
    # the 5-minute post is dead once it misses a beat and a half: 900 + 300 + 90 s
    assert ing.health(900.0 + 385.0).alive[1] and not ing.health(900.0 + 395.0).alive[1]
    # fusion reads the same clock: known up until its next beat is due, never past now
    assert ing.liveness(1000.0)[1] == 1000.0 and ing.liveness(1300.0)[1] == 1140.0
    # one lost beat lengthens one gap, not the period
    _beats(ing, "a1", [1500, 1800], 20)
    assert ing.heartbeat_period()[1] == 300.0
