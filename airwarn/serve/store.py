"""The service's durable state: an append-only SQLite event log (WAL, synchronous=FULL).

Events, in the order they happened: ``report`` (an accepted detection or heartbeat),
``tick`` (a decision ran at time ``t``), ``alert`` (an alert change that was
published), ``operator`` (an operator action, with who and why). Replaying the
``report``/``tick``/``operator`` events into a fresh pipeline rebuilds its state
exactly; the ``alert`` events are what was already published. Side tables hold the
CAP messages, track snapshots for the map's time scrubber and pending webhook
deliveries.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    t REAL,
    wall REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_kind ON events(kind, seq);
CREATE TABLE IF NOT EXISTS cap (
    identifier TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    zone TEXT NOT NULL,
    msg_type TEXT NOT NULL,
    sent TEXT NOT NULL,
    xml TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cap_seq ON cap(seq);
CREATE TABLE IF NOT EXISTS tracks (
    t REAL PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS webhooks (
    url TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    created REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the event log."""

    seq: int
    kind: str
    t: float | None
    wall: float
    body: dict

    def to_json(self) -> dict:
        return {"seq": self.seq, "kind": self.kind, "t": self.t, "wall": self.wall, **self.body}


class EventLog:
    """Append-only event log in SQLite; every append is durable when it returns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self.db.close()

    # -- writes -------------------------------------------------------------
    def append(self, rows: Iterable[tuple[str, float | None, dict]]) -> list[int]:
        """Append (kind, t, body) rows in one transaction; return their sequence numbers."""
        wall = time.time()
        seqs: list[int] = []
        with self._lock:
            cur = self.db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                for kind, t, body in rows:
                    cur.execute(
                        "INSERT INTO events(kind, t, wall, body) VALUES (?, ?, ?, ?)",
                        (kind, t, wall, json.dumps(body, separators=(",", ":"))),
                    )
                    seqs.append(int(cur.lastrowid))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return seqs

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Run one statement in its own transaction (side tables); return the rows."""
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Iterable[tuple]) -> None:
        """Run one statement for many rows in one transaction (side tables)."""
        with self._lock:
            cur = self.db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.executemany(sql, rows)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise

    # -- reads --------------------------------------------------------------
    def events(
        self,
        after: int = 0,
        kinds: Iterable[str] | None = None,
        limit: int | None = None,
        until: int | None = None,
    ) -> Iterator[Event]:
        """Events with ``after < seq`` (``<= until``) in log order, optionally only some kinds.

        Rows are read in pages, so replaying a long log does not hold it all in memory.
        """
        left = limit
        page = 20_000
        while left is None or left > 0:
            sql = "SELECT seq, kind, t, wall, body FROM events WHERE seq > ?"
            params: list = [after]
            if until is not None:
                sql += " AND seq <= ?"
                params.append(int(until))
            if kinds is not None:
                ks = list(kinds)
                sql += f" AND kind IN ({','.join('?' * len(ks))})"
                params += ks
            n = page if left is None else min(page, left)
            sql += " ORDER BY seq LIMIT ?"
            params.append(n)
            with self._lock:
                rows = self.db.execute(sql, params).fetchall()
            for seq, kind, t, wall, body in rows:
                yield Event(int(seq), kind, t, float(wall), json.loads(body))
            if len(rows) < n:
                return
            after = int(rows[-1][0])
            if left is not None:
                left -= len(rows)

    def last_seq(self) -> int:
        """The newest sequence number (0 for an empty log)."""
        with self._lock:
            r = self.db.execute("SELECT MAX(seq) FROM events").fetchone()
        return int(r[0] or 0)

    def count(self, kind: str) -> int:
        """How many events of one kind the log holds."""
        with self._lock:
            r = self.db.execute("SELECT COUNT(*) FROM events WHERE kind = ?", (kind,)).fetchone()
        return int(r[0])
