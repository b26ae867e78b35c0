"""The simulator's files: public formats, determinism, arrival order, duplicates, heartbeats."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from airwarn.contracts import (
    MAX_LATENESS_S,
    Detection,
    Heartbeat,
    Sensor,
    Threat,
    Zone,
    parse_report,
    read_zones,
)
from airwarn.sim import SimParams, write_scenario

FILES = ("sensors.jsonl", "detections.jsonl", "truth.jsonl", "zones.geojson", "scenario.json")
SMALL = SimParams(
    seed=7, hours=3.0, drones=30, cruise=2, ballistic=3, acoustic=400, radars=8, observer_rate=2.0
)


def hand_zones() -> list[Zone]:
    """Two hand-made zones (Kharkiv and Sumy), so the tests do not build the whole region."""
    return [
        Zone("kharkiv", "Kharkiv", 1_400_000, 60.0, "07", box(36.1, 49.9, 36.4, 50.1)),
        Zone("sumy", "Sumy", 260_000, 60.0, "21", box(34.7, 50.85, 34.9, 50.97)),
    ]


@pytest.fixture(scope="module")
def scen(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("scen")
    info = write_scenario(SMALL, out, zones=hand_zones())
    return out, info


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_writes_all_files_and_summary(scen):
    out, info = scen
    for f in FILES:
        assert (out / f).stat().st_size > 0, f
    for k in ("threats", "detections", "reports", "heartbeats", "sensors", "t0", "t1"):
        assert k in info
    assert info["threats"] == 35
    assert info["sensors"] == 408
    assert info["detections"] == len(_lines(out / "detections.jsonl"))
    assert info["reports"] + info["heartbeats"] == info["detections"]
    assert info["t1"] - info["t0"] >= 3 * 3600
    doc = json.loads((out / "scenario.json").read_text())
    assert doc["params"]["drones"] == 30
    assert doc["summary"]["threats"] == 35


def test_every_line_parses(scen):
    out, _ = scen
    sensors = [
        Sensor.parse(json.loads(s), "sensors.jsonl", i)
        for i, s in enumerate(_lines(out / "sensors.jsonl"), 1)
    ]
    assert {s.kind for s in sensors} == {"acoustic", "radar"}
    n_det = n_hb = 0
    for i, s in enumerate(_lines(out / "detections.jsonl"), 1):
        obj = json.loads(s)
        # compact JSON, exactly what json.dumps writes
        assert json.dumps(obj, separators=(",", ":")) == s
        rec = parse_report(obj, "detections.jsonl", i)
        n_det += isinstance(rec, Detection)
        n_hb += isinstance(rec, Heartbeat)
    assert n_det > 100 and n_hb > 1000
    truth = [
        Threat.parse(json.loads(s), "truth.jsonl", i)
        for i, s in enumerate(_lines(out / "truth.jsonl"), 1)
    ]
    assert len(truth) == 35
    assert [z.id for z in read_zones(out / "zones.geojson")] == ["kharkiv", "sumy"]


def test_deterministic(scen, tmp_path):
    out, _ = scen
    write_scenario(SMALL, tmp_path / "again", zones=hand_zones())
    for f in FILES:
        assert (out / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    other = SimParams(**{**SMALL.to_json(), "seed": 8})
    write_scenario(other, tmp_path / "other", zones=hand_zones())
    assert (out / "truth.jsonl").read_bytes() != (tmp_path / "other" / "truth.jsonl").read_bytes()


def test_arrival_order_lateness_at_most_60s(scen):
    out, _ = scen
    t = np.array([json.loads(s)["t"] for s in _lines(out / "detections.jsonl")])
    prev_max = np.maximum.accumulate(np.concatenate([[-np.inf], t[:-1]]))
    late = prev_max - t
    assert late.max() <= MAX_LATENESS_S
    # reports really do arrive out of order, some by more than 20 s (human observers)
    assert (late > 0).mean() > 0.05
    assert late.max() > 20.0


def test_duplicates_are_repeated_lines(scen):
    out, info = scen
    by_id = defaultdict(list)
    for s in _lines(out / "detections.jsonl"):
        o = json.loads(s)
        if "id" in o:
            by_id[o["id"]].append(s)
    dups = {k: v for k, v in by_id.items() if len(v) > 1}
    assert len(dups) == info["duplicates"] > 0
    assert all(len(set(v)) == 1 for v in dups.values())
    assert 0.002 < len(dups) / len(by_id) < 0.03


def test_heartbeats_once_a_minute_except_outages(scen):
    out, info = scen
    sensors = {json.loads(s)["id"] for s in _lines(out / "sensors.jsonl")}
    hb = defaultdict(list)
    reports = defaultdict(list)
    for s in _lines(out / "detections.jsonl"):
        o = json.loads(s)
        (hb if o.get("heartbeat") else reports)[o["sensor"]].append(o["t"])
    assert set(hb) == sensors  # every registered sensor, and only those, sends heartbeats
    outages = {o["sensor"]: o for o in json.loads((out / "scenario.json").read_text())["outages"]}
    assert outages
    for sid, ts in hb.items():
        gaps = np.diff(np.sort(ts))
        assert abs(np.median(gaps) - 60.0) < 3.0
        if sid in outages:
            o = outages[sid]
            assert not any(o["start"] <= t < o["end"] for t in ts + reports.get(sid, []))
            down = min(o["end"], info["t1"]) - o["start"]
            assert abs(len(ts) - (info["t1"] - info["t0"] - down) / 60.0) <= 2
        else:
            assert gaps.max() < 66.0


def test_observer_ids_unregistered(scen):
    out, _ = scen
    sensors = {json.loads(s)["id"]: json.loads(s)["kind"] for s in _lines(out / "sensors.jsonl")}
    senders = {json.loads(s)["sensor"] for s in _lines(out / "detections.jsonl")}
    observers = senders - set(sensors)
    assert observers and all(s.startswith("obs-") for s in observers)


def test_acoustic_reports_post_position_large_sigma(scen):
    out, _ = scen
    sensors = {}
    for s in _lines(out / "sensors.jsonl"):
        o = json.loads(s)
        sensors[o["id"]] = o
    n = 0
    for s in _lines(out / "detections.jsonl"):
        o = json.loads(s)
        sen = sensors.get(o["sensor"])
        if o.get("heartbeat") or sen is None or sen["kind"] != "acoustic":
            continue
        n += 1
        assert (o["lat"], o["lon"]) == (sen["lat"], sen["lon"])
        assert 0.49 * sen["range_m"] <= o["sigma_m"] <= 1.01 * sen["range_m"]
        assert "alt_m" not in o
        assert o.get("cls") in ("drone", "jet_drone", "cruise", "unknown")
        assert 2000 <= sen["range_m"] <= 5000
    assert n > 20


def test_radar_reports_carry_altitude_velocity(scen):
    out, _ = scen
    kinds = {json.loads(s)["id"]: json.loads(s) for s in _lines(out / "sensors.jsonl")}
    radar = [
        json.loads(s)
        for s in _lines(out / "detections.jsonl")
        if kinds.get(json.loads(s)["sensor"], {}).get("kind") == "radar" and "id" in json.loads(s)
    ]
    assert len(radar) > 50
    for o in radar:
        assert {"alt_m", "sigma_alt_m", "vel_e", "vel_n", "vel_u"} <= set(o)
        assert 150.0 <= o["sigma_m"] <= 500.0
    assert any("cls" in o for o in radar) and any("cls" not in o for o in radar)


def test_ingest_accepts_every_line(scen):
    """The pipeline's own ingest: no bad line, nothing too late, every duplicate caught."""
    from airwarn.contracts import read_sensors
    from airwarn.geo import LocalFrame
    from airwarn.ingest import Ingestor, SensorRegistry, iter_report_lines

    out, info = scen
    reg = SensorRegistry(read_sensors(out / "sensors.jsonl"), LocalFrame(49.0, 32.0))
    ing = Ingestor(reg)
    for i, line in iter_report_lines(out / "detections.jsonl"):
        ing.accept_line(line, i)
    st = ing.stats
    assert st.errors == 0 and st.too_late == 0
    assert st.duplicates == info["duplicates"]
    assert st.heartbeats == info["heartbeats"]
    assert st.reports == info["reports"] - info["duplicates"]
    assert st.unregistered == info["reports_by_kind"]["observer"] - _observer_dups(out) > 0


def _observer_dups(out: Path) -> int:
    seen: set[str] = set()
    n = 0
    for s in _lines(out / "detections.jsonl"):
        o = json.loads(s)
        if o["sensor"].startswith("obs-"):
            n += o["id"] in seen
            seen.add(o["id"])
    return n


def test_params_round_trip_through_scenario_json(scen):
    out, _ = scen
    doc = json.loads((out / "scenario.json").read_text())
    assert SimParams.from_json(doc["params"]) == SMALL
    with pytest.raises(ValueError, match="bogus"):
        SimParams.from_json({"bogus": 1})


def test_unknown_region_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="region"):
        write_scenario(SimParams(region="atlantis", drones=1), tmp_path)


def test_cli_simulate_synthetic_region(tmp_path):
    from typer.testing import CliRunner

    from airwarn.cli import app

    args = ["simulate", "--out", str(tmp_path), "--seed", "2", "--hours", "2", "--drones", "6"]
    args += ["--cruise", "1", "--ballistic", "1", "--acoustic", "50", "--radars", "3"]
    res = CliRunner().invoke(app, [*args, "--region", "synthetic"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "scenario.json").read_text())
    assert doc["params"]["region"] == "synthetic" and doc["summary"]["threats"] == 8
    assert len(read_zones(tmp_path / "zones.geojson")) == 40


def test_acoustic_network_size_defaults_to_the_theatres_own():
    from airwarn.sim.params import ACOUSTIC_POSTS
    from airwarn.sim.scenario import with_theatre_defaults
    from airwarn.sim.theatre import THEATRES

    ua, il = THEATRES["ukraine"](), THEATRES["israel"]()
    # Ukraine's real network: about 9,500 posts; a theatre that names none gets the fallback
    assert with_theatre_defaults(SimParams(), ua).acoustic == 9500
    assert with_theatre_defaults(SimParams(region="israel"), il).acoustic == ACOUSTIC_POSTS
    # a count the caller gives is kept, whatever the theatre's own
    assert with_theatre_defaults(SimParams(acoustic=ACOUSTIC_POSTS), ua).acoustic == 3000
    assert with_theatre_defaults(SimParams(region="israel", acoustic=9500), il).acoustic == 9500
    assert with_theatre_defaults(SimParams(acoustic=0), ua).acoustic == 0


def test_radars_do_not_move_with_the_post_count():
    """One seed gives the same radars (place, range, scan, outage) whatever the post count,
    so sensor mixes compare on one radar layout."""
    from airwarn.sim.network import build_network
    from airwarn.sim.theatre import THEATRES

    th = THEATRES["ukraine"]()
    nets = [
        build_network(
            SimParams(acoustic=n, radars=6), th, th.frame(), np.random.default_rng(5), 0.0, 3600.0
        )
        for n in (40, 400)
    ]
    radar = [np.asarray(net.kind) == "radar" for net in nets]
    assert [int(r.sum()) for r in radar] == [6, 6]
    for col in ("x", "y", "range_m", "alt_m", "period_s", "phase_s", "out_start"):
        a, b = (np.asarray(getattr(net, col))[r] for net, r in zip(nets, radar, strict=True))
        np.testing.assert_array_equal(a, b, err_msg=col)
    # ... while the posts themselves differ
    assert int((~radar[1]).sum()) == 400
