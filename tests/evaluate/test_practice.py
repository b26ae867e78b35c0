"""Today's practice from the record: alert-history intervals, attack reports, minutes per person."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from airwarn.contracts import RecordError
from airwarn.evaluate.practice import (
    ATTACK_CLASSES,
    AlertHistory,
    exposure_table,
    kyiv_to_utc,
    model_class,
    night_exposure,
    read_alert_history,
    read_attack_nights,
    read_model_classes,
    region_key,
)

H = 3600.0
T0 = datetime(2023, 1, 10, tzinfo=UTC).timestamp()  # a winter midnight, UTC


def utc(s: float) -> str:
    return datetime.fromtimestamp(s, UTC).isoformat(sep=" ")


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def history(rows: list[tuple[int, float, float]], regions=("a", "b")) -> AlertHistory:
    r, s, e = zip(*rows, strict=True) if rows else ((), (), ())
    return AlertHistory(list(regions), np.array(r, dtype=int), np.array(s), np.array(e))


def test_overlapping_alerts_count_once_and_windows_cut_them():
    h = history([(0, 0, 100), (0, 50, 150), (0, 150, 160), (0, 300, 400), (1, 0, 1000)])
    m = h.merged()
    assert m.region.tolist() == [0, 0, 1]
    assert m.start.tolist() == [0, 300, 0] and m.end.tolist() == [160, 400, 1000]
    sec = h.seconds_under_alert(
        np.array([0, 100, 155, 170, 1000]), np.array([1000, 350, 310, 290, 2000])
    )
    assert sec[:, 0].tolist() == [260, 110, 15, 0, 0]
    assert sec[:, 1].tolist() == [1000, 250, 155, 120, 0]


def test_time_under_alert_matches_a_second_by_second_count():
    rng = np.random.default_rng(3)
    n = 60
    s = rng.integers(0, 5000, n).astype(float)
    rows = list(zip(rng.integers(0, 3, n).tolist(), s, s + rng.integers(1, 400, n), strict=True))
    h = history(rows, regions=("a", "b", "c"))
    t0 = rng.integers(0, 5000, 40).astype(float)
    t1 = t0 + rng.integers(0, 2000, 40)
    grid = np.arange(0, 8000)
    on = np.zeros((3, grid.size), dtype=bool)
    for r, a, b in rows:
        on[r, int(a) : int(b)] = True
    want = np.array(
        [[on[r, int(a) : int(b)].sum() for r in range(3)] for a, b in zip(t0, t1, strict=True)]
    )
    np.testing.assert_allclose(h.seconds_under_alert(t0, t1), want)


def test_official_history_keeps_its_level_and_names_oblasts_one_way(tmp_path):
    p = write(
        tmp_path,
        "official.csv",
        "oblast,raion,hromada,level,started_at,finished_at,source\n"
        f"Kyiv City,,,oblast,{utc(T0)},{utc(T0 + 600)},official\n"
        f"Cherkaska oblast,Umanskyi raion,,raion,{utc(T0)},{utc(T0 + 600)},official\n"
        f"Cherkaska oblast,,,oblast,{utc(T0 + 60)},{utc(T0 + 120)},official\n",
    )
    h = read_alert_history(p)
    assert h.regions == ["kyiv", "cherkaska"]
    assert h.end.tolist() == [T0 + 600, T0 + 120]
    assert read_alert_history(p, level="raion").start.tolist() == [T0]
    assert region_key("Kyiv") == region_key("Kyiv City") != region_key("Kyivska oblast")


def test_volunteer_history_has_regions_only(tmp_path):
    p = write(
        tmp_path,
        "volunteer.csv",
        f"region,started_at,finished_at,naive\nKyiv City,{utc(T0)},{utc(T0 + 60)},True\n",
    )
    h = read_alert_history(p)
    assert h.regions == ["kyiv"] and h.end.tolist() == [T0 + 60]


@pytest.mark.parametrize(
    ("row", "line", "field"),
    [
        (f"Kyiv City,,,oblast,2023-01-10 00:00:00,{utc(T0)},official", 3, "started_at"),
        (f"Kyiv City,,,oblast,{utc(T0 + 60)},{utc(T0)},official", 3, "finished_at"),
        (f",,,oblast,{utc(T0)},{utc(T0 + 60)},official", 3, "oblast"),
    ],
)
def test_bad_history_rows_name_their_line_and_field(tmp_path, row, line, field):
    p = write(
        tmp_path,
        "official.csv",
        "oblast,raion,hromada,level,started_at,finished_at,source\n"
        f"Kyiv City,,,oblast,{utc(T0)},{utc(T0 + 60)},official\n{row}\n",
    )
    with pytest.raises(RecordError) as err:
        read_alert_history(p)
    assert (err.value.source, err.value.line, err.value.field) == ("official.csv", line, field)


def test_missing_history_column_is_named(tmp_path):
    p = write(tmp_path, "h.csv", f"region,started_at\nKyiv City,{utc(T0)}\n")
    with pytest.raises(RecordError, match="finished_at"):
        read_alert_history(p)


def test_kyiv_wall_clock_is_utc_plus_two_in_winter_and_three_in_summer():
    assert kyiv_to_utc(datetime(2023, 1, 10, 0, 0)) == T0 - 2 * H
    summer = datetime(2023, 7, 1, tzinfo=UTC).timestamp()
    assert kyiv_to_utc(datetime(2023, 7, 1, 0, 0)) == summer - 3 * H
    # the switches: 26 March 2023 and 29 October 2023, 01:00 UTC
    assert (
        kyiv_to_utc(datetime(2023, 3, 26, 2, 0))
        == datetime(2023, 3, 26, 0, 0, tzinfo=UTC).timestamp()
    )
    assert (
        kyiv_to_utc(datetime(2023, 3, 26, 5, 0))
        == datetime(2023, 3, 26, 2, 0, tzinfo=UTC).timestamp()
    )
    assert (
        kyiv_to_utc(datetime(2023, 10, 29, 6, 0))
        == datetime(2023, 10, 29, 4, 0, tzinfo=UTC).timestamp()
    )


def test_kyiv_wall_clock_agrees_with_the_time_zone_database():
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        kyiv = zoneinfo.ZoneInfo("Europe/Kyiv")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time-zone database here")
    for t in np.arange(
        datetime(2022, 1, 1).timestamp(), datetime(2025, 1, 1).timestamp(), 86400 * 7 + 3 * H
    ):
        local = datetime.fromtimestamp(t, kyiv).replace(tzinfo=None)
        assert kyiv_to_utc(local) == t


ATTACKS = (
    "time_start,time_end,model,launch_place,target,launched,destroyed\n"
    "2023-01-10 02:00,2023-01-10 04:00,Shahed-136/131,x,Ukraine,20.0,18.0\n"
    "2023-01-10 02:00,2023-01-10 04:00,X-101/X-555,x,Ukraine,4.0,3.0\n"
    "2023-01-10 02:00,2023-01-10 04:00,Orlan-10,x,Ukraine,2.0,2.0\n"
    "2023-01-12 3:30,2023-01-12 5:00,Iskander-M,x,Ukraine,2,\n"
    "2023-01-14,2023-01-14,Shahed-136/131,x,south,5.0,5.0\n"
    "2023-01-15 10:00,2023-01-15 10:00,Shahed-136/131,x,south,1.0,1.0\n"
)


def test_attack_reports_make_nights_with_counts_per_class(tmp_path):
    n = read_attack_nights(write(tmp_path, "attacks.csv", ATTACKS))
    assert n.t0.tolist() == [T0, T0 + 2 * 86400 + 1.5 * H]
    assert n.t1.tolist() == [T0 + 2 * H, T0 + 2 * 86400 + 3 * H]
    counts = dict(zip(ATTACK_CLASSES, n.launched[0].tolist(), strict=True))
    assert counts == {"drone": 20, "cruise": 4, "ballistic": 0, "recon": 2, "other": 0}
    assert n.threats.tolist() == [24, 2]
    assert n.days.tolist() == [T0 + 4 * 86400]  # the daily report's date
    assert len(n.skipped) == 1 and "line 7" in n.skipped[0] and "time_end" in n.skipped[0]


def test_bad_attack_rows_name_their_line_and_field(tmp_path):
    bad = ATTACKS + "2023-01-16 10:00,2023-01-16 11:00,Kalibr,x,south,many,\n"
    with pytest.raises(RecordError) as err:
        read_attack_nights(write(tmp_path, "attacks.csv", bad))
    assert (err.value.line, err.value.field) == (8, "launched")
    bad = ATTACKS + "16 Jan,2023-01-16 11:00,Kalibr,x,south,1,\n"
    with pytest.raises(RecordError) as err:
        read_attack_nights(write(tmp_path, "attacks.csv", bad))
    assert (err.value.line, err.value.field) == (8, "time_start")


def test_weapon_models_map_to_classes(tmp_path):
    table = read_model_classes(
        write(
            tmp_path,
            "models.csv",
            "model,category,type\nOrlan-10,UAV,reconnaissance\nShahed-136/131,UAV,loitering munition\n"
            "KN-23,ballistic missile,\nC-300,surface-to-air missile,\nKalibr,cruise missile,\nGBU,guided bomb,\n",
        )
    )
    assert [
        model_class(m, table)
        for m in ("Orlan-10", "Shahed-136/131", "KN-23", "C-300", "Kalibr", "GBU")
    ] == [
        "recon",
        "drone",
        "ballistic",
        "ballistic",
        "cruise",
        "other",
    ]
    assert [
        model_class(m) for m in ("Shahed-136", "Unknown UAV", "Iskander-M", "X-101/X-555", "GBU")
    ] == [
        "drone",
        "drone",
        "ballistic",
        "cruise",
        "other",
    ]


def test_night_minutes_weigh_regions_by_people_and_subtract_ordinary_hours(tmp_path):
    day = 86400.0
    n = read_attack_nights(write(tmp_path, "attacks.csv", ATTACKS))
    # region a (1 person): the whole first night, 02:00-05:00 Kyiv = T0 .. T0 + 3 h with the
    # hour after; region b (3 people): 30 minutes of it. Every quiet hour afterwards: a 6
    # minutes in each hour of days 6..9.
    rows = [(0, T0 - H, T0 + 4 * H), (1, T0 + H, T0 + 1.5 * H)]
    rows += [(0, T0 + k * H, T0 + k * H + 360) for k in range(6 * 24, 10 * 24)]
    h = history(rows)
    ex = night_exposure(h, n, {"a": 1.0, "b": 3.0, "nowhere": 10.0})
    assert ex.t0.tolist() == n.t0.tolist()  # both nights end before the history's last alert
    assert ex.minutes[0] == pytest.approx((180 * 1 + 30 * 3) / 4)
    assert ex.minutes[1] == 0.0
    # quiet hours: all of days 6..9 alerted 6 min in region a, the rest of the history none
    quiet = np.arange(np.ceil(float(h.start.min()) / H) * H, float(h.end.max()) - H, H)
    near = np.zeros(quiet.size, dtype=bool)
    for a, b in zip(n.t0, n.t1, strict=True):
        near |= (quiet >= a - 6 * H) & (quiet < b + 6 * H)
    near |= np.isin(np.floor(quiet / day) * day, n.days)
    alerted = (quiet >= T0 + 6 * day) & (quiet < T0 + 10 * day)
    assert ex.background_per_h == pytest.approx(6 / 4 * alerted[~near].sum() / (~near).sum())
    assert ex.excess[0] == pytest.approx(ex.minutes[0] - 3 * ex.background_per_h)
    table = exposure_table(ex, edges=(1, 10))
    assert [(r["threats"], r["nights"]) for r in table] == [("1-9", 1), ("10+", 1)]
    assert table[1]["minutes_median"] == pytest.approx(67.5)


def test_a_history_without_the_populated_regions_is_refused():
    with pytest.raises(ValueError, match="population"):
        night_exposure(history([(0, T0, T0 + 60)]), read_attack_nights_empty(), {"z": 1.0})


def read_attack_nights_empty():
    from airwarn.evaluate.practice import AttackNights

    return AttackNights(np.zeros(0), np.zeros(0), np.zeros((0, len(ATTACK_CLASSES))), np.zeros(0))


def test_real_history_kyiv_2022_and_bigger_nights_cost_more(shared_data):
    alerts = shared_data / "ukraine_air_raid_alerts"
    vol = read_alert_history(alerts / "volunteer_data_en.csv")
    a = datetime(2022, 1, 1, tzinfo=UTC).timestamp()
    b = datetime(2023, 1, 1, tzinfo=UTC).timestamp()
    kyiv = (
        vol.seconds_under_alert(np.array([a]), np.array([b]))[0, vol.regions.index("kyiv")] / 86400
    )
    assert 25 < kyiv < 30  # the "about 29 days under alert in 2022"
    attacks = shared_data / "ukraine_missile_drone_attacks"
    nights = read_attack_nights(
        attacks / "missile_attacks_daily.csv", read_model_classes(attacks / "missiles_and_uavs.csv")
    )
    official = read_alert_history(alerts / "official_data_en.csv")
    pop = {k: 1e6 for k in official.regions if k != "luhanska"}
    ex = night_exposure(official, nights, pop)
    assert len(ex.t0) > 80
    med = [r["minutes_median"] for r in exposure_table(ex, edges=(1, 10, 30))]
    assert med == sorted(med) and med[-1] > 3 * med[0]
    assert 0 < ex.background_per_h < 15
