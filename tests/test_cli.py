"""The console entry point: a bad input record ends a command with its message, not a traceback."""

from __future__ import annotations

import json
import sys

import pytest

from airwarn.cli import ingest_warnings, main, sensor_warnings
from airwarn.contracts import Sensor


def _airwarn(monkeypatch, *args: str) -> int:
    """Run the console entry point with these arguments; its exit status."""
    monkeypatch.setattr(sys, "argv", ["airwarn", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return exc.value.code


def test_bad_record_exits_2_with_its_message(tmp_path, monkeypatch, capsys):
    # a truth line whose impact lacks its time: evaluate names the file, line and field
    threat = {"id": "D1", "cls": "drone", "t": [0.0, 60.0], "lat": [50.0, 50.01],
              "lon": [30.0, 30.01], "alt_m": [300.0, 300.0], "fate": "impact",
              "impact": {"lat": 50.01, "lon": 30.01}}  # fmt: skip
    (tmp_path / "truth.jsonl").write_text(json.dumps(threat) + "\n")
    (tmp_path / "alerts.jsonl").write_text("")
    args = ("evaluate", "--scenario", str(tmp_path), "--alerts", str(tmp_path / "alerts.jsonl"))
    assert _airwarn(monkeypatch, *args) == 2
    err = capsys.readouterr().err
    assert "truth.jsonl line 1: field 'impact.t': is required" in err
    assert "Traceback" not in err


def test_bad_policy_key_exits_2_with_its_message(tmp_path, monkeypatch, capsys):
    (tmp_path / "policy.toml").write_text("[fuse]\nmax_coast = 400.0\n")
    (tmp_path / "sensors.jsonl").write_text("")
    (tmp_path / "detections.jsonl").write_text("")
    args = ["replay", "--sensors", str(tmp_path / "sensors.jsonl"), "--detections"]
    args += [str(tmp_path / "detections.jsonl"), "--policy", str(tmp_path / "policy.toml")]
    assert _airwarn(monkeypatch, *args, "--out", str(tmp_path / "run")) == 2
    assert "unknown [fuse] key 'max_coast'" in capsys.readouterr().err


def test_ingest_warnings_point_at_a_wrongly_written_file():
    ok = {"errors": 0, "error_samples": [], "lines": 3000, "reports": 1000, "too_late": 10}
    ok |= {"unregistered": 20, "heartbeats": 2000}
    assert ingest_warnings(ok, n_sensors=50) == []
    assert "no heartbeat lines" in ingest_warnings(ok | {"heartbeats": 0}, 50)[0]
    sorted_by_sensor = ok | {"reports": 400, "too_late": 2600}
    assert "arrival order" in ingest_warnings(sorted_by_sensor, 50)[0]
    ids_do_not_match = ok | {"unregistered": 990}
    assert "do the sensor ids match?" in ingest_warnings(ids_do_not_match, 50)[0]
    # observers only, no sensors file entries: nothing to match
    assert ingest_warnings(ids_do_not_match, 0) == []
    km = ok | {"precise": 900}
    assert "kilometres were probably meant" in ingest_warnings(km, 50)[0]
    assert ingest_warnings(ok | {"precise": 100}, 50) == []
    bad = ok | {"errors": 2, "error_samples": ["detections.jsonl line 3: field 't': [x]"]}
    assert ingest_warnings(bad, 50)[0].startswith("2 bad lines skipped")
    swapped = ok | {"beyond_range": 900}  # of the 980 registered sensors' reports
    assert "are lat and lon swapped in detections.jsonl" in ingest_warnings(swapped, 50)[0]
    assert ingest_warnings(ok | {"beyond_range": 30}, 50) == []


def test_sensor_warnings_point_at_ranges_written_in_kilometres():
    def sensor(i: str, kind: str, range_m: float) -> Sensor:
        return Sensor.parse({"id": i, "kind": kind, "lat": 50.0, "lon": 30.0, "range_m": range_m})

    good = [sensor("R1", "radar", 150_000), sensor("A1", "acoustic", 3000), sensor("O", "x", 1)]
    assert sensor_warnings(good) == []
    km = [*good, sensor("R2", "Radar Station", 150), sensor("A2", "acoustic", 3)]
    said = sensor_warnings(km)
    assert len(said) == 2
    assert said[0].startswith("1 radar sensor(s) have range_m below 5,000 m (e.g. 'R2': 150 m)")
    assert "'A2': 3 m" in said[1] and "kilometres were probably meant" in said[1]


def test_evaluate_warns_of_misses_after_the_sensor_data_ended(tmp_path, monkeypatch, capsys):
    # a drone crosses a zone at t = 600 s; the only sensor record is at t = 100 s
    zone = {"type": "Feature", "properties": {"id": "A", "population": 1000, "shelter_s": 60,
            "region": "R"}, "geometry": {"type": "Polygon", "coordinates": [[[30.0, 50.0],
            [30.05, 50.0], [30.05, 50.05], [30.0, 50.05], [30.0, 50.0]]]}}  # fmt: skip
    (tmp_path / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [zone]})
    )
    lon = [29.7 + 0.05 * k for k in range(11)]
    threat = {"id": "D1", "cls": "drone", "t": [100.0 * k for k in range(11)],
              "lat": [50.025] * 11, "lon": lon, "alt_m": [300.0] * 11, "fate": "left",
              "impact": None}  # fmt: skip
    (tmp_path / "truth.jsonl").write_text(json.dumps(threat) + "\n")
    (tmp_path / "detections.jsonl").write_text(
        json.dumps({"t": 100.0, "sensor": "P1", "heartbeat": True}) + "\n"
    )
    for name in ("alerts.jsonl", "tracks.jsonl"):
        (tmp_path / name).write_text("")
    args = ("evaluate", "--scenario", str(tmp_path), "--alerts", str(tmp_path / "alerts.jsonl"))
    assert _airwarn(monkeypatch, *args) == 0
    err = capsys.readouterr().err
    assert "0 impact and 1 overflight pairs missed or late had their deadline after" in err


@pytest.mark.parametrize(("lat", "lon", "warned"), [(50.02, 30.02, False), (30.02, 50.02, True)])
def test_replay_warns_when_no_zone_is_near_any_sensor(
    tmp_path, monkeypatch, capsys, lat, lon, warned
):
    # one zone near 50 N 30 E; the post either beside it or with its lat and lon swapped
    zone = {"type": "Feature", "properties": {"id": "A", "population": 1000, "shelter_s": 60,
            "region": "R"}, "geometry": {"type": "Polygon", "coordinates": [[[30.0, 50.0],
            [30.05, 50.0], [30.05, 50.05], [30.0, 50.05], [30.0, 50.0]]]}}  # fmt: skip
    (tmp_path / "zones.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [zone]})
    )
    post = {"id": "P1", "kind": "acoustic", "lat": lat, "lon": lon, "range_m": 3000}
    (tmp_path / "sensors.jsonl").write_text(json.dumps(post) + "\n")
    (tmp_path / "detections.jsonl").write_text(
        json.dumps({"t": 100.0, "sensor": "P1", "heartbeat": True}) + "\n"
    )
    args = ["replay", "--sensors", str(tmp_path / "sensors.jsonl"), "--detections"]
    args += [str(tmp_path / "detections.jsonl"), "--zones", str(tmp_path / "zones.geojson")]
    assert _airwarn(monkeypatch, *args, "--out", str(tmp_path / "run"), "--no-cap") == 0
    gap = json.loads((tmp_path / "run" / "replay_summary.json").read_text())["zone_sensor_gap_m"]
    err = capsys.readouterr().err
    assert ("no zone lies within" in err) is warned
    assert (gap > 1_000_000) is warned and (gap < 5_000) is not warned
    if warned:
        assert "[lon, lat]" in err
