"""A de-duplication memory that forgets keys once nothing carrying them can be accepted.

A service that runs for months admits millions of reports; a set of every report id ever
seen grows without bound (tens of megabytes a night on a large raid). A report older than
the arrival clock minus the lateness window is refused as too late before its id is looked
up, so an id need be remembered only that long after its report's time.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

__all__ = ["RecentKeys"]


class RecentKeys(Generic[K]):
    """Keys with the time of the record that carried them, each forgotten once it is more
    than ``window_s`` older than the newest time added.

    Forgetting sweeps the table once per ``window_s`` of clock advance, so it costs O(1)
    per key amortised and the table holds at most two windows of keys. Used with the
    ingestor's lateness window it answers exactly as a set of every key would: a record
    whose key has been forgotten is older than the window and refused as too late first.
    """

    def __init__(self, window_s: float):
        if not window_s > 0:
            raise ValueError(f"RecentKeys: window_s must be > 0, got {window_s!r}")
        self.window_s = float(window_s)
        self._t: dict[K, float] = {}
        self._clock = -math.inf
        self._swept = -math.inf

    def __contains__(self, key: object) -> bool:
        return key in self._t

    def __len__(self) -> int:
        return len(self._t)

    def __iter__(self) -> Iterator[K]:
        return iter(self._t)

    def add(self, key: K, t: float) -> None:
        """Remember ``key`` as carried by a record of time ``t`` (UTC seconds)."""
        t = float(t)
        old = self._t.get(key)
        self._t[key] = t if old is None else max(old, t)
        if t > self._clock:
            self._clock = t
            if self._clock - self._swept >= self.window_s:
                self._sweep()

    def _sweep(self) -> None:
        """Forget the keys older than the newest time minus the window."""
        cut = self._clock - self.window_s
        if any(v < cut for v in self._t.values()):
            self._t = {k: v for k, v in self._t.items() if v >= cut}
        self._swept = self._clock

    def copy(self) -> RecentKeys[K]:
        """An independent copy (same window, keys and clock)."""
        out: RecentKeys[K] = RecentKeys(self.window_s)
        out._t = dict(self._t)
        out._clock, out._swept = self._clock, self._swept
        return out
