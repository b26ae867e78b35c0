"""Calibration of the predictor against known paths (simulated truth or any other routes).

At sample times, every airborne threat becomes a confirmed track built from its true
path (plus position/velocity errors of a given size); the predictor's (zone, track)
rows are compared with the zones each path really reaches within the horizon. Used by
``bench/predict_calibration.py`` (simulator scenarios) and the tests (synthetic routes
with other turn statistics than the predictor's model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, Threat, TrackState
from airwarn.decide.policy import Policy
from airwarn.predict.predictor import Predictor
from airwarn.zones.zoneset import ZoneSet

P_BINS = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0001)
"""Bins of predicted probability for the reliability table."""
LEAD_BINS = (0.0, 300.0, 900.0, 1800.0)
"""Bins of true arrival time (s after the prediction) for recall."""


@dataclass
class Path:
    """A threat's true path in the local frame."""

    cls: str
    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    impact: tuple[float, float, float] | None = None  # (t, x, y)


def paths_from_truth(threats: Sequence[Threat], zones: ZoneSet) -> list[Path]:
    """Truth records (WGS84) as local-frame paths."""
    out = []
    for th in threats:
        x, y = zones.frame.to_local(th.lat, th.lon)
        imp = None
        if th.impact is not None:
            ix, iy = zones.frame.to_local(th.impact["lat"], th.impact["lon"])
            imp = (float(th.impact["t"]), float(ix), float(iy))
        out.append(Path(th.cls, th.t, x, y, th.alt_m, imp))
    return out


def tracks_at(
    paths: Sequence[Path],
    t: float,
    sigma_pos: float,
    sigma_vel: float,
    rng: np.random.Generator | None,
) -> tuple[TrackState, np.ndarray]:
    """Confirmed tracks of the threats airborne at ``t`` (and their path indices), with
    errors of the given sds drawn from ``rng`` (None: true states, the same covariance)."""
    idx = np.array([i for i, p in enumerate(paths) if p.t[0] <= t < p.t[-1]], np.int64)
    n = idx.size
    x = np.zeros((n, 6))
    for j, i in enumerate(idx):
        p = paths[i]
        h = max(1.0, float(np.median(np.diff(p.t))) if p.t.size > 1 else 1.0)
        ta, tb = max(p.t[0], t - h / 2), min(p.t[-1], t + h / 2)
        for c, arr in enumerate((p.x, p.y, p.z)):
            a, b = np.interp([ta, tb], p.t, arr)
            x[j, c] = np.interp(t, p.t, arr)
            x[j, c + 3] = (b - a) / max(tb - ta, 1e-6)
    if rng is not None:
        x[:, 0:3] += rng.normal(0, sigma_pos, (n, 3))
        x[:, 3:6] += rng.normal(0, sigma_vel, (n, 3))
    P = np.zeros((n, 6, 6))
    for c in range(3):
        P[:, c, c] = sigma_pos**2
        P[:, c + 3, c + 3] = sigma_vel**2
    codes = np.array([CLS_CODE[paths[i].cls] for i in idx], np.int64)
    prob = np.zeros((n, len(THREAT_CLASSES)))
    prob[np.arange(n), codes] = 1.0
    ts = TrackState(
        t=float(t),
        ids=idx + 1,
        x=x,
        P=P,
        cls=codes,
        cls_prob=prob,
        confirmed=np.ones(n, bool),
        last_update=np.full(n, float(t)),
        n_updates=np.full(n, 20, np.int64),
    )
    return ts, idx


def true_arrivals(
    path: Path, t: float, horizon: float, zones: ZoneSet, reach_m: float
) -> dict[int, float]:
    """{zone index: seconds after t} of the zones the path reaches within the horizon.

    Air-breathing: first time within ``reach_m`` of the polygon; ballistic: the impact
    only (inside or within reach of the polygon).
    """
    if path.cls == "ballistic":
        if path.impact is None or not t <= path.impact[0] <= t + horizon:
            return {}
        ti, ix, iy = path.impact
        cand = zones.near(ix, iy, reach_m)
        if cand.size == 0:
            return {}
        d = zones.distance(np.full(cand.size, ix), np.full(cand.size, iy), cand)
        return {int(z): ti - t for z in cand[d <= reach_m]}
    m = (path.t >= t) & (path.t <= t + horizon)
    if not m.any():
        return {}
    # resample at <= 200 m spacing so a pass is not missed between truth samples
    tt = path.t[m]
    if tt.size > 1:
        sp = np.hypot(np.diff(path.x[m]), np.diff(path.y[m])).max() / max(np.diff(tt).min(), 1e-6)
        n = int(np.ceil((tt[-1] - tt[0]) * max(sp, 1.0) / 200.0)) + 1
        tt = np.linspace(tt[0], tt[-1], max(n, 2))
    px, py = np.interp(tt, path.t, path.x), np.interp(tt, path.t, path.y)
    lists = zones.tree.query_ball_point(np.column_stack([px, py]), reach_m + zones.max_radius)
    cnt = np.array([len(v) for v in lists])
    if cnt.sum() == 0:
        return {}
    pi = np.repeat(np.arange(tt.size), cnt)
    zi = np.concatenate([np.asarray(v, np.int64) for v in lists if len(v)])
    polys = np.array(zones.polys, dtype=object)
    d = shapely.distance(shapely.points(px[pi], py[pi]), polys[zi])
    ok = d <= reach_m
    out: dict[int, float] = {}
    for z, tv in zip(zi[ok], tt[pi[ok]], strict=True):
        if int(z) not in out:
            out[int(z)] = float(tv - t)
    return out


@dataclass
class Calibration:
    """Predicted rows matched with true arrivals over many (track, time) samples."""

    p: np.ndarray  # predicted p_reach per (sample, zone) pair (0 when not predicted)
    arrived: np.ndarray  # bool: the path really reached the zone within the horizon
    lead: np.ndarray  # true arrival, s after the prediction (nan if not)
    eta_p10: np.ndarray  # predicted (nan if not predicted)
    eta_p50: np.ndarray
    cls: np.ndarray  # class code

    def recall(self, p_min: float, lead_lo: float = 0.0, lead_hi: float = np.inf) -> float:
        """Share of true arrivals (with lead in range) predicted with p_reach >= p_min."""
        m = self.arrived & (self.lead >= lead_lo) & (self.lead < lead_hi)
        return float(np.mean(self.p[m] >= p_min)) if m.any() else float("nan")

    def reliability(self) -> list[tuple[float, float, int, float]]:
        """(bin lo, bin hi, pairs, observed arrival frequency) over predicted pairs."""
        out = []
        for lo, hi in zip(P_BINS[:-1], P_BINS[1:], strict=True):
            m = (self.p >= lo) & (self.p < hi) & (self.p > 0)
            out.append((lo, hi, int(m.sum()), float(self.arrived[m].mean()) if m.any() else np.nan))
        return out

    def eta_early(self, p_min: float = 0.05) -> tuple[float, float]:
        """Shares of true arrivals (predicted with p >= p_min) earlier than eta_p10 / eta_p50."""
        m = self.arrived & (self.p >= p_min)
        if not m.any():
            return float("nan"), float("nan")
        return float(np.mean(self.lead[m] < self.eta_p10[m])), float(
            np.mean(self.lead[m] < self.eta_p50[m])
        )


def calibrate(
    paths: Sequence[Path],
    zones: ZoneSet,
    policy: Policy,
    times: Sequence[float],
    *,
    sigma_pos: float = 300.0,
    sigma_vel: float = 3.0,
    seed: int = 0,
    survivors: bool = True,
) -> Calibration:
    """Run a fresh predictor (no ghosts) at each time and match its rows with the truth.

    ``survivors``: score only (threat, time) samples whose path lasts the whole horizon or
    ends in an impact (a threat downed within the horizon cannot be foreseen).
    """
    pred = Predictor(zones, policy)
    rng = np.random.default_rng(seed)
    reach = pred.cfg.reach_m
    cols: dict[str, list] = {k: [] for k in ("p", "arr", "lead", "e10", "e50", "cls")}
    for t in times:
        ts, idx = tracks_at(paths, float(t), sigma_pos, sigma_vel, rng)
        if len(ts) == 0:
            continue
        pred._prev = None  # every sample time stands alone: no ghosts, no reuse
        pred.cache = type(pred.cache)()
        zt = pred.update(ts)
        model = pred.models(ts)
        for j, i in enumerate(idx):
            p = paths[i]
            if p.cls not in ("drone", "jet_drone", "cruise", "ballistic"):
                continue
            hz = (
                pred.cfg.ballistic.horizon_s
                if model[j] == 4
                else pred.cfg.routes[
                    ("drone", "jet_drone", "cruise", "unknown")[model[j]]
                ].horizon_s
            )
            if survivors and p.impact is None and p.t[-1] < t + hz:
                continue
            truth = true_arrivals(p, float(t), hz, zones, reach)
            m = zt.track == ts.ids[j]
            pz = dict(zip(zt.zone[m].tolist(), range(int(m.sum())), strict=True))
            rows = np.flatnonzero(m)
            allz = sorted(set(truth) | set(pz))
            for z in allz:
                r = rows[pz[z]] if z in pz else None
                cols["p"].append(zt.p_reach[r] if r is not None else 0.0)
                cols["arr"].append(z in truth)
                cols["lead"].append(truth.get(z, np.nan))
                cols["e10"].append(zt.eta_p10[r] if r is not None else np.nan)
                cols["e50"].append(zt.eta_p50[r] if r is not None else np.nan)
                cols["cls"].append(CLS_CODE[p.cls])
    return Calibration(
        p=np.asarray(cols["p"], float),
        arrived=np.asarray(cols["arr"], bool),
        lead=np.asarray(cols["lead"], float),
        eta_p10=np.asarray(cols["e10"], float),
        eta_p50=np.asarray(cols["e50"], float),
        cls=np.asarray(cols["cls"], np.int64),
    )
