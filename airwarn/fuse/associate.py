"""Hypothesiser (gating with a k-d tree) and data associator (clustered GNN).

The hypothesiser finds every (track, report) pair inside a Mahalanobis gate without
forming the full track x report matrix: a :class:`scipy.spatial.cKDTree` over the
reports answers, for each track, the reports within a Euclidean radius that bounds its
gate; the Mahalanobis distance is then computed for those candidate pairs only, all at
once. The associator splits the bipartite gating graph into connected clusters: a
cluster of one track and one report (the usual case) is assigned in one vectorised
step; larger clusters are solved by global nearest neighbour with
:func:`scipy.optimize.linear_sum_assignment`.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


def gate_pairs(
    tpos: np.ndarray,
    tcov: np.ndarray,
    mpos: np.ndarray,
    mvar: np.ndarray,
    gate_d2: float,
    extra_var: np.ndarray | None = None,
    tvel: np.ndarray | None = None,
    mdt: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hypothesiser: gated (track, report) pairs with their GNN cost.

    ``tpos`` (N, 2) predicted horizontal positions, ``tcov`` (N, 2, 2) their covariance,
    ``mpos`` (M, 2) report positions with isotropic variance ``mvar`` (M,). For each pair
    ``S = Pt + var_m I``, ``d2 = r^T S^-1 r``; pairs with ``d2 <= gate_d2`` are kept with
    cost ``d2 + ln|S|`` (the negative log-likelihood up to a constant).
    With ``tvel`` (N, 2) track velocities and ``mdt`` (M,) report times relative to
    the prediction time, each track is moved to each report's own time first.
    Returns (track index, report index, cost) arrays.
    """
    nt, nm = tpos.shape[0], mpos.shape[0]
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if nt == 0 or nm == 0:
        return empty
    # Euclidean bound of each track's gate: sqrt(gate_d2 * largest eigenvalue of S)
    a, b, c = tcov[:, 0, 0], tcov[:, 0, 1], tcov[:, 1, 1]
    lam = 0.5 * (a + c) + np.sqrt(0.25 * (a - c) ** 2 + b * b)
    r = np.sqrt(gate_d2 * (lam + mvar.max()))
    shift = tvel is not None and mdt is not None and bool(np.any(mdt != 0))
    if shift:
        r = r + np.hypot(tvel[:, 0], tvel[:, 1]) * float(np.abs(mdt).max())
    ti, mj = candidate_pairs(tpos, r, mpos)
    if ti.size == 0:
        return empty
    d = mpos[mj] - tpos[ti]
    if shift:
        d -= tvel[ti] * mdt[mj, None]
    sa = a[ti] + mvar[mj]
    sb = b[ti]
    sc = c[ti] + mvar[mj]
    if extra_var is not None:
        sa = sa + extra_var[ti]
        sc = sc + extra_var[ti]
    det = sa * sc - sb * sb
    d2 = (sc * d[:, 0] ** 2 - 2 * sb * d[:, 0] * d[:, 1] + sa * d[:, 1] ** 2) / det
    keep = d2 <= gate_d2
    ti, mj = ti[keep], mj[keep]
    cost = d2[keep] + np.log(det[keep])
    return ti, mj, cost


def candidate_pairs(
    tpos: np.ndarray, r: np.ndarray, mpos: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Spatial index: (track, report) pairs closer than the track's radius ``r`` (or a bit more).

    Most tracks have small gates: their reports come from a uniform grid hash (cell =
    the 95th percentile radius; reports sorted by cell key, each track's 3x3 cell
    neighbourhood found with ``searchsorted``, all vectorised). The few tracks with
    larger gates (coasting, just started) ask a :class:`scipy.spatial.cKDTree`.
    """
    nt, nm = tpos.shape[0], mpos.shape[0]
    if nt * nm <= 4096:  # small scans: every pair, no index
        d = np.hypot(tpos[:, None, 0] - mpos[None, :, 0], tpos[:, None, 1] - mpos[None, :, 1])
        ti, mj = np.nonzero(d <= r[:, None])
        return ti, mj
    k95 = min(nt - 1, int(0.95 * nt))
    cell = float(max(np.partition(r, k95)[k95], 1.0))
    small = r <= cell
    ti_parts, mj_parts = [], []
    si = np.flatnonzero(small)
    if si.size:
        lo = np.minimum(tpos[si].min(axis=0), mpos.min(axis=0)) - 2 * cell
        mc = np.floor((mpos - lo) / cell).astype(np.int64)
        span = int(mc[:, 1].max()) + 4
        mkey = mc[:, 0] * span + mc[:, 1]
        morder = np.argsort(mkey, kind="stable")
        skey = mkey[morder]
        tc = np.floor((tpos[si] - lo) / cell).astype(np.int64)
        for dx in (-1, 0, 1):
            base = (tc[:, 0] + dx) * span + tc[:, 1]
            a = np.searchsorted(skey, base - 1, "left")
            b = np.searchsorted(skey, base + 1, "right")
            cnt = b - a
            tot = int(cnt.sum())
            if tot == 0:
                continue
            tt = np.repeat(si, cnt)
            start = np.repeat(a - np.cumsum(cnt) + cnt, cnt)
            ti_parts.append(tt)
            mj_parts.append(morder[start + np.arange(tot)])
    bi = np.flatnonzero(~small)
    if bi.size:
        lists = cKDTree(mpos).query_ball_point(tpos[bi], r[bi], return_sorted=True)
        lens = np.fromiter((len(v) for v in lists), np.int64, count=bi.size)
        ti_parts.append(np.repeat(bi, lens))
        mj_parts.append(np.fromiter((j for v in lists for j in v), np.int64, count=lens.sum()))
    if not ti_parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ti_parts), np.concatenate(mj_parts)


def gnn_assign(
    ti: np.ndarray, mj: np.ndarray, cost: np.ndarray, nt: int, nm: int
) -> tuple[np.ndarray, np.ndarray]:
    """Data associator: global nearest neighbour per cluster of gated pairs.

    Returns assigned (track index, report index) arrays, each track and each report
    used at most once, minimising the summed cost within every cluster. Clusters of a
    single pair are taken directly (vectorised); others go to linear_sum_assignment.
    """
    if ti.size == 0:
        return ti, mj
    # trivial pairs: track with exactly one candidate whose report has exactly one track
    tc = np.bincount(ti, minlength=nt)
    mc = np.bincount(mj, minlength=nm)
    single = (tc[ti] == 1) & (mc[mj] == 1)
    out_t = [ti[single]]
    out_m = [mj[single]]
    rest = ~single
    if rest.any():
        rt, rm, rc = ti[rest], mj[rest], cost[rest]
        comp = _components(rt, rm)
        order = np.argsort(comp, kind="stable")
        rt, rm, rc, comp = rt[order], rm[order], rc[order], comp[order]
        bounds = np.flatnonzero(np.diff(comp)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [comp.size]))
        big = 1e9
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            ct, cm, cc = rt[s:e], rm[s:e], rc[s:e]
            ut, it = np.unique(ct, return_inverse=True)
            um, im = np.unique(cm, return_inverse=True)
            # square-padded cost: a dummy "missed" column per track keeps assignment optional
            M = np.full((ut.size, um.size), big)
            M[it, im] = cc
            rows, cols = linear_sum_assignment(M)
            ok = M[rows, cols] < big
            out_t.append(ut[rows[ok]])
            out_m.append(um[cols[ok]])
    return np.concatenate(out_t), np.concatenate(out_m)


def _components(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cluster label of each edge (a[k], b[k]) of a bipartite graph (label propagation).

    Small clusters converge in a few vectorised sweeps; a sweep cap falls back to
    scipy's connected_components for long chains.
    """
    ua, ia = np.unique(a, return_inverse=True)
    ub, ib = np.unique(b, return_inverse=True)
    la = np.arange(ua.size)
    lb = np.full(ub.size, ua.size + 1)
    for _ in range(12):
        np.minimum.at(lb, ib, la[ia])
        new = la.copy()
        np.minimum.at(new, ia, lb[ib])
        if np.array_equal(new, la):
            return la[ia]
        la = new
    g = coo_matrix((np.ones(a.size), (ia, ib + ua.size)), shape=(ua.size + ub.size,) * 2)
    _, lab = connected_components(g, directed=False)
    return lab[ia]


def cluster_points(pos: np.ndarray, radius: float) -> np.ndarray:
    """Connected-component labels of points linked when closer than ``radius``."""
    n = pos.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    pairs = cKDTree(pos).query_pairs(radius, output_type="ndarray")
    if pairs.size == 0:
        return np.arange(n)
    g = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, lab = connected_components(g, directed=False)
    return lab
