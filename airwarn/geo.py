"""The local metric frame: WGS84 lat/lon at the edges, metres inside the math.

A :class:`LocalFrame` is an oblique stereographic projection of the WGS84
ellipsoid centred on a reference point (pyproj). It is conformal, so headings
are kept locally, and its scale error stays below 0.3% within 700 km of the
centre — one frame covers all of Ukraine. Velocities are rotated by the local
grid convergence so that ``vel_e``/``vel_n`` (true east/north) map to frame
x/y correctly everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pyproj import Transformer
from scipy.spatial import cKDTree

from airwarn.contracts import SENSOR_KIND_CODE, SensorHealth

EARTH_RADIUS_M = 6_371_008.8
G0 = 9.80665
"""Standard gravity (m/s^2)."""
HORIZON_M = 4120.0
"""Radar horizon factor with 4/3-Earth refraction: d = HORIZON_M (sqrt(h_radar) + sqrt(h_target))."""


def radar_horizon_m(h_radar: np.ndarray, h_target: np.ndarray) -> np.ndarray:
    """Radar horizon with 4/3-Earth refraction: d = 4.12 km * (sqrt(h_r) + sqrt(h_t)), h in m."""
    return HORIZON_M * (np.sqrt(np.maximum(h_radar, 0.0)) + np.sqrt(np.maximum(h_target, 0.0)))


def radar_view_m(
    mast_m: np.ndarray,
    range_m: np.ndarray,
    target_alt_m: float,
    mast_max_m: float,
    unknown_mast_m: float | None = None,
) -> np.ndarray:
    """Per radar: how far it sees a flyer ``target_alt_m`` up, its radar horizon from its
    antenna height ``mast_m`` (at most ``mast_max_m``: a height above sea level on high
    ground is no mast), within ``range_m``; where the height is unknown (NaN), from
    ``unknown_mast_m`` or, if None, 0; 0 where it is negative."""
    mast = np.asarray(mast_m, float)
    if unknown_mast_m is not None:
        mast = np.where(np.isnan(mast), unknown_mast_m, mast)
    known = np.isfinite(mast) & (mast >= 0.0)
    h = np.minimum(np.where(known, mast, 0.0), mast_max_m)
    view = np.minimum(
        np.asarray(range_m, float), radar_horizon_m(h, np.full(h.shape, target_alt_m))
    )
    return np.where(known, view, 0.0)


class LiveCover:
    """Coverage circles of the live sensors whose silence is evidence, as (KD-tree, radii,
    acoustic) groups: acoustic posts out to ``acoustic_frac`` of their range and, unless
    ``radar_alt_m`` is None, radars out to their view of a flyer that high
    (:func:`radar_view_m`; a radar of unknown antenna height from ``unknown_mast_m``, none
    if None); rebuilt only when the live set, a radius or a position changes."""

    def __init__(
        self,
        acoustic_frac: float,
        radar_alt_m: float | None,
        mast_max_m: float,
        unknown_mast_m: float | None = None,
    ) -> None:
        self.acoustic_frac = acoustic_frac
        self.radar_alt_m = radar_alt_m
        self.mast_max_m = mast_max_m
        self.unknown_mast_m = unknown_mast_m
        self._key: bytes | None = None
        self._groups: list[tuple[cKDTree, np.ndarray, bool]] = []

    def groups(self, health: SensorHealth) -> list[tuple[cKDTree, np.ndarray, bool]]:
        """The groups of the sensors in ``health`` (no radar counts without antenna heights)."""
        kind = np.asarray(health.kind)
        acoustic = kind == SENSOR_KIND_CODE["acoustic"]
        rng = np.asarray(health.range_m, float)
        r = np.where(acoustic, self.acoustic_frac * rng, 0.0)
        if self.radar_alt_m is not None and (
            health.alt_m is not None or self.unknown_mast_m is not None
        ):
            mast = np.full(rng.shape, np.nan) if health.alt_m is None else health.alt_m
            view = radar_view_m(mast, rng, self.radar_alt_m, self.mast_max_m, self.unknown_mast_m)
            r = np.where(kind == SENSOR_KIND_CODE["radar"], view, r)
        use = np.asarray(health.alive, bool) & (r > 0.0)
        xy = np.column_stack([np.asarray(health.x, float), np.asarray(health.y, float)])
        key = np.packbits(use).tobytes() + r[use].tobytes() + xy[use].tobytes()
        if key != self._key:
            self._key, self._groups = key, []
            for ac in (True, False):
                m = use & (acoustic == ac)
                if m.any():
                    self._groups.append((cKDTree(xy[m]), r[m], ac))
        return self._groups


def fall_time(z: np.ndarray, vz: np.ndarray, g: np.ndarray | float) -> np.ndarray:
    """Seconds until altitude ``z`` (above ground) falls to 0 at vertical speed ``vz`` under
    a constant downward acceleration ``g``: z + vz t - g t^2 / 2 = 0."""
    g = np.asarray(g, float)
    disc = np.maximum(vz**2 + 2.0 * g * np.maximum(z, 0.0), 0.0)
    return (vz + np.sqrt(disc)) / g


def central_lon(lons: np.ndarray) -> float:
    """Longitude (degrees) midway along the shortest arc that holds every one of ``lons``:
    ``(min + max) / 2`` unless the points lie across the 180th meridian (Fiji, Chukotka),
    where that midpoint would be half a world away."""
    lo = np.asarray(lons, float).ravel()
    mid = 0.5 * (lo.min() + lo.max())
    u = np.unique(np.mod(lo + 180.0, 360.0) - 180.0)
    if u.size < 2:
        return float(mid)
    gaps = np.diff(np.r_[u, u[0] + 360.0])
    k = int(np.argmax(gaps))
    if k == u.size - 1:  # the widest empty arc is the one across 180: no wrap
        return float(mid)
    west, east = u[k + 1], u[k] + 360.0  # the occupied arc runs east from u[k + 1] to u[k]
    return float(np.mod(0.5 * (west + east) + 180.0, 360.0) - 180.0)


class LocalFrame:
    """Vectorised conversions between WGS84 and a local (x east, y north) frame in metres."""

    def __init__(self, lat0: float, lon0: float):
        self.lat0 = float(lat0)
        self.lon0 = float(lon0)
        proj = (
            f"+proj=sterea +lat_0={self.lat0} +lon_0={self.lon0} +k=1 "
            "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        self._fwd = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
        self._inv = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)

    def __repr__(self) -> str:
        return f"LocalFrame(lat0={self.lat0:.5f}, lon0={self.lon0:.5f})"

    @classmethod
    def around(cls, lats: Iterable[float], lons: Iterable[float]) -> LocalFrame:
        """A frame centred on the bounding box of the given points."""
        la = np.asarray(list(lats) if not isinstance(lats, np.ndarray) else lats, float)
        lo = np.asarray(list(lons) if not isinstance(lons, np.ndarray) else lons, float)
        if la.size == 0:
            raise ValueError("LocalFrame.around needs at least one point")
        return cls(0.5 * (la.min() + la.max()), central_lon(lo))

    def to_local(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        """WGS84 degrees -> local (x, y) metres."""
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def to_geo(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Local (x, y) metres -> WGS84 (lat, lon) degrees."""
        lon, lat = self._inv.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lat, float), np.asarray(lon, float)

    def _convergence(self, lat, lon) -> np.ndarray:
        """Angle (rad) from true north to grid north at each point, counter-clockwise."""
        lat = np.asarray(lat, float)
        lon = np.asarray(lon, float)
        d = 1e-4
        x0, y0 = self.to_local(lat - d, lon)
        x1, y1 = self.to_local(lat + d, lon)
        return np.arctan2(-(x1 - x0), y1 - y0)

    def vel_to_local(self, lat, lon, vel_e, vel_n) -> tuple[np.ndarray, np.ndarray]:
        """True east/north velocity at (lat, lon) -> frame (vx, vy)."""
        g = self._convergence(lat, lon)
        c, s = np.cos(g), np.sin(g)
        ve, vn = np.asarray(vel_e, float), np.asarray(vel_n, float)
        return c * ve - s * vn, s * ve + c * vn

    def vel_to_geo(self, x, y, vx, vy) -> tuple[np.ndarray, np.ndarray]:
        """Frame velocity (vx, vy) at local (x, y) -> true (vel_e, vel_n)."""
        lat, lon = self.to_geo(x, y)
        g = self._convergence(lat, lon)
        c, s = np.cos(g), np.sin(g)
        vx, vy = np.asarray(vx, float), np.asarray(vy, float)
        return c * vx + s * vy, -s * vx + c * vy


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres (spherical Earth), vectorised."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


UKRAINE_CENTER = (48.6, 31.3)
"""Centre of the built-in region's frame (lat, lon)."""


def within_any_circle(
    px: np.ndarray,
    py: np.ndarray,
    radius: np.ndarray,
    centres: cKDTree,
    pz: np.ndarray | None = None,
) -> np.ndarray:
    """Bool per point (local metres): inside at least one circle of ``radius`` (one per
    centre of the KD-tree ``centres``), e.g. the coverage of a set of sensors. With ``pz``
    (height per point) the circles are spheres on the ground: a point at height z is inside
    within ``sqrt(radius^2 - z^2)`` of a centre (slant range)."""
    px, py = np.asarray(px, float), np.asarray(py, float)
    out = np.zeros(px.shape, bool)
    r = np.asarray(radius, float)
    if px.size == 0 or r.size == 0:
        return out
    pts = cKDTree(np.column_stack([px.ravel(), py.ravel()]))
    sm = pts.sparse_distance_matrix(centres, float(r.max()), output_type="ndarray")
    if sm.size:
        i, j = sm["i"], sm["j"]
        r2 = r[j] ** 2
        if pz is not None:
            r2 = r2 - np.broadcast_to(np.asarray(pz, float), px.shape).ravel()[i] ** 2
        out.ravel()[i[sm["v"] ** 2 <= r2]] = True
    return out
