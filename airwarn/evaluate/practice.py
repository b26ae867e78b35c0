"""Today's practice, from the record: how long Ukraine's real air-raid alerts kept people under
alert on nights whose attack the Air Force reported, to set beside a scorecard's figures.

The scorecard's region-wide baseline is a rule (every zone of a region while a threat is
within 60 km of it, then a 10-minute hold). This module measures the practice itself from
two public records: the alert history (one row per alert and oblast, start and end in UTC;
the Vadimkin/ukrainian-air-raid-sirens-dataset CSVs) and the Air Force's attack reports
(one row per weapon model and report: period in Kyiv time, number launched; the
"Massive Missile Attacks on Ukraine" CSV). It answers "on a night with N threats, how many
minutes did a person in government-controlled Ukraine spend under alert?", and how much of
that an ordinary night brings anyway.

Interval arithmetic is vectorised: each region's alerts are merged into disjoint intervals
once, and the time under alert in any number of windows is read from their cumulative
length with ``searchsorted``.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from airwarn.contracts import CLS_ALIASES, RecordError, canonical_name

ATTACK_CLASSES: tuple[str, ...] = ("drone", "cruise", "ballistic", "recon", "other")
"""Classes the attack counts are split into: attack drones, cruise and ballistic missiles
(surface-to-air missiles fired at ground targets fly a ballistic arc and count as ballistic),
reconnaissance drones, and anything else (guided bombs)."""
THREAT_COLUMNS: tuple[str, ...] = ("drone", "cruise", "ballistic")
"""The classes a night's threat count sums: the ones airwarn warns of."""

_CATEGORY_CLASS = {
    "uav": "drone",
    "cruise missile": "cruise",
    "ballistic missile": "ballistic",
    "surface-to-air and ballistic": "ballistic",
    "surface-to-air missile": "ballistic",
}


def region_key(name: str) -> str:
    """One spelling per oblast across sources: lower case, without " oblast" or "city"
    ("Cherkaska oblast" and OCHA's "Cherkaska" -> "cherkaska"; "Kyiv City" and OCHA's
    "Kyiv" -> "kyiv": the capital, apart from "kyivska", the oblast around it)."""
    k = " ".join(name.strip().lower().split())
    for suffix in (" oblast", " city"):
        k = k.removesuffix(suffix)
    return k


def _utc_seconds(v: str, src: str, line: int, fld: str) -> float:
    try:
        d = datetime.fromisoformat(v.strip())
    except ValueError:
        raise RecordError(src, line, fld, f"must be a time with a UTC offset, got {v!r}") from None
    if d.tzinfo is None:
        raise RecordError(src, line, fld, f"needs a UTC offset ('+00:00'), got {v!r}")
    return d.timestamp()


_REPORT_TIME = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")


def _report_time(v: str, src: str, line: int, fld: str) -> tuple[datetime, bool]:
    """A report's ``YYYY-MM-DD HH:MM`` (hour without a leading zero allowed) or a date alone;
    the naive local time and whether it had a time of day."""
    m = _REPORT_TIME.fullmatch(v.strip())
    try:
        if m is None:
            raise ValueError
        y, mo, d, hh, mm = (int(g) if g else None for g in m.groups())
        return datetime(y, mo, d, hh or 0, mm or 0), hh is not None
    except ValueError:
        raise RecordError(src, line, fld, f"must be YYYY-MM-DD [HH:MM], got {v!r}") from None


def _last_sunday(year: int, month: int) -> datetime:
    d = datetime(year, month + 1, 1, tzinfo=UTC) - timedelta(days=1)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def kyiv_to_utc(local: datetime) -> float:
    """UTC seconds of a naive Kyiv wall-clock time: UTC+2, UTC+3 in summer (the EU rule, from
    01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October), so
    that no time-zone database is needed."""
    y = local.year
    start = _last_sunday(y, 3).replace(hour=1)
    end = _last_sunday(y, 10).replace(hour=1)
    guess = local.replace(tzinfo=UTC) - timedelta(hours=3)
    hours = 3 if start <= guess < end else 2
    return (local.replace(tzinfo=UTC) - timedelta(hours=hours)).timestamp()


@dataclass(frozen=True)
class AlertHistory:
    """Alert intervals per region: ``region[i]`` indexes ``regions`` (keys from
    :func:`region_key`); ``start``/``end`` are UTC seconds, sorted by region then start."""

    regions: list[str]
    region: np.ndarray
    start: np.ndarray
    end: np.ndarray

    def merged(self) -> AlertHistory:
        """The same coverage as disjoint intervals (overlapping or touching alerts of one
        region joined)."""
        o = np.lexsort((self.start, self.region))
        r, s, e = self.region[o], self.start[o], self.end[o]
        if not len(r):
            return self
        # running maximum of the end within each region: offset regions so that one
        # accumulate works across them
        off = np.maximum(np.abs(e).max(), np.abs(s).max()) * 4 + 1.0
        run = np.maximum.accumulate(e + r * off) - r * off
        prev = np.concatenate([[-np.inf], run[:-1]])
        new = np.concatenate([[True], r[1:] != r[:-1]]) | (s > prev)
        idx = np.flatnonzero(new)
        ends = np.maximum.reduceat(e, idx)
        return AlertHistory(self.regions, r[idx], s[idx], ends)

    def seconds_under_alert(self, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        """(windows, regions) seconds each region spent under alert inside each window
        [t0, t1)."""
        m = self.merged()
        t0 = np.asarray(t0, dtype=float)
        t1 = np.asarray(t1, dtype=float)
        out = np.zeros((t0.size, len(self.regions)))
        for ri in range(len(self.regions)):
            sel = m.region == ri
            s, e = m.start[sel], m.end[sel]
            if not s.size:
                continue
            cum = np.concatenate([[0.0], np.cumsum(e - s)])

            def covered(x: np.ndarray, s=s, e=e, cum=cum) -> np.ndarray:
                k = np.searchsorted(s, x, side="right") - 1
                kk = np.maximum(k, 0)
                part = np.clip(x - s[kk], 0.0, e[kk] - s[kk])
                return np.where(k >= 0, cum[kk] + part, 0.0)

            out[:, ri] = np.maximum(covered(t1) - covered(t0), 0.0)
        return out


def read_alert_history(path: str | Path, level: str = "oblast") -> AlertHistory:
    """Read an alert history CSV: the official file (``oblast``, ``level``, ``started_at``,
    ``finished_at``; rows of ``level`` only, by default alerts for a whole oblast) or the
    volunteer one (``region``, every row an oblast's). A bad time or an end before its
    start is a :class:`RecordError` naming the line and field."""
    p = Path(path)
    src = p.name
    names: dict[str, int] = {}
    region, start, end = [], [], []
    with p.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(fh)
        cols = set(rows.fieldnames or ())
        col = "oblast" if "oblast" in cols else "region"
        for fld in (col, "started_at", "finished_at"):
            if fld not in cols:
                raise RecordError(src, 1, fld, "column is required")
        for line, row in enumerate(rows, start=2):
            if "level" in row and row["level"] != level:
                continue
            name = (row.get(col) or "").strip()
            if not name:
                raise RecordError(src, line, col, "must be a region name")
            s = _utc_seconds(row["started_at"], src, line, "started_at")
            e = _utc_seconds(row["finished_at"], src, line, "finished_at")
            if e < s:
                raise RecordError(src, line, "finished_at", "is before started_at")
            region.append(names.setdefault(region_key(name), len(names)))
            start.append(s)
            end.append(e)
    return AlertHistory(
        list(names), np.asarray(region, dtype=int), np.asarray(start), np.asarray(end)
    )


def read_model_classes(path: str | Path) -> dict[str, str]:
    """Weapon model -> attack class from the ``missiles_and_uavs.csv`` table (``model``,
    ``category``, ``type``): reconnaissance drones apart from attack drones."""
    out = {}
    with Path(path).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            cat = (row.get("category") or "").strip().lower()
            cls = _CATEGORY_CLASS.get(cat, "other")
            if cls == "drone" and (row.get("type") or "").strip().lower() == "reconnaissance":
                cls = "recon"
            out[(row.get("model") or "").strip()] = cls
    return out


def model_class(model: str, table: dict[str, str] | None = None) -> str:
    """The attack class of a reported weapon model: from ``table`` when listed, else from
    its name (a name airwarn's class aliases know, or one holding 'Shahed', 'UAV', 'Iskander',
    'Kinzhal', 'Kalibr' or 'X-101'); 'other' if none."""
    m = model.strip()
    if table and m in table:
        return table[m]
    c = canonical_name(m, CLS_ALIASES)
    if c in THREAT_COLUMNS:
        return c
    low = m.lower()
    for words, cls in (
        (("orlan", "zala", "supercam", "reconnaissance"), "recon"),
        (("shahed", "geran", "uav", "drone", "lancet"), "drone"),
        (("iskander-m", "kn-23", "kinzhal", "ballistic", "c-300", "c-400", "s-300"), "ballistic"),
        (("kalibr", "x-101", "x-555", "x-22", "x-59", "x-69", "iskander-k", "missile"), "cruise"),
    ):
        if any(w in low for w in words):
            return cls
    return "other"


@dataclass(frozen=True)
class AttackNights:
    """Reported attacks with a start and end time (UTC seconds), launched counts per
    :data:`ATTACK_CLASSES`; ``days`` are the UTC midnights of the reports that give a date
    only (regional daily reports), kept so that a background sample can avoid them."""

    t0: np.ndarray
    t1: np.ndarray
    launched: np.ndarray  # (nights, len(ATTACK_CLASSES))
    days: np.ndarray
    skipped: tuple[str, ...] = ()
    """Rows left out, each as the RecordError message naming its line and field."""

    @property
    def threats(self) -> np.ndarray:
        """Launched drones, cruise and ballistic missiles per night."""
        return self.launched[:, [ATTACK_CLASSES.index(c) for c in THREAT_COLUMNS]].sum(axis=1)


def read_attack_nights(path: str | Path, models: dict[str, str] | None = None) -> AttackNights:
    """Read the attack reports CSV (``time_start``, ``time_end``, ``model``, ``launched``;
    times in Kyiv local time). Rows sharing a start and end are one night. A row whose
    period does not end after it starts (the published file has some) is left out and listed
    in ``skipped``; a missing column, a time that is not a date or a ``launched`` that is not
    a number is a RecordError naming the line and field."""
    p = Path(path)
    src = p.name
    nights: dict[tuple[float, float], np.ndarray] = {}
    days: set[float] = set()
    skipped: list[str] = []
    with p.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(fh)
        for fld in ("time_start", "time_end", "model", "launched"):
            if fld not in (rows.fieldnames or ()):
                raise RecordError(src, 1, fld, "column is required")
        for line, row in enumerate(rows, start=2):
            ts, te = row["time_start"].strip(), row["time_end"].strip()
            a, a_timed = _report_time(ts, src, line, "time_start")
            b, b_timed = _report_time(te, src, line, "time_end")
            raw = (row["launched"] or "").strip()
            try:
                n = float(raw) if raw else 0.0
            except ValueError:
                raise RecordError(src, line, "launched", f"must be a number, got {raw!r}") from None
            if not math.isfinite(n) or n < 0:
                raise RecordError(src, line, "launched", f"must be >= 0, got {raw!r}")
            if not (a_timed and b_timed):  # a date only: a daily report
                days.add(a.replace(tzinfo=UTC).timestamp())
                continue
            key = (kyiv_to_utc(a), kyiv_to_utc(b))
            if key[1] <= key[0]:
                skipped.append(
                    str(RecordError(src, line, "time_end", f"{te!r} is not after {ts!r}"))
                )
                continue
            counts = nights.setdefault(key, np.zeros(len(ATTACK_CLASSES)))
            counts[ATTACK_CLASSES.index(model_class(row["model"], models))] += n
    keys = sorted(nights)
    return AttackNights(
        np.array([k[0] for k in keys]),
        np.array([k[1] for k in keys]),
        np.array([nights[k] for k in keys]).reshape(len(keys), len(ATTACK_CLASSES)),
        np.array(sorted(days)),
        tuple(skipped),
    )


@dataclass(frozen=True)
class NightExposure:
    """Per night: minutes a person spent under alert in the window (population-weighted over
    the regions given), and what an ordinary hour brings (the background) times its length."""

    t0: np.ndarray
    t1: np.ndarray
    threats: np.ndarray
    minutes: np.ndarray
    background: np.ndarray
    background_per_h: float

    @property
    def excess(self) -> np.ndarray:
        """Minutes above the background."""
        return self.minutes - self.background


def night_exposure(
    history: AlertHistory,
    nights: AttackNights,
    population: dict[str, float],
    after_s: float = 3600.0,
    quiet_gap_s: float = 6 * 3600.0,
) -> NightExposure:
    """Minutes per person under alert from each night's start to ``after_s`` past its end
    (alerts outlast the report period), weighted by ``population`` (region key -> people;
    regions absent from it count for nothing). Nights after the history's last alert are
    left out. The background is the same measure per hour over every hour of the history
    farther than ``quiet_gap_s`` from any reported attack (and off every daily report's
    date)."""
    keys = list(history.regions)
    w = np.array([population.get(k, 0.0) for k in keys])
    if w.sum() <= 0:
        raise ValueError("no region of the history has a population")
    w = w / w.sum()
    last = float(history.end.max()) if history.end.size else -np.inf
    keep = nights.t1 + after_s <= last
    t0, t1 = nights.t0[keep], nights.t1[keep] + after_s
    sec = history.seconds_under_alert(t0, t1)
    minutes = sec @ w / 60.0
    # background: whole hours away from any attack
    first = float(history.start.min())
    h0 = np.arange(math.ceil(first / 3600) * 3600, last - 3600, 3600.0)
    quiet = np.ones(h0.size, dtype=bool)
    lo = np.searchsorted(h0, nights.t0 - quiet_gap_s)
    hi = np.searchsorted(h0, nights.t1 + quiet_gap_s)
    mark = np.zeros(h0.size + 1, dtype=int)
    np.add.at(mark, lo, 1)
    np.add.at(mark, hi, -1)
    quiet &= np.cumsum(mark)[:-1] == 0
    day = np.floor(h0 / 86400.0) * 86400.0
    quiet &= ~np.isin(day, nights.days)
    hourly = history.seconds_under_alert(h0[quiet], h0[quiet] + 3600.0) @ w / 60.0
    per_h = float(hourly.mean()) if hourly.size else 0.0
    return NightExposure(t0, t1, nights.threats[keep], minutes, per_h * (t1 - t0) / 3600.0, per_h)


def exposure_table(
    ex: NightExposure, edges: tuple[float, ...] = (1, 10, 30, 60, 100)
) -> list[dict]:
    """Nights binned by threats launched (``edges``: each bin from one edge to the next, the
    last open): count, medians of threats, window, minutes and excess minutes, the 25th and
    75th percentiles of minutes."""
    rows = []
    bounds = list(edges) + [np.inf]
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        m = (ex.threats >= lo) & (ex.threats < hi)
        if not m.any():
            continue
        rows.append(
            {
                "threats": f"{lo:g}+" if math.isinf(hi) else f"{lo:g}-{hi - 1:g}",
                "nights": int(m.sum()),
                "threats_median": float(np.median(ex.threats[m])),
                "window_h_median": float(np.median((ex.t1 - ex.t0)[m]) / 3600.0),
                "minutes_median": float(np.median(ex.minutes[m])),
                "minutes_p25": float(np.percentile(ex.minutes[m], 25)),
                "minutes_p75": float(np.percentile(ex.minutes[m], 75)),
                "excess_median": float(np.median(ex.excess[m])),
            }
        )
    return rows
