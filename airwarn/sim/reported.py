"""Simulate a real night as the Ukrainian Air Force reported it.

Reads the public per-report table of launched and destroyed weapons ("Massive Missile
Attacks on Ukraine", ``missile_attacks_daily.csv``: one row per weapon model per report)
and turns one night into :class:`SimParams`: how many drones, cruise and ballistic
missiles, from which launch areas, when, and what share was brought down.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from airwarn.sim.params import SimParams
from airwarn.sim.theatre import UA_DRONE_SITES

KYIV = ZoneInfo("Europe/Kyiv")
DRONE_WORDS = ("Shahed", "Geran")
BALLISTIC_WORDS = ("Iskander-M", "KN-23", "Kinzhal", "Ballistic", "C-300", "C-400")
CRUISE_WORDS = ("X-101", "X-555", "Kalibr", "Iskander-K", "X-22", "X-59", "X-69", "Zircon",
                "Oniks", "X-31", "X-32", "X-35", "Unknown Missile", "Banderol")  # fmt: skip
SITE_WORDS = {
    "Primorsko-Akhtarsk": "Primorsko-Akhtarsk",
    "Kursk": "Kursk",
    "Bryansk": "Bryansk",
    "Oryol": "Oryol",
    "Millerovo": "Millerovo",
    "Shatalovo": "Shatalovo",
    "Navlya": "Navlya",
    "Chauda": "Cape Chauda",
    "Hvardiiske": "Cape Chauda",  # also Crimea
}
"""Launch-place words in the reports -> the theatre's drone launch areas."""


def weapon_class(model: str) -> str | None:
    """``drone``, ``cruise`` or ``ballistic`` for a reported model name; None otherwise
    (reconnaissance drones, guided bombs, surface-to-air missiles alone)."""
    if any(w in model for w in BALLISTIC_WORDS):
        return "ballistic"
    if any(w in model for w in CRUISE_WORDS):
        return "cruise"
    if any(w in model for w in DRONE_WORDS):
        return "drone"
    return None


def _num(v: str) -> float:
    try:
        return float(v) if v not in ("", "NaN", "nan") else 0.0
    except ValueError:
        return 0.0


def _when(s: str) -> dt.datetime | None:
    """A report time 'YYYY-MM-DD HH:MM' (Kyiv time); None for a date alone or a bad value."""
    if len(s) < 16:
        return None
    try:
        return dt.datetime.fromisoformat(s[:16])
    except ValueError:
        return None


def night_rows(csv_path: str | Path, night: str) -> list[dict[str, Any]]:
    """Overnight rows of the night starting on ``night`` (YYYY-MM-DD, Kyiv time): reports
    with a start time from 12:00 that day to 12:00 the next (daily regional rows, without
    a time, are left out)."""
    d0 = dt.date.fromisoformat(night)
    lo = dt.datetime.combine(d0, dt.time(12, 0))
    hi = lo + dt.timedelta(days=1)
    out = []
    with open(csv_path, encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh), 2):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            t = _when(row.get("time_start", ""))
            if t is not None and lo <= t < hi:
                row["_line"] = i
                out.append(row)
    return out


def params_from_report(csv_path: str | Path, night: str, **overrides: Any) -> SimParams:
    """SimParams for one reported night; ``overrides`` set any other field (e.g. seed).

    Counts per class are the sums of ``launched``; the window runs from the earliest start
    to the latest end of the overnight reports (4-12 h); missiles launch at their classes'
    mean reported start; the share of drones brought down is (destroyed + not reaching the
    target) / launched; drone launch areas are those named.
    """
    rows = night_rows(csv_path, night)
    if not rows:
        raise ValueError(f"{Path(csv_path).name}: no overnight reports for the night of {night}")
    n = {"drone": 0.0, "cruise": 0.0, "ballistic": 0.0}
    down = dict.fromkeys(n, 0.0)
    sites: set[str] = set()
    starts: dict[str, list[tuple[dt.datetime, float]]] = {c: [] for c in n}
    t0 = t1 = None
    for r in rows:
        c = weapon_class(r.get("model", ""))
        if c is None:
            continue
        n[c] += _num(r["launched"])
        down[c] += _num(r["destroyed"]) + (
            _num(r.get("not_reach_goal", "")) if c == "drone" else 0.0
        )
        if c == "drone":
            for w, site in SITE_WORDS.items():
                if w in r.get("launch_place", ""):
                    sites.add(site)
        a = _when(r["time_start"]).replace(tzinfo=KYIV)
        e = _when(r.get("time_end", ""))
        b = e.replace(tzinfo=KYIV) if e is not None and e > a.replace(tzinfo=None) else a
        starts[c].append((a, max(1.0, _num(r["launched"]))))
        t0 = a if t0 is None or a < t0 else t0
        t1 = b if t1 is None or b > t1 else t1
    base = SimParams()
    frac = {c: (down[c] / n[c] if n[c] else 0.0) for c in n}
    hours = min(12.0, max(4.0, (t1 - t0).total_seconds() / 3600.0)) if t0 else base.hours
    order = [s.name for s in UA_DRONE_SITES]

    def launch_at(c: str, default: float) -> float:
        """Mean reported start of a class (weighted by count), as a fraction of the window."""
        if not starts[c] or t0 is None:
            return default
        w = sum(k for _, k in starts[c])
        m = sum((a - t0).total_seconds() * k for a, k in starts[c]) / w
        return min(0.95, max(0.05, m / (hours * 3600.0)))

    p = replace(
        base,
        drones=int(round(n["drone"])),
        cruise=int(round(n["cruise"])),
        ballistic=int(round(n["ballistic"])),
        start_t=t0.timestamp() if t0 else base.start_t,
        hours=hours,
        p_drone_downed=min(0.98, max(0.0, frac["drone"] - base.p_drone_lost)),
        p_cruise_downed=min(0.98, frac["cruise"]),
        p_ballistic_downed=min(0.98, frac["ballistic"]),
        drone_sites=tuple(s for s in order if s in sites),
        cruise_launch_at=launch_at("cruise", base.cruise_launch_at),
        ballistic_launch_at=launch_at("ballistic", base.ballistic_launch_at),
    )
    return replace(p, **overrides) if overrides else p
