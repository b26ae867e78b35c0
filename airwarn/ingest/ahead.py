"""Records that run ahead of the arrival clock, held until the stream confirms their time.

The arrival clock is the newest ``t`` admitted; reports more than ``MAX_LATENESS_S`` older
are refused as too late. One sensor whose clock is set wrong (a phone on local time written
as UTC, two or three hours ahead) would move that clock by hours at its first report, and
every other sensor's reports would then be refused: one bad line silenced a whole raid
(ua-s11 with one such phone report a quarter of the way in: 0 of 10 impacts warned).

So a record more than ``lead_s`` ahead of the clock is held here, outside the clock. Time
has really moved on when the lines that follow agree: ``confirm`` lines in a row arriving
ahead too, with no line within reach of the clock between them (a quiet gap in a sparse
feed, then reports again). The earliest of those ``confirm`` times is then vouched for,
and the held records up to ``lead_s`` past it are released in arrival order. A wrong clock
is contradicted by the next line of any other sensor, so its records stay held; those
still held when the input ends are refused (lines no later line contradicted, the last
lines of a sparse feed, are taken). In a dense feed (heartbeats every minute)
nothing is ever held. Holding a record only delays its admission: ticks are driven by
record times, so a released record changes what it would have changed unheld.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

AHEAD_LEAD_S = 120.0
"""A record more than this (s) ahead of the arrival clock waits for the stream to agree."""
AHEAD_CONFIRM = 2
"""Lines in a row arriving that far ahead (none within reach between) that confirm a jump."""


class AheadBuffer:
    """Records held for running ahead of the arrival clock (see the module docstring)."""

    def __init__(self, lead_s: float = AHEAD_LEAD_S, confirm: int = AHEAD_CONFIRM):
        self.lead_s = lead_s
        self.confirm = confirm
        self._heap: list[tuple[float, int, Any]] = []  # (t, arrival seq, record)
        self._seq = 0
        self._streak: list[float] = []  # times of the lines held in a row since a contradiction
        self._streak_seq: set[int] = set()  # ... and their arrival numbers
        self._vouched = -math.inf
        self.ahead_by: dict[str, float] = {}  # sensor -> lead over the clock when first held

    def __len__(self) -> int:
        return len(self._heap)

    def hold(self, rec: Any, clock: float) -> None:
        """Hold a record (anything with ``t`` and ``sensor``) that arrived more than
        ``lead_s`` ahead of the arrival clock ``clock``."""
        if math.isfinite(clock):
            self.ahead_by.setdefault(rec.sensor, float(rec.t - clock))
        heapq.heappush(self._heap, (float(rec.t), self._seq, rec))
        self._streak_seq.add(self._seq)
        self._seq += 1
        self._streak.append(float(rec.t))
        if len(self._streak) >= self.confirm:
            self._vouched = max(self._vouched, min(self._streak[-self.confirm :]))

    def contradict(self) -> None:
        """A line within reach of the clock arrived: the lines held before it are not
        confirmed by what follows them."""
        self._streak = []
        self._streak_seq = set()

    def release(self, clock: float) -> list[Any]:
        """Records no more than ``lead_s`` ahead of the later of ``clock`` and the vouched
        time, removed and returned in arrival order."""
        limit = max(clock, self._vouched) + self.lead_s
        out = []
        while self._heap and self._heap[0][0] <= limit:
            out.append(heapq.heappop(self._heap))
        if not out:
            return []
        self._streak, self._streak_seq, self._vouched = [], set(), -math.inf
        return [rec for _, _, rec in sorted(out, key=lambda e: e[1])]

    def rest(self) -> tuple[list[Any], list[Any]]:
        """Every record still held, removed, in arrival order: those no line has contradicted
        since they arrived (the input ended first: take them), and the contradicted ones."""
        held = sorted(self._heap, key=lambda e: e[1])
        ok = [rec for _, q, rec in held if q in self._streak_seq]
        bad = [rec for _, q, rec in held if q not in self._streak_seq]
        self._heap, self._streak, self._streak_seq, self._vouched = [], [], set(), -math.inf
        return ok, bad
