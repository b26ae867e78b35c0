"""The zone lookup grid: every point within reach of a zone finds it, far points do not."""

from __future__ import annotations

import numpy as np

from airwarn.predict.raster import ZoneRaster

from .conftest import make_zones


def test_points_within_reach_find_their_zones():
    zones = make_zones([("a", 0, 0), ("b", 9000, 0), ("c", 4000, 7000)], half=2500.0)
    reach, grid = 2000.0, 1000.0
    r = ZoneRaster(zones, reach, grid)
    rng = np.random.default_rng(1)
    x = rng.uniform(-12000, 20000, 100000)
    y = rng.uniform(-10000, 16000, 100000)
    pt, zone = r.expand(r.cells(x, y))
    listed = np.zeros((x.size, len(zones)), bool)
    listed[pt, zone] = True
    for z in range(len(zones)):
        d = zones.distance(x, y, np.full(x.size, z))
        assert listed[d <= reach, z].all()  # never a miss within reach
        assert not listed[d > reach + 1.5 * grid, z].any()  # nothing far beyond it


def test_outside_grid_and_nan_points_list_nothing():
    zones = make_zones([("a", 0, 0)])
    r = ZoneRaster(zones, 2000.0, 1000.0)
    cells = r.cells(np.array([1e7, np.nan, 0.0]), np.array([0.0, 0.0, np.nan]))
    assert (cells == -1).all()
    pt, zone = r.expand(cells)
    assert pt.size == 0 and zone.size == 0


def test_unpadded_grid_rounds_to_the_cell_centre():
    # pad_frac 0: a cell lists a zone when its centre is within reach, so a point is matched
    # within reach -/+ half a cell diagonal, with no outward bias
    zones = make_zones([("a", 0, 0)], half=2500.0)
    reach, grid = 2000.0, 500.0
    r = ZoneRaster(zones, reach, grid, pad_frac=0.0)
    padded = ZoneRaster(zones, reach, grid)
    assert r.n_pairs < padded.n_pairs
    rng = np.random.default_rng(2)
    x, y = rng.uniform(-8000, 8000, 100000), rng.uniform(-8000, 8000, 100000)
    listed, listed2 = _found(r, x, y), _found(padded, x, y)
    d = zones.distance(x, y, np.zeros(x.size, np.int64))
    half_diag = 0.7072 * grid
    assert listed[d <= reach - half_diag].all()
    assert not listed[d > reach + half_diag].any()
    # far fewer points beyond reach are listed than by the padded grid
    assert (listed & (d > reach)).sum() < 0.5 * (listed2 & (d > reach)).sum()


def _found(r: ZoneRaster, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Whether each point's cell lists any zone."""
    found = np.zeros(x.size, bool)
    found[r.expand(r.cells(x, y))[0]] = True
    return found
