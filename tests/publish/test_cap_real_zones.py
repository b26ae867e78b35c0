"""CAP messages for real zone polygons (OCHA hromadas, HFC areas, the built-in cells):
simplified polygons stay valid CAP and meet the Google profile."""

from __future__ import annotations

import pytest

from airwarn.contracts import AlertChange
from airwarn.publish.cap import MAX_POLYGON_POINTS, build_cap, check_google_profile, validate_cap
from airwarn.zones import builtin_zones
from airwarn.zones.importers import hromadas_zones, israel_zones


def _check_all(zones, xsd=None):
    for z in zones:
        xml = build_cap(AlertChange(1_752_024_225.0, z.id, "alert", "drone", 120.0), z)
        validate_cap(xml, xsd=xsd)
        assert check_google_profile(xml) == [], z.id
        assert xml.count(b"<polygon>") >= 1
        for poly in xml.split(b"<polygon>")[1:]:
            assert len(poly.split(b"</polygon>")[0].split()) <= MAX_POLYGON_POINTS


@pytest.mark.parametrize(
    ("source", "step"),
    [("hromadas", 1), ("israel_hfc_areas_oref_alert", 3), ("builtin", 20)],
)
def test_real_zones_make_valid_cap(shared_data, source, step):
    if source == "hromadas":
        zones = hromadas_zones(shared_data / "ukraine_boundaries_ocha_cod_ab").zones
    elif source == "builtin":
        zones = builtin_zones()
    else:
        zones = israel_zones(shared_data / source).zones
    official = shared_data / "cap_1_2" / "CAP-v1.2.xsd"
    _check_all(zones[::step], xsd=official)
    _check_all(zones[:50:step])
