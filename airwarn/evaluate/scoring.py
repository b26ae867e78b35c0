"""The scorecard: zone alerts against the truth of a raid (issue 2 definitions).

Every (zone, threat) pair where the threat's true path comes within ``near_m`` (2 km)
of the zone polygon while airborne, or where it impacts inside the zone, is a
*threatened pair* with arrival time ``t_arr`` (first time within 2 km; for an impact
pair the earlier of that and the impact time). An alert *episode* runs from an
``alert`` line until the zone's next line with another state. A pair is

* **hit** when one alert episode covers the whole ``[t_arr - shelter_s, t_arr]``,
* **late** when the zone is under alert at ``t_arr`` but that episode started after
  ``t_arr - shelter_s``,
* **miss** otherwise (also reported: ``cleared_before_arrival``, pairs alerted at
  ``t_arr - shelter_s`` whose alert ended before ``t_arr``; the literal rule would call
  them hits, we count them as misses because nobody is in shelter when it arrives).

A pair is *warnable* when the threat had flown ``shelter_s + warn_latency_s`` by
``t_arr`` (counts are reported in full and for warnable pairs; the no-missed-impacts
target of issue 4 applies "where the physics allows warning", i.e. to warnable pairs).
Lead time is ``t_arr`` minus the start of the alert episode covering ``t_arr``.
Pre-alert lead time is ``t_arr`` minus the start of the warning (pre_alert or alert,
unbroken by clear) covering ``t_arr``. An alert episode is *false* when no threat is
within ``false_m`` (15 km) of the zone during the episode widened by ``false_pad_s``
(5 min) each side. Baselines from truth: *region-wide* (every zone of a region under
alert while any threat is within ``region_m`` (60 km) of the region, the union of its
zones, until ``hold_s`` after it leaves or ends) and *oracle* (each threatened zone
alerted from ``t_arr - shelter_s - 60 s`` until the threat's last time within 2 km
plus ``hold_s``).

Everything is vectorised: truth paths are resampled (at most ``step_m`` and
``step_s`` apart) into one point set with a KD-tree; each zone queries the points
within ``near_m + radius`` of its centroid; the centroid distance decides most of
them (inradius and circumradius bounds) and the rest are tested against the zone
polygon grown by the distance (prepared, ``contains_xy``; exact to about 0.5% of the
distance). Crossing times are then interpolated between the bracketing samples with
exact polygon distances. Region distances use each region's union polygon and a
KD-tree on its boundary densified to 1 km. Episodes are interval arrays searched
with ``np.searchsorted``. Everything that depends on truth and zones only is kept in
a :class:`TruthIndex` (cached), so scoring many alert files over one scenario is fast.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from airwarn.contracts import THREAT_CLASSES, AlertChange, Threat
from airwarn.zones.zoneset import ZoneSet

HIT, LATE, MISS = 0, 1, 2
OUTCOMES = ("hit", "late", "miss")
KINDS = ("impact", "overflight")


@dataclass(frozen=True)
class EvalParams:
    """Distances (m) and times (s) of the scorecard definitions; defaults are issue 2's."""

    near_m: float = 2000.0
    false_m: float = 15000.0
    false_pad_s: float = 300.0
    region_m: float = 60000.0
    hold_s: float = 600.0
    oracle_pre_s: float = 60.0
    warn_latency_s: float = 60.0
    """Detection, confirmation and delivery allowance: a pair is *warnable* when the
    threat had flown at least shelter_s + warn_latency_s when it arrived."""
    step_m: float = 400.0
    step_s: float = 15.0
    coarse_step_m: float = 2000.0
    coarse_step_s: float = 60.0
    region_simplify_m: float = 200.0


# ---------------------------------------------------------------------------
# truth paths
# ---------------------------------------------------------------------------
@dataclass
class Samples:
    """Truth paths resampled into one point set, ordered by threat then time."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    thr: np.ndarray  # threat index of each sample
    first: np.ndarray  # (T,) index of each threat's first sample (-1: no samples)
    last: np.ndarray  # (T,) index of each threat's last sample
    _tree: cKDTree | None = None

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            self._tree = cKDTree(
                np.column_stack([self.x, self.y]), balanced_tree=False, compact_nodes=False
            )
        return self._tree

    def __len__(self) -> int:
        return int(self.t.shape[0])


def _threat_vertices(truth: Sequence[Threat]) -> tuple[np.ndarray, ...]:
    """All threats' path vertices concatenated, clipped at their impact time."""
    lat, lon, t, thr = [], [], [], []
    for i, th in enumerate(truth):
        keep = np.ones(th.t.shape[0], bool)
        if th.impact is not None:
            keep = th.t <= float(th.impact["t"]) + 1e-6
            keep[0] = True
        lat.append(th.lat[keep])
        lon.append(th.lon[keep])
        t.append(th.t[keep])
        thr.append(np.full(int(keep.sum()), i, np.int64))
    if not truth:
        z = np.zeros(0)
        return z, z, z, np.zeros(0, np.int64)
    return np.concatenate(lat), np.concatenate(lon), np.concatenate(t), np.concatenate(thr)


def path_vertices(truth: Sequence[Threat], frame) -> tuple[np.ndarray, ...]:
    """All truth path vertices in the local frame: (x, y, t, threat index)."""
    lat, lon, t, thr = _threat_vertices(truth)
    x, y = frame.to_local(lat, lon) if t.size else (t.copy(), t.copy())
    return x, y, t, thr


def resample(
    truth: Sequence[Threat],
    frame,
    step_m: float,
    step_s: float,
    vertices: tuple[np.ndarray, ...] | None = None,
) -> Samples:
    """Resample every truth path so consecutive samples are at most step_m and step_s apart.

    Dense paths are decimated to about that spacing first; ``vertices`` may pass
    ``path_vertices(truth, frame)`` already computed.
    """
    x, y, t, thr = vertices if vertices is not None else path_vertices(truth, frame)
    n_thr = len(truth)
    if t.size == 0:
        z = np.zeros(0)
        neg = np.full(n_thr, -1, np.int64)
        return Samples(z, z, z, np.zeros(0, np.int64), neg, neg.copy())
    # decimate: keep a vertex each time the path's cumulative cost (distance / step_m or
    # time / step_s, whichever is larger) passes a whole unit, plus each path's ends
    same = thr[1:] == thr[:-1]
    cost = np.where(same, np.maximum(np.hypot(np.diff(x), np.diff(y)) / step_m,
                                      np.diff(t) / step_s), 0.0)  # fmt: skip
    unit = np.floor(np.r_[0.0, np.cumsum(cost)])
    keep = np.r_[True, ~same | (unit[1:] != unit[:-1])] | np.r_[~same, True]
    x, y, t, thr = x[keep], y[keep], t[keep], thr[keep]
    nv = t.shape[0]
    valid = np.zeros(nv, bool)
    valid[:-1] = thr[1:] == thr[:-1]
    dx = np.zeros(nv)
    dy = np.zeros(nv)
    dt = np.zeros(nv)
    dx[:-1] = np.diff(x)
    dy[:-1] = np.diff(y)
    dt[:-1] = np.diff(t)
    seg = np.hypot(dx, dy)
    nsub = np.maximum(np.ceil(seg / step_m - 1e-9), np.ceil(dt / step_s - 1e-9))
    nsub = np.where(valid, np.maximum(nsub, 1), 1).astype(np.int64)
    vi = np.repeat(np.arange(nv), nsub)
    j = np.arange(vi.shape[0]) - np.repeat(np.cumsum(nsub) - nsub, nsub)
    f = np.where(valid[vi], j / nsub[vi], 0.0)
    sx = x[vi] + f * dx[vi]
    sy = y[vi] + f * dy[vi]
    st = t[vi] + f * dt[vi]
    sthr = thr[vi]
    first = np.full(n_thr, -1, np.int64)
    last = np.full(n_thr, -1, np.int64)
    idx = np.arange(sthr.shape[0])
    starts = np.r_[True, sthr[1:] != sthr[:-1]]
    ends = np.r_[sthr[1:] != sthr[:-1], True]
    first[sthr[starts]] = idx[starts]
    last[sthr[ends]] = idx[ends]
    return Samples(sx, sy, st, sthr, first, last)


# ---------------------------------------------------------------------------
# geometry helpers
# ---------------------------------------------------------------------------
class _ZoneGeom:
    """Per-zone arrays the scorer needs beyond ZoneSet: polygon array and distance bounds.

    ``slack`` bounds the polygon distance from the centroid distance ``dc``: a disc of
    radius ``slack`` around the centroid lies inside the polygon (centroid inside), or
    the centroid is ``-slack`` from it (outside); either way ``dist <= dc - slack``.
    With ``dist >= dc - radius`` only an annulus needs the exact shapely distance.
    """

    def __init__(self, zs: ZoneSet):
        self.zs = zs
        self.polys = np.array(zs.polys, dtype=object)
        cpts = shapely.points(zs.cx, zs.cy)
        dq = shapely.distance(cpts, self.polys).astype(float)
        rin = shapely.distance(cpts, shapely.boundary(self.polys)).astype(float)
        self.slack = np.where(dq > 0, -dq, rin)

        self._buffered: dict[float, np.ndarray] = {}

    def buffered(self, dist_m: float) -> np.ndarray:
        """Zone polygons grown by dist_m (prepared; edges within 1% of dist_m)."""
        b = self._buffered.get(dist_m)
        if b is None:
            simp = shapely.simplify(self.polys, 0.005 * dist_m, preserve_topology=True)
            b = shapely.buffer(simp, dist_m, quad_segs=16)
            shapely.prepare(b)
            self._buffered[dist_m] = b
        return b

    def distance(self, px: np.ndarray, py: np.ndarray, zi: np.ndarray) -> np.ndarray:
        """Exact distance (m) from each point to its paired zone polygon."""
        if px.size == 0:
            return np.zeros(0)
        return shapely.distance(shapely.points(px, py), self.polys[zi]).astype(float)


def points_within(
    samples: Samples, geom: _ZoneGeom, dist_m: float, zones: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(sample index, zone index) of every sample within dist_m of a zone polygon."""
    zs = geom.zs
    zi = np.arange(len(zs)) if zones is None else np.asarray(zones, np.int64)
    if len(samples) == 0 or zi.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    r = dist_m + zs.radius[zi] + 1.0
    res = samples.tree.query_ball_point(np.column_stack([zs.cx[zi], zs.cy[zi]]), r)
    counts = np.fromiter(map(len, res), np.int64, count=len(res))
    total = int(counts.sum())
    pts = np.fromiter(itertools.chain.from_iterable(res), np.int64, count=total)
    zz = np.repeat(zi, counts)
    dc = np.hypot(samples.x[pts] - zs.cx[zz], samples.y[pts] - zs.cy[zz])
    sure = dc - geom.slack[zz] <= dist_m
    need = ~sure & (dc - zs.radius[zz] <= dist_m)
    ok = sure.copy()
    if need.any():
        ni = np.flatnonzero(need)
        ok[ni] = shapely.contains_xy(
            geom.buffered(dist_m)[zz[ni]], samples.x[pts[ni]], samples.y[pts[ni]]
        )
    return pts[ok], zz[ok]


def union_intervals(
    group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge overlapping [start, end) intervals within each group; sorted by (group, start)."""
    if group.size == 0:
        e = np.zeros(0)
        return np.zeros(0, np.int64), e, e.copy()
    order = np.lexsort((start, group))
    g, s, e = group[order], start[order], end[order]
    t0 = float(s.min())
    span = float(e.max() - t0) + 1.0
    ks = g * span + (s - t0)
    ke = g * span + (e - t0)
    runmax = np.maximum.accumulate(ke)
    new = np.r_[True, ks[1:] > runmax[:-1]]
    starts = np.flatnonzero(new)
    out_e = np.maximum.reduceat(ke, starts) - g[starts] * span + t0
    return g[starts], s[starts], out_e


class Episodes:
    """Disjoint intervals per zone, sorted by (zone, start), searchable by (zone, time)."""

    def __init__(self, zone: np.ndarray, start: np.ndarray, end: np.ndarray):
        order = np.lexsort((start, zone))
        self.zone = np.asarray(zone, np.int64)[order]
        self.start = np.asarray(start, float)[order]
        self.end = np.asarray(end, float)[order]
        self._t0 = float(self.start.min()) - 1e6 if self.start.size else 0.0
        self._span = (float(self.end.max()) - self._t0 + 2e6) if self.end.size else 1.0
        self._key = self.zone * self._span + (self.start - self._t0)

    def __len__(self) -> int:
        return int(self.zone.shape[0])

    @property
    def duration(self) -> np.ndarray:
        return self.end - self.start

    def next_start(self, zone: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Index of the first episode of ``zone`` starting after ``t``, else -1."""
        zone = np.asarray(zone, np.int64)
        if len(self) == 0 or zone.size == 0:
            return np.full(zone.shape, -1, np.int64)
        q = zone * self._span + (np.asarray(t, float) - self._t0)
        idx = np.searchsorted(self._key, q, side="right")
        ii = np.clip(idx, 0, len(self) - 1)
        ok = (idx < len(self)) & (self.zone[ii] == zone)
        return np.where(ok, ii, -1)

    def containing(self, zone: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Index of the episode of ``zone`` covering time ``t`` (start <= t < end), else -1."""
        zone = np.asarray(zone, np.int64)
        t = np.asarray(t, float)
        if len(self) == 0 or zone.size == 0:
            return np.full(zone.shape, -1, np.int64)
        q = zone * self._span + (t - self._t0)
        idx = np.searchsorted(self._key, q, side="right") - 1
        ii = np.clip(idx, 0, len(self) - 1)
        ok = (idx >= 0) & (self.zone[ii] == zone) & (self.start[ii] <= t) & (self.end[ii] > t)
        return np.where(ok, ii, -1)


def alert_episodes(
    alerts: Sequence[AlertChange], zs: ZoneSet, t_end: float
) -> tuple[Episodes, Episodes, Episodes, dict]:
    """Alert, pre-alert and warning (pre-alert or alert) episodes from alert lines."""
    n = len(alerts)
    zi = np.fromiter((zs.index.get(a.zone, -1) for a in alerts), np.int64, count=n)
    t = np.fromiter((a.t for a in alerts), float, count=n)
    code = {"pre_alert": 0, "alert": 1, "clear": 2}
    st = np.fromiter((code[a.state] for a in alerts), np.int64, count=n)
    unknown = zi < 0
    info = {
        "alert_lines": n,
        "unknown_zone_lines": int(unknown.sum()),
        "unknown_zones": sorted({alerts[i].zone for i in np.flatnonzero(unknown)})[:10],
    }
    keep = ~unknown
    zi, t, st = zi[keep], t[keep], st[keep]
    order = np.lexsort((np.arange(zi.size), t, zi))
    zi, t, st = zi[order], t[order], st[order]

    def runs(label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if zi.size == 0:
            e = np.zeros(0)
            return np.zeros(0, np.int64), e, e.copy(), np.zeros(0, np.int64)
        new = np.r_[True, (zi[1:] != zi[:-1]) | (label[1:] != label[:-1])]
        s_idx = np.flatnonzero(new)
        rz, rs, rl = zi[s_idx], t[s_idx], label[s_idx]
        same_next = np.r_[rz[1:] == rz[:-1], False]
        re = np.where(same_next, np.r_[rs[1:], 0.0], max(t_end, float(t.max())))
        return rz, rs, re, rl

    rz, rs, re, rl = runs(st)
    a = rl == 1
    p = rl == 0
    last_of_zone = np.r_[rz[1:] != rz[:-1], True] if rz.size else np.zeros(0, bool)
    info["open_alert_episodes"] = int((a & last_of_zone).sum())
    info["open_prealert_episodes"] = int((p & last_of_zone).sum())
    wz, ws, we, wl = runs((st != 2).astype(np.int64))
    w = wl == 1
    return (
        Episodes(rz[a], rs[a], re[a]),
        Episodes(rz[p], rs[p], re[p]),
        Episodes(wz[w], ws[w], we[w]),
        info,
    )


# ---------------------------------------------------------------------------
# threatened pairs
# ---------------------------------------------------------------------------
@dataclass
class Pairs:
    """Threatened (zone, threat) pairs with their arrival and departure times."""

    zone: np.ndarray
    threat: np.ndarray
    cls: np.ndarray  # class code of the threat
    impact: np.ndarray  # bool: the threat impacts inside the zone
    t_arr: np.ndarray
    t_leave: np.ndarray
    outcome: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lead_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    warn_lead_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cleared_before: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    flight_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """Seconds from the threat's first truth point (launch) to t_arr."""
    alert_after_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """For misses alerted after t_arr but before the threat left: how long after."""

    def __len__(self) -> int:
        return int(self.zone.shape[0])


def _cross_time(
    samples: Samples, geom: _ZoneGeom, a: np.ndarray, b: np.ndarray, zi: np.ndarray, d0: float
) -> np.ndarray:
    """Time where the distance to zone zi crosses d0 between samples a and b (linear)."""
    da = geom.distance(samples.x[a], samples.y[a], zi)
    db = geom.distance(samples.x[b], samples.y[b], zi)
    den = db - da
    f = np.where(np.abs(den) > 1e-9, (d0 - da) / np.where(den == 0, 1.0, den), 0.0)
    f = np.clip(f, 0.0, 1.0)
    return samples.t[a] + f * (samples.t[b] - samples.t[a])


def threatened_pairs(
    truth: Sequence[Threat], samples: Samples, geom: _ZoneGeom, p: EvalParams
) -> Pairs:
    """Every (zone, threat) pair within near_m while airborne or with an impact inside."""
    zs = geom.zs
    n_thr = max(len(truth), 1)
    pts, zz = points_within(samples, geom, p.near_m)
    thr = samples.thr[pts]
    pk = zz * n_thr + thr
    order = np.lexsort((pts, pk))
    pk, pts, zz, thr = pk[order], pts[order], zz[order], thr[order]
    if pk.size:
        starts = np.flatnonzero(np.r_[True, pk[1:] != pk[:-1]])
        ends = np.r_[starts[1:] - 1, pk.size - 1]
    else:
        starts = ends = np.zeros(0, np.int64)
    pz, pthr = zz[starts], thr[starts]
    fi, li = pts[starts], pts[ends]
    t_arr = samples.t[fi].copy()
    t_leave = samples.t[li].copy()
    # refine the 2 km crossings between the bracketing samples
    has_prev = fi > samples.first[pthr]
    if has_prev.any():
        k = np.flatnonzero(has_prev)
        t_arr[k] = _cross_time(samples, geom, fi[k] - 1, fi[k], pz[k], p.near_m)
    has_next = li < samples.last[pthr]
    if has_next.any():
        k = np.flatnonzero(has_next)
        t_leave[k] = _cross_time(samples, geom, li[k], li[k] + 1, pz[k], p.near_m)
    impact = np.zeros(pz.shape[0], bool)

    # impacts inside a zone
    imp_thr = np.array(
        [i for i, th in enumerate(truth) if th.fate == "impact" and th.impact is not None],
        np.int64,
    )
    if imp_thr.size:
        ilat = np.array([truth[i].impact["lat"] for i in imp_thr], float)
        ilon = np.array([truth[i].impact["lon"] for i in imp_thr], float)
        it = np.array([truth[i].impact["t"] for i in imp_thr], float)
        ix, iy = zs.frame.to_local(ilat, ilon)
        iz = zs.containing(ix, iy)
        inside = iz >= 0
        imp_thr, iz, it = imp_thr[inside], iz[inside], it[inside]
        ikey = iz * n_thr + imp_thr
        pkey = pz * n_thr + pthr
        pos = {int(k): i for i, k in enumerate(pkey)}
        extra_z, extra_t, extra_time = [], [], []
        for k, z, th, ti in zip(ikey, iz, imp_thr, it, strict=True):
            i = pos.get(int(k))
            if i is None:
                extra_z.append(z)
                extra_t.append(th)
                extra_time.append(ti)
            else:
                impact[i] = True
                t_arr[i] = min(t_arr[i], ti)
                t_leave[i] = max(t_leave[i], ti)
        if extra_z:
            pz = np.r_[pz, np.array(extra_z, np.int64)]
            pthr = np.r_[pthr, np.array(extra_t, np.int64)]
            t_arr = np.r_[t_arr, np.array(extra_time, float)]
            t_leave = np.r_[t_leave, np.array(extra_time, float)]
            impact = np.r_[impact, np.ones(len(extra_z), bool)]
    cls_code = np.array([THREAT_CLASSES.index(th.cls) for th in truth], np.int64)
    launch = np.array([float(th.t[0]) for th in truth], float)
    pc = cls_code[pthr] if pthr.size else np.zeros(0, np.int64)
    pairs = Pairs(pz, pthr, pc, impact, t_arr, t_leave)
    pairs.flight_s = t_arr - launch[pthr] if pthr.size else np.zeros(0)
    return pairs


def classify(pairs: Pairs, alerts: Episodes, warn: Episodes, zs: ZoneSet) -> None:
    """Fill outcome (hit/late/miss), lead times and cleared-before-arrival for each pair."""
    sh = zs.shelter_s[pairs.zone]
    at_arr = alerts.containing(pairs.zone, pairs.t_arr)
    at_need = alerts.containing(pairs.zone, pairs.t_arr - sh)
    covered = at_arr >= 0
    start = np.where(covered, alerts.start[np.maximum(at_arr, 0)] if len(alerts) else 0.0, np.nan)
    hit = covered & (start <= pairs.t_arr - sh)
    late = covered & ~hit
    pairs.outcome = np.where(hit, HIT, np.where(late, LATE, MISS)).astype(np.int64)
    pairs.lead_s = np.where(covered, pairs.t_arr - start, np.nan)
    pairs.cleared_before = (at_need >= 0) & ~covered
    w = warn.containing(pairs.zone, pairs.t_arr)
    wstart = warn.start[np.maximum(w, 0)] if len(warn) else np.zeros(w.shape)
    pairs.warn_lead_s = np.where(w >= 0, pairs.t_arr - wstart, np.nan)
    # misses alerted only after the arrival, while the threat was still within 2 km
    nxt = alerts.next_start(pairs.zone, pairs.t_arr)
    after = (nxt >= 0) & (pairs.outcome == MISS)
    nstart = alerts.start[np.maximum(nxt, 0)] if len(alerts) else np.zeros(nxt.shape)
    after &= nstart <= pairs.t_leave
    pairs.alert_after_s = np.where(after, nstart - pairs.t_arr, np.nan)


# ---------------------------------------------------------------------------
# false alerts and baselines
# ---------------------------------------------------------------------------
class NearTimes:
    """When any threat is within a distance of each zone (of ``zones``, default all) polygon:
    sorted (zone, time) keys."""

    def __init__(
        self,
        samples: Samples,
        geom: _ZoneGeom,
        dist_m: float,
        pad_s: float,
        zones: np.ndarray | None = None,
    ):
        pts, zz = points_within(samples, geom, dist_m, zones)
        t = samples.t[pts]
        self.t0 = (float(t.min()) if t.size else 0.0) - 2 * pad_s - 10.0
        self.t1 = (float(t.max()) if t.size else 0.0) + 2 * pad_s + 10.0
        self.span = self.t1 - self.t0 + 10.0
        self.key = np.sort(zz * self.span + (t - self.t0))

    def any_between(self, zone: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Bool per query: some threat near ``zone`` at a time in [a, b]."""
        a = np.clip(a, self.t0, self.t1) - self.t0
        b = np.clip(b, self.t0, self.t1) - self.t0
        lo = np.searchsorted(self.key, zone * self.span + a, "left")
        hi = np.searchsorted(self.key, zone * self.span + b, "right")
        return hi > lo


def false_episodes(eps: Episodes, near: NearTimes, pad_s: float) -> np.ndarray:
    """Bool per episode: no threat within false_m of the zone during the episode ± pad."""
    if len(eps) == 0:
        return np.zeros(0, bool)
    return ~near.any_between(eps.zone, eps.start - pad_s, eps.end + pad_s)


def region_polygons(geom: _ZoneGeom, simplify_m: float) -> np.ndarray:
    """One polygon per region: the union of its zones, holes filled, in the local frame."""
    zs = geom.zs
    simp = shapely.simplify(geom.polys, simplify_m, preserve_topology=True)
    out = []
    for r in range(len(zs.region_ids)):
        parts = shapely.get_parts(shapely.union_all(simp[zs.region == r]))
        parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
        out.append(shapely.multipolygons(shapely.polygons(shapely.get_exterior_ring(parts))))
    return np.array(out, dtype=object)


def points_near_regions(
    samples: Samples, geom: _ZoneGeom, p: EvalParams
) -> tuple[np.ndarray, np.ndarray]:
    """(sample index, region index) of every sample within region_m of a region.

    Inside the region's polygon, or within region_m of a vertex of its boundary
    densified to 1 km (so the distance is exact to 0.5 km).
    """
    regs = region_polygons(geom, p.region_simplify_m)
    shapely.prepare(regs)
    pis, ris = [], []
    for r, poly in enumerate(regs):
        if poly.is_empty:
            continue
        x0, y0, x1, y1 = poly.bounds
        d = p.region_m
        m = np.flatnonzero(
            (samples.x >= x0 - d) & (samples.x <= x1 + d)
            & (samples.y >= y0 - d) & (samples.y <= y1 + d)
        )  # fmt: skip
        if m.size == 0:
            continue
        inside = shapely.contains_xy(poly, samples.x[m], samples.y[m])
        v = shapely.get_coordinates(shapely.segmentize(poly.boundary, 1000.0))
        dist, _ = cKDTree(v).query(
            np.column_stack([samples.x[m], samples.y[m]]), distance_upper_bound=d + 1.0
        )
        ok = inside | (dist <= d)
        pis.append(m[ok])
        ris.append(np.full(int(ok.sum()), r, np.int64))
    if not pis:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(pis), np.concatenate(ris)


def region_baseline(coarse: Samples, geom: _ZoneGeom, p: EvalParams) -> tuple[Episodes, np.ndarray]:
    """Region-wide baseline episodes (zone = region index) and each region's population."""
    zs = geom.zs
    pop = np.bincount(zs.region, weights=zs.population, minlength=len(zs.region_ids))
    pi, ri = points_near_regions(coarse, geom, p)
    if pi.size == 0:
        e = np.zeros(0)
        return Episodes(np.zeros(0, np.int64), e, e.copy()), pop
    thr = coarse.thr[pi]
    order = np.lexsort((pi, thr, ri))
    pi, ri, thr = pi[order], ri[order], thr[order]
    new = np.r_[True, (ri[1:] != ri[:-1]) | (thr[1:] != thr[:-1]) | (pi[1:] != pi[:-1] + 1)]
    s_idx = np.flatnonzero(new)
    e_idx = np.r_[s_idx[1:] - 1, pi.size - 1]
    start = coarse.t[pi[s_idx]]
    # the threat leaves (or ends) between its last sample inside and the next one
    last = pi[e_idx]
    nxt = np.minimum(last + 1, len(coarse) - 1)
    same = coarse.thr[nxt] == coarse.thr[last]
    leave = np.where(same, 0.5 * (coarse.t[last] + coarse.t[nxt]), coarse.t[last])
    g, s, e = union_intervals(ri[s_idx], start, leave + p.hold_s)
    return Episodes(g, s, e), pop


def oracle_episodes(pairs: Pairs, zs: ZoneSet, p: EvalParams) -> Episodes:
    """Oracle alerts: each threatened zone from t_arr - shelter - 60 s to departure + hold."""
    if len(pairs) == 0:
        e = np.zeros(0)
        return Episodes(np.zeros(0, np.int64), e, e.copy())
    s = pairs.t_arr - zs.shelter_s[pairs.zone] - p.oracle_pre_s
    e = np.maximum(pairs.t_leave, pairs.t_arr) + p.hold_s
    g, s2, e2 = union_intervals(pairs.zone, s, e)
    return Episodes(g, s2, e2)


# ---------------------------------------------------------------------------
# the scorecard
# ---------------------------------------------------------------------------
def _stat(v: np.ndarray, q: float | None = None) -> float | None:
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    return round(float(np.median(v) if q is None else np.percentile(v, q)), 1)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b > 0 else None


@dataclass
class Scorecard:
    """Scores of one alert run against truth, plus the detail arrays behind them."""

    summary: dict[str, Any]
    by_class: dict[str, dict[str, Any]]
    targets: dict[str, dict[str, Any]]
    pairs: Pairs
    zones: ZoneSet
    truth: list[Threat]
    alert_eps: Episodes
    prealert_eps: Episodes
    region_eps: Episodes
    oracle_eps: Episodes
    false_alert: np.ndarray
    params: EvalParams
    stage_seconds: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)  # set by evaluate_files

    def to_json(self) -> dict:
        """Flat-ish JSON: top-level totals, ``by_class`` and ``targets`` (see module doc)."""
        return {
            **self.summary,
            "by_class": self.by_class,
            "targets": self.targets,
            "stage_seconds": {k: round(float(v), 3) for k, v in self.stage_seconds.items()},
            "params": asdict(self.params),
        }

    def zone_hours(self, which: str = "alert") -> np.ndarray:
        """Hours under alert per zone for 'alert', 'pre_alert', 'oracle' or 'region'."""
        n = len(self.zones)
        if which == "region":
            rh = np.bincount(
                self.region_eps.zone,
                weights=self.region_eps.duration,
                minlength=len(self.zones.region_ids),
            )
            return rh[self.zones.region] / 3600.0
        eps = {
            "alert": self.alert_eps,
            "pre_alert": self.prealert_eps,
            "oracle": self.oracle_eps,
        }[which]
        return np.bincount(eps.zone, weights=eps.duration, minlength=n) / 3600.0

    def table(self):
        """A rich Table of the headline scores for the CLI."""
        from rich.table import Table

        s = self.summary
        tab = Table(title="airwarn scorecard", show_lines=False)
        tab.add_column("measure")
        tab.add_column("value", justify="right")
        tab.add_column("target / note")
        tg = self.targets

        def mark(key: str) -> str:
            t = tg.get(key)
            if not t:
                return ""
            ok = t["ok"]
            sym = "[green]met[/]" if ok else ("[red]NOT met[/]" if ok is False else "n/a")
            return f"{t['target']} ({sym})"

        rows = [
            ("threats / zones", f"{s['threats']} / {s['zones']}", ""),
            (
                "threatened pairs (impact / overflight)",
                f"{s['impact_pairs']} / {s['overflight_pairs']}",
                "",
            ),
            (
                "impacts hit / late / miss",
                f"{s['impact_hit']} / {s['impact_late']} / {s['impact_miss']}",
                mark("impact_miss_or_late"),
            ),
            (
                "overflights hit / late / miss",
                f"{s['overflight_hit']} / {s['overflight_late']} / {s['overflight_miss']}",
                mark("overflight_miss_frac"),
            ),
            (
                "lead time median / p10 (s)",
                f"{_sec(s['lead_median_s'])} / {_sec(s['lead_p10_s'])}",
                "",
            ),
            (
                "drone pre-alert lead median (s)",
                _sec(self.by_class.get("drone", {}).get("prealert_lead_median_s")),
                mark("drone_prealert_lead_median_s"),
            ),
            (
                "alert episodes (false)",
                f"{s['alert_episodes']} ({s['false_alert_episodes']}, {_pct(s['false_alert_frac'])})",
                mark("false_alert_frac"),
            ),
            ("person-hours under alert", f"{s['person_hours_alert']:,.0f}", ""),
            ("person-hours under pre-alert", f"{s['person_hours_prealert']:,.0f}", "apart"),
            ("oracle person-hours", f"{s['person_hours_oracle']:,.0f}", "floor"),
            (
                "region-wide person-hours",
                f"{s['person_hours_region_wide']:,.0f}",
                f"{s['region_wide_episodes']} episodes",
            ),
            ("ratio to oracle", _num(s["ratio_to_oracle"]), mark("ratio_to_oracle")),
            ("ratio to region-wide", _num(s["ratio_to_region_wide"]), ""),
        ]
        for r in rows:
            tab.add_row(*r)
        return tab


def _sec(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.0f}"


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


class TruthIndex:
    """Everything the scorecard derives from truth and zones alone, computed once.

    Threatened pairs (unclassified), both baselines and when threats are near each
    zone. ``score`` keeps the last few in a small cache, so sweeping many alert files
    over the same truth and zones (``airwarn tune``) only redoes the alert part.
    """

    def __init__(self, truth: Sequence[Threat], zones: ZoneSet, params: EvalParams):
        p = params
        self.truth = list(truth)
        self.zones = zones
        self.params = p
        self.geom = _ZoneGeom(zones)
        verts = path_vertices(self.truth, zones.frame)
        self.samples = resample(self.truth, zones.frame, p.step_m, p.step_s, verts)
        self.coarse = resample(self.truth, zones.frame, p.coarse_step_m, p.coarse_step_s, verts)
        self.pairs = threatened_pairs(self.truth, self.samples, self.geom, p)
        self.region_eps, self.region_pop = region_baseline(self.coarse, self.geom, p)
        self.oracle_eps = oracle_episodes(self.pairs, zones, p)
        self.near = NearTimes(self.coarse, self.geom, p.false_m, p.false_pad_s)
        self.t_truth_end = max((float(th.t[-1]) for th in self.truth), default=0.0)

    def matches(self, truth: Sequence[Threat], zones: ZoneSet, params: EvalParams) -> bool:
        return (
            zones is self.zones
            and params == self.params
            and len(truth) == len(self.truth)
            and all(a is b for a, b in zip(truth, self.truth, strict=True))
        )


_INDEX_CACHE: list[TruthIndex] = []
_INDEX_CACHE_SIZE = 8


def truth_index(truth: Sequence[Threat], zones: ZoneSet, params: EvalParams) -> TruthIndex:
    """The TruthIndex of these very truth objects and zone set (cached, most recent 8)."""
    for ix in _INDEX_CACHE:
        if ix.matches(truth, zones, params):
            _INDEX_CACHE.remove(ix)
            _INDEX_CACHE.insert(0, ix)
            return ix
    ix = TruthIndex(truth, zones, params)
    _INDEX_CACHE.insert(0, ix)
    del _INDEX_CACHE[_INDEX_CACHE_SIZE:]
    return ix


def score(
    truth: Sequence[Threat],
    alerts: Sequence[AlertChange],
    zones: ZoneSet,
    params: EvalParams | None = None,
    *,
    t_end: float | None = None,
) -> Scorecard:
    """Score alert lines against truth on a zone set (issue 2's scorecard).

    ``t_end`` closes alert episodes still open at the end (default: the later of the
    last alert line and the end of the truth plus ``hold_s``).
    """
    p = params or EvalParams()
    c0 = time.perf_counter()
    ix = truth_index(truth, zones, p)
    truth = ix.truth
    if t_end is None:
        t_end = max(ix.t_truth_end + p.hold_s, max((a.t for a in alerts), default=0.0))
    a_eps, p_eps, w_eps, info = alert_episodes(alerts, zones, t_end)
    pairs = replace(ix.pairs)
    classify(pairs, a_eps, w_eps, zones)
    false_a = false_episodes(a_eps, ix.near, p.false_pad_s)
    false_p = false_episodes(p_eps, ix.near, p.false_pad_s)
    reg_eps, reg_pop, ora_eps = ix.region_eps, ix.region_pop, ix.oracle_eps
    pop = zones.population.astype(float)

    ph_alert = float((pop[a_eps.zone] * a_eps.duration).sum() / 3600.0)
    ph_pre = float((pop[p_eps.zone] * p_eps.duration).sum() / 3600.0)
    ph_false = float((pop[a_eps.zone] * a_eps.duration)[false_a].sum() / 3600.0)
    ph_oracle = float((pop[ora_eps.zone] * ora_eps.duration).sum() / 3600.0)
    ph_region = float((reg_pop[reg_eps.zone] * reg_eps.duration).sum() / 3600.0)

    def counts(mask: np.ndarray) -> dict[str, int]:
        o = pairs.outcome[mask]
        return {name: int((o == k).sum()) for k, name in enumerate(OUTCOMES)}

    imp = pairs.impact
    ci, co = counts(imp), counts(~imp)
    n_over = int((~imp).sum())
    warnable = pairs.flight_s >= zones.shelter_s[pairs.zone] + p.warn_latency_s
    wi, wo = counts(imp & warnable), counts(~imp & warnable)
    n_over_w = int((~imp & warnable).sum())
    alerted = pairs.outcome != MISS
    summary: dict[str, Any] = {
        "threats": len(truth),
        "zones": len(zones),
        "alert_lines": info["alert_lines"],
        "unknown_zone_lines": info["unknown_zone_lines"],
        "pairs": len(pairs),
        "impact_pairs": int(imp.sum()),
        "overflight_pairs": n_over,
        "threats_with_pairs": int(np.unique(pairs.threat).size),
        **{f"impact_{k}": v for k, v in ci.items()},
        **{f"overflight_{k}": v for k, v in co.items()},
        "hit": ci["hit"] + co["hit"],
        "late": ci["late"] + co["late"],
        "miss": ci["miss"] + co["miss"],
        "overflight_miss_frac": _ratio(co["miss"], n_over),
        "warnable_pairs": int(warnable.sum()),
        "impact_late_warnable": wi["late"],
        "impact_miss_warnable": wi["miss"],
        "overflight_late_warnable": wo["late"],
        "overflight_miss_warnable": wo["miss"],
        "overflight_miss_frac_warnable": _ratio(wo["miss"], n_over_w),
        "cleared_before_arrival": int(pairs.cleared_before.sum()),
        "miss_alerted_during_passage": int(np.isfinite(pairs.alert_after_s).sum()),
        "lead_median_s": _stat(pairs.lead_s[alerted]),
        "lead_p10_s": _stat(pairs.lead_s[alerted], 10),
        "prealert_lead_median_s": _stat(pairs.warn_lead_s),
        "warned_pairs": int(np.isfinite(pairs.warn_lead_s).sum()),
        "alert_episodes": len(a_eps),
        "prealert_episodes": len(p_eps),
        "open_alert_episodes": info["open_alert_episodes"],
        "false_alert_episodes": int(false_a.sum()),
        "false_alert_frac": _ratio(int(false_a.sum()), len(a_eps)),
        "false_prealert_episodes": int(false_p.sum()),
        "false_prealert_frac": _ratio(int(false_p.sum()), len(p_eps)),
        "zones_alerted": int(np.unique(a_eps.zone).size),
        "zones_threatened": int(np.unique(pairs.zone).size),
        "person_hours_alert": round(ph_alert, 3),
        "person_hours_prealert": round(ph_pre, 3),
        "person_hours_false_alert": round(ph_false, 3),
        "person_hours_oracle": round(ph_oracle, 3),
        "person_hours_region_wide": round(ph_region, 3),
        "ratio_to_oracle": _ratio(ph_alert, ph_oracle),
        "ratio_to_region_wide": _ratio(ph_alert, ph_region),
        "oracle_to_region_wide": _ratio(ph_oracle, ph_region),
        "oracle_episodes": len(ora_eps),
        "region_wide_episodes": len(reg_eps),
        "t_end": round(float(t_end), 1),
    }
    by_class: dict[str, dict[str, Any]] = {}
    for code, name in enumerate(THREAT_CLASSES):
        m = pairs.cls == code
        n_thr = sum(1 for th in truth if th.cls == name)
        if not m.any() and n_thr == 0:
            continue
        ci_c, co_c = counts(m & imp), counts(m & ~imp)
        by_class[name] = {
            "threats": n_thr,
            "pairs": int(m.sum()),
            "impact_pairs": int((m & imp).sum()),
            "overflight_pairs": int((m & ~imp).sum()),
            **{f"impact_{k}": v for k, v in ci_c.items()},
            **{f"overflight_{k}": v for k, v in co_c.items()},
            "lead_median_s": _stat(pairs.lead_s[m & alerted]),
            "lead_p10_s": _stat(pairs.lead_s[m & alerted], 10),
            "prealert_lead_median_s": _stat(pairs.warn_lead_s[m]),
        }
    drone_pre = by_class.get("drone", {}).get("prealert_lead_median_s")
    targets = {
        "impact_miss_or_late": {
            "target": "0 where warnable",
            "value": ci["miss"] + ci["late"],
            "warnable": wi["miss"] + wi["late"],
            "ok": (wi["miss"] + wi["late"]) == 0,
        },
        "overflight_miss_frac": {
            "target": "<= 1%",
            "value": summary["overflight_miss_frac"],
            "ok": None if n_over == 0 else co["miss"] / n_over <= 0.01,
        },
        "ratio_to_oracle": {
            "target": "<= 1.5",
            "value": summary["ratio_to_oracle"],
            "ok": None if summary["ratio_to_oracle"] is None else summary["ratio_to_oracle"] <= 1.5,
        },
        "drone_prealert_lead_median_s": {
            "target": ">= 600 s",
            "value": drone_pre,
            "ok": None if drone_pre is None else drone_pre >= 600.0,
        },
        "false_alert_frac": {
            "target": "<= 20%",
            "value": summary["false_alert_frac"],
            "ok": None
            if summary["false_alert_frac"] is None
            else summary["false_alert_frac"] <= 0.2,
        },
    }
    summary["score_seconds"] = round(time.perf_counter() - c0, 3)
    return Scorecard(
        summary=summary,
        by_class=by_class,
        targets=targets,
        pairs=pairs,
        zones=zones,
        truth=truth,
        alert_eps=a_eps,
        prealert_eps=p_eps,
        region_eps=reg_eps,
        oracle_eps=ora_eps,
        false_alert=false_a,
        params=p,
    )
