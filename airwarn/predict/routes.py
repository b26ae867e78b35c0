"""Route samples for air-breathing threats (drones, jet drones, cruise missiles).

Each track carries K route samples, propagated together as (tracks, samples) arrays:
position from the track covariance, speed with a log-normal spread, a turn rate that
follows an Ornstein-Uhlenbeck process (heading persistence with slow turns), rare
sharp doglegs, loiter episodes, and for a share of the samples a populated target
zone the route steers toward and strikes. Random numbers come from a fixed table
indexed by track id, so one track's samples change only as its estimate changes
(no flicker between updates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from airwarn.predict.config import RouteModel

TWO_PI = 2.0 * np.pi


def wrap(a: np.ndarray) -> np.ndarray:
    """Angle difference wrapped to [-pi, pi)."""
    return (a + np.pi) % TWO_PI - np.pi


@dataclass
class NoiseTable:
    """Common random numbers: ``rows`` × K × ``steps`` per noise kind."""

    turn: np.ndarray  # standard normal
    dog_u: np.ndarray  # uniform: dogleg event
    dog_a: np.ndarray  # uniform in [-1, 1]: dogleg size and sign
    loiter_u: np.ndarray  # uniform: loiter event
    init: np.ndarray  # (rows, K, 8): initial-state normals and uniforms

    @classmethod
    def make(cls, rows: int, k: int, steps: int, seed: int) -> NoiseTable:
        """Draw the table once (float32 to keep it small)."""
        g = np.random.default_rng(seed)
        f = np.float32
        init = np.empty((rows, k, 8), f)
        init[..., :5] = g.standard_normal((rows, k, 5))
        init[..., 5:] = g.random((rows, k, 3))
        return cls(
            turn=g.standard_normal((rows, k, steps)).astype(f),
            dog_u=g.random((rows, k, steps)).astype(f),
            dog_a=g.uniform(-1, 1, (rows, k, steps)).astype(f),
            loiter_u=g.random((rows, k, steps)).astype(f),
            init=init,
        )

    @property
    def rows(self) -> int:
        return int(self.turn.shape[0])

    @property
    def steps(self) -> int:
        return int(self.turn.shape[2])


@dataclass
class RouteState:
    """Route samples of N tracks × K samples at one time."""

    x: np.ndarray
    y: np.ndarray
    psi: np.ndarray  # heading, rad, counter-clockwise from east (frame x)
    omega: np.ndarray  # turn rate, rad/s
    speed: np.ndarray  # m/s
    target: np.ndarray  # int zone index steered to, -1 none
    loiter: np.ndarray  # seconds of loitering left
    alive: np.ndarray  # bool: not yet struck

    def take(self, idx: np.ndarray) -> RouteState:
        """Rows ``idx`` (tracks) of every array."""
        return RouteState(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[RouteState]) -> RouteState:
        """Stack the tracks of several states."""
        names = RouteState.__dataclass_fields__
        return RouteState(*(np.concatenate([getattr(p, f) for p in parts]) for f in names))

    def __len__(self) -> int:
        return int(self.x.shape[0])


def initial_state(
    x: np.ndarray,
    P: np.ndarray,
    rows: np.ndarray,
    model: RouteModel,
    noise: NoiseTable,
    targets: TargetSet | None,
) -> RouteState:
    """Sample K routes per track from its state ``x`` (N, 6) and covariance ``P`` (N, 6, 6)."""
    n = x.shape[0]
    e = noise.init[rows].astype(float)  # (N, K, 8)
    k = e.shape[1]
    x, P = _sanitize(x, P, model)
    ph = _chol2(P[:, 0:2, 0:2])
    pv = _chol2(P[:, 3:5, 3:5])
    px = x[:, 0, None] + ph[:, 0, 0, None] * e[..., 0]
    py = x[:, 1, None] + ph[:, 1, 0, None] * e[..., 0] + ph[:, 1, 1, None] * e[..., 1]
    vx = x[:, 3, None] + pv[:, 0, 0, None] * e[..., 2]
    vy = x[:, 4, None] + pv[:, 1, 0, None] * e[..., 2] + pv[:, 1, 1, None] * e[..., 3]
    sp = np.hypot(vx, vy)
    psi = np.arctan2(vy, vx)
    speed = np.clip(sp, model.speed_min, model.speed_max) * np.exp(model.speed_sigma * e[..., 4])
    speed = np.clip(speed, 0.8 * model.speed_min, 1.2 * model.speed_max)
    target = np.full((n, k), -1, np.int64)
    if targets is not None and model.target_frac > 0 and len(targets):
        chosen = targets.draw(px.mean(1), py.mean(1), psi.mean(1), e[..., 6], model)
        target = np.where(e[..., 5] < model.target_frac, chosen, -1)
    return RouteState(
        x=px,
        y=py,
        psi=psi,
        omega=np.zeros((n, k)),
        speed=speed,
        target=target,
        loiter=np.zeros((n, k)),
        alive=np.ones((n, k), bool),
    )


def _sanitize(x: np.ndarray, P: np.ndarray, model: RouteModel) -> tuple[np.ndarray, np.ndarray]:
    """Unknown velocity (NaN) becomes zero with a nominal-speed spread: any heading."""
    x = np.array(x, float)
    P = np.nan_to_num(np.array(P, float), nan=0.0)
    novel = ~np.isfinite(x[:, 3]) | ~np.isfinite(x[:, 4])
    if novel.any():
        x[novel, 3:5] = 0.0
        P[novel, 3:5, 3:5] = np.eye(2) * model.speed_nominal**2
    return x, P


def _chol2(c: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of (N, 2, 2) covariances, tolerant of tiny negative values."""
    a = np.maximum(c[:, 0, 0], 0.0)
    l00 = np.sqrt(a)
    l10 = np.where(l00 > 0, c[:, 1, 0] / np.where(l00 > 0, l00, 1.0), 0.0)
    l11 = np.sqrt(np.maximum(c[:, 1, 1] - l10**2, 0.0))
    out = np.zeros_like(c)
    out[:, 0, 0] = l00
    out[:, 1, 0] = l10
    out[:, 1, 1] = l11
    return out


class TargetSet:
    """Populated zones that routes may steer toward, weighted by population."""

    def __init__(self, cx: np.ndarray, cy: np.ndarray, population: np.ndarray, zone: np.ndarray):
        self.cx, self.cy, self.zone = cx, cy, zone
        self.weight = population.astype(float)

    def __len__(self) -> int:
        return int(self.zone.shape[0])

    def draw(
        self, x: np.ndarray, y: np.ndarray, psi: np.ndarray, u: np.ndarray, model: RouteModel
    ) -> np.ndarray:
        """Target zone index per (track, sample): population × von Mises(bearing - course)."""
        dx = self.cx[None, :] - x[:, None]
        dy = self.cy[None, :] - y[:, None]
        d = np.hypot(dx, dy)
        brg = np.arctan2(dy, dx)
        w = self.weight[None, :] * np.exp(model.target_kappa * (np.cos(brg - psi[:, None]) - 1.0))
        w = np.where(d > 1000.0, w, 0.0)  # a target under the threat already is not a steer
        cw = np.cumsum(w, axis=1)
        tot = cw[:, -1:]
        ok = tot[:, 0] > 0
        cw = cw / np.where(tot > 0, tot, 1.0)
        n, m = cw.shape
        flat = (cw + np.arange(n)[:, None]).ravel()
        q = np.minimum(u, 1 - 1e-9) + np.arange(n)[:, None]
        j = np.searchsorted(flat, q.ravel()).reshape(u.shape) - (np.arange(n) * m)[:, None]
        j = np.clip(j, 0, m - 1)
        return np.where(ok[:, None], self.zone[j], -1)


@dataclass
class Forecast:
    """Sample positions over the horizon, and strikes on targets."""

    x: np.ndarray  # (N, K, S+1), NaN after a strike
    y: np.ndarray
    dt: float  # seconds per step
    strike_step: np.ndarray  # (N, K) step of the strike, -1 none
    strike_zone: np.ndarray  # (N, K) zone struck, -1 none


def step(
    s: RouteState,
    model: RouteModel,
    dt: float,
    turn: np.ndarray,
    dog_u: np.ndarray,
    dog_a: np.ndarray,
    loiter_u: np.ndarray,
    tx: np.ndarray | None,
    ty: np.ndarray | None,
) -> np.ndarray:
    """Advance the samples by ``dt`` in place; return the bool mask of strikes this step."""
    a = np.exp(-dt / model.turn_tau_s) if model.turn_tau_s > 0 else 0.0
    sig = np.radians(model.turn_sigma_dps)
    s.omega *= a
    s.omega += sig * np.sqrt(1.0 - a * a) * turn
    p_dog = 1.0 - np.exp(-model.dogleg_per_h * dt / 3600.0)
    lo, hi = np.radians(model.dogleg_min_deg), np.radians(model.dogleg_max_deg)
    jump = np.sign(dog_a) * (lo + (hi - lo) * np.abs(dog_a))
    s.psi += np.where(dog_u < p_dog, jump, 0.0) + s.omega * dt
    moving = s.loiter <= 0
    s.loiter -= dt
    if model.loiter_per_h > 0 and model.loiter_s > 0:
        p_l = 1.0 - np.exp(-model.loiter_per_h * dt / 3600.0)
        start = moving & (loiter_u < p_l)
        s.loiter[start] = model.loiter_s
    struck = np.zeros(s.x.shape, bool)
    if tx is not None:
        has = s.target >= 0
        dx, dy = tx - s.x, ty - s.y
        brg = np.arctan2(dy, dx)
        g = 1.0 - np.exp(-dt / model.target_tau_s) if model.target_tau_s > 0 else 1.0
        s.psi += np.where(has, g * wrap(brg - s.psi), 0.0)
        near = has & moving & s.alive & (np.hypot(dx, dy) <= s.speed * dt)
        s.x = np.where(near, tx, s.x)
        s.y = np.where(near, ty, s.y)
        struck = near
        moving = moving & ~near
    go = np.where(moving & s.alive, s.speed * dt, 0.0)
    s.x += go * np.cos(s.psi)
    s.y += go * np.sin(s.psi)
    s.alive &= ~struck
    return struck


def forecast(
    s0: RouteState,
    rows: np.ndarray,
    model: RouteModel,
    dt: float,
    n_steps: int,
    noise: NoiseTable,
    zone_cx: np.ndarray,
    zone_cy: np.ndarray,
) -> Forecast:
    """Propagate copies of the samples ``n_steps`` × ``dt`` with the track's fixed noise rows."""
    s = RouteState(*(getattr(s0, f).copy() for f in RouteState.__dataclass_fields__))
    n, k = s.x.shape
    X = np.full((n, k, n_steps + 1), np.nan)
    Y = np.full((n, k, n_steps + 1), np.nan)
    X[..., 0] = np.where(s.alive, s.x, np.nan)
    Y[..., 0] = np.where(s.alive, s.y, np.nan)
    strike_step = np.full((n, k), -1, np.int64)
    has = s.target >= 0
    tx = ty = None
    if has.any():
        ti = np.where(has, s.target, 0)
        tx, ty = zone_cx[ti], zone_cy[ti]
    for i in range(n_steps):
        j = i % noise.steps
        alive_before = s.alive.copy()
        struck = step(
            s,
            model,
            dt,
            noise.turn[rows, :, j],
            noise.dog_u[rows, :, j],
            noise.dog_a[rows, :, j],
            noise.loiter_u[rows, :, j],
            tx,
            ty,
        )
        strike_step[struck] = i + 1
        X[..., i + 1] = np.where(alive_before, s.x, np.nan)
        Y[..., i + 1] = np.where(alive_before, s.y, np.nan)
    strike_zone = np.where(strike_step >= 0, s.target, -1)
    return Forecast(X, Y, dt, strike_step, strike_zone)


def advance(
    s: RouteState,
    model: RouteModel,
    dt: float,
    n_steps: np.ndarray,
    rng: np.random.Generator,
    zone_cx: np.ndarray,
    zone_cy: np.ndarray,
) -> None:
    """Advance ghost clouds in place by ``n_steps`` (per track) steps of fresh noise."""
    if len(s) == 0 or n_steps.max(initial=0) <= 0:
        return
    has = s.target >= 0
    ti = np.where(has, s.target, 0)
    tx, ty = zone_cx[ti], zone_cy[ti]
    shape = s.x.shape
    for i in range(int(n_steps.max())):
        act = (n_steps > i)[:, None]
        keep = RouteState(*(getattr(s, f).copy() for f in RouteState.__dataclass_fields__))
        step(
            s,
            model,
            dt,
            rng.standard_normal(shape),
            rng.random(shape),
            rng.uniform(-1, 1, shape),
            rng.random(shape),
            tx,
            ty,
        )
        for f in RouteState.__dataclass_fields__:
            setattr(s, f, np.where(act, getattr(s, f), getattr(keep, f)))
