"""The sensor network: acoustic posts near people and along approach corridors, radars spread
over the defended area, and which sensors go down for a while during the night."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from airwarn.geo import LocalFrame
from airwarn.sim.params import SimParams
from airwarn.sim.theatre import Theatre


@dataclass
class Network:
    """Registered sensors as columns (local frame), with their reporting schedules."""

    ids: list[str]
    kind: np.ndarray  # (S,) object: "acoustic" | "radar"
    x: np.ndarray
    y: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    range_m: np.ndarray
    alt_m: np.ndarray  # NaN: not given
    sigma_m: np.ndarray  # acoustic: the sigma it reports with
    period_s: np.ndarray  # report period (acoustic) or scan period (radar)
    phase_s: np.ndarray  # offset of the report/scan grid
    hb_phase_s: np.ndarray  # offset of the heartbeat grid
    out_start: np.ndarray  # outage start (NaN: none)
    out_end: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def down(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Whether sensor ``idx`` is down at time ``t`` (vectorised)."""
        s, e = self.out_start[idx], self.out_end[idx]
        return (t >= s) & (t < e)  # NaN compares False

    def outages(self) -> list[dict]:
        """Outage periods as JSON-able dicts (for scenario.json)."""
        i = np.flatnonzero(np.isfinite(self.out_start))
        return [
            {"sensor": self.ids[k], "start": round(float(self.out_start[k]), 3),
             "end": round(float(self.out_end[k]), 3)}
            for k in i
        ]  # fmt: skip


def _corridor_points(
    p: SimParams, th: Theatre, frame: LocalFrame, rng: np.random.Generator, n: int, inside
) -> np.ndarray:
    """Points along approach corridors (launch area -> big city), inside the defended area."""
    sl = np.array([s.lat for s in th.drone_sites])
    so = np.array([s.lon for s in th.drone_sites])
    sx, sy = frame.to_local(sl, so)
    ti = th.targets()
    tx, ty = frame.to_local(th.places_lat[ti], th.places_lon[ti])
    tw = th.places_pop[ti].astype(float)
    tw /= tw.sum()
    got: list[np.ndarray] = []
    have = 0
    for _ in range(20):
        if have >= n:
            break
        m = 4 * (n - have) + 16
        a = rng.integers(len(sx), size=m)
        b = rng.choice(len(tx), size=m, p=tw)
        f = rng.uniform(0.05, 0.7, m)
        dx, dy = tx[b] - sx[a], ty[b] - sy[a]
        d = np.maximum(np.hypot(dx, dy), 1.0)
        off = rng.normal(0, 15_000, m)
        px = sx[a] + f * dx - off * dy / d
        py = sy[a] + f * dy + off * dx / d
        ok = inside(px, py)
        pts = np.column_stack([px[ok], py[ok]])
        got.append(pts)
        have += len(pts)
    pts = np.vstack(got) if got else np.zeros((0, 2))
    return pts[:n]


def _spread(
    x: np.ndarray, y: np.ndarray, n: int, rng: np.random.Generator, w: np.ndarray
) -> np.ndarray:
    """Greedy farthest-point choice of ``n`` of the points (randomised), for radar sites."""
    n = min(n, len(x))
    if n <= 0:
        return np.zeros(0, np.int64)
    chosen = [int(rng.choice(len(x), p=w / w.sum()))]
    dmin = np.hypot(x - x[chosen[0]], y - y[chosen[0]])
    for _ in range(n - 1):
        k = int(np.argmax(dmin * rng.uniform(0.75, 1.0, len(x))))
        chosen.append(k)
        dmin = np.minimum(dmin, np.hypot(x - x[k], y - y[k]))
    return np.array(chosen, np.int64)


def build_network(
    p: SimParams, th: Theatre, frame: LocalFrame, rng: np.random.Generator, t0: float, t1: float
) -> Network:
    """Place acoustic posts and radars; draw their schedules and outages. Radars draw from
    a generator of their own, so one seed gives the same radars whatever the post count."""
    r_rad = rng.spawn(1)[0]  # a child stream: the posts' draws stay as they were
    inside = th.defended(frame)
    px, py = frame.to_local(th.places_lat, th.places_lon)
    pop = th.places_pop.astype(float)
    # acoustic posts: most near populated places, the rest along approach corridors
    n_ac = max(0, th.acoustic_posts(p.acoustic))
    n_near = int(round(n_ac * p.acoustic_near_places))
    corr = _corridor_points(p, th, frame, rng, n_ac - n_near, inside)
    n_near = n_ac - len(corr)
    w = np.sqrt(pop)
    k = rng.choice(len(px), size=n_near, p=w / w.sum())
    spread = 2500.0 + 6000.0 * np.minimum(1.0, pop[k] / 1e6)
    ax = np.concatenate([px[k] + rng.normal(0, 1, n_near) * spread, corr[:, 0]])
    ay = np.concatenate([py[k] + rng.normal(0, 1, n_near) * spread, corr[:, 1]])
    a_rng = rng.uniform(*p.acoustic_range_m, n_ac)
    a_sig = a_rng * rng.uniform(*p.acoustic_sigma_frac, n_ac)
    a_per = rng.uniform(*p.acoustic_period_s, n_ac)
    # radars: spread over the defended area
    ri = _spread(px, py, int(p.radars), r_rad, np.sqrt(pop))
    n_r = len(ri)
    rx = px[ri] + r_rad.normal(0, 3000, n_r)
    ry = py[ri] + r_rad.normal(0, 3000, n_r)
    r_rng = r_rad.uniform(*p.radar_range_m, n_r)
    r_alt = r_rad.uniform(*p.radar_mast_m, n_r)
    r_per = r_rad.uniform(*p.radar_period_s, n_r)

    x = np.concatenate([ax, rx])
    y = np.concatenate([ay, ry])
    lat, lon = frame.to_geo(x, y) if len(x) else (np.zeros(0), np.zeros(0))
    period = np.concatenate([a_per, r_per])
    # outages and phases: posts from their stream, radars from theirs
    sched = [_schedules(p, g, per, t0, t1) for g, per in ((rng, a_per), (r_rad, r_per))]
    out_start, out_end, phase, hb_phase = (np.concatenate(c) for c in zip(*sched, strict=True))
    ids = [f"ac{i:05d}" for i in range(n_ac)] + [f"radar{i:03d}" for i in range(n_r)]
    return Network(
        ids=ids,
        kind=np.array(["acoustic"] * n_ac + ["radar"] * n_r, dtype=object),
        x=x,
        y=y,
        lat=np.asarray(lat, float),
        lon=np.asarray(lon, float),
        range_m=np.concatenate([a_rng, r_rng]),
        alt_m=np.concatenate([np.full(n_ac, np.nan), r_alt]),
        sigma_m=np.concatenate([a_sig, np.full(n_r, np.nan)]),
        period_s=period,
        phase_s=phase,
        hb_phase_s=hb_phase,
        out_start=out_start,
        out_end=out_end,
    )


def _schedules(
    p: SimParams, g: np.random.Generator, period: np.ndarray, t0: float, t1: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Outage start and end (NaN: none), report phase and heartbeat phase of sensors with
    report ``period``, drawn from ``g``."""
    n = len(period)
    has_out = g.random(n) < p.sensor_outage_p
    dur = g.uniform(*p.sensor_outage_s, n)
    start = t0 + g.random(n) * np.maximum(0.0, (t1 - t0) - dur)
    phase = g.random(n) * period
    hb_phase = g.random(n) * p.heartbeat_s
    return (
        np.where(has_out, start, np.nan),
        np.where(has_out, start + dur, np.nan),
        phase,
        hb_phase,
    )
