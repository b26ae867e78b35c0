"""zones: the built-in Ukraine region, user zone files, and the vectorised ZoneSet."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from airwarn.contracts import Zone, read_zones
from airwarn.geo import LocalFrame, central_lon
from airwarn.zones.zoneset import ZoneSet

__all__ = ["ZoneSet", "builtin_zones", "load_zones", "zone_set"]


def builtin_zones() -> list[Zone]:
    """The built-in Ukraine region: populated H3 cells on government-controlled land."""
    from airwarn.zones.builtin import build_builtin_zones

    return build_builtin_zones(controlled_only=True)


def load_zones(path: str | Path) -> list[Zone]:
    """User zones from a zones.geojson file (see docs/contracts.md)."""
    return read_zones(path)


def zone_set(zones: Sequence[Zone]) -> ZoneSet:
    """A ZoneSet in a local frame centred on the zones' latitudes and on the shortest arc
    holding their longitudes (across the 180th meridian too)."""
    b = np.array([z.geometry.bounds for z in zones], float)  # minx, miny, maxx, maxy (lon/lat)
    frame = LocalFrame(0.5 * (b[:, 1].min() + b[:, 3].max()), central_lon(b[:, [0, 2]]))
    return ZoneSet(zones, frame)
