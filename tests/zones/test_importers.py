"""User zones from real data: OCHA hromadas, raions and oblasts, and Israel's HFC alert areas
(../shared/data)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shapely.geometry import Point, box

from airwarn.contracts import RecordError, read_zones
from airwarn.zones import zone_set
from airwarn.zones.importers import (
    HROMADA_MIN_POP,
    ISRAEL_MIN_POP,
    ImportResult,
    estimate_population,
    hromadas_zones,
    import_zones,
    israel_zones,
    ocha_zones,
    write_geojson,
)
from airwarn.zones.places import Places


def _places(rows):
    name, lat, lon, pop, obl = zip(*rows, strict=True)
    return Places(
        np.array(name, dtype=object),
        np.array(lat, float),
        np.array(lon, float),
        np.array(pop, np.int64),
        np.array(obl, dtype=object),
    )


def test_estimate_population_known_answer():
    geoms = [box(30.0, 50.0, 30.1, 50.1), box(30.1, 50.0, 30.3, 50.1), box(31, 50, 31.1, 50.1)]
    p = _places(
        [
            ("A", 50.05, 30.05, 2000, "01"),
            ("B", 50.05, 30.2, 700, "01"),
            ("C", 50.06, 30.21, 900, "01"),
            ("Far", 40.0, 20.0, 5000, "01"),  # outside everything: dropped
            ("Coast", 50.104, 30.05, 600, "01"),  # 450 m north of the first box: snapped
        ]
    )
    pop, top = estimate_population(geoms, p, floor=300)
    assert pop.tolist() == [2600, 1600, 300]
    assert top.tolist() == [0, 2, -1]
    # the first two are parts of one city: pooled (4200) and shared by area (1:2)
    pop, top = estimate_population(geoms, p, floor=300, groups=["X", "X", None])
    assert pop.tolist() == [1400, 2800, 300]
    assert top.tolist() == [0, 0, -1]


def _check(res: ImportResult, tmp_path, floor: int):
    zones = res.zones
    ids = [z.id for z in zones]
    assert len(set(ids)) == len(ids)
    assert all(z.geometry.is_valid and not z.geometry.is_empty for z in zones)
    assert all(z.population >= floor for z in zones)
    path = tmp_path / "zones.geojson"
    assert write_geojson(path, res) == len(zones)
    back = read_zones(path)
    assert [(z.id, z.name, z.population, z.shelter_s, z.region) for z in back] == [
        (z.id, z.name, z.population, z.shelter_s, z.region) for z in zones
    ]
    zs = zone_set(back)
    assert len(zs) == len(zones)
    # each zone's representative point lies in that zone
    pts = [z.geometry.representative_point() for z in zones[::50]]
    xy = np.array([zs.frame.to_local(pt.y, pt.x) for pt in pts])
    hit = zs.containing(xy[:, 0], xy[:, 1])
    assert (hit >= 0).all()
    return back


def test_hromadas(shared_data, tmp_path):
    src = shared_data / "ukraine_boundaries_ocha_cod_ab" / "Hromadas.geojson"
    doc = json.loads(src.read_text(encoding="utf-8"))
    assert len(doc["features"]) == 1769
    res = hromadas_zones(src)
    # two Crimean hromadas ship with an empty GeometryCollection
    assert sorted(res.skipped) == [
        ("UA0108039", "empty geometry"),
        ("UA0116047", "empty geometry"),
    ]
    assert len(res.zones) == 1767
    _check(res, tmp_path, HROMADA_MIN_POP)
    by = {z.id: z for z in res.zones}
    kyiv = by["UA8000000"]
    assert kyiv.name == "Kyiv" and kyiv.region == "UA80" and kyiv.shelter_s == 120
    assert 2_500_000 < kyiv.population < 3_500_000
    assert kyiv.geometry.contains(Point(30.5234, 50.4501))
    assert len({z.region for z in res.zones}) == 27
    assert 30e6 < sum(z.population for z in res.zones) < 45e6


@pytest.mark.parametrize(
    ("level", "n_zones", "kyiv_id"), [("raions", 139, "UA8000"), ("oblasts", 27, "UA80")]
)
def test_raions_and_oblasts_the_areas_alerted_today(shared_data, tmp_path, level, n_zones, kyiv_id):
    """Ukraine raises alerts for raions and oblasts: the same importer reads both levels
    from the folder, each zone in its oblast, the people adding up to the hromadas'."""
    res = ocha_zones(shared_data / "ukraine_boundaries_ocha_cod_ab", level)
    assert len(res.zones) == n_zones and not res.skipped
    back = _check(res, tmp_path, HROMADA_MIN_POP)
    by = {z.id: z for z in back}
    kyiv = by[kyiv_id]
    assert kyiv.region == "UA80" and kyiv.shelter_s == 120
    assert 2_500_000 < kyiv.population < 3_500_000
    assert all(z.region == z.id[:4] for z in back)
    assert len({z.region for z in back}) == 27
    hrom = sum(
        z.population for z in hromadas_zones(shared_data / "ukraine_boundaries_ocha_cod_ab").zones
    )
    assert abs(sum(z.population for z in back) - hrom) < 0.02 * hrom
    # occupied oblasts (no sensors, no sirens) left out by P-code or English name
    src = shared_data / "ukraine_boundaries_ocha_cod_ab"
    kept = ocha_zones(src, level, ["UA01", "Sevastopol", "UA44"]).zones
    gone = ("UA01", "UA85", "UA44")
    assert [z.id for z in kept] == [z.id for z in back if z.region not in gone]
    with pytest.raises(RecordError, match="Crimea"):  # a name the file does not hold
        ocha_zones(src, level, ["UA01", "Crimea"])


def test_controlled_only_keeps_the_areas_on_government_controlled_land(shared_data):
    """As the built-in region does, --controlled-only drops the areas on occupied land (no
    sensors, no sirens) by the same rough line of contact: Kramatorsk's raion stays,
    Donetsk's and Melitopol's go, and the people left match the built-in region's."""
    from airwarn.zones import builtin_zones

    src = shared_data / "ukraine_boundaries_ocha_cod_ab"
    res = ocha_zones(src, "raions", controlled_only=True)
    ids = {z.id for z in res.zones}
    assert {"UA1412", "UA2306", "UA6510", "UA8000"} <= ids  # Kramatorsk, Zaporizhzhia, Kherson
    assert not ids & {"UA1408", "UA2308", "UA6504"}  # Donetsk, Melitopol, Henichesk
    assert not {z.region for z in res.zones} & {"UA01", "UA44", "UA85"}
    assert {zid for zid, why in res.skipped if why == "occupied"} >= {"UA1408", "UA0102"}
    builtin = sum(z.population for z in builtin_zones())
    assert 0.9 * builtin < sum(z.population for z in res.zones) < 1.1 * builtin


@pytest.mark.parametrize(
    ("folder", "n_zones", "id_example"),
    [
        ("israel_hfc_areas_oref_alert", 1449, "5000511"),
        ("israel_hfc_areas_pikud_haoref_api", 1352, "511"),
    ],
)
def test_israel(shared_data, tmp_path, folder, n_zones, id_example):
    res = israel_zones(shared_data / folder)
    assert len(res.zones) == n_zones
    back = _check(res, tmp_path, ISRAEL_MIN_POP)
    by = {z.id: z for z in back}
    abu_gosh = by[id_example]
    assert abu_gosh.name == "אבו גוש" and abu_gosh.shelter_s == 90
    # polygons were [lat, lon]: the area's centre must be inside it in GeoJSON order
    assert abu_gosh.geometry.distance(Point(35.11038, 31.80686)) < 0.01
    assert {z.shelter_s for z in back} <= {0.0, 15.0, 30.0, 45.0, 60.0, 90.0}
    assert 25 <= len({z.region for z in back}) <= 35
    tel_aviv = [z for z in back if z.name.startswith("תל אביב - ")]
    assert len(tel_aviv) == 4 and all(z.population > 50_000 for z in tel_aviv)
    # Bnei Brak abuts Tel Aviv but is its own town: counted, not taken for a district
    (bnei_brak,) = [z for z in back if z.name == "בני ברק"]
    assert bnei_brak.population > 150_000
    assert 5e6 < sum(z.population for z in back) < 11e6


def test_israel_bad_folder(tmp_path):
    with pytest.raises(RecordError, match="not an HFC areas folder"):
        israel_zones(tmp_path)


def test_israel_bad_polygon(tmp_path):
    (tmp_path / "area_to_polygon.json").write_text(json.dumps({"X": [[31.0, 35.0], [31.1]]}))
    for f in ("area_info.json", "area_to_migun_time.json", "area_to_district.json"):
        (tmp_path / f).write_text("{}")
    with pytest.raises(RecordError) as ei:
        israel_zones(tmp_path)
    assert ei.value.field == "X" and ei.value.source == "area_to_polygon.json"


def test_hromada_bad_feature(tmp_path):
    p = tmp_path / "Hromadas.geojson"
    feat = {"type": "Feature", "properties": {"ADM3_PCODE": "UA1"}, "geometry": None}
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [feat]}))
    with pytest.raises(RecordError) as ei:
        hromadas_zones(p)
    assert (ei.value.line, ei.value.field) == (1, "ADM1_PCODE")


def test_import_zones_dispatch():
    with pytest.raises(ValueError, match="--src"):
        import_zones("hromadas")
    with pytest.raises(ValueError, match="unknown zone source"):
        import_zones("mars", "x")
    with pytest.raises(ValueError, match="unknown OCHA level"):
        ocha_zones("x", "districts")
    assert len(import_zones("builtin").zones) > 3000


def test_cli_zones(shared_data, tmp_path):
    from typer.testing import CliRunner

    from airwarn.cli import app

    out = tmp_path / "z.geojson"
    src = shared_data / "israel_hfc_areas_oref_alert"
    r = CliRunner().invoke(app, ["zones", "--from", "israel", "--src", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert len(read_zones(out)) == 1449


def test_cli_zones_builtin(tmp_path):
    from typer.testing import CliRunner

    from airwarn.cli import app

    out = tmp_path / "b.geojson"
    r = CliRunner().invoke(app, ["zones", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert len(read_zones(out)) == len(import_zones("builtin").zones)
    r = CliRunner().invoke(app, ["zones", "--out", str(out), "--exclude-oblast", "11"])
    assert r.exit_code == 0, r.output
    assert "Crimea" not in {z.region for z in read_zones(out)}


def _polys_file(tmp_path, features) -> str:
    p = tmp_path / "areas.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return str(p)


def _sq(lon: float, lat: float, d: float = 0.05) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
        ],
    }


def test_any_polygons_get_what_they_lack_from_places(tmp_path):
    kyiv, tlv = _sq(30.45, 50.40, 0.1), _sq(34.75, 32.05, 0.07)
    feats = [
        # another generator's names, in its own case, a population written as a string
        {"type": "Feature", "properties": {"CODE": 17, "NAME": "Centre", "POP": "12000", "Migun_Time": 45},
         "geometry": kyiv},
        {"type": "Feature", "properties": {}, "geometry": tlv},  # nothing given
        {"type": "Feature", "properties": {"code": "far"}, "geometry": _sq(-40.0, -60.0)},  # nobody lives there
        {"type": "Feature", "properties": {"code": "dot"}, "geometry": {"type": "Point", "coordinates": [30, 50]}},
        {"type": "Feature", "properties": {"code": "flat"},
         "geometry": {"type": "Polygon", "coordinates": [[[30, 50], [30.1, 50], [30.2, 50], [30, 50]]]}},
    ]  # fmt: skip
    res = import_zones("polygons", _polys_file(tmp_path, feats))
    z = {x.id: x for x in res.zones}
    assert list(z) == ["17", "Z2", "far"]
    assert (z["17"].name, z["17"].population, z["17"].shelter_s) == ("Centre", 12000, 45.0)
    assert z["17"].region == "UA-12"  # Kyiv's GeoNames admin1, from its largest place
    assert z["Z2"].population > 100_000 and z["Z2"].shelter_s == 90.0  # Tel Aviv: a city
    assert z["Z2"].region.startswith("IL-") and res.extra["Z2"]["largest_place"] == "Tel Aviv"
    assert (z["far"].population, z["far"].shelter_s, z["far"].region) == (0, 60.0, "all")
    assert res.skipped == [("dot", "not a polygon (Point)"), ("flat", "no area")]
    out = tmp_path / "zones.geojson"
    write_geojson(out, res)
    assert [x.id for x in read_zones(out)] == ["17", "Z2", "far"]  # the contract's own names
    fixed = import_zones("polygons", _polys_file(tmp_path, feats[1:3]), shelter_s=30.0)
    assert [x.shelter_s for x in fixed.zones] == [30.0, 30.0]


def test_polygons_with_one_id_twice_or_none_at_all_are_refused(tmp_path):
    twice = [{"type": "Feature", "properties": {"id": "a"}, "geometry": _sq(30, 50)}] * 2
    with pytest.raises(RecordError, match="duplicate zone id 'a'") as err:
        import_zones("polygons", _polys_file(tmp_path, twice))
    assert err.value.line == 2
    dots = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {"type": "Point", "coordinates": [30, 50]},
        }
    ]
    with pytest.raises(RecordError, match="no polygon"):
        import_zones("polygons", _polys_file(tmp_path, dots))


def test_zone_files_are_read_under_other_property_names(tmp_path):
    feat = {"type": "Feature", "properties": {"Area_ID": 5000511.0, "Population": "2,500",
            "Countdown": 30, "District": "Dan"}, "geometry": _sq(34.8, 32.1)}  # fmt: skip
    p = _polys_file(tmp_path, [feat])
    (z,) = read_zones(p)
    assert (z.id, z.population, z.shelter_s, z.region) == ("5000511", 2500, 30.0, "Dan")
    del feat["properties"]["Countdown"]
    with pytest.raises(RecordError, match="shelter_s.*is required.*--from polygons"):
        read_zones(_polys_file(tmp_path, [feat]))
