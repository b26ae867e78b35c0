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

import math
from dataclasses import dataclass

import numpy as np

from airwarn.predict.config import RouteModel

TWO_PI = 2.0 * np.pi


def wrap(a: np.ndarray) -> np.ndarray:
    """Angle difference wrapped to [-pi, pi)."""
    return (a + np.pi) % TWO_PI - np.pi


@dataclass
class NoiseTable:
    """Common random numbers: ``steps`` × ``rows`` × K per noise kind (rows = track id mod)."""

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
            turn=g.standard_normal((steps, rows, k)).astype(f),
            dog_u=g.random((steps, rows, k)).astype(f),
            dog_a=g.uniform(-1, 1, (steps, rows, k)).astype(f),
            loiter_u=g.random((steps, rows, k)).astype(f),
            init=init,
        )

    @property
    def rows(self) -> int:
        return int(self.turn.shape[1])

    @property
    def steps(self) -> int:
        return int(self.turn.shape[0])

    def for_model(self, model: RouteModel, dt: float) -> StepNoise:
        """The table scaled to one route model and time step."""
        return StepNoise.from_uniforms(model, dt, self.turn, self.dog_u, self.dog_a, self.loiter_u)


@dataclass
class StepNoise:
    """Per-step random inputs of one route model: turn-rate increments, dogleg jumps, loiters."""

    turn_inc: np.ndarray  # rad/s added to the decayed turn rate
    jump: np.ndarray  # rad added to the heading (0 when no dogleg)
    loiter: np.ndarray | None  # bool: a loiter starts (None: the model never loiters)

    @classmethod
    def from_uniforms(
        cls,
        model: RouteModel,
        dt: float,
        turn: np.ndarray,
        dog_u: np.ndarray,
        dog_a: np.ndarray,
        loiter_u: np.ndarray,
    ) -> StepNoise:
        """Scale standard normals / uniforms (any equal shapes) to this model and ``dt``."""
        a = math.exp(-dt / model.turn_tau_s) if model.turn_tau_s > 0 else 0.0
        sig = math.radians(model.turn_sigma_dps) * math.sqrt(1.0 - a * a)
        p_dog = 1.0 - math.exp(-model.dogleg_per_h * dt / 3600.0)
        lo, hi = math.radians(model.dogleg_min_deg), math.radians(model.dogleg_max_deg)
        jump = np.where(dog_u < p_dog, np.sign(dog_a) * (lo + (hi - lo) * np.abs(dog_a)), 0.0)
        loiter = None
        if model.loiter_per_h > 0 and model.loiter_s > 0:
            loiter = loiter_u < 1.0 - math.exp(-model.loiter_per_h * dt / 3600.0)
        return cls(sig * turn.astype(float), jump, loiter)


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
    pv = _chol2(P[:, 3:5, 3:5]) * model.vel_sd_scale
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
    """The most populated zones, which routes may steer toward, weighted by population."""

    def __init__(
        self, cx: np.ndarray, cy: np.ndarray, population: np.ndarray, top: int | None = None
    ):
        pop = np.asarray(population, float)
        idx = np.flatnonzero(pop > 0)
        if top is not None and idx.size > top:
            idx = idx[np.argsort(-pop[idx], kind="stable")[:top]]
        self.zone = np.sort(idx)
        self.cx, self.cy = cx[self.zone], cy[self.zone]
        self.weight = pop[self.zone]

    def __len__(self) -> int:
        return int(self.zone.shape[0])

    def draw(
        self, x: np.ndarray, y: np.ndarray, psi: np.ndarray, u: np.ndarray, model: RouteModel
    ) -> np.ndarray:
        """Target zone index per (track, sample): population × von Mises(bearing - course)."""
        dx = self.cx[None, :] - x[:, None]
        dy = self.cy[None, :] - y[:, None]
        d = np.hypot(dx, dy)
        cos_d = (dx * np.cos(psi)[:, None] + dy * np.sin(psi)[:, None]) / np.maximum(d, 1.0)
        w = self.weight[None, :] * np.exp(model.target_kappa * (cos_d - 1.0))
        w[d <= 1000.0] = 0.0  # a target under the threat already is not a steer
        cw = np.cumsum(w, axis=1)
        tot = cw[:, -1:]
        ok = tot[:, 0] > 0
        cw /= np.where(tot > 0, tot, 1.0)
        n, m = cw.shape
        cw += np.arange(n)[:, None]
        q = np.minimum(u, 1 - 1e-9) + np.arange(n)[:, None]
        j = np.searchsorted(cw.ravel(), q.ravel()).reshape(u.shape) - (np.arange(n) * m)[:, None]
        j = np.clip(j, 0, m - 1)
        return np.where(ok[:, None], self.zone[j], -1)


@dataclass
class Forecast:
    """Sample positions over the horizon, and strikes on targets."""

    x: np.ndarray  # (S+1, N, K), NaN after a strike
    y: np.ndarray
    dt: float  # seconds per step
    strike_step: np.ndarray  # (N, K) step of the strike, -1 none
    strike_zone: np.ndarray  # (N, K) zone struck, -1 none


def step(
    s: RouteState,
    model: RouteModel,
    dt: float,
    turn_inc: np.ndarray,
    jump: np.ndarray,
    loiter: np.ndarray | None,
    steer: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None,
) -> np.ndarray | None:
    """Advance the samples by ``dt`` in place; return the strikes of this step (or None).

    ``steer`` = (target x, target y, gain per sample (0 without target), (speed dt)^2).
    Samples that are not alive have NaN positions and stay so.
    """
    a = math.exp(-dt / model.turn_tau_s) if model.turn_tau_s > 0 else 0.0
    s.omega *= a
    s.omega += turn_inc
    s.psi += jump
    s.psi += s.omega * dt
    moving = s.loiter <= 0
    s.loiter -= dt
    if loiter is not None:
        s.loiter[moving & loiter] = model.loiter_s
    go = s.speed * dt
    go *= moving
    struck = None
    if steer is not None:
        tx, ty, gain, reach2 = steer
        dx = tx - s.x
        dy = ty - s.y
        turn = wrap(np.arctan2(dy, dx) - s.psi)
        turn *= gain
        s.psi += turn
        struck = (dx * dx + dy * dy <= reach2) & moving & (gain > 0)
    s.x += go * np.cos(s.psi)
    s.y += go * np.sin(s.psi)
    if struck is not None and struck.any():
        np.copyto(s.x, tx, where=struck)
        np.copyto(s.y, ty, where=struck)
        s.alive &= ~struck
    return struck


def forecast(
    s0: RouteState,
    rows: np.ndarray,
    model: RouteModel,
    dt: float,
    n_steps: int,
    noise: StepNoise,
    zone_cx: np.ndarray,
    zone_cy: np.ndarray,
) -> Forecast:
    """Propagate copies of the samples ``n_steps`` × ``dt`` with the tracks' fixed noise rows.

    Positions come back as (S+1, N, K) arrays (step-major).
    """
    s = RouteState(*(getattr(s0, f).copy() for f in RouteState.__dataclass_fields__))
    n, k = s.x.shape
    s.x[~s.alive] = np.nan
    s.y[~s.alive] = np.nan
    X = np.empty((n_steps + 1, n, k))
    Y = np.empty((n_steps + 1, n, k))
    X[0], Y[0] = s.x, s.y
    strike_step = np.full((n, k), -1, np.int64)
    steer = _steer(s, model, dt, zone_cx, zone_cy)
    # gather every step's random inputs at once: (S, N, K)
    jj = (np.arange(n_steps) % noise.turn_inc.shape[0])[:, None]
    rr = np.asarray(rows)[None, :]
    turn_inc, jump = noise.turn_inc[jj, rr], noise.jump[jj, rr]
    loiter = None if noise.loiter is None else noise.loiter[jj, rr]
    for i in range(n_steps):
        struck = step(
            s,
            model,
            dt,
            turn_inc[i],
            jump[i],
            None if loiter is None else loiter[i],
            steer,
        )
        X[i + 1], Y[i + 1] = s.x, s.y
        if struck is not None and struck.any():
            strike_step[struck] = i + 1
            s.x[struck] = np.nan
            s.y[struck] = np.nan
    strike_zone = np.where(strike_step >= 0, s.target, -1)
    return Forecast(X, Y, dt, strike_step, strike_zone)


def _steer(
    s: RouteState, model: RouteModel, dt: float, zone_cx: np.ndarray, zone_cy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Steering inputs for samples with a target (None when no sample has one)."""
    has = s.target >= 0
    if not has.any():
        return None
    ti = np.where(has, s.target, 0)
    g = 1.0 - math.exp(-dt / model.target_tau_s) if model.target_tau_s > 0 else 1.0
    return zone_cx[ti], zone_cy[ti], np.where(has, g, 0.0), (s.speed * dt) ** 2


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 arrays (multiplication wraps)."""
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def counter_uniforms(
    keys: np.ndarray, steps: np.ndarray, n_samples: int, n_streams: int, seed: int = 0
) -> np.ndarray:
    """Uniforms in (0, 1), shape (n_streams, len(keys), n_samples), each a hash of (seed,
    key, step, stream, sample) alone (counter-based, splitmix64): a ghost's noise at its
    k-th step since its loss is the same whatever other ghosts exist or were drawn before."""
    k = _mix64(np.asarray(keys, np.int64).astype(np.uint64) * _GOLD + np.uint64(seed))
    k = _mix64(k ^ (np.asarray(steps, np.int64).astype(np.uint64) * _MIX1))[None, :, None]
    st = (np.arange(n_streams, dtype=np.uint64) * _MIX2)[:, None, None]
    j = (np.arange(n_samples, dtype=np.uint64) * _GOLD)[None, None, :]
    z = _mix64(_mix64(k ^ st) + j)
    return ((z >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def advance(
    s: RouteState,
    model: RouteModel,
    dt: float,
    n_steps: np.ndarray,
    keys: np.ndarray,
    step0: np.ndarray,
    zone_cx: np.ndarray,
    zone_cy: np.ndarray,
    seed: int = 0,
) -> None:
    """Advance ghost clouds in place by ``n_steps`` (per track) steps of fresh noise; the
    noise of ghost ``keys[g]``'s step ``step0[g] + i`` is :func:`counter_uniforms` of that
    key and step, so no ghost's cloud depends on the others. (Stratifying a step's turn,
    dogleg and loiter draws over a cloud's samples, session 23, made every step dogleg about
    p x 48 samples instead of often none: clouds left live acoustic coverage more often and
    ghosts lived on; rockets 150 km apart 3.54 -> 7.02x the oracle, foreign seed 10 2.128 ->
    2.186x, seed 11 one more impact missed; seed 23 4.90 -> 4.77x.)"""
    if len(s) == 0 or n_steps.max(initial=0) <= 0:
        return
    s.x[~s.alive] = np.nan
    s.y[~s.alive] = np.nan
    steer = _steer(s, model, dt, zone_cx, zone_cy)
    step0 = np.asarray(step0, np.int64)
    for i in range(int(n_steps.max())):
        act = (n_steps > i)[:, None]
        keep = RouteState(*(getattr(s, f).copy() for f in RouteState.__dataclass_fields__))
        u = counter_uniforms(keys, step0 + i, s.x.shape[1], 5, seed)
        normal = np.sqrt(-2.0 * np.log(u[0])) * np.cos(2.0 * np.pi * u[1])  # Box-Muller
        nz = StepNoise.from_uniforms(model, dt, normal, u[2], 2.0 * u[3] - 1.0, u[4])
        struck = step(s, model, dt, nz.turn_inc, nz.jump, nz.loiter, steer)
        if struck is not None:
            s.x[struck] = np.nan
            s.y[struck] = np.nan
        for f in RouteState.__dataclass_fields__:
            setattr(s, f, np.where(act, getattr(s, f), getattr(keep, f)))
