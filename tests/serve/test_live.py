"""The service on a real loopback socket: SSE, WebSocket, webhooks, the alerts-in-ua client."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from airwarn.serve import create_app
from airwarn.serve.auth import Principal
from airwarn.serve.webhooks import verify_signature

from .conftest import ADMIN_TOKEN, T0, LiveServer, free_port, report

WHO = Principal("test", "sensor", None)


def read_sse(resp, want: int, types=("alert",)) -> list[dict]:
    """Read SSE events of the given types from a streaming response until ``want`` arrived."""
    out, data = [], None
    for line in resp.iter_lines():
        if line.startswith("data: "):
            data = json.loads(line[6:])
        elif line == "" and data is not None:
            if data.get("type") in types:
                out.append(data)
                if len(out) >= want:
                    return out
            data = None
    return out


def wait_for(pred, what: str, n: int = 500):
    for _ in range(n):
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def live(make_config):
    app = create_app(make_config())
    with LiveServer(app) as srv:
        yield srv, app.state.service


def test_sse_delivers_alert_changes_and_resumes_from_last_event_id(live):
    srv, svc = live
    with httpx.Client(base_url=srv.url, timeout=10) as c:
        with c.stream("GET", "/api/v1/stream") as resp:
            assert resp.headers["content-type"].startswith("text/event-stream")
            wait_for(lambda: len(svc.bus) == 1, "subscriber")
            svc.ingest([(1, report(1, T0 + 1))], WHO)
            svc.tick(T0 + 5)
            got = read_sse(resp, 1)
        assert (got[0]["zone"], got[0]["state"], got[0]["msg_type"]) == ("Z0", "alert", "Alert")
        first_id = got[0]["id"]
        svc.tick(T0 + 100)  # clear while nobody listens
        # a reconnecting client gets what it missed from the log
        with c.stream(
            "GET", "/api/v1/stream", headers={"Last-Event-ID": str(first_id)}, params={"once": True}
        ) as resp:
            missed = read_sse(resp, 1)
        assert [(e["zone"], e["state"]) for e in missed] == [("Z0", "clear")]


def test_websocket_stream(live):
    import asyncio

    import websockets

    srv, svc = live

    async def run():
        async with websockets.connect(srv.url.replace("http", "ws") + "/api/v1/ws") as ws:
            snap = json.loads(await ws.recv())
            assert snap["type"] == "snapshot"
            await asyncio.to_thread(svc.ingest, [(1, report(1, T0 + 1, 50.6, 30.6))], WHO)
            await asyncio.to_thread(svc.tick, T0 + 5)
            while True:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if ev["type"] == "alert":
                    return ev

    ev = asyncio.run(run())
    assert (ev["zone"], ev["state"]) == ("Z3", "alert")


def test_webhook_signed_and_retried(live):
    srv, svc = live
    got: list[tuple[dict, bytes]] = []
    calls = {"n": 0}

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            calls["n"] += 1
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if calls["n"] == 1:  # first attempt fails: the service must retry
                self.send_response(503)
                self.end_headers()
                return
            got.append((dict(self.headers), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    port = free_port()
    hs = HTTPServer(("127.0.0.1", port), Hook)
    th = threading.Thread(target=hs.serve_forever, daemon=True)
    th.start()
    try:
        secret = "webhook-secret-0123456789"
        svc.webhooks.backoff_s = 0.05
        r = httpx.post(
            f"{srv.url}/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{port}/hook", "secret": secret},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert r.status_code == 200
        svc.ingest([(1, report(1, T0 + 1))], WHO)
        svc.tick(T0 + 5)
        wait_for(lambda: got, "webhook delivery")
        headers, body = got[0]
        h = {k.lower(): v for k, v in headers.items()}
        assert verify_signature(secret, h["x-airwarn-timestamp"], body, h["x-airwarn-signature"])
        assert not verify_signature(
            "other-secret-xxxxxxxx", h["x-airwarn-timestamp"], body, h["x-airwarn-signature"]
        )
        ev = json.loads(body)
        assert (ev["zone"], ev["state"]) == ("Z0", "alert") and calls["n"] == 2
    finally:
        hs.shutdown()


def test_alerts_in_ua_client_reads_active_alerts(live):
    alerts_in_ua = pytest.importorskip("alerts_in_ua")
    srv, svc = live
    svc.ingest([(1, report(1, T0 + 1, 50.45, 30.45)), (2, report(2, T0 + 1, 50.6, 30.6))], WHO)
    svc.tick(T0 + 5)
    client = alerts_in_ua.Client(token="any-token")
    client.base_url = srv.url + "/v1/"  # point the unmodified client at this server
    active = client.get_active_alerts(use_cache=False)
    assert sorted(a.location_uid for a in active) == ["Z0", "Z3"]
    by_title = {a.location_title: a for a in active}
    assert by_title["Zone 0"].location_oblast == "м. Київ" and by_title["Zone 0"].is_red()
    assert by_title["Zone 3"].location_oblast_uid == 14
    assert active.get_last_updated_at() is not None
    # cached request: Last-Modified / If-Modified-Since round trip
    assert len(client.get_active_alerts()) == 2
    statuses = client.get_air_raid_alert_statuses()
    st = {s.uid: s.status for s in statuses}
    assert st[31] == "partly" and st[14] == "partly"
    assert 8 not in st  # oblasts outside the deployment have no data (" ")
    by_oblast = client.get_air_raid_alert_statuses_by_oblast()
    assert {o.location_title for o in by_oblast.get_partly_active_alert_oblasts()} == {
        "м. Київ",
        "Київська область",
    }
    one = client.get_air_raid_alert_status(31, include_alert_level=True)
    assert one.is_partly_active()
