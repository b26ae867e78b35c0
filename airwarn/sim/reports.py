"""Sensor reports: what acoustic posts, radars and human observers send, when it arrives.

Every generator works on all fine threat samples at once (numpy, KD-trees) and returns
columns. :func:`heartbeat_lines` adds heartbeats; :func:`deliver` adds latency, duplicates and
puts every line in arrival order, with no line more than ``max_lag_s`` older than its
arrival (so never more than 60 s older than what arrived before it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from airwarn.contracts import CLS_CODE
from airwarn.geo import radar_horizon_m
from airwarn.sim.network import Network
from airwarn.sim.params import SimParams
from airwarn.sim.theatre import Theatre
from airwarn.sim.threats import Raid

HEARTBEAT, ACOUSTIC, RADAR, OBSERVER = 0, 1, 2, 3
KIND_NAMES = ("heartbeat", "acoustic", "radar", "observer")
AUDIBLE = ("drone", "jet_drone", "cruise", "aircraft")
"""Classes that acoustic posts and people on the ground can hear."""

_COLS = ("t", "x", "y", "z", "sigma", "sigma_z", "vx", "vy", "vz")
_ICOLS = ("kind", "sensor", "cls", "threat")


@dataclass
class Lines:
    """Columns of detections.jsonl lines. Float columns are NaN when absent; ``cls`` is
    -1 without a hint; ``sensor`` indexes the scenario's sensor name table; ``threat``
    is the true threat index (-1 for false reports and heartbeats)."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    sigma: np.ndarray
    sigma_z: np.ndarray
    vx: np.ndarray
    vy: np.ndarray
    vz: np.ndarray
    kind: np.ndarray
    sensor: np.ndarray
    cls: np.ndarray
    threat: np.ndarray

    @classmethod
    def make(klass, n: int, kind: int, **cols) -> Lines:  # noqa: N804 (a column is "cls")
        nan = np.full(n, np.nan)
        d = {c: np.asarray(cols.get(c, nan), float) for c in _COLS}
        d["kind"] = np.full(n, kind, np.int64)
        d["sensor"] = np.asarray(cols.get("sensor", np.full(n, -1)), np.int64)
        d["cls"] = np.asarray(cols.get("cls", np.full(n, -1)), np.int64)
        d["threat"] = np.asarray(cols.get("threat", np.full(n, -1)), np.int64)
        return klass(**d)

    @classmethod
    def concat(cls, parts: list[Lines]) -> Lines:
        return cls(**{c: np.concatenate([getattr(p, c) for p in parts]) for c in _COLS + _ICOLS})

    def take(self, idx: np.ndarray) -> Lines:
        return Lines(**{c: getattr(self, c)[idx] for c in _COLS + _ICOLS})

    def __len__(self) -> int:
        return int(self.t.shape[0])


def _hint(
    true_cls: np.ndarray, table: dict[str, dict[str, float]], rng: np.random.Generator
) -> np.ndarray:
    """Draw a class hint code per report from ``table[true class] = {hint: prob}``."""
    out = np.full(true_cls.shape[0], CLS_CODE["unknown"], np.int64)
    u = rng.random(true_cls.shape[0])
    for c, probs in table.items():
        m = true_cls == CLS_CODE[c]
        acc = 0.0
        for h, pr in probs.items():
            sel = m & (u >= acc) & (u < acc + pr)
            out[sel] = CLS_CODE[h] if h is not None else -1
            acc += pr
    return out


ACOUSTIC_HINTS = {
    "drone": {"drone": 0.6, "jet_drone": 0.05, "unknown": 0.35},
    "jet_drone": {"jet_drone": 0.5, "cruise": 0.1, "unknown": 0.4},
    "cruise": {"jet_drone": 0.35, "cruise": 0.25, "unknown": 0.4},
    "aircraft": {"aircraft": 0.3, "jet_drone": 0.2, "unknown": 0.5},
}
OBSERVER_HINTS = {
    "drone": {"drone": 0.7, "unknown": 0.3},
    "jet_drone": {"jet_drone": 0.4, "drone": 0.2, "unknown": 0.4},
    "cruise": {"cruise": 0.4, "jet_drone": 0.2, "unknown": 0.4},
}


def acoustic_reports(
    p: SimParams, net: Network, raid: Raid, rng: np.random.Generator, t0: float, t1: float
) -> Lines:
    """Posts hearing threats within slant range, once per report period; plus false alarms."""
    acs = np.flatnonzero(net.kind == "acoustic")
    parts: list[Lines] = []
    cls_code = np.array([CLS_CODE[c] for c in raid.cls], np.int64)
    if acs.size and len(raid.t):
        aud = np.flatnonzero(np.isin(cls_code[raid.tid], [CLS_CODE[c] for c in AUDIBLE]))
        if aud.size:
            tree = cKDTree(np.column_stack([raid.x[aud], raid.y[aud]]))
            hits = tree.query_ball_point(
                np.column_stack([net.x[acs], net.y[acs]]), r=net.range_m[acs]
            )
            lens = np.fromiter((len(h) for h in hits), np.int64, len(hits))
            post = np.repeat(acs, lens)
            smp = aud[np.fromiter((i for h in hits for i in h), np.int64, int(lens.sum()))]
            ok = (
                np.hypot(
                    np.hypot(raid.x[smp] - net.x[post], raid.y[smp] - net.y[post]), raid.z[smp]
                )
                <= net.range_m[post]
            )
            post, smp = post[ok], smp[ok]
            t = raid.t[smp]
            ok = ~net.down(post, t)
            post, smp, t = post[ok], smp[ok], t[ok]
            slot = np.floor((t - t0 - net.phase_s[post]) / net.period_s[post]).astype(np.int64)
            order = np.lexsort((smp, t))
            key = post[order] * 10_000_000 + (slot[order] + 1)
            _, first = np.unique(key, return_index=True)
            sel = order[first]
            sel = sel[rng.random(sel.size) < p.acoustic_pd]
            sel = np.sort(sel)
            post, smp = post[sel], smp[sel]
            n = post.size
            tr = raid.tid[smp]
            parts.append(
                Lines.make(
                    n,
                    ACOUSTIC,
                    t=raid.t[smp] + rng.uniform(0, 1.0, n) * raid.dt[smp],
                    x=net.x[post],
                    y=net.y[post],
                    sigma=net.sigma_m[post],
                    sensor=post,
                    cls=_hint(cls_code[tr], ACOUSTIC_HINTS, rng),
                    threat=tr,
                )
            )
    # false alarms: generators, motorbikes, echoes; bursts of 1-3 reports
    hours = (t1 - t0) / 3600.0
    k = rng.poisson(p.acoustic_false_per_h * hours, acs.size)
    post = np.repeat(acs, k)
    if post.size:
        te = t0 + rng.random(post.size) * (t1 - t0)
        burst = rng.integers(1, 4, post.size)
        post = np.repeat(post, burst)
        te = np.repeat(te, burst)
        step = np.concatenate([np.arange(b) for b in burst]) * net.period_s[post]
        t = te + step
        ok = (t < t1) & ~net.down(post, t)
        post, t = post[ok], t[ok]
        n = post.size
        hint = np.where(rng.random(n) < 0.4, CLS_CODE["drone"], CLS_CODE["unknown"])
        parts.append(
            Lines.make(
                n, ACOUSTIC, t=t, x=net.x[post], y=net.y[post], sigma=net.sigma_m[post],
                sensor=post, cls=hint,
            )
        )  # fmt: skip
    return Lines.concat(parts) if parts else Lines.make(0, ACOUSTIC)


def radar_reports(
    p: SimParams, net: Network, raid: Raid, rng: np.random.Generator, t0: float, t1: float
) -> Lines:
    """Radar plots once per scan for threats within range and horizon (Pd falls with range);
    position, altitude and velocity with noise; sometimes a class hint; plus clutter."""
    rad = np.flatnonzero(net.kind == "radar")
    cls_code = np.array([CLS_CODE[c] for c in raid.cls], np.int64)
    r50 = np.full(len(CLS_CODE), 0.5)
    for c, f in p.radar_r50.items():
        r50[CLS_CODE[c]] = f
    sel_s: list[np.ndarray] = []
    sel_r: list[np.ndarray] = []
    parts: list[Lines] = []
    for r in rad:
        if not len(raid.t):
            break
        d = np.hypot(raid.x - net.x[r], raid.y - net.y[r])
        vis = (d <= net.range_m[r]) & (d <= radar_horizon_m(net.alt_m[r], raid.z))
        idx = np.flatnonzero(vis)
        if not idx.size:
            continue
        t = raid.t[idx]
        idx = idx[~net.down(np.full(idx.size, r), t)]
        slot = np.floor((raid.t[idx] - t0 - net.phase_s[r]) / net.period_s[r]).astype(np.int64)
        key = raid.tid[idx] * 10_000_000 + (slot + 1)
        _, first = np.unique(key, return_index=True)  # idx is time-sorted within a threat
        idx = idx[first]
        rr = d[idx] / net.range_m[r]
        pd = p.radar_pd / (1.0 + (rr / r50[cls_code[raid.tid[idx]]]) ** 4)
        idx = idx[rng.random(idx.size) < pd]
        sel_s.append(idx)
        sel_r.append(np.full(idx.size, r))
    if sel_s:
        smp = np.concatenate(sel_s)
        rs = np.concatenate(sel_r)
        n = smp.size
        # errors grow with range (fraction of the radar's range)
        f = np.hypot(raid.x[smp] - net.x[rs], raid.y[smp] - net.y[rs]) / net.range_m[rs]
        sig = p.radar_sigma_m[0] + (p.radar_sigma_m[1] - p.radar_sigma_m[0]) * f
        sz = p.radar_sigma_alt_m[0] + (p.radar_sigma_alt_m[1] - p.radar_sigma_alt_m[0]) * f
        sv = p.radar_sigma_vel_ms[0] + (p.radar_sigma_vel_ms[1] - p.radar_sigma_vel_ms[0]) * f
        tr = raid.tid[smp]
        true_c = cls_code[tr]
        hint = np.full(n, -1, np.int64)
        give = rng.random(n) < p.radar_p_cls
        right = rng.random(n) < 0.85
        hint[give & right] = true_c[give & right]
        hint[give & ~right] = CLS_CODE["unknown"]
        parts.append(
            Lines.make(
                n,
                RADAR,
                t=raid.t[smp],
                x=raid.x[smp] + rng.normal(0, 1, n) * sig,
                y=raid.y[smp] + rng.normal(0, 1, n) * sig,
                z=np.maximum(0.0, raid.z[smp] + rng.normal(0, 1, n) * sz),
                sigma=sig,
                sigma_z=sz,
                vx=raid.vx[smp] + rng.normal(0, 1, n) * sv,
                vy=raid.vy[smp] + rng.normal(0, 1, n) * sv,
                vz=raid.vz[smp] + rng.normal(0, 1, n) * sv,
                sensor=rs,
                cls=hint,
                threat=tr,
            )
        )
    # clutter: birds, weather, ground returns; denser near the radar
    scans = (t1 - t0) / net.period_s[rad] if rad.size else np.zeros(0)
    k = rng.poisson(p.radar_clutter_per_scan * scans)
    rs = np.repeat(rad, k)
    if rs.size:
        n = rs.size
        t = t0 + rng.random(n) * (t1 - t0)
        ok = ~net.down(rs, t)
        rs, t = rs[ok], t[ok]
        n = rs.size
        rr = net.range_m[rs] * rng.random(n)
        a = rng.uniform(0, 2 * np.pi, n)
        sp = rng.uniform(0, 40, n)
        b = rng.uniform(0, 2 * np.pi, n)
        f = rr / net.range_m[rs]
        sig = p.radar_sigma_m[0] + (p.radar_sigma_m[1] - p.radar_sigma_m[0]) * f
        parts.append(
            Lines.make(
                n, RADAR, t=t, x=net.x[rs] + rr * np.cos(a), y=net.y[rs] + rr * np.sin(a),
                z=rng.uniform(0, 3000, n), sigma=sig,
                sigma_z=p.radar_sigma_alt_m[0] + (p.radar_sigma_alt_m[1] - p.radar_sigma_alt_m[0]) * f,
                vx=sp * np.cos(b), vy=sp * np.sin(b), vz=rng.normal(0, 2, n), sensor=rs,
                cls=np.where(rng.random(n) < 0.1, CLS_CODE["unknown"], -1),
            )
        )  # fmt: skip
    return Lines.concat(parts) if parts else Lines.make(0, RADAR)


def density_grid(th: Theatre, frame, cell_m: float = 10_000.0):
    """Population within about one cell of a point: a (lookup(x, y) -> people) function."""
    px, py = frame.to_local(th.places_lat, th.places_lon)
    x0, y0 = px.min() - 3 * cell_m, py.min() - 3 * cell_m
    nx = int((px.max() - x0) / cell_m) + 4
    ny = int((py.max() - y0) / cell_m) + 4
    g = np.zeros((nx, ny))
    np.add.at(
        g, (((px - x0) // cell_m).astype(int), ((py - y0) // cell_m).astype(int)), th.places_pop
    )
    s = np.zeros_like(g)  # 3x3 box sum
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            s += np.roll(np.roll(g, dx, 0), dy, 1)

    def lookup(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        i = ((x - x0) // cell_m).astype(int)
        j = ((y - y0) // cell_m).astype(int)
        ok = (i >= 0) & (i < nx) & (j >= 0) & (j < ny)
        out = np.zeros(x.shape[0])
        out[ok] = s[i[ok], j[ok]]
        return out

    return lookup


def observer_reports(
    p: SimParams,
    th: Theatre,
    frame,
    raid: Raid,
    rng: np.random.Generator,
    t0: float,
    t1: float,
    n_registered: int,
) -> tuple[Lines, list[str], np.ndarray]:
    """People reporting what they hear or see from a phone: more over towns, imprecise,
    some false. Returns lines (``sensor`` indexes the returned observer names, offset by
    ``n_registered``), the names, and each report's sighting time."""
    cls_code = np.array([CLS_CODE[c] for c in raid.cls], np.int64)
    if p.observer_rate <= 0 or not len(raid.t):
        return Lines.make(0, OBSERVER), [], np.zeros(0)
    aud = np.isin(cls_code[raid.tid], [CLS_CODE[c] for c in AUDIBLE]) & (raid.z < 3500)
    idx = np.flatnonzero(aud)
    dens = density_grid(th, frame)(raid.x[idx], raid.y[idx])
    rate = p.observer_rate * p.observer_per_min * np.clip(dens / p.observer_pop_ref, 0.0, 1.0)
    pr = np.minimum(1.0, rate * raid.dt[idx] / 60.0)
    smp = idx[rng.random(idx.size) < pr]
    n = smp.size
    sig = rng.uniform(*p.observer_sigma_m, n)
    tr = raid.tid[smp]
    true = Lines.make(
        n,
        OBSERVER,
        t=raid.t[smp],
        x=raid.x[smp] + rng.normal(0, 1, n) * sig,
        y=raid.y[smp] + rng.normal(0, 1, n) * sig,
        sigma=np.round(sig, -2),
        cls=_hint(cls_code[tr], OBSERVER_HINTS, rng),
        threat=tr,
    )
    # false reports: near towns, around the times people are reporting
    nf = int(rng.poisson(p.observer_false_frac * n)) if n else 0
    pop = th.places_pop.astype(float)
    k = rng.choice(len(pop), size=nf, p=np.sqrt(pop) / np.sqrt(pop).sum())
    px, py = frame.to_local(th.places_lat[k], th.places_lon[k])
    tf = np.clip(raid.t[smp][rng.integers(n, size=nf)] + rng.uniform(-1800, 1800, nf), t0, t1)
    sf = rng.uniform(*p.observer_sigma_m, nf)
    false = Lines.make(
        nf, OBSERVER, t=tf, x=px + rng.normal(0, 3000, nf), y=py + rng.normal(0, 3000, nf),
        sigma=np.round(sf, -2),
        cls=np.where(rng.random(nf) < 0.6, CLS_CODE["drone"], CLS_CODE["unknown"]),
    )  # fmt: skip
    lines = Lines.concat([true, false])
    m = len(lines)
    # phone-app users: ids not in the registry; a few people report more than once
    pool = max(1, int(m * 0.8))
    who = rng.integers(0, pool, m)
    uniq, inv = np.unique(who, return_inverse=True)
    names = [f"obs-{int(u):06d}" for u in uniq]
    lines.sensor = n_registered + inv.astype(np.int64)
    return lines, names, lines.t.copy()


def heartbeat_lines(net: Network, p: SimParams, t0: float, t1: float) -> Lines:
    """One heartbeat per ``heartbeat_s`` per registered sensor, none while it is down."""
    S = len(net)
    if S == 0:
        return Lines.make(0, HEARTBEAT)
    K = int(np.ceil((t1 - t0) / p.heartbeat_s)) + 1
    t = t0 + net.hb_phase_s[:, None] + p.heartbeat_s * np.arange(K)[None, :]
    s = np.broadcast_to(np.arange(S)[:, None], t.shape)
    t, s = t.ravel(), s.ravel()
    ok = (t <= t1) & ~net.down(s, t)
    return Lines.make(int(ok.sum()), HEARTBEAT, t=t[ok], sensor=s[ok])


def deliver(
    lines: Lines, p: SimParams, rng: np.random.Generator
) -> tuple[Lines, np.ndarray, np.ndarray, np.ndarray]:
    """Latency, duplicates and arrival order.

    Returns (lines in arrival order, arrival times, report number per line — -1 for
    heartbeats, shared by a duplicate and its original —, duplicate flag).
    """
    n = len(lines)
    lat = np.zeros(n)
    for k, name in enumerate(KIND_NAMES):
        m = lines.kind == k
        lat[m] = rng.uniform(*p.latency_s[name], int(m.sum()))
    arrival = lines.t + lat
    # late human reports carry the time they were sent minus at most max_lag_s
    lines.t = np.maximum(lines.t, arrival - p.max_lag_s)
    # report numbers in measurement-time order (no hint of which are false)
    rep = np.flatnonzero(lines.kind != HEARTBEAT)
    num = np.full(n, -1, np.int64)
    num[rep[np.argsort(lines.t[rep], kind="stable")]] = np.arange(rep.size)
    dup = rep[rng.random(rep.size) < p.duplicate_rate]
    d_arr = np.minimum(
        arrival[dup] + rng.uniform(*p.duplicate_delay_s, dup.size), lines.t[dup] + p.max_lag_s
    )
    d_arr = np.maximum(d_arr, arrival[dup])
    src = np.concatenate([np.arange(n), dup])
    arr = np.concatenate([arrival, d_arr])
    order = np.argsort(arr, kind="stable")
    is_dup = order >= n
    idx = src[order]
    return lines.take(idx), arr[order], num[idx], is_dup
