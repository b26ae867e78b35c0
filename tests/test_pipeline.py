"""End to end through files: a scenario from a small hand-written generator (not airwarn.sim)
goes through replay; alerts come before arrival, replay is causal and deterministic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from airwarn.contracts import Zone, read_alerts, write_zones
from airwarn.decide.policy import Policy
from airwarn.geo import LocalFrame
from airwarn.pipeline import replay
from airwarn.zones import zone_set
from tests.scenario_builders import T0, square, write_straight_drone


def write_straight_raid(out: Path, *, seed: int = 3) -> dict:
    """One drone flying east at 50 m/s over a row of zones, seen by a radar every 5 s.

    Zone 'ahead' lies on the path 60 km from the start; 'impact' is the target at 90 km;
    'aside' lies 40 km north of the path. Reports arrive with 0-20 s latency.
    """
    zones = [
        ("ahead", 5000, "R1", 60_000, 0),
        ("impact", 20000, "R1", 90_000, 0),
        ("aside", 3000, "R2", 60_000, 40_000),
    ]
    write_straight_drone(out, zones, length_m=90_000, seed=seed)
    return {"t_ahead": T0 + (60_000 - 2000) / 50.0, "t_impact": T0 + 90_000 / 50.0}


def _run(scen: Path, out: Path, detections: Path | None = None):
    from airwarn.contracts import read_sensors, read_zones

    zs = zone_set(read_zones(scen / "zones.geojson"))
    return replay(
        read_sensors(scen / "sensors.jsonl"),
        detections or scen / "detections.jsonl",
        zs,
        Policy.load(),
        out,
        cap=False,
    )


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> tuple[Path, dict]:
    d = tmp_path_factory.mktemp("straight")
    return d, write_straight_raid(d)


def test_zones_on_the_path_are_alerted_in_time(straight, tmp_path) -> None:
    scen, info = straight
    res = _run(scen, tmp_path)
    first_alert = {}
    for a in res.alerts:
        if a.state == "alert":
            first_alert.setdefault(a.zone, a.t)
    assert "ahead" in first_alert and "impact" in first_alert
    assert first_alert["ahead"] <= info["t_ahead"] - 60.0
    assert first_alert["impact"] <= info["t_impact"] - 60.0
    assert "aside" not in first_alert
    # every alerted zone is cleared in the end
    last = {}
    for a in res.alerts:
        last[a.zone] = a.state
    assert all(s == "clear" for s in last.values())


def test_replay_is_deterministic(straight, tmp_path) -> None:
    scen, _ = straight
    _run(scen, tmp_path / "a")
    _run(scen, tmp_path / "b")
    a = (tmp_path / "a" / "alerts.jsonl").read_bytes()
    assert a and a == (tmp_path / "b" / "alerts.jsonl").read_bytes()


def test_replay_reports_progress_in_a_few_calls_that_add_up_to_the_file(straight, tmp_path) -> None:
    scen, _ = straight
    from airwarn.contracts import read_sensors, read_zones

    det = scen / "detections.jsonl"
    calls: list[int] = []
    replay(
        read_sensors(scen / "sensors.jsonl"),
        det,
        zone_set(read_zones(scen / "zones.geojson")),
        Policy.load(),
        tmp_path,
        cap=False,
        progress=calls.append,
    )
    assert sum(calls) == det.stat().st_size
    lines = det.read_bytes().count(b"\n")
    assert len(calls) <= det.stat().st_size // (1 << 18) + 1 < lines


def test_times_written_as_iso_8601_replay_and_score_as_seconds(straight, tmp_path) -> None:
    """Another generator may stamp its records "2025-10-09T08:53:20+03:00" (RFC 3339, with
    an offset): replay reads them as the same UTC seconds and writes the same alerts, and
    evaluate scores ISO-stamped truth and alerts the same."""
    from datetime import datetime, timedelta, timezone

    from airwarn.contracts import read_truth
    from airwarn.evaluate import score

    kyiv = timezone(timedelta(hours=3))

    def iso(t: float) -> str:
        return datetime.fromtimestamp(t, kyiv).isoformat()

    scen, _ = straight
    lines = (scen / "detections.jsonl").read_text().splitlines()
    stamped = tmp_path / "iso.jsonl"
    stamped.write_text("".join(json.dumps({**json.loads(s), "t": iso(json.loads(s)["t"])}) + "\n"
                               for s in lines))  # fmt: skip
    base = _run(scen, tmp_path / "seconds")
    assert base.alerts and _run(scen, tmp_path / "iso", stamped).alerts == base.alerts
    truth = [json.loads(s) for s in (scen / "truth.jsonl").read_text().splitlines()]
    (tmp_path / "truth_iso.jsonl").write_text("".join(json.dumps({**d, "t": [iso(x) for x in d["t"]]})
                                                      + "\n" for d in truth))  # fmt: skip
    (tmp_path / "alerts_iso.jsonl").write_text(
        "".join(json.dumps({**a.to_json(), "t": iso(a.t)}) + "\n" for a in base.alerts)
    )
    from airwarn.contracts import read_zones

    zs = zone_set(read_zones(scen / "zones.geojson"))
    want = score(read_truth(scen / "truth.jsonl"), base.alerts, zs).summary
    got = score(
        read_truth(tmp_path / "truth_iso.jsonl"), read_alerts(tmp_path / "alerts_iso.jsonl"), zs
    ).summary
    for k in ("impact_hit", "overflight_hit", "person_hours_alert", "ratio_to_oracle"):
        assert got[k] == pytest.approx(want[k]), k


def test_replay_is_causal(straight, tmp_path) -> None:
    """Replaying the first half of the file gives the same alert lines up to that point."""
    scen, _ = straight
    lines = (scen / "detections.jsonl").read_text().splitlines(keepends=True)
    full_alerts = _run(scen, tmp_path / "full").alerts
    for frac in (0.35, 0.5, 0.8):
        cut = int(len(lines) * frac)
        half = tmp_path / f"half{frac}.jsonl"
        half.write_text("".join(lines[:cut]))
        clock = max(json.loads(s)["t"] for s in lines[:cut])
        full = [a for a in full_alerts if a.t < clock]
        part = [a for a in _run(scen, tmp_path / f"part{frac}", half).alerts if a.t < clock]
        assert full == part
    assert any(a.state == "alert" for a in full_alerts)


def test_one_sensor_with_its_clock_hours_ahead_silences_nothing(straight, tmp_path) -> None:
    """A phone on local time written as UTC (3 h ahead) reports a quarter of the way in. Its
    line no longer moves the arrival clock: every other report is still used, the alerts are
    those of the clean file, and the line is refused, named and counted."""
    scen, _ = straight
    lines = (scen / "detections.jsonl").read_text().splitlines(keepends=True)
    cut = len(lines) // 4
    t = json.loads(lines[cut])["t"]
    bad = {"t": t + 3 * 3600, "sensor": "phone-7", "lat": 50.0, "lon": 30.0, "sigma_m": 3000,
           "cls": "drone", "id": "tz-1"}  # fmt: skip
    skewed = tmp_path / "skewed.jsonl"
    skewed.write_text("".join(lines[:cut]) + json.dumps(bad) + "\n" + "".join(lines[cut:]))
    base = _run(scen, tmp_path / "clean")
    got = _run(scen, tmp_path / "skewed", skewed)
    assert base.alerts and got.alerts == base.alerts
    assert got.ingest["too_late"] == base.ingest["too_late"] == 0
    assert got.ingest["reports"] == base.ingest["reports"]
    assert got.ingest["ahead"] == 1
    assert got.ingest["ahead_sensors"] == {"phone-7": pytest.approx(3 * 3600, abs=60)}


def test_a_quiet_gap_in_a_feed_without_heartbeats_loses_no_report(straight, tmp_path) -> None:
    """The radar falls silent for 10 minutes (no heartbeats in between), and again for 5
    before its last report: the reports after the gaps are all admitted, the last one too,
    none held back or refused."""
    scen, _ = straight
    recs = [json.loads(s) for s in (scen / "detections.jsonl").read_text().splitlines()]
    recs = [r for r in recs if not r.get("heartbeat")]
    t0, t1 = recs[0]["t"], recs[-1]["t"]
    gapped = [r for r in recs if not (t0 + 600 <= r["t"] < t0 + 1200 or t1 - 300 < r["t"] < t1)]
    path = tmp_path / "gap.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in gapped))
    got = _run(scen, tmp_path / "gap", path)
    assert got.ingest["reports"] + got.ingest["duplicates"] == len(gapped)
    assert got.ingest["ahead"] == 0 and got.ingest["too_late"] == 0
    assert any(a.state == "alert" and a.t > t0 + 1200 for a in got.alerts)


def test_reports_with_lat_and_lon_swapped_are_counted_beyond_their_sensors_range(
    straight, tmp_path
) -> None:
    """A generator that writes each report's lat and lon the wrong way round puts the radar's
    plots 2,000 km from the radar: replay counts them (and the command warns); the file
    written right counts none."""
    scen, _ = straight
    lines = [json.loads(s) for s in (scen / "detections.jsonl").read_text().splitlines()]
    swapped = [d | {"lat": d["lon"], "lon": d["lat"]} if "lat" in d else d for d in lines]
    path = tmp_path / "swapped.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in swapped))
    assert _run(scen, tmp_path / "right").ingest["beyond_range"] == 0
    got = _run(scen, tmp_path / "swapped", path).ingest
    assert got["beyond_range"] == got["reports"] - got["unregistered"] > 0


def test_a_feed_whose_reports_arrive_later_gets_a_longer_fusion_lag(straight, tmp_path) -> None:
    """Re-ordered by an arrival delay of 0-30 s per line, the radar's reports arrive up to
    30 s behind the newest: fusion waits longer for them, up to fuse_lag_max_s (15 s); the file as
    written (reports 0-20 s late, mostly in order) keeps the 5 s lag; a policy whose
    fuse_lag_max_s equals fuse_lag_s fixes it."""
    import random

    from airwarn.contracts import read_sensors, read_zones
    from airwarn.pipeline import Pipeline, drive

    scen, _ = straight
    rng = random.Random(3)
    lines = [json.loads(s) for s in (scen / "detections.jsonl").read_text().splitlines()]
    keyed = sorted((d["t"] + rng.uniform(0.0, 30.0), i, d) for i, d in enumerate(lines))
    late = tmp_path / "late.jsonl"
    late.write_text("".join(json.dumps(d) + "\n" for _, _, d in keyed))
    zs = zone_set(read_zones(scen / "zones.geojson"))
    sensors = read_sensors(scen / "sensors.jsonl")

    def lag(det: Path, policy: Policy) -> float:
        pipe = Pipeline(sensors, zs, policy)
        drive(pipe, det, max_tail_s=0.0)
        return pipe.tracker.cfg.process_lag_s

    assert 5.0 < lag(late, Policy.load()) <= 15.0  # measured: 10 s
    assert lag(scen / "detections.jsonl", Policy.load()) == 5.0
    fixed = tmp_path / "fixed.toml"
    fixed.write_text("fuse_lag_max_s = 5.0\n")
    assert lag(late, Policy.load(fixed)) == 5.0
    bad = tmp_path / "bad.toml"
    bad.write_text("fuse_lag_max_s = 2.0\n")
    from airwarn.contracts import PolicyError

    with pytest.raises(PolicyError, match="fuse_lag_max_s"):
        Policy.load(bad)
    # a file that raises only fuse_lag_s gets that fixed lag, not an error
    raised = tmp_path / "raised.toml"
    raised.write_text("fuse_lag_s = 20.0\n")
    assert Policy.load(raised).fuse_lag_max_s == 20.0


def test_replay_on_stonesoup_generator_files(shared_data, tmp_path) -> None:
    """The Stone Soup side-by-side runner is another generator of the public formats."""
    script = shared_data.parent / "bench" / "stonesoup_side_by_side.py"
    if not script.exists():
        pytest.skip("stone soup runner absent")
    scen = tmp_path / "ss"
    subprocess.run(
        [
            sys.executable,
            str(script),
            "write",
            "--n",
            "5",
            "--scans",
            "30",
            "--seed",
            "2",
            "--out",
            str(scen),
        ],
        check=True,
        capture_output=True,
    )
    frame = LocalFrame(49.0, 32.0)
    write_zones(
        scen / "zones.geojson", [Zone("c", "C", 1000, 60.0, "R", square(frame, 0, 0, 3000))]
    )
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "airwarn.cli",
            "replay",
            "--sensors",
            str(scen / "sensors.jsonl"),
            "--detections",
            str(scen / "detections.jsonl"),
            "--zones",
            str(scen / "zones.geojson"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    read_alerts(out / "alerts.jsonl")  # parses
    tracks = [json.loads(s) for s in (out / "tracks.jsonl").read_text().splitlines()]
    assert tracks and {"t", "track", "lat", "lon", "confirmed", "sigma_m"} <= set(tracks[0])
