"""Zones as columns in the local frame, with a spatial index: shared by predict, decide, evaluate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from scipy.spatial import cKDTree

from airwarn.contracts import Zone
from airwarn.geo import LocalFrame


class ZoneSet:
    """All zones of a deployment, vectorised.

    Attributes (arrays of length Z unless said): ``ids`` (list of str), ``cx``/``cy``
    centroid in the local frame (m), ``radius`` (m, centroid to farthest vertex),
    ``area_m2``, ``population``, ``shelter_s``, ``region`` (int code into
    ``region_ids``), ``polys`` (shapely polygons in the local frame), ``tree`` (KD-tree
    on centroids).
    """

    def __init__(self, zones: Sequence[Zone], frame: LocalFrame):
        if not zones:
            raise ValueError("ZoneSet needs at least one zone")
        self.zones = list(zones)
        self.frame = frame
        self.ids: list[str] = [z.id for z in self.zones]
        self.index: dict[str, int] = {z: i for i, z in enumerate(self.ids)}
        self.names: list[str] = [z.name for z in self.zones]
        self.population = np.array([z.population for z in self.zones], np.int64)
        self.shelter_s = np.array([z.shelter_s for z in self.zones], float)
        self.region_ids: list[str] = sorted({z.region for z in self.zones})
        rix = {r: i for i, r in enumerate(self.region_ids)}
        self.region = np.array([rix[z.region] for z in self.zones], np.int64)

        def fwd(coords: np.ndarray) -> np.ndarray:
            x, y = frame.to_local(coords[:, 1], coords[:, 0])
            return np.column_stack([x, y])

        geoms = shapely.transform(np.array([z.geometry for z in self.zones], dtype=object), fwd)
        self.polys = list(geoms)
        cents = shapely.centroid(geoms)
        self.cx = shapely.get_x(cents).astype(float)
        self.cy = shapely.get_y(cents).astype(float)
        self.area_m2 = shapely.area(geoms).astype(float)
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        d = np.hypot(coords[:, 0] - self.cx[owner], coords[:, 1] - self.cy[owner])
        self.radius = np.zeros(len(self.zones))
        np.maximum.at(self.radius, owner, d)
        self.tree = cKDTree(np.column_stack([self.cx, self.cy]))
        self.strtree = shapely.STRtree(self.polys)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def max_radius(self) -> float:
        return float(self.radius.max())

    def near(self, x: float, y: float, r: float) -> np.ndarray:
        """Indices of zones whose polygon may come within ``r`` metres of (x, y)."""
        return np.asarray(self.tree.query_ball_point([x, y], r + self.max_radius), np.int64)

    def containing(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Zone index containing each local point, or -1 (first match if zones overlap)."""
        x = np.atleast_1d(np.asarray(x, float))
        y = np.atleast_1d(np.asarray(y, float))
        out = np.full(x.shape[0], -1, np.int64)
        pts = shapely.points(x, y)
        pi, zi = self.strtree.query(pts, predicate="within")
        if pi.size:
            # keep the first zone for each point
            order = np.lexsort((zi, pi))
            pi, zi = pi[order], zi[order]
            first = np.r_[True, pi[1:] != pi[:-1]]
            out[pi[first]] = zi[first]
        return out

    def distance(self, x: np.ndarray, y: np.ndarray, zone_idx: np.ndarray) -> np.ndarray:
        """Distance (m) from each local point to its paired zone polygon (0 inside)."""
        pts = shapely.points(np.asarray(x, float), np.asarray(y, float))
        polys = np.array(self.polys, dtype=object)[np.asarray(zone_idx, np.int64)]
        return shapely.distance(pts, polys).astype(float)
