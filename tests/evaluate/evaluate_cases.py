"""Hand-made zones, threats and alert lines near 50N 30E for known-answer scorecard tests."""

from __future__ import annotations

import numpy as np
from shapely.geometry import Polygon

from airwarn.contracts import AlertChange, Threat, Zone
from airwarn.geo import LocalFrame

FRAME = LocalFrame(50.0, 30.0)


def square(
    zid: str,
    x0: float,
    y0: float,
    size: float = 2000.0,
    *,
    region: str = "R1",
    population: int = 1000,
    shelter_s: float = 90.0,
) -> Zone:
    """A square zone with its south-west corner at local (x0, y0) metres of FRAME."""
    xs = np.array([x0, x0 + size, x0 + size, x0, x0])
    ys = np.array([y0, y0, y0 + size, y0 + size, y0])
    lat, lon = FRAME.to_geo(xs, ys)
    return Zone(zid, zid, population, shelter_s, region, Polygon(np.column_stack([lon, lat])))


def straight(
    tid: str,
    x0: float,
    y0: float,
    x1: float,
    y1: float,
    t0: float,
    speed: float = 50.0,
    *,
    cls: str = "drone",
    alt_m: float = 200.0,
    impact: bool = False,
    n: int = 11,
) -> Threat:
    """A threat flying a straight line at constant speed; impact at the end if asked."""
    dur = float(np.hypot(x1 - x0, y1 - y0)) / speed
    f = np.linspace(0.0, 1.0, n)
    lat, lon = FRAME.to_geo(x0 + f * (x1 - x0), y0 + f * (y1 - y0))
    t = t0 + f * dur
    imp = None
    if impact:
        imp = {"t": float(t[-1]), "lat": float(lat[-1]), "lon": float(lon[-1])}
    return Threat(
        tid,
        cls,
        t,
        lat,
        lon,
        np.full(n, alt_m),
        "impact" if impact else "left",
        imp,
    )


def alerts(*rows: tuple[float, str, str]) -> list[AlertChange]:
    """Alert lines from (t, zone, state) tuples."""
    return [AlertChange(t=t, zone=z, state=s) for t, z, s in rows]
