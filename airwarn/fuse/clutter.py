"""Clutter map: how often each place sends reports, learned online.

Human observers report from their phones; some places (big cities, mostly) also send many
reports of nothing - an aircraft, a noise, a rumour. Where reports are frequent, three of
them in a few minutes are weak evidence of a threat. The map learns, online and causally,
the rate of reports per grid cell, so the tracker can weigh a report against the chance
reports expected in its gate (the clutter density ``lambda`` of a PDA/IPDA filter,
estimated from the data instead of fixed). Every report counts, a real threat's too: a
threat adds a few reports an hour to a cell, a city's false reports many more.

Rate estimate of a cell (reports per hour), with decay time ``tau``::

    c(t)    = sum over its counted reports of exp(-(t - t_i) / tau)
    rate(t) = 3600 * c(t) / (tau * (1 - exp(-max(t - t_first, min_s) / tau)))

The denominator is the decayed observation time since the first counted report anywhere,
so a constant rate is estimated without bias from the start (``min_s`` keeps the first
minutes from reading one report as a storm).

With a population layer (:meth:`ClutterMap.set_people`) the map learns one number, the
region's chance reports per person and hour, and spreads it by where people live::

    rate(t, window) = rate_all(t) * people(window) / people_all

Phones are where people are, and a city sends more reports of nothing than a village. A
threat's own reports, counted with the chance ones until a track confirms, then add to
every place in proportion to its people instead of to the town it flies over, so a few
drones reported sparsely on their way to one town do not make that town read as clutter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class ClutterMap:
    """Decayed report counts on a square grid of the local metric frame."""

    cell_m: float = 20_000.0
    tau_s: float = 1800.0
    min_s: float = 3600.0
    reach: int = 1
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sorted cell keys
    count: np.ndarray = field(default_factory=lambda: np.zeros(0))  # decayed to t_cell
    t_cell: np.ndarray = field(default_factory=lambda: np.zeros(0))
    t_first: float = math.inf
    pkeys: np.ndarray | None = None  # sorted cell keys of the population layer
    ppeople: np.ndarray | None = None  # people per cell of the population layer

    def set_people(self, x: np.ndarray, y: np.ndarray, people: np.ndarray) -> None:
        """Population layer: ``people`` living at each metric point (x, y), binned in the
        map's cells. With it the map spreads the region's report rate by population."""
        people = np.asarray(people, float)
        ok = people > 0
        if not ok.any():
            self.pkeys = self.ppeople = None
            return
        k, inv = np.unique(self._key(np.asarray(x)[ok], np.asarray(y)[ok]), return_inverse=True)
        self.pkeys = k
        self.ppeople = np.bincount(inv, weights=people[ok], minlength=k.size)

    def copy(self) -> ClutterMap:
        """An independent copy (rollback snapshots)."""
        return ClutterMap(
            self.cell_m,
            self.tau_s,
            self.min_s,
            self.reach,
            self.keys.copy(),
            self.count.copy(),
            self.t_cell.copy(),
            self.t_first,
            self.pkeys,  # the population layer is never changed in place: shared
            self.ppeople,
        )

    def _key(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell key of metric points (x and y cell indices packed in one integer)."""
        ix = np.floor(np.asarray(x, float) / self.cell_m).astype(np.int64)
        iy = np.floor(np.asarray(y, float) / self.cell_m).astype(np.int64)
        return ix * (1 << 32) + iy

    def add(self, t: float, x: np.ndarray, y: np.ndarray, n: np.ndarray) -> None:
        """Count ``n`` reports at each point (x, y), received by time ``t``."""
        n = np.asarray(n, float)
        ok = n > 0
        if not ok.any():
            return
        k, inv = np.unique(self._key(np.asarray(x)[ok], np.asarray(y)[ok]), return_inverse=True)
        add = np.bincount(inv, weights=n[ok], minlength=k.size)
        self.t_first = min(self.t_first, t)
        pos = np.searchsorted(self.keys, k)
        have = pos < self.keys.size
        have[have] = self.keys[pos[have]] == k[have]
        if have.any():
            # a late report (t before the cell's last count) decays from its own time
            i = pos[have]
            tc = np.maximum(self.t_cell[i], t)
            old = self.count[i] * np.exp(-(tc - self.t_cell[i]) / self.tau_s)
            self.count[i] = old + add[have] * np.exp(-(tc - t) / self.tau_s)
            self.t_cell[i] = tc
        if (~have).any():
            new = ~have
            self.keys = np.insert(self.keys, pos[new], k[new])
            self.count = np.insert(self.count, pos[new], add[new])
            self.t_cell = np.insert(self.t_cell, pos[new], t)

    def rate_per_h(self, t: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Estimated reports per hour in the ``(2 * reach + 1)``-cell square around each
        point's cell at time ``t``."""
        x = np.asarray(x, float)
        out = np.zeros(x.shape)
        if self.keys.size == 0 or x.size == 0:
            return out
        span = max(t - self.t_first, self.min_s)
        norm = 3600.0 / (self.tau_s * -math.expm1(-span / self.tau_s))
        c = self.count * np.exp(-np.maximum(t - self.t_cell, 0.0) / self.tau_s)
        if self.pkeys is not None:
            # the region's rate, shared by population
            share = self._window_sum(self.pkeys, self.ppeople, x, y) / self.ppeople.sum()
            return norm * float(c.sum()) * share
        return norm * self._window_sum(self.keys, c, x, y)

    def _window_sum(
        self, keys: np.ndarray, values: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> np.ndarray:
        """Sum of ``values`` (per sorted cell key) over the ``(2 * reach + 1)``-cell square
        around each point's cell."""
        out = np.zeros(x.shape)
        r = self.reach
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                k = self._key(x + dx * self.cell_m, np.asarray(y, float) + dy * self.cell_m)
                pos = np.minimum(np.searchsorted(keys, k), keys.size - 1)
                hit = keys[pos] == k
                out[hit] += values[pos[hit]]
        return out

    def density(self, t: float, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Estimated reports per square metre per second around each point at time ``t``."""
        side = (2 * self.reach + 1) * self.cell_m
        return self.rate_per_h(t, x, y) / (3600.0 * side**2)
