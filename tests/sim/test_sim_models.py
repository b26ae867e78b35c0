"""The simulator's physical models: drone speeds and fates, ballistic arcs, radar horizon,
sensor geometry, other theatres."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.contracts import CLS_CODE
from airwarn.geo import haversine_m
from airwarn.sim import SimParams, simulate, synthetic_theatre, truth_threats, write_scenario
from airwarn.sim.reports import ACOUSTIC, OBSERVER, RADAR, radar_horizon_m
from airwarn.sim.threats import G, ballistic_arc

UA_BBOX = (44.3, 52.4, 22.1, 40.3)


@pytest.fixture(scope="module")
def raid_sc():
    """Many threats, few sensors: for the threat models."""
    p = SimParams(seed=3, hours=6.0, drones=120, cruise=4, ballistic=8, acoustic=200, radars=10)
    sc = simulate(p)
    return sc, truth_threats(sc)


def _hspeed_kmh(th) -> np.ndarray:
    d = haversine_m(th.lat[:-1], th.lon[:-1], th.lat[1:], th.lon[1:])
    return 3.6 * d / np.diff(th.t)


def test_drone_speeds_150_to_185_kmh(raid_sc):
    _, truth = raid_sc
    drones = [t for t in truth if t.cls == "drone"]
    assert len(drones) == 120
    for th in drones:
        if len(th.t) < 3:
            continue
        v = _hspeed_kmh(th)[:-1]  # last step may be shorter than the sampling step
        assert v.max() <= 185.0 * 1.01, th.id
        assert 150.0 * 0.99 <= np.median(v) <= 185.0 * 1.01, th.id
        assert th.alt_m.max() <= 2500.0 + 1e-6
        assert np.diff(th.t).max() <= 10.0 + 1e-6


def test_drone_fates_most_downed(raid_sc):
    sc, truth = raid_sc
    fates = [t.fate for t in truth if t.cls == "drone"]
    downed = fates.count("downed") / len(fates)
    assert 0.75 <= downed <= 0.95
    assert fates.count("impact") >= 3
    for t in truth:
        assert (t.fate == "impact") == (t.impact is not None)


def test_drone_routes_have_doglegs_and_launch_sites(raid_sc):
    sc, truth = raid_sc
    sites = {s.name for s in sc.theatre.drone_sites}
    assert set(sc.raid.launch_site[:120]) <= sites
    assert len(set(sc.raid.launch_site[:120])) >= 2
    # a route is longer than the straight line from its start to its end
    ratios = []
    for th in truth[:120]:
        if len(th.t) < 20:
            continue
        path = haversine_m(th.lat[:-1], th.lon[:-1], th.lat[1:], th.lon[1:]).sum()
        ratios.append(path / haversine_m(th.lat[0], th.lon[0], th.lat[-1], th.lon[-1]))
    assert np.median(ratios) > 1.02


def test_impacts_inside_ukraine_bbox(raid_sc):
    _, truth = raid_sc
    imps = [t.impact for t in truth if t.impact is not None]
    assert len(imps) >= 5
    la0, la1, lo0, lo1 = UA_BBOX
    for imp in imps:
        assert la0 <= imp["lat"] <= la1 and lo0 <= imp["lon"] <= lo1
    for t in truth:
        if t.impact is not None:
            assert t.impact["t"] == pytest.approx(t.t[-1], abs=1e-3)
            assert t.alt_m[-1] == pytest.approx(0.0, abs=0.5)


def test_launches_and_flights_within_window(raid_sc):
    sc, truth = raid_sc
    for t in truth:
        assert t.t[0] >= sc.t0 - 1e-6
        assert t.t[-1] <= sc.t1


def test_ballistic_arc_known_answer():
    tt, s, z = ballistic_arc(300_000.0, 45_000.0, 280.0, 0.5)
    ta = np.sqrt(2 * 45_000.0 / G)  # 95.8 s to apogee under gravity
    assert tt[-1] == pytest.approx(280.0)
    assert z.max() == pytest.approx(45_000.0, rel=1e-3)
    assert tt[np.argmax(z)] == pytest.approx(ta, abs=0.5)
    assert s[-1] == pytest.approx(300_000.0) and z[-1] == 0.0
    # ascent follows gravity: z(ta - 10 s) = apogee - g * 10^2 / 2
    k = np.argmin(np.abs(tt - (ta - 10.0)))
    assert z[k] == pytest.approx(45_000.0 - 0.5 * G * (ta - tt[k]) ** 2, abs=1.0)


def test_ballistic_flight_time_and_apogee(raid_sc):
    _, truth = raid_sc
    bms = [t for t in truth if t.cls == "ballistic"]
    assert len(bms) == 8
    for th in bms:
        assert np.diff(th.t).max() <= 1.0 + 1e-6
        if th.fate == "impact":
            assert 170.0 <= th.t[-1] - th.t[0] <= 370.0
            assert 40_000.0 - 1 <= th.alt_m.max() <= 50_000.0 + 1
            rng = haversine_m(th.lat[0], th.lon[0], th.lat[-1], th.lon[-1])
            assert 50_000.0 <= rng <= 500_000.0
        else:
            assert 8000.0 <= th.alt_m[-1] <= 25_000.0


def test_cruise_low_and_fast(raid_sc):
    _, truth = raid_sc
    cms = [t for t in truth if t.cls == "cruise"]
    assert len(cms) == 4
    for th in cms:
        v = _hspeed_kmh(th)[:-1] / 3.6
        assert 195.0 <= np.median(v) <= 251.0
        low = th.alt_m[len(th.alt_m) // 2 : -2]
        assert low.size == 0 or low.max() <= 100.0 + 1e-6


def test_radar_horizon_known_answer():
    assert radar_horizon_m(np.array(25.0), np.array(100.0)) == pytest.approx(4120.0 * 15.0)
    assert radar_horizon_m(np.array(16.0), np.array(0.0)) == pytest.approx(4120.0 * 4.0)


def test_radar_sees_low_drones_only_near(raid_sc):
    sc, _ = raid_sc
    ln, net, raid = sc.lines, sc.network, sc.raid
    m = (ln.kind == RADAR) & (ln.threat >= 0)
    assert m.sum() > 100
    s = ln.sensor[m]
    d_rep = np.hypot(ln.x[m] - net.x[s], ln.y[m] - net.y[s])
    assert np.all(d_rep <= net.range_m[s] + 5 * ln.sigma[m])
    # the true altitude bounds how far a report can be: horizon(h_radar, h_max of its threat)
    zmax = np.array([raid.z[raid.tid == k].max() for k in range(len(raid))])
    assert np.all(d_rep <= radar_horizon_m(net.alt_m[s], zmax[ln.threat[m]]) + 5 * ln.sigma[m])
    # true altitude at each report: drones below 300 m are only seen within the low horizon
    key = raid.tid * 1e6 + (raid.t - sc.t0)
    j = np.clip(np.searchsorted(key, ln.threat[m] * 1e6 + (ln.t[m] - sc.t0)), 0, len(key) - 1)
    ztrue = raid.z[j]
    low = ztrue < 300.0
    assert low.any()
    hz = radar_horizon_m(net.alt_m[s][low], np.full(low.sum(), 300.0))
    assert np.all(d_rep[low] <= hz + 5 * ln.sigma[m][low])
    assert np.all(hz < 110_000.0)


def test_acoustic_and_observer_reports_near_their_threat(raid_sc):
    sc, _ = raid_sc
    ln, raid = sc.lines, sc.raid
    for kind, tol in ((ACOUSTIC, 5000.0), (OBSERVER, 30_000.0)):
        m = np.flatnonzero((ln.kind == kind) & (ln.threat >= 0))
        assert m.size > 10
        for i in m[:: max(1, m.size // 200)]:
            k = ln.threat[i]
            sel = raid.tid == k
            j = np.argmin(np.abs(raid.t[sel] - ln.t[i]))
            d = np.hypot(raid.x[sel][j] - ln.x[i], raid.y[sel][j] - ln.y[i])
            assert d <= tol + 60.0 * 250.0 * (kind == OBSERVER)


def test_latency_bound_holds_for_every_line(raid_sc):
    sc, _ = raid_sc
    lag = sc.arrival - sc.lines.t
    assert lag.min() >= 0.0
    assert lag.max() <= sc.params.max_lag_s + 1e-6
    obs = sc.lines.kind == OBSERVER
    assert lag[obs].min() >= 19.0


def test_synthetic_theatre_scenario(tmp_path):
    p = SimParams(
        seed=5, hours=3.0, drones=25, cruise=2, ballistic=2, acoustic=150, radars=4,
        region="synthetic",
    )  # fmt: skip
    info = write_scenario(p, tmp_path)
    assert info["region"] == "synthetic" and info["threats"] == 29
    assert info["zones"] == 40
    th = synthetic_theatre(seed=5)
    la0, la1, lo0, lo1 = th.bbox
    sc = simulate(p)
    for t in truth_threats(sc):
        if t.impact:
            assert la0 - 0.1 <= t.impact["lat"] <= la1 + 0.1
            assert lo0 - 0.1 <= t.impact["lon"] <= lo1 + 0.1


@pytest.mark.parametrize(
    "kw",
    [
        {"drones": 0, "cruise": 0, "ballistic": 0, "acoustic": 10, "radars": 1},
        {"drones": 2, "cruise": 0, "ballistic": 0, "acoustic": 0, "radars": 0},
        {"drones": 0, "cruise": 1, "ballistic": 1, "acoustic": 5, "radars": 2, "observer_rate": 0},
        {"drones": 3, "jet_drones": 2, "acoustic": 20, "radars": 2, "sensor_outage_p": 1.0},
    ],
)
def test_edge_parameters(tmp_path, kw):
    p = SimParams(hours=1.0, region="synthetic", **kw)
    info = write_scenario(p, tmp_path)
    n = kw.get("drones", 0) + kw.get("jet_drones", 0) + kw.get("cruise", 7) + kw.get("ballistic", 4)
    assert info["threats"] == n
    assert info["sensors"] == kw["acoustic"] + kw["radars"]
    if kw.get("observer_rate") == 0:
        assert info["reports_by_kind"]["observer"] == 0
    sc = simulate(p)
    jets = [t for t in truth_threats(sc) if t.cls == "jet_drone"]
    assert len(jets) == kw.get("jet_drones", 0)
    for th in jets:
        if len(th.t) > 3:
            assert 295.0 <= np.median(_hspeed_kmh(th)[:-1]) <= 375.0


def test_israel_theatre_medium_range_ballistic(tmp_path):
    p = SimParams(
        seed=4, hours=3.0, drones=8, cruise=1, ballistic=6, acoustic=60, radars=3,
        region="israel",
    )  # fmt: skip
    info = write_scenario(p, tmp_path)
    assert info["region"] == "israel" and info["zones"] > 100
    sc = simulate(p)
    assert sc.params.ballistic_flight_s == (480.0, 560.0)  # the theatre's own default
    for th in truth_threats(sc):
        if th.impact:
            assert 29.4 <= th.impact["lat"] <= 33.4 and 34.2 <= th.impact["lon"] <= 35.9
        if th.cls == "ballistic" and th.fate == "impact":
            # a drag-free arc from a 400-600 km apogee: up and down under gravity
            h = th.alt_m.max()
            assert 400_000.0 - 1 <= h <= 600_000.0 + 1
            t_top = th.t[int(np.argmax(th.alt_m))]
            assert th.t[-1] - t_top == pytest.approx(np.sqrt(2 * h / G), abs=15.0)
            assert t_top - th.t[0] == pytest.approx(np.sqrt(2 * h / G), abs=15.0)
    # an explicit value wins over the theatre default
    q = SimParams(**{**p.to_json(), "ballistic_flight_s": (300.0, 400.0)})
    assert simulate(q).params.ballistic_flight_s == (300.0, 400.0)


def test_impacts_and_sensors_inside_controlled_ukraine(raid_sc, shared_data):
    """Against the real oblast polygons (OCHA COD-AB): impacts hit Ukraine outside Crimea,
    Sevastopol and Luhansk; sensors stand in Ukraine."""
    import json

    import shapely
    from shapely.geometry import shape
    from shapely.ops import unary_union

    doc = json.loads(
        (shared_data / "ukraine_boundaries_ocha_cod_ab" / "Oblasts.geojson").read_text()
    )
    obl = {f["properties"]["ADM1_PCODE"]: shape(f["geometry"]) for f in doc["features"]}
    ukraine = unary_union(list(obl.values())).buffer(0.02)
    occupied = unary_union([obl[c] for c in ("UA01", "UA85", "UA44")])
    sc, truth = raid_sc
    imps = [t.impact for t in truth if t.impact is not None]
    pts = shapely.points([i["lon"] for i in imps], [i["lat"] for i in imps])
    assert shapely.contains(ukraine, pts).all()
    assert not shapely.intersects(occupied, pts).any()
    net = sc.network
    inside = shapely.contains(ukraine, shapely.points(net.lon, net.lat))
    assert inside.mean() >= 0.97
    assert not shapely.intersects(occupied, shapely.points(net.lon, net.lat)).any()


def test_ukraine_theatre_excludes_occupied_places():
    from airwarn.sim import ukraine_theatre

    names = set(ukraine_theatre().places_name)
    for n in ("Kyiv", "Kharkiv", "Kherson", "Zaporizhzhya", "Kramatorsk", "Beryslav", "Sumy"):
        assert n in names, n
    for n in ("Mariupol", "Melitopol", "Enerhodar", "Oleshky", "Nova Kakhovka", "Donetsk"):
        assert n not in names, n
    for n in ("Sevastopol", "Simferopol", "Luhansk"):
        assert n not in names, n


def test_own_aircraft_are_confounders_not_threats():
    base = SimParams(seed=2, hours=2.0, drones=5, cruise=0, ballistic=0, acoustic=100, radars=6)
    with_air = SimParams(**{**base.to_json(), "aircraft": 4})
    a, b = simulate(base), simulate(with_air)
    assert len(b.raid) == len(a.raid) == 5  # not in the truth
    assert truth_threats(a)[0].to_json() == truth_threats(b)[0].to_json()
    fa = ((a.lines.kind == RADAR) & (a.lines.threat < 0)).sum()
    fb = ((b.lines.kind == RADAR) & (b.lines.threat < 0)).sum()
    assert fb > fa + 50
    assert (b.lines.cls == CLS_CODE["aircraft"]).any()


def test_custom_theatre_object(tmp_path):
    """Any region built as a Theatre: three towns, one launch area, hand-made zones."""
    from airwarn.sim import Site, Theatre

    th = Theatre(
        name="tiny",
        center=(50.0, 20.0),
        places_name=np.array(["A", "B", "C"], dtype=object),
        places_lat=np.array([50.0, 50.3, 49.8]),
        places_lon=np.array([20.0, 20.4, 19.7]),
        places_pop=np.array([300_000, 50_000, 30_000]),
        target_min_pop=20_000,
        drone_sites=[Site("East", 50.0, 22.5)],
        cruise_sites=[Site("Far", 50.0, 27.0)],
        ballistic_sites=[Site("Near", 50.0, 23.0)],
        exits=[Site("West", 50.0, 18.5)],
        defended_radius_m=60_000.0,
    )
    th.zones = th.place_zones
    p = SimParams(seed=1, hours=3.0, drones=10, cruise=1, ballistic=2, acoustic=40, radars=2)
    info = write_scenario(p, tmp_path, theatre=th)
    assert info["region"] == "tiny" and info["threats"] == 13 and info["zones"] == 3
    sc = simulate(p, th)
    assert set(sc.raid.target) <= {"A", "B", "C"}
    assert {t.fate for t in truth_threats(sc)} <= {"impact", "downed", "left"}
