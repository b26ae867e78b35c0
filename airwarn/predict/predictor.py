"""The predict stage: per (zone, track) probability and time of arrival.

``Predictor.update(tracks)`` turns the confirmed tracks (and ghosts of tracks that
fusion deleted) into sparse :class:`~airwarn.contracts.ZoneThreats` rows:

* air-breathing threats (drone, jet drone, cruise, unknown) — K route samples per
  track (:mod:`airwarn.predict.routes`) are propagated over the class horizon; a zone
  is reached by a sample when a sample point falls in a grid cell listing it
  (:mod:`airwarn.predict.raster`, i.e. within ``reach_m`` of its polygon); a strike
  is a sample reaching its target zone;
* ballistic threats — impact-point samples (:mod:`airwarn.predict.ballistic`): a zone
  is reached by an impact within ``reach_m``, by the last ``terminal_m`` of a sample's
  fall, and (``path_samples`` of the samples, in slots of their own merged afterwards) by
  its ground track from the present position; struck by an impact inside the polygon.

``p_reach`` = share of samples reaching the zone within the horizon, ``p_impact`` =
share striking inside it; ``eta_p10`` / ``eta_p50`` are quantiles of the first
arrival time among the samples that reach the zone (conditional on reaching).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from airwarn.contracts import (
    CLS_CODE,
    THREAT_CLASSES,
    SensorHealth,
    TrackState,
    ZoneThreats,
)
from airwarn.decide.policy import Policy
from airwarn.geo import LiveCover, within_any_circle
from airwarn.predict.ballistic import DescentFit, sample_impacts
from airwarn.predict.config import PredictConfig
from airwarn.predict.raster import ZoneRaster
from airwarn.predict.routes import (
    NoiseTable,
    RouteState,
    TargetSet,
    advance,
    forecast,
    initial_state,
)
from airwarn.zones.zoneset import ZoneSet

ROUTE_MODELS: tuple[str, ...] = ("drone", "jet_drone", "cruise", "unknown")
"""Motion models of air-breathing threats, by model code 0..3."""
BALLISTIC = len(ROUTE_MODELS)
"""Model code of ballistic threats."""
STRUCK_VZ = 50.0
"""A deleted track below ground diving faster than this (m/s, two sigma) has struck."""
NOT_PREDICTED = -1
"""Model code of tracks that never trigger alerts (aircraft)."""
NOISE_ROWS = 64
"""Rows of the common-random-number table (tracks share rows by id modulo this)."""
CONF_FORGET_S = 3600.0
"""A track gone from fusion this long (s), with no ghost, is forgotten (its birth key)."""


@dataclass
class _Hits:
    """Bit-packed (slot, zone, sample, eta tick) keys of arrivals; ``strike`` keys: impacts."""

    reach: np.ndarray
    strike: np.ndarray


@dataclass
class _RouteGhosts:
    """Lost air-breathing tracks of one motion model, as route-sample clouds."""

    ids: np.ndarray
    cls: np.ndarray
    t_lost: np.ndarray
    t_cloud: np.ndarray
    t_meas: np.ndarray  # time of the lost track's last measurement
    state: RouteState
    covered: np.ndarray  # (N, K) seconds inside live coverage, radars' at their slower rate
    thinned: np.ndarray  # (N,) bool: samples were dropped since the ghost's last prediction
    heard: np.ndarray  # (N,) bool: a sample has been inside live acoustic coverage

    def keep(self, m: np.ndarray) -> None:
        """Keep only ghosts where ``m`` is true."""
        self.ids, self.cls = self.ids[m], self.cls[m]
        self.t_lost, self.t_cloud, self.t_meas = self.t_lost[m], self.t_cloud[m], self.t_meas[m]
        self.state = self.state.take(np.flatnonzero(m))
        self.covered, self.thinned, self.heard = self.covered[m], self.thinned[m], self.heard[m]


@dataclass
class _BallisticGhosts:
    """Lost ballistic tracks: their last state, re-evaluated with the closed form."""

    ids: np.ndarray
    cls: np.ndarray
    t_lost: np.ndarray
    x: np.ndarray
    P: np.ndarray
    a_mean: np.ndarray
    a_sigma: np.ndarray
    t_end: np.ndarray

    def keep(self, m: np.ndarray) -> None:
        """Keep only ghosts where ``m`` is true."""
        for f in ("ids", "cls", "t_lost", "x", "P", "a_mean", "a_sigma", "t_end"):
            setattr(self, f, getattr(self, f)[m])


def _empty_route_ghosts(k: int) -> _RouteGhosts:
    z = np.zeros((0, k))
    st = RouteState(z, z, z, z, z, np.zeros((0, k), np.int64), z, np.zeros((0, k), bool))
    z0 = np.zeros(0)
    nb = np.zeros(0, bool)
    return _RouteGhosts(
        np.zeros(0, np.int64), np.zeros(0, np.int64), z0, z0, z0, st, z.copy(), nb, nb
    )


def _member(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    """Bool mask: which values of ``a`` occur in the sorted array ``sorted_b``."""
    if sorted_b.size == 0:
        return np.zeros(a.shape, bool)
    pos = np.minimum(np.searchsorted(sorted_b, a), sorted_b.size - 1)
    return sorted_b[pos] == a


class _RowCache:
    """Rows of the last full prediction of each track, reused (ETAs shifted) until stale.

    A track is predicted afresh when it is new, changes between live and lost, its
    prediction is older than its model's ``refresh_s``, or it has turned, changed speed or
    drifted from its dead-reckoned position by more than the ``refresh_*`` limits.
    """

    FIELDS = ("zone", "track", "cls", "p_reach", "p_impact", "eta_p10", "eta_p50", "lost", "eta_q")

    def __init__(self) -> None:
        self.ids = np.zeros(0, np.int64)  # sorted
        self.t_pred = np.zeros(0)
        self.lost = np.zeros(0, bool)
        self.x = np.zeros((0, 6))
        self.rows = ZoneThreats.empty(0.0)
        self.row_t = np.zeros(0)

    def _find(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.minimum(np.searchsorted(self.ids, ids), max(self.ids.size - 1, 0))
        hit = self.ids[pos] == ids if self.ids.size else np.zeros(ids.size, bool)
        return pos, hit

    def need(
        self,
        ids: np.ndarray,
        lost: np.ndarray,
        x: np.ndarray,
        t: float,
        refresh_s: float,
        cfg: PredictConfig,
    ) -> np.ndarray:
        """Bool mask of the tracks to predict afresh (``x`` rows of ghosts are ignored)."""
        pos, hit = self._find(ids)
        need = ~hit | (self.lost[pos] != lost) if self.ids.size else np.ones(ids.size, bool)
        if not hit.any():
            return need
        age = t - self.t_pred[pos]
        # each track gets its own refresh period in [refresh_s / 2, refresh_s] (from its id),
        # so that tracks born together do not all refresh on the same tick
        spread = 0.5 + 0.5 * ((ids * 0.6180339887498949) % 1.0)
        need |= age >= refresh_s * spread - 1e-6
        x0 = self.x[pos]
        v0, v1 = x0[:, 3:5], x[:, 3:5]
        s0, s1 = np.hypot(v0[:, 0], v0[:, 1]), np.hypot(v1[:, 0], v1[:, 1])
        with np.errstate(invalid="ignore"):
            cosd = (v0 * v1).sum(1) / np.maximum(s0 * s1, 1e-9)
            turned = cosd < np.cos(np.radians(cfg.refresh_turn_deg))
            sped = np.abs(s1 - s0) > cfg.refresh_speed_frac * np.maximum(s0, 1.0)
            off = np.hypot(*(x[:, 0:2] - x0[:, 0:2] - v0 * age[:, None]).T) > cfg.refresh_offset_m
            bad = ~np.isfinite(cosd) | ~np.isfinite(off)
        need |= ~lost & (turned | sped | off | (bad & (age > 0)))
        return need

    def merge(
        self,
        t: float,
        fresh: ZoneThreats,
        fresh_ids: np.ndarray,
        fresh_lost: np.ndarray,
        fresh_x: np.ndarray,
        held: np.ndarray,
    ) -> ZoneThreats:
        """Store the fresh rows, keep cached rows of ``held`` tracks not refreshed; output all."""
        old = self.rows
        held_s, fresh_s = np.sort(held), np.sort(fresh_ids)
        keep = _member(old.track, held_s) & ~_member(old.track, fresh_s)
        if len(fresh) or not keep.all():
            cols = {
                f: np.concatenate([getattr(old, f)[keep], getattr(fresh, f)]) for f in self.FIELDS
            }
            row_t = np.concatenate([self.row_t[keep], np.full(len(fresh), t)])
            o = np.lexsort((cols["zone"], cols["track"]))
            cols = {f: v[o] for f, v in cols.items()}
            self.row_t = row_t[o]
            self.rows = ZoneThreats(t=t, **cols)
        # per-track meta
        km = _member(self.ids, held_s) & ~_member(self.ids, fresh_s)
        ids = np.concatenate([self.ids[km], fresh_ids])
        oo = np.argsort(ids, kind="stable")
        self.ids = ids[oo]
        self.t_pred = np.concatenate([self.t_pred[km], np.full(fresh_ids.size, t)])[oo]
        self.lost = np.concatenate([self.lost[km], fresh_lost])[oo]
        self.x = np.concatenate([self.x[km], fresh_x])[oo]
        shift = t - self.row_t
        out = ZoneThreats(t=t, **{f: self.rows.__getattribute__(f).copy() for f in self.FIELDS})
        out.eta_p10 = np.maximum(out.eta_p10 - shift, 0.0)
        out.eta_p50 = np.maximum(out.eta_p50 - shift, 0.0)
        out.eta_q = np.maximum(out.eta_q - shift, 0.0)
        return out


class Predictor:
    """Where and when each threat can arrive, for every confirmed track and lost-track ghost."""

    def __init__(self, zones: ZoneSet, policy: Policy):
        self.cfg = PredictConfig.from_policy(policy.predict if policy is not None else {})
        self.zones = zones
        # route points are step_m apart: a pass at reach_m between two of them comes within
        # hypot(reach_m, step_m / 2) of one
        self.raster = ZoneRaster(
            zones,
            math.hypot(self.cfg.reach_m, 0.5 * self.cfg.step_m),
            self.cfg.grid_m,
            self.cfg.grid_pad,
        )
        self.targets = TargetSet(zones.cx, zones.cy, zones.population, self.cfg.target_zones)
        k = self.cfg.samples
        self.dt = {m: self.cfg.step_m / self.cfg.routes[m].speed_nominal for m in ROUTE_MODELS}
        self.n_steps = {
            m: max(1, math.ceil(self.cfg.routes[m].horizon_s / self.dt[m])) for m in ROUTE_MODELS
        }
        self.noise = NoiseTable.make(NOISE_ROWS, k, max(self.n_steps.values()), self.cfg.seed)
        self.step_noise = {
            m: self.noise.for_model(self.cfg.routes[m], self.dt[m]) for m in ROUTE_MODELS
        }
        g = np.random.default_rng(self.cfg.seed + 7)
        kb_ = int(self.cfg.ballistic.samples)
        # stratified uniforms for the fall acceleration: the impact strip is covered evenly
        strat = (
            np.argsort(g.random((NOISE_ROWS, kb_)), axis=1) + g.random((NOISE_ROWS, kb_))
        ) / kb_
        self.ball_noise = np.concatenate(
            [g.standard_normal((NOISE_ROWS, kb_, 9)), strat[..., None]], axis=2
        )
        self.descent = DescentFit()
        horizons = [r.horizon_s for r in self.cfg.routes.values()] + [self.cfg.ballistic.horizon_s]
        self._tb = int(math.ceil(max(horizons) + 1)).bit_length()  # eta ticks (s)
        self._tmask = (1 << self._tb) - 1
        self._kb = max(1, (max(k, kb_) - 1).bit_length())
        self._zb = max(1, (len(zones) - 1).bit_length())
        self._sh_zone = self._kb + self._tb
        self._sh_slot = self._zb + self._sh_zone
        if self._sh_slot > 62 - 16:
            raise ValueError("too many zones x samples x horizon to pack predict keys")
        self.ghosts = {m: _empty_route_ghosts(k) for m in ROUTE_MODELS}
        self.bghosts = _BallisticGhosts(
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0),
            np.zeros((0, 6)),
            np.zeros((0, 6, 6)),
            np.zeros(0),
            np.zeros(0),
            np.zeros(0),
        )
        self.cache = _RowCache()
        self._prev: TrackState | None = None
        self._prev_model = np.zeros(0, np.int64)
        self._cls = np.zeros(0, np.int64)  # class reported per track this update (dives: ballistic)
        self._conf_ids = np.zeros(0, np.int64)  # sorted ids confirmed (see _forget)
        self._conf_t0 = np.zeros(0)  # time each was first seen confirmed
        self._conf_key = np.zeros(0, np.int64)  # its birth key (seeds its noise)
        self._conf_seen = np.zeros(0)  # time each was last among fusion's tracks
        self._forgot_t = -math.inf  # time of the last _forget
        self._t_prev: float | None = None  # time of the previous update
        c = self.cfg
        self._cover = LiveCover(
            c.ghost_cover_frac,
            c.ghost_radar_alt_m if c.ghost_radar_cover else None,
            c.ghost_radar_mast_max_m,
            c.ghost_radar_mast_unknown_m,
        )

    # ------------------------------------------------------------------ public
    def idle(self) -> bool:
        """True when no lost-track ghost is still propagated."""
        return self.n_ghosts == 0

    @property
    def n_ghosts(self) -> int:
        """Number of lost-track ghosts held."""
        return sum(len(g.ids) for g in self.ghosts.values()) + len(self.bghosts.ids)

    def update(self, tracks: TrackState, health: SensorHealth | None = None) -> ZoneThreats:
        """Sparse (zone, track) arrival probabilities and ETAs at ``tracks.t``.

        ``health`` (which sensors are alive) lets lost-track ghosts use negative
        information: route samples that stay unheard inside the coverage of live acoustic
        posts or radars are dropped. Without it ghosts only spread.
        """
        t = float(tracks.t)
        diving = tracks.diving(self.cfg.dive_vz)
        model = self._models(tracks, diving)
        live = np.asarray(tracks.confirmed, bool) & (model != NOT_PREDICTED)
        # a diving track of another class is predicted, and reported, as falling (ballistic)
        self._cls = np.where(diving & (model == BALLISTIC), CLS_CODE["ballistic"], tracks.cls)
        self._cls = self._cls.astype(np.int64)
        self._bookkeep(tracks, live, model, t, health)

        slots_id: list[np.ndarray] = []
        slots_cls: list[np.ndarray] = []
        slots_lost: list[np.ndarray] = []
        slots_w: list[np.ndarray] = []
        slots_x: list[np.ndarray] = []
        slots_pmin: list[np.ndarray] = []
        held: list[np.ndarray] = []
        hits: list[_Hits] = []
        n_slot = n_path = 0
        for code, name in enumerate(ROUTE_MODELS):
            idx = np.flatnonzero(live & (model == code))
            gh = self.ghosts[name]
            if idx.size == 0 and len(gh.ids) == 0:
                continue
            rm = self.cfg.routes[name]
            ids_all = np.concatenate([tracks.ids[idx], gh.ids])
            lost_all = np.r_[np.zeros(idx.size, bool), np.ones(len(gh.ids), bool)]
            x_all = np.concatenate([tracks.x[idx], np.full((len(gh.ids), 6), np.nan)])
            held.append(ids_all)
            need = self.cache.need(ids_all, lost_all, x_all, t, rm.refresh_s, self.cfg)
            need[idx.size :] |= gh.thinned
            gh.thinned[:] = False
            il, ig = idx[need[: idx.size]], np.flatnonzero(need[idx.size :])
            if il.size + ig.size == 0:
                continue
            s_live = initial_state(
                tracks.x[il],
                tracks.P[il],
                self._rows(tracks.ids[il]),
                rm,
                self.noise,
                self.targets,
            )
            state = RouteState.concat([s_live, gh.state.take(ig)])
            ids = np.concatenate([tracks.ids[il], gh.ids[ig]])
            lag = np.concatenate([np.zeros(il.size), t - gh.t_cloud[ig]])
            fc = forecast(
                state,
                self._rows(ids),
                rm,
                self.dt[name],
                self.n_steps[name],
                self.step_noise[name],
                self.zones.cx,
                self.zones.cy,
            )
            hits.append(self._route_hits(fc, lag, rm.horizon_s, n_slot))
            slots_id.append(ids)
            slots_cls.append(np.concatenate([tracks.cls[il], gh.cls[ig]]))
            slots_lost.append(np.r_[np.zeros(il.size, bool), np.ones(ig.size, bool)])
            watched = gh.heard[ig]  # a sample has been inside live acoustic coverage
            slots_w.append(np.r_[np.ones(il.size), self._survival(t - gh.t_lost[ig], watched)])
            slots_x.append(np.concatenate([tracks.x[il], np.full((ig.size, 6), np.nan)]))
            slots_pmin.append(np.full(len(ids), self.cfg.p_min))
            n_slot += len(ids)

        kb_ = int(self.cfg.ballistic.samples)
        idx = np.flatnonzero(live & (model == BALLISTIC))
        self.descent.update(tracks.ids[idx], t, tracks.x[idx, 5])
        self._ball_fit = self.descent.estimate(tracks.ids[idx])
        bg = self.bghosts
        if idx.size or len(bg.ids):
            x = np.concatenate([tracks.x[idx], bg.x])
            P = np.concatenate([tracks.P[idx], bg.P])
            ids = np.concatenate([tracks.ids[idx], bg.ids])
            lag = np.concatenate([np.zeros(idx.size), t - bg.t_lost])
            am = np.concatenate([self._ball_fit[0], bg.a_mean])
            asg = np.concatenate([self._ball_fit[1], bg.a_sigma])
            b_hits, path = self._ballistic_hits(x, P, ids, lag, am, asg, n_slot)
            hits.append(b_hits)
            held.append(ids)
            slots_id.append(ids)
            slots_cls.append(np.concatenate([self._cls[idx], bg.cls]))
            slots_lost.append(np.r_[np.zeros(idx.size, bool), np.ones(len(bg.ids), bool)])
            slots_w.append(np.full(len(ids), self.cfg.samples / kb_))
            slots_x.append(np.concatenate([tracks.x[idx], np.full((len(bg.ids), 6), np.nan)]))
            slots_pmin.append(np.full(len(ids), self.cfg.ballistic.p_min))
            n_slot += len(ids)
            if path is not None:  # the ground track before the terminal part: its own slots
                kp = min(int(self.cfg.ballistic.path_samples), kb_)
                hits.append(path)
                for lst in (slots_id, slots_cls, slots_lost, slots_x, slots_pmin):
                    lst.append(lst[-1])
                slots_w.append(np.full(len(ids), self.cfg.samples / kp))
                n_slot += len(ids)
                n_path = len(ids)
        n_fresh = n_slot - n_path  # slots of the tracks and ghosts predicted afresh

        held_ids = np.concatenate(held) if held else np.zeros(0, np.int64)
        if n_slot >= 1 << (63 - self._sh_slot):
            raise ValueError(f"predict: {n_slot} tracks and ghosts at once exceed the key space")
        if n_slot == 0:
            fresh = ZoneThreats.empty(t)
            f_ids, f_lost, f_x = np.zeros(0, np.int64), np.zeros(0, bool), np.zeros((0, 6))
        else:
            f_ids = np.concatenate(slots_id).astype(np.int64)
            f_lost = np.concatenate(slots_lost)
            fresh = self._reduce(
                t,
                hits,
                f_ids,
                np.concatenate(slots_cls).astype(np.int64),
                f_lost,
                np.concatenate(slots_w),
                np.concatenate(slots_pmin),
            )
            if n_path:  # ballistic path slots: one row per (track, zone) again
                fresh = _merge_rows(fresh)
            f_ids, f_lost = f_ids[:n_fresh], f_lost[:n_fresh]
            f_x = np.concatenate(slots_x)[:n_fresh]
        return self.cache.merge(t, fresh, f_ids, f_lost, f_x, held_ids)

    def models(self, tracks: TrackState) -> np.ndarray:
        """Motion model code per track (0..3 route models, 4 ballistic, -1 not predicted)."""
        return self._models(tracks, tracks.diving(self.cfg.dive_vz))

    def _models(self, tracks: TrackState, diving: np.ndarray) -> np.ndarray:
        cls = np.asarray(tracks.cls, np.int64)
        x = tracks.x
        out = np.full(len(cls), ROUTE_MODELS.index("unknown"), np.int64)
        for name in ("drone", "jet_drone", "cruise"):
            out[cls == CLS_CODE[name]] = ROUTE_MODELS.index(name)
        out[cls == CLS_CODE["ballistic"]] = BALLISTIC
        out[diving & (out < BALLISTIC)] = BALLISTIC
        out[cls == CLS_CODE["aircraft"]] = NOT_PREDICTED
        unk = cls == CLS_CODE["unknown"]
        if unk.any():
            fast = np.nan_to_num(np.hypot(x[:, 3], x[:, 4]), nan=0.0)
            out[unk & (fast >= 75.0)] = ROUTE_MODELS.index("jet_drone")
            out[unk & (fast >= 120.0)] = ROUTE_MODELS.index("cruise")
            cfg = self.cfg
            bal = tracks.ballistic_kinematics(cfg.ballistic_min_alt_m, cfg.ballistic_min_vz)
            out[unk & bal] = BALLISTIC
            # faster than any route model flies (a rocket over its apogee)
            out[unk & (fast > cfg.ballistic_min_speed)] = BALLISTIC
        return out

    # ------------------------------------------------------------------ ghosts
    def _bookkeep(
        self,
        tracks: TrackState,
        live: np.ndarray,
        model: np.ndarray,
        t: float,
        health: SensorHealth | None = None,
    ) -> None:
        """Create ghosts of deleted tracks, drop re-found and expired ones, remember this state."""
        dt_tick = 0.0 if self._t_prev is None else max(t - self._t_prev, 0.0)
        self._t_prev = t
        cover = self._coverage(health)
        ids = np.asarray(tracks.ids, np.int64)
        # tracks confirmed for the first time
        cid = ids[live]
        new = ~np.isin(cid, self._conf_ids)
        if new.any():
            key = ids if tracks.key is None else np.asarray(tracks.key, np.int64)
            allid = np.concatenate([self._conf_ids, cid[new]])
            allt = np.concatenate([self._conf_t0, np.full(int(new.sum()), t)])
            allkey = np.concatenate([self._conf_key, key[live][new]])
            allseen = np.concatenate([self._conf_seen, np.full(int(new.sum()), t)])
            o = np.argsort(allid, kind="stable")
            self._conf_ids, self._conf_t0, self._conf_key = allid[o], allt[o], allkey[o]
            self._conf_seen = allseen[o]
        if self._conf_ids.size:
            pos = np.minimum(np.searchsorted(self._conf_ids, ids), self._conf_ids.size - 1)
            self._conf_seen[pos[self._conf_ids[pos] == ids]] = t
        prev = self._prev
        if prev is not None and len(prev):
            gone = ~np.isin(prev.ids, ids)
            # a ballistic track fusion merged into another is not lost: the survivor's
            # impact prediction carries on (a merged route track still leaves a ghost, in
            # case two threats flying together were merged)
            gone &= ~(np.isin(tracks.survivor(prev.ids), ids) & (self._prev_model == BALLISTIC))
            if gone.any():
                landed = np.zeros(0, np.int64) if tracks.landed is None else tracks.landed
                self._add_ghosts(prev, self._prev_model, np.flatnonzero(gone), t, landed)
        # a ghost whose track is back, or that a newly confirmed track has taken over, ends
        born = self._conf_t0[np.searchsorted(self._conf_ids, cid)] if cid.size else np.zeros(0)
        px, py = tracks.x[live, 0], tracks.x[live, 1]
        for name, gh in self.ghosts.items():
            if len(gh.ids) == 0:
                continue
            rm = self.cfg.routes[name]
            n_adv = np.floor((t - gh.t_cloud) / self.dt[name] + 1e-9).astype(np.int64)
            done = np.rint((gh.t_cloud - gh.t_lost) / self.dt[name]).astype(np.int64)
            self._advance(gh.state, name, n_adv, self._keys(gh.ids), done)
            gh.t_cloud = gh.t_cloud + n_adv * self.dt[name]
            if cover and dt_tick > 0:
                self._thin(gh, cover, dt_tick)
            keep = ~np.isin(gh.ids, ids) & (t - gh.t_lost <= rm.ghost_max_s)
            keep &= gh.state.alive.any(axis=1)
            keep &= ~self._taken_over(gh, px, py, tracks.x[live, 3:5], born)
            if not keep.all():
                gh.keep(keep)
        bg = self.bghosts
        if len(bg.ids):
            keep = ~np.isin(bg.ids, ids) & (t <= bg.t_end)
            if not keep.all():
                bg.keep(keep)
        self._prev = TrackState(
            t=t,
            ids=ids[live],
            x=tracks.x[live],
            P=tracks.P[live],
            cls=self._cls[live],
            cls_prob=np.asarray(tracks.cls_prob)[live],
            confirmed=np.ones(int(live.sum()), bool),
            last_update=np.asarray(tracks.last_update)[live],
            n_updates=np.asarray(tracks.n_updates)[live],
        )
        self._prev_model = model[live]
        if t - self._forgot_t >= CONF_FORGET_S:
            self._forget(t)

    def _forget(self, t: float) -> None:
        """Drop the first-confirmation records of tracks gone from fusion for more than
        ``CONF_FORGET_S`` and holding no ghost, so a service that runs for months keeps a
        bounded table. Fusion never reuses a track id, and ghosts are looked up by theirs."""
        ghost_ids = [g.ids for g in self.ghosts.values()] + [self.bghosts.ids]
        keep = (t - self._conf_seen <= CONF_FORGET_S) | np.isin(
            self._conf_ids, np.concatenate(ghost_ids)
        )
        if not keep.all():
            self._conf_ids, self._conf_t0 = self._conf_ids[keep], self._conf_t0[keep]
            self._conf_key, self._conf_seen = self._conf_key[keep], self._conf_seen[keep]
        self._forgot_t = t

    def _taken_over(
        self,
        gh: _RouteGhosts,
        px: np.ndarray,
        py: np.ndarray,
        pv: np.ndarray,
        born: np.ndarray,
    ) -> np.ndarray:
        """Ghosts whose threat is tracked again: a track confirmed after the lost track's last
        measurement sits in the ghost's cloud and flies at more than half the ghost's speed,
        or any live track flies with it (a duplicate).
        """
        if px.size == 0:
            return np.zeros(len(gh.ids), bool)
        al = gh.state.alive
        w = al / np.maximum(al.sum(1, keepdims=True), 1)
        mx = (np.nan_to_num(gh.state.x) * w).sum(1)
        my = (np.nan_to_num(gh.state.y) * w).sum(1)
        vx = (np.nan_to_num(gh.state.x - mx[:, None]) ** 2 * w).sum(1)
        vy = (np.nan_to_num(gh.state.y - my[:, None]) ** 2 * w).sum(1)
        gate = self.cfg.ghost_gate_m + 2.0 * np.sqrt(vx + vy)
        d = np.hypot(mx[:, None] - px[None, :], my[:, None] - py[None, :])
        later = born[None, :] >= gh.t_meas[:, None] - 10.0
        mov = gh.state.speed * (gh.state.loiter <= 0)
        gvx = (mov * np.cos(gh.state.psi) * w).sum(1)
        gvy = (mov * np.sin(gh.state.psi) * w).sum(1)
        # a new track at half the ghost's speed or less is another threat (a drone heard
        # beside a lost cruise missile), not the lost one found again; a track whose speed
        # is not known (NaN) may still be it
        sp = np.hypot(pv[:, 0], pv[:, 1])
        fast_enough = ~(sp[None, :] <= 0.5 * (mov * w).sum(1)[:, None])
        found = ((d <= gate[:, None]) & later & fast_enough).any(axis=1)
        # a live track flying with the ghost's centre at its speed and course: the same threat
        dv = np.hypot(gvx[:, None] - pv[None, :, 0], gvy[:, None] - pv[None, :, 1])
        tol = 0.3 * np.hypot(gvx, gvy)[:, None] + 5.0
        same = (d <= self.cfg.ghost_gate_m) & (np.nan_to_num(dv, nan=np.inf) <= tol)
        return found | same.any(axis=1)

    def _add_ghosts(
        self, prev: TrackState, pmodel: np.ndarray, gone: np.ndarray, t: float, landed: np.ndarray
    ) -> None:
        """Start ghosts from the last confirmed estimates of deleted tracks (none for a track
        fusion ended as ``landed``: its missile came down; none for a track last estimated
        below ground and diving at 50 m/s or more, 2 sigma: it has struck; a short-range
        rocket's track, classed cruise or unknown as it fell, left a cruise ghost flying on
        for 15 minutes: bench/foreign_raid.py --rockets seed 17, 48.7 -> 35.4x the oracle
        with the same misses; with --radar-km 150 46.3 -> 35.3x, one impact pair late
        instead of hit)."""
        struck = prev.underground()[gone] & prev.diving(STRUCK_VZ)[gone]
        # fusion ended it: the missile came down
        struck |= np.isin(prev.ids[gone], landed)
        gone = gone[~struck & ~self._missile_shadow(prev, pmodel, gone)]
        for code, name in enumerate(ROUTE_MODELS):
            sel = gone[pmodel[gone] == code]
            if sel.size == 0:
                continue
            rm = self.cfg.routes[name]
            ids = prev.ids[sel]
            st = initial_state(
                prev.x[sel], prev.P[sel], self._rows(ids), rm, self.noise, self.targets
            )
            n_adv = np.full(sel.size, int(np.floor((t - prev.t) / self.dt[name] + 1e-9)))
            self._advance(st, name, n_adv, self._keys(ids), np.zeros(sel.size, np.int64))
            gh = self.ghosts[name]
            gh.ids = np.r_[gh.ids, ids]
            gh.cls = np.r_[gh.cls, prev.cls[sel]]
            gh.t_lost = np.r_[gh.t_lost, np.full(sel.size, prev.t)]
            gh.t_meas = np.r_[gh.t_meas, np.minimum(prev.last_update[sel], prev.t)]
            gh.t_cloud = np.r_[gh.t_cloud, prev.t + n_adv * self.dt[name]]
            gh.state = RouteState.concat([gh.state, st])
            gh.covered = np.concatenate([gh.covered, np.zeros(st.x.shape)])
            gh.thinned = np.r_[gh.thinned, np.zeros(sel.size, bool)]
            gh.heard = np.r_[gh.heard, np.zeros(sel.size, bool)]
        sel = gone[pmodel[gone] == BALLISTIC]
        if sel.size:
            bm = self.cfg.ballistic
            e = self.ball_noise[self._rows(prev.ids[sel])]
            am, asg = self.descent.estimate(prev.ids[sel])
            _, _, ti = sample_impacts(prev.x[sel], prev.P[sel], e, bm, am, asg)
            bg = self.bghosts
            bg.a_mean = np.r_[bg.a_mean, am]
            bg.a_sigma = np.r_[bg.a_sigma, asg]
            bg.ids = np.r_[bg.ids, prev.ids[sel]]
            bg.cls = np.r_[bg.cls, prev.cls[sel]]
            bg.t_lost = np.r_[bg.t_lost, np.full(sel.size, prev.t)]
            bg.x = np.concatenate([bg.x, prev.x[sel]])
            bg.P = np.concatenate([bg.P, prev.P[sel]])
            bg.t_end = np.r_[bg.t_end, prev.t + np.nanmax(ti, axis=1) + bm.ghost_margin_s]

    def _advance(
        self, st: RouteState, name: str, n_adv: np.ndarray, keys: np.ndarray, done: np.ndarray
    ) -> None:
        """Advance the clouds ``st`` of ghosts with birth ``keys`` (route model ``name``,
        ``done`` steps since their loss) by ``n_adv`` steps, each ghost on noise of its own."""
        cx, cy = self.zones.cx, self.zones.cy
        dt, rm = self.dt[name], self.cfg.routes[name]
        advance(st, rm, dt, n_adv, keys, done, cx, cy, seed=self.cfg.seed + 11)

    def _missile_shadow(self, prev: TrackState, pmodel: np.ndarray, gone: np.ndarray) -> np.ndarray:
        """Per deleted track ``gone``: a route track (not ballistic) measured fewer than
        ``ghost_min_updates`` times, deleted within ``ghost_ballistic_m`` of a ballistic track
        (live at the last tick, or just lost): a few of that missile's plots read as a slow
        flyer (a rocket's first plots give a poor velocity), so it leaves no route ghost; the
        missile's own impact prediction carries the threat."""
        out = np.zeros(gone.size, bool)
        r = self.cfg.ghost_ballistic_m
        if r <= 0 or gone.size == 0:
            return out
        bx = np.concatenate([prev.x[pmodel == BALLISTIC, :2], self.bghosts.x[:, :2]])
        cand = (np.asarray(prev.n_updates)[gone] < self.cfg.ghost_min_updates) & (
            pmodel[gone] != BALLISTIC
        )
        if bx.shape[0] == 0 or not cand.any():
            return out
        d, _ = cKDTree(bx).query(prev.x[gone[cand], :2], distance_upper_bound=r)
        out[cand] = np.isfinite(d)
        return out

    def _coverage(self, health: SensorHealth | None) -> list[tuple[cKDTree, np.ndarray, bool]]:
        """The live sensors whose silence refutes a ghost's route sample, as (KD-tree, covered
        radii, acoustic) groups: acoustic posts out to ``ghost_cover_frac`` of their range
        and, with ``ghost_radar_cover``, radars out to their radar horizon for a target at
        ``ghost_radar_alt_m`` from their antenna height (at most ``ghost_radar_mast_max_m``:
        a height above sea level on high ground is no mast; ``ghost_radar_mast_unknown_m``
        where the sensors file gives none)."""
        if health is None or self.cfg.ghost_cover_kill_s <= 0 or len(health.alive) == 0:
            return []
        return self._cover.groups(health)

    def _thin(
        self, gh: _RouteGhosts, cover: list[tuple[cKDTree, np.ndarray, bool]], dt: float
    ) -> None:
        """Negative information: a ghost sample inside live acoustic coverage for
        ``ghost_cover_kill_s`` (Pd ~0.85 per 10-20 s), or inside a live radar's view for
        ``ghost_radar_kill_s`` (scans every 4-15 s; a small drone's Pd may be low), without
        a report is dropped - a threat there would have been heard or plotted - so ghosts
        keep only the routes through coverage gaps. Time in both counts at the faster rate.
        A ghost one of whose samples has been inside acoustic coverage is ``heard``."""
        st = gh.state
        al = st.alive & np.isfinite(st.x)
        if not al.any():
            return
        kill_s = self.cfg.ghost_cover_kill_s
        rate = np.zeros(int(al.sum()))  # acoustic-coverage seconds per second
        for tree, r, acoustic in cover:
            hit = within_any_circle(st.x[al], st.y[al], r, tree)
            w = 1.0 if acoustic else kill_s / max(self.cfg.ghost_radar_kill_s, 1e-9)
            rate = np.where(hit, np.maximum(rate, w), rate)
            if acoustic and hit.any():
                h = np.zeros(al.shape, bool)
                h[al] = hit
                gh.heard |= h.any(axis=1)
        cov = gh.covered[al]
        cov += rate * dt
        gh.covered[al] = cov
        kill = np.zeros(al.shape, bool)
        kill[al] = cov >= kill_s * (1.0 - 1e-9)
        if kill.any():
            st.alive &= ~kill
            st.x[kill] = np.nan
            st.y[kill] = np.nan
            gh.thinned |= kill.any(axis=1)

    def _survival(self, age: np.ndarray, watched: np.ndarray) -> np.ndarray:
        """Weight of a ghost of this age: it halves every ``ghost_half_life_s`` (never if 0),
        or every ``ghost_unwatched_half_life_s`` while none of its route samples has been
        inside live acoustic coverage (``watched`` False: nothing refutes it sample by sample,
        so the prior alone must end it)."""
        hl = np.full(age.shape, self.cfg.ghost_half_life_s)
        if self.cfg.ghost_unwatched_half_life_s > 0:
            hl[~watched] = self.cfg.ghost_unwatched_half_life_s
        return np.where(hl <= 0, 1.0, 0.5 ** (np.maximum(age, 0.0) / np.maximum(hl, 1e-9)))

    def _keys(self, ids: np.ndarray) -> np.ndarray:
        """Birth keys of confirmed tracks (or their ghosts; the id for a track never seen
        confirmed): they seed each track's noise, so that neither its route samples nor its
        ghost's steps change with how many other tracks were born before it."""
        ids = np.asarray(ids, np.int64)
        i = np.minimum(np.searchsorted(self._conf_ids, ids), max(self._conf_ids.size - 1, 0))
        found = self._conf_ids.size > 0
        hit = (self._conf_ids[i] == ids) if found else np.zeros(ids.shape, bool)
        return np.where(hit, self._conf_key[i] if found else 0, ids)

    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """Noise-table rows of confirmed tracks (or their ghosts), from their birth keys."""
        return self._keys(ids) % NOISE_ROWS

    # ------------------------------------------------------------------ hits
    def _pack(self, slot, zone, k, tick) -> np.ndarray:
        """One int64 key per arrival: slot | zone | sample | tick, most significant first."""
        return (
            (np.asarray(slot, np.int64) << self._sh_slot)
            | (np.asarray(zone, np.int64) << self._sh_zone)
            | (np.asarray(k, np.int64) << self._tb)
            | np.minimum(np.asarray(tick, np.int64), self._tmask)
        )

    def _route_hits(self, fc, lag: np.ndarray, horizon: float, slot0: int) -> _Hits:
        """Zones each route sample passes within reach of, with the first-arrival tick."""
        s1, n, k = fc.x.shape
        cells = self.raster.cells(fc.x, fc.y)
        h = self.raster.list_hash[cells]
        # a point whose cell lists exactly the zones of the previous point adds nothing
        new = h != 0
        new[1:] &= h[1:] != h[:-1]
        # keys of every (track, sample, step) point, built by broadcasting (no divisions)
        eta = np.arange(s1)[None, :] * fc.dt - lag[:, None]  # (N, S+1)
        new &= (eta <= horizon).T[:, :, None]
        tick = np.rint(np.maximum(eta, 0.0)).astype(np.int64)
        base = (
            ((np.arange(n, dtype=np.int64) + slot0) << self._sh_slot)[:, None, None]
            | (np.arange(k, dtype=np.int64) << self._tb)[None, :, None]
            | np.minimum(tick, self._tmask)[:, None, :]
        )  # (N, K, S+1)
        # to (track, sample, step) order, so that keys come grouped by slot
        f = np.flatnonzero(new.transpose(1, 2, 0))
        base = base.ravel()[f]
        cell = cells.transpose(1, 2, 0).ravel()[f]
        pt, zone = self.raster.expand(cell)
        reach = base[pt] | (zone << self._sh_zone)
        st = fc.strike_step >= 0
        sn, sk = np.nonzero(st)
        seta = fc.strike_step[st] * fc.dt - lag[sn]
        sok = seta <= horizon
        strike = self._pack(
            sn[sok] + slot0, fc.strike_zone[st][sok], sk[sok], np.rint(np.maximum(seta[sok], 0))
        )
        return _Hits(np.concatenate([reach, strike]), strike)

    def _ballistic_hits(
        self,
        x: np.ndarray,
        P: np.ndarray,
        ids: np.ndarray,
        lag: np.ndarray,
        a_mean: np.ndarray,
        a_sigma: np.ndarray,
        slot0: int,
    ) -> tuple[_Hits, _Hits | None]:
        """Zones within reach of each impact sample (reach) and containing it (strike); and
        the zones under the ground track before the terminal part (slots after these,
        ``slot0 + len(ids)`` on; None when ``path_samples`` is 0)."""
        bm = self.cfg.ballistic
        e = self.ball_noise[self._rows(ids)]
        ix, iy, ti = sample_impacts(x, P, e, bm, a_mean, a_sigma)
        eta = ti - lag[:, None]
        ok = np.isfinite(eta) & (eta >= 0) & (eta <= bm.horizon_s)
        n_i, k_i = np.nonzero(ok)
        px, py, pe = ix[ok], iy[ok], eta[ok]
        base = self._pack(n_i + slot0, 0, k_i, np.rint(pe))
        pt, zone = self.raster.expand(self.raster.cells(px, py))
        reach = base[pt] | (zone << self._sh_zone)
        if bm.terminal_m > 0 and px.size:
            reach = np.concatenate([reach, self._terminal(x, n_i, k_i, px, py, pe, slot0)])
        inside = self.zones.containing(px, py) if px.size else np.zeros(0, np.int64)
        si = np.flatnonzero(inside >= 0)
        strike = base[si] | (inside[si] << self._sh_zone)
        path = None
        if bm.path_samples >= 1:
            sel = k_i < int(bm.path_samples)
            path = self._path(
                x, lag, n_i[sel], k_i[sel], px[sel], py[sel], pe[sel], slot0 + len(ids)
            )
        return _Hits(np.concatenate([reach, strike]), strike), path

    def _path(self, x, lag, n_i, k_i, px, py, pe, slot0: int) -> _Hits:
        """Reach keys of the zones under each impact sample's ground track from the threat's
        present position to where its terminal part begins (``terminal_m`` before the
        impact): a straight line flown at constant ground speed. A missile passing tens of
        kilometres up still drops debris where it is intercepted or fails; Israel's Home
        Front Command alerts along the path for that reason."""
        bm = self.cfg.ballistic
        step = self.cfg.step_m  # as route samples: the zone grid covers the gaps
        v = x[n_i, 3:5]
        sp = np.maximum(np.hypot(v[:, 0], v[:, 1]), 1.0)
        T = pe + lag[n_i]  # seconds from the state's time to the impact
        qx = px - v[:, 0] / sp * bm.terminal_m  # where the terminal part begins
        qy = py - v[:, 1] / sp * bm.terminal_m
        x0, y0 = x[n_i, 0], x[n_i, 1]
        t_q = T - bm.terminal_m / sp  # state time to the terminal part
        L = np.hypot(qx - x0, qy - y0)
        ok = (t_q > lag[n_i]) & np.isfinite(L)
        n_pts = np.where(ok, np.ceil(L / step), 0).astype(np.int64)
        tot = int(n_pts.sum())
        if tot == 0:
            return _Hits(np.zeros(0, np.int64), np.zeros(0, np.int64))
        row = np.repeat(np.arange(n_i.size), n_pts)
        j = np.arange(tot) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
        f = (j + 1) / n_pts[row]  # (0, 1]: share of the way to the terminal part
        eta = f * t_q[row] - lag[n_i[row]]
        keep = eta >= 0.0  # not behind the threat's present position
        row, f, eta = row[keep], f[keep], eta[keep]
        gx = x0[row] + f * (qx[row] - x0[row])
        gy = y0[row] + f * (qy[row] - y0[row])
        base = self._pack(n_i[row] + slot0, 0, k_i[row], np.rint(eta))
        pt, zone = self.raster.expand(self.raster.cells(gx, gy))
        return _Hits(base[pt] | (zone << self._sh_zone), np.zeros(0, np.int64))

    def _terminal(self, x, n_i, k_i, px, py, pe, slot0: int) -> np.ndarray:
        """Reach keys of the zones under the last ``terminal_m`` of each impact sample's
        path (back along the track's course): the steep end of the fall, and where the
        debris of a missile intercepted on the way down comes down."""
        bm = self.cfg.ballistic
        step = 0.5 * self.cfg.step_m
        d = np.arange(1, int(math.ceil(bm.terminal_m / step)) + 1) * step  # (J,)
        v = x[n_i, 3:5]
        sp = np.maximum(np.hypot(v[:, 0], v[:, 1]), 1.0)
        tau = d[None, :] / sp[:, None]  # (M, J) seconds before the impact
        ok = tau <= pe[:, None]  # not behind the threat's present position
        qx = px[:, None] - (v[:, 0] / sp)[:, None] * d[None, :]
        qy = py[:, None] - (v[:, 1] / sp)[:, None] * d[None, :]
        m, j = np.nonzero(ok)
        base = self._pack(n_i[m] + slot0, 0, k_i[m], np.rint(pe[m] - tau[m, j]))
        pt, zone = self.raster.expand(self.raster.cells(qx[m, j], qy[m, j]))
        return base[pt] | (zone << self._sh_zone)

    # ------------------------------------------------------------------ reduce
    def _reduce(
        self,
        t: float,
        hits: list[_Hits],
        ids: np.ndarray,
        cls: np.ndarray,
        lost: np.ndarray,
        weight: np.ndarray,
        p_min: np.ndarray,
    ) -> ZoneThreats:
        """Per (track, zone): share of samples arriving, striking, and arrival quantiles."""
        key = np.concatenate([h.reach for h in hits])
        if key.size == 0:
            return ZoneThreats.empty(t)
        tb, kb = self._tb, self._kb
        K = self.cfg.samples
        key.sort(kind="stable")  # keys come grouped by slot: stable (radix/tim) sort is fast
        pk = key >> tb  # (slot, zone, sample)
        first = np.empty(key.size, bool)
        first[0] = True
        np.not_equal(pk[1:], pk[:-1], out=first[1:])
        kf = key[first]
        key2 = ((kf >> (kb + tb)) << tb) | (kf & self._tmask)  # (slot, zone) then tick
        key2.sort(kind="stable")
        pr = key2 >> tb
        tk = key2 & self._tmask
        brk = np.empty(pr.size, bool)
        brk[0] = True
        np.not_equal(pr[1:], pr[:-1], out=brk[1:])
        starts = np.flatnonzero(brk)
        cnt = np.diff(np.r_[starts, pr.size])
        upair = pr[starts]
        q10 = starts + np.maximum(np.ceil(0.1 * cnt).astype(np.int64) - 1, 0)
        q50 = starts + np.maximum(np.ceil(0.5 * cnt).astype(np.int64) - 1, 0)
        uslot = upair >> self._zb
        w = weight[uslot]
        p_reach = cnt / K * w
        # unconditional quantile: the m-th earliest arrival, m samples being a share eta_q
        m = np.ceil(self.cfg.eta_q * K / np.maximum(w, 1e-12) - 1e-9).astype(np.int64)
        m = np.maximum(m, 1)
        eta_q = np.where(
            m <= cnt, tk[np.minimum(starts + m - 1, tk.size - 1)].astype(float), np.inf
        )
        sk = np.concatenate([h.strike for h in hits]) >> (kb + tb)
        spair, scnt = np.unique(sk, return_counts=True)
        p_imp = np.zeros(upair.size)
        p_imp[np.searchsorted(upair, spair)] = scnt / K
        p_imp = np.minimum(p_imp * w, p_reach)
        keep = p_reach >= p_min[uslot] - 1e-12
        us = uslot[keep]
        return ZoneThreats(
            t=t,
            zone=(upair[keep] & ((1 << self._zb) - 1)).astype(np.int64),
            track=ids[us],
            cls=cls[us],
            p_reach=np.clip(p_reach[keep], 0.0, 1.0),
            p_impact=np.clip(p_imp[keep], 0.0, 1.0),
            eta_p10=tk[q10[keep]].astype(float),
            eta_p50=tk[q50[keep]].astype(float),
            lost=lost[us],
            eta_q=eta_q[keep],
        )


def _merge_rows(zt: ZoneThreats) -> ZoneThreats:
    """One row per (track, zone): a ballistic track's path rows merged into its impact rows
    (largest probabilities, earliest arrival times)."""
    if len(zt) == 0:
        return zt
    o = np.lexsort((zt.zone, zt.track))
    tr, zo = zt.track[o], zt.zone[o]
    new = np.r_[True, (tr[1:] != tr[:-1]) | (zo[1:] != zo[:-1])]
    if new.all():
        return zt
    first = o[new]
    inv = np.empty(o.size, np.int64)
    inv[o] = np.cumsum(new) - 1

    def red(v: np.ndarray, fn) -> np.ndarray:
        out = v[first].copy()
        fn.at(out, inv, v)
        return out

    return ZoneThreats(
        t=zt.t,
        zone=zt.zone[first],
        track=zt.track[first],
        cls=zt.cls[first],
        p_reach=red(zt.p_reach, np.maximum),
        p_impact=red(zt.p_impact, np.maximum),
        eta_p10=red(zt.eta_p10, np.minimum),
        eta_p50=red(zt.eta_p50, np.minimum),
        lost=zt.lost[first],
        eta_q=None if zt.eta_q is None else red(zt.eta_q, np.minimum),
    )


__all__ = ["Predictor", "ROUTE_MODELS", "THREAT_CLASSES"]
