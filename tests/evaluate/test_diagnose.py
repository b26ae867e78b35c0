"""Known-answer tests of the diagnostics beside the scorecard (miss stages, excess hours)."""

from __future__ import annotations

import json

import pytest
from evaluate_cases import FRAME, alerts

from airwarn.evaluate import score
from airwarn.evaluate.diagnose import diagnostics, diagnostics_markdown, excess_hours, miss_stages

# zone A at (0..2000)^2, shelter 120 s; a drone along y = 1000 from x = -50 km at t = 1000,
# 50 m/s: t_arr = 1960, deadline 1840 (drone at x = -8000).
DEADLINE = 1840.0


def write_tracks(path, rows):
    """tracks.jsonl lines at local (x, y) positions and times."""
    with open(path, "w") as fh:
        for t, x, y, conf in rows:
            lat, lon = FRAME.to_geo(x, y)
            fh.write(json.dumps({"t": t, "track": "T1", "lat": float(lat), "lon": float(lon),
                                 "alt_m": 200.0, "cls": "drone", "confirmed": conf}) + "\n")  # fmt: skip


def drone_x(t):
    return -50_000 + 50.0 * (t - 1000.0)


@pytest.mark.parametrize(
    ("track_rows", "lines", "stage"),
    [
        ([], [(1700.0, "A", "pre_alert")], "a_not_tracked"),
        # a confirmed track 20 km away from the drone does not count
        ([(1800.0, drone_x(1800.0), 21_000.0, True)], [], "a_not_tracked"),
        # tracked only unconfirmed
        ([(1800.0, drone_x(1800.0), 1000.0, False)], [], "a_not_tracked"),
        ([(1800.0, drone_x(1800.0), 1000.0, True)], [], "b_not_predicted"),
        ([(1800.0, drone_x(1800.0), 1000.0, True)], [(1700.0, "A", "pre_alert")], "c_not_alerted"),
        # alerted at the deadline but cleared before the arrival
        (
            [(1800.0, drone_x(1800.0), 1000.0, True)],
            [(1700.0, "A", "alert"), (1900.0, "A", "clear")],
            "c_not_alerted",
        ),
    ],
)
def test_miss_stage(tmp_path, one_zone, drone, track_rows, lines, stage):
    f = tmp_path / "tracks.jsonl"
    write_tracks(f, track_rows)
    card = score([drone], alerts(*lines), one_zone)
    assert card.summary["overflight_miss"] == 1
    ms = miss_stages(card, f)
    assert ms["by_outcome"]["overflight_miss"][stage] == 1
    assert sum(ms["by_outcome"]["overflight_miss"].values()) == 1


def test_hits_are_not_classified(tmp_path, one_zone, drone):
    f = tmp_path / "tracks.jsonl"
    write_tracks(f, [(1800.0, drone_x(1800.0), 1000.0, True)])
    card = score([drone], alerts((1700.0, "A", "alert"), (3000.0, "A", "clear")), one_zone)
    ms = miss_stages(card, f)
    assert ms["pairs"] == 0
    assert "note" in miss_stages(card, None)


def test_excess_hours_split(one_zone, drone):
    # oracle: 1960 - 120 - 60 = 1780 to t_leave 2080 + 600 = 2680 (900 s, 900 person-hours
    # at 3600 people). The alert runs 1480..3280: 300 s early, 600 s after.
    lines = [(1480.0, "A", "alert"), (3280.0, "A", "clear")]
    card = score([drone], alerts(*lines), one_zone)
    ex = excess_hours(card, alerts(*lines))
    sp = ex["split"]
    assert ex["person_hours_oracle"] == pytest.approx(900.0, rel=0.01)
    assert sp["inside_oracle"] == pytest.approx(900.0, rel=0.01)
    assert sp["early"] == pytest.approx(300.0, rel=0.01)
    assert sp["after"] == pytest.approx(600.0, rel=0.01)
    assert sp["unthreatened_false"] == 0.0
    d = diagnostics(card, alerts(*lines), None)
    assert any("not part of the scorecard" in line for line in diagnostics_markdown(d))
