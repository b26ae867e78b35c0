"""The local frame: round trips, distances and velocity rotation."""

from __future__ import annotations

import numpy as np
import pymap3d
import pytest

from airwarn.geo import LocalFrame, haversine_m


def test_round_trip_and_scale() -> None:
    f = LocalFrame(48.6, 31.3)
    lat = np.array([50.45, 46.48, 48.6, 45.0])
    lon = np.array([30.52, 30.73, 31.3, 40.0])
    x, y = f.to_local(lat, lon)
    la, lo = f.to_geo(x, y)
    assert np.allclose(la, lat, atol=1e-9) and np.allclose(lo, lon, atol=1e-9)
    # Kyiv-Odesa: local distance within 0.3 % of the great-circle distance
    d_local = np.hypot(x[0] - x[1], y[0] - y[1])
    d_true = haversine_m(lat[0], lon[0], lat[1], lon[1])
    assert abs(d_local / d_true - 1) < 3e-3


def test_velocity_rotation_far_from_centre() -> None:
    f = LocalFrame(48.6, 31.3)
    lat, lon = 46.5, 40.0  # ~650 km east: grid convergence of several degrees
    vx, vy = f.vel_to_local(lat, lon, 100.0, 0.0)
    la2, lo2, _ = pymap3d.enu2geodetic(100.0, 0.0, 0.0, lat, lon, 0.0)
    x1, y1 = f.to_local(lat, lon)
    x2, y2 = f.to_local(la2, lo2)
    assert np.degrees(abs(np.arctan2(vy, vx) - np.arctan2(y2 - y1, x2 - x1))) < 0.05
    ve, vn = f.vel_to_geo(x1, y1, vx, vy)
    assert np.allclose([ve, vn], [100.0, 0.0], atol=1e-6)


def test_within_any_circle_known_answer():
    from scipy.spatial import cKDTree

    from airwarn.geo import within_any_circle

    centres = cKDTree(np.array([[0.0, 0.0], [10_000.0, 0.0]]))
    radius = np.array([1000.0, 3000.0])
    px = np.array([[500.0, 1500.0], [8000.0, 12_800.0]])
    py = np.array([[0.0, 0.0], [0.0, 1000.0]])
    got = within_any_circle(px, py, radius, centres)
    # 1.5 km from the first centre is outside its 1 km circle; both others are inside 3 km
    assert got.tolist() == [[True, False], [True, True]]
    assert within_any_circle(np.zeros(0), np.zeros(0), radius, centres).shape == (0,)
    # heights: spheres on the ground (slant range). (8 km, 0) is 2 km from the 3 km centre:
    # inside up to sqrt(9 - 4) = 2.24 km up; (500, 0) needs <= 866 m under the 1 km sphere
    pz = np.array([[800.0, 0.0], [2500.0, 0.0]])
    assert within_any_circle(px, py, radius, centres, pz=pz).tolist() == [
        [True, False],
        [False, True],
    ]
    pz[0, 0], pz[1, 0] = 900.0, 2000.0
    assert within_any_circle(px, py, radius, centres, pz=pz).tolist() == [
        [False, False],
        [True, True],
    ]


def test_a_radar_of_unknown_height_sees_from_the_mast_it_is_given():
    from airwarn.geo import radar_view_m

    mast, rng = np.array([np.nan, 25.0, -1.0]), np.full(3, 200_000.0)
    assert radar_view_m(mast, rng, 30.0, 100.0).tolist()[::2] == [0.0, 0.0]
    view = radar_view_m(mast, rng, 30.0, 100.0, unknown_mast_m=5.0)
    assert view[0] == pytest.approx(4120.0 * (5**0.5 + 30**0.5), rel=1e-3)  # 31.8 km
    assert view[1] == pytest.approx(4120.0 * (25**0.5 + 30**0.5), rel=1e-3)  # as given
    assert view[2] == 0.0  # a negative height stays unknowable


def test_central_lon_takes_the_short_way_across_the_180th_meridian():
    from airwarn.geo import LocalFrame, central_lon

    assert central_lon(np.array([22.0, 40.0])) == 31.0  # as (min + max) / 2 everywhere else
    assert central_lon(np.array([-10.0, 5.0, 3.0])) == -2.5
    assert abs(abs(central_lon(np.array([179.0, -179.0, 178.5]))) - 179.75) < 1e-9
    assert central_lon(np.array([170.0, -170.0])) in (180.0, -180.0)
    # a frame around points on both sides of the meridian keeps them 1 degree apart
    f = LocalFrame.around([-17.5, -17.5], [179.5, -179.5])
    x, y = f.to_local(np.array([-17.5, -17.5]), np.array([179.5, -179.5]))
    assert 100_000.0 < x[1] - x[0] < 110_000.0
    assert abs(y[1] - y[0]) < 1000.0
