"""The scorer on real user zones (OCHA hromadas, Israel HFC areas), checked by brute force.

Threatened pairs and arrival times from the vectorised scorer must match a dense
brute-force scan of shapely distances along the path (skips without ../shared/data).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from airwarn.contracts import Threat
from airwarn.evaluate import score
from airwarn.geo import LocalFrame
from airwarn.zones import zone_set


def _line_threat(tid, cls, lat0, lon0, lat1, lon1, t0, speed, alt, impact=True) -> Threat:
    fr = LocalFrame(lat0, lon0)
    x1, y1 = fr.to_local(lat1, lon1)
    dur = float(np.hypot(x1, y1)) / speed
    f = np.linspace(0, 1, 41)
    lat, lon = fr.to_geo(f * x1, f * y1)
    t = t0 + f * dur
    imp = {"t": float(t[-1]), "lat": float(lat[-1]), "lon": float(lon[-1])} if impact else None
    return Threat(tid, cls, t, lat, lon, np.full(f.size, alt), "impact" if impact else "left", imp)


def _brute(th: Threat, zs, near_m: float = 2000.0, dt: float = 0.2):
    """{zone index: (first time within near_m, min distance)} by dense sampling."""
    t = np.arange(th.t[0], th.t[-1] + 1e-9, dt)
    x, y = zs.frame.to_local(np.interp(t, th.t, th.lat), np.interp(t, th.t, th.lon))
    pts = shapely.points(x, y)
    line = shapely.linestrings(np.column_stack([x, y]))
    polys = np.array(zs.polys, dtype=object)
    cand = np.flatnonzero(shapely.dwithin(polys, line, near_m + 200.0))
    out = {}
    for z in cand:
        d = shapely.distance(pts, polys[z])
        k = np.flatnonzero(d <= near_m)
        out[int(z)] = (float(t[k[0]]) if k.size else None, float(d.min()))
    return out


def _check(card, th: Threat, zs, near_m: float = 2000.0, tol_s: float = 1.0):
    brute = _brute(th, zs, near_m)
    got = {int(z): float(ta) for z, ta in zip(card.pairs.zone, card.pairs.t_arr, strict=True)}
    imp_zone = int(card.pairs.zone[card.pairs.impact][0]) if card.pairs.impact.any() else None
    clear = {z for z, (_, dmin) in brute.items() if dmin < near_m - 20}
    edge = {z for z, (_, dmin) in brute.items() if abs(dmin - near_m) <= 20}
    assert clear <= set(got), sorted(clear - set(got))
    assert set(got) - edge - {imp_zone} <= clear
    for z in clear:
        assert got[z] == pytest.approx(brute[z][0], abs=tol_s), zs.ids[z]
    return clear


@pytest.fixture(scope="module")
def hromadas(shared_data):
    from airwarn.zones.importers import hromadas_zones

    return zone_set(hromadas_zones(shared_data / "ukraine_boundaries_ocha_cod_ab").zones)


@pytest.fixture(scope="module")
def israel(shared_data):
    from airwarn.zones.importers import israel_zones

    return zone_set(israel_zones(shared_data / "israel_hfc_areas_oref_alert").zones)


def test_drone_over_hromadas_matches_brute_force(hromadas):
    zs = hromadas
    # a Shahed-type drone from the east into Kyiv's centre at 50 m/s
    th = _line_threat("D1", "drone", 50.2, 31.9, 50.4501, 30.5234, 1.75e9, 50.0, 300.0)
    card = score([th], [], zs)
    clear = _check(card, th, zs)
    assert len(clear) >= 5
    assert card.summary["impact_pairs"] == 1
    kyiv = int(card.pairs.zone[card.pairs.impact][0])
    x, y = zs.frame.to_local(50.4501, 30.5234)
    assert zs.containing(x, y)[0] == kyiv
    assert card.summary["region_wide_episodes"] >= 1


def test_ballistic_over_israel_matches_brute_force(israel):
    zs = israel
    # a ballistic missile's last 60 km, at 2 km/s, 30 km up, falling on central Tel Aviv
    th = _line_threat("B1", "ballistic", 32.25, 35.3, 32.0853, 34.7818, 1.75e9, 2000.0, 30_000.0)
    card = score([th], [], zs)
    clear = _check(card, th, zs, tol_s=0.3)
    assert len(clear) >= 10
    assert card.by_class["ballistic"]["impact_miss"] == 1
    assert card.summary["overflight_miss"] == len(card.pairs) - 1
