"""A real night from the Air Force reports (shared data): the record raid of 3-4 July 2025."""

from __future__ import annotations

import datetime as dt

import pytest

from airwarn.sim import SimParams, simulate
from airwarn.sim.reported import night_rows, params_from_report, weapon_class


def test_weapon_classes():
    assert weapon_class("Shahed-136/131") == "drone"
    assert weapon_class("Iskander-M/KN-23") == "ballistic"
    assert weapon_class("X-47 Kinzhal") == "ballistic"
    assert weapon_class("Iskander-K") == "cruise"
    assert weapon_class("X-101/X-555 and Kalibr") == "cruise"
    assert weapon_class("Orlan-10") is None


@pytest.fixture
def attacks(shared_data):
    return shared_data / "ukraine_missile_drone_attacks" / "missile_attacks_daily.csv"


def test_record_night_539_drones_11_missiles(attacks):
    p = params_from_report(attacks, "2025-07-03", seed=3)
    assert (p.drones, p.cruise + p.ballistic) == (539, 11)
    assert (p.cruise, p.ballistic) == (4, 7)  # Iskander-K; Iskander-M/KN-23 and a Kinzhal
    # 18:00 Kyiv summer time (UTC+3)
    assert p.start_t == dt.datetime(2025, 7, 3, 15, 0, tzinfo=dt.UTC).timestamp()
    assert p.hours == 12.0 and p.seed == 3
    assert set(p.drone_sites) == {
        "Primorsko-Akhtarsk", "Kursk", "Bryansk", "Oryol", "Millerovo", "Shatalovo"
    }  # fmt: skip
    # 268 destroyed + 208 lost of 539, less the share that crashes off-target
    assert p.p_drone_downed == pytest.approx((268 + 208) / 539 - SimParams().p_drone_lost)
    assert p.p_cruise_downed == pytest.approx(0.5)
    assert 0.6 < p.ballistic_launch_at < 0.7  # about 02:00


def test_record_night_simulates_from_named_sites(attacks):
    p = params_from_report(attacks, "2025-07-03", drones=40, acoustic=50, radars=3)
    sc = simulate(p)
    assert set(sc.raid.launch_site[:40]) <= set(p.drone_sites)
    assert len(sc.raid) == 40 + 11


def test_no_report_is_a_clear_error(attacks):
    assert night_rows(attacks, "2019-01-01") == []
    with pytest.raises(ValueError, match="2019-01-01"):
        params_from_report(attacks, "2019-01-01")


def test_cli_night_needs_attacks(tmp_path):
    from typer.testing import CliRunner

    from airwarn.cli import app

    res = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--night", "2025-07-03"])
    assert res.exit_code != 0
    assert "--attacks" in res.output
