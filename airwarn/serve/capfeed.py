"""CAP 1.2 messages of published alert changes, kept in the event log's ``cap`` table,
and their Atom feed.

One message per change, built by :func:`airwarn.publish.cap.build_cap`: the first change
of an episode (clear -> pre_alert/alert) is an ``Alert``; later changes of the episode
are ``Update`` messages and the all-clear is a ``Cancel``, each ``references`` the
episode's earlier messages (at most ``MAX_REFERENCES``: the first and the newest).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from airwarn.contracts import AlertChange
from airwarn.publish.cap import MAX_REFERENCES, build_cap, cap_identifier, cap_time
from airwarn.serve.store import EventLog
from airwarn.zones.zoneset import ZoneSet

ATOM_NS = "http://www.w3.org/2005/Atom"


def msg_type_for(prev_state: str, state: str) -> str:
    """Alert for a new episode, Cancel for the all-clear, Update otherwise."""
    if state == "clear":
        return "Cancel"
    return "Alert" if prev_state == "clear" else "Update"


class CapStore:
    """Builds, stores and lists the CAP messages of published alert changes."""

    def __init__(self, log: EventLog, zones: ZoneSet, base_url: str, sender: str):
        self.log = log
        self.zones = zones
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self._sent: dict[str, str] = {}  # identifier -> sent, for references

    def identifier(self, c: AlertChange) -> str:
        """The deterministic message identifier of a change."""
        return cap_identifier(c)

    def build(
        self, c: AlertChange, identifier: str, msg_type: str, refs: list[tuple], episode_state: str
    ) -> str:
        """The CAP XML of one change."""
        zone = self.zones.zones[self.zones.index[c.zone]]
        if len(refs) > MAX_REFERENCES:
            refs = refs[:1] + refs[-(MAX_REFERENCES - 1) :]
        xml = build_cap(
            c,
            zone,
            sender=self.sender,
            identifier=identifier,
            references=refs or None,
            msg_type=msg_type,
            web=f"{self.base_url}/map",
            episode_state=episode_state,
        )
        return xml.decode("utf-8")

    def prepare(
        self,
        c: AlertChange,
        seq: int,
        identifier: str | None,
        prev_state: str,
        prev_ids: list[str],
        episode_state: str = "alert",
    ) -> tuple[str, tuple]:
        """Build the message of a change; return its msgType and the row for :meth:`store`."""
        mt = msg_type_for(prev_state, c.state)
        refs = self.references(prev_ids) if mt != "Alert" else []
        ident = identifier or self.identifier(c)
        xml = self.build(c, ident, mt, refs, episode_state)
        sent = cap_time(c.t)
        self._sent[ident] = sent
        return mt, (ident, seq, c.zone, mt, sent, xml)

    def store(self, rows: list[tuple]) -> None:
        """Store prepared messages in one transaction."""
        if rows:
            self.log.executemany(
                "INSERT OR REPLACE INTO cap(identifier, seq, zone, msg_type, sent, xml) "
                "VALUES (?,?,?,?,?,?)",
                rows,
            )

    def publish(
        self,
        c: AlertChange,
        seq: int,
        identifier: str | None,
        prev_state: str,
        prev_ids: list[str],
        episode_state: str = "alert",
    ) -> str:
        """Build and store the message for a change; return its msgType."""
        mt, row = self.prepare(c, seq, identifier, prev_state, prev_ids, episode_state)
        self.store([row])
        return mt

    def references(self, ids: list[str]) -> list[tuple[str, str, str]]:
        """(sender, identifier, sent) of earlier messages."""
        missing = [i for i in ids if i not in self._sent]
        if missing:
            rows = self.log.execute(
                f"SELECT identifier, sent FROM cap WHERE identifier IN ({','.join('?' * len(missing))})",
                tuple(missing),
            )
            self._sent.update(dict(rows))
        return [(self.sender, i, self._sent[i]) for i in ids if i in self._sent]

    def repair(self, log: EventLog) -> int:
        """Build messages for logged alert changes whose CAP row is missing (crash window)."""
        have = {r[0] for r in log.execute("SELECT identifier FROM cap")}
        state: dict[str, tuple[str, list[str], str]] = {}
        n = 0
        for ev in log.events(kinds=["alert"]):
            c = AlertChange.parse(ev.body["change"], "event log", ev.seq)
            cid = ev.body.get("cap_id")
            prev_state, ids, top = state.get(c.zone, ("clear", [], "pre_alert"))
            if prev_state == "clear":
                ids, top = [], "pre_alert"
            if c.state == "alert":
                top = "alert"
            if cid and cid not in have and c.zone in self.zones.index:
                self.publish(c, ev.seq, cid, prev_state, ids, top)
                n += 1
            state[c.zone] = (c.state, ids + ([cid] if cid else []), top)
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
