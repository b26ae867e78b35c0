"""Public record parsers: good records round-trip, bad ones name the record and field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from airwarn.contracts import (
    AlertChange,
    Detection,
    Heartbeat,
    RecordError,
    Sensor,
    Threat,
    TrackState,
    Zone,
    parse_report,
    read_zones,
    write_zones,
)


def test_detection_round_trip() -> None:
    obj = {"t": 1.5e9, "sensor": "a1", "lat": 50.0, "lon": 30.0, "sigma_m": 2000.0, "id": "r1"}
    rec = parse_report(obj, "d", 3)
    assert isinstance(rec, Detection)
    assert rec.to_json() == obj


def test_heartbeat() -> None:
    rec = parse_report({"t": 10.0, "sensor": "a1", "heartbeat": True})
    assert rec == Heartbeat(10.0, "a1")


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"lat": 91.0}, "lat"),
        ({"lat": "50"}, "lat"),
        ({"sigma_m": 0}, "sigma_m"),
        ({"cls": "balloon"}, "cls"),
        ({"id": ""}, "id"),
        ({"t": float("nan")}, "t"),
        ({"t": "2025-10-09T08:53:20"}, "t"),  # no UTC offset: ambiguous
        ({"t": "yesterday"}, "t"),
    ],
)
def test_detection_errors_name_field_and_line(patch: dict, field: str) -> None:
    obj = {"t": 1.5e9, "sensor": "a1", "lat": 50.0, "lon": 30.0, "sigma_m": 2000.0, "id": "r1"}
    obj.update(patch)
    with pytest.raises(RecordError) as exc:
        parse_report(obj, "detections.jsonl", 17)
    assert exc.value.field == field
    assert exc.value.line == 17
    assert "detections.jsonl line 17" in str(exc.value)


def test_times_may_be_iso_8601_with_an_offset() -> None:
    """UTC seconds or RFC 3339 strings with an offset: both give the same seconds."""
    obj = {"sensor": "a1", "lat": 50.0, "lon": 30.0, "sigma_m": 2000.0, "id": "r1"}
    for t in ("2025-10-09T05:53:20Z", "2025-10-09T08:53:20+03:00", "2025-10-09T05:53:20.000+00:00"):
        assert parse_report({**obj, "t": t}).t == 1759989200.0
    assert parse_report({"t": "2025-10-09T05:53:20Z", "sensor": "a1", "heartbeat": True}).t == (
        1759989200.0
    )
    assert AlertChange.parse({"t": "2025-10-09T05:53:25Z", "zone": "Z", "state": "alert"}).t == (
        1759989205.0
    )


def test_class_hints_in_other_spellings_are_read_as_the_class_they_name() -> None:
    """Another generator may write "Drone", "Shahed-136", "cruise missile" or "Iskander-M":
    the report keeps its class hint; a name that is no class is still refused."""
    obj = {"t": 1.5e9, "sensor": "a1", "lat": 50.0, "lon": 30.0, "sigma_m": 2000.0, "id": "r1"}
    for hint, cls in [
        ("Drone", "drone"),
        ("Shahed-136", "drone"),
        ("UAV", "drone"),
        ("jet drone", "jet_drone"),
        ("Cruise missile", "cruise"),
        ("Iskander-M", "ballistic"),
        ("BALLISTIC", "ballistic"),
        ("Unknown", "unknown"),
        ("Kh-555", "cruise"),
        ("Storm Shadow", "cruise"),
        ("Fateh-110", "ballistic"),
        ("S-300", "ballistic"),
        ("Helicopter", "aircraft"),
        ("plane", "aircraft"),  # refused before session 29 (the field test now uses a balloon)
        ("glide bomb", "unknown"),  # no class of its own: its kinematics decide
        ("KAB", "unknown"),
    ]:
        assert parse_report({**obj, "cls": hint}).cls == cls
    alert = {"t": 1.0, "zone": "Z", "state": "alert", "cls": "Cruise Missile"}
    assert AlertChange.parse(alert).cls == "cruise"
    truth = {"id": "D1", "cls": "Shahed", "t": [0, 1], "lat": [50, 50], "lon": [30, 30],
             "alt_m": [100, 100], "fate": "left", "impact": None}  # fmt: skip
    assert Threat.parse(truth).cls == "drone"
    with pytest.raises(RecordError, match="field 'cls'"):
        parse_report({**obj, "cls": "bird"})


def test_missing_field() -> None:
    with pytest.raises(RecordError, match="field 'sigma_m': is required"):
        parse_report({"t": 1.0, "sensor": "a", "lat": 1.0, "lon": 2.0, "id": "x"})


def test_sensor_and_alert_parse() -> None:
    s = Sensor.parse({"id": "r", "kind": "radar", "lat": 50, "lon": 30, "range_m": 2e5})
    assert s.range_m == 2e5 and s.alt_m is None
    a = AlertChange.parse({"t": 5, "zone": "z", "state": "alert", "tracks": ["T1"]})
    assert a.tracks == ("T1",)
    with pytest.raises(RecordError, match="state"):
        AlertChange.parse({"t": 5, "zone": "z", "state": "on"})


def test_numbered_sensors_reports_and_threats_are_read_by_their_numbers() -> None:
    # another generator numbers its sensors, reports and threats: the numbers are their ids
    s = Sensor.parse({"id": 17, "kind": "acoustic", "lat": 50, "lon": 30, "range_m": 3000})
    rep = parse_report({"t": 5, "sensor": 17, "lat": 50, "lon": 30, "sigma_m": 900, "id": 42})
    beat = parse_report({"t": 6, "sensor": 17, "heartbeat": True})
    thr = Threat.parse({"id": 5, "cls": "drone", "t": [0, 1], "lat": [50, 50], "lon": [30, 30],
                        "alt_m": [300, 300], "fate": "left", "impact": None})  # fmt: skip
    assert (s.id, rep.sensor, rep.id, beat.sensor, thr.id) == ("17", "17", "42", "17", "5")
    for bad in (True, 1.5, ""):
        with pytest.raises(RecordError, match="'sensor'"):
            parse_report({"t": 5, "sensor": bad, "lat": 50, "lon": 30, "sigma_m": 9, "id": "r"})


def test_epoch_milliseconds_are_refused_with_a_message_saying_so() -> None:
    ms = 1_760_000_000_000.0  # another system's Date.now()
    cases = [
        (lambda: parse_report({"t": ms, "sensor": "a", "lat": 50, "lon": 30, "sigma_m": 9,
                               "id": "r"}), "detections.jsonl"),
        (lambda: Threat.parse({"id": "x", "cls": "drone", "t": [ms, ms + 1e3], "lat": [50, 50],
                               "lon": [30, 30], "alt_m": [1, 1], "fate": "left",
                               "impact": None}), "truth.jsonl"),
        (lambda: AlertChange.parse({"t": ms, "zone": "z", "state": "alert"}), "alerts.jsonl"),
    ]  # fmt: skip
    for parse, src in cases:
        with pytest.raises(RecordError, match="looks like milliseconds") as err:
            parse()
        assert (err.value.source, err.value.field) == (src, "t")
    assert parse_report({"t": ms / 1000, "sensor": "a", "lat": 50, "lon": 30, "sigma_m": 9,
                         "id": "r"}).t == ms / 1000  # fmt: skip


def test_fates_under_other_generators_names_are_read_as_the_fate_they_name() -> None:
    obj = {"id": "x", "cls": "drone", "t": [0, 1], "lat": [50, 50], "lon": [30, 30],
           "alt_m": [300, 300], "impact": None}  # fmt: skip
    said = {"Intercepted": "downed", "shot down": "downed", "HIT": "impact", "exited": "left",
            "Downed": "downed"}  # fmt: skip
    for name, fate in said.items():
        assert Threat.parse(obj | {"fate": name}).fate == fate
    with pytest.raises(RecordError, match="'fate'.*'vanished'"):
        Threat.parse(obj | {"fate": "vanished"})


def test_an_impact_without_its_impact_point_strikes_where_its_path_ends() -> None:
    obj = {"id": "x", "cls": "drone", "t": [0, 60], "lat": [50.0, 50.1], "lon": [30.0, 30.2],
           "alt_m": [300, 0], "fate": "impact"}  # fmt: skip
    for o in (obj, obj | {"impact": None}):
        assert Threat.parse(o).impact == {"t": 60.0, "lat": 50.1, "lon": 30.2}
    given = {"t": 55, "lat": 50.09, "lon": 30.19}
    assert Threat.parse(obj | {"impact": given}).impact == given
    assert Threat.parse(obj | {"fate": "downed"}).impact is None


def test_threat_lengths_must_match() -> None:
    obj = {
        "id": "x",
        "cls": "drone",
        "t": [0, 1],
        "lat": [1.0],
        "lon": [1, 2],
        "alt_m": [0, 0],
        "fate": "left",
        "impact": None,
    }
    with pytest.raises(RecordError, match="'lat'"):
        Threat.parse(obj)


def test_zones_geojson_round_trip(tmp_path) -> None:
    from shapely.geometry import box

    zones = [Zone("z1", "One", 100, 60.0, "r1", box(30, 50, 30.1, 50.1))]
    p = tmp_path / "zones.geojson"
    write_zones(p, zones)
    back = read_zones(p)
    assert back[0].id == "z1" and back[0].population == 100
    doc = json.loads(p.read_text())
    doc["features"][0]["properties"]["shelter_s"] = "soon"
    p.write_text(json.dumps(doc))
    with pytest.raises(RecordError, match="feature line 1: field 'shelter_s'"):
        read_zones(p)


def test_files_saved_with_a_byte_order_mark_are_read_as_without(tmp_path) -> None:
    """Windows tools (PowerShell, Excel's "UTF-8" export) start UTF-8 files with a byte order
    mark: sensors, detections, truth and zones read the same with it."""
    from shapely.geometry import box

    from airwarn.contracts import read_sensors, read_truth
    from airwarn.ingest import iter_report_lines

    bom = "\ufeff"
    (tmp_path / "sensors.jsonl").write_text(
        bom + json.dumps({"id": "R1", "kind": "radar", "lat": 50, "lon": 30, "range_m": 1e5}),
        encoding="utf-8",
    )
    assert [s.id for s in read_sensors(tmp_path / "sensors.jsonl")] == ["R1"]
    rep = {"t": 1e9, "sensor": "R1", "lat": 50, "lon": 30, "sigma_m": 300, "id": "r1"}
    (tmp_path / "d.jsonl").write_text(bom + json.dumps(rep) + "\n", encoding="utf-8")
    [(n, text)] = list(iter_report_lines(tmp_path / "d.jsonl"))
    assert n == 1 and parse_report(json.loads(text)).id == "r1"
    th = {"id": "D1", "cls": "drone", "t": [0, 60], "lat": [50, 50.1], "lon": [30, 30],
          "alt_m": [100, 100], "fate": "left"}  # fmt: skip
    (tmp_path / "truth.jsonl").write_text(bom + json.dumps(th), encoding="utf-8")
    assert read_truth(tmp_path / "truth.jsonl")[0].id == "D1"
    write_zones(
        tmp_path / "z.geojson", [Zone("z1", "One", 100, 60.0, "r1", box(30, 50, 30.1, 50.1))]
    )
    z = tmp_path / "z.geojson"
    z.write_text(bom + z.read_text(encoding="utf-8"), encoding="utf-8")
    assert read_zones(z)[0].id == "z1"


def _zone_feature(ring: list[list[float]], zid: str = "z") -> dict:
    return {
        "type": "Feature",
        "properties": {"id": zid, "population": 10, "shelter_s": 60, "region": "r"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def test_a_self_intersecting_zone_is_repaired_into_its_parts() -> None:
    from airwarn.zones import zone_set

    # a "bow-tie" ring: valid GeoJSON, no area as written (its two halves cancel), so its
    # centroid is undefined and the zone's reach radius came out as 458,000 km
    bow = Zone.parse_feature(
        _zone_feature([[30, 50], [30.2, 50.2], [30.2, 50], [30, 50.2], [30, 50]])
    )
    assert bow.geometry.geom_type == "MultiPolygon" and bow.geometry.is_valid
    assert bow.geometry.area == pytest.approx(0.02)
    square = Zone.parse_feature(
        _zone_feature([[31, 50], [31.2, 50], [31.2, 50.2], [31, 50.2], [31, 50]], "s")
    )
    zs = zone_set([bow, square])
    assert zs.radius[0] == pytest.approx(zs.radius[1], rel=0.05)  # same extent, same reach


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        ([[30, 50], [30.2, 50], [30.4, 50], [30, 50]], "has no area"),  # a flat ring
        ([[50, 30], [50.2, 30], [50.2, 95], [50, 30]], "out of range"),  # lat 95
        (
            [[50.4, 230.5], [50.5, 230.5], [50.5, 230.6], [50.4, 230.5]],
            r"GeoJSON gives \[lon, lat\]",
        ),
    ],
)
def test_a_zone_without_area_or_with_impossible_coordinates_is_refused(ring, message) -> None:
    with pytest.raises(RecordError, match=message) as err:
        Zone.parse_feature(_zone_feature(ring), index=4)
    assert (err.value.line, err.value.field) == (4, "geometry")


def test_track_state_survivor_maps_merged_ids() -> None:
    st = TrackState.empty(0.0)
    ids = np.array([3, 5, 7], np.int64)
    assert st.survivor(ids).tolist() == [3, 5, 7]
    st.merged = np.array([[7, 2], [3, 9]], np.int64)
    assert st.survivor(ids).tolist() == [9, 5, 2]
    assert st.survivor(np.zeros(0, np.int64)).size == 0


def test_ballistic_kinematics_and_diving() -> None:
    # (x, y, z, vx, vy, vz): high and level, climbing fast, a level drone, falling fast, and a
    # track whose altitude and vertical speed nothing measured (NaN)
    x = np.array(
        [
            [0, 0, 15_000, 300, 0, 0],
            [0, 0, 3_000, 300, 0, 150],
            [0, 0, 300, 47, 0, 0],
            [0, 0, 2_000, 250, 0, -150],
            [0, 0, np.nan, 47, 0, np.nan],
        ],
        float,
    )
    P = np.zeros((5, 6, 6))
    P[:, 5, 5] = 10.0**2
    trk = TrackState(
        t=0.0, ids=np.arange(1, 6), x=x, P=P, cls=np.zeros(5, np.int64),
        cls_prob=np.zeros((5, 6)), confirmed=np.ones(5, bool), last_update=np.zeros(5),
        n_updates=np.full(5, 10),
    )  # fmt: skip
    assert trk.ballistic_kinematics(12_000.0, 100.0).tolist() == [True, True, False, True, False]
    assert trk.diving(50.0).tolist() == [False, False, False, True, False]
