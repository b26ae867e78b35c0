"""Known-answer tests of the scorecard on hand-made zones, threats and alert lines."""

from __future__ import annotations

import numpy as np
import pytest
from evaluate_cases import alerts, square, straight

from airwarn.evaluate import score
from airwarn.evaluate.scoring import HIT, LATE, MISS, union_intervals
from airwarn.zones import zone_set

# One 2 km square zone at local (0..2000, 0..2000); a drone at 50 m/s along y = 1000 from
# x = -50 km starting at t = 1000 comes within 2 km (x = -2000) at t = 1000 + 960 = 1960.
T_ARR = 1960.0


def test_arrival_time_is_first_time_within_2km(one_zone, drone):
    card = score([drone], [], one_zone)
    assert len(card.pairs) == 1
    assert card.pairs.t_arr[0] == pytest.approx(T_ARR, abs=1.0)
    # leaves 2 km beyond the far edge: x = 4000 -> t = 1000 + 54000 / 50
    assert card.pairs.t_leave[0] == pytest.approx(2080.0, abs=1.0)
    assert not card.pairs.impact[0]


@pytest.mark.parametrize(
    ("alert_t", "outcome", "lead"),
    [
        (T_ARR - 200, HIT, 200.0),
        (T_ARR - 120, HIT, 120.0),
        (T_ARR - 60, LATE, 60.0),
        (T_ARR + 100, MISS, None),
    ],
)
def test_hit_late_miss(one_zone, drone, alert_t, outcome, lead):
    card = score([drone], alerts((alert_t, "A", "alert"), (4000.0, "A", "clear")), one_zone)
    assert card.pairs.outcome[0] == outcome
    s = card.summary
    assert s["overflight_hit"] == int(outcome == HIT)
    assert s["overflight_late"] == int(outcome == LATE)
    assert s["overflight_miss"] == int(outcome == MISS)
    assert s["impact_pairs"] == 0
    if lead is None:
        assert np.isnan(card.pairs.lead_s[0])
        assert s["lead_median_s"] is None
    else:
        assert card.pairs.lead_s[0] == pytest.approx(lead, abs=1.0)
        assert card.by_class["drone"]["lead_median_s"] == pytest.approx(lead, abs=1.0)


def test_no_alerts_is_a_miss(one_zone, drone):
    card = score([drone], [], one_zone)
    assert card.summary["overflight_miss"] == 1
    assert card.summary["overflight_miss_frac"] == 1.0
    assert card.targets["overflight_miss_frac"]["ok"] is False


def test_alert_cleared_before_arrival_is_a_miss(one_zone, drone):
    # under alert at t_arr - shelter (1840) but cleared at 1900, before t_arr
    card = score([drone], alerts((1700.0, "A", "alert"), (1900.0, "A", "clear")), one_zone)
    assert card.pairs.outcome[0] == MISS
    assert card.summary["cleared_before_arrival"] == 1


def test_repeated_alert_lines_extend_one_episode(one_zone, drone):
    rows = alerts(
        (T_ARR - 300, "A", "alert"), (T_ARR - 100, "A", "alert"), (T_ARR + 500, "A", "clear")
    )
    card = score([drone], rows, one_zone)
    assert card.summary["alert_episodes"] == 1
    assert card.pairs.outcome[0] == HIT
    assert card.pairs.lead_s[0] == pytest.approx(300.0, abs=1.0)


def test_impact_and_overflight_counted_apart():
    zs = zone_set(
        [
            square("A", 0, 0),  # impact at its centre
            square("C", -20_000, 0),  # overflown on the way
            square("D", -20_000, 10_000),  # 8 km off the path: not threatened
        ]
    )
    th = straight("M1", -50_000, 1000, 1000, 1000, t0=0.0, impact=True)
    rows = alerts((700.0, "A", "alert"), (3000.0, "A", "clear"))
    card = score([th], rows, zs)
    s = card.summary
    assert s["impact_pairs"] == 1 and s["overflight_pairs"] == 1
    assert s["impact_hit"] == 1 and s["impact_miss"] == 0
    assert s["overflight_miss"] == 1
    i = int(np.flatnonzero(card.pairs.impact)[0])
    assert card.zones.ids[card.pairs.zone[i]] == "A"
    # the impact pair's arrival is its first time within 2 km, before the impact itself
    assert card.pairs.t_arr[i] == pytest.approx(48_000 / 50, abs=1.0)
    assert card.targets["impact_miss_or_late"]["ok"] is True


def test_ballistic_high_overflight_and_impact():
    zs = zone_set([square("A", 0, 0), square("B", 100_000, 0, region="R2")])
    # 300 km flight at 1.5 km/s, 80 km up, passing over A, falling into B's centre
    th = straight(
        "B1", -200_000, 1000, 101_000, 1000, t0=0.0, speed=1500.0, cls="ballistic",
        alt_m=80_000.0, impact=True, n=31,
    )  # fmt: skip
    card = score([th], [], zs)
    s = card.summary
    assert s["overflight_pairs"] == 1 and s["impact_pairs"] == 1
    assert card.by_class["ballistic"]["impact_miss"] == 1
    assert card.by_class["ballistic"]["overflight_miss"] == 1
    a = int(np.flatnonzero(~card.pairs.impact)[0])
    assert card.pairs.t_arr[a] == pytest.approx(198_000 / 1500, abs=0.5)


def test_lead_time_median_and_p10_by_class():
    zs = zone_set([square("A", 0, 0, shelter_s=60.0)])
    threats, rows = [], []
    for k, lead in enumerate([100.0, 200.0, 300.0, 400.0, 500.0]):
        t0 = 10_000.0 * k
        threats.append(straight(f"D{k}", -50_000, 1000, 50_000, 1000, t0=t0))
        t_arr = t0 + 960.0
        rows += [(t_arr - lead, "A", "alert"), (t_arr + 2000, "A", "clear")]
    threats.append(straight("C1", -50_000, 1000, 50_000, 1000, t0=60_000.0, speed=250.0,
                            cls="cruise"))  # fmt: skip
    rows += [(60_000.0 + 48_000 / 250 - 30, "A", "alert"), (61_000.0, "A", "clear")]
    card = score(threats, alerts(*rows), zs)
    d = card.by_class["drone"]
    assert d["overflight_hit"] == 5
    assert d["lead_median_s"] == pytest.approx(300.0, abs=1.0)
    assert d["lead_p10_s"] == pytest.approx(140.0, abs=1.0)  # linear interpolation
    c = card.by_class["cruise"]
    assert c["overflight_late"] == 1
    assert c["lead_median_s"] == pytest.approx(30.0, abs=1.0)
    assert card.summary["alert_episodes"] == 6
    assert card.summary["false_alert_episodes"] == 0


def test_false_and_true_alert_episodes(one_zone, drone):
    # The drone flies t = 1000..3000 along y = 1000; within 15 km of A for x in [-15, 17] km:
    # t = 1700..2340.
    rows = alerts(
        (1800.0, "A", "alert"),  # true: covers the passage
        (2600.0, "A", "clear"),
        (2650.0, "A", "pre_alert"),  # pre-alert 2650..2690, padded from 2350: false
        (2690.0, "A", "clear"),
        (2700.0, "A", "alert"),  # 2700 - 300 s pad = 2400 > 2340: no threat near -> false
        (2800.0, "A", "clear"),
        (1100.0, "A", "alert"),  # ends 1390; + 300 s pad = 1690 < 1700: false
        (1390.0, "A", "clear"),
    )
    card = score([drone], rows, one_zone)
    s = card.summary
    assert s["alert_episodes"] == 3
    assert s["false_alert_episodes"] == 2
    assert s["false_alert_frac"] == pytest.approx(2 / 3, abs=1e-3)
    # population 3600: false person-hours = seconds of false episodes (290 + 100)
    assert s["person_hours_false_alert"] == pytest.approx(390.0, abs=0.01)
    assert s["prealert_episodes"] == 1 and s["false_prealert_episodes"] == 1
    ep = card.alert_eps
    false_starts = sorted(ep.start[card.false_alert].tolist())
    assert false_starts == [1100.0, 2700.0]


def test_false_alert_pad_makes_near_miss_true(one_zone, drone):
    # ends 1450: 1450 + 300 = 1750 >= 1700, the threat is within 15 km then -> not false
    card = score([drone], alerts((1100.0, "A", "alert"), (1450.0, "A", "clear")), one_zone)
    assert card.summary["false_alert_episodes"] == 0


def test_person_hours_and_prealert_apart(one_zone, drone):
    rows = alerts(
        (T_ARR - 900, "A", "pre_alert"),
        (T_ARR - 300, "A", "alert"),
        (T_ARR + 1500, "A", "clear"),
    )
    card = score([drone], rows, one_zone)
    s = card.summary
    # population 3600: seconds under a state == person-hours
    assert s["person_hours_prealert"] == pytest.approx(600.0, abs=0.1)
    assert s["person_hours_alert"] == pytest.approx(1800.0, abs=0.1)
    assert card.pairs.outcome[0] == HIT
    assert card.pairs.lead_s[0] == pytest.approx(300.0, abs=1.0)
    assert card.by_class["drone"]["prealert_lead_median_s"] == pytest.approx(900.0, abs=1.0)
    assert card.zone_hours("alert")[0] == pytest.approx(0.5, abs=1e-4)


def test_prealert_alone_is_not_an_alert(one_zone, drone):
    rows = alerts((T_ARR - 900, "A", "pre_alert"), (T_ARR + 500, "A", "clear"))
    card = score([drone], rows, one_zone)
    assert card.pairs.outcome[0] == MISS
    assert card.summary["person_hours_alert"] == 0.0
    assert card.pairs.warn_lead_s[0] == pytest.approx(900.0, abs=1.0)


def test_region_wide_and_oracle_baselines():
    zs = zone_set(
        [
            square("A", 0, 0, region="R1", population=1000, shelter_s=90.0),
            square("B", 10_000, 0, region="R1", population=2000, shelter_s=120.0),
            square("C", 200_000, 0, region="R2", population=5000, shelter_s=90.0),
        ]
    )
    # x = -100 km .. +40 km at 50 m/s from t = 0 (ends at t = 2800, 28 km past B)
    th = straight("D1", -100_000, 1000, 40_000, 1000, t0=0.0)
    rows = alerts((1700.0, "A", "alert"), (2700.0, "A", "clear"))
    card = score([th], rows, zs)
    s = card.summary
    # region R1: within 60 km from x = -60 km (t = 800) until the path ends (2800) + 600 s
    assert s["region_wide_episodes"] == 1
    assert s["person_hours_region_wide"] == pytest.approx(3000 * 2600 / 3600, rel=0.02)
    # oracle: A [1960 - 90 - 60, 2080 + 600], B [2160 - 120 - 60, 2280 + 600]
    oracle = (1000 * (2680 - 1810) + 2000 * (2880 - 1980)) / 3600
    assert s["person_hours_oracle"] == pytest.approx(oracle, abs=0.5)
    assert s["oracle_episodes"] == 2
    ours = 1000 * 1000 / 3600
    assert s["person_hours_alert"] == pytest.approx(ours, abs=0.01)
    assert s["ratio_to_oracle"] == pytest.approx(ours / oracle, rel=1e-3)
    assert s["ratio_to_region_wide"] == pytest.approx(ours / (3000 * 2600 / 3600), rel=0.02)
    assert card.zone_hours("region")[2] == 0.0
    assert s["overflight_hit"] == 1 and s["overflight_miss"] == 1


def test_region_wide_several_episodes():
    zs = zone_set([square("A", 0, 0, region="R1"), square("C", 200_000, 0, region="R2")])
    threats = [
        straight("D1", -100_000, 1000, 40_000, 1000, t0=0.0),
        straight("D2", -100_000, 1000, 40_000, 1000, t0=1000.0),  # overlaps D1's episode
        straight("D3", -100_000, 1000, 40_000, 1000, t0=20_000.0),  # a second episode
    ]
    card = score(threats, [], zs)
    assert card.summary["region_wide_episodes"] == 2


def test_union_intervals():
    g, s, e = union_intervals(
        np.array([1, 0, 0, 0, 1]),
        np.array([5.0, 0.0, 3.0, 10.0, 0.0]),
        np.array([6.0, 4.0, 5.0, 12.0, 1.0]),
    )
    assert g.tolist() == [0, 0, 1, 1]
    assert s.tolist() == [0.0, 10.0, 0.0, 5.0]
    assert e.tolist() == [5.0, 12.0, 1.0, 6.0]


def test_unknown_zone_lines_are_counted(one_zone, drone):
    rows = alerts((100.0, "nope", "alert"), (T_ARR - 200, "A", "alert"), (4000.0, "A", "clear"))
    card = score([drone], rows, one_zone)
    assert card.summary["unknown_zone_lines"] == 1
    assert card.summary["alert_episodes"] == 1


def test_open_alert_is_closed_at_the_end(one_zone, drone):
    card = score([drone], alerts((T_ARR - 200, "A", "alert")), one_zone, t_end=T_ARR + 1600)
    assert card.summary["open_alert_episodes"] == 1
    assert card.summary["person_hours_alert"] == pytest.approx(3600 * 1800 / 3600, abs=0.1)


def test_json_and_table(one_zone, drone):
    card = score([drone], alerts((T_ARR - 200, "A", "alert"), (3000.0, "A", "clear")), one_zone)
    j = card.to_json()
    for k in (
        "impact_hit", "impact_late", "impact_miss", "overflight_hit", "overflight_late",
        "overflight_miss", "lead_median_s", "lead_p10_s", "prealert_lead_median_s",
        "false_alert_episodes", "false_alert_frac", "person_hours_alert",
        "person_hours_prealert", "person_hours_region_wide", "person_hours_oracle",
        "ratio_to_oracle", "ratio_to_region_wide", "alert_episodes", "by_class", "targets",
    ):  # fmt: skip
        assert k in j, k
    assert j["by_class"]["drone"]["overflight_hit"] == 1
    from rich.console import Console

    con = Console(record=True, width=140)
    con.print(card.table())
    assert "ratio to oracle" in con.export_text()


def test_cached_truth_index_gives_independent_scorecards(one_zone, drone):
    early = alerts((T_ARR - 200, "A", "alert"), (4000.0, "A", "clear"))
    late = alerts((T_ARR - 10, "A", "alert"), (4000.0, "A", "clear"))
    a = score([drone], early, one_zone)
    b = score([drone], late, one_zone)
    assert a.pairs.outcome[0] == HIT and b.pairs.outcome[0] == LATE
    assert a.summary["overflight_hit"] == 1 and b.summary["overflight_late"] == 1
    other = straight("D2", -50_000, 30_000, 50_000, 30_000, t0=1000.0)  # 28 km north
    c = score([other], early, one_zone)
    assert c.summary["pairs"] == 0 and c.summary["false_alert_episodes"] == 1


def test_empty_truth_and_alerts(one_zone):
    card = score([], [], one_zone)
    s = card.summary
    assert s["pairs"] == 0 and s["alert_episodes"] == 0
    assert s["person_hours_alert"] == 0.0 and s["person_hours_region_wide"] == 0.0
    assert s["ratio_to_oracle"] is None and s["false_alert_frac"] is None
    only_alerts = score([], alerts((10.0, "A", "alert"), (3610.0, "A", "clear")), one_zone)
    assert only_alerts.summary["false_alert_episodes"] == 1
    assert only_alerts.summary["person_hours_alert"] == pytest.approx(3600.0)


def test_warnable_pairs_exclude_threats_arriving_right_after_launch():
    zs = zone_set([square("A", 0, 0, shelter_s=90.0), square("B", 40_000, 0, shelter_s=90.0)])
    # launched 3 km west of A at 1 km/s: reaches A's 2 km ring 1 s after launch, B after 41 s
    near = straight("B1", -3000, 1000, 200_000, 1000, t0=0.0, speed=1000.0, cls="ballistic")
    # a drone launched 50 km away arrives after 960 s of flight: warnable
    far = straight("D1", -50_000, 1000, 1000, 1000, t0=0.0, impact=True)
    card = score([near, far], [], zs)
    s = card.summary
    assert s["pairs"] == 3 and s["impact_pairs"] == 1
    assert s["warnable_pairs"] == 1
    assert s["overflight_miss"] == 2 and s["overflight_miss_warnable"] == 0
    assert s["impact_miss_warnable"] == 1
    assert card.targets["impact_miss_or_late"]["ok"] is False
    flight = sorted(card.pairs.flight_s.tolist())
    assert flight == pytest.approx([1.0, 41.0, 960.0], abs=0.5)


def test_miss_alerted_during_passage(one_zone, drone):
    # alerted 50 s after t_arr while the drone is still within 2 km (it leaves at 2080)
    card = score([drone], alerts((T_ARR + 50, "A", "alert"), (4000.0, "A", "clear")), one_zone)
    assert card.pairs.outcome[0] == MISS
    assert card.pairs.alert_after_s[0] == pytest.approx(50.0, abs=1.0)
    assert card.summary["miss_alerted_during_passage"] == 1
    # alerted after the drone has gone: not counted
    card = score([drone], alerts((2500.0, "A", "alert"), (4000.0, "A", "clear")), one_zone)
    assert card.summary["miss_alerted_during_passage"] == 0
