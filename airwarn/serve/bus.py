"""Fan-out of live events to SSE / WebSocket subscribers (asyncio queues, thread-safe publish)."""

from __future__ import annotations

import asyncio
import threading


class Bus:
    """Subscribers each get a bounded queue; a subscriber that falls behind is dropped."""

    def __init__(self, maxsize: int = 2000):
        self.maxsize = maxsize
        self._subs: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self.dropped = 0
        self.peak = 0

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach the event loop that owns the subscriber queues."""
        self._loop = loop

    def subscribe(self) -> asyncio.Queue:
        """A new subscriber queue (call on the event loop)."""
        q: asyncio.Queue = asyncio.Queue(self.maxsize)
        with self._lock:
            self._subs.add(q)
            self.peak = max(self.peak, len(self._subs))
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        with self._lock:
            self._subs.discard(q)

    def __len__(self) -> int:
        return len(self._subs)

    def _fanout(self, events: list[dict]) -> None:
        with self._lock:
            subs = list(self._subs)
        for q in subs:
            try:
                for e in events:
                    q.put_nowait(e)
            except asyncio.QueueFull:
                self.dropped += 1
                self.unsubscribe(q)
                # wake the reader so it can close the stream
                try:
                    q.get_nowait()
                    q.put_nowait(None)
                except (asyncio.QueueEmpty, asyncio.QueueFull):
                    pass

    def publish(self, events: list[dict]) -> None:
        """Send events to every subscriber; callable from any thread."""
        if not events or self._loop is None or not self._subs:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._fanout(events)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._fanout, events)
