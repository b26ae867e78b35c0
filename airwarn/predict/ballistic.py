"""Impact-point prediction for ballistic threats, in closed form.

Samples of the 3-D state are drawn from the track covariance (so the impact ellipse
shrinks as tracking goes on), each with a constant unmodelled acceleration (drag,
manoeuvre) of ``accel_sigma`` per axis. Each sample then falls under gravity, optionally
relieved by the Earth's curvature (``g - v_h^2 / R``), to the mean ground altitude:

    z(t) = z0 + vz t - g t^2 / 2  ->  t_impact = (vz + sqrt(vz^2 + 2 g (z0 - ground))) / g
    impact = p0 + v_h t_impact + a_h t_impact^2 / 2
"""

from __future__ import annotations

import numpy as np

from airwarn.geo import EARTH_RADIUS_M
from airwarn.predict.config import BallisticModel

G0 = 9.80665


def impact_time(z: np.ndarray, vz: np.ndarray, g: np.ndarray | float) -> np.ndarray:
    """Seconds until altitude ``z`` (above ground) falls to 0 at vertical speed ``vz``."""
    g = np.asarray(g, float)
    disc = np.maximum(vz**2 + 2.0 * g * np.maximum(z, 0.0), 0.0)
    return (vz + np.sqrt(disc)) / g


def impact_point(x: np.ndarray, model: BallisticModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Impact (x, y, seconds ahead) of states ``x[..., 6]`` without extra acceleration."""
    vh2 = x[..., 3] ** 2 + x[..., 4] ** 2
    g = G0 - (vh2 / EARTH_RADIUS_M if model.curvature else 0.0)
    g = np.maximum(g, 1.0)
    t = impact_time(x[..., 2] - model.ground_alt_m, x[..., 5], g)
    return x[..., 0] + x[..., 3] * t, x[..., 1] + x[..., 4] * t, t


def sample_impacts(
    x: np.ndarray, P: np.ndarray, e: np.ndarray, model: BallisticModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Impact samples (x, y, t ahead), each (N, K), from states ``x`` (N, 6), ``P`` (N, 6, 6).

    ``e`` (N, K, 9) are standard normals (6 for the state, 3 for the acceleration).
    """
    L = _chol(P)
    s = x[:, None, :] + np.einsum("nij,nkj->nki", L, e[..., :6])
    a = model.accel_sigma * e[..., 6:9]
    vh2 = s[..., 3] ** 2 + s[..., 4] ** 2
    g = G0 - (vh2 / EARTH_RADIUS_M if model.curvature else 0.0) - a[..., 2]
    g = np.maximum(g, 1.0)
    t = impact_time(s[..., 2] - model.ground_alt_m, s[..., 5], g)
    ix = s[..., 0] + s[..., 3] * t + 0.5 * a[..., 0] * t**2
    iy = s[..., 1] + s[..., 4] * t + 0.5 * a[..., 1] * t**2
    return ix, iy, t


def _chol(P: np.ndarray) -> np.ndarray:
    """Cholesky factors of (N, 6, 6) covariances; NaN/negative variances get a floor."""
    P = np.nan_to_num(np.asarray(P, float), nan=0.0)
    P = 0.5 * (P + np.swapaxes(P, 1, 2))
    big = np.abs(P).max(axis=(1, 2), initial=0.0)
    jitter = (1e-6 + 1e-9 * big)[:, None, None] * np.eye(6)
    for scale in (1.0, 1e3, 1e6):
        try:
            return np.linalg.cholesky(P + scale * jitter)
        except np.linalg.LinAlgError:
            continue
    d = np.sqrt(np.maximum(np.diagonal(P, axis1=1, axis2=2), 0.0))
    return np.einsum("ni,ij->nij", d, np.eye(6))
