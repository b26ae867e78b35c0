"""Fixtures for predict tests: square zones in a local frame and hand-made track states."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from shapely.geometry import Polygon

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, TrackState, Zone
from airwarn.decide.policy import Policy
from airwarn.geo import LocalFrame
from airwarn.zones.zoneset import ZoneSet

FRAME = LocalFrame(48.6, 31.3)


def square_zone(
    frame: LocalFrame, zid: str, cx: float, cy: float, half: float, population: int = 1000
) -> Zone:
    """A square zone of side ``2*half`` metres centred on local (cx, cy)."""
    xs = np.array([cx - half, cx + half, cx + half, cx - half])
    ys = np.array([cy - half, cy - half, cy + half, cy + half])
    lat, lon = frame.to_geo(xs, ys)
    return Zone(zid, zid, population, 60.0, "R1", Polygon(list(zip(lon, lat, strict=True))))


def make_zones(centres: Sequence[tuple[str, float, float]], half: float = 2000.0, pop=1000):
    """A ZoneSet of squares at local centres (id, x, y)."""
    zs = [square_zone(FRAME, zid, x, y, half, pop) for zid, x, y in centres]
    return ZoneSet(zs, FRAME)


def make_tracks(
    t: float,
    states: Sequence[Sequence[float]],
    cls: Sequence[str],
    *,
    ids: Sequence[int] | None = None,
    sigma_pos: float = 200.0,
    sigma_vel: float = 2.0,
    confirmed: Sequence[bool] | None = None,
) -> TrackState:
    """A TrackState from (e, n, u, ve, vn, vu) rows, with diagonal covariances."""
    x = np.asarray(states, float).reshape(-1, 6)
    n = x.shape[0]
    P = np.zeros((n, 6, 6))
    for i in range(3):
        P[:, i, i] = sigma_pos**2
        P[:, i + 3, i + 3] = sigma_vel**2
    codes = np.array([CLS_CODE[c] for c in cls], np.int64)
    prob = np.zeros((n, len(THREAT_CLASSES)))
    prob[np.arange(n), codes] = 1.0
    return TrackState(
        t=float(t),
        ids=np.asarray(ids if ids is not None else np.arange(1, n + 1), np.int64),
        x=x,
        P=P,
        cls=codes,
        cls_prob=prob,
        confirmed=np.asarray(confirmed if confirmed is not None else [True] * n, bool),
        last_update=np.full(n, float(t)),
        n_updates=np.full(n, 10, np.int64),
    )


@pytest.fixture
def policy() -> Policy:
    """The default policy."""
    return Policy.load()


@pytest.fixture
def zones_factory() -> Callable[..., ZoneSet]:
    return make_zones


@pytest.fixture
def tracks_factory() -> Callable[..., TrackState]:
    return make_tracks
