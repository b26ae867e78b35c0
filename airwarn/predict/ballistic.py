"""Impact-point prediction for ballistic threats, in closed form.

Samples of the 3-D state are drawn from the track covariance (so the impact ellipse
shrinks as tracking goes on), each with a constant unmodelled horizontal acceleration
of ``accel_sigma`` per axis. The vertical motion has two phases:

* rising (``vz > 0``): free flight under gravity ``g`` (optionally relieved by the Earth's
  curvature, ``g - v_h^2 / R``) up to the apogee, ``t_up = vz / g``;
* falling: a constant effective downward acceleration ``a`` — ``g`` for a pure ballistic
  fall, less when lift and drag slow the descent (quasi-ballistic missiles). ``a`` is
  estimated from the track's own history of vertical speed (:class:`DescentFit`); until
  the fall has been observed it is drawn from [``a_min``, ``g``] (uniform in fall time, so
  that the impact strip along the course is covered evenly). Only a fast body glides (lift
  grows with the square of the speed): ``a_min`` (:func:`descent_floor`) is
  ``descent_accel_min`` at ``glide_speed_ms`` of horizontal speed and above, and rises
  linearly to ``g`` at rest, so that an artillery rocket at 300 m/s is not given the
  hundred-kilometre glide of a quasi-ballistic missile at Mach 4. Nor is there air to glide
  in above ``glide_ceiling_m``: a lofted missile is drawn falling under gravity down to it,
  and only the rest of its fall slowed. Both shape the prior only; once the fall is
  observed, its fitted acceleration holds from the apogee down.

    z(t) = z0 + vz t - a t^2 / 2  ->  t_fall = (vz + sqrt(vz^2 + 2 a (z0 - ground))) / a
    (in two parts from an apogee above the glide ceiling h_c: at g down to h_c, reached at
    v_c = -sqrt(vz^2 + 2 g (z0 - h_c)), then at a from h_c with v_c)
    impact = p0 + v_h t_impact + a_h t_impact^2 / 2
"""

from __future__ import annotations

import numpy as np

from airwarn.geo import EARTH_RADIUS_M, G0, fall_time
from airwarn.predict.config import BallisticModel

HISTORY = 12
"""Vertical-speed samples kept per ballistic track."""


def gravity(vh2: np.ndarray, model: BallisticModel) -> np.ndarray:
    """Effective gravity for horizontal speed squared ``vh2``."""
    g = G0 - (vh2 / EARTH_RADIUS_M if model.curvature else 0.0)
    return np.maximum(g, 1.0)


def descent_floor(vh: np.ndarray, g: np.ndarray, model: BallisticModel) -> np.ndarray:
    """Lowest effective fall acceleration of a body at horizontal speed ``vh`` (m/s):
    ``max(descent_accel_min, g (1 - vh / glide_speed_ms))``; ``descent_accel_min`` at any
    speed when ``glide_speed_ms`` is 0."""
    lo = max(model.descent_accel_min, 0.1)
    if model.glide_speed_ms <= 0:
        return np.full(np.shape(vh), lo)
    return np.clip(g * (1.0 - vh / model.glide_speed_ms), lo, g)


def time_to_ground(
    z: np.ndarray,
    vz: np.ndarray,
    vh2: np.ndarray,
    a_fall: np.ndarray,
    model: BallisticModel,
    ceiling: np.ndarray | bool = False,
) -> np.ndarray:
    """Seconds to impact: rise under gravity to the apogee (if rising), then fall at ``a_fall``
    (where ``ceiling``: at g down to ``glide_ceiling_m``, at ``a_fall`` below it)."""
    g = gravity(vh2, model)
    h = z - model.ground_alt_m
    up = np.maximum(vz, 0.0)
    t_up = up / g
    h_top = h + up * up / (2.0 * g)
    a = np.maximum(a_fall, 0.1)
    v0 = np.minimum(vz, 0.0)
    if model.glide_ceiling_m <= 0 or not np.any(ceiling):
        return t_up + fall_time(h_top, v0, a)
    # above the glide ceiling there is no air to lift the body: it falls under gravity
    hc = np.where(ceiling, model.glide_ceiling_m - model.ground_alt_m, np.inf)
    drop = np.maximum(h_top - hc, 0.0)
    v1 = -np.sqrt(v0 * v0 + 2.0 * g * drop)
    return t_up + fall_time(drop, v0, g) + fall_time(np.minimum(h_top, hc), v1, a)


def impact_point(
    x: np.ndarray, model: BallisticModel, a_fall: np.ndarray | float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Impact (x, y, seconds ahead) of states ``x[..., 6]`` (pure ballistic unless ``a_fall``)."""
    vh2 = x[..., 3] ** 2 + x[..., 4] ** 2
    a = gravity(vh2, model) if a_fall is None else np.asarray(a_fall, float)
    t = time_to_ground(x[..., 2], x[..., 5], vh2, a, model)
    return x[..., 0] + x[..., 3] * t, x[..., 1] + x[..., 4] * t, t


def sample_impacts(
    x: np.ndarray,
    P: np.ndarray,
    e: np.ndarray,
    model: BallisticModel,
    a_mean: np.ndarray | None = None,
    a_sigma: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Impact samples (x, y, t ahead), each (N, K), from states ``x`` (N, 6), ``P`` (N, 6, 6).

    ``e`` (N, K, 10): standard normals for the state (6) and horizontal acceleration (2),
    a normal and a uniform for the fall acceleration. ``a_mean``/``a_sigma`` (N,) are the
    fitted fall accelerations (NaN: not yet observed, use the prior range).
    """
    n = x.shape[0]
    L = _chol(P)
    s = x[:, None, :] + np.einsum("nij,nkj->nki", L, e[..., :6])
    ah = model.accel_sigma * e[..., 6:8]
    vh2 = s[..., 3] ** 2 + s[..., 4] ** 2
    g = gravity(vh2, model)
    # prior: fall time from the apogee uniform between those at g and at the speed's floor
    lo, hi = 1.0 / np.sqrt(g), 1.0 / np.sqrt(descent_floor(np.sqrt(vh2), g, model))
    prior = 1.0 / (lo + (hi - lo) * e[..., 9]) ** 2
    a = prior
    seen = np.zeros(prior.shape, bool)
    if a_mean is not None:
        am = np.broadcast_to(np.asarray(a_mean, float)[:, None], (n, e.shape[1]))
        asg = np.broadcast_to(np.asarray(a_sigma, float)[:, None], (n, e.shape[1]))
        fit = am + asg * e[..., 8]
        seen = np.isfinite(am)
        a = np.where(seen, np.clip(fit, model.descent_accel_min, g), prior)
    # the glide ceiling shapes the prior only: an observed fall is taken as it is seen
    t = time_to_ground(s[..., 2], s[..., 5], vh2, a, model, ceiling=~seen)
    ix = s[..., 0] + s[..., 3] * t + 0.5 * ah[..., 0] * t**2
    iy = s[..., 1] + s[..., 4] * t + 0.5 * ah[..., 1] * t**2
    return ix, iy, t


class DescentFit:
    """Per-track history of vertical speed, and the fall acceleration fitted to it."""

    def __init__(self, every_s: float = 4.0, min_span_s: float = 12.0):
        self.every_s = every_s
        self.min_span_s = min_span_s
        self.ids = np.zeros(0, np.int64)  # sorted
        self.t = np.zeros((0, HISTORY))
        self.vz = np.zeros((0, HISTORY))

    def update(self, ids: np.ndarray, t: float, vz: np.ndarray) -> None:
        """Record the vertical speed of these (ballistic) tracks at ``t``; forget the others."""
        ids = np.asarray(ids, np.int64)
        o = np.argsort(ids)
        ids, vz = ids[o], np.asarray(vz, float)[o]
        pos = np.minimum(np.searchsorted(self.ids, ids), max(self.ids.size - 1, 0))
        known = self.ids[pos] == ids if self.ids.size else np.zeros(ids.size, bool)
        T = np.full((ids.size, HISTORY), np.nan)
        V = np.full((ids.size, HISTORY), np.nan)
        T[known] = self.t[pos[known]]
        V[known] = self.vz[pos[known]]
        last = T[:, -1]
        push = ~(last >= t - self.every_s + 1e-9) & np.isfinite(vz)  # NaN last -> push
        T[push] = np.roll(T[push], -1, axis=1)
        V[push] = np.roll(V[push], -1, axis=1)
        T[push, -1] = t
        V[push, -1] = vz[push]
        self.ids, self.t, self.vz = ids, T, V

    def estimate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(fall acceleration, its 1-sigma) per id; NaN where the fall is not yet observed."""
        ids = np.asarray(ids, np.int64)
        n = ids.size
        a = np.full(n, np.nan)
        sa = np.full(n, np.nan)
        if self.ids.size == 0 or n == 0:
            return a, sa
        pos = np.minimum(np.searchsorted(self.ids, ids), self.ids.size - 1)
        hit = self.ids[pos] == ids
        T, V = self.t[pos], self.vz[pos]
        use = np.isfinite(T) & (V < 0)  # only the falling part
        cnt = use.sum(1)
        w = use.astype(float)
        tm = np.nansum(np.where(use, T, 0.0), 1) / np.maximum(cnt, 1)
        vm = np.nansum(np.where(use, V, 0.0), 1) / np.maximum(cnt, 1)
        dt = np.where(use, T - tm[:, None], 0.0)
        dv = np.where(use, V - vm[:, None], 0.0)
        sxx = (w * dt * dt).sum(1)
        slope = (w * dt * dv).sum(1) / np.maximum(sxx, 1e-9)
        res = np.where(use, dv - slope[:, None] * dt, 0.0)
        s2 = (res**2).sum(1) / np.maximum(cnt - 2, 1)
        se = np.sqrt(s2 / np.maximum(sxx, 1e-9))
        span = np.nanmax(np.where(use, T, -np.inf), 1) - np.nanmin(np.where(use, T, np.inf), 1)
        ok = hit & (cnt >= 3) & (span >= self.min_span_s)
        a[ok] = -slope[ok]
        sa[ok] = np.sqrt(se[ok] ** 2 + (0.05 * np.abs(slope[ok])) ** 2 + 0.2**2)
        return a, sa


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
