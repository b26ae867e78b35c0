"""Known-answer tests of the diagnostics beside the scorecard (miss stages, excess hours)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from evaluate_cases import FRAME, alerts, square, straight

from airwarn.contracts import AlertChange, Threat
from airwarn.evaluate import score
from airwarn.evaluate.diagnose import (
    diagnostics,
    diagnostics_markdown,
    excess_hours,
    false_causes,
    input_end,
    miss_stages,
    read_reports,
)
from airwarn.zones import zone_set

# zone A at (0..2000)^2, shelter 120 s; a drone along y = 1000 from x = -50 km at t = 1000,
# 50 m/s: t_arr = 1960, deadline 1840 (drone at x = -8000).
DEADLINE = 1840.0


def write_tracks(path, rows):
    """tracks.jsonl lines at local (x, y) positions and times."""
    with open(path, "w") as fh:
        for t, x, y, conf in rows:
            lat, lon = FRAME.to_geo(x, y)
            fh.write(json.dumps({"t": t, "track": "T1", "lat": float(lat), "lon": float(lon),
                                 "alt_m": 200.0, "cls": "drone", "confirmed": conf}) + "\n")  # fmt: skip


def drone_x(t):
    return -50_000 + 50.0 * (t - 1000.0)


@pytest.mark.parametrize(
    ("track_rows", "lines", "stage"),
    [
        ([], [(1700.0, "A", "pre_alert")], "a_not_tracked"),
        # a confirmed track 20 km away from the drone does not count
        ([(1800.0, drone_x(1800.0), 21_000.0, True)], [], "a_not_tracked"),
        # tracked only unconfirmed
        ([(1800.0, drone_x(1800.0), 1000.0, False)], [], "a_not_tracked"),
        ([(1800.0, drone_x(1800.0), 1000.0, True)], [], "b_not_predicted"),
        ([(1800.0, drone_x(1800.0), 1000.0, True)], [(1700.0, "A", "pre_alert")], "c_not_alerted"),
        # alerted at the deadline but cleared before the arrival
        (
            [(1800.0, drone_x(1800.0), 1000.0, True)],
            [(1700.0, "A", "alert"), (1900.0, "A", "clear")],
            "c_not_alerted",
        ),
    ],
)
def test_miss_stage(tmp_path, one_zone, drone, track_rows, lines, stage):
    f = tmp_path / "tracks.jsonl"
    write_tracks(f, track_rows)
    card = score([drone], alerts(*lines), one_zone)
    assert card.summary["overflight_miss"] == 1
    ms = miss_stages(card, f)
    assert ms["by_outcome"]["overflight_miss"][stage] == 1
    assert sum(ms["by_outcome"]["overflight_miss"].values()) == 1


@pytest.mark.parametrize(
    ("reports", "grade"),
    [
        ([], "not_heard"),
        # (time, metres off the drone's track, reach): two near reports only
        ([(1500.0, 2000.0, 5500.0), (1600.0, 0.0, 5500.0)], "heard_1_2"),
        (
            [(1200.0, 2000.0, 5500.0), (1500.0, 0.0, 5500.0), (1800.0, 1000.0, 1600.0)],
            "heard_3_plus",
        ),
        # beyond each report's reach, or after the deadline: not counted
        ([(1200.0, 6000.0, 5500.0), (1500.0, 2000.0, 1600.0), (1900.0, 0.0, 5500.0)], "not_heard"),
        # before the window (shortened to 800 s before the deadline 1840)
        ([(1000.0 + k, 0.0, 5500.0) for k in (0.0, 10.0, 20.0)], "not_heard"),
    ],
)
def test_not_tracked_pairs_split_by_reports(tmp_path, one_zone, drone, reports, grade):
    f = tmp_path / "tracks.jsonl"
    write_tracks(f, [])
    card = score([drone], alerts(), one_zone)
    rep = np.array([(drone_x(t), 1000.0 + off, t, reach) for t, off, reach in reports], float)
    x, y, t, r = rep.reshape(-1, 4).T
    lat, lon = FRAME.to_geo(x, y)
    x, y = card.zones.frame.to_local(np.asarray(lat), np.asarray(lon))
    ms = miss_stages(card, f, window_s=800.0, reports=(x, y, t, r))
    assert ms["by_outcome"]["overflight_miss"]["a_not_tracked"] == 1
    h = ms["a_heard"]
    assert h[grade] == 1 and sum(h[k] for k in ("not_heard", "heard_1_2", "heard_3_plus")) == 1
    assert h["by_class"]["drone"][grade] == 1


def test_reports_read_from_the_scenario_files(tmp_path, one_zone, drone):
    """read_reports takes the scenario's files as ingest does: heartbeats skipped, a duplicate
    report id counted once."""
    lat, lon = FRAME.to_geo(np.array([drone_x(1500.0)]), np.array([1000.0]))
    post = {
        "id": "P1",
        "kind": "acoustic",
        "lat": float(lat[0]),
        "lon": float(lon[0]),
        "range_m": 3000.0,
    }
    (tmp_path / "sensors.jsonl").write_text(json.dumps(post) + "\n")
    lines = [{"t": 1400.0, "sensor": "P1", "heartbeat": True}]
    for k, t in enumerate((1480.0, 1500.0, 1520.0)):
        lines.append({"t": t, "sensor": "P1", "lat": post["lat"], "lon": post["lon"],
                      "sigma_m": 3000.0, "id": f"r{k}"})  # fmt: skip
    lines.append(dict(lines[-1]))  # a duplicate
    lines.append({"t": 1530.0, "sensor": "P1", "lat": post["lat"], "lon": post["lon"],
                  "sigma_m": 50000.0, "id": "vague"})  # fmt: skip
    (tmp_path / "detections.jsonl").write_text("".join(json.dumps(o) + "\n" for o in lines))
    write_tracks(tmp_path / "tracks.jsonl", [])
    card = score([drone], alerts(), one_zone)
    x, y, t, reach = read_reports(tmp_path, card.zones.frame)
    assert t.tolist() == [1480.0, 1500.0, 1520.0, 1530.0]
    # read in chunks of two lines: the same arrays (a duplicate across chunks still dropped)
    chunked = read_reports(tmp_path, card.zones.frame, chunk=2)
    for a, b in zip(chunked, (x, y, t, reach), strict=True):
        np.testing.assert_array_equal(a, b)
    # a vague report's reach is capped at 15 km
    assert reach == pytest.approx([1.5 * 3000.0 + 1000.0] * 3 + [15000.0])
    d = diagnostics(card, alerts(), tmp_path / "tracks.jsonl", tmp_path)
    assert d["miss_stages"]["a_heard"]["heard_3_plus"] == 1
    assert "1 heard 3 or more times" in "\n".join(diagnostics_markdown(d))
    assert read_reports(tmp_path / "missing", card.zones.frame) is None
    # the sensor data ended at 1530, before the deadline 1840: nothing could warn
    assert d["miss_stages"]["after_input_end"] == {"impact": 0, "overflight": 1}
    assert "1 overflight pairs had their deadline after the sensor data ended" in "\n".join(
        diagnostics_markdown(d)
    )


def test_input_end_is_the_last_record_time(tmp_path):
    """The last lines' largest t (a heartbeat counts; a line cut by the tail window and a
    bad line do not)."""
    rows = [{"t": 100.0 + k, "sensor": "P1", "heartbeat": True} for k in range(200)]
    rows[-2]["t"] = 400.0  # arrived before a later line with an earlier time
    text = "".join(json.dumps(o) + "\n" for o in rows) + "{not json\n"
    (tmp_path / "detections.jsonl").write_text(text)
    assert input_end(tmp_path) == 400.0
    assert input_end(tmp_path, tail_bytes=200) == 400.0
    assert input_end(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("track_times", "lost", "first_recent"),
    [
        # last confirmed track 400 s before the deadline: lost (> 5 min)
        ([DEADLINE - 900.0, DEADLINE - 400.0], 1, 0),
        # first tracked 100 s before the deadline
        ([DEADLINE - 100.0], 0, 1),
        # a track after the deadline does not make the earlier one recent
        ([DEADLINE - 400.0, DEADLINE + 50.0], 1, 0),
    ],
)
def test_tracked_pairs_last_and_first_seen(
    tmp_path, one_zone, drone, track_times, lost, first_recent
):
    f = tmp_path / "tracks.jsonl"
    write_tracks(f, [(t, drone_x(t), 1000.0, True) for t in track_times])
    card = score([drone], alerts(), one_zone)
    ms = miss_stages(card, f)
    assert ms["by_outcome"]["overflight_miss"]["b_not_predicted"] == 1
    assert ms["b_track_lost_300s"] == lost
    assert ms["b_first_tracked_lt_300s"] == first_recent


def test_hits_are_not_classified(tmp_path, one_zone, drone):
    f = tmp_path / "tracks.jsonl"
    write_tracks(f, [(1800.0, drone_x(1800.0), 1000.0, True)])
    card = score([drone], alerts((1700.0, "A", "alert"), (3000.0, "A", "clear")), one_zone)
    ms = miss_stages(card, f)
    assert ms["pairs"] == 0
    assert "note" in miss_stages(card, None)


def test_excess_hours_split(one_zone, drone):
    # oracle: 1960 - 120 - 60 = 1780 to t_leave 2080 + 600 = 2680 (900 s, 900 person-hours
    # at 3600 people). The alert runs 1480..3280: 300 s early, 600 s after.
    lines = [(1480.0, "A", "alert"), (3280.0, "A", "clear")]
    card = score([drone], alerts(*lines), one_zone)
    ex = excess_hours(card, alerts(*lines))
    sp = ex["split"]
    assert ex["person_hours_oracle"] == pytest.approx(900.0, rel=0.01)
    assert sp["inside_oracle"] == pytest.approx(900.0, rel=0.01)
    assert sp["early"] == pytest.approx(300.0, rel=0.01)
    assert sp["after"] == pytest.approx(600.0, rel=0.01)
    assert sp["unthreatened_false"] == 0.0
    d = diagnostics(card, alerts(*lines), None)
    assert any("not part of the scorecard" in line for line in diagnostics_markdown(d))


def as_downed(th: Threat) -> Threat:
    """The same path, ending shot down."""
    return Threat(th.id, th.cls, th.t, th.lat, th.lon, th.alt_m, "downed", None)


def episodes(zone_cls: list[tuple[str, str]], start: float, end: float) -> list[AlertChange]:
    """One alert episode per (zone, opening class), from ``start`` to ``end``."""
    out = []
    for z, cls in zone_cls:
        out += [AlertChange(start, z, "alert", cls), AlertChange(end, z, "clear")]
    return out


def causes(fc: dict) -> dict[str, int]:
    """False episodes per cause."""
    return {k: v["episodes"] for k, v in fc["by_cause"].items()}


def test_false_alert_causes():
    """A drone flies from x = -60 km toward zone A and is downed at x = -20 km (t = 1800). Every
    alert below is false (no threat within 15 km): A lies ahead of the downed drone, C 40 km
    to the side (route spread), B 220 km ahead (too far: no threat near), E was opened by a
    ballistic threat."""
    zs = zone_set(
        [
            square("A", 0, 0),
            square("B", 200_000, 0),
            square("C", 0, 40_000),
            square("E", 0, -100_000),
        ]
    )
    d = straight("D1", -60_000, 1000, -20_000, 1000, t0=1000.0)
    downed = as_downed(d)
    lines = episodes(
        [("A", "drone"), ("B", "drone"), ("C", "drone"), ("E", "ballistic")], 1700, 2000
    )
    card = score([downed], lines, zs)
    assert card.summary["false_alert_episodes"] == 4
    fc = false_causes(card, lines)
    assert causes(fc) == {
        "ahead_of_downed": 1,
        "ballistic_area": 1,
        "route_spread": 1,
        "no_threat_near": 1,
    }
    assert fc["by_class"]["ballistic"]["episodes"] == 1 and fc["by_class"]["drone"]["episodes"] == 3
    # 1,000 people x 300 s each
    assert fc["by_cause"]["route_spread"]["person_hours"] == pytest.approx(
        1000 * 300 / 3600, abs=0.05
    )
    md = "\n".join(diagnostics_markdown(diagnostics(card, lines, None)))
    assert "ahead of a threat that was then downed | 1 | 25%" in md


def test_alerts_ahead_of_a_downed_threat_split_at_the_downing():
    """The drone of the test above is downed at t = 1800, 20 km short of zone A. A's first
    false episode (1700-2000) lasts 200 s past the downing; its second (2050-2400) opens after
    it, as a coasting track or its ghost would: 550 s after the downing in all, 1,000 people."""
    zs = zone_set([square("A", 0, 0)])
    downed = as_downed(straight("D1", -60_000, 1000, -20_000, 1000, t0=1000.0))
    lines = [
        AlertChange(1700.0, "A", "alert", "drone"),
        AlertChange(2000.0, "A", "clear"),
        AlertChange(2050.0, "A", "alert", "drone"),
        AlertChange(2400.0, "A", "clear"),
    ]
    card = score([downed], lines, zs)
    dn = false_causes(card, lines)["by_cause"]["ahead_of_downed"]
    assert dn["episodes"] == 2
    assert dn["person_hours"] == pytest.approx(1000 * 650 / 3600, abs=0.05)
    assert dn["person_hours_after_downing"] == pytest.approx(1000 * 550 / 3600, abs=0.05)
    assert dn["opened_after_downing"] == 1
    assert dn["after_downing_median_s"] == pytest.approx(275.0)
    md = "\n".join(diagnostics_markdown(diagnostics(card, lines, None)))
    assert "153 person-hours came after the downing" in md and "1 of the 2 opened after it" in md


def test_false_alert_causes_measure_from_a_large_zone_s_border_not_its_centre():
    """Raion-sized zones (100 km squares): a drone downed 20 km short of R's border (70 km
    from its centre) had R ahead of it; a drone passing 20 km outside S's border (70 km from
    its centre) is route spread, not 'no threat near'."""
    zs = zone_set([square("R", 30_000, -50_000, 100_000), square("S", 0, 200_000, 100_000)])
    a = straight("D1", -30_000, 0, 10_000, 0, t0=1000.0)  # toward R, downed at x = 10 km
    short = as_downed(a)
    past = straight("D2", -50_000, 180_000, 150_000, 180_000, t0=1000.0)  # 20 km south of S
    lines = episodes([("R", "drone"), ("S", "drone")], 1500, 1900)
    card = score([short, past], lines, zs)
    assert card.summary["false_alert_episodes"] == 2
    fc = false_causes(card, lines)
    assert causes(fc) == {
        "ahead_of_downed": 1,
        "ballistic_area": 0,
        "route_spread": 1,
        "no_threat_near": 0,
    }
