"""CAP 1.2 messages for published alert changes, kept in the event log's ``cap`` table, and
their Atom feed.

One message per change: the first change of an episode (clear -> pre_alert/alert) is an
``Alert``; later changes of the same episode are ``Update`` messages and the all-clear is a
``Cancel``, each ``references`` every earlier message of the episode. The XML itself comes
from :func:`airwarn.publish.cap.build_cap` when the publish stage provides it, else from
the builder here (same profile: headline < 140 characters, description, web, expires,
one polygon per zone part).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from airwarn.contracts import AlertChange
from airwarn.serve.store import EventLog
from airwarn.zones.zoneset import ZoneSet

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
_ID_BAD = re.compile(r"[^A-Za-z0-9_.:\-]")


def cap_time(t: float) -> str:
    """CAP dateTime (seconds, explicit +00:00 offset)."""
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def msg_type_for(prev_state: str, state: str) -> str:
    """Alert for a new episode, Cancel for the all-clear, Update otherwise."""
    if state == "clear":
        return "Cancel"
    return "Alert" if prev_state == "clear" else "Update"


def _polygons(geom) -> list[str]:
    """CAP polygon strings ("lat,lon ..." closed rings) for a (Multi)Polygon in lon/lat."""
    parts = list(getattr(geom, "geoms", [geom]))
    out = []
    for p in parts:
        ring = list(p.exterior.coords)
        if ring[0] != ring[-1]:
            ring.append(ring[0])
        out.append(" ".join(f"{lat:.5f},{lon:.5f}" for lon, lat, *_ in ring))
    return out


def local_build_cap(
    change: AlertChange,
    *,
    identifier: str,
    sender: str,
    msg_type: str,
    references: list[tuple[str, str, str]],
    zone_name: str,
    region: str,
    shelter_s: float,
    geometry,
    web: str,
    expires: float,
) -> str:
    """A CAP 1.2 alert message for one zone change (fallback builder)."""
    st = change.state
    cls = change.cls or "unknown"
    what = {
        "drone": "attack drone",
        "jet_drone": "jet drone",
        "cruise": "cruise missile",
        "ballistic": "ballistic missile",
        "aircraft": "aircraft",
    }.get(cls, "air threat")
    if st == "alert":
        event, urgency, severity, certainty, resp = (
            "Air raid alert",
            "Immediate",
            "Extreme",
            "Likely",
            "Shelter",
        )
        eta = (
            ""
            if change.eta_s is None
            else f" Expected in about {max(0, round(change.eta_s / 60))} min."
        )
        headline = f"Air raid alert: {zone_name} - go to shelter now"
        desc = f"A {what} may reach {zone_name} ({region}).{eta} Time to shelter here: {round(shelter_s / 60)} min."
        instr = "Go to the nearest shelter now. Stay away from windows. Wait for the all-clear."
    elif st == "pre_alert":
        event, urgency, severity, certainty, resp = (
            "Air raid pre-alert",
            "Expected",
            "Severe",
            "Possible",
            "Prepare",
        )
        headline = f"Air raid pre-alert: {zone_name} - be ready to shelter"
        desc = (
            f"A {what} is heading towards the area of {zone_name} ({region}); an alert may follow."
        )
        instr = "Be ready to go to shelter. Keep following official alerts."
    else:
        event, urgency, severity, certainty, resp = (
            "Air raid all-clear",
            "Past",
            "Minor",
            "Observed",
            "AllClear",
        )
        headline = f"All clear: {zone_name}"
        desc = f"The air threat to {zone_name} ({region}) has passed."
        instr = "You may leave the shelter. Follow official guidance."
    headline = headline[:139]
    refs = " ".join(f"{s},{i},{t}" for s, i, t in references)
    polys = "".join(f"<polygon>{p}</polygon>" for p in _polygons(geometry))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<alert xmlns="{CAP_NS}">'
        f"<identifier>{escape(identifier)}</identifier>"
        f"<sender>{escape(sender)}</sender>"
        f"<sent>{cap_time(change.t)}</sent>"
        "<status>Actual</status>"
        f"<msgType>{msg_type}</msgType>"
        "<scope>Public</scope>"
        + (f"<references>{escape(refs)}</references>" if refs else "")
        + "<info><language>en-US</language><category>Safety</category>"
        f"<event>{event}</event><responseType>{resp}</responseType>"
        f"<urgency>{urgency}</urgency><severity>{severity}</severity>"
        f"<certainty>{certainty}</certainty>"
        f"<effective>{cap_time(change.t)}</effective>"
        f"<expires>{cap_time(expires)}</expires>"
        "<senderName>airwarn</senderName>"
        f"<headline>{escape(headline)}</headline>"
        f"<description>{escape(desc)}</description>"
        f"<instruction>{escape(instr)}</instruction>"
        f"<web>{escape(web)}</web>"
        f"<area><areaDesc>{escape(zone_name)}</areaDesc>{polys}"
        f"<geocode><valueName>airwarn-zone</valueName><value>{escape(change.zone)}</value></geocode>"
        "</area></info></alert>\n"
    )


class CapStore:
    """Builds, stores and lists the CAP messages of published alert changes."""

    def __init__(self, log: EventLog, zones: ZoneSet, base_url: str, sender: str):
        self.log = log
        self.zones = zones
        self.base_url = base_url.rstrip("/")
        self.sender = sender

    def identifier(self, c: AlertChange) -> str:
        """A stable message identifier for a change (no spaces, commas or markup)."""
        zid = _ID_BAD.sub("_", c.zone)
        return f"airwarn-{int(round(c.t * 1000))}-{zid}-{c.state}"

    def expires(self, c: AlertChange) -> float:
        """Expiry: alerts last past the ETA plus an hour; all-clears ten minutes."""
        if c.state == "clear":
            return c.t + 600.0
        eta = float(c.eta_s) if c.eta_s is not None else 0.0
        return c.t + max(eta, 0.0) + 3600.0

    def build(self, c: AlertChange, identifier: str, msg_type: str, refs: list[tuple]) -> str:
        """The CAP XML of one change."""
        zi = self.zones.index[c.zone]
        zone = self.zones.zones[zi]
        web = f"{self.base_url}/map?zone={c.zone}"
        try:
            from airwarn.publish import cap as pubcap
        except ImportError:
            pubcap = None
        if pubcap is not None and hasattr(pubcap, "build_cap"):
            xml = _build_with_publish(
                pubcap, c, zone, identifier, self.sender, msg_type, refs, web, self.expires(c)
            )
            if xml is not None:
                return xml
        return local_build_cap(
            c,
            identifier=identifier,
            sender=self.sender,
            msg_type=msg_type,
            references=refs,
            zone_name=zone.name,
            region=zone.region,
            shelter_s=zone.shelter_s,
            geometry=zone.geometry,
            web=web,
            expires=self.expires(c),
        )

    def publish(
        self, c: AlertChange, seq: int, identifier: str | None, prev_state: str, prev_ids: list[str]
    ) -> str:
        """Build and store the message for a change; return its msgType."""
        mt = msg_type_for(prev_state, c.state)
        refs = self.references(prev_ids) if mt != "Alert" else []
        xml = self.build(c, identifier or self.identifier(c), mt, refs)
        self.log.execute(
            "INSERT OR REPLACE INTO cap(identifier, seq, zone, msg_type, sent, xml) VALUES (?,?,?,?,?,?)",
            (identifier, seq, c.zone, mt, cap_time(c.t), xml),
        )
        return mt

    def references(self, ids: list[str]) -> list[tuple[str, str, str]]:
        """(sender, identifier, sent) of earlier messages."""
        if not ids:
            return []
        rows = self.log.execute(
            f"SELECT identifier, sent FROM cap WHERE identifier IN ({','.join('?' * len(ids))})",
            tuple(ids),
        )
        sent = dict(rows)
        return [(self.sender, i, sent[i]) for i in ids if i in sent]

    def repair(self, log: EventLog) -> int:
        """Build messages for logged alert changes whose CAP row is missing (crash window)."""
        have = {r[0] for r in log.execute("SELECT identifier FROM cap")}
        state: dict[str, tuple[str, list[str]]] = {}
        n = 0
        for ev in log.events(kinds=["alert"]):
            c = AlertChange.parse(ev.body["change"], "event log", ev.seq)
            cid = ev.body.get("cap_id")
            prev_state, ids = state.get(c.zone, ("clear", []))
            if cid and cid not in have and c.zone in self.zones.index:
                self.publish(c, ev.seq, cid, prev_state, ids)
                n += 1
            if c.state == "clear":
                state[c.zone] = ("clear", [])
            else:
                state[c.zone] = (
                    c.state,
                    ([] if prev_state == "clear" else ids) + ([cid] if cid else []),
                )
        return n

    def get(self, identifier: str) -> str | None:
        """The stored XML of one message."""
        rows = self.log.execute("SELECT xml FROM cap WHERE identifier = ?", (identifier,))
        return rows[0][0] if rows else None

    def recent(self, limit: int = 200) -> list[tuple]:
        """(identifier, seq, zone, msg_type, sent) of the newest messages, newest first."""
        return self.log.execute(
            "SELECT identifier, seq, zone, msg_type, sent FROM cap ORDER BY seq DESC LIMIT ?",
            (int(limit),),
        )

    def atom(self, limit: int = 200) -> str:
        """Atom feed indexing the newest CAP messages."""
        rows = self.recent(limit)
        updated = rows[0][4] if rows else cap_time(0)
        parts = [
            '<?xml version="1.0" encoding="UTF-8"?>\n',
            f'<feed xmlns="{ATOM_NS}">',
            f"<id>{escape(self.base_url)}/cap/feed.atom</id>",
            "<title>airwarn CAP alerts</title>",
            f"<updated>{updated}</updated>",
            "<author><name>airwarn</name></author>",
            f'<link rel="self" href="{escape(self.base_url)}/cap/feed.atom"/>',
        ]
        for ident, _seq, zone, mt, sent in rows:
            zi = self.zones.index.get(zone)
            name = self.zones.names[zi] if zi is not None else zone
            url = f"{self.base_url}/cap/{ident}.xml"
            parts.append(
                "<entry>"
                f"<id>urn:airwarn:cap:{escape(ident)}</id>"
                f"<title>{escape(f'{mt}: {name}')}</title>"
                f"<updated>{sent}</updated>"
                f'<link rel="alternate" type="application/cap+xml" href="{escape(url)}"/>'
                f"<summary>{escape(f'{mt} for zone {name}')}</summary>"
                "</entry>"
            )
        parts.append("</feed>\n")
        return "".join(parts)


def _build_with_publish(pubcap, c, zone, identifier, sender, msg_type, refs, web, expires):
    """Call the publish stage's build_cap with the keywords it accepts (None if it cannot)."""
    import inspect

    fn = pubcap.build_cap
    params = inspect.signature(fn).parameters
    cand = {
        "change": c,
        "zone": zone,
        "identifier": identifier,
        "sender": sender,
        "msg_type": msg_type,
        "references": refs,
        "web": web,
        "expires": expires,
    }
    if not all(p in cand or v.default is not inspect.Parameter.empty for p, v in params.items()):
        return None
    xml = fn(**{k: v for k, v in cand.items() if k in params})
    return xml.decode() if isinstance(xml, bytes) else xml
