"""Fixtures shared by the evaluate tests: one 2 km zone and one straight drone."""

from __future__ import annotations

import pytest
from evaluate_cases import square, straight

from airwarn.zones import zone_set


@pytest.fixture
def one_zone():
    """Zone A at local (0..2000)^2, shelter 120 s, 3,600 people."""
    return zone_set([square("A", 0, 0, shelter_s=120.0, population=3600)])


@pytest.fixture
def drone():
    """A drone at 50 m/s along y = 1000 from x = -50 km at t = 1000 (within 2 km of A at 1960)."""
    return straight("D1", -50_000, 1000, 50_000, 1000, t0=1000.0)
