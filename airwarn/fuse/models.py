"""Motion models (predictors) and measurement models, batched over all tracks.

State per track: ``x = [e, n, u, ve, vn, vu]`` (local frame, m and m/s), covariance
``P`` (6x6). Every function takes arrays over N tracks at once with a per-track time
step ``dt`` (N,), so one call predicts every track however stale it is.
"""

from __future__ import annotations

import numpy as np

G = 9.80665
"""Standard gravity, m/s^2 (ballistic model)."""

POS = np.array([0, 1, 2])
VEL = np.array([3, 4, 5])
_D = np.arange(3)


def ncv_predict(
    x: np.ndarray,
    P: np.ndarray,
    dt: np.ndarray,
    q_h: np.ndarray | float,
    q_v: np.ndarray | float,
    gravity: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Nearly-constant-velocity predict (white-noise acceleration), optional gravity.

    Per axis with step T and spectral density q::

        F = [[1, T], [0, 1]]           x' = F x (+ [-g T^2/2, -g T] on the up axis
                                                 where ``gravity`` is True)
        Q = q [[T^3/3, T^2/2],
               [T^2/2, T    ]]         P' = F P F^T + Q

    Implemented on the 3x3 blocks ``P = [[A, B], [B^T, C]]`` so it costs a few
    elementwise array operations for all N tracks. ``|T|`` is used in Q, so a small
    negative step (a report a little older than the state) stays well defined.
    Returns new arrays; inputs are not modified.
    """
    dt = np.asarray(dt, float)
    xn = x.copy()
    xn[:, :3] += dt[:, None] * x[:, 3:]
    d3 = dt[:, None, None]
    Pn = P.copy()
    Pn[:, :3, :] += d3 * P[:, 3:, :]  # F P
    Pn[:, :, :3] += d3 * Pn[:, :, 3:]  # (F P) F^T
    a = np.abs(dt)
    q = np.empty((a.shape[0], 3))
    q[:, :2] = np.asarray(q_h, float)[..., None] if np.ndim(q_h) else q_h
    q[:, 2] = q_v
    a1 = a[:, None]
    Pn[:, _D, _D] += q * (a1**3 / 3.0)
    c = q * (a1**2 / 2.0)
    Pn[:, _D, _D + 3] += c
    Pn[:, _D + 3, _D] += c
    Pn[:, _D + 3, _D + 3] += q * a1
    if gravity is not None and gravity.any():
        g = gravity.astype(float) * G
        xn[:, 2] -= 0.5 * g * dt * dt
        xn[:, 5] -= g * dt
    return xn, Pn


def fall_test(
    zx: np.ndarray,
    zP: np.ndarray,
    dt: np.ndarray,
    z: np.ndarray,
    r2: np.ndarray,
    q: tuple[float, float],
    vz: np.ndarray | None = None,
    rv2: float | np.ndarray = 100.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of the vertical test "falls freely" against "flies level" on an altitude.

    Two 1-D Kalman filters per track on ``[u, vu]`` (``zx`` (N, 2, 2), ``zP`` (N, 2, 2, 2);
    mode 0 level, mode 1 free fall), each predicted by ``dt`` with its own white-noise
    acceleration ``q[m]``, mode 1 with gravity::

        u' = u + vu T (- g T^2/2)      vu' = vu (- g T)
        S  = P'_uu + r2                 ll = -(y^2 / S + ln S) / 2,  y = z - u'

    then updated with the measured altitude ``z`` (variance ``r2``). Where a measured
    vertical speed ``vz`` is given (finite; variance ``rv2``) it is folded in after the
    altitude, as a second scalar update on ``vu`` (the same as one update on ``[z, vz]``
    with independent errors), and its log-likelihood is added: a radar's Doppler climb
    rate falling by g per second tells a coasting missile within a few plots, where its
    altitudes (sd ~500 m) take half a minute. Returns the new states, covariances and the
    log-likelihood ratio ``ll_fall - ll_level`` of the measurement.
    """
    T = np.asarray(dt, float)[:, None]
    x = zx.copy()
    P = zP.copy()
    x[:, :, 0] += T * x[:, :, 1]
    x[:, 1, 0] -= 0.5 * G * T[:, 0] ** 2
    x[:, 1, 1] -= G * T[:, 0]
    a = np.abs(T)
    qm = np.asarray(q, float)[None, :]
    p00 = P[:, :, 0, 0] + 2 * T * P[:, :, 0, 1] + T**2 * P[:, :, 1, 1] + qm * a**3 / 3
    p01 = P[:, :, 0, 1] + T * P[:, :, 1, 1] + qm * a**2 / 2
    p11 = P[:, :, 1, 1] + qm * a
    S = p00 + np.asarray(r2, float)[:, None]
    y = np.asarray(z, float)[:, None] - x[:, :, 0]
    k0, k1 = p00 / S, p01 / S
    x[:, :, 0] += k0 * y
    x[:, :, 1] += k1 * y
    P[:, :, 0, 0] = p00 - k0 * p00
    P[:, :, 0, 1] = P[:, :, 1, 0] = p01 - k0 * p01
    P[:, :, 1, 1] = p11 - k1 * p01
    ll = -0.5 * (y**2 / S + np.log(S))
    if vz is not None:
        vz = np.asarray(vz, float)
        m = np.isfinite(vz)
        if m.any():
            rv = np.broadcast_to(np.asarray(rv2, float), vz.shape)[m][:, None]
            Pm = P[m]
            Sv = Pm[:, :, 1, 1] + rv
            yv = vz[m][:, None] - x[m, :, 1]
            g0, g1 = Pm[:, :, 0, 1] / Sv, Pm[:, :, 1, 1] / Sv
            x[m, :, 0] += g0 * yv
            x[m, :, 1] += g1 * yv
            p00, p01, p11 = Pm[:, :, 0, 0], Pm[:, :, 0, 1], Pm[:, :, 1, 1]
            Pm[:, :, 0, 0] = p00 - g0 * p01
            Pm[:, :, 0, 1] = Pm[:, :, 1, 0] = p01 - g0 * p11
            Pm[:, :, 1, 1] = p11 - g1 * p11
            P[m] = Pm
            ll[m] += -0.5 * (yv**2 / Sv + np.log(Sv))
    return x, P, ll[:, 1] - ll[:, 0]


def ncv_predict_pos(
    x: np.ndarray, P: np.ndarray, dt: np.ndarray, q_h: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal position and its 2x2 covariance after an NCV step (for gating only).

    The (e, n) block of :func:`ncv_predict`: ``A + T (B + B^T) + T^2 C + q T^3/3 I``,
    gravity and the up axis left out; much cheaper than the full 6x6 predict.
    """
    d = dt[:, None]
    pos = x[:, :2] + d * x[:, 3:5]
    d3 = dt[:, None, None]
    B = P[:, :2, 3:5]
    S = P[:, :2, :2] + d3 * (B + np.swapaxes(B, 1, 2)) + d3 * d3 * P[:, 3:5, 3:5]
    q = np.broadcast_to(np.asarray(q_h, float), dt.shape) * np.abs(dt) ** 3 / 3.0
    S[:, 0, 0] += q
    S[:, 1, 1] += q
    return pos, S


def ct_transition(dt: np.ndarray, omega: float | np.ndarray) -> np.ndarray:
    """Coordinated-turn transition matrices (N, 6, 6) for known turn rates ``omega`` (rad/s,
    one for all or one per row).

    Horizontal plane, with s = sin(wT), c = cos(wT)::

        e'  = e + s/w ve - (1-c)/w vn      ve' = c ve - s vn
        n'  = n + (1-c)/w ve + s/w vn      vn' = s ve + c vn

    and a constant-velocity up axis. ``omega == 0`` gives the NCV matrix.
    """
    n = dt.shape[0]
    F = np.zeros((n, 6, 6))
    idx = np.arange(6)
    F[:, idx, idx] = 1.0
    F[:, 2, 5] = dt
    om = np.broadcast_to(np.asarray(omega, float), (n,))
    straight = np.abs(om) < 1e-12
    w = np.where(straight, 1.0, om)
    wt = w * dt
    s, c = np.sin(wt), np.cos(wt)
    F[:, 0, 3] = np.where(straight, dt, s / w)
    F[:, 0, 4] = np.where(straight, 0.0, -(1 - c) / w)
    F[:, 1, 3] = np.where(straight, 0.0, (1 - c) / w)
    F[:, 1, 4] = np.where(straight, dt, s / w)
    F[:, 3, 3] = np.where(straight, 1.0, c)
    F[:, 3, 4] = np.where(straight, 0.0, -s)
    F[:, 4, 3] = np.where(straight, 0.0, s)
    F[:, 4, 4] = np.where(straight, 1.0, c)
    return F


def white_accel_Q(dt: np.ndarray, q_h: float, q_v: float) -> np.ndarray:
    """Process noise (N, 6, 6) of the white-noise-acceleration model (see :func:`ncv_predict`)."""
    a = np.abs(dt)
    Q = np.zeros((dt.shape[0], 6, 6))
    for k, q in ((0, q_h), (1, q_h), (2, q_v)):
        Q[:, k, k] = q * a**3 / 3
        Q[:, k, k + 3] = Q[:, k + 3, k] = q * a**2 / 2
        Q[:, k + 3, k + 3] = q * a
    return Q


def linear_predict(
    x: np.ndarray, P: np.ndarray, F: np.ndarray, Q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Generic batched Kalman predict: ``x' = F x``, ``P' = F P F^T + Q`` (all (N, ...))."""
    xn = np.einsum("nij,nj->ni", F, x)
    Pn = F @ P @ np.swapaxes(F, 1, 2) + Q
    return xn, Pn


# ---------------------------------------------------------------------------
# measurement models
# ---------------------------------------------------------------------------
SIGNATURES: dict[str, np.ndarray] = {
    "pos2": np.array([0, 1]),
    "pos3": np.array([0, 1, 2]),
    "pos2vel2": np.array([0, 1, 3, 4]),
    "pos3vel3": np.array([0, 1, 2, 3, 4, 5]),
    "pos3vel2": np.array([0, 1, 2, 3, 4]),
    "pos2vel3": np.array([0, 1, 3, 4, 5]),
}
"""Which state components a report measures (H selects them), by which fields it has."""


def signature_codes(has_z: np.ndarray, has_v: np.ndarray, has_vz: np.ndarray) -> np.ndarray:
    """Index into ``SIGNATURE_LIST`` of each report's measured components."""
    code = np.zeros(has_z.shape[0], np.int64)  # pos2
    code[has_z & ~has_v] = 1
    code[~has_z & has_v & ~has_vz] = 2
    code[has_z & has_v & has_vz] = 3
    code[has_z & has_v & ~has_vz] = 4
    code[~has_z & has_v & has_vz] = 5
    return code


SIGNATURE_LIST: list[np.ndarray] = list(SIGNATURES.values())


def kalman_update(
    x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray, comp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Batched linear Kalman update with ``H`` selecting state components ``comp``.

    ::

        y = z - H x                 (innovation)
        S = H P H^T + R             (innovation covariance)
        K = P H^T S^-1              (gain)
        x' = x + K y
        P' = P - K H P = (I - K H) P              (symmetrised)

    Returns (x', P', d2, ln|S|) with d2 = y^T S^-1 y the squared Mahalanobis distance.
    """
    if comp.size == 2 and comp[0] == 0 and comp[1] == 1:
        return kalman_update_pos2(x, P, z, R)
    Hx = x[:, comp]
    y = z - Hx
    PHt = P[:, :, comp]  # (n, 6, m)
    S = PHt[:, comp, :] + R
    Si = np.linalg.inv(S)
    K = PHt @ Si  # (n, 6, m)
    xn = x + np.einsum("nij,nj->ni", K, y)
    Pn = P - K @ np.swapaxes(PHt, 1, 2)  # P - K H P
    Pn = 0.5 * (Pn + np.swapaxes(Pn, 1, 2))
    d2 = np.einsum("ni,nij,nj->n", y, Si, y)
    return xn, Pn, d2, np.linalg.slogdet(S)[1]


def kalman_update_pos2(
    x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`kalman_update` for a horizontal position report (H = [I2 0]), in closed form.

    With ``S = P[:2, :2] + R`` inverted as a 2x2 matrix, ``K = P[:, :2] S^-1``,
    ``x' = x + K y`` and ``P' = P - K P[:2, :]`` (symmetrised), every step elementwise
    over all tracks.
    """
    y = z - x[:, :2]
    s00 = P[:, 0, 0] + R[:, 0, 0]
    s01 = P[:, 0, 1] + R[:, 0, 1]
    s11 = P[:, 1, 1] + R[:, 1, 1]
    det = s00 * s11 - s01 * s01
    i00, i01, i11 = s11 / det, -s01 / det, s00 / det
    P0 = P[:, :, 0]
    P1 = P[:, :, 1]
    K0 = P0 * i00[:, None] + P1 * i01[:, None]  # (n, 6): first column of K
    K1 = P0 * i01[:, None] + P1 * i11[:, None]
    xn = x + K0 * y[:, 0:1] + K1 * y[:, 1:2]
    Pn = P - K0[:, :, None] * P[:, None, 0, :] - K1[:, :, None] * P[:, None, 1, :]
    Pn = 0.5 * (Pn + np.swapaxes(Pn, 1, 2))
    d2 = i00 * y[:, 0] ** 2 + 2 * i01 * y[:, 0] * y[:, 1] + i11 * y[:, 1] ** 2
    return xn, Pn, d2, np.log(det)


def measurement_arrays(
    comp: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    vx: np.ndarray,
    vy: np.ndarray,
    vz: np.ndarray,
    sigma: np.ndarray,
    sigma_z: np.ndarray,
    sigma_v: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Measurement vectors (n, m) and diagonal covariances (n, m, m) for one signature."""
    full = np.stack([x, y, z, vx, vy, vz], axis=1)
    var = np.stack([sigma**2, sigma**2, sigma_z**2, sigma_v**2, sigma_v**2, sigma_v**2], axis=1)
    zz = full[:, comp]
    n, m = zz.shape
    R = np.zeros((n, m, m))
    R[:, np.arange(m), np.arange(m)] = var[:, comp]
    return zz, R


# ---------------------------------------------------------------------------
# interacting multiple model (IMM): NCV + coordinated turns left and right
# ---------------------------------------------------------------------------
def imm_transition(dt: np.ndarray, sojourn_s: np.ndarray) -> np.ndarray:
    """Mode transition matrices (N, M, M) for steps ``dt``: p_ii = exp(-|dt| / sojourn_i),
    the rest spread evenly over the other modes."""
    m = sojourn_s.shape[0]
    stay = np.exp(-np.abs(dt)[:, None] / sojourn_s[None, :])  # (N, M)
    T = np.repeat(((1.0 - stay) / (m - 1))[:, :, None], m, axis=2)
    idx = np.arange(m)
    T[:, idx, idx] = stay
    return T


def imm_mix(
    xm: np.ndarray, Pm: np.ndarray, mu: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IMM interaction (mixing) step, batched over N tracks and M modes::

        c_j     = sum_i p_ij mu_i                      (predicted mode probability)
        w_ij    = p_ij mu_i / c_j                      (mixing weights)
        x0_j    = sum_i w_ij x_i
        P0_j    = sum_i w_ij (P_i + (x_i - x0_j)(x_i - x0_j)^T)

    Returns (x0 (N, M, 6), P0 (N, M, 6, 6), c (N, M)).
    """
    c = np.einsum("nij,ni->nj", T, mu)
    w = T * mu[:, :, None] / np.maximum(c[:, None, :], 1e-300)
    x0 = np.einsum("nij,nid->njd", w, xm)
    d = xm[:, :, None, :] - x0[:, None, :, :]  # (N, i, j, 6)
    wd = w[..., None] * d
    P0 = np.einsum("nij,nide->njde", w, Pm) + np.einsum("nijd,nije->njde", wd, d)
    return x0, P0, c


def imm_combine(xm: np.ndarray, Pm: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Moment-matched combination of the mode estimates::

    x = sum_j mu_j x_j,   P = sum_j mu_j (P_j + (x_j - x)(x_j - x)^T)
    """
    x = np.einsum("nj,njd->nd", mu, xm)
    d = xm - x[:, None, :]
    P = np.einsum("nj,njde->nde", mu, Pm) + np.einsum("nj,njd,nje->nde", mu, d, d)
    return x, P


def observer_density(nu2: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """Density (per square metre) of a person's report at squared distance ``nu2`` from a
    track's predicted position, spread ``s2`` (m^2 per axis): a bivariate Student t with
    2 degrees of freedom::

        g = (1 + nu2 / (2 s2))^-2 / (2 pi s2)

    A report is placed where the person is, not where the threat is, and stamped when it
    is sent (10-60 s late), so its misses have heavy tails: at 4 sigma the Gaussian's
    ``exp(-8)`` would call a real report a chance one, the t gives it 1/81 of the peak.
    """
    return (1.0 + 0.5 * nu2 / s2) ** -2.0 / (2.0 * np.pi * s2)
