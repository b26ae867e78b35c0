"""A raid from an independent generator, fed through the public files and the airwarn command.

airwarn is judged on raids it did not generate. This bench writes one with its own,
deliberately different assumptions and no code from ``airwarn.sim``: only json, numpy
and scipy's KD-tree, reading the zones from any ``zones.geojson``. Then it runs
``airwarn replay`` and ``airwarn evaluate`` on the files and prints the issue-4 targets.

What differs from ``airwarn.sim``:

* drones fly in swarms of 3-12 sharing a corridor to one city, at 38-56 m/s; a share of
  them jink (a 10-35 degree heading change every 1-4 minutes), loiter on a 2-4 km circle
  for 2-8 minutes, or dive to 100-300 m for their last 15 km;
* cruise missiles fly 3-5 wide waypoints at 40-80 m, ballistic missiles a drag-free
  parabola (launch angle 30-45 degrees, 150-500 km);
* radars on a regular grid with scan periods of 4, 6, 10 or 15 s, a 4/3-earth radar
  horizon, Pd falling with range to the fourth power, velocity from only some radars and
  no class hints except "ballistic" for high fast plots;
* acoustic posts on a hexagonal grid (not near places), one range and sigma for all,
  a report every 8 s while a threat is within range below 3,500 m (Pd 0.7);
* human observers (``--observers``, off by default) in the zones: people within 3 km of a
  low threat report it from a phone, unregistered, at a rate that grows with the zone's
  population; most stamp the report when they send it (10-60 s after the sighting, at the
  position seen), some at the sighting; half give their own position with a 3 km sigma;
  class hints are often wrong ("drone" for a cruise missile); some reports are false;
* short-range rockets (``--rockets``, none by default): drag-free arcs of 8-45 km at 40-60
  degrees (flights of 40-90 s) onto the zones nearest the threatened side;
* friendly aircraft (``--aircraft``, none by default): airliners and fighters crossing at
  6-11 km and 180-260 m/s, or helicopters at 150-600 m and 50-75 m/s, seen by the radars
  (and helicopters by the acoustic posts) and absent from the truth: every alert they
  cause is a false one;
* latencies, duplicates, outages and false reports of their own; sensors report until 5
  minutes after the last threat has ended.

    python bench/foreign_raid.py --zones ZONES --out DIR [--seed S] [--hours H] \
        [--drones N] [--cruise N] [--ballistic N] [--bearing DEG] [--post-km KM] \
        [--radar-km KM] [--observers RATE] [--rockets N] [--aircraft N] [--no-run]

The zones default to ``airwarn zones --from builtin``; ``--bearing`` is the direction
(degrees from north, seen from the zones' centre) the threats come from.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
G = 9.81
M_LAT = 110_540.0
M_LON = 111_320.0


class Frame:
    """Equirectangular frame about a centre (the generator's own, not airwarn.geo)."""

    def __init__(self, lat0: float, lon0: float):
        self.lat0, self.lon0, self.c = lat0, lon0, math.cos(math.radians(lat0))

    def xy(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Metres east and north of the centre."""
        return (np.asarray(lon) - self.lon0) * M_LON * self.c, (np.asarray(lat) - self.lat0) * M_LAT

    def ll(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latitude, longitude of metric points."""
        return self.lat0 + np.asarray(y) / M_LAT, self.lon0 + np.asarray(x) / (M_LON * self.c)


def read_zones(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Zone centroids (mean of the outer ring's vertices) and populations."""
    lat, lon, pop = [], [], []
    for f in json.loads(path.read_text())["features"]:
        g = f["geometry"]
        ring = g["coordinates"][0] if g["type"] == "Polygon" else g["coordinates"][0][0]
        a = np.asarray(ring, float)
        lon.append(a[:, 0].mean())
        lat.append(a[:, 1].mean())
        pop.append(float(f["properties"]["population"]))
    return np.array(lat), np.array(lon), np.array(pop)


# ---------------------------------------------------------------------------
# threats: paths on a 1 s grid
# ---------------------------------------------------------------------------
def polyline_path(
    pts: np.ndarray, speed: float, alt: np.ndarray, t0: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (N, 3) every second along waypoints ``pts`` (K, 2) at ``speed`` (m/s)."""
    seg = np.diff(pts, axis=0)
    s = np.concatenate([[0.0], np.cumsum(np.hypot(seg[:, 0], seg[:, 1]))])
    n = int(s[-1] / speed) + 1
    d = np.minimum(np.arange(n) * speed * rng.uniform(0.97, 1.03), s[-1])
    x = np.interp(d, s, pts[:, 0])
    y = np.interp(d, s, pts[:, 1])
    z = np.interp(d, s, alt)
    return t0 + np.arange(n, dtype=float), np.stack([x, y, z], 1)


def drone_route(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Waypoints from ``a`` to ``b``: 0-2 doglegs, jinks for a third of the drones."""
    d = b - a
    L = float(np.hypot(*d))
    u = d / max(L, 1.0)
    nrm = np.array([-u[1], u[0]])
    fr = np.sort(rng.uniform(0.15, 0.85, rng.integers(0, 3)))
    pts = [a] + [a + f * d + nrm * rng.normal(0, 0.08 * L) for f in fr] + [b]
    pts = np.array(pts)
    if rng.random() < 0.35:  # jinks: small heading changes every 1-4 minutes
        out = [pts[0]]
        for p, q in zip(pts[:-1], pts[1:], strict=True):
            seg = q - p
            ls = float(np.hypot(*seg))
            k = int(ls / (47.0 * rng.uniform(60, 240)))
            for f in np.linspace(0, 1, k + 2)[1:-1]:
                off = math.tan(math.radians(rng.uniform(10, 35))) * ls / (k + 1) * 0.5
                n2 = np.array([-seg[1], seg[0]]) / max(ls, 1.0)
                out.append(p + f * seg + n2 * off * rng.choice([-1, 1]))
            out.append(q)
        pts = np.array(out)
    return pts


def loiter(
    t: np.ndarray, p: np.ndarray, at: int, rng: np.random.Generator, speed: float
) -> tuple[np.ndarray, np.ndarray]:
    """Insert a 2-8 minute circle of radius 2-4 km at sample ``at`` of a path."""
    r = rng.uniform(2000, 4000)
    n = int(rng.uniform(120, 480))
    w = speed / r * rng.choice([-1, 1])
    h = p[min(at + 1, len(p) - 1), :2] - p[at, :2]
    h0 = math.atan2(h[1], h[0])
    c = p[at, :2] + r * np.array([math.cos(h0 + math.pi / 2), math.sin(h0 + math.pi / 2)])
    ang = h0 - math.pi / 2 + w * np.arange(1, n + 1)
    ring = np.stack([c[0] + r * np.cos(ang), c[1] + r * np.sin(ang), np.full(n, p[at, 2])], 1)
    # return to the entry point, then carry on
    back = p[at] + (ring[-1] - p[at]) * np.linspace(1, 0, 30)[:, None]
    ins = np.concatenate([ring, back])
    p2 = np.concatenate([p[: at + 1], ins, p[at + 1 :]])
    return t[0] + np.arange(len(p2), dtype=float), p2


def make_raid(args: argparse.Namespace, zx, zy, zpop, rng) -> list[dict]:
    """Threat paths (1 s samples, cut at the fate) as dicts with t, p (N, 3), cls, fate."""
    bearing = math.radians(args.bearing)
    u = np.array([math.sin(bearing), math.cos(bearing)])
    t0, T = args.start, args.hours * 3600.0
    proj = zx * u[0] + zy * u[1]
    front = np.nonzero(proj >= np.quantile(proj, 0.9))[0]
    big = np.argsort(-zpop)[: max(20, len(zpop) // 20)]
    thr: list[dict] = []

    def site(extra: float) -> np.ndarray:
        """A launch point ``extra`` metres beyond a zone on the threatened side."""
        z = rng.choice(front)
        return np.array([zx[z], zy[z]]) + u * extra + rng.normal(0, 20_000, 2)

    def target(a: np.ndarray, reach: float) -> int:
        """A populated zone within ``reach`` of ``a``, weighted by population ** 0.7."""
        d = np.hypot(zx[big] - a[0], zy[big] - a[1])
        ok = big[d <= reach] if (d <= reach).any() else big[np.argsort(d)[:5]]
        w = zpop[ok] ** 0.7
        return int(rng.choice(ok, p=w / w.sum()))

    def fate(th: dict, p_down: float, lo: float = 0.3) -> dict:
        n = len(th["t"])
        u = rng.random()
        if u < p_down:
            k = int(n * rng.uniform(lo, 0.98))
            th["fate"], th["t"], th["p"] = "downed", th["t"][:k], th["p"][:k]
        else:
            th["fate"] = "impact"
        return th

    # drones in swarms
    nd = 0
    while nd < args.drones:
        k = min(int(rng.integers(3, 13)), args.drones - nd)
        a = site(rng.uniform(30_000, 80_000))
        tgt = target(a, 50.0 * 0.55 * T)
        tl = t0 + rng.uniform(0, 0.6) * T
        for _ in range(k):
            b = np.array([zx[tgt], zy[tgt]]) + rng.normal(0, 1500, 2)
            pts = drone_route(a + rng.normal(0, 3000, 2), b, rng)
            sp = rng.uniform(38, 56)
            alt = np.full(len(pts), rng.uniform(150, 2500))
            t, p = polyline_path(pts, sp, alt, tl + rng.uniform(0, 900), rng)
            rem = np.hypot(p[-1, 0] - p[:, 0], p[-1, 1] - p[:, 1])
            if rng.random() < 0.4:  # dive for the last 15 km
                p[:, 2] = np.where(
                    rem < 15_000, np.minimum(p[:, 2], rng.uniform(100, 300)), p[:, 2]
                )
            if rng.random() < 0.15 and len(p) > 600:
                at = int(len(p) * rng.uniform(0.3, 0.9))
                t, p = loiter(t, p, at, rng, sp)
            nd += 1
            thr.append(fate({"id": f"F-D{nd:04d}", "cls": "drone", "t": t, "p": p}, 0.6))
    for i in range(args.cruise):
        a = site(rng.uniform(150_000, 300_000))
        tgt = target(a, 900_000.0)
        b = np.array([zx[tgt], zy[tgt]])
        d = b - a
        L = float(np.hypot(*d))
        nrm = np.array([-d[1], d[0]]) / L
        fw = np.sort(rng.uniform(0.1, 0.9, rng.integers(3, 6)))
        pts = np.array([a] + [a + f * d + nrm * rng.normal(0, 0.2 * L) for f in fw] + [b])
        alt = np.full(len(pts), rng.uniform(40, 80))
        t, p = polyline_path(pts, rng.uniform(220, 250), alt, t0 + rng.uniform(0.3, 0.5) * T, rng)
        thr.append(fate({"id": f"F-C{i + 1:03d}", "cls": "cruise", "t": t, "p": p}, 0.7))

    def arc(b: np.ndarray, D: float, ang: float, elev_deg: float):
        """Drag-free arc of range ``D`` onto ``b`` from bearing ``ang`` (rad), launched
        ``elev_deg`` up: times (1 s), positions (N, 3), altitudes, flight time."""
        a = b + D * np.array([math.sin(ang), math.cos(ang)])
        th = math.radians(elev_deg)
        v0 = math.sqrt(D * G / math.sin(2 * th))
        tf = 2 * v0 * math.sin(th) / G
        tt = np.arange(0.0, tf, 1.0)
        u = (b - a) / D
        h = v0 * math.cos(th) * tt
        z = v0 * math.sin(th) * tt - 0.5 * G * tt**2
        return tt, np.stack([a[0] + u[0] * h, a[1] + u[1] * h, np.maximum(z, 0.0)], 1), z, tf

    for i in range(args.ballistic):
        tgt = target(site(0.0), 500_000.0)
        b = np.array([zx[tgt], zy[tgt]]) + rng.normal(0, 800, 2)
        D = rng.uniform(150_000, 500_000)
        ang = bearing + rng.uniform(-0.5, 0.5)
        tt, p, z, tf = arc(b, D, ang, rng.uniform(30, 45))
        tl = t0 + rng.uniform(0.5, 0.9) * T
        rec = {"id": f"F-B{i + 1:03d}", "cls": "ballistic", "t": tl + tt, "p": p}
        if rng.random() < 0.3:  # intercepted on the way down, 10-20 km up
            falling = np.nonzero((tt > tf / 2) & (z < rng.uniform(10_000, 20_000)))[0]
            k = int(falling[0]) if falling.size else len(tt)
            rec.update(fate="downed", t=rec["t"][:k], p=p[:k])
        else:
            rec["fate"] = "impact"
        thr.append(rec)
    for i in range(args.rockets):
        # short-range rockets: drag-free arcs of 8-45 km at 40-60 degrees onto the zones
        # nearest the threatened side
        tgt = int(rng.choice(front))
        b = np.array([zx[tgt], zy[tgt]]) + rng.normal(0, 1000, 2)
        D = rng.uniform(8_000, 45_000)
        ang = bearing + rng.uniform(-0.4, 0.4)
        tt, p, _, _ = arc(b, D, ang, rng.uniform(40, 60))
        rec = {"id": f"F-R{i + 1:03d}", "cls": "ballistic", "t": t0 + rng.uniform(0, T) + tt}
        rec |= {"p": p, "fate": "impact"}
        thr.append(rec)
    return thr


def make_aircraft(args: argparse.Namespace, zx, zy, rng) -> list[dict]:
    """Friendly aircraft crossing the zones' area in straight lines (not threats)."""
    t0, T = args.start, args.hours * 3600.0
    cx, cy = float(zx.mean()), float(zy.mean())
    R = 0.5 * float(max(zx.max() - zx.min(), zy.max() - zy.min())) + 50_000.0
    out = []
    for i in range(args.aircraft):
        a0 = rng.uniform(0, 2 * math.pi)
        a = np.array([cx + R * math.sin(a0), cy + R * math.cos(a0)])
        through = np.array([cx, cy]) + rng.normal(0, 0.4 * R, 2)
        u = (through - a) / np.hypot(*(through - a))
        heli = rng.random() < 0.25
        length = rng.uniform(60_000, 150_000) if heli else 2 * R
        pts = np.array([a, a + u * length])
        if heli:  # a helicopter flies a leg inside the area
            pts = pts - u * (0.5 * length - rng.uniform(0.2, 0.8) * R)
        sp = rng.uniform(50, 75) if heli else rng.uniform(180, 260)
        alt = np.full(2, rng.uniform(150, 600) if heli else rng.uniform(6000, 11_000))
        t, p = polyline_path(pts, sp, alt, t0 + rng.uniform(0, 0.9) * T, rng)
        out.append({"id": f"F-A{i + 1:03d}", "cls": "aircraft", "t": t, "p": p, "fate": "left"})
    return out


# ---------------------------------------------------------------------------
# sensors and reports
# ---------------------------------------------------------------------------
def make_sensors(args, zx, zy, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Acoustic posts on a hexagonal grid and radars on a square grid near the zones."""
    tree = cKDTree(np.stack([zx, zy], 1))
    s = args.post_km * 1000.0
    s = s if s > 0 else 1e6  # --post-km 0: no posts
    xs = np.arange(zx.min() - s, zx.max() + s, s)
    ys = np.arange(zy.min() - s, zy.max() + s, s * math.sqrt(3) / 2)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + (np.arange(len(ys))[:, None] % 2) * s / 2
    posts = np.stack([gx.ravel(), gy.ravel()], 1) + rng.normal(0, 500, (gx.size, 2))
    posts = posts[tree.query(posts)[0] < 25_000]
    if args.post_km <= 0:
        posts = np.zeros((0, 2))
    r = args.radar_km * 1000.0
    rx, ry = np.meshgrid(np.arange(zx.min(), zx.max() + r, r), np.arange(zy.min(), zy.max() + r, r))
    radars = np.stack([rx.ravel(), ry.ravel()], 1) + rng.normal(0, 5000, (rx.size, 2))
    radars = radars[tree.query(radars)[0] < 40_000]
    period = rng.choice([4.0, 6.0, 10.0, 15.0], len(radars))
    return posts, radars, period


def at_times(th: dict, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (M, 3) of a threat at times ``t`` (inside its flight) and a mask of them."""
    m = (t >= th["t"][0]) & (t <= th["t"][-1])
    p = np.stack([np.interp(t[m], th["t"], th["p"][:, k]) for k in range(3)], 1)
    return p, m


def observer_reports(
    args, fr: Frame, thr, zx, zy, zpop, t0: float, t1: float, rng
) -> tuple[list[dict], list[float]]:
    """Phone reports of people in the zones: unregistered, late, coarse, some false."""
    lines: list[dict] = []
    arr: list[float] = []
    tree = cKDTree(np.stack([zx, zy], 1))
    # reports per 10 s from a zone a threat passes within 3 km of (args.observers a minute
    # over a zone of 100,000 people or more)
    rate = args.observers / 6.0 * np.clip(zpop / 100_000.0, 0.02, 1.0)
    n_obs = 0

    def emit(t_seen: float, x: float, y: float, z: int, cls: str | None) -> None:
        nonlocal n_obs
        n_obs += 1
        delay = rng.uniform(10.0, 60.0)
        if rng.random() < 0.5:  # the observer's own position, coarse
            px, py = zx[z] + rng.normal(0, 1500), zy[z] + rng.normal(0, 1500)
            sg = 3000.0
        else:  # where they think the threat is
            px, py = x + rng.normal(0, 2000), y + rng.normal(0, 2000)
            sg = 2000.0
        stamp_at_send = rng.random() < 0.7
        t = t_seen + delay if stamp_at_send else t_seen
        a = t_seen + delay + rng.uniform(1.0, 30.0)
        lat, lon = fr.ll(px, py)
        d = {"t": round(float(t), 2), "sensor": f"OBS-{n_obs:06d}", "lat": round(float(lat), 6),
             "lon": round(float(lon), 6), "sigma_m": sg}  # fmt: skip
        if cls is not None:
            d["cls"] = cls
        lines.append(d)
        arr.append(float(a))

    grid = np.arange(t0, t1, 10.0)
    for th in thr:
        if th["cls"] == "ballistic":
            continue
        p, m = at_times(th, grid)
        tt = grid[m]
        low = np.nonzero(p[:, 2] < 3000)[0]
        for k, near in zip(low, tree.query_ball_point(p[low, :2], 3000.0), strict=True):
            for z in near:
                if rng.random() >= rate[z]:
                    continue
                u = rng.random()
                cls = "drone" if u < 0.6 else (th["cls"] if u < 0.75 else None)
                emit(float(tt[k]), float(p[k, 0]), float(p[k, 1]), int(z), cls)
                if th["cls"] == "aircraft":
                    lines[-1]["_src"] = "aircraft"
    # false reports: an aircraft, a noise, a rumour; 2 an hour over 100,000 people
    nf = rng.poisson(2.0 * np.clip(zpop / 100_000.0, 0.0, 1.0).sum() * (t1 - t0) / 3600.0)
    zf = rng.choice(len(zx), nf, p=zpop / zpop.sum())
    for z, tf in zip(zf, rng.uniform(t0, t1, nf), strict=True):
        emit(float(tf), float(zx[z]), float(zy[z]), int(z), "drone" if rng.random() < 0.5 else None)
    return lines, arr


def reports(
    args, fr: Frame, thr, posts, radars, period, rng, zx=None, zy=None, zpop=None
) -> tuple[list[dict], list[float]]:
    """Report and heartbeat lines with their arrival times."""
    lines: list[dict] = []
    arr: list[float] = []
    # sensors keep reporting until 5 minutes after the last threat has ended (threats
    # launched late in the window still fly after it)
    t0 = args.start
    t1 = max(t0 + args.hours * 3600.0, max(float(th["t"][-1]) for th in thr) + 300.0)
    # radars
    mast = 25.0
    vel_ok = rng.random(len(radars)) < 0.6
    vel = [
        np.gradient(th["p"], th["t"], axis=0) if len(th["t"]) > 1 else np.zeros((1, 3))
        for th in thr
    ]
    for j, (rp, per) in enumerate(zip(radars, period, strict=True)):
        ts = t0 + rng.uniform(0, per) + np.arange(0.0, t1 - t0, per)
        for th, v in zip(thr, vel, strict=True):
            p, m = at_times(th, ts)
            if not m.any():
                continue
            tt = ts[m]
            r = np.hypot(p[:, 0] - rp[0], p[:, 1] - rp[1])
            horizon = 4120.0 * (math.sqrt(mast) + np.sqrt(np.maximum(p[:, 2], 0.0)))
            r50 = (1.0 if th["cls"] == "ballistic" else 0.6) * args.radar_range_km * 1000
            pd = 0.9 / (1.0 + (r / r50) ** 4) * (r < horizon) * (r < args.radar_range_km * 1000)
            hit = rng.random(len(tt)) < pd
            vv = np.stack([np.interp(tt, th["t"], v[:, k]) for k in range(3)], 1)
            for k in np.nonzero(hit)[0]:
                sg = 200.0 + 0.002 * r[k]
                x, y = p[k, :2] + rng.normal(0, sg, 2)
                lat, lon = fr.ll(x, y)
                d = {
                    "t": round(float(tt[k]), 2),
                    "sensor": f"FR{j:03d}",
                    "lat": round(float(lat), 6),
                    "lon": round(float(lon), 6),
                    "alt_m": round(float(max(p[k, 2] + rng.normal(0, 500), 0.0)), 1),
                    "sigma_alt_m": 500.0,
                    "sigma_m": round(sg, 1),
                }
                if vel_ok[j]:
                    ve, vn, vu = vv[k] + rng.normal(0, 8.0, 3)
                    d.update(
                        vel_e=round(float(ve), 1),
                        vel_n=round(float(vn), 1),
                        vel_u=round(float(vu), 1),
                    )
                if p[k, 2] > 15_000 and abs(vv[k, 2]) > 200 and rng.random() < 0.5:
                    d["cls"] = "ballistic"
                if th["cls"] == "aircraft":
                    d["_src"] = "aircraft"  # kept out of the file (a side list of ids)
                lines.append(d)
                arr.append(float(tt[k]) + rng.uniform(0.5, 2.0))
        # clutter: 0.05 false plots a scan
        nc = rng.poisson(0.05 * len(ts))
        for tc in rng.choice(ts, nc):
            ang, rr = (
                rng.uniform(0, 2 * math.pi),
                args.radar_range_km * 1000 * math.sqrt(rng.random()),
            )
            lat, lon = fr.ll(rp[0] + rr * math.sin(ang), rp[1] + rr * math.cos(ang))
            d = {"t": round(float(tc), 2), "sensor": f"FR{j:03d}", "lat": round(float(lat), 6),
                 "lon": round(float(lon), 6), "alt_m": round(rng.uniform(0, 3000), 1),
                 "sigma_alt_m": 500.0, "sigma_m": 400.0}  # fmt: skip
            lines.append(d)
            arr.append(float(tc) + rng.uniform(0.5, 2.0))
    if args.observers > 0:
        ol, oa = observer_reports(args, fr, thr, zx, zy, zpop, t0, t1, rng)
        lines += ol
        arr += oa
    # acoustic posts: a report every 8 s while a low threat is within range
    tree = cKDTree(posts if len(posts) else np.zeros((1, 2)) + 1e12)
    phase = rng.integers(0, 4, len(posts)) * 2.0
    grid = np.arange(t0, t1, 2.0)
    rng_m = 3000.0
    seen: set[tuple[int, float]] = set()
    for th in thr:
        if th["cls"] == "ballistic":
            continue
        p, m = at_times(th, grid)
        tt = grid[m]
        low = p[:, 2] < 3500
        for k, near in zip(
            np.nonzero(low)[0], tree.query_ball_point(p[low, :2], rng_m), strict=True
        ):
            for q in near:
                if (tt[k] - t0 - phase[q]) % 8.0 != 0 or (q, tt[k]) in seen:
                    continue
                seen.add((q, tt[k]))
                if rng.random() > 0.7:
                    continue
                lat, lon = fr.ll(posts[q, 0], posts[q, 1])
                cls = th["cls"] if rng.random() < 0.5 else "unknown"
                lines.append({"t": float(tt[k]), "sensor": f"FP{q:05d}", "lat": round(float(lat), 6),
                              "lon": round(float(lon), 6), "sigma_m": rng_m, "cls": cls})  # fmt: skip
                if th["cls"] == "aircraft":
                    lines[-1]["_src"] = "aircraft"
                arr.append(float(tt[k]) + rng.uniform(3.0, 15.0))
    nfa = rng.poisson(0.05 * len(posts) * (t1 - t0) / 3600.0)
    for q, tf in zip(rng.integers(0, len(posts), nfa), rng.uniform(t0, t1, nfa), strict=True):
        lat, lon = fr.ll(posts[q, 0], posts[q, 1])
        lines.append({"t": round(float(tf), 2), "sensor": f"FP{q:05d}", "lat": round(float(lat), 6),
                      "lon": round(float(lon), 6), "sigma_m": rng_m, "cls": "unknown"})  # fmt: skip
        arr.append(float(tf) + rng.uniform(3.0, 15.0))
    # heartbeats every 60 s, 3% of posts down for 20-90 minutes
    names = [f"FP{q:05d}" for q in range(len(posts))] + [f"FR{j:03d}" for j in range(len(radars))]
    down = {n: (s, s + rng.uniform(1200, 5400)) for n in names if rng.random() < 0.03
            for s in [rng.uniform(t0, t1)]}  # fmt: skip
    for n in names:
        for tb in t0 + rng.uniform(0, 60) + np.arange(0.0, t1 - t0, 60.0):
            if n in down and down[n][0] <= tb <= down[n][1]:
                continue
            lines.append({"t": round(float(tb), 2), "sensor": n, "heartbeat": True})
            arr.append(float(tb) + rng.uniform(0.1, 2.0))
    # an outage silences reports too
    keep = [
        i
        for i, d in enumerate(lines)
        if not (d["sensor"] in down and down[d["sensor"]][0] <= d["t"] <= down[d["sensor"]][1])
    ]
    lines = [lines[i] for i in keep]
    arr = [arr[i] for i in keep]
    for i, d in enumerate(lines):
        if not d.get("heartbeat"):
            d["id"] = f"fr-{i:08d}"
    # duplicates: 2% of reports arrive twice
    for i in np.nonzero(rng.random(len(lines)) < 0.02)[0]:
        if not lines[i].get("heartbeat"):
            lines.append(dict(lines[i]))
            arr.append(arr[i] + rng.uniform(1.0, 20.0))
    return lines, arr


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--zones", type=Path, help="zones.geojson (default: airwarn zones --from builtin)"
    )
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--drones", type=int, default=80)
    ap.add_argument("--cruise", type=int, default=4)
    ap.add_argument("--ballistic", type=int, default=4)
    ap.add_argument("--bearing", type=float, default=70.0, help="threats come from here (deg)")
    ap.add_argument("--post-km", type=float, default=12.0, help="acoustic grid spacing (km)")
    ap.add_argument("--radar-km", type=float, default=180.0, help="radar grid spacing (km)")
    ap.add_argument("--radar-range-km", type=float, default=200.0)
    ap.add_argument(
        "--observers",
        type=float,
        default=0.0,
        help="phone reports a minute from a zone of 100,000 people a threat passes (0: none)",
    )
    ap.add_argument("--start", type=float, default=1_760_000_000.0, help="raid start (epoch s)")
    ap.add_argument("--rockets", type=int, default=0, help="short-range rockets (8-45 km)")
    ap.add_argument("--aircraft", type=int, default=0, help="friendly aircraft (not threats)")
    ap.add_argument("--policy", type=Path, help="policy.toml for replay")
    ap.add_argument("--no-run", action="store_true", help="write the scenario only")
    args = ap.parse_args()
    out = args.out.resolve()  # replay and evaluate run from the repository root
    out.mkdir(parents=True, exist_ok=True)
    aw = [sys.executable, "-m", "airwarn.cli"]
    zones = out / "zones.geojson"
    if args.zones:
        zones.write_text(args.zones.read_text())
    elif not zones.exists():
        subprocess.run(
            [*aw, "zones", "--from", "builtin", "--out", str(zones)], check=True, cwd=ROOT
        )
    rng = np.random.default_rng(args.seed)
    zlat, zlon, zpop = read_zones(zones)
    fr = Frame(float(zlat.mean()), float(zlon.mean()))
    zx, zy = fr.xy(zlat, zlon)
    thr = make_raid(args, zx, zy, zpop, rng)
    if args.aircraft > 0:
        thr += make_aircraft(args, zx, zy, rng)
    posts, radars, period = make_sensors(args, zx, zy, rng)
    lines, arr = reports(args, fr, thr, posts, radars, period, rng, zx, zy, zpop)
    order = np.argsort(np.asarray(arr), kind="stable")
    aircraft_ids = []
    with open(out / "detections.jsonl", "w") as f:
        for i in order:
            if lines[i].pop("_src", None):
                aircraft_ids.append(lines[i]["id"])
            f.write(json.dumps(lines[i]) + "\n")
    if args.aircraft > 0:  # which reports are of aircraft (for analysis; airwarn never reads it)
        (out / "aircraft_report_ids.txt").write_text("\n".join(sorted(set(aircraft_ids))) + "\n")
    with open(out / "sensors.jsonl", "w") as f:
        for q, (x, y) in enumerate(posts):
            lat, lon = fr.ll(x, y)
            f.write(json.dumps({"id": f"FP{q:05d}", "kind": "acoustic", "lat": round(float(lat), 6),
                                "lon": round(float(lon), 6), "range_m": 3000.0}) + "\n")  # fmt: skip
        for j, (x, y) in enumerate(radars):
            lat, lon = fr.ll(x, y)
            f.write(json.dumps({"id": f"FR{j:03d}", "kind": "radar", "lat": round(float(lat), 6),
                                "lon": round(float(lon), 6), "alt_m": 25.0,
                                "range_m": args.radar_range_km * 1000}) + "\n")  # fmt: skip
    with open(out / "truth.jsonl", "w") as f:
        for th in thr:
            if th["cls"] == "aircraft":  # not a threat
                continue
            step = 1 if th["cls"] == "ballistic" else 5
            idx = np.unique(np.r_[np.arange(0, len(th["t"]), step), len(th["t"]) - 1])
            lat, lon = fr.ll(th["p"][idx, 0], th["p"][idx, 1])
            imp = None
            if th["fate"] == "impact":
                imp = {"t": float(th["t"][-1]), "lat": float(lat[-1]), "lon": float(lon[-1])}
            rec = {"id": th["id"], "cls": th["cls"], "t": [float(v) for v in th["t"][idx]],
                   "lat": [round(float(v), 6) for v in lat], "lon": [round(float(v), 6) for v in lon],
                   "alt_m": [round(float(v), 1) for v in th["p"][idx, 2]],
                   "fate": th["fate"], "impact": imp}  # fmt: skip
            f.write(json.dumps(rec) + "\n")
    n_rep = sum(1 for d in lines if not d.get("heartbeat"))
    print(
        f"{out}: {sum(th['cls'] != 'aircraft' for th in thr)} threats, "
        f"{sum(th['cls'] == 'aircraft' for th in thr)} aircraft, "
        f"{len(posts)} acoustic posts, {len(radars)} radars, "
        f"{sum(1 for d in lines if d['sensor'].startswith('OBS-')):,} observer reports, "
        f"{n_rep:,} reports, {len(lines) - n_rep:,} heartbeats"
    )
    if args.no_run:
        return
    run = out / "run"
    rp = [*aw, "replay", "--sensors", str(out / "sensors.jsonl"), "--detections"]
    rp += [str(out / "detections.jsonl"), "--zones", str(zones), "--out", str(run), "--no-cap"]
    if args.policy:
        rp += ["--policy", str(args.policy.resolve())]
    subprocess.run(rp, check=True, cwd=ROOT, capture_output=True)
    ev = [
        *aw,
        "evaluate",
        "--scenario",
        str(out),
        "--alerts",
        str(run / "alerts.jsonl"),
        "--out",
        str(run),
    ]
    subprocess.run(ev, check=True, cwd=ROOT, capture_output=True)
    s = json.loads((run / "scorecard.json").read_text())
    d = s["by_class"].get("drone", {})
    print(
        f"impacts hit/late/miss {s['impact_hit']}/{s['impact_late']}/{s['impact_miss']} · "
        f"overflights {s['overflight_hit']}/{s['overflight_late']}/{s['overflight_miss']} "
        f"({100 * (s['overflight_miss_frac'] or 0):.2f}% missed) · lead median {s['lead_median_s']} s · "
        f"drone pre-alert lead {d.get('prealert_lead_median_s')} s · "
        f"false episodes {100 * (s['false_alert_frac'] or 0):.1f}% · "
        f"{s['ratio_to_oracle']}x oracle · {s['ratio_to_region_wide']}x region-wide"
    )
    print(
        f"warnable pairs (flown shelter_s + 60 s by arrival) {s['warnable_pairs']:,}: impacts "
        f"late/missed {s['impact_late_warnable']}/{s['impact_miss_warnable']} · overflights "
        f"late/missed {s['overflight_late_warnable']}/{s['overflight_miss_warnable']}"
    )
    ms = json.loads((run / "diagnostics.json").read_text())["miss_stages"]
    if "by_outcome" in ms:
        stages = ("a_not_tracked", "b_not_predicted", "c_not_alerted")
        st = {k: sum(v[k] for v in ms["by_outcome"].values()) for k in stages}
        h = ms.get("a_heard", {})
        print(
            f"missed or late pairs by stage: never tracked {st['a_not_tracked']} (heard by no "
            f"sensor {h.get('not_heard', '-')}, 1-2 times {h.get('heard_1_2', '-')}, 3+ times "
            f"{h.get('heard_3_plus', '-')}) · not predicted {st['b_not_predicted']} · "
            f"pre-alerted, not alerted {st['c_not_alerted']}"
        )
        ae = ms.get("after_input_end")
        if ae and (ae["impact"] or ae["overflight"]):
            print(
                f"of them with the deadline after the sensor data ended: {ae['impact']} impact, "
                f"{ae['overflight']} overflight (threats still flying at the raid's end)"
            )


if __name__ == "__main__":
    main()
