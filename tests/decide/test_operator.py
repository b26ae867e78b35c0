"""Operator control: manual alert, extend, cancel (zones and regions), the automatic policy
respecting them, and the append-only audit log."""

from __future__ import annotations

import json

import pytest

from airwarn.contracts import RecordError
from airwarn.decide import AuditLog, Decider, OperatorAction

TICK = 5.0


def quiet(dec, mk, t0, n):
    out = []
    for k in range(n):
        t = t0 + k * TICK
        out += dec.step(t, mk.threats(t, []), mk.tracks(t, []), mk.health(t))
    return out


def test_manual_region_alert_holds_until_expiry_then_clears(zones, policy, mk, tmp_path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    dec = Decider(zones, policy, audit=log)
    t = mk.T0
    act = OperatorAction("alert", "op.kyiv", "MiG-31K airborne", t, regions=("R2",), duration_s=600)
    ch = dec.operator(act)
    assert [(c.zone, c.state, c.cls) for c in ch] == [
        ("D", "alert", "unknown"),
        ("E", "alert", "unknown"),
    ]
    assert not dec.idle()
    ch = quiet(dec, mk, t + TICK, 200)
    # the automatic policy (no threats) does not clear it before expiry
    assert [(c.zone, c.state, c.t) for c in ch] == [
        ("D", "clear", t + 600.0),
        ("E", "clear", t + 600.0),
    ]
    assert dec.idle()
    recs = list(AuditLog.records(tmp_path / "audit.jsonl"))
    assert recs[0]["who"] == "op.kyiv" and recs[0]["why"] == "MiG-31K airborne"
    assert recs[0]["t"] == t and recs[0]["action"] == "alert" and recs[0]["until"] == t + 600.0
    assert recs[0]["affected"] == ["D", "E"] and recs[0]["regions"] == ["R2"]


def test_extend_keeps_an_automatic_alert_past_its_hold(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    rows = [(0, 1, "drone", 0.5, 0.0, 60.0, 90.0)]
    trk = [(1, 0, 0, 50, 0, "drone", True)]
    assert dec.step(t, mk.threats(t, rows), mk.tracks(t, trk), mk.health(t))[0].state == "alert"
    # extending a zone that is not under alert changes nothing (and is logged as such)
    assert (
        dec.operator(OperatorAction("extend", "op", "x", t + 1, zones=("D",), duration_s=60)) == []
    )
    assert dec.audit.items[-1]["affected"] == [] and dec.state[3] == 0
    assert (
        dec.operator(
            OperatorAction("extend", "op", "debris", t + 1, zones=("A", "D"), duration_s=1200)
        )
        == []
    )
    ch = quiet(dec, mk, t + TICK, 300)
    # drone hold would clear at t + 300; the extension holds it to t + 1 + 1200
    assert [(c.zone, c.state) for c in ch] == [("A", "clear")]
    assert ch[0].t == t + TICK * 241  # first tick >= t + 1201
    assert dec.audit.items[-1]["affected"] == ["A"]


def test_cancel_suppresses_known_threat_but_not_new_ones(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    trk = [(1, 0, 0, 50, 0, "drone", True), (2, 0, 0, 50, 0, "drone", True)]
    r1 = [(0, 1, "drone", 0.5, 0.0, 60.0, 90.0)]
    dec.step(t, mk.threats(t, r1), mk.tracks(t, trk), mk.health(t))
    ch = dec.operator(OperatorAction("cancel", "op.lviv", "friendly aircraft", t + 2, zones=("A",)))
    assert [(c.zone, c.state) for c in ch] == [("A", "clear")]
    # the same threat does not re-alert the zone
    for k in range(1, 20):
        tk = t + k * TICK
        assert dec.step(tk, mk.threats(tk, r1), mk.tracks(tk, trk), mk.health(tk)) == []
    # a new track does
    tk = t + 20 * TICK
    ch = dec.step(
        tk,
        mk.threats(tk, r1 + [(0, 2, "drone", 0.5, 0.0, 60.0, 90.0)]),
        mk.tracks(tk, trk),
        mk.health(tk),
    )
    assert [(c.zone, c.state, c.tracks) for c in ch] == [("A", "alert", ("T000001", "T000002"))]
    rec = dec.audit.items[-1]
    assert (
        rec["action"] == "cancel" and rec["who"] == "op.lviv" and rec["why"] == "friendly aircraft"
    )
    assert rec["suppress_until"] == t + 2 + 1800.0


def test_cancel_overridden_by_higher_class_and_expires(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    r1 = [(0, 1, "drone", 0.5, 0.0, 60.0, 90.0)]
    trk = [(1, 0, 0, 50, 0, "drone", True)]
    dec.step(t, mk.threats(t, r1), mk.tracks(t, trk), mk.health(t))
    dec.operator(OperatorAction("cancel", "op", "false track", t + 1, zones=("A",)))
    t1 = t + TICK
    assert dec.step(t1, mk.threats(t1, r1), mk.tracks(t1, trk), mk.health(t1)) == []
    # the same track reclassified as a cruise missile alerts again
    rc = [(0, 1, "cruise", 0.5, 0.0, 60.0, 90.0)]
    tc = [(1, 0, 0, 250, 0, "cruise", True)]
    t2 = t + 2 * TICK
    ch = dec.step(t2, mk.threats(t2, rc), mk.tracks(t2, tc), mk.health(t2))
    assert [(c.state, c.cls) for c in ch] == [("alert", "cruise")]
    # suppression runs out: a fresh decider, cancel, then the same threat after 1800 s
    dec = Decider(zones, policy)
    dec.step(t, mk.threats(t, r1), mk.tracks(t, trk), mk.health(t))
    dec.operator(OperatorAction("cancel", "op", "false track", t, zones=("A",)))
    t3 = t + 1800.0 - TICK
    assert dec.step(t3, mk.threats(t3, r1), mk.tracks(t3, trk), mk.health(t3)) == []
    t4 = t + 1800.0
    assert [
        c.state for c in dec.step(t4, mk.threats(t4, r1), mk.tracks(t4, trk), mk.health(t4))
    ] == ["alert"]


def test_manual_alert_then_cancel(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    dec.operator(OperatorAction("alert", "op", "drill", t, zones=("B",), cls="cruise"))
    ch = dec.operator(OperatorAction("cancel", "op", "drill over", t + 30, zones=("B",)))
    assert [(c.zone, c.state, c.t) for c in ch] == [("B", "clear", t + 30)]
    assert quiet(dec, mk, t + 35, 5) == [] and dec.idle()


def test_operator_action_validation(zones, policy) -> None:
    dec = Decider(zones, policy)
    with pytest.raises(RecordError, match="zones"):
        dec.operator(OperatorAction("alert", "op", "x", 1.0, zones=("nope",)))
    with pytest.raises(RecordError, match="regions"):
        dec.operator(OperatorAction("alert", "op", "x", 1.0, regions=("R9",)))
    with pytest.raises(RecordError, match="who"):
        OperatorAction("alert", "", "x", 1.0, zones=("A",))
    with pytest.raises(RecordError, match="why"):
        OperatorAction.parse({"action": "alert", "who": "op", "t": 1.0, "zones": ["A"]})
    with pytest.raises(RecordError, match="action"):
        OperatorAction.parse(
            {"action": "launch", "who": "op", "why": "x", "t": 1.0, "zones": ["A"]}
        )
    with pytest.raises(RecordError, match="duration_s"):
        OperatorAction("alert", "op", "x", 1.0, zones=("A",), duration_s=-5)
    a = OperatorAction.parse({"action": "alert", "who": "op", "why": "x", "t": 1, "regions": "R1"})
    assert a.regions == ("R1",) and a.t == 1.0
    assert OperatorAction.parse(a.to_json()) == a
    # a rejected action is not logged
    assert dec.audit.items == []


def test_audit_log_is_append_only_and_durable(zones, policy, tmp_path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(json.dumps({"seq": 1, "who": "earlier", "why": "kept"}) + "\n")
    with AuditLog(path) as log:
        dec = Decider(zones, policy, audit=log)
        dec.operator(OperatorAction("alert", "alice", "radar track", 10.0, zones=("A",)))
        dec.operator(OperatorAction("cancel", "bob", "all clear from HQ", 20.0, zones=("A",)))
    with AuditLog(path) as log:
        Decider(zones, policy, audit=log).operator(
            OperatorAction("alert", "carol", "observer report", 30.0, zones=("C",))
        )
    recs = list(AuditLog.records(path))
    assert [r["seq"] for r in recs] == [1, 2, 3, 4]
    assert [(r["who"], r["why"]) for r in recs] == [
        ("earlier", "kept"),
        ("alice", "radar track"),
        ("bob", "all clear from HQ"),
        ("carol", "observer report"),
    ]
    assert [r.get("t") for r in recs[1:]] == [10.0, 20.0, 30.0]
    assert all("logged_at" in r for r in recs[1:])
    assert recs[2]["changed"] == ["A"]
