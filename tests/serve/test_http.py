"""HTTP ingest, JSON API, durability in-process, operator auth, compat endpoints."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from airwarn.serve import Service, create_app

from .conftest import ADMIN_TOKEN, ANY_SENSOR_TOKEN, OPERATOR_TOKEN, SENSOR_TOKEN, T0, report


def ndjson(rows) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"


def auth(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}", "Content-Type": "application/x-ndjson"}


def bearer(tok: str) -> dict:
    return {"Authorization": f"Bearer {tok}"}


@pytest.fixture
def client(make_config):
    app = create_app(make_config())
    with TestClient(app) as c:
        yield c


def test_mixed_batch_keeps_good_records_and_names_bad_ones(client):
    body = ndjson(
        [
            report(1, T0 + 1),
            {"t": T0 + 2, "sensor": "R1", "lat": 95.0, "lon": 30.4, "sigma_m": 100, "id": "r2"},
            "{not json",
            report(3, T0 + 3),
            {"t": T0 + 4, "sensor": "R1", "lat": 50.4, "lon": 30.4, "id": "r4"},
        ]
    )
    r = client.post("/api/v1/reports", content=body, headers=auth(SENSOR_TOKEN))
    assert r.status_code == 207
    d = r.json()
    assert [a["id"] for a in d["accepted"]] == ["r1", "r3"]
    rej = {x["line"]: x for x in d["rejected"]}
    assert set(rej) == {2, 3, 5}
    assert rej[2]["field"] == "lat" and "line 2" in rej[2]["error"]
    assert rej[3]["field"] is None and "not valid JSON" in rej[3]["error"]
    assert rej[5]["field"] == "sigma_m"
    # a retry of the same batch is idempotent: duplicates are ignored, not re-logged
    r2 = client.post(
        "/api/v1/reports", content=ndjson([report(1, T0 + 1)]), headers=auth(SENSOR_TOKEN)
    )
    assert r2.status_code == 200 and r2.json()["ignored"][0]["reason"] == "duplicate"
    svc = client.app.state.service
    assert svc.log.count("report") == 2


def test_a_report_hours_ahead_of_the_service_clock_is_refused_and_silences_nothing(make_config):
    """A sensor on local time written as UTC (3 h ahead) is refused naming 't' by a service
    whose clock drives its ticks; the good report of the same batch is kept, and later
    reports are not taken as too late."""
    app = create_app(make_config(autotick=True))
    with TestClient(app) as c:
        _refuses_3_hours_ahead(c)


def _refuses_3_hours_ahead(client) -> None:
    body = ndjson([report(1, T0 + 3 * 3600), report(2, T0 + 1)])
    r = client.post("/api/v1/reports", content=body, headers=auth(SENSOR_TOKEN))
    assert r.status_code == 207
    d = r.json()
    assert [a["id"] for a in d["accepted"]] == ["r2"]
    assert (
        d["rejected"][0]["field"] == "t"
        and "ahead of the service clock" in (d["rejected"][0]["error"])
    )
    r = client.post(
        "/api/v1/reports", content=ndjson([report(3, T0 + 2)]), headers=auth(SENSOR_TOKEN)
    )
    assert r.status_code == 200 and [a["id"] for a in r.json()["accepted"]] == ["r3"]


def test_all_bad_is_422_and_auth_is_enforced(client):
    bad = ndjson([{"t": "x", "sensor": "R1"}])
    assert (
        client.post("/api/v1/reports", content=bad, headers=auth(SENSOR_TOKEN)).status_code == 422
    )
    good = ndjson([report(1, T0 + 1)])
    r = client.post(
        "/api/v1/reports", content=good, headers={"Content-Type": "application/x-ndjson"}
    )
    assert r.status_code == 401
    r = client.post("/api/v1/reports", content=good, headers=auth("wrong-token-xxxxxx"))
    assert r.status_code == 401
    # a token for R1 may not speak for A1
    r = client.post(
        "/api/v1/reports", content=ndjson([report(2, T0, sensor="A1")]), headers=auth(SENSOR_TOKEN)
    )
    assert r.status_code == 403 and r.json()["rejected"][0]["field"] == "sensor"
    # operators are not sensors
    r = client.post("/api/v1/reports", content=good, headers=auth(OPERATOR_TOKEN))
    assert r.status_code == 403
    assert client.app.state.service.log.count("report") == 0


def test_tick_alerts_zone_and_api_reports_it(client):
    svc = client.app.state.service
    r = client.post(
        "/api/v1/reports",
        content=ndjson([report(1, T0 + 1, 50.45, 30.45)]),
        headers=auth(SENSOR_TOKEN),
    )
    assert r.status_code == 200
    evs = svc.tick(T0 + 5)
    assert [(e["zone"], e["state"]) for e in evs] == [("Z0", "alert")]
    d = client.get("/api/v1/alerts").json()
    assert [(z["zone"], z["state"], z["name"]) for z in d["zones"]] == [("Z0", "alert", "Zone 0")]
    allz = client.get("/api/v1/zones").json()["zones"]
    assert len(allz) == 4 and sum(z["state"] == "alert" for z in allz) == 1
    ev = client.get("/api/v1/events").json()["events"]
    assert ev[0]["kind"] == "alert" and ev[0]["change"]["zone"] == "Z0"
    tr = client.get("/api/v1/tracks").json()
    kinds = sorted(f["properties"]["kind"] for f in tr["features"])
    assert kinds == ["corridor", "track"]
    gj = client.get("/api/v1/zones.geojson").json()
    assert len(gj["features"]) == 4
    # clears after the fake's hold
    evs = svc.tick(T0 + 100)
    assert [(e["zone"], e["state"]) for e in evs] == [("Z0", "clear")]
    assert client.get("/api/v1/alerts").json()["zones"] == []
    h = client.get("/api/v1/history", params={"t": T0 + 50}).json()
    assert [z["zone"] for z in h["zones"]] == ["Z0"]


def test_restart_replays_log_without_repeating_alerts(make_config, tmp_path):
    cfg = make_config()
    svc = Service(cfg)
    from airwarn.serve.auth import Principal

    who = Principal("t", "sensor", None)
    svc.ingest([(1, report(1, T0 + 1))], who)
    assert [e["state"] for e in svc.tick(T0 + 5)] == ["alert"]
    svc.ingest([(1, report(2, T0 + 6, 50.60, 30.60))], who)  # Z3, not yet ticked
    svc.close()
    # a fresh service on the same data dir: same published state, pending report kept
    svc2 = Service(make_config())
    assert svc2.stats["recovery_mismatches"] == 0
    # resumed from the pipeline snapshot taken at the tick, replaying only what followed
    assert svc2.stats["restored_snapshot_seq"] == 2 and svc2.stats["recovered_events"] == 3
    assert [z["zone"] for z in svc2.zone_states()] == ["Z0"]
    assert svc2.pipe.ingestor.stats.reports == 2
    assert svc2.pipe.ticks == [T0 + 5]
    evs = svc2.tick(T0 + 10)
    assert [(e["zone"], e["state"]) for e in evs] == [("Z3", "alert")]  # Z0 not repeated
    assert svc2.log.count("alert") == 2
    svc2.close()


def test_operator_actions_need_operator_role_and_are_audited(client):
    svc = client.app.state.service
    body = {
        "action": "alert",
        "zones": ["Z1"],
        "why": "radar outage, visual sighting",
        "duration_s": 600,
    }
    assert client.post("/api/v1/operator/actions", json=body).status_code == 401
    r = client.post("/api/v1/operator/actions", json=body, headers=bearer(ANY_SENSOR_TOKEN))
    assert r.status_code == 403
    assert svc.log.count("operator") == 0 and svc.zone_states() == []
    r = client.post(
        "/api/v1/operator/actions", json={**body, "zones": ["nope"]}, headers=bearer(OPERATOR_TOKEN)
    )
    assert r.status_code == 422 and "zones" in r.json()["detail"]
    r = client.post("/api/v1/operator/actions", json=body, headers=bearer(OPERATOR_TOKEN))
    assert r.status_code == 200, r.text
    assert r.json()["who"] == "duty-officer"
    svc.tick(svc.clock() + 5, force=True)
    assert [z["zone"] for z in svc.zone_states()] == ["Z1"]
    cancel = {"action": "cancel", "regions": ["Kyiv City"], "why": "false alarm confirmed"}
    assert (
        client.post(
            "/api/v1/operator/actions", json=cancel, headers=bearer(ADMIN_TOKEN)
        ).status_code
        == 200
    )
    svc.tick(svc.clock() + 10, force=True)
    assert svc.zone_states() == []
    audit = client.get("/api/v1/operator/audit", headers=bearer(OPERATOR_TOKEN)).json()["actions"]
    assert [(a["action"], a["who"]) for a in audit] == [
        ("alert", "duty-officer"),
        ("cancel", "admin"),
    ]
    assert client.get("/api/v1/operator/audit", headers=bearer(SENSOR_TOKEN)).status_code == 403


def test_compat_endpoints(client):
    svc = client.app.state.service
    client.post("/api/v1/reports", content=ndjson([report(1, T0 + 1)]), headers=auth(SENSOR_TOKEN))
    svc.tick(T0 + 5)
    iot = client.get("/v1/iot/active_air_raid_alerts.json").json()
    assert iot[31] == "P" and iot[14] == "N"  # half of "Kyiv City" is alerted
    assert client.get("/v2/iot/active_air_raid_alerts/31.json").json() == "P"
    hfc = client.get("/WarningMessages/alert/alerts.json").json()
    assert (
        hfc["cat"] == "6"
        and hfc["data"] == ["Zone 0"]
        and set(hfc) == {"id", "cat", "title", "data", "desc"}
    )
    svc.tick(T0 + 100)
    assert client.get("/Alerts.json").content == b""


def test_changes_decided_but_not_logged_before_a_crash_are_published_on_restart(make_config):
    from airwarn.serve.auth import Principal

    svc = Service(make_config())
    svc.ingest([(1, report(1, T0 + 1))], Principal("t", "sensor", None))

    def crash(*a, **k):
        raise SystemExit("killed between deciding and logging")

    svc._publish_changes = crash
    with pytest.raises(SystemExit):
        svc.tick(T0 + 5)  # the tick marker is logged, its alert change is not
    assert svc.log.count("tick") == 1 and svc.log.count("alert") == 0
    svc.close()
    svc2 = Service(make_config())
    assert svc2.stats["recovered_unpublished"] == 1
    assert [z["zone"] for z in svc2.zone_states()] == ["Z0"]
    assert svc2.log.count("alert") == 1 and svc2.cap.recent()[0][3] == "Alert"
    svc2.close()
    svc3 = Service(make_config())  # and it is not published a second time
    assert svc3.log.count("alert") == 1 and svc3.stats["recovery_mismatches"] == 0
    svc3.close()


def test_restart_with_a_changed_pipeline_converges_published_states(make_config):
    """If re-derivation differs (new code or policy), the published states follow the pipeline."""
    from airwarn.serve.auth import Principal

    from .fakes import FakePipeline

    class Deaf(FakePipeline):  # a "new version" that alerts nothing
        def tick(self, t, *, final=False):
            self.ingestor.drain()
            return super().tick(t, final=final)

    svc = Service(make_config())
    svc.ingest([(1, report(1, T0 + 1))], Principal("t", "sensor", None))
    svc.tick(T0 + 5)
    svc.close()
    svc2 = Service(make_config(pipeline_factory=Deaf))
    assert svc2.stats["recovery_mismatches"] == 1 and svc2.stats["recovered_unpublished"] == 1
    assert svc2.zone_states() == []  # the alert got its all-clear instead of being forgotten
    ev = list(svc2.log.events(kinds=["alert"]))
    assert [(e.body["change"]["zone"], e.body["change"]["state"]) for e in ev] == [
        ("Z0", "alert"),
        ("Z0", "clear"),
    ]
    assert svc2.cap.recent()[0][3] == "Cancel"
    svc2.close()


def test_alerts_published_before_the_snapshot_survive_a_restart(make_config):
    from airwarn.serve.auth import Principal

    svc = Service(make_config(snapshot_every_s=1.0))
    svc.ingest([(1, report(1, T0 + 1))], Principal("t", "sensor", None))
    assert [e["state"] for e in svc.tick(T0 + 5)] == ["alert"]
    svc.ingest([(1, report(2, T0 + 7))], Principal("t", "sensor", None))
    assert svc.tick(T0 + 10) == [] and svc.stats["snapshot_seq"] == 5
    svc.close()
    svc2 = Service(make_config(snapshot_every_s=1.0))
    assert svc2.stats["restored_snapshot_seq"] == 5
    assert svc2.stats["recovered_unpublished"] == 0 and svc2.stats["recovery_mismatches"] == 0
    assert [z["zone"] for z in svc2.zone_states()] == ["Z0"]
    assert [(e["zone"], e["state"]) for e in svc2.tick(T0 + 100)] == [("Z0", "clear")]
    svc2.close()


def test_days_of_service_keep_bounded_duplicate_memories_and_restart_cleanly(make_config):
    """Three days of alerts, a report every ten minutes, each sent twice: duplicates are
    still refused and published changes not repeated, while the report ids and published
    change keys the service remembers stay within their windows (lateness, one day)."""
    from airwarn.serve.auth import Principal
    from airwarn.serve.service import PUBLISHED_MEMORY_S

    who = Principal("t", "sensor", None)
    svc = Service(make_config(snapshot_every_s=3600.0))
    n, every = 3 * 144, 600.0
    for i in range(n):
        t = T0 + i * every
        res = svc.ingest([(1, report(i, t + 1)), (2, report(i, t + 2))], who)  # sent twice
        assert len(res.accepted) == 1 and res.ignored[0]["reason"] == "duplicate"
        assert [e["state"] for e in svc.tick(t + 5)] == ["alert"]
        assert [e["state"] for e in svc.tick(t + 100)] == ["clear"]
    assert svc.log.count("alert") == 2 * n and svc.stats["duplicate"] == n
    assert len(svc._front_seen) <= 2
    assert len(svc.pipe.ingestor._seen) <= 2
    per_day = 2 * PUBLISHED_MEMORY_S / every  # alert and clear per report
    assert per_day < len(svc._published) <= 2 * per_day < 2 * n
    svc.close()
    svc2 = Service(make_config(snapshot_every_s=3600.0))  # a restart publishes nothing again
    assert svc2.stats["recovered_unpublished"] == 0 and svc2.stats["recovery_mismatches"] == 0
    assert svc2.log.count("alert") == 2 * n and svc2.zone_states() == []
    res = svc2.ingest([(1, report(n - 1, T0 + (n - 1) * every + 2))], who)
    assert res.ignored[0]["reason"] == "duplicate"
    svc2.close()
