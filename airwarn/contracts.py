"""Data contracts shared by every pipeline stage.

Two layers live here and nowhere else:

* the **public records** read and written as JSON lines / GeoJSON (``Sensor``,
  ``Detection``, ``Heartbeat``, ``Zone``, ``Threat``, ``AlertChange``,
  ``TrackUpdate``), each with a strict parser that names the record and the field
  on bad input (see docs/contracts.md);
* the **columnar hand-offs** between stages (``DetectionBatch``, ``TrackState``,
  ``ZoneThreats``, ``SensorHealth``): numpy arrays over all reports, tracks or
  (zone, track) pairs at once, in the local metric frame of :mod:`airwarn.geo`.

Time is UTC epoch seconds, distances metres, speeds m/s, angles degrees.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

THREAT_CLASSES: tuple[str, ...] = (
    "drone",
    "jet_drone",
    "cruise",
    "ballistic",
    "aircraft",
    "unknown",
)
"""Threat classes, in the order used by integer class codes (``CLS_CODE``)."""
CLS_CODE: dict[str, int] = {c: i for i, c in enumerate(THREAT_CLASSES)}
_CLS_NAMES: dict[str, tuple[str, ...]] = {
    "drone": ("uav", "owa_uav", "shahed", "shahed_136", "shahed_131", "geran", "geran_2",
              "loitering_munition", "attack_drone", "one_way_attack_drone", "kamikaze_drone",
              "lancet", "gerbera"),
    "jet_drone": ("jetdrone", "jet_uav", "jet_powered_drone", "shahed_238", "geran_3"),
    "cruise": ("cruise_missile", "kh_101", "kh_555", "kh_55", "kh_59", "kh_69", "kalibr",
               "3m_14", "tomahawk", "storm_shadow", "scalp", "neptune", "lacm"),
    "ballistic": ("ballistic_missile", "srbm", "mrbm", "tbm", "iskander", "iskander_m",
                  "9m723", "kn_23", "kn_24", "fateh_110", "fateh", "kheibar_shekan", "emad",
                  "ghadr", "kinzhal", "kh_47", "kh_47m2", "s_300", "s_400", "tochka",
                  "tochka_u", "rocket", "mlrs", "grad", "qassam", "katyusha",
                  "quasi_ballistic"),
    "aircraft": ("plane", "airplane", "aeroplane", "helicopter", "fighter", "fighter_jet", "airliner",
                 "manned_aircraft"),
    "unknown": ("missile", "glide_bomb", "guided_bomb", "kab", "umpk", "unidentified",
                "unclassified", "other"),
}  # fmt: skip
"""Other generators' names per class. Weapons airwarn has no class of its own for (glide
bombs, a bare "missile") are read as 'unknown': their kinematics decide how they move."""
CLS_ALIASES: dict[str, str] = {a: c for c, names in _CLS_NAMES.items() for a in names}
"""Other generators' names for the threat classes, after lower-casing and turning spaces and
hyphens into underscores ("Cruise missile", "Shahed-136"): read as the class they name."""
UNKNOWN_CLS = CLS_CODE["unknown"]
BALLISTIC_MIN_ALT_M = 12_000.0
"""Default altitude (m) at or above which a track of unknown class moves as a ballistic
threat (predict's ``ballistic_min_alt_m``; decide reads the same policy key)."""
BALLISTIC_MIN_VZ = 100.0
"""Default climb or fall speed (m/s) from which a track of unknown class moves as a
ballistic threat (``ballistic_min_vz``)."""
DIVE_VZ = 50.0
"""Default descent speed (m/s, by two sigma) from which a track is falling (``dive_vz``)."""
GHOST_RADAR_ALT_M = 30.0
"""Default height (m) of the lowest flyer a radar is held to see, out to its horizon
(``ghost_radar_alt_m``: predict's ghosts and decide's vanished tracks read the same key)."""
GHOST_RADAR_MAST_MAX_M = 100.0
"""Default cap (m) on a radar's antenna height for that horizon (``ghost_radar_mast_max_m``)."""
GHOST_RADAR_MAST_UNKNOWN_M = 5.0
"""Default antenna height (m) taken for a radar whose sensors line gives no ``alt_m``, for
that horizon only (``ghost_radar_mast_unknown_m``): a low mast, so its view is not
overstated."""

SENSOR_KINDS_KNOWN: tuple[str, ...] = ("acoustic", "radar", "observer")
"""Sensor kinds with their own measurement model; other kind strings are accepted."""

ALERT_STATES: tuple[str, ...] = ("pre_alert", "alert", "clear")
FATES: tuple[str, ...] = ("impact", "downed", "left")
_FATE_NAMES: dict[str, tuple[str, ...]] = {
    "impact": ("hit", "impacted", "strike", "struck", "ground_impact"),
    "downed": ("intercepted", "destroyed", "shot_down", "shotdown", "killed", "neutralized",
               "neutralised"),
    "left": ("exited", "exit", "left_area", "departed"),
}  # fmt: skip
FATE_ALIASES: dict[str, str] = {a: f for f, names in _FATE_NAMES.items() for a in names}
"""Other generators' names for a threat's fate, after lower-casing and turning spaces and
hyphens into underscores ("Intercepted", "shot down"): read as the fate they name."""

MAX_LATENESS_S = 60.0
"""A report may be up to this much older than reports that arrived before it."""
HEARTBEAT_PERIOD_S = 60.0
"""Sensors send one heartbeat per period; silence beyond ~2 periods means down."""


class PolicyError(ValueError):
    """A bad policy file or key (policy.toml and its tables); the message names the file or
    table and the key."""


class RecordError(ValueError):
    """A bad input record: names the source, the line (or feature) and the field."""

    def __init__(self, source: str, line: int | None, field_name: str | None, message: str):
        self.source = source
        self.line = line
        self.field = field_name
        self.message = message
        where = source if line is None else f"{source} line {line}"
        what = f"field '{field_name}': " if field_name else ""
        super().__init__(f"{where}: {what}{message}")


# ---------------------------------------------------------------------------
# field validation helpers
# ---------------------------------------------------------------------------
def _err(src: str, line: int | None, fld: str | None, msg: str) -> RecordError:
    return RecordError(src, line, fld, msg)


def _num(
    obj: dict,
    key: str,
    src: str,
    line: int | None,
    *,
    required: bool = True,
    lo: float | None = None,
    hi: float | None = None,
    positive: bool = False,
) -> float | None:
    if key not in obj or obj[key] is None:
        if required:
            raise _err(src, line, key, "is required")
        return None
    v = obj[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _err(src, line, key, f"must be a number, got {v!r}")
    v = float(v)
    if not math.isfinite(v):
        raise _err(src, line, key, f"must be finite, got {v!r}")
    if lo is not None and v < lo:
        raise _err(src, line, key, f"must be >= {lo}, got {v!r}")
    if hi is not None and v > hi:
        raise _err(src, line, key, f"must be <= {hi}, got {v!r}")
    if positive and v <= 0:
        raise _err(src, line, key, f"must be > 0, got {v!r}")
    return v


def iso_seconds(v: str) -> float:
    """UTC seconds of an ISO 8601 / RFC 3339 time with an explicit offset ("Z" or "+02:00");
    ValueError for anything else (a time without an offset is ambiguous)."""
    try:
        d = datetime.fromisoformat(v.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {v!r}") from None
    if d.tzinfo is None or d.utcoffset() is None:
        raise ValueError(f"an ISO 8601 time needs a UTC offset ('Z' or '+02:00'): {v!r}")
    return d.timestamp()


MAX_TIME_S = 1e11
"""Times beyond this (the year 5138 in seconds) are refused as milliseconds: airwarn reads
UTC seconds, and another system's epoch milliseconds would otherwise slow every threat a
thousandfold without a word."""


def _seconds_not_ms(t: float, src: str, line: int | None, key: str) -> None:
    if t > MAX_TIME_S:
        raise _err(src, line, key, f"{t:.0f} looks like milliseconds: times are UTC seconds")


def _time(obj: dict, key: str, src: str, line: int | None, *, lo: float | None = None) -> float:
    """A required time: UTC seconds, or an ISO 8601 string with an offset (converted);
    epoch milliseconds are refused with a message saying so."""
    v = obj.get(key)
    if isinstance(v, str):
        try:
            obj = {key: iso_seconds(v)}
        except ValueError as exc:
            raise _err(src, line, key, f"must be UTC seconds or {exc}") from None
    out = _num(obj, key, src, line, lo=lo)
    assert out is not None
    _seconds_not_ms(out, src, line, key)
    return out


def canonical_name(v: str, aliases: dict[str, str]) -> str:
    """A class or kind name lower-cased, spaces and hyphens made underscores, then read
    through ``aliases`` ("Shahed-136" -> "drone" with CLS_ALIASES)."""
    key = v.strip().lower().replace(" ", "_").replace("-", "_")
    return aliases.get(key, key)


def _cls(obj: dict, src: str, line: int | None, *, required: bool = False) -> str | None:
    """A threat class (``cls``): one of THREAT_CLASSES in any case, or a name in CLS_ALIASES."""
    v = obj.get("cls")
    if v is None:
        if required:
            raise _err(src, line, "cls", "is required")
        return None
    if isinstance(v, str) and (key := canonical_name(v, CLS_ALIASES)) in CLS_CODE:
        return key
    raise _err(src, line, "cls", f"must be one of {list(THREAT_CLASSES)}, got {v!r}")


def _str(obj: dict, key: str, src: str, line: int | None, *, required: bool = True) -> str | None:
    if key not in obj or obj[key] is None:
        if required:
            raise _err(src, line, key, "is required")
        return None
    v = obj[key]
    if not isinstance(v, str) or not v:
        raise _err(src, line, key, f"must be a non-empty string, got {v!r}")
    return v


def _ident(obj: dict, key: str, src: str, line: int | None) -> str:
    """A required identifier: a non-empty string, or an integer (other generators number
    their sensors, reports and threats) read as its decimal string."""
    v = obj.get(key)
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    out = _str(obj, key, src, line)
    assert out is not None
    return out


def _obj(obj: Any, src: str, line: int | None) -> dict:
    if not isinstance(obj, dict):
        raise _err(src, line, None, f"must be a JSON object, got {type(obj).__name__}")
    return obj


def polygonal_part(g: Any) -> Any:
    """The (multi)polygon part of a shapely geometry with area, repaired if invalid (a
    self-intersecting "bow-tie" ring becomes its two triangles); None if nothing is left."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    if g is None or g.is_empty:
        return None
    if g.is_valid:
        if isinstance(g, Polygon | MultiPolygon):
            return g if g.area > 0 else None
    else:
        g = shapely.make_valid(g)
    polys: list[Polygon] = []
    for p in shapely.get_parts(g):
        if isinstance(p, Polygon):
            polys.append(p)
        elif isinstance(p, MultiPolygon):
            polys.extend(p.geoms)
        elif hasattr(p, "geoms"):  # a collection inside the collection
            part = polygonal_part(p)
            if part is not None:
                polys.extend(shapely.get_parts(part))
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


# ---------------------------------------------------------------------------
# public records
# ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sensor:
    """A registered sensor (one line of ``sensors.jsonl``)."""

    id: str
    kind: str
    lat: float
    lon: float
    range_m: float
    alt_m: float | None = None

    @classmethod
    def parse(cls, obj: Any, src: str = "sensors.jsonl", line: int | None = None) -> Sensor:
        """Validate one decoded JSON object; raise RecordError naming the bad field."""
        o = _obj(obj, src, line)
        return cls(
            id=_ident(o, "id", src, line),
            kind=_str(o, "kind", src, line),
            lat=_num(o, "lat", src, line, lo=-90, hi=90),
            lon=_num(o, "lon", src, line, lo=-180, hi=180),
            range_m=_num(o, "range_m", src, line, positive=True),
            alt_m=_num(o, "alt_m", src, line, required=False, lo=-500, hi=20000),
        )

    def to_json(self) -> dict:
        return _drop_none(asdict(self))


@dataclass(frozen=True, slots=True)
class Detection:
    """One sensor report (one non-heartbeat line of ``detections.jsonl``)."""

    t: float
    sensor: str
    lat: float
    lon: float
    sigma_m: float
    id: str
    alt_m: float | None = None
    sigma_alt_m: float | None = None
    vel_e: float | None = None
    vel_n: float | None = None
    vel_u: float | None = None
    cls: str | None = None

    def to_json(self) -> dict:
        return _drop_none(asdict(self))


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """A sensor's 'I am alive' line in ``detections.jsonl``."""

    t: float
    sensor: str

    def to_json(self) -> dict:
        return {"t": self.t, "sensor": self.sensor, "heartbeat": True}


def parse_report(obj: Any, src: str = "detections.jsonl", line: int | None = None):
    """Validate one decoded detections.jsonl object into a Detection or a Heartbeat."""
    o = _obj(obj, src, line)
    t = _time(o, "t", src, line, lo=0)
    sensor = _ident(o, "sensor", src, line)
    hb = o.get("heartbeat")
    if hb is not None and hb is not False:
        if hb is not True:
            raise _err(src, line, "heartbeat", f"must be true when present, got {hb!r}")
        return Heartbeat(t=t, sensor=sensor)
    cls = _cls(o, src, line)
    return Detection(
        t=t,
        sensor=sensor,
        lat=_num(o, "lat", src, line, lo=-90, hi=90),
        lon=_num(o, "lon", src, line, lo=-180, hi=180),
        sigma_m=_num(o, "sigma_m", src, line, positive=True),
        id=_ident(o, "id", src, line),
        alt_m=_num(o, "alt_m", src, line, required=False, lo=-500, hi=2_000_000),
        sigma_alt_m=_num(o, "sigma_alt_m", src, line, required=False, positive=True),
        vel_e=_num(o, "vel_e", src, line, required=False, lo=-10000, hi=10000),
        vel_n=_num(o, "vel_n", src, line, required=False, lo=-10000, hi=10000),
        vel_u=_num(o, "vel_u", src, line, required=False, lo=-10000, hi=10000),
        cls=cls,
    )


ZONE_PROPERTY_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("zone_id", "area_id", "code", "pcode", "fid", "gid"),
    "name": ("name_en", "title", "label"),
    "population": ("pop", "population_total", "total_population", "inhabitants", "people",
                   "residents"),
    "shelter_s": ("time_to_shelter_s", "shelter_time_s", "migun_time", "countdown"),
    "region": ("oblast", "district", "admin1", "state", "province", "county", "parent"),
}  # fmt: skip
"""Other names a zone file may give its properties (matched in any case): read when the
contract's own name is absent ("POP", "Migun_Time" and "District" are read as population,
shelter_s and region)."""
_FILL = (
    " (`airwarn zones --from polygons --src FILE` fills population, shelter_s and region for"
    " any polygons)"
)


def zone_properties(props: dict) -> dict:
    """A feature's properties with the contract's names: each of ``id``, ``name``,
    ``population``, ``shelter_s`` and ``region`` taken as given, else from the first of
    its ZONE_PROPERTY_ALIASES present (names compared in any case)."""
    out = dict(props)
    lower = {str(k).lower(): k for k in props}
    for key, aliases in ZONE_PROPERTY_ALIASES.items():
        if props.get(key) is not None:
            continue
        for a in (key, *aliases):
            k = lower.get(a)
            if k is not None and props[k] is not None:
                out[key] = props[k]
                break
    return out


def _numeric(v: Any) -> Any:
    """A number written as a string ("12000", GIS exports do) as a number; else as given."""
    if isinstance(v, str):
        try:
            x = float(v.strip().replace(",", ""))
        except ValueError:
            return v
        return x if math.isfinite(x) else v
    return v


@dataclass(slots=True)
class Zone:
    """An alert zone: a polygon where people live, with its time to shelter.

    ``geometry`` is a shapely (Multi)Polygon in WGS84 lon/lat (GeoJSON order).
    """

    id: str
    name: str
    population: int
    shelter_s: float
    region: str
    geometry: Any

    @classmethod
    def parse_feature(cls, feat: Any, src: str = "zones.geojson", index: int | None = None) -> Zone:
        """Validate one GeoJSON Feature; ``index`` is the feature's position (1-based)."""
        from shapely.geometry import shape

        f = _obj(feat, src, index)
        props = f.get("properties")
        if not isinstance(props, dict):
            raise _err(src, index, "properties", "must be an object")
        geom = f.get("geometry")
        if not isinstance(geom, dict) or geom.get("type") not in ("Polygon", "MultiPolygon"):
            raise _err(src, index, "geometry", "must be a Polygon or MultiPolygon")
        try:
            g = shape(geom)
        except Exception as exc:  # shapely raises several types
            raise _err(src, index, "geometry", f"invalid coordinates ({exc})") from exc
        if g.is_empty:
            raise _err(src, index, "geometry", "is empty")
        x0, y0, x1, y1 = g.bounds
        if not (-180.0 <= x0 and x1 <= 180.0 and -90.0 <= y0 and y1 <= 90.0):
            raise _err(
                src,
                index,
                "geometry",
                f"coordinates out of range (lon {x0:g}..{x1:g}, lat {y0:g}..{y1:g}): GeoJSON "
                "gives [lon, lat]",
            )
        fixed = polygonal_part(g)
        if fixed is None:
            raise _err(src, index, "geometry", "has no area (a self-intersecting or flat ring)")
        g = fixed
        props = zone_properties(props)
        zid = props.get("id", f.get("id"))
        if isinstance(zid, int) or (isinstance(zid, float) and zid.is_integer()):
            zid = str(int(zid))
        if not isinstance(zid, str) or not zid:
            raise _err(src, index, "id", f"must be a non-empty string, got {zid!r}")
        pop = _numeric(props.get("population"))
        if isinstance(pop, bool) or not isinstance(pop, int | float) or not pop >= 0:
            raise _err(
                src, index, "population", f"must be a non-negative integer, got {pop!r}{_FILL}"
            )
        shelter_in = {"shelter_s": _numeric(props.get("shelter_s"))}
        try:
            shelter = _num(shelter_in, "shelter_s", src, index, lo=0, hi=3600)
        except RecordError as exc:
            raise _err(src, index, "shelter_s", exc.message + _FILL) from None
        region = props.get("region")
        if isinstance(region, int):
            region = str(region)
        if not isinstance(region, str) or not region:
            raise _err(src, index, "region", f"must be a non-empty string, got {region!r}{_FILL}")
        name = props.get("name") or zid
        return cls(zid, str(name), int(pop), float(shelter), region, g)

    def to_feature(self) -> dict:
        from shapely.geometry import mapping

        return {
            "type": "Feature",
            "properties": {
                "id": self.id,
                "name": self.name,
                "population": self.population,
                "shelter_s": self.shelter_s,
                "region": self.region,
            },
            "geometry": mapping(self.geometry),
        }


@dataclass(slots=True)
class Threat:
    """Ground truth of one threat (one line of ``truth.jsonl``)."""

    id: str
    cls: str
    t: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    alt_m: np.ndarray
    fate: str
    impact: dict | None = None  # {"t", "lat", "lon"}

    @classmethod
    def parse(cls, obj: Any, src: str = "truth.jsonl", line: int | None = None) -> Threat:
        o = _obj(obj, src, line)
        tid = _ident(o, "id", src, line)
        c = _cls(o, src, line, required=True)
        arrays = {}
        for k in ("t", "lat", "lon", "alt_m"):
            v = o.get(k)
            if not isinstance(v, list) or not v:
                raise _err(src, line, k, "must be a non-empty list of numbers")
            try:
                if k == "t" and any(isinstance(x, str) for x in v):
                    v = [iso_seconds(x) if isinstance(x, str) else x for x in v]
                a = np.asarray(v, dtype=float)
            except (TypeError, ValueError) as exc:
                raise _err(src, line, k, f"must be a list of numbers ({exc})") from exc
            if a.ndim != 1 or not np.all(np.isfinite(a)):
                raise _err(src, line, k, "must be a flat list of finite numbers")
            arrays[k] = a
        n = len(arrays["t"])
        for k in ("lat", "lon", "alt_m"):
            if len(arrays[k]) != n:
                raise _err(src, line, k, f"has {len(arrays[k])} values, 't' has {n}")
        if np.any(np.diff(arrays["t"]) < 0):
            raise _err(src, line, "t", "must be non-decreasing")
        _seconds_not_ms(float(arrays["t"].max()), src, line, "t")
        fate = o.get("fate")
        if isinstance(fate, str):
            fate = canonical_name(fate, FATE_ALIASES)
        if fate not in FATES:
            raise _err(src, line, "fate", f"must be one of {list(FATES)}, got {o.get('fate')!r}")
        imp = o.get("impact")
        if imp is not None:
            if not isinstance(imp, dict):
                raise _err(src, line, "impact", "must be an object or null")
            try:
                imp = {
                    "t": _time(imp, "t", src, line),
                    "lat": _num(imp, "lat", src, line, lo=-90, hi=90),
                    "lon": _num(imp, "lon", src, line, lo=-180, hi=180),
                }
            except RecordError as e:
                raise _err(src, line, f"impact.{e.field}", e.message) from None
        elif fate == "impact":
            # no impact object: the path ends where the threat struck (scoring would
            # otherwise count no impact pair for it, without a word)
            imp = {
                "t": float(arrays["t"][-1]),
                "lat": float(arrays["lat"][-1]),
                "lon": float(arrays["lon"][-1]),
            }
        return cls(tid, c, arrays["t"], arrays["lat"], arrays["lon"], arrays["alt_m"], fate, imp)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "cls": self.cls,
            "t": [round(float(x), 3) for x in self.t],
            "lat": [round(float(x), 6) for x in self.lat],
            "lon": [round(float(x), 6) for x in self.lon],
            "alt_m": [round(float(x), 1) for x in self.alt_m],
            "fate": self.fate,
            "impact": self.impact,
        }


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One zone state change (one line of ``alerts.jsonl``)."""

    t: float
    zone: str
    state: str
    cls: str | None = None
    eta_s: float | None = None
    tracks: tuple[str, ...] | None = None

    @classmethod
    def parse(cls, obj: Any, src: str = "alerts.jsonl", line: int | None = None) -> AlertChange:
        o = _obj(obj, src, line)
        state = o.get("state")
        if state not in ALERT_STATES:
            raise _err(src, line, "state", f"must be one of {list(ALERT_STATES)}, got {state!r}")
        c = _cls(o, src, line)
        tr = o.get("tracks")
        if tr is not None:
            if not isinstance(tr, list):
                raise _err(src, line, "tracks", "must be a list of track ids")
            tr = tuple(str(x) for x in tr)
        zone = o.get("zone")
        if isinstance(zone, int):
            zone = str(zone)
        if not isinstance(zone, str) or not zone:
            raise _err(src, line, "zone", f"must be a non-empty string, got {zone!r}")
        return cls(
            t=_time(o, "t", src, line),
            zone=zone,
            state=state,
            cls=c,
            eta_s=_num(o, "eta_s", src, line, required=False),
            tracks=tr,
        )

    def to_json(self) -> dict:
        d = {"t": round(self.t, 3), "zone": self.zone, "state": self.state}
        if self.cls is not None:
            d["cls"] = self.cls
        if self.eta_s is not None:
            d["eta_s"] = round(float(self.eta_s), 1)
        if self.tracks is not None:
            d["tracks"] = list(self.tracks)
        return d


@dataclass(frozen=True, slots=True)
class TrackUpdate:
    """One track update (one line of ``tracks.jsonl``)."""

    t: float
    track: str
    lat: float
    lon: float
    alt_m: float
    vel_e: float
    vel_n: float
    vel_u: float
    cls: str
    confirmed: bool
    sigma_m: float

    def to_json(self) -> dict:
        return {
            "t": round(self.t, 3),
            "track": self.track,
            "lat": round(self.lat, 7),
            "lon": round(self.lon, 7),
            "alt_m": round(self.alt_m, 1),
            "vel_e": round(self.vel_e, 2),
            "vel_n": round(self.vel_n, 2),
            "vel_u": round(self.vel_u, 2),
            "cls": self.cls,
            "confirmed": bool(self.confirmed),
            "sigma_m": round(self.sigma_m, 1),
        }


ANONYMOUS_OBSERVER = -1
"""``DetectionBatch.sensor`` of an observer report whose reporter is unknown: each such
report counts as another person's."""
UNREGISTERED = -3
"""Largest ``DetectionBatch.sensor`` code of an unregistered sensor id (a phone observer):
ingest gives each id ``UNREGISTERED`` minus a hash of it, so one person's reports keep one
code. (-2 is kept free: fusion uses it for "no sensor".)"""


# ---------------------------------------------------------------------------
# columnar hand-offs between stages (local metric frame, see airwarn.geo)
# ---------------------------------------------------------------------------
@dataclass(slots=True)
class DetectionBatch:
    """Reports (not heartbeats) as columns, in the local frame: ingest -> fuse.

    Optional numeric fields are NaN when absent. ``arrival`` is the arrival
    sequence number (line order), which keeps processing deterministic.
    """

    t: np.ndarray  # (n,) measurement time
    sensor: np.ndarray  # (n,) int registry index; < 0 unregistered observer (see UNREGISTERED)
    sensor_kind: np.ndarray  # (n,) int code: 0 acoustic, 1 radar, 2 observer, 3 other
    x: np.ndarray  # (n,) east, m
    y: np.ndarray  # (n,) north, m
    z: np.ndarray  # (n,) altitude, m (NaN unknown)
    sigma: np.ndarray  # (n,) horizontal 1-sigma, m
    sigma_z: np.ndarray  # (n,) vertical 1-sigma, m (NaN unknown)
    vx: np.ndarray  # (n,) east velocity, m/s (NaN unknown)
    vy: np.ndarray  # (n,) north velocity, m/s (NaN unknown)
    vz: np.ndarray  # (n,) up velocity, m/s (NaN unknown)
    cls: np.ndarray  # (n,) int class hint code; UNKNOWN_CLS when absent
    arrival: np.ndarray  # (n,) int arrival sequence number
    ids: list[str] = field(default_factory=list)  # report ids (for audit / debugging)

    def __len__(self) -> int:
        return int(self.t.shape[0])


SENSOR_KIND_CODE: dict[str, int] = {"acoustic": 0, "radar": 1, "observer": 2}
OTHER_SENSOR_KIND = 3
_SENSOR_KIND_NAMES: dict[str, tuple[str, ...]] = {
    "acoustic": ("acoustic_post", "acoustic_sensor", "microphone", "mic", "audio",
                 "sky_fortress", "skyfortress"),
    "radar": ("radar_station", "surveillance_radar", "air_surveillance_radar", "ground_radar"),
    "observer": ("phone", "human", "person", "visual", "spotter", "eyewitness", "crowd",
                 "observer_post"),
}  # fmt: skip
SENSOR_KIND_ALIASES: dict[str, str] = {
    a: k for k, names in _SENSOR_KIND_NAMES.items() for a in names
}
"""Other generators' names for the sensor kinds with a measurement model of their own, after
lower-casing and turning spaces and hyphens into underscores ("Acoustic post", "Sky-Fortress")."""


def sensor_kind_code(kind: str) -> int:
    """The code of a sensor kind string: acoustic, radar or observer in any case or under a
    name in SENSOR_KIND_ALIASES, else OTHER_SENSOR_KIND (a kind with no model of its own)."""
    return SENSOR_KIND_CODE.get(canonical_name(kind, SENSOR_KIND_ALIASES), OTHER_SENSOR_KIND)


def estimated_underground(x: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Per state ``x`` (N, 6) with covariance ``P`` (N, 6, 6): estimated at or below the
    ground, its height measured (sd < 1 km) - a track of a threat that came down (NaN
    height: no)."""
    x = np.asarray(x, float).reshape(-1, 6)
    sd_z = np.sqrt(np.maximum(np.asarray(P, float).reshape(-1, 6, 6)[:, 2, 2], 0.0))
    return (np.nan_to_num(x[:, 2], nan=np.inf) <= 0.0) & (sd_z < 1000.0)


@dataclass(slots=True)
class TrackState:
    """All live tracks at one time, as columns in the local frame: fuse -> predict.

    State vector per track: ``x = [e, n, u, ve, vn, vu]`` (m, m/s), covariance ``P``.
    """

    t: float  # time the states are valid at
    ids: np.ndarray  # (N,) int64 stable track ids
    x: np.ndarray  # (N, 6)
    P: np.ndarray  # (N, 6, 6)
    # (N,) int most likely class code; a track read as a missile lately stays 'ballistic'
    # while its reading is only 'unknown' or 'aircraft' (fuse's ballistic_memory_s)
    cls: np.ndarray
    cls_prob: np.ndarray  # (N, len(THREAT_CLASSES)) class probabilities
    confirmed: np.ndarray  # (N,) bool: only confirmed tracks may trigger alerts
    last_update: np.ndarray  # (N,) time of the last measurement update (coasting if < t)
    n_updates: np.ndarray  # (N,) int number of measurement updates
    # (N,) int64 random key fixed at a track's birth from its first report (None: use ids);
    # seeds predict's per-track noise so a track's forecast does not depend on other tracks
    key: np.ndarray | None = None
    # (K, 2) int64 [absorbed id, surviving id]: duplicate tracks fusion merged since the
    # previous state (the absorbed track is gone, its threat lives on in the survivor);
    # None or empty when nothing was merged
    merged: np.ndarray | None = None
    # (K,) int64 ids of tracks fusion ended since the previous state because their threat
    # came down (a missile estimated at or below the ground): gone, and not lost - no
    # lost-track ghost goes on from them; None or empty when none landed
    landed: np.ndarray | None = None

    def underground(self) -> np.ndarray:
        """Per track: estimated at or below the ground, its height measured (sd < 1 km)."""
        return estimated_underground(self.x, self.P)

    def diving(self, vz_min: float) -> np.ndarray:
        """Per track: descending faster than ``vz_min`` (m/s) by two sigma of its vertical
        speed, altitude known (it reaches the ground within z / |vz| s). ``vz_min`` <= 0: none."""
        n = len(self.ids)
        if n == 0 or vz_min <= 0:
            return np.zeros(n, bool)
        x = np.asarray(self.x, float)
        sd = np.sqrt(np.maximum(np.asarray(self.P, float)[:, 5, 5], 0.0))
        ok = np.isfinite(x[:, 5]) & np.isfinite(sd) & np.isfinite(x[:, 2])
        return ok & (np.where(ok, x[:, 5] + 2.0 * sd, 0.0) < -vz_min)

    def ballistic_kinematics(self, min_alt_m: float, min_vz: float) -> np.ndarray:
        """Per track: at or above ``min_alt_m`` or climbing or falling at ``min_vz`` (m/s) or
        faster - how a track fusion has not classed moves as a ballistic threat (NaN: no)."""
        x = np.asarray(self.x, float).reshape(-1, 6)
        return (x[:, 2] >= min_alt_m) | (np.abs(x[:, 5]) >= min_vz)

    def survivor(self, ids: np.ndarray) -> np.ndarray:
        """``ids`` with every track merged since the previous state replaced by its survivor."""
        ids = np.asarray(ids, np.int64)
        m = self.merged
        if m is None or len(m) == 0 or ids.size == 0:
            return ids
        o = np.argsort(m[:, 0])
        src, dst = m[o, 0], m[o, 1]
        pos = np.clip(np.searchsorted(src, ids), 0, src.size - 1)
        return np.where(src[pos] == ids, dst[pos], ids)

    @classmethod
    def empty(cls, t: float) -> TrackState:
        n = len(THREAT_CLASSES)
        return cls(
            t=t,
            ids=np.zeros(0, np.int64),
            x=np.zeros((0, 6)),
            P=np.zeros((0, 6, 6)),
            cls=np.zeros(0, np.int64),
            cls_prob=np.zeros((0, n)),
            confirmed=np.zeros(0, bool),
            last_update=np.zeros(0),
            n_updates=np.zeros(0, np.int64),
        )

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def track_label(track_id: int) -> str:
    """Public string id of an integer track id ("T000123")."""
    return f"T{int(track_id):06d}"


@dataclass(slots=True)
class ZoneThreats:
    """Sparse (zone, track) pairs a threat may reach: predict -> decide.

    One row per pair with a non-negligible probability. ETAs are seconds after ``t``.
    """

    t: float
    zone: np.ndarray  # (M,) int zone index
    track: np.ndarray  # (M,) int64 track id
    cls: np.ndarray  # (M,) int class code of the track
    p_reach: np.ndarray  # (M,) probability the threat reaches the zone within the horizon
    p_impact: np.ndarray  # (M,) probability it strikes inside the zone (subset of reach)
    eta_p10: np.ndarray  # (M,) 10th percentile arrival time, s after t
    eta_p50: np.ndarray  # (M,) median arrival time, s after t
    lost: np.ndarray  # (M,) bool: track no longer held by fusion (uncertainty growing)
    # (M,) optional: arrival time by which a share eta_q (a predict setting) of ALL the
    # threat's route samples, not only those reaching the zone, has arrived, so that
    # P(arrival <= eta_q) = eta_q's share; inf when fewer samples reach the zone
    eta_q: np.ndarray | None = None

    @classmethod
    def empty(cls, t: float) -> ZoneThreats:
        z = np.zeros(0)
        return cls(
            t,
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            z,
            z.copy(),
            z.copy(),
            z.copy(),
            np.zeros(0, bool),
            z.copy(),
        )

    def __len__(self) -> int:
        return int(self.zone.shape[0])


@dataclass(slots=True)
class SensorHealth:
    """Which registered sensors are alive at time t (heartbeat recency): ingest -> decide."""

    t: float
    x: np.ndarray  # (S,) east, m
    y: np.ndarray  # (S,) north, m
    range_m: np.ndarray  # (S,)
    kind: np.ndarray  # (S,) int sensor kind code
    last_seen: np.ndarray  # (S,) time of the last heartbeat or report (-inf never)
    alive: np.ndarray  # (S,) bool
    # (S,) bool, optional: silence is evidence of failure - the sensor has sent heartbeats,
    # or was never heard while sensors of its kind send them. None: every sensor
    monitored: np.ndarray | None = None
    # (S,) float, optional: antenna height above ground (m), NaN where not given; a radar's
    # coverage of a target at height h ends at its horizon, 4.12 km (sqrt(alt) + sqrt(h))
    alt_m: np.ndarray | None = None


# ---------------------------------------------------------------------------
# file helpers
# ---------------------------------------------------------------------------
def iter_jsonl(path: str | Path) -> Iterator[tuple[int, Any]]:
    """Yield (line number, decoded object) for each non-blank line; bad JSON raises RecordError."""
    src = Path(path).name
    with open(path, encoding="utf-8-sig") as fh:
        for i, line in enumerate(fh, 1):
            s = line.strip()
            if not s:
                continue
            try:
                yield i, json.loads(s)
            except json.JSONDecodeError as exc:
                raise RecordError(src, i, None, f"not valid JSON ({exc.msg})") from exc


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    """Write dicts as JSON lines; return how many were written."""
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, separators=(",", ":"), allow_nan=False))
            fh.write("\n")
            n += 1
    return n


def read_sensors(path: str | Path) -> list[Sensor]:
    """Read sensors.jsonl; a bad line raises RecordError naming line and field."""
    src = Path(path).name
    out: list[Sensor] = []
    seen: set[str] = set()
    for i, obj in iter_jsonl(path):
        s = Sensor.parse(obj, src, i)
        if s.id in seen:
            raise RecordError(src, i, "id", f"duplicate sensor id {s.id!r}")
        seen.add(s.id)
        out.append(s)
    return out


def read_truth(path: str | Path) -> list[Threat]:
    """Read truth.jsonl into Threat records."""
    src = Path(path).name
    return [Threat.parse(obj, src, i) for i, obj in iter_jsonl(path)]


def read_alerts(path: str | Path) -> list[AlertChange]:
    """Read alerts.jsonl into AlertChange records (file order kept)."""
    src = Path(path).name
    return [AlertChange.parse(obj, src, i) for i, obj in iter_jsonl(path)]


def read_zones(path: str | Path) -> list[Zone]:
    """Read a zones GeoJSON FeatureCollection; a bad feature raises RecordError."""
    src = Path(path).name
    with open(path, encoding="utf-8-sig") as fh:
        try:
            doc = json.load(fh)
        except json.JSONDecodeError as exc:
            raise RecordError(src, exc.lineno, None, f"not valid JSON ({exc.msg})") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise RecordError(src, None, "type", "must be a GeoJSON FeatureCollection")
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise RecordError(src, None, "features", "must be a non-empty list")
    zones = [Zone.parse_feature(f, f"{src} feature", i) for i, f in enumerate(feats, 1)]
    seen: set[str] = set()
    for i, z in enumerate(zones, 1):
        if z.id in seen:
            raise RecordError(f"{src} feature", i, "id", f"duplicate zone id {z.id!r}")
        seen.add(z.id)
    return zones


def write_zones(path: str | Path, zones: Iterable[Zone]) -> int:
    """Write zones as a GeoJSON FeatureCollection; return the count."""
    feats = [z.to_feature() for z in zones]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"type": "FeatureCollection", "features": feats}, fh, separators=(",", ":"))
    return len(feats)
