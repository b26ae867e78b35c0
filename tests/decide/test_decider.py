"""Known-answer tests of the zone state machine: transitions, holds, hysteresis, lead time,
ballistic, classes and track labels, lost tracks, degraded mode."""

from __future__ import annotations

import numpy as np

from airwarn.decide import Decider

TICK = 5.0


def drive(dec, mk, seq):
    """seq: list of (t, threat rows, track rows, sensors-or-None); return all changes."""
    out = []
    for t, rows, trows, sensors in seq:
        out += dec.step(t, mk.threats(t, rows), mk.tracks(t, trows), mk.health(t, sensors))
    return out


def approach(mk, zone, eta0, *, track=1, cls="drone", p=0.3, t0=None, n=None, after=0):
    """A threat whose p10 ETA to ``zone`` falls 5 s a tick from eta0 to 0, then ``after`` s of nothing."""
    t0 = mk.T0 if t0 is None else t0
    seq = []
    n = int(eta0 // TICK) + 1 if n is None else n
    for k in range(n):
        t = t0 + k * TICK
        eta = eta0 - k * TICK
        seq.append(
            (
                t,
                [(zone, track, cls, p, 0.0, eta, eta + 60.0)],
                [(track, 0, 0, 50, 0, cls, True)],
                None,
            )
        )
    t_end = t0 + n * TICK
    for k in range(int(after // TICK)):
        seq.append((t_end + k * TICK, [], [], None))
    return seq


def states(changes, zone):
    return [(c.t, c.state) for c in changes if c.zone == zone]


def test_clear_pre_alert_alert_clear(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    assert dec.idle()
    seq = approach(mk, 0, 2000.0, after=700.0)
    ch = drive(dec, mk, seq)
    s = states(ch, "A")
    assert [x[1] for x in s] == ["pre_alert", "alert", "pre_alert", "clear"]
    t_pre, t_alert, t_step_down, t_clear = (x[0] for x in s)
    # pre-alert as soon as the p10 ETA is within the 1800 s pre-alert horizon
    assert t_pre == mk.T0 + 200.0  # eta 1800
    # alert when eta_p10 <= shelter 60 + tick 5 + latency 20 + margin 120 = 205 s
    assert t_alert == mk.T0 + (2000.0 - 205.0)
    # support ends when the pairs vanish (after eta 0); the drone alert holds 300 s, then the
    # pre-alert hold (600 s) runs out
    last_support = mk.T0 + 2000.0
    assert t_step_down == last_support + 300.0
    assert t_clear == last_support + 600.0
    assert dec.idle()
    pre = next(c for c in ch if c.state == "pre_alert")
    alert = next(c for c in ch if c.state == "alert")
    assert pre.cls == alert.cls == "drone" and alert.tracks == ("T000001",)
    assert alert.eta_s == 205.0


def test_alert_starts_at_least_shelter_before_eta(zones, policy, mk) -> None:
    for zi, shelter in ((0, 60.0), (1, 90.0), (2, 300.0)):
        for eta0 in (1003.0, 1001.0, 999.5, 997.0):
            dec = Decider(zones, policy)
            ch = drive(dec, mk, approach(mk, zi, eta0))
            t_arr = mk.T0 + eta0
            first = next(c for c in ch if c.state == "alert")
            assert first.t <= t_arr - shelter - policy.tick_s - 20.0, (zi, eta0)
            assert first.eta_s >= shelter


def test_ballistic_hold_is_longer_and_alerts_at_first_confirmed_track(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    rows = [(1, 7, "ballistic", 0.3, 0.2, 280.0, 300.0)]
    # unconfirmed: nothing
    assert (
        dec.step(
            t,
            mk.threats(t, rows),
            mk.tracks(t, [(7, 0, 0, 900, 0, "ballistic", False)]),
            mk.health(t),
        )
        == []
    )
    t += TICK
    ch = dec.step(
        t, mk.threats(t, rows), mk.tracks(t, [(7, 0, 0, 900, 0, "ballistic", True)]), mk.health(t)
    )
    # ETA 280 s is beyond the 235 s horizon of zone B, but ballistic alerts at once
    assert [(c.zone, c.state, c.cls) for c in ch] == [("B", "alert", "ballistic")]
    t_last = t
    seq = [(t + k * TICK, [], [], None) for k in range(1, 130)]
    ch = drive(dec, mk, seq)
    assert states(ch, "B") == [(t_last + 600.0, "clear")]


def test_ballistic_path_zones_wait_for_their_eta(zones, policy, mk) -> None:
    """A ballistic track alerts at once only the zones it may strike (any impact sample);
    a zone it only flies over (p_impact 0) is alerted when its ETA enters the horizon."""
    trk = [(7, 0, 0, 900, 0, "ballistic", True)]
    seq = [
        (
            mk.T0 + k * TICK,
            [
                (4, 7, "ballistic", 0.3, 0.004, 600.0 - 5.0 * k, 620.0),  # E: impact area
                (1, 7, "ballistic", 0.9, 0.0, 400.0 - 5.0 * k, 420.0),  # B: under the path
            ],
            trk,
            None,
        )
        for k in range(40)
    ]
    ch = drive(Decider(zones, policy), mk, seq)
    first = {c.zone: c.t for c in ch if c.state == "alert"}
    assert first["E"] == mk.T0
    # B: shelter 90 + tick 5 + latency 20 + margin 120 = 235 s horizon, ETA 400 - 5k
    assert first["B"] == mk.T0 + (400.0 - 235.0)


def test_hysteresis_no_flicker(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    seq = []
    for k in range(200):
        t = mk.T0 + k * TICK
        p = 0.06 if k % 2 == 0 else 0.035  # around alert_p 0.05, above keep 0.025
        seq.append(
            (t, [(0, 1, "drone", p, 0.0, 100.0, 150.0)], [(1, 0, 0, 50, 0, "drone", True)], None)
        )
    ch = drive(dec, mk, seq)
    assert [c.state for c in ch] == ["alert"]
    # a clear zone whose p oscillates just below the threshold never alerts
    dec = Decider(zones, policy)
    seq = []
    for k in range(200):
        t = mk.T0 + k * TICK
        p = 0.049 if k % 2 == 0 else 0.03
        seq.append(
            (t, [(0, 1, "drone", p, 0.0, 100.0, 150.0)], [(1, 0, 0, 50, 0, "drone", True)], None)
        )
    ch = drive(dec, mk, seq)
    assert "alert" not in {c.state for c in ch}
    # ETA oscillating around the horizon edge (205 s) does not flicker either
    dec = Decider(zones, policy)
    seq = []
    for k in range(200):
        t = mk.T0 + k * TICK
        eta = 200.0 if k % 2 == 0 else 250.0  # inside, then within keep_margin_s of the edge
        seq.append(
            (t, [(0, 1, "drone", 0.3, 0.0, eta, eta + 50)], [(1, 0, 0, 50, 0, "drone", True)], None)
        )
    assert [c.state for c in drive(dec, mk, seq)] == ["alert"]


def test_alert_steps_down_to_pre_alert_after_hold(zones, policy, mk) -> None:
    """A drone that turns away: alert support ends but a pre-alert remains plausible."""
    dec = Decider(zones, policy)
    seq = [
        (
            mk.T0 + k * TICK,
            [(0, 1, "drone", 0.3, 0.0, 100.0, 200.0)],
            [(1, 0, 0, 50, 0, "drone", True)],
            None,
        )
        for k in range(5)
    ]
    t_turn = mk.T0 + 5 * TICK
    seq += [
        (
            t_turn + k * TICK,
            [(0, 1, "drone", 0.3, 0.0, 1000.0, 1200.0)],
            [(1, 0, 0, 50, 0, "drone", True)],
            None,
        )
        for k in range(100)
    ]
    ch = drive(dec, mk, seq)
    assert states(ch, "A") == [(mk.T0, "alert"), (mk.T0 + 4 * TICK + 300.0, "pre_alert")]


def test_most_dangerous_class_escalation_and_track_labels(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    trs = [
        (1, 0, 0, 50, 0, "drone", True),
        (2, 0, 0, 200, 0, "cruise", True),
        (3, 0, 0, 50, 0, "drone", True),
    ]
    rows = [(0, 3, "drone", 0.5, 0.0, 50, 80), (0, 1, "drone", 0.2, 0.0, 90, 100)]
    ch = dec.step(t, mk.threats(t, rows), mk.tracks(t, trs), mk.health(t))
    assert ch[0].cls == "drone" and ch[0].tracks == ("T000001", "T000003") and ch[0].eta_s == 50.0
    t += TICK
    rows.append((0, 2, "cruise", 0.1, 0.0, 60, 70))
    ch = dec.step(t, mk.threats(t, rows), mk.tracks(t, trs), mk.health(t))
    assert [(c.state, c.cls) for c in ch] == [("alert", "cruise")]
    assert ch[0].tracks == ("T000001", "T000002", "T000003")
    # the episode class does not de-escalate while the alert lasts
    t += TICK
    ch = dec.step(t, mk.threats(t, rows[:2]), mk.tracks(t, trs), mk.health(t))
    assert ch == []


def test_lost_track_still_alerts_and_unconfirmed_does_not(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    rows = [(0, 5, "drone", 0.4, 0.0, 60.0, 90.0, True), (1, 6, "drone", 0.4, 0.0, 60.0, 90.0)]
    ch = dec.step(
        t, mk.threats(t, rows), mk.tracks(t, [(6, 0, 0, 50, 0, "drone", False)]), mk.health(t)
    )
    assert [(c.zone, c.state) for c in ch] == [("A", "alert")]


def test_degraded_mode_widens_never_silences(zones, policy, mk) -> None:
    """A threat 12 km short of zone E at 50 m/s (p10 ETA 230 s, beyond E's 205 s horizon)."""
    trk = [(1, 28_000.0, 0.0, 50.0, 0.0, "cruise", True)]
    rows = [(4, 1, "cruise", 0.03, 0.0, 230.0, 240.0), (1, 1, "cruise", 0.5, 0.0, 10.0, 20.0)]
    healthy = [(0.0, 0.0, 5000.0, True), (40_000.0, 0.0, 8000.0, True)]
    dead = [(0.0, 0.0, 5000.0, True), (40_000.0, 0.0, 8000.0, False)]

    def run(sensors, threat_rows):
        dec = Decider(zones, policy)
        out = []
        for k in range(60):  # past the grace period
            t = mk.T0 + k * TICK
            out += dec.step(t, mk.threats(t, threat_rows), mk.tracks(t, trk), mk.health(t, sensors))
        return dec, {c.zone for c in out if c.state == "alert"}

    dec_ok, a_ok = run(healthy, rows)
    dec_dead, a_dead = run(dead, rows)
    assert a_ok == {"B"}  # zone E: p 0.03 < 0.05 and ETA beyond horizon
    assert a_dead >= a_ok and "E" in a_dead  # widened: lower threshold, longer horizon
    assert list(dec_dead.degraded_tracks) == [1] and dec_ok.degraded_tracks.size == 0
    # with no predicted pair at all for E, the dead coverage on the path still alerts it
    _, a_dead2 = run(dead, rows[1:])
    assert "E" in a_dead2
    # the silent post never sent heartbeats (not monitored): its silence is no failure
    import dataclasses

    dec = Decider(zones, policy)
    alerted = set()
    for k in range(60):
        t = mk.T0 + k * TICK
        h = dataclasses.replace(mk.health(t, dead), monitored=np.array([True, False]))
        alerted |= {c.zone for c in dec.step(t, mk.threats(t, rows), mk.tracks(t, trk), h)
                    if c.state == "alert"}  # fmt: skip
    assert alerted == a_ok and dec.degraded_tracks.size == 0
    # dead coverage on the path but no zone near it: degraded, nothing added, no crash
    dec = Decider(zones, policy)
    far = [(1, 28_000.0, 90_000.0, 50.0, 0.0, "drone", True)]
    for k in range(60):
        t = mk.T0 + k * TICK
        assert (
            dec.step(
                t,
                mk.threats(t, []),
                mk.tracks(t, far),
                mk.health(t, [(40_000.0, 90_000.0, 8000.0, False)]),
            )
            == []
        )
    assert list(dec.degraded_tracks) == [1]
    # a dead sensor away from the path changes nothing
    _, a_far = run([(0.0, 0.0, 5000.0, True), (0.0, 50_000.0, 8000.0, False)], rows)
    assert a_far == a_ok


def test_degraded_widening_is_per_class(zones, policy, mk) -> None:
    """A degraded track's own pairs get lower thresholds and a longer horizon per class (not
    for drones by default); the zones near the dead stretch of its path are alerted for all."""
    dead = [(0.0, 0.0, 5000.0, True), (40_000.0, 0.0, 8000.0, False)]

    def alerted(cls: str) -> set[str]:
        trk = [(1, 28_000.0, 0.0, 50.0, 0.0, cls, True)]
        rows = [(2, 1, cls, 0.03, 0.0, 100.0, 150.0)]  # zone C: p below alert_p 0.05
        dec = Decider(zones, policy)
        ch = drive(dec, mk, [(mk.T0 + k * TICK, rows, trk, dead) for k in range(60)])
        assert list(dec.degraded_tracks) == [1]
        return {c.zone for c in ch if c.state == "alert"}

    assert policy.decide["by_class"]["drone"]["degraded_p_factor"] == 1.0
    assert {"C", "E"} <= alerted("cruise")  # 0.03 >= 0.5 x 0.05; E on the dead stretch
    got = alerted("drone")
    assert "E" in got and "C" not in got


def test_a_dead_sensor_another_of_its_kind_still_covers_is_no_gap(zones, policy, mk) -> None:
    """The sensor out near zone E is backed by a live one of the same kind covering the same
    ground: the track is still seen there, so nothing is widened; a live sensor of another
    kind (an acoustic post for a radar) is no backup."""
    trk = [(1, 28_000.0, 0.0, 50.0, 0.0, "cruise", True)]
    dead = (40_000.0, 0.0, 8000.0, False)
    backup = (42_000.0, 0.0, 12_000.0, True)

    def run(sensors, backup_kind=None):
        dec = Decider(zones, policy)
        out = set()
        for k in range(60):
            t = mk.T0 + k * TICK
            h = mk.health(t, sensors)
            if backup_kind is not None:
                h.kind[-1] = backup_kind
            ch = dec.step(t, mk.threats(t, []), mk.tracks(t, trk), h)
            out |= {c.zone for c in ch if c.state == "alert"}
        return dec, out

    dec, got = run([dead])
    assert got == {"E"} and list(dec.degraded_tracks) == [1]
    dec, got = run([dead, backup])
    assert got == set() and dec.degraded_tracks.size == 0
    dec, got = run([dead, backup], backup_kind=0)
    assert got == {"E"}


def test_degraded_path_of_a_falling_track_ends_on_the_ground(zones, policy, mk) -> None:
    """The dead stretch of a track's path is searched only until the track can reach the
    ground: a cruise missile flying level 28 km from dead zone E alerts E; a rocket read
    as a cruise missile, diving at 150 m/s from 1.5 km (10 s, 2.5 km), or a ballistic
    track falling from 2 km at 50 m/s (16 s, 4 km), does not."""
    dead = [(0.0, 0.0, 5000.0, True), (40_000.0, 0.0, 8000.0, False)]

    def alerted(cls: str, z: float, vz: float) -> set[str]:
        dec = Decider(zones, policy)
        out = set()
        for k in range(60):
            t = mk.T0 + k * TICK
            trk = mk.tracks(t, [(1, 28_000.0, 0.0, 250.0, 0.0, cls, True)])
            trk.x[0, 2], trk.x[0, 5] = z, vz
            ch = dec.step(t, mk.threats(t, []), trk, mk.health(t, dead))
            out |= {c.zone for c in ch if c.state == "alert"}
        return out

    assert alerted("cruise", 1500.0, 0.0) == {"E"}
    assert alerted("cruise", 1500.0, -150.0) == set()
    assert alerted("ballistic", 2000.0, -50.0) == set()
    assert alerted("ballistic", 30_000.0, 0.0) == {"E"}  # 78 s aloft: 20 km on


def test_never_heard_sensors_are_not_dead_during_grace(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    h = mk.health(t, [(40_000.0, 0.0, 8000.0, False)])
    h.last_seen[:] = -np.inf
    trk = mk.tracks(t, [(1, 28_000.0, 0.0, 50.0, 0.0, "drone", True)])
    assert dec.step(t, mk.threats(t, []), trk, h) == []
    assert dec.degraded_tracks.size == 0
    t2 = t + 200.0
    h.t = t2
    ch = dec.step(
        t2, mk.threats(t2, []), mk.tracks(t2, [(1, 28_000.0, 0.0, 50.0, 0.0, "drone", True)]), h
    )
    assert "E" in {c.zone for c in ch if c.state == "alert"}


def test_vectorised_many_pairs_deterministic(zones, policy, mk) -> None:
    rng = np.random.default_rng(5)
    n = 5000
    rows = list(
        zip(
            rng.integers(0, len(zones), n).tolist(),
            rng.integers(1, 400, n).tolist(),
            rng.choice(["drone", "cruise", "ballistic", "unknown"], n).tolist(),
            rng.uniform(0, 0.2, n).tolist(),
            rng.uniform(0, 0.05, n).tolist(),
            rng.uniform(0, 3000, n).tolist(),
            rng.uniform(3000, 4000, n).tolist(),
            strict=True,
        )
    )
    trs = [(i, 0.0, 0.0, 50.0, 0.0, "drone", True) for i in range(1, 400)]
    outs = []
    for _ in range(2):
        dec = Decider(zones, policy)
        t = mk.T0
        outs.append(
            [c.to_json() for c in dec.step(t, mk.threats(t, rows), mk.tracks(t, trs), mk.health(t))]
        )
    assert outs[0] == outs[1] and len(outs[0]) == len(zones)
    assert all(o["state"] == "alert" for o in outs[0])
    assert all(o["tracks"] == sorted(o["tracks"]) for o in outs[0])


def _override(policy, **kw):
    import copy

    from airwarn.decide.policy import Policy

    d = copy.deepcopy(policy.decide)
    d.update(kw)
    return Policy(policy.tick_s, policy.track_every_s, policy.predict, d, policy.source)


def test_lost_track_alerts_only_for_lost_alert_s(zones, policy, mk) -> None:
    """A track fusion lost at T0 keeps alerting (ghost pairs) for lost_alert_s, then pre-alerts."""
    dec = Decider(zones, _override(policy, lost_alert_s=60.0))
    ch = []
    for k in range(30):
        t = mk.T0 + k * TICK
        rows = [(0, 9, "drone", 0.4, 0.0, 100.0, 150.0, True)]
        ch += dec.step(t, mk.threats(t, rows), mk.tracks(t, []), mk.health(t))
    # alert from T0; support ends after 60 s lost (t > T0 + 60); drone hold 300 s, then pre
    assert states(ch, "A") == [(mk.T0, "alert")]
    ch = drive(
        dec,
        mk,
        [
            (mk.T0 + k * TICK, [(0, 9, "drone", 0.4, 0.0, 100.0, 150.0, True)], [], None)
            for k in range(30, 80)
        ],
    )
    assert states(ch, "A") == [(mk.T0 + 60.0 + 300.0, "pre_alert")]


def test_stale_track_counts_as_lost(zones, policy, mk) -> None:
    dec = Decider(zones, _override(policy, stale_s=30.0, lost_alert_s=0.0))
    t = mk.T0
    trk = mk.tracks(t, [(1, 0, 0, 50, 0, "drone", True)])
    trk.last_update[:] = t - 40.0  # coasting 40 s > stale_s
    rows = [(0, 1, "drone", 0.4, 0.0, 100.0, 150.0)]
    assert [c.state for c in dec.step(t, mk.threats(t, rows), trk, mk.health(t))] == ["pre_alert"]
    trk.last_update[:] = t  # measured again
    t2 = t + TICK
    trk.t = t2
    assert [c.state for c in dec.step(t2, mk.threats(t2, rows), trk, mk.health(t2))] == ["alert"]


def test_retract_hold_when_prediction_moves_away(zones, policy, mk) -> None:
    """Support ends while the track is still measured: retract_hold_s; track gone: hold_s."""
    pol = _override(policy, retract_hold_s=60.0)
    trk = [(1, 0, 0, 50, 0, "drone", True)]
    last = mk.T0 + 3 * TICK
    expect = {
        False: [(mk.T0, "alert"), (last + 60.0, "pre_alert"), (last + 600.0, "clear")],
        True: [(mk.T0, "alert"), (last + 300.0, "pre_alert"), (last + 600.0, "clear")],
    }
    for gone in (False, True):
        dec = Decider(zones, pol)
        seq = [
            (mk.T0 + k * TICK, [(0, 1, "drone", 0.4, 0.0, 100.0, 150.0)], trk, None)
            for k in range(4)
        ]
        seq += [(mk.T0 + k * TICK, [], [] if gone else trk, None) for k in range(4, 200)]
        ch = drive(dec, mk, seq)
        assert states(ch, "A") == expect[gone]


def test_retract_hold_of_the_class_the_track_is_predicted_as_now(zones, policy, mk) -> None:
    """A track first predicted as an unknown air-breather (a long level corridor through A),
    then, still measured, as a falling threat striking E: A's alert is retracted with the
    ballistic retract_hold_s (90 s), not the unknown class's 600 s."""
    bal = policy.decide["by_class"]["ballistic"]["retract_hold_s"]
    assert bal < policy.decide["retract_hold_s"]
    trk = [(1, 0, 0, 250, 0, "unknown", True)]
    last = mk.T0 + 3 * TICK
    ends = {}
    for now in ("unknown", "ballistic"):
        dec = Decider(zones, policy)
        seq = [
            (mk.T0 + k * TICK, [(0, 1, "unknown", 0.4, 0.0, 100.0, 150.0)], trk, None)
            for k in range(4)
        ]
        seq += [
            (mk.T0 + k * TICK, [(4, 1, now, 0.4, 0.4, 900.0, 950.0)], trk, None)
            for k in range(4, 200)
        ]
        ch = drive(dec, mk, seq)
        a = states(ch, "A")
        assert a[0] == (mk.T0, "alert")
        ends[now] = a[1][0]
    assert ends["unknown"] == last + policy.decide["retract_hold_s"]
    assert ends["ballistic"] == last + bal


def test_unknown_track_flying_ballistic_is_decided_as_ballistic(zones, policy, mk) -> None:
    dec = Decider(zones, policy)
    t = mk.T0
    trk = mk.tracks(t, [(7, 0, 0, 900, 0, "unknown", True)])
    trk.x[0, 2] = 40_000.0  # 40 km up
    rows = [(1, 7, "unknown", 0.3, 0.2, 280.0, 300.0)]  # ETA beyond B's horizon
    ch = dec.step(t, mk.threats(t, rows), trk, mk.health(t))
    assert [(c.zone, c.state, c.cls) for c in ch] == [("B", "alert", "ballistic")]
    # the same track low and slow stays an unknown air-breather: pre-alert only
    dec = Decider(zones, policy)
    trk.x[0, 2] = 500.0
    trk.x[0, 3] = 50.0
    ch = dec.step(t, mk.threats(t, rows), trk, mk.health(t))
    assert [(c.zone, c.state, c.cls) for c in ch] == [("B", "pre_alert", "unknown")]


def test_passed_hold_when_the_track_flew_away(zones, policy, mk) -> None:
    """Support ends with the track measured 6 km past zone A: flying away -> passed_hold_s;
    flying back toward it -> retract_hold_s / hold_s as before; another threat still
    pre-alerting the zone -> no shorter hold."""
    pol = _override(policy, retract_hold_s=600.0)
    pol.decide["by_class"]["drone"].update(passed_hold_s=30.0, hold_s=300.0)
    last = mk.T0 + 3 * TICK
    expect = {50.0: last + 30.0, -50.0: last + 300.0}
    for vx, t_pre in expect.items():
        dec = Decider(zones, pol)
        trk = [(1, 6000.0, 0, vx, 0, "drone", True)]
        seq = [
            (mk.T0 + k * TICK, [(0, 1, "drone", 0.4, 0.0, 100.0, 150.0)], trk, None)
            for k in range(4)
        ]
        seq += [(mk.T0 + k * TICK, [], trk, None) for k in range(4, 200)]
        ch = drive(dec, mk, seq)
        assert states(ch, "A")[:2] == [(mk.T0, "alert"), (t_pre, "pre_alert")]
    # track 2 approaching from far keeps A plausible (pre-alert level): the usual hold
    dec = Decider(zones, pol)
    trk = [(1, 6000.0, 0, 50.0, 0, "drone", True), (2, -30000.0, 0, 50.0, 0, "drone", True)]
    far = (0, 2, "drone", 0.4, 0.0, 600.0, 700.0)
    seq = [
        (mk.T0 + k * TICK, [(0, 1, "drone", 0.4, 0.0, 100.0, 150.0), far], trk, None)
        for k in range(4)
    ]
    seq += [(mk.T0 + k * TICK, [far], trk, None) for k in range(4, 30)]
    ch = drive(dec, mk, seq)
    assert states(ch, "A") == [(mk.T0, "alert")]
    # ... unless its arrival is beyond passed_cover_s: the short hold, then its pre-alert
    pol.decide["passed_cover_s"] = 300.0
    ch = drive(Decider(zones, pol), mk, seq)
    assert states(ch, "A") == [(mk.T0, "alert"), (last + 30.0, "pre_alert")]


def one_sensor(t: float, x: float, range_m: float, kind: str = "acoustic", alt_m=None):
    """SensorHealth of one live sensor at (x, 0); ``alt_m``: its antenna height (None: not
    given)."""
    from airwarn.contracts import SENSOR_KIND_CODE, SensorHealth

    return SensorHealth(t=t, x=np.array([x]), y=np.array([0.0]), range_m=np.array([range_m]),
                        kind=np.array([SENSOR_KIND_CODE[kind]]), last_seen=np.array([t]),
                        alive=np.ones(1, bool),
                        alt_m=None if alt_m is None else np.array([alt_m]))  # fmt: skip


def _vanish_first_state(dec, mk, health, cls: str = "drone", vz: float = 0.0) -> str:
    """Track 5 (``cls``, climbing at ``vz``) measured at T0 near (-20 km, 0), coasting 35 s,
    then deleted; its ghost's pairs for zone A (ETA 100 s) follow: zone A's first state."""
    out = []
    for k in range(8):  # measured at T0, then coasting 35 s
        t = mk.T0 + k * TICK
        trk = mk.tracks(t, [(5, -20_000.0 + 50 * k * TICK, 0, 50, 0, cls, True)])
        trk.x[:, 5] = vz
        trk.last_update[:] = mk.T0
        out += dec.step(t, mk.threats(t, []), trk, health(t))
    for k in range(8, 12):  # deleted: ghost pairs for zone A, ETA 100 s
        t = mk.T0 + k * TICK
        rows = [(0, 5, cls, 0.6, 0.0, 100.0, 150.0, True)]
        out += dec.step(t, mk.threats(t, rows), mk.tracks(t, []), health(t))
    first = states(out, "A")[0]
    assert first[0] == mk.T0 + 8 * TICK
    return first[1]


def test_ghost_of_track_vanished_in_acoustic_coverage_pre_alerts_only(zones, policy, mk) -> None:
    """Track 5 coasts 30 s near (-20 km, 0) and is deleted: inside a live acoustic post's
    range its ghost only pre-alerts zone A; outside any post's range the ghost alerts."""
    for post_x, first in ((-20_000.0, "pre_alert"), (-60_000.0, "alert")):
        dec = Decider(zones, policy)
        assert _vanish_first_state(dec, mk, lambda t, x=post_x: one_sensor(t, x, 5000.0)) == first


def test_level_flyer_vanished_in_a_radars_view_pre_alerts_only(zones, policy, mk) -> None:
    """The same inside a live radar's view of a 30 m flyer (mast 25 m: 43 km; a radar
    without a mast height is taken to stand on 5 m: 32 km): its ghost only pre-alerts zone
    A. A radar 60 km off, or 37 km off without a mast height, a missile's track (it falls
    out of view) or a diving one, or vanish_radar off: the ghost alerts."""

    def radar(x, alt=25.0):
        return lambda t: one_sensor(t, x, 200_000.0, kind="radar", alt_m=alt)

    cases = [  # health, class, vz, policy override -> zone A's first state
        (radar(-20_000.0), "drone", 0.0, {}, "pre_alert"),
        (radar(-50_000.0), "cruise", 0.0, {}, "pre_alert"),  # 30 km off
        (radar(-20_000.0, None), "drone", 0.0, {}, "pre_alert"),
        (radar(-55_000.0), "drone", 0.0, {}, "pre_alert"),  # 37-39 km off its path
        (radar(-55_000.0, None), "drone", 0.0, {}, "alert"),
        (radar(-80_000.0), "drone", 0.0, {}, "alert"),
        (radar(-20_000.0), "ballistic", 0.0, {}, "alert"),
        (radar(-20_000.0), "drone", -80.0, {}, "alert"),
        (radar(-20_000.0), "drone", 0.0, {"vanish_radar": False}, "alert"),
    ]
    for health, cls, vz, over, first in cases:
        dec = Decider(zones, _override(policy, **over) if over else policy)
        assert _vanish_first_state(dec, mk, health, cls, vz) == first, (cls, vz, over)


def test_live_track_unheard_in_acoustic_coverage_alerts_no_new_zone(zones, policy, mk) -> None:
    """A confirmed drone track unmeasured for 40 s (> covered_quiet_alert_s) whose dead-
    reckoned path since then lies inside a live acoustic post's range pre-alerts zone A only;
    outside any post's range, measured, or a ballistic track, it alerts."""
    from airwarn.contracts import SensorHealth

    def acoustic(t, x):
        return SensorHealth(t=t, x=np.array([x]), y=np.array([0.0]), range_m=np.array([8000.0]),
                            kind=np.zeros(1, np.int64), last_seen=np.array([t]),
                            alive=np.ones(1, bool))  # fmt: skip

    pol = _override(policy, covered_quiet_alert_s=30.0)
    assert pol.decide["by_class"]["ballistic"]["covered_quiet_alert_s"] == 86_400.0
    t = mk.T0
    cases = [  # post x, quiet s, class, altitude m -> first state of zone A
        (-20_000.0, 40.0, "drone", 500.0, "pre_alert"),
        (-60_000.0, 40.0, "drone", 500.0, "alert"),  # unheard outside coverage: no evidence
        (-20_000.0, 0.0, "drone", 500.0, "alert"),  # measured now
        (-20_000.0, 20.0, "drone", 500.0, "alert"),  # quiet for less than 30 s
        (-20_000.0, 40.0, "drone", 8500.0, "alert"),  # beyond the post's 8 km slant range
        (-26_000.0, 40.0, "drone", 500.0, "pre_alert"),  # path 4-6 km from the post
        (-26_000.0, 40.0, "drone", 5000.0, "alert"),  # ... heard only within 0.8 x 6.2 km
        (-20_000.0, 40.0, "ballistic", 500.0, "alert"),  # class exempt in the policy file
    ]
    for post_x, quiet, cls, alt, first in cases:
        dec = Decider(zones, pol)
        trk = mk.tracks(t, [(5, -20_000.0, 0, 50, 0, cls, True)])
        trk.x[:, 2] = alt
        trk.last_update[:] = t - quiet
        rows = [(0, 5, cls, 0.6, 0.0, 100.0, 150.0)]
        out = dec.step(t, mk.threats(t, rows), trk, acoustic(t, post_x))
        assert states(out, "A") == [(t, first)], (post_x, quiet, cls, alt)


def test_track_that_stays_in_acoustic_coverage_alerts_with_the_covered_margin(
    zones, policy, mk
) -> None:
    """A live drone track whose path for the next covered_ahead_s lies inside live acoustic
    coverage will keep being heard: its alert horizon uses covered_margin_s (set to 30 s)
    instead of margin_s (120 s). Zone A (60 s to shelter) at an arrival 150 s ahead: alerted outside
    coverage (horizon 60 + 5 + 20 + 120 = 205 s), only pre-alerted inside it (115 s)."""
    from airwarn.contracts import SensorHealth

    def acoustic(t, xs):
        n = len(xs)
        return SensorHealth(t=t, x=np.array(xs, float), y=np.zeros(n), range_m=np.full(n, 8000.0),
                            kind=np.zeros(n, np.int64), last_seen=np.full(n, t),
                            alive=np.ones(n, bool))  # fmt: skip

    t = mk.T0
    assert policy.decide["margin_s"] == 120.0 and policy.decide["covered_margin_s"] == 120.0
    same, policy = policy, _override(policy, covered_margin_s=30.0)  # off in the built-in policy
    cases = [  # posts (x, m), lost, policy -> first state of zone A
        ([-15_000.0], False, policy, "pre_alert"),  # path -20 .. -11 km within 6.4 km of a post
        ([-60_000.0], False, policy, "alert"),  # no post near: the full margin
        ([-18_000.0], False, policy, "alert"),  # leaves coverage (at -11.6 km) within 180 s
        ([-18_000.0, -12_000.0], False, policy, "pre_alert"),  # ... unless the next post hears
        ([-15_000.0], True, policy, "alert"),  # a lost track (its ghost) keeps the full margin
        ([-15_000.0], False, same, "alert"),  # covered_margin_s = margin_s: no change
    ]
    for posts, lost, pol, first in cases:
        dec = Decider(zones, pol)
        trk = mk.tracks(t, [(5, -20_000.0, 0, 50, 0, "drone", True)])
        trk.x[:, 2] = 500.0
        rows = [(0, 5, "drone", 0.6, 0.0, 150.0, 200.0, lost, 150.0)]
        out = dec.step(t, mk.threats(t, rows), trk, acoustic(t, posts))
        assert states(out, "A") == [(t, first)], (posts, lost)


def test_track_coasting_below_ground_alerts_no_new_zone(zones, policy, mk) -> None:
    """A ballistic track that fell silent and is dead-reckoned 5 km below ground (the missile
    fell or was destroyed) pre-alerts only; measured, or coasting above ground, it alerts."""
    t = mk.T0
    for alt, quiet, first in ((-5000.0, 20.0, "pre_alert"), (-5000.0, 0.0, "alert"),
                              (20_000.0, 20.0, "alert")):  # fmt: skip
        trk = mk.tracks(t, [(7, -20_000.0, 0, 1000, 0, "ballistic", True)])
        trk.x[:, 2] = alt  # altitude sd 10 m (conftest P = 100 I)
        trk.last_update[:] = t - quiet
        rows = [(0, 7, "ballistic", 0.6, 0.5, 20.0, 30.0)]
        out = Decider(zones, policy).step(t, mk.threats(t, rows), trk, mk.health(t))
        assert states(out, "A") == [(t, first)], (alt, quiet)


def test_missile_that_came_down_or_was_lost_releases_its_zone_after_three_minutes(
    zones, policy, mk
) -> None:
    """Zone A is alerted by ballistic track 7, measured 20 km up until T0 + 15 s. Then, with
    the built-in policy: dead-reckoned below ground (downed or struck; within 30 s of its
    last plot the 90 s retract_hold_s would apply), or only its ghost (a lost track's pairs)
    left, the alert ends 180 s after its last support (the ballistic ended_hold_s and
    lost_hold_s) instead of hold_s (600 s); support that ends with the live track's own pairs
    (a track deleted with no ghost) keeps the 600 s."""
    last = mk.T0 + 3 * TICK
    ball = policy.decide["by_class"]["ballistic"]
    assert ball["hold_s"] == 600.0 and ball["ended_hold_s"] == ball["lost_hold_s"] == 180.0

    def run(after: str) -> list:
        dec = Decider(zones, policy)
        out = []
        for k in range(200):
            t = mk.T0 + k * TICK
            rows = [(0, 7, "ballistic", 0.6, 0.5, 20.0, 30.0)]
            trk = mk.tracks(t, [(7, -20_000.0, 0, 1000, 0, "ballistic", True)])
            trk.x[:, 2] = 20_000.0
            if k > 3 and after == "below":  # coasting, from T0 + 50 s 5 km below ground
                trk.last_update[:] = last
                trk.x[:, 2] = -5000.0 if k >= 10 else 20_000.0  # (altitude sd 10 m)
            elif k > 3 and after == "ghost":  # fusion lost it: its ghost's pairs until T0 + 35
                rows, trk = [(*rows[0], True)] if k < 8 else [], mk.tracks(t, [])
            elif k > 3:  # deleted, no ghost
                rows, trk = [], mk.tracks(t, [])
            out += dec.step(t, mk.threats(t, rows), trk, mk.health(t))
        return states(out, "A")

    assert run("below")[:2] == [(mk.T0, "alert"), (mk.T0 + 45.0 + 180.0, "pre_alert")]
    assert run("ghost")[:2] == [(mk.T0, "alert"), (mk.T0 + 35.0 + 180.0, "pre_alert")]
    assert run("gone")[:2] == [(mk.T0, "alert"), (last + 600.0, "clear")]


def test_new_alert_needs_likely_arrival_within_horizon(zones, policy, mk) -> None:
    # zone A: horizon = 60 shelter + 5 tick + 20 latency + 120 margin = 205 s. A third of
    # the samples reach it (p_reach 0.3); the 10th percentile of those is within the
    # horizon, but fewer than 5% of all samples arrive that early (eta_q 400 s): pre-alert
    def seq(eta_q: float) -> list:
        tr = [(1, 0, 0, 50, 0, "drone", True)]
        return [
            (mk.T0 + k * TICK, [(0, 1, "drone", 0.3, 0.0, 150.0, 600.0, False, eta_q)], tr, None)
            for k in range(3)
        ]

    ch = drive(Decider(zones, policy), mk, seq(400.0))
    assert [s for _, s in states(ch, "A")] == ["pre_alert"]
    ch = drive(Decider(zones, policy), mk, seq(200.0))
    assert [s for _, s in states(ch, "A")] == ["alert"]
    # with use_eta_q off the early ETA of the reaching samples decides, as before
    policy.decide["use_eta_q"] = False
    ch = drive(Decider(zones, policy), mk, seq(400.0))
    assert [s for _, s in states(ch, "A")] == ["alert"]


def test_kept_alert_does_not_need_eta_q(zones, policy, mk) -> None:
    # once alerted, hysteresis keeps the zone while p and the early ETA stay in reach, even
    # when the unconditional quantile drifts beyond the horizon
    dec = Decider(zones, policy)
    tr = [(1, 0, 0, 50, 0, "drone", True)]
    first = [(mk.T0, [(0, 1, "drone", 0.3, 0.0, 150.0, 600.0, False, 150.0)], tr, None)]
    later = [
        (mk.T0 + k * TICK, [(0, 1, "drone", 0.3, 0.0, 150.0, 600.0, False, 900.0)], tr, None)
        for k in range(1, 20)
    ]
    ch = drive(dec, mk, first + later)
    assert [s for _, s in states(ch, "A")] == ["alert"]


def test_ended_hold_when_the_threat_fell_silent_in_acoustic_coverage(zones, policy, mk) -> None:
    """Zone A is alerted by drone track 5, which then goes unheard right beside a live
    acoustic post (most likely downed): the alert ends ended_hold_s after its last support
    instead of hold_s. A second threat still plausible for A keeps the usual hold."""
    from airwarn.contracts import SensorHealth

    def acoustic(t):
        return SensorHealth(t=t, x=np.array([-21_000.0]), y=np.array([0.0]),
                            range_m=np.array([40_000.0]), kind=np.zeros(1, np.int64),
                            last_seen=np.array([t]), alive=np.ones(1, bool))  # fmt: skip

    def run(pol, other: bool):
        dec = Decider(zones, pol)
        out = []
        for k in range(120):
            t = mk.T0 + k * TICK
            trk = mk.tracks(t, [(5, -22_000.0, 0, 50, 0, "drone", True),
                                (6, -90_000.0, 0, 50, 0, "drone", True)])  # fmt: skip
            trk.last_update[0] = min(t, mk.T0 + 3 * TICK)  # measured until T0 + 15 s
            rows = [(0, 5, "drone", 0.6, 0.0, 100.0, 150.0)]
            if other:  # track 6 may reach A in ~20 minutes
                rows.append((0, 6, "drone", 0.3, 0.0, 1200.0, 1500.0))
            out += dec.step(t, mk.threats(t, rows), trk, acoustic(t))
        return states(out, "A")

    # unheard for 30 s (covered_quiet_alert_s, off in the built-in policy) at T0 + 45:
    # alert support ends there
    last = mk.T0 + 40.0
    pol = _override(policy, covered_quiet_alert_s=30.0)
    pol.decide["by_class"]["drone"]["ended_hold_s"] = 7200.0  # off
    assert run(pol, False)[:2] == [(mk.T0, "alert"), (last + 300.0, "pre_alert")]
    pol.decide["by_class"]["drone"]["ended_hold_s"] = 60.0  # the built-in policy's
    assert run(pol, False)[:2] == [(mk.T0, "alert"), (last + 60.0, "pre_alert")]
    assert run(pol, True)[:2] == [(mk.T0, "alert"), (last + 300.0, "pre_alert")]
    pol.decide["ended_cover_s"] = 600.0  # track 6's arrival is beyond it: the short hold
    assert run(pol, True)[:2] == [(mk.T0, "alert"), (last + 60.0, "pre_alert")]


def test_retract_hold_follows_a_track_merged_into_another(zones, policy, mk) -> None:
    """A zone's supporting track merged by fusion into a measured survivor: the support
    ended while its threat is still measured (retract_hold_s), not with the threat gone."""
    pol = _override(policy, retract_hold_s=60.0)
    last = mk.T0 + 3 * TICK
    dec = Decider(zones, pol)
    seq = [
        (
            mk.T0 + k * TICK,
            [(0, 1, "drone", 0.4, 0.0, 100.0, 150.0)],
            [(1, 0, 0, 50, 0, "drone", True)],
        )
        for k in range(4)
    ]
    ch = []
    for t, rows, trows in seq:
        ch += dec.step(t, mk.threats(t, rows), mk.tracks(t, trows), mk.health(t))
    for k in range(4, 200):
        t = mk.T0 + k * TICK
        trk = mk.tracks(t, [(2, 0, 0, 50, 0, "drone", True)])
        if k == 4:
            trk.merged = np.array([[1, 2]], np.int64)  # track 1 merged into track 2
        ch += dec.step(t, mk.threats(t, []), trk, mk.health(t))
    assert states(ch, "A") == [
        (mk.T0, "alert"),
        (last + 60.0, "pre_alert"),
        (last + 600.0, "clear"),
    ]


def test_lost_hold_when_a_lost_tracks_cloud_leaves_the_zone(zones, policy, mk) -> None:
    """Zone A is alerted by a lost track's pairs (its ghost); the cloud moves on and nothing
    else even pre-alerts A: the alert ends lost_hold_s after its last support, not hold_s.
    Support that ends with a live track's pairs (an arrival, a track deleted with no ghost)
    keeps hold_s."""
    last = mk.T0 + 3 * TICK
    for lost, hold in ((True, 150.0), (False, 300.0)):
        pol = _override(policy)
        pol.decide["by_class"]["drone"]["lost_hold_s"] = 150.0
        dec = Decider(zones, pol)
        row = (0, 9, "drone", 0.4, 0.0, 100.0, 150.0, lost)
        trk = [] if lost else [(9, 0, 0, 50, 0, "drone", True)]
        seq = [(mk.T0 + k * TICK, [row], trk, None) for k in range(4)]
        seq += [(mk.T0 + k * TICK, [], [], None) for k in range(4, 200)]
        ch = drive(dec, mk, seq)
        expect = [(mk.T0, "alert"), (last + hold, "pre_alert"), (last + 600.0, "clear")]
        assert states(ch, "A") == expect
