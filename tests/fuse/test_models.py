"""IMM, ballistic and class inference: known answers and small scenarios."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.contracts import CLS_CODE
from airwarn.fuse import Tracker, TrackerConfig
from airwarn.fuse.classify import class_probabilities, hint_loglik
from airwarn.fuse.models import (
    G,
    fall_test,
    imm_combine,
    imm_mix,
    imm_transition,
    observer_density,
)
from tests.fuse.conftest import batch


def test_imm_transition_rows_sum_to_one():
    T = imm_transition(np.array([0.0, 5.0, 1e6]), np.array([60.0, 15.0, 15.0]))
    np.testing.assert_allclose(T.sum(axis=2), 1.0)
    np.testing.assert_allclose(T[0], np.eye(3))
    np.testing.assert_allclose(T[1, 0, 0], np.exp(-5 / 60))
    np.testing.assert_allclose(T[2], np.full((3, 3), 0.5) - 0.5 * np.eye(3), atol=1e-12)


def test_imm_mix_and_combine_known_answer():
    rng = np.random.default_rng(0)
    xm = rng.normal(size=(1, 3, 6))
    A = rng.normal(size=(1, 3, 6, 6))
    Pm = A @ np.swapaxes(A, 2, 3) + np.eye(6)
    mu = np.array([[0.5, 0.3, 0.2]])
    # identity transition: mixing leaves each mode as it is
    x0, P0, c = imm_mix(xm, Pm, mu, np.eye(3)[None])
    np.testing.assert_allclose(x0, xm)
    np.testing.assert_allclose(P0, Pm, atol=1e-12)
    np.testing.assert_allclose(c, mu)
    # combine = mixture moments, written out
    x, P = imm_combine(xm, Pm, mu)
    ex = sum(mu[0, j] * xm[0, j] for j in range(3))
    eP = sum(mu[0, j] * (Pm[0, j] + np.outer(xm[0, j] - ex, xm[0, j] - ex)) for j in range(3))
    np.testing.assert_allclose(x[0], ex)
    np.testing.assert_allclose(P[0], eP)
    # uniform transition: every mode gets the full mixture
    x0, P0, _ = imm_mix(xm, Pm, mu, np.full((1, 3, 3), 1 / 3))
    for j in range(3):
        np.testing.assert_allclose(x0[0, j], ex)
        np.testing.assert_allclose(P0[0, j], eP, atol=1e-12)


def _turning_rows(rng, dt=10.0, n=40, w_deg=3.0, v=50.0, sigma=150.0):
    """A drone flying straight, then a 3 deg/s turn, then straight; radar every dt."""
    t = np.arange(n) * dt
    heading = np.where(t < 100, 0.0, np.where(t < 160, np.deg2rad(w_deg) * (t - 100), 0.0))
    heading[t >= 160] = np.deg2rad(w_deg) * 60
    ve, vn = v * np.cos(heading), v * np.sin(heading)
    x = np.concatenate(([0.0], np.cumsum(ve[:-1] * dt)))
    y = np.concatenate(([0.0], np.cumsum(vn[:-1] * dt)))
    rows = [
        {
            "t": float(t[k]),
            "sensor": 0,
            "x": x[k] + rng.normal(0, sigma),
            "y": y[k] + rng.normal(0, sigma),
            "sigma": sigma,
            "vx": ve[k] + rng.normal(0, 5),
            "vy": vn[k] + rng.normal(0, 5),
            "z": 500.0,
        }
        for k in range(n)
    ]
    return t, np.stack([x, y], 1), rows


def test_imm_follows_a_turn_better_than_ncv(radar_reg):
    errs = {}
    for imm in (True, False):
        e = []
        for seed in range(4):
            rng = np.random.default_rng(seed)
            t, pos, rows = _turning_rows(rng)
            trk = Tracker(radar_reg, TrackerConfig(imm=imm))
            for k, r in enumerate(rows):
                trk.add(batch([r], radar_reg, k))
                st = trk.advance(r["t"] + 9.9)  # predicted almost to the next report
                if 110 <= r["t"] <= 170 and len(st):
                    i = int(np.argmax(st.n_updates))
                    truth = pos[k] + 9.9 * (pos[min(k + 1, len(pos) - 1)] - pos[k]) / 10.0
                    e.append(np.hypot(*(st.x[i, :2] - truth)))
            assert len(trk.tracks) == 1
        errs[imm] = float(np.mean(e))
    assert errs[True] < errs[False]


def test_ballistic_is_classified_and_falls_with_gravity(radar_reg):
    # a missile in its ballistic phase: 30 km up, 1.2 km/s horizontal, climbing 600 m/s
    t = np.arange(0.0, 60.0, 5.0)
    x = 1200.0 * t
    z = 30000 + 600 * t - 0.5 * G * t**2
    vz = 600 - G * t
    rng = np.random.default_rng(1)
    rows = [
        {"t": float(t[k]), "sensor": 0, "x": x[k] + rng.normal(0, 300), "y": rng.normal(0, 300),
         "sigma": 300.0, "z": z[k] + rng.normal(0, 300), "sigma_z": 300.0,
         "vx": 1200.0 + rng.normal(0, 10), "vy": 0.0, "vz": vz[k] + rng.normal(0, 10)}
        for k in range(t.size)
    ]  # fmt: skip
    trk = Tracker(radar_reg)
    trk.add(batch(rows, radar_reg))
    st = trk.advance(55.0)
    assert len(st) == 1 and st.confirmed[0]
    assert st.cls[0] == CLS_CODE["ballistic"]
    assert st.cls_prob[0, CLS_CODE["ballistic"]] > 0.9
    # 30 s ahead: the prediction follows the arc (gravity), not a straight line
    ahead = trk.state(85.0)
    z_true = 30000 + 600 * 85 - 0.5 * G * 85**2
    z_line = z[-1] + vz[-1] * 30
    assert abs(ahead.x[0, 2] - z_true) < 0.25 * abs(z_line - z_true)


def test_ballistic_horizontal_velocity_sd_follows_q_ballistic_h(radar_reg):
    # a drag-free arc seen by a radar every 5 s, position and altitude only (300 m): the
    # horizontal velocity sd comes from q_ballistic_h (not the large vertical q_ballistic,
    # which absorbs lift in the fall), so the impact ellipse narrows as tracking goes on
    t = np.arange(0.0, 125.0, 5.0)
    z = 30000 + 600 * t - 0.5 * G * t**2
    rng = np.random.default_rng(2)
    rows = [
        {"t": float(t[k]), "sensor": 0, "x": 1200.0 * t[k] + rng.normal(0, 300),
         "y": 800.0 * t[k] + rng.normal(0, 300), "sigma": 300.0,
         "z": z[k] + rng.normal(0, 300), "sigma_z": 300.0}
        for k in range(t.size)
    ]  # fmt: skip
    sd = {}
    for q in (100.0, 400.0):
        trk = Tracker(radar_reg, TrackerConfig(q_ballistic_h=q))
        trk.add(batch(rows, radar_reg))
        st = trk.advance(120.0)
        assert len(st) == 1 and st.cls[0] == CLS_CODE["ballistic"]
        sd[q] = float(np.sqrt(st.P[0, 3, 3]))
        err = np.hypot(st.x[0, 3] - 1200.0, st.x[0, 4] - 800.0)
        assert err < 3.0 * sd[q], (q, err, sd[q])
    assert TrackerConfig().q_ballistic_h == 100.0
    assert sd[100.0] < 0.85 * sd[400.0]  # 24 against 31 m/s here


def test_class_from_speed_altitude_and_hints():
    x = np.zeros((3, 6))
    x[0, 3] = 48.0  # drone speed, low
    x[0, 2] = 800.0
    x[1, 3] = 240.0  # cruise: fast and low
    x[1, 2] = 80.0
    x[2, 3] = 48.0  # drone-like kinematics but many "jet_drone" hints
    P = np.tile(np.diag([1e4, 1e4, 1e4, 25.0, 25.0, 25.0]), (3, 1, 1))
    hints = np.zeros((3, 6))
    hints[2] = 6 * hint_loglik(np.array([CLS_CODE["jet_drone"]]))[0]
    p, c = class_probabilities(x, P, hints)
    assert c[0] == CLS_CODE["drone"]
    assert c[1] == CLS_CODE["cruise"]
    assert c[2] == CLS_CODE["jet_drone"]
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    # "unknown" hints carry no information
    np.testing.assert_array_equal(hint_loglik(np.array([CLS_CODE["unknown"]])), 0.0)


def _fall_total(z: np.ndarray, sz: float, vz: np.ndarray | None = None) -> float:
    """Summed fall-test log-likelihood ratio of altitudes ``z`` (sd ``sz``), and climb
    rates ``vz`` (sd 10 m/s) if given, plotted every 5 s; both filters start at the first
    plot (vertical speed sd 400 m/s, or the first climb rate)."""
    q = (4.0, 25.0)
    zx = np.zeros((1, 2, 2))
    zx[0, :, 0] = z[0]
    zP = np.tile(np.diag([sz**2, 400.0**2]), (1, 2, 1, 1))
    if vz is not None:
        zx[0, :, 1] = vz[0]
        zP[0, :, 1, 1] = 10.0**2
    tot = 0.0
    for k in range(1, z.size):
        v = None if vz is None else vz[k : k + 1]
        zx, zP, llr = fall_test(
            zx, zP, np.array([5.0]), z[k : k + 1], np.array([sz**2]), q, v, 100.0
        )
        tot += float(llr[0])
    return tot


def test_fall_test_known_answer_and_sign():
    # one step by hand: both modes at u=1000, vu=0, P=diag(100^2, 50^2); 10 s later a
    # measured 510 m (sd 100): level predicts 1000, free fall 1000 - g 50 = 509.7
    zx = np.array([[[1000.0, 0.0], [1000.0, 0.0]]])
    zP = np.tile(np.diag([100.0**2, 50.0**2]), (1, 2, 1, 1))
    q = (4.0, 25.0)
    x, P, llr = fall_test(zx, zP, np.array([10.0]), np.array([510.0]), np.array([100.0**2]), q)
    S = [100.0**2 + 100 * 50.0**2 + qm * 1000 / 3 + 100.0**2 for qm in q]
    y = [510.0 - 1000.0, 510.0 - (1000.0 - 0.5 * G * 100)]
    ll = [-0.5 * (y[m] ** 2 / S[m] + np.log(S[m])) for m in range(2)]
    assert np.isclose(llr[0], ll[1] - ll[0])
    k0 = (100.0**2 + 100 * 50.0**2 + q[0] * 1000 / 3) / S[0]
    assert np.isclose(x[0, 0, 0], 1000.0 + k0 * y[0])
    assert np.all(np.linalg.eigvalsh(P[0]) > 0)

    # a parabola (a rocket over its apogee) against level flight, plotted every 5 s
    t = np.arange(0.0, 60.0, 5.0)
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 300.0, t.size)
    assert _fall_total(3000.0 + 250.0 * t - 0.5 * G * t**2 + noise, 300.0) > 5.0
    assert _fall_total(9000.0 + 0.0 * t + noise, 300.0) < -5.0


def test_fall_test_with_measured_vertical_speed():
    # the speed update by hand after the altitude: both modes at u=1000, vu=0, P=diag(100^2,
    # 50^2); 10 s later 510 m (sd 100) and a climb rate of -98 m/s (sd 10)
    zx = np.array([[[1000.0, 0.0], [1000.0, 0.0]]])
    zP = np.tile(np.diag([100.0**2, 50.0**2]), (1, 2, 1, 1))
    q = (4.0, 25.0)
    args = (zx, zP, np.array([10.0]), np.array([510.0]), np.array([100.0**2]), q)
    xa, Pa, llr_a = fall_test(*args)
    x, P, llr = fall_test(*args, vz=np.array([-98.0]), rv2=10.0**2)
    Sv = Pa[0, :, 1, 1] + 10.0**2
    yv = -98.0 - xa[0, :, 1]
    llv = -0.5 * (yv**2 / Sv + np.log(Sv))
    assert np.isclose(llr[0], llr_a[0] + llv[1] - llv[0])
    assert np.allclose(x[0, :, 1], xa[0, :, 1] + Pa[0, :, 1, 1] / Sv * yv)
    assert np.all(np.linalg.eigvalsh(P[0]) > 0)
    # a NaN speed is no measurement
    x2, P2, llr2 = fall_test(*args, vz=np.array([np.nan]), rv2=10.0**2)
    assert np.isclose(llr2[0], llr_a[0]) and np.allclose(x2, xa)

    # a short-range rocket over its apogee, plotted every 5 s with altitudes of sd 500 m:
    # four plots do not tell it from level flight by altitude alone, but do with its
    # measured climb rate (sd 10 m/s); a level flyer's climb rate speaks against falling
    t = np.arange(0.0, 20.0, 5.0)
    rng = np.random.default_rng(5)
    zn, vn = rng.normal(0.0, 500.0, t.size), rng.normal(0.0, 10.0, t.size)
    z = 2500.0 + 100.0 * t - 0.5 * G * t**2 + zn
    vz = 100.0 - G * t + vn
    assert abs(_fall_total(z, 500.0)) < 3.0
    assert _fall_total(z, 500.0, vz) > 10.0
    assert _fall_total(2500.0 + zn, 500.0, vn) < -3.0


def test_fall_evidence_counts_for_ballistic_only_where_positive():
    # a track at 8 km and 340 m/s (an aircraft, or a rocket near its apogee)
    x = np.array([[0.0, 0.0, 8000.0, 340.0, 0.0, 0.0]])
    P = np.diag([200.0**2] * 3 + [10.0**2] * 3)[None]
    hint = np.zeros((1, len(CLS_CODE)))
    bal = CLS_CODE["ballistic"]
    p0, c0 = class_probabilities(x, P, hint)
    p_neg, _ = class_probabilities(x, P, hint, np.array([-4.0]))
    p_pos, c_pos = class_probabilities(x, P, hint, np.array([8.0]))
    assert c0[0] != bal and c_pos[0] == bal
    assert np.allclose(p_neg, p0)  # level flight is no evidence against (a glider)
    assert p_pos[0, bal] > 0.9


def test_a_steep_climb_or_dive_is_no_aircraft():
    # 13.7 km up, crossing at 170 m/s: level or climbing at 60 m/s (a fighter), an aircraft;
    # climbing at 340 m/s (a rocket's boost, measured to 15 m/s) or diving at 250 m/s, not an
    # aircraft (never alerted); the same climb unmeasured (sd 1,000 m/s) leaves the aircraft
    x = np.tile([0.0, 0.0, 13700.0, 170.0, 0.0, 0.0], (5, 1))
    x[1:, 5] = [60.0, 340.0, -250.0, 340.0]
    P = np.tile(np.diag([200.0**2] * 3 + [15.0**2] * 3), (5, 1, 1))
    P[4, 5, 5] = 1000.0**2
    p, c = class_probabilities(x, P, np.zeros((5, len(CLS_CODE))))
    air = CLS_CODE["aircraft"]
    assert c[0] == air and c[1] == air and c[4] == air
    assert p[2, air] < 0.01 and p[3, air] < 0.05


def test_a_steep_climber_is_no_level_flyer():
    # 6.8 km up at 170 m/s: level, a jet drone; climbing at 338 m/s (a rocket 19 s after
    # launch, measured to 15 m/s), no drone, jet drone or cruise missile (they fly level,
    # as aircraft do) even with one jet-drone hint; unmeasured (sd 1,000 m/s), a jet drone
    x = np.tile([0.0, 0.0, 6800.0, 170.0, 0.0, 0.0], (3, 1))
    x[1:, 5] = 338.0
    P = np.tile(np.diag([200.0**2] * 3 + [15.0**2] * 3), (3, 1, 1))
    P[2, 5, 5] = 1000.0**2
    hint = hint_loglik(np.full(3, CLS_CODE["jet_drone"]))
    p, c = class_probabilities(x, P, hint)
    level = [CLS_CODE[k] for k in ("drone", "jet_drone", "cruise", "aircraft")]
    assert c[0] == CLS_CODE["jet_drone"] and c[2] == CLS_CODE["jet_drone"]
    assert p[1, level].sum() < 0.05 and c[1] not in level  # unknown (predict: ballistic)


def test_observer_density_is_a_heavy_tailed_density():
    # a bivariate t (2 dof): 1 / (2 pi s2) at the prediction, 1/81 of that at 4 sigma
    # (a Gaussian: exp(-8)), and it integrates to 1 over the plane
    s2 = 3000.0**2
    g = observer_density(np.array([0.0, 16.0 * s2]), np.full(2, s2))
    assert g[0] == pytest.approx(1.0 / (2.0 * np.pi * s2))
    assert g[1] / g[0] == pytest.approx(1.0 / 81.0)
    assert g[1] / g[0] > 30.0 * np.exp(-8.0)
    r = np.linspace(0.0, 3000.0 * 2000.0, 2_000_001)
    dens = observer_density(r**2, np.full(r.size, s2)) * 2.0 * np.pi * r
    assert np.sum(0.5 * (dens[1:] + dens[:-1]) * np.diff(r)) == pytest.approx(1.0, abs=1e-3)
