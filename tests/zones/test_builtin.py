"""The built-in Ukraine region: counts, rules, determinism and the zones contract."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from airwarn.contracts import read_zones, write_zones
from airwarn.zones import builtin_zones, zone_set
from airwarn.zones.builtin import (
    RESOLUTION,
    SHELTER_CITY_S,
    SHELTER_METRO_S,
    SHELTER_TOWN_S,
    SHELTER_VILLAGE_S,
    build_builtin_zones,
    build_zones_from_places,
    city_radius_m,
    sections_of_cities,
    shelter_time,
)
from airwarn.zones.places import OBLASTS, Places, ukraine_places


@pytest.fixture(scope="module")
def zones():
    return build_builtin_zones()


def _places(rows):
    name, lat, lon, pop, obl = zip(*rows, strict=True)
    return Places(
        name=np.array(name, dtype=object),
        lat=np.array(lat, float),
        lon=np.array(lon, float),
        population=np.array(pop, np.int64),
        oblast=np.array(obl, dtype=object),
    )


def test_shelter_rule():
    assert shelter_time("Kyiv", 2_900_000) == SHELTER_METRO_S == 120
    assert shelter_time("Lviv", 700_000) == SHELTER_CITY_S == 90
    assert shelter_time("Bucha", 37_000) == SHELTER_TOWN_S == 75
    assert shelter_time("Kyiv", 800) == SHELTER_VILLAGE_S == 60  # a village named Kyiv


def test_city_radius():
    r = city_radius_m(np.array([99_999, 100_000, 2_952_301]))
    assert r[0] == 0
    assert r[1] == pytest.approx(3016, rel=1e-3)
    assert r[2] == pytest.approx(16_385, rel=1e-3)


def test_small_known_answer():
    # a 200k city, a district 2 km away (same oblast), a town 2 km away in another
    # oblast, and a village 40 km away
    p = _places(
        [
            ("Big", 50.0, 30.0, 200_000, "13"),
            ("District", 50.018, 30.0, 50_000, "13"),
            ("Suburb", 49.982, 30.0, 20_000, "12"),
            ("Village", 50.36, 30.0, 800, "13"),
        ]
    )
    owner = sections_of_cities(p)
    assert owner.tolist() == [-1, 0, -1, -1]
    assert sections_of_cities(p, radius_factor=0.25).tolist() == [-1, -1, -1, -1]
    zs = build_zones_from_places(p)
    total = sum(z.population for z in zs)
    assert total == 200_000 + 20_000 + 800  # the district is not counted twice
    area_cells = round(np.pi * city_radius_m(200_000) ** 2 / h3.average_hexagon_area(6, "m^2"))
    big_cells = {h3.latlng_to_cell(50.0, 30.0, 6), h3.latlng_to_cell(50.018, 30.0, 6)}
    by_id = {z.id: z for z in zs}
    assert big_cells <= set(by_id)
    assert len(zs) >= area_cells + 1  # + the village
    village = by_id[h3.latlng_to_cell(50.36, 30.0, 6)]
    assert (village.name, village.population, village.shelter_s) == ("Village", 800, 60.0)
    assert village.region == OBLASTS["13"]
    named_big = [z for z in zs if z.name == "Big"]
    assert all(z.shelter_s == SHELTER_CITY_S for z in named_big)
    assert all(z.region == "Kyiv" for z in named_big)


def test_builtin_region(zones):
    assert 3000 <= len(zones) <= 6000
    ids = [z.id for z in zones]
    assert len(set(ids)) == len(ids)
    assert all(h3.is_valid_cell(i) and h3.get_resolution(i) == RESOLUTION for i in ids)
    assert {z.region for z in zones} == set(OBLASTS.values())
    assert all(z.population >= 500 for z in zones)
    assert all(z.geometry.is_valid and len(z.geometry.exterior.coords) == 7 for z in zones)
    # every place of >= 500 people lies in some zone
    p = ukraine_places(500)
    cells = {h3.latlng_to_cell(a, b, RESOLUTION) for a, b in zip(p.lat, p.lon, strict=True)}
    assert cells <= set(ids)
    # population: all places except city districts, within rounding
    owner = sections_of_cities(p)
    expect = int(p.population[owner < 0].sum())
    assert abs(sum(z.population for z in zones) - expect) <= len(zones)
    kyiv = [z for z in zones if z.name == "Kyiv"]
    assert 20 <= len(kyiv) <= 30
    assert all(z.region == "Kyiv City" and z.shelter_s == SHELTER_METRO_S for z in kyiv)


def test_deterministic_and_cached(zones):
    from airwarn.zones.builtin import _builtin, build_builtin_zones

    again = build_builtin_zones()
    assert [z.id for z in again] == [z.id for z in zones]
    fresh = build_zones_from_places(ukraine_places(500))
    assert [(z.id, z.name, z.population, z.shelter_s, z.region) for z in fresh] == [
        (z.id, z.name, z.population, z.shelter_s, z.region) for z in zones
    ]
    assert _builtin.cache_info().hits >= 1


def test_round_trip_and_zone_set(zones, tmp_path):
    path = tmp_path / "zones.geojson"
    assert write_zones(path, zones) == len(zones)
    back = read_zones(path)
    assert [(z.id, z.population, z.shelter_s, z.region) for z in back] == [
        (z.id, z.population, z.shelter_s, z.region) for z in zones
    ]
    zs = zone_set(back)
    assert len(zs) == len(zones)
    # Kyiv's centre falls in a Kyiv zone
    x, y = zs.frame.to_local(50.4501, 30.5234)
    i = int(zs.containing(np.array([x]), np.array([y]))[0])
    assert i >= 0 and zs.names[i] == "Kyiv"
    assert 3_000 < zs.area_m2.mean() / 1e4 < 4_500  # ~36 km² cells, in hectares


def test_exclude_oblasts(zones):
    from airwarn.zones.builtin import build_builtin_zones

    kept = build_builtin_zones(exclude_oblasts=("11", "14", "Sevastopol"))
    gone = {"Crimea", "Luhansk", "Sevastopol"}
    assert {z.region for z in kept} == set(OBLASTS.values()) - gone
    assert len(kept) == sum(z.region not in gone for z in zones)
    with pytest.raises(ValueError, match="UA01"):  # an OCHA P-code is not a GeoNames code
        build_builtin_zones(exclude_oblasts=("11", "UA01"))


def test_default_region_is_government_controlled_land(zones):
    """The default deployment leaves out occupied land, where no sensors or sirens work."""
    default = builtin_zones()
    regions = {z.region for z in default}
    assert not regions & {"Crimea", "Sevastopol", "Luhansk"}
    assert {"Kyiv City", "Kharkiv", "Odesa", "Donetsk", "Zaporizhzhia"} <= regions
    assert 0.6 * len(zones) < len(default) < len(zones)
    ids = {z.id for z in default}
    kramatorsk = h3.latlng_to_cell(48.72, 37.56, RESOLUTION)  # held: kept
    donetsk = h3.latlng_to_cell(48.0, 37.80, RESOLUTION)  # occupied: left out
    assert kramatorsk in ids and donetsk not in ids


def test_zones_from_builtin_controlled_only_is_the_default_region():
    """`airwarn zones --from builtin --controlled-only` writes the region replay and serve use."""
    from airwarn.zones.importers import import_zones

    written = import_zones("builtin", controlled_only=True).zones
    assert [z.id for z in written] == [z.id for z in builtin_zones()]
