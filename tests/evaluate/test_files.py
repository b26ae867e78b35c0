"""evaluate_files: public files in, report.md, scorecard.json, pairs.csv and figures out."""

from __future__ import annotations

import json

import pytest
from evaluate_cases import FRAME, alerts, square, straight

from airwarn.contracts import RecordError, write_jsonl, write_zones
from airwarn.evaluate import evaluate_files


@pytest.fixture
def scenario(tmp_path):
    scen = tmp_path / "scenario"
    scen.mkdir()
    zones = [
        square("A", 0, 0, region="R1", population=1000),
        square("B", 10_000, 0, region="R1", population=2000, shelter_s=120.0),
        square("C", 200_000, 0, region="R2", population=5000),
    ]
    write_zones(scen / "zones.geojson", zones)
    truth = [
        straight("D1", -100_000, 1000, 40_000, 1000, t0=1.7e9),
        straight("M1", -100_000, 1000, 11_000, 1000, t0=1.7e9 + 500, speed=250.0,
                 cls="cruise", impact=True),
    ]  # fmt: skip
    write_jsonl(scen / "truth.jsonl", (t.to_json() for t in truth))
    run = tmp_path / "run"
    run.mkdir()
    t0 = 1.7e9
    rows = alerts(
        (t0 + 300, "B", "pre_alert"),
        (t0 + 600, "B", "alert"),
        (t0 + 1700, "A", "alert"),
        (t0 + 2700, "A", "clear"),
        (t0 + 3000, "B", "clear"),
        (t0 + 9000, "C", "alert"),
        (t0 + 9300, "C", "clear"),
    )
    write_jsonl(run / "alerts.jsonl", (a.to_json() for a in rows))
    lat, lon = FRAME.to_geo([-50_000, -20_000, 0], [1000, 1100, 900])
    tracks = [
        {"t": t0 + 1000 + 600 * k, "track": "T000001", "lat": float(lat[k]),
         "lon": float(lon[k]), "alt_m": 200.0, "vel_e": 50.0, "vel_n": 0.0, "vel_u": 0.0,
         "cls": "drone", "confirmed": True, "sigma_m": 300.0}
        for k in range(3)
    ]  # fmt: skip
    write_jsonl(run / "tracks.jsonl", tracks)
    return scen, run


def test_evaluate_files_writes_report(scenario, tmp_path):
    scen, run = scenario
    out = tmp_path / "report"
    card = evaluate_files(scen, run / "alerts.jsonl", out, stage_seconds={"replay": 1.5})
    for name in ("report.md", "scorecard.json", "pairs.csv", "map.png", "timeline.png"):
        assert (out / name).stat().st_size > 0, name
    j = json.loads((out / "scorecard.json").read_text())
    assert j["threats"] == 2
    assert j["impact_pairs"] == 1  # the cruise missile strikes B
    assert j["impact_hit"] == 1
    assert j["false_alert_episodes"] == 1  # C, 200 km from any threat
    assert j["alert_episodes"] == 3
    assert j["stage_seconds"]["replay"] == 1.5
    assert "evaluate_score" in j["stage_seconds"]
    md = (out / "report.md").read_text()
    assert "| replay | 1.50 |" in md
    assert "![hours under alert per zone](map.png)" in md
    assert card.summary["zones_source"].endswith("zones.geojson")
    rows = (out / "pairs.csv").read_text().splitlines()
    assert len(rows) == 1 + card.summary["pairs"]


def test_bad_alert_line_names_line_and_field(scenario, tmp_path):
    scen, run = scenario
    with open(run / "alerts.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"t": 1.7e9, "zone": "A", "state": "panic"}\n')
    with pytest.raises(RecordError) as ei:
        evaluate_files(scen, run / "alerts.jsonl", tmp_path / "r")
    assert ei.value.field == "state" and ei.value.line == 8


def test_evaluate_files_with_no_alerts(scenario, tmp_path):
    scen, run = scenario
    (run / "alerts.jsonl").write_text("")
    (run / "tracks.jsonl").unlink()
    card = evaluate_files(scen, run / "alerts.jsonl", tmp_path / "r")
    assert card.summary["alert_episodes"] == 0
    assert card.summary["miss"] == card.summary["pairs"] > 0
    assert (tmp_path / "r" / "map.png").exists() and (tmp_path / "r" / "timeline.png").exists()


def test_builtin_zones_when_the_scenario_has_none(scenario, tmp_path):
    scen, run = scenario
    (scen / "zones.geojson").unlink()
    card = evaluate_files(scen, run / "alerts.jsonl", tmp_path / "r")
    assert card.summary["zones_source"] == "built-in region"
    assert card.summary["zones"] > 1000
    assert card.summary["unknown_zone_lines"] == 7  # the alerts name the scenario's zones
