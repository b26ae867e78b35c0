"""CAP 1.2 output of the service: msgType chain, references, official XSD, Google profile, Atom."""

from __future__ import annotations

from fastapi.testclient import TestClient
from lxml import etree

from airwarn.contracts import AlertChange
from airwarn.publish.cap import check_google_profile, validate_cap
from airwarn.serve import create_app

from .conftest import T0

CAP = "{urn:oasis:names:tc:emergency:cap:1.2}"
ATOM = "{http://www.w3.org/2005/Atom}"


def test_alert_update_cancel_chain_validates(make_config, shared_data):
    xsd = shared_data / "cap_1_2" / "CAP-v1.2.xsd"
    app = create_app(make_config())
    with TestClient(app) as client:
        svc = app.state.service
        seq = [
            AlertChange(T0 + 5, "Z2", "pre_alert", "drone", 900.0, ("T000007",)),
            AlertChange(T0 + 60, "Z2", "alert", "drone", 240.0, ("T000007",)),
            AlertChange(T0 + 600, "Z2", "clear"),
        ]
        events = []
        for c in seq:
            with svc.lock:
                events += svc._publish_changes(c.t, [c], tick=True)
        assert [e["msg_type"] for e in events] == ["Alert", "Update", "Cancel"]
        feed = etree.fromstring(client.get("/cap/feed.atom").content)
        links = [e.find(f"{ATOM}link").get("href") for e in feed.iter(f"{ATOM}entry")]
        assert len(links) == 3
        msgs = {}
        for e in events:
            r = client.get(e["cap_url"].replace(svc.config.base_url, ""))
            assert r.status_code == 200 and r.headers["content-type"].startswith(
                "application/cap+xml"
            )
            validate_cap(r.content, xsd=xsd)
            assert check_google_profile(r.content) == []
            msgs[e["msg_type"]] = etree.fromstring(r.content)
        first = msgs["Alert"].findtext(f"{CAP}identifier")
        upd = msgs["Update"].findtext(f"{CAP}references")
        can = msgs["Cancel"].findtext(f"{CAP}references")
        assert first in upd and first in can
        assert msgs["Update"].findtext(f"{CAP}identifier") in can
        poly = msgs["Alert"].find(f"{CAP}info/{CAP}area/{CAP}polygon").text.split()
        assert poly[0] == poly[-1] and len(poly) >= 4
        assert msgs["Alert"].find(f"{CAP}info/{CAP}expires") is not None
        assert len(msgs["Alert"].findtext(f"{CAP}info/{CAP}headline")) < 140


def test_missing_cap_rows_are_rebuilt_after_crash(make_config):
    from airwarn.serve import Service

    svc = Service(make_config())
    c = AlertChange(T0 + 5, "Z0", "alert", "cruise", 120.0)
    with svc.lock:
        ev = svc._publish_changes(c.t, [c], tick=True)[0]
    # simulate a crash between logging the change and storing its CAP message
    svc.log.execute("DELETE FROM cap")
    svc.close()
    svc2 = Service(make_config())
    xml = svc2.cap.get(ev["cap"])
    assert xml is not None
    validate_cap(xml)
    svc2.close()
