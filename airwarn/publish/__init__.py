"""publish: alerts.jsonl, tracks.jsonl and CAP 1.2 messages from the decide stage's changes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from airwarn.contracts import AlertChange, TrackUpdate
from airwarn.zones.zoneset import ZoneSet

__all__ = ["Publisher"]


class Publisher:
    """Writes alert changes and track snapshots as they happen (append, line-buffered)."""

    def __init__(self, out_dir: str | Path, zones: ZoneSet, *, cap: bool = True):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.zones = zones
        self._alerts = open(self.out / "alerts.jsonl", "w", encoding="utf-8")
        self._tracks = open(self.out / "tracks.jsonl", "w", encoding="utf-8")
        self.all_alerts: list[AlertChange] = []
        self.cap = None
        if cap:
            from airwarn.publish.cap import CapWriter

            self.cap = CapWriter(self.out / "cap", zones)

    def alerts(self, changes: Iterable[AlertChange]) -> int:
        """Append alert changes to alerts.jsonl (and CAP); return how many."""
        n = 0
        for c in changes:
            self._alerts.write(json.dumps(c.to_json(), separators=(",", ":")) + "\n")
            self.all_alerts.append(c)
            n += 1
        if n and self.cap is not None:
            self.cap.publish(self.all_alerts[-n:])
        return n

    def tracks(self, updates: Iterable[TrackUpdate]) -> int:
        """Append track updates to tracks.jsonl; return how many."""
        n = 0
        w = self._tracks.write
        for u in updates:
            w(json.dumps(u.to_json(), separators=(",", ":")) + "\n")
            n += 1
        return n

    def close(self) -> None:
        self._alerts.close()
        self._tracks.close()
        if self.cap is not None:
            self.cap.close()
