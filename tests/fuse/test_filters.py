"""Known-answer tests of the batched filter equations (closed form and FilterPy)."""

from __future__ import annotations

import numpy as np
from filterpy.common import Q_continuous_white_noise
from filterpy.kalman import KalmanFilter

from airwarn.fuse.models import (
    SIGNATURES,
    G,
    ct_transition,
    kalman_update,
    linear_predict,
    ncv_predict,
    white_accel_Q,
)


def _random_spd(rng, n):
    A = rng.normal(size=(n, 6, 6))
    return A @ np.swapaxes(A, 1, 2) + 6 * np.eye(6)


def _ncv_F(dt):
    F = np.eye(6)
    F[0, 3] = F[1, 4] = F[2, 5] = dt
    return F


def test_ncv_predict_matches_closed_form():
    rng = np.random.default_rng(0)
    n = 7
    x = rng.normal(size=(n, 6)) * 100
    P = _random_spd(rng, n)
    dt = rng.uniform(0.1, 20, n)
    xn, Pn = ncv_predict(x, P, dt, 2.0, 0.5)
    for i in range(n):
        F = _ncv_F(dt[i])
        Q = white_accel_Q(dt[i : i + 1], 2.0, 0.5)[0]
        np.testing.assert_allclose(xn[i], F @ x[i], rtol=1e-12)
        np.testing.assert_allclose(Pn[i], F @ P[i] @ F.T + Q, rtol=1e-10, atol=1e-9)


def test_white_accel_Q_matches_filterpy():
    dt = 3.0
    Q = white_accel_Q(np.array([dt]), 1.5, 1.5)[0]
    q1 = Q_continuous_white_noise(dim=2, dt=dt, spectral_density=1.5)
    for k in range(3):
        idx = [k, k + 3]
        np.testing.assert_allclose(Q[np.ix_(idx, idx)], q1, rtol=1e-12)


def test_gravity_free_fall():
    x = np.array([[0.0, 0.0, 10000.0, 100.0, 0.0, 500.0]])
    P = np.eye(6)[None]
    xn, _ = ncv_predict(x, P, np.array([10.0]), 0.0, 0.0, gravity=np.array([True]))
    assert np.isclose(xn[0, 2], 10000 + 5000 - 0.5 * G * 100)
    assert np.isclose(xn[0, 5], 500 - G * 10)
    assert np.isclose(xn[0, 0], 1000.0)


def test_ct_transition_turns_velocity_and_reduces_to_ncv():
    dt = np.array([5.0])
    np.testing.assert_allclose(ct_transition(dt, 0.0)[0], _ncv_F(5.0))
    w = np.deg2rad(3.0)
    F = ct_transition(dt, w)[0]
    x = np.array([0, 0, 0, 50.0, 0, 0])
    xn = F @ x
    # speed kept, heading rotated by w*T, position on the circle of radius v/w
    assert np.isclose(np.hypot(xn[3], xn[4]), 50.0)
    assert np.isclose(np.arctan2(xn[4], xn[3]), w * 5.0)
    r = 50.0 / w
    assert np.isclose(np.hypot(xn[0], xn[1] - r), r)


def test_ct_transition_takes_one_turn_rate_per_row():
    dt = np.array([5.0, 20.0, 50.0])
    om = np.array([0.0, np.deg2rad(3.0), -np.deg2rad(0.6)])
    F = ct_transition(dt, om)
    for k in range(3):
        np.testing.assert_allclose(F[k], ct_transition(dt[k : k + 1], float(om[k]))[0])


def test_linear_predict_matches_ncv():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6))
    P = _random_spd(rng, 4)
    dt = rng.uniform(1, 5, 4)
    a = ncv_predict(x, P, dt, 1.0, 1.0)
    b = linear_predict(x, P, ct_transition(dt, 0.0), white_accel_Q(dt, 1.0, 1.0))
    np.testing.assert_allclose(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], atol=1e-9)


def test_kalman_update_matches_filterpy():
    rng = np.random.default_rng(2)
    for name, comp in SIGNATURES.items():
        n = 3
        x = rng.normal(size=(n, 6)) * 50
        P = _random_spd(rng, n) * 100
        m = comp.size
        z = rng.normal(size=(n, m)) * 50
        R = np.zeros((n, m, m))
        R[:, np.arange(m), np.arange(m)] = rng.uniform(10, 1000, (n, m))
        xn, Pn, d2, lds = kalman_update(x, P, z, R, comp)
        for i in range(n):
            kf = KalmanFilter(dim_x=6, dim_z=m)
            kf.x = x[i].copy()
            kf.P = P[i].copy()
            H = np.zeros((m, 6))
            H[np.arange(m), comp] = 1.0
            kf.H = H
            kf.R = R[i]
            kf.update(z[i])
            np.testing.assert_allclose(xn[i], kf.x, rtol=1e-9, err_msg=name)
            np.testing.assert_allclose(Pn[i], kf.P, rtol=1e-8, atol=1e-8, err_msg=name)
            y = z[i] - H @ x[i]
            S = H @ P[i] @ H.T + R[i]
            assert np.isclose(d2[i], y @ np.linalg.solve(S, y))
            assert np.isclose(lds[i], np.log(np.linalg.det(S)))
