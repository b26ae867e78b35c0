"""A grid over the zones: which zones lie within reach of each grid cell (CSR lists).

Looking up millions of predicted route points is then integer arithmetic plus one
gather, instead of a polygon query per point. A cell lists a zone when the cell centre
is within ``reach_m`` plus ``pad_frac`` x half the cell diagonal of the zone polygon: with
1 (default) every point within ``reach_m`` finds the zone (and points up to ~1.4 cells
beyond may too); with 0 a point finds the zones within reach of its cell's centre.
"""

from __future__ import annotations

import numpy as np
import shapely

from airwarn.zones.zoneset import ZoneSet

MAX_CELLS = 8_000_000
"""The grid is coarsened until it has at most this many cells."""


class ZoneRaster:
    """Cells of ``grid_m`` metres over the zones' extent, each listing zones within reach."""

    def __init__(self, zones: ZoneSet, reach_m: float, grid_m: float, pad_frac: float = 1.0):
        self.reach_m = float(reach_m)
        polys = np.array(zones.polys, dtype=object)
        b = shapely.bounds(polys)
        pad = reach_m + 2 * grid_m
        x0, y0 = b[:, 0].min() - pad, b[:, 1].min() - pad
        x1, y1 = b[:, 2].max() + pad, b[:, 3].max() + pad
        c = float(grid_m)
        while ((x1 - x0) / c + 1) * ((y1 - y0) / c + 1) > MAX_CELLS:
            c *= 1.5
        self.cell = c
        self.x0, self.y0 = x0, y0
        self.nx = int(np.ceil((x1 - x0) / c)) + 1
        self.ny = int(np.ceil((y1 - y0) / c)) + 1
        grow = reach_m + pad_frac * 0.7072 * c  # 0.7072 c: half the cell diagonal
        buf = shapely.buffer(polys, grow, quad_segs=4)
        shapely.prepare(buf)
        bb = shapely.bounds(buf)
        i0 = np.clip(np.floor((bb[:, 0] - x0) / c).astype(np.int64), 0, self.nx - 1)
        j0 = np.clip(np.floor((bb[:, 1] - y0) / c).astype(np.int64), 0, self.ny - 1)
        i1 = np.clip(np.ceil((bb[:, 2] - x0) / c).astype(np.int64), 0, self.nx - 1)
        j1 = np.clip(np.ceil((bb[:, 3] - y0) / c).astype(np.int64), 0, self.ny - 1)
        ni, nj = i1 - i0 + 1, j1 - j0 + 1
        cnt = ni * nj
        zone = np.repeat(np.arange(len(polys), dtype=np.int64), cnt)
        k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        ii = i0[zone] + k // nj[zone]
        jj = j0[zone] + k % nj[zone]
        cx = x0 + (ii + 0.5) * c
        cy = y0 + (jj + 0.5) * c
        keep = shapely.contains_xy(buf[zone], cx, cy)
        zone, ii, jj = zone[keep], ii[keep], jj[keep]
        cell = ii * self.ny + jj
        order = np.lexsort((zone, cell))
        self.zone = zone[order].astype(np.int32)
        cell = cell[order]
        self.offsets = np.searchsorted(cell, np.arange(self.nx * self.ny + 1)).astype(np.int32)
        # a 64-bit hash of each cell's zone list (XOR of random per-zone words; 0 = empty);
        # the extra last entry serves the -1 (outside) cell index
        words = np.random.default_rng(12345).integers(1, 2**63, len(polys), dtype=np.int64)
        self.list_hash = np.zeros(self.nx * self.ny + 1, np.int64)
        nonempty = np.flatnonzero(np.diff(self.offsets) > 0)
        if nonempty.size:
            self.list_hash[nonempty] = np.bitwise_xor.reduceat(
                words[self.zone], self.offsets[nonempty]
            )

    @property
    def n_pairs(self) -> int:
        """Number of (cell, zone) entries."""
        return int(self.zone.shape[0])

    def cells(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Flat cell index of each point, or -1 outside the grid (NaN points too)."""
        with np.errstate(invalid="ignore"):
            fi = (x - self.x0) / self.cell
            fj = (y - self.y0) / self.cell
            ok = (fi >= 0) & (fi < self.nx) & (fj >= 0) & (fj < self.ny)
        ci = np.where(ok, fi, 0).astype(np.int64)
        cj = np.where(ok, fj, 0).astype(np.int64)
        return np.where(ok, ci * self.ny + cj, -1)

    def expand(self, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, zone index) for every zone listed by each point's cell (-1 = none)."""
        cell = np.asarray(cell, np.int64)
        valid = cell >= 0
        c = np.where(valid, cell, 0)
        start = self.offsets[c].astype(np.int64)
        cnt = np.where(valid, self.offsets[c + 1] - start, 0)
        total = int(cnt.sum())
        pt = np.repeat(np.arange(cell.shape[0], dtype=np.int64), cnt)
        first = np.cumsum(cnt) - cnt
        pos = np.arange(total, dtype=np.int64) - np.repeat(first - start, cnt)
        return pt, self.zone[pos].astype(np.int64)
