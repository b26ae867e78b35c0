"""CAP 1.2 messages: one per zone alert change, validated, Google Public Alerts ready.

* :func:`build_cap` turns one :class:`~airwarn.contracts.AlertChange` and its zone into
  a CAP 1.2 XML message (msgType ``Alert`` when an episode starts, ``Update`` when it
  changes — pre-alert to alert, new ETA, refresh —, ``Cancel`` for the all-clear,
  with ``references`` to the episode's earlier messages).
* :func:`validate_cap` checks a message against airwarn's own CAP 1.2 schema
  (``cap12_airwarn.xsd``, written from the OASIS data dictionary; pass ``xsd=`` to use
  the official ``CAP-v1.2.xsd`` instead) plus the specification's rules that no XSD
  expresses (polygon/circle syntax, references, forbidden characters).
* :func:`check_google_profile` lists departures from the Google Public Alerts CAP
  profile (headline < 140 characters, description, web, expires, polygon or geocode
  per area, ...).
* :class:`CapWriter` writes the messages of a replay or a live service into a folder
  (``NNNNNN-<zone>.xml`` plus ``index.jsonl``).

The mapping from alert states to CAP fields is tabulated in docs/contracts.md.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import shapely
from lxml import etree
from shapely.geometry import MultiPolygon, Polygon

from airwarn.contracts import AlertChange, Zone

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).with_name("cap12_airwarn.xsd")
"""airwarn's own CAP 1.2 schema (no copy of the OASIS file is shipped)."""

DEFAULT_SENDER = "airwarn@localhost"
DEFAULT_WEB = "http://localhost:8000/"
ALERT_TTL_S = 3 * 3600.0
"""``expires`` of an alert / pre-alert: sent + this; :meth:`CapWriter.refresh` renews it."""
CLEAR_TTL_S = 1800.0
"""``expires`` of an all-clear message: sent + this."""
MAX_POLYGON_POINTS = 100
MAX_POLYGON_PARTS = 10
COORD_DECIMALS = 5
"""Polygon vertices are rounded to 5 decimals (~1 m); Google accepts at most 6."""
MAX_REFERENCES = 10

THREAT_WORDS: dict[str | None, str] = {
    "drone": "a Shahed-type attack drone",
    "jet_drone": "a jet-powered attack drone",
    "cruise": "a cruise missile",
    "ballistic": "a ballistic missile",
    "aircraft": "a hostile aircraft",
    "unknown": "an air threat",
    None: "an air threat",
}

# state -> (event, responseType, urgency, severity, certainty)
_STATE_FIELDS: dict[str, tuple[str, str, str, str, str]] = {
    "alert": ("Air raid alert", "Shelter", "Immediate", "Extreme", "Observed"),
    "pre_alert": ("Air threat pre-alert", "Prepare", "Expected", "Severe", "Likely"),
    "clear": ("Air raid alert", "AllClear", "Past", "Minor", "Observed"),
}
CATEGORIES = ("Security", "Safety")

_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
_FORBIDDEN_ID = re.compile(r"[\s,<&]")


class CapError(ValueError):
    """A CAP message that is not valid: says where (line, element) and what."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("invalid CAP 1.2 message: " + "; ".join(self.problems))


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def cap_time(t: float) -> str:
    """CAP date-time of an epoch time, whole seconds, UTC written as ``+00:00``."""
    return datetime.fromtimestamp(math.floor(t), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_cap_time(s: str) -> float:
    """Epoch seconds of a CAP date-time (``2025-07-09T01:23:45+03:00``)."""
    if not _TIME_RE.match(s.strip()):
        raise ValueError(f"not a CAP date-time with offset: {s!r}")
    return datetime.fromisoformat(s.strip()).timestamp()


def cap_identifier(change: AlertChange, prefix: str = "airwarn") -> str:
    """Deterministic message id: prefix, zone (percent-encoded), state, time in ms."""
    zone = quote(change.zone, safe="-_.~")
    return f"{prefix}.{zone}.{change.state}.{int(round(change.t * 1000))}"


def format_references(refs: Sequence[tuple[str, str, str]] | str | None) -> str | None:
    """The CAP ``references`` text: space-separated ``sender,identifier,sent`` triplets."""
    if refs is None or isinstance(refs, str):
        return refs or None
    return " ".join(f"{s},{i},{t}" for s, i, t in refs) or None


def _ring_text(coords: np.ndarray, decimals: int) -> str:
    return " ".join(f"{lat:.{decimals}f},{lon:.{decimals}f}" for lon, lat in coords)


def _clean_ring(ring: Any, decimals: int) -> np.ndarray | None:
    """Rounded exterior coordinates (lon, lat), closed, no repeats; None if degenerate."""
    c = np.round(np.asarray(ring.coords, float)[:, :2], decimals)
    keep = np.r_[True, np.any(np.diff(c, axis=0) != 0, axis=1)]
    c = c[keep]
    if len(c) < 2 or np.any(c[0] != c[-1]):
        c = np.vstack([c, c[:1]])
    if len(c) < 4 or not Polygon(c).is_valid or Polygon(c).area == 0:
        return None
    return c


@lru_cache(maxsize=65536)
def _polygons_cached(wkb: bytes, max_points: int, max_parts: int, decimals: int) -> tuple:
    g = shapely.from_wkb(wkb)
    parts = list(g.geoms) if isinstance(g, MultiPolygon) else [g]
    parts = sorted(parts, key=lambda p: -p.area)[:max_parts]
    out = []
    for part in parts:
        shell = Polygon(part.exterior)  # CAP polygons have no holes
        ring = None
        for tol in (0.0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2):
            cand = shell.simplify(tol, preserve_topology=True) if tol else shell
            if isinstance(cand, Polygon) and len(cand.exterior.coords) <= max_points:
                ring = _clean_ring(cand.exterior, decimals)
                if ring is not None:
                    break
        if ring is None:  # fall back to the part's rotated bounding rectangle
            ring = _clean_ring(shell.minimum_rotated_rectangle.exterior, decimals)
        if ring is not None:
            out.append(_ring_text(ring, decimals))
    return tuple(out)


def cap_polygons(
    geometry: Any,
    max_points: int = MAX_POLYGON_POINTS,
    max_parts: int = MAX_POLYGON_PARTS,
    decimals: int = COORD_DECIMALS,
) -> list[str]:
    """CAP ``polygon`` texts ("lat,lon lat,lon ...", closed) of a lon/lat (Multi)Polygon.

    Holes are dropped (CAP has none), each ring is simplified until it has at most
    ``max_points`` vertices, and only the ``max_parts`` largest parts are kept.
    """
    return list(_polygons_cached(shapely.to_wkb(geometry), max_points, max_parts, decimals))


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    """Text escaped for XML element content; characters XML 1.0 forbids are dropped."""
    text = str(text)
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _XML_BAD.sub("", text)


def _short(text: str, limit: int) -> str:
    """``text`` cut to fewer than ``limit`` characters, with an ellipsis if cut."""
    return text if len(text) < limit else text[: limit - 2].rstrip() + "…"


# ---------------------------------------------------------------------------
# building
# ---------------------------------------------------------------------------
def _texts(change: AlertChange, zone: Zone, episode_state: str) -> tuple[str, str, str]:
    """(headline, description, instruction) for a change."""
    what = THREAT_WORDS.get(change.cls, "an air threat")
    where = f"{zone.name} ({zone.region})"
    eta = ""
    if change.eta_s is not None and change.state != "clear":
        at = datetime.fromtimestamp(change.t + max(change.eta_s, 0.0), UTC).strftime("%H:%M")
        e = max(change.eta_s, 0.0)
        soon = f"{e:.0f} seconds" if e < 120 else f"{e / 60:.0f} min"
        eta = f" in about {soon} (around {at} UTC)"
    tracks = ""
    if change.tracks:
        shown = ", ".join(change.tracks[:10])
        more = f" and {len(change.tracks) - 10} more" if len(change.tracks) > 10 else ""
        tracks = f" Tracked objects: {shown}{more}."
    if change.state == "alert":
        head = "Air raid alert: {} - take shelter now"
        desc = f"{what[0].upper()}{what[1:]} is expected to reach {where}{eta}.{tracks}"
        instr = (
            f"Go to the nearest shelter now: you have about {zone.shelter_s:.0f} seconds. "
            "If there is no shelter, go to an inner room or corridor away from windows, "
            "behind two walls. Stay there until the all-clear."
        )
    elif change.state == "pre_alert":
        head = "Air threat pre-alert: {} - be ready to take shelter"
        desc = (
            f"{what[0].upper()}{what[1:]} may reach {where}{eta}. An air raid alert "
            f"follows if it keeps this course.{tracks}"
        )
        instr = (
            "Get ready to go to a shelter and keep following official channels. "
            "Go to shelter at once when the air raid alert sounds."
        )
    else:
        kind = "air raid alert" if episode_state == "alert" else "air threat pre-alert"
        head = "All clear: {} - the " + kind + " has ended"
        desc = f"The air threat to {where} has passed or been destroyed."
        instr = (
            "You may leave the shelter. Keep away from debris and unexploded objects "
            "and report them to the emergency services."
        )
    room = 139 - len(head.format(""))
    return head.format(_short(zone.name, room)), desc, instr


def build_cap(
    change: AlertChange,
    zone: Zone,
    *,
    sender: str = DEFAULT_SENDER,
    identifier: str | None = None,
    references: Sequence[tuple[str, str, str]] | str | None = None,
    msg_type: str | None = None,
    status: str = "Actual",
    web: str = DEFAULT_WEB,
    ttl_s: float | None = None,
    episode_state: str = "alert",
    language: str = "en",
    polygons: Sequence[str] | None = None,
) -> bytes:
    """One CAP 1.2 message (UTF-8 XML bytes) for a zone alert change.

    ``msg_type`` defaults to ``Cancel`` for a clear, else ``Update`` when
    ``references`` are given and ``Alert`` otherwise. ``episode_state`` is the
    highest state of the episode a Cancel ends (its event and headline).
    ``polygons`` are the zone's CAP polygon texts if already known
    (default: :func:`cap_polygons` of the zone geometry).
    """
    if change.zone != zone.id:
        raise ValueError(f"change is for zone {change.zone!r}, zone given is {zone.id!r}")
    refs = format_references(references)
    if msg_type is None:
        msg_type = "Cancel" if change.state == "clear" else ("Update" if refs else "Alert")
    identifier = identifier or cap_identifier(change)
    if change.state == "clear":
        event = _STATE_FIELDS[episode_state if episode_state in _STATE_FIELDS else "alert"][0]
        _, response, urgency, severity, certainty = _STATE_FIELDS["clear"]
    else:
        event, response, urgency, severity, certainty = _STATE_FIELDS[change.state]
    if ttl_s is None:
        ttl_s = CLEAR_TTL_S if change.state == "clear" else ALERT_TTL_S
    headline, description, instruction = _texts(change, zone, episode_state)
    sent = cap_time(change.t)

    # assembled as text (5-10x faster than building an lxml tree); every value is
    # escaped by _x and the result is checked by validate_cap in the tests
    out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<alert xmlns="{CAP_NS}">\n']
    put = out.append

    def el(tag: str, text: str, ind: str = "  ") -> None:
        put(f"{ind}<{tag}>{_x(text)}</{tag}>\n")

    def pair(tag: str, name: str, value: str, ind: str = "    ") -> None:
        put(
            f"{ind}<{tag}>\n{ind}  <valueName>{_x(name)}</valueName>\n"
            f"{ind}  <value>{_x(value)}</value>\n{ind}</{tag}>\n"
        )

    el("identifier", identifier)
    el("sender", sender)
    el("sent", sent)
    el("status", status)
    el("msgType", msg_type)
    el("scope", "Public")
    if refs:
        el("references", refs)
        el("incidents", refs.split()[0].split(",")[1])
    put("  <info>\n")
    i2 = "    "
    el("language", language, i2)
    for c in CATEGORIES:
        el("category", c, i2)
    el("event", event, i2)
    el("responseType", response, i2)
    el("urgency", urgency, i2)
    el("severity", severity, i2)
    el("certainty", certainty, i2)
    pair("eventCode", "airwarn", change.state)
    el("effective", sent, i2)
    if change.eta_s is not None and change.state != "clear":
        el("onset", cap_time(change.t + max(change.eta_s, 0.0)), i2)
    el("expires", cap_time(change.t + ttl_s), i2)
    el("senderName", "airwarn civil air threat warning", i2)
    el("headline", headline, i2)
    el("description", description, i2)
    el("instruction", instruction, i2)
    el("web", f"{web}{'&' if '?' in web else '?'}zone={quote(zone.id, safe='')}", i2)
    pair("parameter", "state", change.state)
    if change.cls is not None:
        pair("parameter", "cls", change.cls)
    if change.eta_s is not None:
        pair("parameter", "eta_s", f"{change.eta_s:.0f}")
    pair("parameter", "shelter_s", f"{zone.shelter_s:.0f}")
    if change.tracks:
        pair("parameter", "tracks", ",".join(change.tracks))
    put("    <area>\n")
    i3 = "      "
    el("areaDesc", _short(f"{zone.name}, {zone.region}", 50), i3)
    for poly in cap_polygons(zone.geometry) if polygons is None else polygons:
        el("polygon", poly, i3)
    pair("geocode", "airwarn-zone", zone.id, i3)
    pair("geocode", "airwarn-region", zone.region, i3)
    put("    </area>\n  </info>\n</alert>\n")
    return "".join(out).encode("utf-8")


# ---------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@lru_cache(maxsize=4)
def _schema(path: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, _PARSER))


def _q(tag: str) -> str:
    return f"{{{CAP_NS}}}{tag}"


def _where(el: Any) -> str:
    return f"line {el.sourceline}: <{etree.QName(el).localname}>"


def parse_cap(xml: bytes | str) -> Any:
    """Parse CAP XML safely (no entities, no network); CapError if not well-formed."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CapError([f"not well-formed XML ({exc})"]) from exc


def _spec_problems(root: Any) -> list[str]:
    """CAP 1.2 rules the XSD does not express (specification section 3.2)."""
    out: list[str] = []
    for tag in ("identifier", "sender"):
        for el in root.iter(_q(tag)):
            if not el.text or _FORBIDDEN_ID.search(el.text):
                out.append(f"{_where(el)} must be non-empty, without spaces, ',', '<' or '&'")
    for el in root.iter(_q("references")):
        for trip in (el.text or "").split():
            parts = trip.split(",")
            if len(parts) != 3 or not all(parts) or not _TIME_RE.match(parts[2]):
                out.append(f"{_where(el)} item {trip!r} is not sender,identifier,sent")
    for el in root.iter(_q("polygon")):
        pts = (el.text or "").split()
        try:
            ll = [tuple(float(v) for v in p.split(",")) for p in pts]
        except ValueError:
            ll = []
        if len(ll) < 4 or any(len(p) != 2 for p in ll):
            out.append(f"{_where(el)} needs at least 4 'lat,lon' pairs")
        elif ll[0] != ll[-1]:
            out.append(f"{_where(el)} first and last points must be the same")
        elif any(not (-90 <= a <= 90 and -180 <= b <= 180) for a, b in ll):
            out.append(f"{_where(el)} has a point outside lat [-90, 90] / lon [-180, 180]")
    for el in root.iter(_q("circle")):
        m = re.match(r"^\s*(-?[\d.]+),(-?[\d.]+)\s+([\d.]+)\s*$", el.text or "")
        if not m or not (-90 <= float(m[1]) <= 90 and -180 <= float(m[2]) <= 180):
            out.append(f"{_where(el)} must be 'lat,lon radius_km'")
    scope = root.find(_q("scope"))
    if scope is not None and scope.text == "Restricted" and root.find(_q("restriction")) is None:
        out.append("scope Restricted needs <restriction>")
    if scope is not None and scope.text == "Private" and root.find(_q("addresses")) is None:
        out.append("scope Private needs <addresses>")
    return out


def validate_cap(xml: bytes | str, xsd: str | Path | None = None) -> None:
    """Raise CapError unless ``xml`` is a valid CAP 1.2 message.

    Checks the schema (airwarn's own ``cap12_airwarn.xsd``, or the file ``xsd``,
    e.g. the official OASIS ``CAP-v1.2.xsd``) and the specification's rules on
    identifiers, references, polygons and circles.
    """
    root = parse_cap(xml)
    schema = _schema(str(xsd or SCHEMA_PATH))
    if not schema.validate(etree.ElementTree(root)):
        errs = [f"line {e.line}: {e.message}" for e in schema.error_log]
        raise CapError(errs[:10])
    problems = _spec_problems(root)
    if problems:
        raise CapError(problems)


def check_google_profile(xml: bytes | str) -> list[str]:
    """Departures from the Google Public Alerts CAP profile (empty list: none).

    Rules: at least one <info>; each with <event> under 35 characters, urgency,
    severity and certainty not Unknown, <headline> under 140 characters,
    <description>, <instruction>, an absolute http(s) <web>, <expires> after <sent>,
    and at least one <area>, each with <areaDesc> (under 50 characters recommended)
    and a <polygon>, <circle> or <geocode>; polygons closed with >= 4 points and at
    most 6 decimals; Update and Cancel carry <references>; scope Public.
    """
    root = parse_cap(xml)
    out: list[str] = []

    def text(parent: Any, tag: str) -> str | None:
        el = parent.find(_q(tag))
        return None if el is None or el.text is None else el.text.strip()

    if root.tag != _q("alert"):
        return [f"root element must be {{{CAP_NS}}}alert"]
    sent = text(root, "sent")
    t_sent = None
    try:
        t_sent = parse_cap_time(sent or "")
    except ValueError as exc:
        out.append(f"<sent>: {exc}")
    if text(root, "scope") != "Public":
        out.append("<scope> must be Public")
    if text(root, "msgType") in ("Update", "Cancel") and not text(root, "references"):
        out.append(f"msgType {text(root, 'msgType')} needs <references>")
    infos = root.findall(_q("info"))
    if not infos:
        out.append("at least one <info> is required")
    for k, info in enumerate(infos, 1):
        w = f"info {k}: "
        ev = text(info, "event")
        if not ev or len(ev) >= 35:
            out.append(w + "<event> must be present and under 35 characters")
        for tag in ("urgency", "severity", "certainty"):
            if text(info, tag) in (None, "Unknown"):
                out.append(w + f"<{tag}> must be given and not Unknown")
        hl = text(info, "headline")
        if not hl or len(hl) >= 140:
            out.append(w + "<headline> must be present and under 140 characters")
        for tag in ("description", "instruction"):
            if not text(info, tag):
                out.append(w + f"<{tag}> is required")
        web = text(info, "web")
        if not web or not re.match(r"^https?://\S+$", web):
            out.append(w + "<web> must be an absolute http(s) URL")
        exp = text(info, "expires")
        if not exp:
            out.append(w + "<expires> is required")
        else:
            try:
                if t_sent is not None and parse_cap_time(exp) <= t_sent:
                    out.append(w + "<expires> must be after <sent>")
            except ValueError as exc:
                out.append(w + f"<expires>: {exc}")
        areas = info.findall(_q("area"))
        if not areas:
            out.append(w + "at least one <area> is required")
        for j, area in enumerate(areas, 1):
            wa = w + f"area {j}: "
            desc = text(area, "areaDesc")
            if not desc or len(desc) >= 50:
                out.append(wa + "<areaDesc> must be present and under 50 characters")
            polys = area.findall(_q("polygon"))
            if not (polys or area.findall(_q("circle")) or area.findall(_q("geocode"))):
                out.append(wa + "needs a <polygon>, <circle> or <geocode>")
            for p in polys:
                pts = (p.text or "").split()
                if len(pts) < 4 or pts[0] != pts[-1]:
                    out.append(wa + "<polygon> must be closed with at least 4 points")
                    continue
                if any(len(v.split(".")[-1]) > 6 for pt in pts for v in pt.split(",") if "." in v):
                    out.append(wa + "<polygon> coordinates have more than 6 decimals")
                try:
                    ring = Polygon([tuple(map(float, pt.split(",")))[::-1] for pt in pts])
                    if not ring.is_valid:
                        out.append(wa + "<polygon> edges intersect")
                except ValueError:
                    out.append(wa + "<polygon> has a bad point")
    return out


# ---------------------------------------------------------------------------
# writer
# ---------------------------------------------------------------------------
class CapWriter:
    """Writes one CAP message per alert change into ``out_dir``: ``NNNNNN-<zone>.xml``.

    Keeps each zone's open episode (the messages since its Alert) so that updates and
    the all-clear reference them; an all-clear for a zone with no open episode is
    counted in ``skipped`` (nothing to cancel). ``index.jsonl`` lists every message.
    Messages of an earlier run in the same folder are removed first.
    """

    def __init__(
        self,
        out_dir: str | Path,
        zones: Any,
        *,
        sender: str = DEFAULT_SENDER,
        status: str = "Actual",
        web: str = DEFAULT_WEB,
        validate: bool = True,
        prefix: str = "airwarn",
        auto_refresh: bool = True,
    ):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        for old in self.out.glob("[0-9][0-9][0-9][0-9][0-9][0-9]-*.xml"):
            old.unlink()  # messages of an earlier run into the same folder
        self.auto_refresh = auto_refresh
        self.zones = zones
        self.sender = sender
        self.status = status
        self.web = web
        self.validate = validate
        self.prefix = prefix
        self.seq = 0
        self.skipped = 0
        self.episodes: dict[str, list[tuple[str, str, str]]] = {}
        self.episode_state: dict[str, str] = {}
        self.last: dict[str, AlertChange] = {}
        self.expires: dict[str, float] = {}
        self._ids: set[str] = set()
        self._polys: dict[str, list[str]] = {}
        self._index = open(self.out / "index.jsonl", "w", encoding="utf-8")

    def _zone(self, zid: str) -> Zone:
        i = self.zones.index.get(zid)
        if i is None:
            raise KeyError(f"alert change for unknown zone {zid!r}")
        return self.zones.zones[i]

    def _write(self, change: AlertChange, msg_type: str, refs: list | None) -> Path:
        zone = self._zone(change.zone)
        ident = cap_identifier(change, self.prefix)
        base, k = ident, 1
        while ident in self._ids:
            k += 1
            ident = f"{base}.{k}"
        self._ids.add(ident)
        if len(refs or []) > MAX_REFERENCES:
            refs = refs[:1] + refs[-(MAX_REFERENCES - 1) :]
        polys = self._polys.get(change.zone)
        if polys is None:
            polys = self._polys[change.zone] = cap_polygons(zone.geometry)
        xml = build_cap(
            change,
            zone,
            sender=self.sender,
            identifier=ident,
            references=refs,
            msg_type=msg_type,
            status=self.status,
            web=self.web,
            episode_state=self.episode_state.get(change.zone, "alert"),
            polygons=polys,
        )
        if self.validate:
            validate_cap(xml)
        self.seq += 1
        path = self.out / f"{self.seq:06d}-{quote(change.zone, safe='-_.~')}.xml"
        path.write_bytes(xml)
        sent = cap_time(change.t)
        ttl = CLEAR_TTL_S if change.state == "clear" else ALERT_TTL_S
        row = {
            "file": path.name,
            "identifier": ident,
            "sender": self.sender,
            "sent": sent,
            "msgType": msg_type,
            "zone": change.zone,
            "state": change.state,
            "t": round(change.t, 3),
            "expires": cap_time(change.t + ttl),
        }
        self._index.write(json.dumps(row, ensure_ascii=False) + "\n")
        if change.state != "clear":
            self.episodes.setdefault(change.zone, []).append((self.sender, ident, sent))
            self.last[change.zone] = change
            self.expires[change.zone] = change.t + ttl
        return path

    def publish(self, changes: Iterable[AlertChange]) -> list[Path]:
        """Write the messages for these changes (in order); return the files written.

        With ``auto_refresh``, open alerts about to expire (see :meth:`refresh`) are
        then re-issued as of the newest change time.
        """
        written: list[Path] = []
        t_max = -math.inf
        for c in changes:
            t_max = max(t_max, c.t)
            refs = self.episodes.get(c.zone)
            if c.state == "clear":
                if not refs:
                    self.skipped += 1
                    continue
                written.append(self._write(c, "Cancel", list(refs)))
                self.episodes.pop(c.zone, None)
                self.episode_state.pop(c.zone, None)
                self.last.pop(c.zone, None)
                self.expires.pop(c.zone, None)
                continue
            if c.state == "alert" or c.zone not in self.episode_state:
                self.episode_state[c.zone] = c.state
            written.append(self._write(c, "Update" if refs else "Alert", list(refs or [])))
        if self.auto_refresh and math.isfinite(t_max):
            written.extend(self.refresh(t_max))
        return written

    def refresh(self, t: float, margin_s: float = 900.0) -> list[Path]:
        """Re-issue (msgType Update) open alerts that expire within ``margin_s`` of ``t``.

        A live service calls this periodically so that long alerts never lapse.
        """
        due = sorted(z for z, e in self.expires.items() if e - t <= margin_s)
        out = []
        for z in due:
            last = self.last[z]
            eta = None if last.eta_s is None else max(0.0, last.eta_s - (t - last.t))
            c = AlertChange(t=t, zone=z, state=last.state, cls=last.cls, eta_s=eta, tracks=None)
            out.append(self._write(c, "Update", list(self.episodes[z])))
        return out

    def close(self) -> None:
        """Flush and close the index."""
        self._index.close()
