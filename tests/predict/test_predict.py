"""Known-answer tests for the predict stage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from airwarn.contracts import CLS_CODE, TrackState, ZoneThreats
from airwarn.decide.policy import Policy
from airwarn.predict import PredictConfig, Predictor
from airwarn.predict.ballistic import G0, impact_point
from airwarn.predict.predictor import BALLISTIC, ROUTE_MODELS, _merge_rows
from airwarn.predict.routes import counter_uniforms

from .conftest import make_tracks, make_zones

SPEED = 47.0  # m/s, a Shahed-type drone


def pure_ballistic() -> Policy:
    """A policy whose ballistic threats fall under gravity alone, to flat ground at 0 m."""
    pol = Policy.load()
    pol.predict = {"ballistic": {"curvature": False, "ground_alt_m": 0.0, "descent_accel_min": G0}}
    return pol


def rows(zt, zones, track=None):
    """{zone id: (p_reach, p_impact, eta_p10, eta_p50, lost)} for one track (or all)."""
    out = {}
    for i in range(len(zt)):
        if track is None or zt.track[i] == track:
            out[zones.ids[zt.zone[i]]] = (
                zt.p_reach[i],
                zt.p_impact[i],
                zt.eta_p10[i],
                zt.eta_p50[i],
                bool(zt.lost[i]),
            )
    return out


@pytest.fixture
def line_zones():
    """Zones 15 km ahead (east), 15 km behind (west) and 40 km to the north."""
    return make_zones([("ahead", 15000, 0), ("behind", -15000, 0), ("north", 0, 40000)])


def test_straight_drone_reaches_zone_ahead_in_time(line_zones, policy):
    pred = Predictor(line_zones, policy)
    zt = pred.update(make_tracks(1000.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"]))
    r = rows(zt, line_zones)
    assert "ahead" in r
    p_reach, p_imp, p10, p50, lost = r["ahead"]
    assert p_reach >= 0.75  # doglegs (2/h) turn ~12% of routes away within 4 min
    assert not lost
    # first within reach_m of the square (half side 2 km) at 15 - 2 - 2 = 11 km
    expect = (15000 - 2000 - pred.cfg.reach_m) / SPEED
    assert abs(p50 - expect) <= 40.0
    assert p10 <= p50
    assert "behind" not in r or r["behind"][0] < 0.05


def test_eta_scales_with_distance(policy):
    zones = make_zones([("z20", 20000, 0), ("z40", 40000, 0)], half=1000.0)
    pred = Predictor(zones, policy)
    zt = pred.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"]))
    r = rows(zt, zones)
    reach = pred.cfg.reach_m
    for zid, d in (("z20", 20000), ("z40", 40000)):
        assert abs(r[zid][3] - (d - 1000 - reach) / SPEED) <= 60.0
    assert r["z20"][0] >= r["z40"][0]  # uncertainty grows with time


def test_prediction_reused_between_refreshes_with_etas_counting_down(line_zones, policy):
    pred = Predictor(line_zones, policy)
    st = np.array([[0, 0, 300, SPEED, 0, 0]], float)
    r0 = rows(pred.update(make_tracks(0.0, st, ["drone"])), line_zones)["ahead"]
    st[0, 0] += 10 * SPEED
    r1 = rows(pred.update(make_tracks(10.0, st, ["drone"])), line_zones)["ahead"]
    assert r1[0] == r0[0]  # same prediction, reused
    assert r1[3] == pytest.approx(r0[3] - 10.0)
    st[0, 0] += 60 * SPEED  # past refresh_s: predicted afresh from the new position
    r2 = rows(pred.update(make_tracks(70.0, st, ["drone"])), line_zones)["ahead"]
    assert abs(r2[3] - (r0[3] - 70.0)) <= 35.0


def test_turn_triggers_a_fresh_prediction(line_zones, policy):
    pred = Predictor(line_zones, policy)
    pred.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"]))
    # 10 s later it has turned north: the zone ahead is no longer ahead
    turned = [[10 * SPEED, 0, 300, 0, SPEED, 0]]
    r = rows(pred.update(make_tracks(10.0, turned, ["drone"])), line_zones)
    assert "ahead" not in r or r["ahead"][0] < 0.3


def test_tentative_and_aircraft_tracks_trigger_nothing(line_zones, policy):
    pred = Predictor(line_zones, policy)
    tr = make_tracks(
        0.0,
        [[0, 0, 300, SPEED, 0, 0], [0, 0, 8000, 200, 0, 0]],
        ["drone", "aircraft"],
        confirmed=[False, True],
    )
    assert len(pred.update(tr)) == 0
    assert pred.idle()


def test_ballistic_impact_point_closed_form():
    cfg = PredictConfig.from_policy({"ballistic": {"curvature": False, "ground_alt_m": 0.0}})
    x = np.array([[1000.0, -2000.0, 30000.0, 800.0, -600.0, -500.0]])
    ix, iy, t = impact_point(x, cfg.ballistic)
    t_hand = (-500.0 + math.sqrt(500.0**2 + 2 * G0 * 30000.0)) / G0
    assert t[0] == pytest.approx(t_hand, rel=1e-9)
    assert ix[0] == pytest.approx(1000.0 + 800.0 * t_hand)
    assert iy[0] == pytest.approx(-2000.0 - 600.0 * t_hand)


def test_ballistic_alerts_the_impact_zone_and_the_path_not_beside(policy):
    # falls from 30 km at -500 m/s vertical, 1000 m/s east: impact ~ 42.6 s, ~42.6 km east
    pol = pure_ballistic()
    t_imp = (-500.0 + math.sqrt(500.0**2 + 2 * G0 * 30000.0)) / G0
    x_imp = 1000.0 * t_imp
    zones = make_zones(
        [("impact", x_imp, 0), ("under_path", x_imp / 10, 0), ("aside", x_imp, 15000)],
        half=4000.0,
    )
    pred = Predictor(zones, pol)
    tr = make_tracks(
        0.0, [[0, 0, 30000, 1000.0, 0, -500.0]], ["ballistic"], sigma_pos=50, sigma_vel=3
    )
    r = rows(pred.update(tr), zones)
    assert r["impact"][1] >= 0.9  # p_impact
    # first within reach on the terminal path: (4 km half side + 2 km reach) before impact
    assert abs(r["impact"][3] - (t_imp - 6.0)) <= 3.0
    # passed 38 km before the impact, still ~28 km up: debris of an interception or a
    # failure falls there (reached, never struck), as the threat flies over it
    p_reach, p_imp, p10, _, _ = r["under_path"]
    assert p_reach >= 0.9 and p_imp == 0.0
    assert p10 <= 1.0  # the missile is over it now (its 4 km half side + 2 km reach)
    assert "aside" not in r
    # the path ends where the terminal part begins: a zone there is reached by both parts,
    # in one row
    zt = Predictor(make_zones([("joint", x_imp - 25000.0, 0)], half=4000.0), pol).update(tr)
    assert len(zt) == 1 and zt.p_reach[0] >= 0.9
    # path_samples = 0: the impact area and the terminal part only
    pol.predict["ballistic"]["path_samples"] = 0
    r0 = rows(Predictor(zones, pol).update(tr), zones)
    assert "under_path" not in r0 and r0["impact"][1] >= 0.9


def test_ballistic_path_starts_at_the_present_position():
    # a zone behind the missile (already overflown) is not on its path
    pol = pure_ballistic()
    zones = make_zones([("behind", -20000.0, 0), ("ahead", 15000.0, 0)], half=3000.0)
    tr = make_tracks(
        0.0, [[0, 0, 30000, 1000.0, 0, -500.0]], ["ballistic"], sigma_pos=50, sigma_vel=3
    )
    r = rows(Predictor(zones, pol).update(tr), zones)
    assert "behind" not in r
    p_reach, _, p10, _, _ = r["ahead"]
    # over it after (15 - 3 - 2) km at 1 km/s
    assert p_reach >= 0.9 and abs(p10 - 10.0) <= 2.0


def test_ballistic_terminal_path_zones_are_reached_not_struck():
    # the same fall; a zone 12 km back along the course lies under the last 25 km of the
    # path (the steep end of the fall, debris of an interception): reached, not struck
    t_imp = (-500.0 + math.sqrt(500.0**2 + 2 * G0 * 30000.0)) / G0
    x_imp = 1000.0 * t_imp
    zones = make_zones([("impact", x_imp, 0), ("terminal", x_imp - 12000.0, 0)], half=3000.0)
    tr = make_tracks(
        0.0, [[0, 0, 30000, 1000.0, 0, -500.0]], ["ballistic"], sigma_pos=50, sigma_vel=3
    )
    pol = pure_ballistic()
    r = rows(Predictor(zones, pol).update(tr), zones)
    p_reach, p_imp, p10, p50, _ = r["terminal"]
    assert p_reach >= 0.9 and p_imp == 0.0
    # first within reach (12 + 3 + 2) km before the impact point, at 1 km/s
    assert abs(p50 - (t_imp - 17.0)) <= 3.0
    pol.predict["ballistic"] |= {"terminal_m": 0.0, "path_samples": 0}
    assert "terminal" not in rows(Predictor(zones, pol).update(tr), zones)


def test_quasi_ballistic_fall_is_learned_from_the_track():
    # a fall slowed by lift and drag: constant 3 m/s^2 down instead of g
    a, z0, vz0, vx = 3.0, 40000.0, -200.0, 1000.0

    def state(tau):
        return [vx * tau, 0, z0 + vz0 * tau - a / 2 * tau**2, vx, 0, vz0 - a * tau]

    tau = 20.0
    zc, vzc = state(tau)[2], state(tau)[5]
    rest = (vzc + math.sqrt(vzc**2 + 2 * a * zc)) / a
    naive = (vzc + math.sqrt(vzc**2 + 2 * G0 * zc)) / G0
    zones = make_zones(
        [("true", vx * (tau + rest), 0), ("naive", vx * (tau + naive), 0)], half=4000.0
    )
    pol = Policy.load()
    pol.predict = {"ballistic": {"curvature": False, "ground_alt_m": 0.0}}
    pred = Predictor(zones, pol)
    for t in np.arange(0.0, tau + 1, 5.0):
        tr = make_tracks(t, [state(t)], ["ballistic"], ids=[4], sigma_pos=50, sigma_vel=3)
        zt = pred.update(tr)
    r = rows(zt, zones)
    assert r["true"][1] >= 0.8
    # first within reach on the terminal path, (4 km half side + 2 km reach) before impact
    assert abs(r["true"][3] - (rest - 6.0)) <= 5.0
    assert r.get("naive", (0.0, 0.0))[1] == 0.0  # under the terminal path at most


def test_only_a_fast_body_is_given_a_long_glide():
    # falling from 10 km with the fall acceleration not yet observed: a slow artillery
    # rocket (300 m/s) comes down near its ballistic point (the speed's floor
    # g (1 - 300 / 1100) = 7.1 m/s^2: within 1.17 times the fall time at g); a missile at
    # 1,300 m/s may glide (lift) down to descent_accel_min, 3.1 times the fall time at g
    t_g = math.sqrt(2 * 10000.0 / G0)
    pol = Policy.load()
    pol.predict = {"ballistic": {"curvature": False, "ground_alt_m": 0.0}}
    for vx in (300.0, 1300.0):
        zones = make_zones([("ballistic", vx * t_g, 0), ("far", vx * 2.5 * t_g, 0)], half=2000.0)
        tr = make_tracks(0.0, [[0, 0, 10000, vx, 0, 0]], ["ballistic"], sigma_vel=3)
        r = rows(Predictor(zones, pol).update(tr), zones)
        assert r["ballistic"][1] > 0.0
        assert ("far" in r) == (vx > 1100.0), vx
        if vx < 1100.0:
            # the floor alone: any speed may glide with glide_speed_ms = 0
            pol0 = Policy.load()
            pol0.predict = {"ballistic": pol.predict["ballistic"] | {"glide_speed_ms": 0.0}}
            assert rows(Predictor(zones, pol0).update(tr), zones)["far"][1] > 0.0


def test_a_lofted_missile_glides_only_below_the_glide_ceiling():
    # at a 120 km apogee, 1,600 m/s east, the fall not yet observed: no air to glide in
    # above 60 km, so it falls under gravity to 60 km (110.6 s, then 1,085 m/s down) and
    # even the slowest fall below takes 54 s instead of 45.8 s: the strip ends ~13 km past
    # the ballistic point, not ~530 km (a glide at 1 m/s^2 all the way from the apogee)
    vx = 1600.0
    t_g = math.sqrt(2 * 120000.0 / G0)  # 156.4 s: the fall at g all the way
    zones = make_zones(
        [
            ("ballistic", vx * t_g, 0),
            ("glide", vx * t_g + 10000.0, 0),
            ("far", vx * (t_g + 40.0), 0),
        ],
        half=3000.0,
    )
    tr = make_tracks(0.0, [[0, 0, 120000, vx, 0, 0]], ["ballistic"], sigma_vel=3)
    pol = Policy.load()
    ball = {"curvature": False, "ground_alt_m": 0.0, "glide_ceiling_m": 60000.0}
    pol.predict = {"ballistic": ball}
    r = rows(Predictor(zones, pol).update(tr), zones)
    assert r["ballistic"][1] > 0.0 and r["glide"][1] > 0.5 and "far" not in r
    # off: a glide from the apogee down
    pol.predict = {"ballistic": ball | {"glide_ceiling_m": 0.0}}
    r = rows(Predictor(zones, pol).update(tr), zones)
    assert r["far"][1] > 0.0
    # once the fall is observed, its fitted acceleration holds from the apogee down: a
    # track seen falling at 1.2 m/s^2 from 120 km for 20 s is predicted so, ceiling or not
    a, v = 1.2, 1000.0
    rest = (-a * 20.0 + math.sqrt((a * 20.0) ** 2 + 2 * a * (120000.0 - a / 2 * 400.0))) / a
    t_bal = 20.0 + math.sqrt(2 * 120000.0 / G0)  # about when a fall at g would come down
    zones = make_zones([("slow", v * (20.0 + rest), 0), ("g", v * t_bal, 0)], half=3000.0)
    pol.predict = {"ballistic": ball}
    pred = Predictor(zones, pol)
    for t in np.arange(0.0, 21.0, 4.0):
        row = [v * t, 0, 120000.0 - a / 2 * t * t, v, 0, -a * t]
        zt = pred.update(make_tracks(t, [row], ["ballistic"], ids=[3], sigma_vel=3))
    r = rows(zt, zones)
    assert r["slow"][1] > 0.0 and r.get("g", (0.0, 0.0))[1] == 0.0


def test_ballistic_open_ground_alerts_nobody(policy):
    zones = make_zones([("city", 0, -50000)], half=3000.0)
    pred = Predictor(zones, policy)  # default: fall acceleration unknown, a wide prior
    tr = make_tracks(0.0, [[0, 0, 30000, 1000.0, 0, -500.0]], ["ballistic"], sigma_pos=50)
    assert len(pred.update(tr)) == 0


def test_ballistic_ellipse_shrinks_with_tracking():
    zones = make_zones([(f"z{i}", 40000 + 6000 * i, 0) for i in range(-4, 5)], half=3000.0)
    pred = Predictor(zones, pure_ballistic())
    spread = []
    for sv in (60.0, 5.0):
        tr = make_tracks(0.0, [[0, 0, 30000, 1000.0, 0, -500.0]], ["ballistic"], sigma_vel=sv)
        zt = pred.update(tr)
        spread.append(int((zt.p_impact > 0).sum()))
    assert spread[0] > spread[1] >= 1


def undamped() -> Policy:
    """A policy whose ghosts keep their full probability until they end."""
    pol = Policy.load()
    pol.predict = {"ghost_half_life_s": 0.0, "ghost_unwatched_half_life_s": 0.0}
    return pol


def test_ghost_of_deleted_track_keeps_growing(line_zones):
    pred = Predictor(line_zones, undamped())
    tid = 7
    zt = pred.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], ids=[tid]))
    assert pred.idle() and not zt.lost.any()
    spreads = []
    for t in (60.0, 300.0, 900.0):
        zt = pred.update(TrackState.empty(t))
        assert not pred.idle()
        assert len(zt) and zt.lost.all() and (zt.track == tid).all()
        g = pred.ghosts["drone"]
        al = g.state.alive[0]
        spreads.append(float(np.hypot(g.state.x[0, al].std(), g.state.y[0, al].std())))
        mean_x = float(g.state.x[0, al].mean())
        assert mean_x > 0.5 * SPEED * t  # the ghost keeps flying on
    assert spreads[0] < spreads[1] < spreads[2]
    pred.update(TrackState.empty(pred.cfg.routes["drone"].ghost_max_s + 10.0))
    assert pred.idle()


def test_a_ghosts_cloud_does_not_depend_on_other_ghosts(line_zones):
    # drone 7 is lost at 60 s, beside drone 8 lost at 0 s (whose ghost has drawn noise for a
    # minute already) or beside 8 still tracked: 7's ghost cloud is the same sample for sample
    st = [[0, 0, 300, SPEED, 0, 0], [0, 20000, 300, SPEED, 0, 0]]
    now = [[60 * SPEED, 0, 300, SPEED, 0, 0], [60 * SPEED, 20000, 300, SPEED, 0, 0]]

    def cloud(other_lost: bool) -> np.ndarray:
        pred = Predictor(line_zones, undamped())
        pred.update(make_tracks(0.0, st, ["drone", "drone"], ids=[7, 8]))
        if other_lost:
            pred.update(make_tracks(60.0, now[:1], ["drone"], ids=[7]))
            pred.update(make_tracks(60.001, [], []))
        else:
            pred.update(make_tracks(60.0, now, ["drone", "drone"], ids=[7, 8]))
            pred.update(make_tracks(60.001, now[1:], ["drone"], ids=[8]))
        pred.update(TrackState.empty(600.0))
        g = pred.ghosts["drone"]
        i = g.ids.tolist().index(7)
        return np.stack([g.state.x[i], g.state.y[i]])

    np.testing.assert_array_equal(cloud(True), cloud(False))


def test_counter_uniforms_are_uniform_and_keyed():
    u = counter_uniforms(np.arange(200), np.zeros(200, np.int64), 500, 2)
    assert u.shape == (2, 200, 500) and 0.0 < u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.std() - math.sqrt(1 / 12)) < 0.005
    assert abs(np.corrcoef(u[0].ravel(), u[1].ravel())[0, 1]) < 0.01
    again = counter_uniforms(np.array([5]), np.array([0]), 500, 2)
    np.testing.assert_array_equal(again[:, 0], u[:, 5])  # a key's draw alone is the same
    later = counter_uniforms(np.array([5]), np.array([1]), 500, 2)
    assert not np.array_equal(later, again)


def test_a_track_lost_below_ground_and_diving_leaves_no_ghost(line_zones):
    # a short-range rocket's track classed cruise near its apogee, last estimated 400 m
    # below ground falling at 150 m/s, has struck: no route ghost flies on from it; a
    # drone lost at 300 m keeps its ghost, and so does one whose altitude sits a little
    # below ground while it flies level (a noisy estimate of a low drone)
    pred = Predictor(line_zones, undamped())
    rows = [[0, 0, -400, 300, 0, -150], [0, 2000, 300, SPEED, 0, 0], [0, 4000, -50, SPEED, 0, 0]]
    pred.update(make_tracks(0.0, rows, ["cruise", "drone", "drone"], ids=[1, 2, 3]))
    pred.update(TrackState.empty(30.0))
    assert pred.ghosts["cruise"].ids.tolist() == []
    assert sorted(pred.ghosts["drone"].ids.tolist()) == [2, 3]


def test_a_diving_track_of_any_class_is_predicted_as_falling(policy):
    # a rocket fusion still reads as a cruise missile, 1 km up at 250 m/s and falling at
    # 150 m/s: it strikes ~1.7 km ahead within seconds, and is reported as ballistic, not
    # flown on level for 15 minutes; level or gently descending it flies on
    zones = make_zones([("near", 2000, 0), ("far", 15000, 0)])
    out = {}
    for vz in (-150.0, -20.0, 0.0):
        pred = Predictor(zones, policy)
        zt = pred.update(make_tracks(0.0, [[0, 0, 1000, 250, 0, vz]], ["cruise"]))
        out[vz] = {zones.ids[z]: c for z, c in zip(zt.zone, zt.cls, strict=True)}
    assert out[-150.0] == {"near": CLS_CODE["ballistic"]}
    for vz in (-20.0, 0.0):
        assert out[vz].get("far") == CLS_CODE["cruise"]
    # vertical speed too uncertain to be sure of the dive (2 sigma): flown on
    pred = Predictor(zones, policy)
    trk = make_tracks(0.0, [[0, 0, 1000, 250, 0, -150]], ["cruise"], sigma_vel=60.0)
    zt = pred.update(trk)
    assert "far" in {zones.ids[z] for z in zt.zone}


def test_an_unknown_track_climbing_fast_is_predicted_as_ballistic(policy):
    # a rocket fusion has not classed, 3 km up climbing at 150 m/s at 300 m/s: predicted as a
    # ballistic arc, not a level corridor (ballistic_min_vz 100 m/s); the same track level is
    # an air-breather flown on by the cruise route model
    zones = make_zones([("near", 30000, 0), ("far", 150000, 0)])
    pred = Predictor(zones, policy)
    models = pred.models(make_tracks(0.0, [[0, 0, 3000, 300, 0, 150]], ["unknown"]))
    assert models.tolist() == [BALLISTIC]
    models = pred.models(make_tracks(0.0, [[0, 0, 3000, 300, 0, 0]], ["unknown"]))
    assert models.tolist() == [ROUTE_MODELS.index("cruise")]
    # level, but faster than any route model flies (a rocket over its apogee, 7.5 km up at
    # 390 m/s): ballistic (ballistic_min_speed 300 m/s)
    models = pred.models(make_tracks(0.0, [[0, 0, 7500, 390, 0, 0]], ["unknown"]))
    assert models.tolist() == [BALLISTIC]


def test_ghost_probability_decays_with_half_life(line_zones):
    pol = Policy.load()
    pol.predict = {"ghost_half_life_s": 100.0, "ghost_unwatched_half_life_s": 0.0}
    damped, full = Predictor(line_zones, pol), Predictor(line_zones, undamped())
    for p in (damped, full):
        p.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], ids=[7]))
    a = rows(damped.update(TrackState.empty(100.0)), line_zones)["ahead"]
    b = rows(full.update(TrackState.empty(100.0)), line_zones)["ahead"]
    assert a[4] and b[4]  # lost rows
    assert a[0] == pytest.approx(0.5 * b[0])
    assert a[2] == b[2]  # the timing is not damped


def test_ghost_no_post_watches_decays_with_its_own_half_life(line_zones):
    # a ghost some of whose route samples have been inside live acoustic coverage halves
    # every ghost_half_life_s (its samples there are refuted one by one); one that no post
    # watches, every ghost_unwatched_half_life_s, even inside a radar's view (a low flyer
    # lost by radars flies on below their horizon). Samples are never dropped here
    pol = Policy.load()
    pol.predict = {
        "ghost_half_life_s": 300.0,
        "ghost_unwatched_half_life_s": 100.0,
        "ghost_cover_kill_s": 1e6,
        "ghost_radar_kill_s": 1e6,
    }
    p = {}
    for name, health in (
        ("watched", posts(DENSE_POSTS)),
        ("unwatched", posts([(0, 90000)])),
        ("radar", posts([(10000, 0)], alt_m=25.0, kind="radar", range_m=200000.0)),
        ("full", None),
    ):
        pred = Predictor(line_zones, undamped() if name == "full" else pol)
        pred.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], ids=[7]), health)
        p[name] = rows(pred.update(TrackState.empty(100.0), health), line_zones)["ahead"][0]
    assert p["full"] > 0
    assert p["watched"] == pytest.approx(0.5 ** (100 / 300) * p["full"])
    assert p["unwatched"] == pytest.approx(0.5 * p["full"])
    assert p["radar"] == pytest.approx(0.5 * p["full"])


def test_ghost_ends_when_track_returns(line_zones, policy):
    pred = Predictor(line_zones, policy)
    tr = make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], ids=[3])
    pred.update(tr)
    pred.update(TrackState.empty(30.0))
    assert not pred.idle()
    tr2 = make_tracks(60.0, [[60 * SPEED, 0, 300, SPEED, 0, 0]], ["drone"], ids=[3])
    zt = pred.update(tr2)
    assert pred.idle() and not zt.lost.any()


def test_ghost_taken_over_by_new_track(line_zones, policy):
    pred = Predictor(line_zones, policy)
    pred.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], ids=[3]))
    pred.update(TrackState.empty(30.0))
    assert not pred.idle()
    tr = make_tracks(60.0, [[60 * SPEED, 300, 300, SPEED, 0, 0]], ["drone"], ids=[9])
    pred.update(tr)
    assert pred.idle()


def test_ghost_of_a_cruise_missile_is_not_taken_over_by_a_drone(line_zones, policy):
    # a cruise missile lost at 230 m/s; a drone-speed track confirmed a minute later inside
    # the ghost's cloud is another threat heard beside it, not the missile found again
    cm = 230.0
    pred = Predictor(line_zones, policy)
    pred.update(make_tracks(0.0, [[0, 0, 50, cm, 0, 0]], ["cruise"], ids=[3]))
    pred.update(TrackState.empty(30.0))
    slow = make_tracks(60.0, [[60 * cm, 300, 300, SPEED, 0, 0]], ["drone"], ids=[9])
    pred.update(slow)
    assert pred.ghosts["cruise"].ids.tolist() == [3]
    fast = make_tracks(65.0, [[65 * cm, 300, 50, cm, 0, 0]], ["cruise"], ids=[11])
    pred.update(fast)
    assert pred.ghosts["cruise"].ids.tolist() == []


def test_ghost_of_a_duplicate_track_ends(line_zones, policy):
    pred = Predictor(line_zones, policy)
    two = [[0, 0, 300, SPEED, 0, 0], [400, 200, 300, SPEED, 0, 0]]
    pred.update(make_tracks(0.0, two, ["drone", "drone"], ids=[1, 2]))
    # fusion drops track 2; track 1 still flies where track 2's threat is
    pred.update(make_tracks(5.0, [[5 * SPEED, 0, 300, SPEED, 0, 0]], ["drone"], ids=[1]))
    assert pred.idle()


def test_ghost_survives_a_neighbour_on_another_course(line_zones, policy):
    pred = Predictor(line_zones, policy)
    before = [[-60 * SPEED, 0, 300, SPEED, 0, 0], [400, 200 - 60 * SPEED, 300, 0, SPEED, 0]]
    pred.update(make_tracks(-60.0, before, ["drone", "drone"], ids=[1, 2]))
    two = [[0, 0, 300, SPEED, 0, 0], [400, 200, 300, 0, SPEED, 0]]
    pred.update(make_tracks(0.0, two, ["drone", "drone"], ids=[1, 2]))
    pred.update(make_tracks(5.0, [[5 * SPEED, 0, 300, SPEED, 0, 0]], ["drone"], ids=[1]))
    assert not pred.idle()


def test_ballistic_ghost_lasts_until_impact():
    zones = make_zones([("impact", 42000, 0)], half=4000.0)
    pred = Predictor(zones, pure_ballistic())
    pred.update(make_tracks(0.0, [[0, 0, 30000, 1000.0, 0, -500.0]], ["ballistic"], ids=[5]))
    zt = pred.update(TrackState.empty(20.0))
    assert len(zt) == 1 and zt.lost[0] and zt.eta_p50[0] < 30.0
    pred.update(TrackState.empty(120.0))
    assert pred.idle()


def test_probabilities_valid_and_output_sparse(policy):
    rng = np.random.default_rng(3)
    centres = [
        (f"g{i}_{j}", 6000.0 * i, 6000.0 * j) for i in range(-20, 21) for j in range(-20, 21)
    ]
    zones = make_zones(centres, half=3000.0)
    n = 25
    ang = rng.uniform(0, 2 * np.pi, n)
    st = np.column_stack(
        [
            rng.uniform(-60000, 60000, (n, 2)),
            np.full(n, 300.0),
            SPEED * np.cos(ang),
            SPEED * np.sin(ang),
            np.zeros(n),
        ]
    )
    st = np.vstack([st, [[0, 0, 30000, 1000.0, 0, -500.0]]])
    cls = ["drone"] * 12 + ["cruise"] * 13 + ["ballistic"]
    st[12:25, 3:5] *= 230.0 / SPEED
    pred = Predictor(zones, policy)
    zt = pred.update(make_tracks(0.0, st, cls))
    assert 0 < len(zt) < 0.5 * len(zones) * (n + 1)
    for a in (zt.p_reach, zt.p_impact):
        assert np.all((a >= 0) & (a <= 1))
    assert np.all(zt.p_impact <= zt.p_reach + 1e-12)
    bal = zt.cls == CLS_CODE["ballistic"]
    assert np.all(zt.p_reach[~bal] >= pred.cfg.p_min)
    assert np.all(zt.p_reach[bal] >= pred.cfg.ballistic.p_min)
    assert np.all((zt.eta_p10 >= 0) & (zt.eta_p10 <= zt.eta_p50))
    assert len(np.unique(zt.track * len(zones) + zt.zone)) == len(zt)  # one row per pair


def test_unknown_velocity_spreads_in_all_directions(line_zones, policy):
    pred = Predictor(line_zones, policy)
    tr = make_tracks(0.0, [[0, 0, 300, np.nan, np.nan, np.nan]], ["drone"])
    r = rows(pred.update(tr), line_zones)
    assert "ahead" in r and "behind" in r


def test_same_input_same_output(line_zones, policy):
    tr = make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"])
    a = Predictor(line_zones, policy).update(tr)
    b = Predictor(line_zones, policy).update(tr)
    assert np.array_equal(a.p_reach, b.p_reach) and np.array_equal(a.eta_p10, b.eta_p10)


def test_forecast_depends_on_birth_key_not_on_track_id_or_other_tracks(line_zones, policy):
    """A track's route samples are seeded by its birth key: renumbering it or adding an
    unrelated track far away leaves its zones' figures unchanged."""
    drone = [0, 0, 300, SPEED, 0, 0]
    alone = make_tracks(0.0, [drone], ["drone"], ids=[1], sigma_vel=15.0)
    alone.key = np.array([123456789], np.int64)
    crowd = make_tracks(
        0.0, [[0, 400000, 300, 0, SPEED, 0], drone], ["drone"] * 2, ids=[1, 7], sigma_vel=15.0
    )
    crowd.key = np.array([42, 123456789], np.int64)
    a = rows(Predictor(line_zones, policy).update(alone), line_zones)
    b = rows(Predictor(line_zones, policy).update(crowd), line_zones, track=7)
    assert a and a == b
    other = make_tracks(0.0, [drone], ["drone"], ids=[1], sigma_vel=15.0)
    other.key = np.array([123456790], np.int64)  # another birth: other samples
    c = rows(Predictor(line_zones, policy).update(other), line_zones)
    assert c != a


def test_ghost_route_noise_follows_the_birth_key_not_the_track_id():
    """A lost track's ghost steps on noise seeded by its birth key, like its live forecast:
    lost under another id, beside another lost track, its cloud is the same; another birth
    key gives another cloud."""
    zones = make_zones([("ahead", 15000, 0), ("far", 40000, 0)])
    drone, far = [0, 0, 300, SPEED, 0, 0], [0, 400000, 300, 0, SPEED, 0]

    def cloud(rows: list, ids: list, keys: list) -> np.ndarray:
        pred = Predictor(zones, undamped())
        tr = make_tracks(0.0, rows, ["drone"] * len(rows), ids=ids, sigma_pos=200.0)
        tr.key = np.array(keys, np.int64)
        pred.update(tr)
        for t in np.arange(5.0, 121.0, 5.0):
            pred.update(TrackState.empty(float(t)))
        g = pred.ghosts["drone"]
        i = int(np.flatnonzero(g.ids == ids[-1])[0])
        return np.stack([g.state.x[i], g.state.y[i]])

    a = cloud([drone], [7], [123456789])
    b = cloud([far, drone], [2, 3], [42, 123456789])
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, cloud([drone], [7], [123456790]))


def test_bad_policy_key_is_named():
    with pytest.raises(ValueError, match="samplez"):
        PredictConfig.from_policy({"samplez": 3})
    with pytest.raises(ValueError, match="horizon_s"):
        PredictConfig.from_policy({"drone": {"horizon_s": "long"}})


def test_policy_file_matches_code_defaults():
    from airwarn.predict import config

    sec = Policy.load().predict
    for k, v in config.DEFAULTS.items():
        assert sec.get(k, v) == v, k
    for name, d in config.DEFAULT_ROUTES.items():
        for k, v in sec.get(name, {}).items():
            assert d[k] == v, f"{name}.{k}"
    for k, v in sec.get("ballistic", {}).items():
        assert config.DEFAULT_BALLISTIC[k] == v, f"ballistic.{k}"


# acoustic posts every 4 km from x -10 to 50 km, y -20 to 20 km: the whole way covered
DENSE_POSTS = [(x, y) for x in range(-10000, 50001, 4000) for y in range(-20000, 20001, 4000)]


def posts(
    xy: list[tuple[float, float]],
    alive: bool = True,
    range_m: float = 5000.0,
    kind: str = "acoustic",
    alt_m: float | None = None,
):
    """SensorHealth of sensors of one kind (acoustic posts by default) at local (x, y), all
    alive or all dead; ``alt_m``: every antenna's height (None: not given)."""
    from airwarn.contracts import SENSOR_KIND_CODE, SensorHealth

    a = np.asarray(xy, float).reshape(-1, 2)
    n = a.shape[0]
    return SensorHealth(
        t=0.0,
        x=a[:, 0],
        y=a[:, 1],
        range_m=np.full(n, range_m),
        kind=np.full(n, SENSOR_KIND_CODE[kind], np.int64),
        last_seen=np.zeros(n),
        alive=np.full(n, alive),
        alt_m=None if alt_m is None else np.full(n, alt_m),
    )


def _ghost_after(
    health, t_end: float = 120.0, sigma: float = 200.0, **predict
) -> tuple[Predictor, dict]:
    """Lose a drone flying east at x=0 at t=0; update with ``health`` every 5 s to ``t_end``
    (undamped ghosts; ``predict``: more ``[predict]`` keys)."""
    zones = make_zones([("ahead", 15000, 0), ("far", 40000, 0)])
    pol = undamped()
    pol.predict.update(predict)
    pred = Predictor(zones, pol)
    tr = make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], ids=[7], sigma_pos=sigma)
    pred.update(tr, health)
    zt = None
    for t in np.arange(5.0, t_end + 1, 5.0):
        zt = pred.update(TrackState.empty(float(t)), health)
    return pred, rows(zt, zones)


def test_ghost_inside_silent_live_coverage_is_dropped():
    # a dense grid of live acoustic posts along the whole way: a drone there would be heard
    pred, r = _ghost_after(posts(DENSE_POSTS))
    assert pred.idle() and not r  # every route sample stayed inside coverage unheard


def test_ghost_in_a_coverage_gap_or_with_dead_posts_is_kept():
    _, ref = _ghost_after(None)
    assert ref["ahead"][0] > 0.5
    # the same posts, all dead (no heartbeats): silence is no evidence
    _, dead = _ghost_after(posts(DENSE_POSTS, alive=False))
    assert dead["ahead"][:3] == ref["ahead"][:3]
    # live posts only far off the route: nothing is dropped
    _, gap = _ghost_after(posts([(0, 30000), (20000, -30000)]))
    assert gap["ahead"][:3] == ref["ahead"][:3]


def test_ghost_keeps_only_the_samples_outside_coverage():
    # the loss point is uncertain by 2 km; live posts cover the strip north of the course
    # (y from 0 to 6 km): samples there are dropped, samples south of the course survive
    cover = [(x, y) for x in range(-4000, 20001, 2000) for y in (2000, 4000)]
    pred, r = _ghost_after(posts(cover, range_m=2500.0), sigma=2000.0)
    _, ref = _ghost_after(None, sigma=2000.0)
    al = pred.ghosts["drone"].state.alive[0]
    y = pred.ghosts["drone"].state.y[0, al]
    assert 0.2 < al.mean() < 0.8
    assert (y < 500.0).all()  # the survivors are the ones outside coverage
    assert 0 < r["ahead"][0] < ref["ahead"][0]


def test_ghost_inside_a_live_radars_horizon_is_dropped():
    # one live radar 10 km along the route, mast 25 m: its horizon for a target 30 m up
    # (ghost_radar_alt_m) is 4.12 km * (sqrt(25) + sqrt(30)) = 43 km: the whole lost route
    radar = dict(kind="radar", range_m=200000.0)
    _, ref = _ghost_after(None)
    pred, r = _ghost_after(posts([(10000, 0)], alt_m=25.0, **radar))
    assert pred.idle() and not r
    # ... once its samples have been in view ghost_radar_kill_s (60 s), not before
    pred, r = _ghost_after(posts([(10000, 0)], alt_m=25.0, **radar), t_end=50.0)
    assert not pred.idle() and r["ahead"][0] > 0.5
    # the same radar dead, or 60 km off (inside its range, beyond its horizon for a low
    # flyer), or 60 km off on a 1,000 m "mast" (a height above sea level: taken as
    # ghost_radar_mast_max_m, 100 m, horizon 64 km), or 40 km off with no mast height given
    # (taken as ghost_radar_mast_unknown_m, 5 m: horizon 32 km): its silence refutes nothing
    for health in (
        posts([(10000, 0)], alive=False, alt_m=25.0, **radar),
        posts([(10000, 60000)], alt_m=25.0, **radar),
        posts([(10000, 70000)], alt_m=1000.0, **radar),
        posts([(10000, 40000)], **radar),
    ):
        _, kept = _ghost_after(health)
        assert kept["ahead"][:3] == ref["ahead"][:3]
    # a radar of unknown height on the route, or 40 km off on its known 25 m mast (43 km):
    # the ghost is dropped
    for health in (posts([(10000, 0)], **radar), posts([(10000, 40000)], alt_m=25.0, **radar)):
        pred, r = _ghost_after(health)
        assert pred.idle() and not r


def test_radar_coverage_of_ghosts_can_be_turned_off():
    health = posts([(10000, 0)], alt_m=25.0, kind="radar", range_m=200000.0)
    pred, r = _ghost_after(health, ghost_radar_cover=False)
    assert not pred.idle() and r["ahead"] == _ghost_after(None)[1]["ahead"]
    with pytest.raises(ValueError, match="ghost_radar_cover"):
        PredictConfig.from_policy({"ghost_radar_cover": 1})


def test_eta_q_is_the_unconditional_arrival_quantile(line_zones, policy):
    pred = Predictor(line_zones, policy)
    zt = pred.update(make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"]))
    assert zt.eta_q is not None and len(zt.eta_q) == len(zt)
    q, k = pred.cfg.eta_q, pred.cfg.samples
    for i in range(len(zt)):
        n_reach = round(zt.p_reach[i] * k)
        if n_reach < math.ceil(q * k - 1e-9):
            assert zt.eta_q[i] == math.inf  # too few samples reach the zone at all
        else:
            # the m-th earliest of all samples: no later than the 10th percentile of the
            # reaching ones when most samples reach the zone, never after the median
            assert zt.eta_q[i] <= zt.eta_p50[i]
            if zt.p_reach[i] >= 0.5:
                assert zt.eta_q[i] <= zt.eta_p10[i]
    assert math.isfinite(rows_q(zt, line_zones)["ahead"])


def rows_q(zt, zones) -> dict:
    """{zone id: eta_q}."""
    return {zones.ids[zt.zone[i]]: float(zt.eta_q[i]) for i in range(len(zt))}


def test_vel_sd_scale_narrows_the_spread_of_an_uncertain_heading():
    # a drone flying east whose velocity is known to +-15 m/s per axis (heading +-18 deg)
    zones = make_zones([("ahead", 15000, 0), ("left", 12000, 6000), ("right", 12000, -6000)])
    tr = make_tracks(0.0, [[0, 0, 300, SPEED, 0, 0]], ["drone"], sigma_vel=15.0)
    side, ahead = {}, {}
    for scale in (1.0, 0.25):
        pol = Policy.load()
        pol.predict = {"drone": {"vel_sd_scale": scale, "dogleg_per_h": 0.0, "target_frac": 0.0}}
        r = rows(Predictor(zones, pol).update(tr), zones)
        ahead[scale] = r["ahead"][0]
        side[scale] = sum(r[z][0] if z in r else 0.0 for z in ("left", "right"))
    assert side[1.0] > 0.1  # ~ +-18 deg of heading reaches 6 km off the line at 12 km
    assert side[0.25] < 0.5 * side[1.0]
    assert ahead[0.25] >= max(ahead[1.0], 0.9)


def test_merge_rows_keeps_one_row_per_track_and_zone():
    zt = ZoneThreats(
        t=0.0,
        zone=np.array([3, 1, 3, 1]),
        track=np.array([7, 7, 7, 9]),
        cls=np.array([4, 4, 4, 4]),
        p_reach=np.array([0.2, 0.5, 0.9, 0.1]),
        p_impact=np.array([0.1, 0.0, 0.0, 0.0]),
        eta_p10=np.array([30.0, 10.0, 20.0, 5.0]),
        eta_p50=np.array([40.0, 12.0, 25.0, 6.0]),
        lost=np.zeros(4, bool),
        eta_q=np.array([35.0, 11.0, np.inf, 5.5]),
    )
    m = _merge_rows(zt)
    got = {(int(tk), int(z)): i for i, (tk, z) in enumerate(zip(m.track, m.zone, strict=True))}
    assert sorted(got) == [(7, 1), (7, 3), (9, 1)]
    i = got[(7, 3)]
    assert (m.p_reach[i], m.p_impact[i], m.eta_p10[i], m.eta_p50[i], m.eta_q[i]) == (
        0.9,
        0.1,
        20.0,
        25.0,
        35.0,
    )


def test_a_merged_ballistic_track_leaves_no_ghost_a_merged_route_track_does(line_zones):
    # fusion merged track 1 (ballistic) into 2 and track 3 (a drone) into 4: the missile
    # lives on in the survivor's impact prediction; the drone's ghost stays, in case two
    # drones flying together were merged
    pred = Predictor(line_zones, undamped())
    st = [[0, 0, 20000, 800, 0, 100], [300, 0, 20000, 800, 0, 100]]
    st += [[0, 30000, 300, SPEED, 0, 0], [8000, 30000, 300, SPEED, 0, 0]]  # (beyond takeover)
    cls = ["ballistic", "ballistic", "drone", "drone"]
    pred.update(make_tracks(0.0, st, cls, ids=[1, 2, 3, 4]))
    nxt = make_tracks(5.0, [st[1], st[3]], ["ballistic", "drone"], ids=[2, 4])
    nxt.merged = np.array([[1, 2], [3, 4]], np.int64)
    pred.update(nxt)
    assert pred.bghosts.ids.tolist() == []
    assert pred.ghosts["drone"].ids.tolist() == [3]


def test_a_short_track_beside_a_missile_leaves_no_ghost(line_zones):
    # a rocket's first radar plots read for 4 scans as a drone (track 1, 9.5 km from the
    # rocket's ballistic track 2, beyond the ghost takeover gate): deleted, it leaves no drone ghost - the rocket's impact
    # prediction carries the threat; a drone measured 10 times 15 km away (track 3, beyond the
    # takeover gate), and a short track 60 km from any missile (track 4), keep theirs
    pred = Predictor(line_zones, undamped())
    st = [[0, 9000, 3000, SPEED, 0, 0], [3000, 0, 12000, 300, 0, 200]]
    st += [[0, 15000, 300, SPEED, 0, 0], [0, 60000, 300, SPEED, 0, 0]]
    trk = make_tracks(0.0, st, ["drone", "ballistic", "drone", "drone"], ids=[1, 2, 3, 4])
    trk.n_updates = np.array([4, 20, 10, 4], np.int64)
    pred.update(trk)
    pred.update(make_tracks(5.0, [[3000 + 1500, 0, 12900, 300, 0, 150]], ["ballistic"], ids=[2]))
    assert sorted(pred.ghosts["drone"].ids.tolist()) == [3, 4]
    # with ghost_ballistic_m 0 (off) the short track beside the missile leaves one too
    pol = undamped()
    pol.predict["ghost_ballistic_m"] = 0.0
    pred = Predictor(line_zones, pol)
    pred.update(trk)
    pred.update(make_tracks(5.0, [[4500, 0, 12900, 300, 0, 150]], ["ballistic"], ids=[2]))
    assert sorted(pred.ghosts["drone"].ids.tolist()) == [1, 3, 4]


def test_a_track_fusion_ended_as_landed_leaves_no_ghost_whatever_its_class(line_zones):
    # a rocket's track (1) classed cruise by the end (stray reports after its impact) and a
    # cruise missile's (2) both vanish; fusion lists 1 as landed: its missile came down and
    # leaves no ghost, the cruise missile's ghost flies on; unlisted, 1 (diving: predicted
    # as falling) leaves a ballistic ghost
    fall = [3000, 0, 2000, 230, 0, -250]
    st = [fall, [0, 9000, 50, 230, 0, 0]]
    for landed, bghosts in ((np.array([1]), []), (None, [1])):
        pred = Predictor(line_zones, undamped())
        pred.update(make_tracks(0.0, st, ["cruise", "cruise"]))
        gone = make_tracks(5.0, [], [])
        gone.landed = landed
        pred.update(gone)
        assert pred.ghosts["cruise"].ids.tolist() == [2]
        assert pred.bghosts.ids.tolist() == bghosts


def test_a_long_running_predictor_forgets_tracks_gone_for_an_hour_but_not_live_ones():
    """Over months of service, tracks come and go: the table of first confirmations (birth
    key, time) forgets a track an hour after fusion dropped it and its ghost ended, so it
    stays bounded, while a track alive throughout keeps its birth key and birth time."""
    zones = make_zones([("ahead", 15000, 0)])
    pred = Predictor(zones, Policy.load())
    largest = 0
    for step in range(0, 6 * 3600 + 1, 60):  # every minute for six hours
        born = range(max(0, step // 300 - 3), step // 300 + 1)  # one drone per 5 min, 20 min each
        ids = [1] + [100 + b for b in born]
        states = [[0, 0, 300, SPEED, 0, 0]] + [[5000.0 * b, -50000, 300, 0, SPEED, 0] for b in born]
        tr = make_tracks(float(step), states, ["drone"] * len(ids), ids=ids)
        tr.key = np.array([987654321] + [7 * i for i in ids[1:]], np.int64)
        pred.update(tr)
        largest = max(largest, pred._conf_ids.size)
    assert pred._keys(np.array([1]))[0] == 987654321
    assert pred._conf_t0[0] == 0.0 and pred._conf_ids[0] == 1
    # 73 drones were confirmed; at most two hours' worth (it forgets once an hour), the four
    # flying and the one alive throughout are remembered
    assert largest <= 1 + 4 + 2 * 3600 // 300
    assert 100 not in pred._conf_ids and (100 + 6 * 3600 // 300) in pred._conf_ids
