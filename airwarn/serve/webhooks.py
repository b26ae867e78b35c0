"""Webhooks: every published alert change POSTed as JSON, signed, retried with backoff.

Headers: ``X-Airwarn-Event`` (the event's log sequence number, for de-duplication),
``X-Airwarn-Timestamp`` (epoch seconds) and ``X-Airwarn-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<body>"`` under the webhook's secret (see
:func:`verify_signature`). Deliveries live in the event log's database, so they survive
a restart; a delivery is retried ``retries`` times with exponential backoff.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time

from airwarn.serve.store import EventLog


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """True if ``header`` is the valid signature of ``body`` (receivers call this)."""
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class Webhooks:
    """Registered webhooks and their durable delivery queue."""

    def __init__(self, log: EventLog, retries: int = 6, backoff_s: float = 1.0):
        self.log = log
        self.retries = retries
        self.backoff_s = backoff_s
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.delivered = 0
        self.failed = 0

    def register(self, url: str, secret: str) -> None:
        self.log.execute(
            "INSERT OR REPLACE INTO webhooks(url, secret, created) VALUES (?, ?, ?)",
            (url, secret, time.time()),
        )

    def hooks(self) -> list[tuple[str, str]]:
        return self.log.execute("SELECT url, secret FROM webhooks ORDER BY created")

    def enqueue(self, events: list[dict]) -> int:
        """Queue deliveries of alert events to every webhook; return how many."""
        hooks = self.hooks()
        if not hooks or not events:
            return 0
        now = time.time()
        rows = [
            (url, int(e["id"]), json.dumps(e, separators=(",", ":")), now)
            for url, _ in hooks
            for e in events
        ]
        self.log.executemany(
            "INSERT INTO deliveries(url, event_seq, body, next_try) VALUES (?, ?, ?, ?)", rows
        )
        self.kick()
        return len(rows)

    def kick(self) -> None:
        """Wake the delivery worker (any thread)."""
        if self._loop is not None and self._wake is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def status(self) -> dict:
        rows = self.log.execute("SELECT done, COUNT(*) FROM deliveries GROUP BY done")
        by = {0: "pending", 1: "delivered", 2: "failed"}
        return {
            "webhooks": [u for u, _ in self.hooks()],
            "deliveries": {by.get(d, str(d)): n for d, n in rows},
        }

    async def run(self) -> None:
        """Deliver due webhooks until cancelled."""
        import httpx

        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                self._wake.clear()
                due = await asyncio.to_thread(
                    self.log.execute,
                    "SELECT d.id, d.url, d.event_seq, d.body, d.attempts, w.secret "
                    "FROM deliveries d JOIN webhooks w ON w.url = d.url "
                    "WHERE d.done = 0 AND d.next_try <= ? ORDER BY d.id LIMIT 200",
                    (time.time(),),
                )
                if due:
                    await asyncio.gather(*(self._deliver(client, *row) for row in due))
                    continue
                nxt = await asyncio.to_thread(
                    self.log.execute, "SELECT MIN(next_try) FROM deliveries WHERE done = 0"
                )
                wait = 30.0 if nxt[0][0] is None else max(0.01, nxt[0][0] - time.time())
                try:
                    await asyncio.wait_for(self._wake.wait(), min(wait, 30.0))
                except TimeoutError:
                    pass

    async def _deliver(self, client, did, url, seq, body, attempts, secret) -> None:
        data = body.encode()
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Airwarn-Event": str(seq),
            "X-Airwarn-Timestamp": ts,
            "X-Airwarn-Signature": sign(secret, ts, data),
        }
        err = None
        try:
            r = await client.post(url, content=data, headers=headers)
            if 200 <= r.status_code < 300:
                await asyncio.to_thread(
                    self.log.execute,
                    "UPDATE deliveries SET done = 1, attempts = ? WHERE id = ?",
                    (attempts + 1, did),
                )
                self.delivered += 1
                return
            err = f"HTTP {r.status_code}"
        except Exception as exc:  # network errors of any kind: retry
            err = f"{type(exc).__name__}: {exc}"
        attempts += 1
        done = 2 if attempts >= self.retries else 0
        if done:
            self.failed += 1
        await asyncio.to_thread(
            self.log.execute,
            "UPDATE deliveries SET attempts = ?, next_try = ?, done = ?, last_error = ? WHERE id = ?",
            (attempts, time.time() + self.backoff_s * 2 ** (attempts - 1), done, err, did),
        )
