"""`airwarn serve --replay DIR --speed N`: the live service plays a scenario like `airwarn replay`."""

from __future__ import annotations

import time

from airwarn.contracts import write_jsonl, write_zones
from airwarn.decide.policy import Policy
from airwarn.pipeline import replay
from airwarn.serve import Clock, create_app
from airwarn.serve.service import default_pipeline

from .conftest import T0, LiveServer, small_sensors, small_zones
from .test_restart import drone_reports


def test_replay_mode_publishes_the_same_alerts_as_replay(make_config, zones, tmp_path):
    scen = tmp_path / "scenario"
    scen.mkdir()
    rows = drone_reports(T0, 100)
    heartbeat = [{"t": T0 + 60.0 * k, "sensor": "R1", "heartbeat": True} for k in range(4)]
    rows = sorted(rows + heartbeat, key=lambda r: r["t"])
    write_jsonl(scen / "detections.jsonl", rows)
    write_jsonl(scen / "sensors.jsonl", [s.to_json() for s in small_sensors()])
    write_zones(scen / "zones.geojson", small_zones())
    ref = replay(
        small_sensors(),
        scen / "detections.jsonl",
        zones,
        Policy.load(),
        tmp_path / "ref",
        cap=False,
    )
    assert any(c.state == "alert" for c in ref.alerts)

    cfg = make_config(
        pipeline_factory=default_pipeline,
        replay_dir=scen,
        clock=Clock(rate=2000.0),
    )
    app = create_app(cfg)
    svc = app.state.service
    with LiveServer(app):
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if svc.replay_done:
                break
            time.sleep(0.05)
    got = [e.body["change"] for e in svc.log.events(kinds=["alert"])]
    assert got == [c.to_json() for c in ref.alerts]
    assert svc.pipe.ingestor.stats.reports == 100
