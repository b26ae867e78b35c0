"""Small hand-built zones, tracks, threats and sensor health for the decide tests."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, SensorHealth, TrackState, ZoneThreats
from airwarn.decide.policy import Policy
from airwarn.geo import LocalFrame
from airwarn.zones.zoneset import ZoneSet

LAT0, LON0 = 49.0, 32.0
T0 = 1_750_000_000.0

# zone id, centre x, centre y (km), shelter_s, region
ZONES = [
    ("A", 0.0, 0.0, 60.0, "R1"),
    ("B", 10.0, 0.0, 90.0, "R1"),
    ("C", 20.0, 0.0, 300.0, "R1"),
    ("D", 0.0, 50.0, 60.0, "R2"),
    ("E", 40.0, 0.0, 60.0, "R2"),
]


def square(frame: LocalFrame, cx: float, cy: float, half: float):
    lat, lon = frame.to_geo(np.array([cx - half, cx + half]), np.array([cy - half, cy + half]))
    return box(lon[0], lat[0], lon[1], lat[1])


@pytest.fixture(scope="session")
def zones() -> ZoneSet:
    from airwarn.contracts import Zone

    frame = LocalFrame(LAT0, LON0)
    zs = [
        Zone(zid, zid, 1000, shelter, region, square(frame, x * 1000, y * 1000, 1500))
        for zid, x, y, shelter, region in ZONES
    ]
    return ZoneSet(zs, frame)


@pytest.fixture()
def policy() -> Policy:
    return Policy.load()


def threats(t: float, rows: list[tuple]) -> ZoneThreats:
    """rows: (zone index, track id, cls, p_reach, p_impact, eta_p10, eta_p50[, lost[, eta_q]]).

    ``eta_q`` is left out (None: decide falls back to eta_p10) unless every row gives it.
    """
    if not rows:
        return ZoneThreats.empty(t)
    eq = None
    if all(len(r) == 9 for r in rows):
        eq = np.array([r[8] for r in rows], float)
        rows = [tuple(r)[:8] for r in rows]
    cols = list(zip(*[tuple(r) + (False,) * (8 - len(r)) for r in rows], strict=True))
    return ZoneThreats(
        t=t,
        zone=np.array(cols[0], np.int64),
        track=np.array(cols[1], np.int64),
        cls=np.array([CLS_CODE[c] for c in cols[2]], np.int64),
        p_reach=np.array(cols[3], float),
        p_impact=np.array(cols[4], float),
        eta_p10=np.array(cols[5], float),
        eta_p50=np.array(cols[6], float),
        lost=np.array(cols[7], bool),
        eta_q=eq,
    )


def tracks(t: float, rows: list[tuple]) -> TrackState:
    """rows: (id, x, y, vx, vy, cls, confirmed)."""
    if not rows:
        return TrackState.empty(t)
    n = len(rows)
    x = np.zeros((n, 6))
    for i, r in enumerate(rows):
        x[i, [0, 1, 3, 4]] = r[1:5]
    cls = np.array([CLS_CODE[r[5]] for r in rows], np.int64)
    prob = np.zeros((n, len(THREAT_CLASSES)))
    prob[np.arange(n), cls] = 1.0
    return TrackState(
        t=t,
        ids=np.array([r[0] for r in rows], np.int64),
        x=x,
        P=np.tile(np.eye(6) * 100.0, (n, 1, 1)),
        cls=cls,
        cls_prob=prob,
        confirmed=np.array([r[6] for r in rows], bool),
        last_update=np.full(n, t),
        n_updates=np.full(n, 10, np.int64),
    )


def health(t: float, sensors: list[tuple] | None = None) -> SensorHealth:
    """sensors: (x, y, range_m, alive)."""
    sensors = sensors or [(0.0, 0.0, 100_000.0, True)]
    a = np.array(sensors, float)
    alive = a[:, 3].astype(bool)
    return SensorHealth(
        t=t,
        x=a[:, 0],
        y=a[:, 1],
        range_m=a[:, 2],
        kind=np.ones(len(a), np.int64),
        last_seen=np.where(alive, t - 30.0, t - 600.0),
        alive=alive,
    )


@pytest.fixture(scope="session")
def mk():
    """Builders for hand-made hand-offs: mk.threats, mk.tracks, mk.health."""
    from types import SimpleNamespace

    return SimpleNamespace(threats=threats, tracks=tracks, health=health, T0=T0)
