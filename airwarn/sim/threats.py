"""Threat flight paths: Shahed-type drones, cruise and ballistic missiles, in the local frame.

Each threat is sampled finely for the sensor models (``Raid`` columns, all threats
concatenated) and more coarsely for ``truth.jsonl``. Drones and cruise missiles fly
constant ground speed along multi-leg routes (doglegs around defences); ballistic
missiles fly a 3-D arc: ascent under gravity to the apogee, then a descent slowed by
aerodynamic lift and drag (quasi-ballistic, Iskander-M type).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from airwarn.geo import LocalFrame
from airwarn.sim.params import SimParams
from airwarn.sim.theatre import Site, Theatre

G = 9.80665


@dataclass
class Raid:
    """All threats: per-threat metadata plus concatenated fine samples (local frame)."""

    ids: list[str] = field(default_factory=list)
    cls: list[str] = field(default_factory=list)
    fate: list[str] = field(default_factory=list)
    impact_xy: list[tuple[float, float, float] | None] = field(default_factory=list)
    """(t, x, y) of the impact, or None."""
    launch_site: list[str] = field(default_factory=list)
    target: list[str] = field(default_factory=list)
    truth_idx: list[np.ndarray] = field(default_factory=list)
    """Per threat: indices into the fine samples written to truth.jsonl."""
    tid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    z: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vx: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vy: np.ndarray = field(default_factory=lambda: np.zeros(0))
    vz: np.ndarray = field(default_factory=lambda: np.zeros(0))
    dt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Per sample: the sampling step of its threat (s)."""

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class _Path:
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    cls: str
    fate: str
    impact: tuple[float, float, float] | None
    site: str
    target: str
    dt: float
    truth_dt: float


def _xy(frame: LocalFrame, sites: list[Site]) -> np.ndarray:
    lat = np.array([s.lat for s in sites], float)
    lon = np.array([s.lon for s in sites], float)
    x, y = frame.to_local(lat, lon)
    return np.column_stack([x, y])


def _dogleg_route(
    a: np.ndarray, b: np.ndarray, n_mid: int, dogleg: float, rng: np.random.Generator
) -> np.ndarray:
    """Polyline a -> n_mid dogleg waypoints -> b (k x 2)."""
    d = b - a
    dist = float(np.hypot(*d))
    if n_mid <= 0 or dist < 1.0:
        return np.vstack([a, b])
    u = np.sort(rng.uniform(0.12, 0.88, n_mid))
    normal = np.array([-d[1], d[0]]) / dist
    off = np.clip(rng.normal(0.0, dogleg * dist, n_mid), -0.35 * dist, 0.35 * dist)
    mids = a + u[:, None] * d + off[:, None] * normal
    return np.vstack([a, mids, b])


def _sample_polyline(
    pts: np.ndarray, speed: float, t0: float, dt: float, s_knots: np.ndarray, z_knots: np.ndarray
):
    """Constant ground speed along a polyline; altitude piecewise linear in distance."""
    seg = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(cum[-1])
    s = np.arange(0.0, length, speed * dt)
    if s.size == 0 or s[-1] < length:
        s = np.append(s, length)
    x = np.interp(s, cum, pts[:, 0])
    y = np.interp(s, cum, pts[:, 1])
    z = np.interp(s, s_knots, z_knots)
    return t0 + s / speed, x, y, z, s, length, cum


def _fit(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    """Launch earlier (not before t0) so that the flight ends a minute before t1."""
    over = float(t[-1]) - (t1 - 60.0)
    if over <= 0:
        return t
    return t - max(0.0, min(over, float(t[0]) - t0))


def _cut(path: tuple, i: int) -> tuple:
    return tuple(a[: i + 1] for a in path)


def _pick_cut(
    s: np.ndarray, length: float, x, y, inside, frac: tuple[float, float], rng
) -> int | None:
    """Index where a threat comes down: inside the defended area, preferably within ``frac``
    of the route, else anywhere inside before its end; None if it never enters the area."""
    idx = np.flatnonzero(s < length)
    if idx.size == 0:
        return None
    sub = idx[:: max(1, idx.size // 800)]
    ins = sub[inside(x[sub], y[sub])]
    ins = ins[ins > 0]
    if ins.size == 0:
        return None
    pref = ins[(s[ins] >= frac[0] * length) & (s[ins] <= frac[1] * length)]
    return int(rng.choice(pref if pref.size else ins))


def _choose_target(
    src: np.ndarray,
    speed: float,
    budget_s: float,
    tx: np.ndarray,
    ty: np.ndarray,
    tw: np.ndarray,
    rng: np.random.Generator,
    *,
    detour: float = 1.3,
    max_range: float | None = None,
    min_range: float = 0.0,
) -> int:
    """A target weighted by population among those reachable in time (else the nearest)."""
    d = np.hypot(tx - src[0], ty - src[1])
    ok = (d * detour / speed <= budget_s) & (d >= min_range)
    if max_range is not None:
        ok &= d <= max_range
    if not ok.any():
        return int(np.argmin(d if max_range is None else np.abs(d - 0.5 * (min_range + max_range))))
    w = tw * ok
    return int(rng.choice(len(tw), p=w / w.sum()))


def _drones(
    p: SimParams,
    th: Theatre,
    frame: LocalFrame,
    rng: np.random.Generator,
    tgt: tuple,
    inside,
    t0: float,
    t1: float,
    n: int,
    cls: str,
    speed_kmh: tuple[float, float],
) -> list[_Path]:
    """Shahed-type drones launched in waves from the theatre's launch areas."""
    if n <= 0:
        return []
    tx, ty, tw, tnames = tgt
    sites = [s for s in th.drone_sites if not p.drone_sites or s.name in p.drone_sites]
    if not sites:
        known = [s.name for s in th.drone_sites]
        raise ValueError(f"SimParams.drone_sites: none of {p.drone_sites} in {known}")
    sxy = _xy(frame, sites)
    sw = np.array([s.weight for s in sites], float)
    exy = _xy(frame, th.exits)
    H = t1 - t0
    waves = max(1, p.waves)
    lo, hi = p.wave_window
    starts = t0 + H * np.linspace(lo, hi, waves)
    starts += rng.uniform(0, 0.05 * H, waves) * (waves > 1)
    wave_sites = []
    for _ in range(waves):
        k = int(min(len(sites), rng.integers(2, 5)))
        wave_sites.append(rng.choice(len(sites), size=k, replace=False, p=sw / sw.sum()))
    counts = rng.multinomial(n, rng.dirichlet(np.full(waves, 3.0)))
    wave_of = np.repeat(np.arange(waves), counts)
    alo, ahi = p.drone_alt_m
    out: list[_Path] = []
    for w in wave_of:
        ws = wave_sites[w]
        si = int(rng.choice(ws, p=sw[ws] / sw[ws].sum()))
        src = sxy[si] + rng.normal(0, 8000, 2)
        launch = starts[w] + rng.uniform(0, min(p.wave_spread_s, 0.2 * H))
        v = rng.uniform(*speed_kmh) / 3.6
        ti = _choose_target(src, v, t1 - launch - 600, tx, ty, tw, rng)
        aim = np.array([tx[ti], ty[ti]]) + rng.normal(0, p.impact_scatter_m, 2)
        u = rng.random()
        fate = (
            "downed"
            if u < p.p_drone_downed
            else "left"
            if u < p.p_drone_downed + p.p_drone_left
            else "lost"
            if u < p.p_drone_downed + p.p_drone_left + p.p_drone_lost
            else "impact"
        )
        n_mid = int(rng.integers(p.drone_waypoints[0], p.drone_waypoints[1] + 1))
        if fate == "left":
            f = rng.uniform(0.3, 0.7)
            mid = src + f * (aim - src)
            ex = exy[int(np.argmin(np.hypot(exy[:, 0] - mid[0], exy[:, 1] - mid[1])))]
            dirn = ex - mid
            beyond = ex + 20_000 * dirn / max(1.0, float(np.hypot(*dirn)))
            pts = np.vstack(
                [_dogleg_route(src, mid, max(0, n_mid - 1), p.dogleg_frac, rng), ex, beyond]
            )
        else:
            pts = _dogleg_route(src, aim, n_mid, p.dogleg_frac, rng)
        seg = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        length = float(cum[-1])
        # altitude regime: low, medium or high flyer, varying per waypoint
        r = rng.random()
        band = (0.0, 0.1) if r < 0.25 else (0.1, 0.6) if r < 0.7 else (0.6, 1.0)
        zlo, zhi = alo + band[0] * (ahi - alo), alo + band[1] * (ahi - alo)
        wz = rng.uniform(zlo, zhi, len(pts))
        s_climb = min(v * 420.0, 0.15 * length)  # ~5 m/s climb to cruise altitude
        s_dive = min(v * 40.0, 0.05 * length)
        sk = np.concatenate([[0.0, s_climb], cum[1:-1], [length - s_dive, length]])
        zk = np.concatenate([[0.0, wz[0]], wz[1:-1], [wz[-1], 0.0 if fate == "impact" else wz[-1]]])
        order = np.argsort(sk, kind="stable")
        sk, zk = sk[order], zk[order]
        dt = p.sample_dt_s["drone"]
        t, x, y, z, s, length, _ = _sample_polyline(pts, v, launch, dt, sk, zk)
        t = _fit(t, t0, t1)
        impact = None
        if fate in ("downed", "lost"):
            frac = p.downed_at if fate == "downed" else (0.3, 0.95)
            j = _pick_cut(s, length, x, y, inside, frac, rng)
            if j is None:  # never over the defended area: it strikes, diving over 40 s
                fate = "impact"
                z = z * np.clip((t[-1] - t) / 40.0, 0.0, 1.0)
            else:
                t, x, y, z = _cut((t, x, y, z), j)
                if fate == "lost":  # glides down off-target over the last 30 s
                    z = z * np.clip((t[-1] - t) / 30.0, 0.0, 1.0)
        if fate == "lost":
            fate = "impact"
        if fate == "impact":
            impact = (float(t[-1]), float(x[-1]), float(y[-1]))
        out.append(
            _Path(
                t, x, y, z, cls, fate, impact, sites[si].name, str(tnames[ti]), dt,
                p.truth_dt_s["drone"],
            )
        )  # fmt: skip
    return out


def _cruise(
    p: SimParams, th: Theatre, frame: LocalFrame, rng, tgt: tuple, inside, t0: float, t1: float
) -> list[_Path]:
    """Kh-101 type cruise missiles released by bombers, low-level over the defended area."""
    if p.cruise <= 0:
        return []
    tx, ty, tw, tnames = tgt
    sites = th.cruise_sites
    sxy = _xy(frame, sites)
    sw = np.array([s.weight for s in sites], float)
    H = t1 - t0
    release = t0 + p.cruise_launch_at * H
    used = rng.choice(len(sites), size=min(2, len(sites)), replace=False, p=sw / sw.sum())
    tw2 = tw**1.25  # big cities and infrastructure
    out = []
    for _ in range(p.cruise):
        si = int(rng.choice(used))
        src = sxy[si] + rng.normal(0, 20_000, 2)
        launch = release + rng.uniform(-600, 600)
        v = rng.uniform(*p.cruise_speed_ms)
        ti = _choose_target(src, v, t1 - launch - 300, tx, ty, tw2, rng, detour=1.4)
        aim = np.array([tx[ti], ty[ti]]) + rng.normal(0, 300, 2)
        n_mid = int(rng.integers(p.cruise_waypoints[0], p.cruise_waypoints[1] + 1))
        pts = _dogleg_route(src, aim, n_mid, p.dogleg_frac * 1.3, rng)
        seg = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        length = float(cum[-1])
        wz = rng.uniform(*p.cruise_alt_m, len(pts))
        s_low = min(80_000.0, 0.2 * length)
        mids = cum[1:-1]
        mids = mids[mids > s_low]
        sk = np.concatenate([[0.0, s_low], mids, [max(s_low, length - 3 * v), length]])
        zk = np.concatenate([[p.cruise_release_alt_m, wz[0]], wz[1 : 1 + mids.size], [wz[-1], 0.0]])
        dt = p.sample_dt_s["cruise"]
        t, x, y, z, s, length, _ = _sample_polyline(pts, v, launch, dt, sk, zk)
        t = _fit(t, t0, t1)
        fate, impact = "impact", None
        if rng.random() < p.p_cruise_downed:
            j = _pick_cut(s, length, x, y, inside, (0.4, 0.98), rng)
            if j is not None:
                t, x, y, z = _cut((t, x, y, z), j)
                fate = "downed"
        if fate == "impact":
            impact = (float(t[-1]), float(x[-1]), float(y[-1]))
        out.append(
            _Path(
                t, x, y, z, "cruise", fate, impact, sites[si].name, str(tnames[ti]), dt,
                p.truth_dt_s["cruise"],
            )
        )  # fmt: skip
    return out


def ballistic_arc(
    D: float, apogee: float, flight_s: float, dt: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time since launch, ground distance, altitude) of a quasi-ballistic arc.

    Ascent under gravity to ``apogee`` (t_a = sqrt(2 h / g)); descent over the rest of
    ``flight_s`` with a constant effective deceleration (lift and drag slow the fall).
    Ground speed is constant. ``flight_s`` is raised to at least 2 t_a.
    """
    ta = float(np.sqrt(2.0 * apogee / G))
    T = max(flight_s, 2.0 * ta)
    td = T - ta
    gd = 2.0 * apogee / td**2
    tt = np.arange(0.0, T, dt)
    if tt[-1] < T:
        tt = np.append(tt, T)
    z = np.where(tt <= ta, apogee - 0.5 * G * (ta - tt) ** 2, apogee - 0.5 * gd * (tt - ta) ** 2)
    z = np.maximum(z, 0.0)
    z[-1] = 0.0
    return tt, D * tt / T, z


def _ballistic(
    p: SimParams, th: Theatre, frame: LocalFrame, rng, tgt: tuple, t0: float, t1: float
) -> list[_Path]:
    """Iskander-M type ballistic missiles from launch areas within range of their targets."""
    if p.ballistic <= 0:
        return []
    tx, ty, tw, tnames = tgt
    sites = th.ballistic_sites
    sxy = _xy(frame, sites)
    H = t1 - t0
    base = t0 + p.ballistic_launch_at * H
    rmin, rmax = p.ballistic_range_m
    out = []
    for _ in range(p.ballistic):
        si = int(rng.integers(len(sites)))
        src = sxy[si] + rng.normal(0, 10_000, 2)
        launch = base + rng.uniform(-900, 900)
        ti = _choose_target(
            src, 1.0, np.inf, tx, ty, tw, rng, detour=1.0, max_range=rmax, min_range=rmin
        )
        aim = np.array([tx[ti], ty[ti]]) + rng.normal(0, 50, 2)
        d = aim - src
        D = float(np.hypot(*d))
        f = np.clip((D - rmin) / max(1.0, rmax - rmin), 0.0, 1.0)
        lo, hi = p.ballistic_flight_s
        T = lo + f * (hi - lo) + rng.uniform(-10, 10)
        apo = rng.uniform(*p.ballistic_apogee_m)
        dt = p.sample_dt_s["ballistic"]
        tt, s, z = ballistic_arc(D, apo, T, dt)
        u = d / max(D, 1.0)
        t, x, y = launch + tt, src[0] + s * u[0], src[1] + s * u[1]
        fate, impact = "impact", None
        if rng.random() < p.p_ballistic_downed:
            # intercepted on the way down (terminal phase for Patriot-type defences)
            zlo, zhi = p.ballistic_intercept_alt_m
            desc = np.flatnonzero((tt > tt[-1] / 2) & (z > zlo) & (z < zhi))
            if desc.size:
                j = int(rng.choice(desc))
                t, x, y, z = t[: j + 1], x[: j + 1], y[: j + 1], z[: j + 1]
                fate = "downed"
        if fate == "impact":
            impact = (float(t[-1]), float(x[-1]), float(y[-1]))
        out.append(
            _Path(
                t, x, y, z, "ballistic", fate, impact, sites[si].name, str(tnames[ti]), dt,
                p.truth_dt_s["ballistic"],
            )
        )  # fmt: skip
    return out


def _truth_index(n: int, dt: float, truth_dt: float) -> np.ndarray:
    step = max(1, int(round(truth_dt / dt)))
    idx = np.arange(0, n, step)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return idx


def build_raid(
    p: SimParams, th: Theatre, frame: LocalFrame, rng: np.random.Generator, t0: float, t1: float
) -> Raid:
    """Generate every threat's path for the window [t0, t1] (launches fit inside it)."""
    ti = th.targets(p.target_min_pop)
    tx, ty = frame.to_local(th.places_lat[ti], th.places_lon[ti])
    tw = th.places_pop[ti].astype(float) ** p.target_pop_power
    tgt = (tx, ty, tw, th.places_name[ti])
    inside = th.defended(frame)
    paths = _drones(p, th, frame, rng, tgt, inside, t0, t1, p.drones, "drone", p.drone_speed_kmh)
    paths += _drones(
        p, th, frame, rng, tgt, inside, t0, t1, p.jet_drones, "jet_drone", p.jet_drone_speed_kmh
    )
    paths += _cruise(p, th, frame, rng, tgt, inside, t0, t1)
    paths += _ballistic(p, th, frame, rng, tgt, t0, t1)
    return _assemble(paths)


def build_aircraft(
    p: SimParams, th: Theatre, frame: LocalFrame, rng: np.random.Generator, t0: float, t1: float
) -> Raid:
    """Own aircraft on patrol (helicopters and fighters hunting drones): not threats, so not
    in truth.jsonl, but radars plot them and acoustic posts hear them."""
    if p.aircraft <= 0:
        return Raid()
    inside = th.defended(frame)
    px, py = frame.to_local(th.places_lat, th.places_lon)
    paths = []
    for _ in range(p.aircraft):
        heli = rng.random() < 0.6
        v = rng.uniform(50.0, 70.0) if heli else rng.uniform(180.0, 250.0)
        zlo, zhi = (100.0, 600.0) if heli else (2000.0, 8000.0)
        k = int(rng.integers(len(px)))
        c = np.array([px[k], py[k]])
        span = 40_000.0 if heli else 150_000.0
        pts = [c]
        for _ in range(int(rng.integers(3, 7))):
            q = c + rng.uniform(-span, span, 2)
            if inside(q[:1], q[1:])[0]:
                pts.append(q)
        pts.append(c)
        pts = np.array(pts)
        if len(pts) < 3:
            pts = np.vstack([c, c + [span / 4, 0.0], c])
        seg = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        zk = np.concatenate([[0.0], rng.uniform(zlo, zhi, len(pts) - 2), [0.0]])
        start = t0 + rng.random() * max(60.0, (t1 - t0) - cum[-1] / v)
        t, x, y, z, *_ = _sample_polyline(pts, v, start, p.sample_dt_s["cruise"], cum, zk)
        paths.append(
            _Path(t, x, y, z, "aircraft", "left", None, "patrol", "patrol",
                  p.sample_dt_s["cruise"], p.truth_dt_s["cruise"])
        )  # fmt: skip
    return _assemble(paths)


def _assemble(paths: list[_Path]) -> Raid:
    """Concatenate paths into a Raid (ids per class, velocities by finite differences)."""
    raid = Raid()
    prefix = {"drone": "D", "jet_drone": "J", "cruise": "CM", "ballistic": "BM", "aircraft": "AC"}
    counters: dict[str, int] = {}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("tid", "t", "x", "y", "z", "dt")}
    vel: dict[str, list[np.ndarray]] = {"vx": [], "vy": [], "vz": []}
    off = 0
    for k, pa in enumerate(paths):
        counters[pa.cls] = counters.get(pa.cls, 0) + 1
        raid.ids.append(f"{prefix[pa.cls]}{counters[pa.cls]:04d}")
        raid.cls.append(pa.cls)
        raid.fate.append(pa.fate)
        raid.impact_xy.append(pa.impact)
        raid.launch_site.append(pa.site)
        raid.target.append(pa.target)
        n = len(pa.t)
        raid.truth_idx.append(off + _truth_index(n, pa.dt, pa.truth_dt))
        off += n
        cols["tid"].append(np.full(n, k, np.int64))
        cols["t"].append(pa.t)
        cols["x"].append(pa.x)
        cols["y"].append(pa.y)
        cols["z"].append(pa.z)
        cols["dt"].append(np.full(n, pa.dt))
        for a, name in ((pa.x, "vx"), (pa.y, "vy"), (pa.z, "vz")):
            if n > 1:
                dv = np.diff(a) / np.maximum(np.diff(pa.t), 1e-6)
                vel[name].append(np.append(dv, dv[-1]))
            else:
                vel[name].append(np.zeros(n))
    if paths:
        for name, parts in {**cols, **vel}.items():
            setattr(raid, name, np.concatenate(parts))
    return raid
