"""The per-zone alert state machine: clear -> pre_alert -> alert -> clear.

Each tick the Decider reduces the sparse (zone, track) pairs of the predict stage to
zones, vectorised with numpy:

* a pair supports ``alert`` when ``p_reach >= alert_p`` (or ``p_impact >=
  alert_impact_p``) and its early arrival time ``eta_lo`` (the 10th percentile ETA,
  optionally widened by ``eta_widen``) is within ``shelter_s + tick_s + latency_s +
  margin_s`` — so the alert starts at least ``shelter_s`` before the predicted arrival;
  with ``use_eta_q`` a new alert from a live track's reach needs predict's unconditional
  ``eta_q`` within that horizon instead: P(arrival within it) >= alert_p;
  classes with ``any_eta`` (ballistic) alert the zones they may strike (any impact sample)
  on the first confirmed track whatever the ETA, the zones under their path by the ETA;
* a pair supports ``pre_alert`` when ``p >= pre_p`` and ``eta_lo <= pre_horizon_s``;
* hysteresis: a zone already alerted keeps its state while ``p >= keep_ratio x threshold``
  and ``eta_lo <= horizon + keep_margin_s``; after support ends it holds for ``hold_s``
  (``pre_hold_s`` for pre-alerts) before stepping down;
* tracks whose threat most likely ended alert no new zone (they may pre-alert): coasting
  more than 3 sigma below ground, unheard for ``covered_quiet_alert_s`` inside live
  acoustic coverage, or (ghosts) deleted after coasting through such coverage;
* degraded mode: confirmed tracks whose straight predicted path crosses the coverage of
  dead sensors (no heartbeat) get lower thresholds and a longer horizon (per class:
  ``degraded_p_factor``, ``degraded_margin_s``; not for drones by default), and zones near
  that path inside the dead coverage are added — alerts widen, never go silent;
* operator actions (manual alert, extend, cancel) override the automatic policy: a manual
  alert holds until it expires or is cancelled; a cancel suppresses automatic re-alerts
  of the zone for ``cancel_suppress_s`` unless a new track or a more dangerous class
  appears.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from airwarn.contracts import (
    BALLISTIC_MIN_ALT_M,
    BALLISTIC_MIN_VZ,
    CLS_CODE,
    DIVE_VZ,
    GHOST_RADAR_ALT_M,
    GHOST_RADAR_MAST_MAX_M,
    GHOST_RADAR_MAST_UNKNOWN_M,
    THREAT_CLASSES,
    UNKNOWN_CLS,
    AlertChange,
    RecordError,
    SensorHealth,
    TrackState,
    ZoneThreats,
    track_label,
)
from airwarn.decide.config import DecideConfig
from airwarn.decide.operator import AuditLog, MemoryAuditLog, OperatorAction
from airwarn.geo import G0, LiveCover, fall_time, radar_horizon_m, within_any_circle
from airwarn.zones.zoneset import ZoneSet

CLEAR, PRE, ALERT = 0, 1, 2
STATE_NAMES: tuple[str, ...] = ("clear", "pre_alert", "alert")
RETRACT_QUIET_S = 30.0
"""A supporting track counts as still measured when updated within this many seconds."""
PASSED_M = 2000.0
"""A track has passed a zone when farther than the zone's radius plus this and flying away."""
BAL = CLS_CODE["ballistic"]
_KEY = np.int64(1) << np.int64(40)  # (zone, track) key = zone * 2**40 + track


def _keys(zone: np.ndarray, track: np.ndarray) -> np.ndarray:
    return zone.astype(np.int64) * _KEY + (track.astype(np.int64) % _KEY)


def _member(a: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``np.isin(a, s)`` for non-negative integer ids, by table lookup when ids are small."""
    if s.size == 0 or a.size == 0:
        return np.zeros(a.shape, bool)
    hi = int(max(a.max(), s.max()))
    if a.min() < 0 or hi > 50_000_000:
        return np.isin(a, s)
    table = np.zeros(hi + 1, bool)
    table[s] = True
    return table[a]


class Decider:
    """Per-zone alert states driven by predicted threats, sensor health and operators."""

    def __init__(self, zones: ZoneSet, policy: Any, audit: AuditLog | None = None):
        self.zones = zones
        self.cfg = DecideConfig.from_policy(policy)
        self.audit: AuditLog | MemoryAuditLog = audit if audit is not None else MemoryAuditLog()
        z = len(zones)
        ninf = -np.inf
        self.state = np.zeros(z, np.int8)
        self.since = np.full(z, ninf)  # time of the last state change
        self.alert_until = np.full(z, ninf)  # automatic alert hold runs until
        self.pre_until = np.full(z, ninf)  # pre-alert hold runs until
        self.manual_until = np.full(z, ninf)  # manual alert / extension runs until
        self.manual_cls = np.full(z, UNKNOWN_CLS, np.int64)
        self.suppress_until = np.full(z, ninf)  # operator cancel suppresses re-alerts until
        self.suppress_rank = np.full(z, -1, np.int64)
        self._supp_keys = np.zeros(0, np.int64)
        self.a_rank = np.full(z, -1, np.int64)  # most dangerous class rank of the alert episode
        self.p_rank = np.full(z, -1, np.int64)  # ... of the pre-alert episode
        cfg = self.cfg
        self._inv_rank = np.zeros(cfg.rank.max() + 1, np.int64)
        self._inv_rank[cfg.rank] = np.arange(len(THREAT_CLASSES))
        self.t = -np.inf
        self._t0: float | None = None
        self._last_pairs = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        self._group_cache: dict[str, tuple[bytes, list]] = {}  # sensor KD-trees by mask
        # KD-tree of the live acoustic posts (rebuilt when the live set, a position or a range
        # changes)
        self._post_groups = LiveCover(1.0, None, 0.0)
        self.degraded_tracks = np.zeros(0, np.int64)  # track ids in degraded mode at the last step
        # last tick's alert pairs: zones, tracks, and which were a lost track's (ghost) pairs
        self._prev_sup = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool))
        self._last_support = np.full(z, ninf)  # last tick a zone's alert was supported
        self._lost_ids = np.zeros(0, np.int64)  # tracks lost now, sorted, and since when
        pred = getattr(policy, "predict", {}) or {}
        self._bal_alt = float(pred.get("ballistic_min_alt_m", BALLISTIC_MIN_ALT_M))
        self._bal_vz = float(pred.get("ballistic_min_vz", BALLISTIC_MIN_VZ))
        self._dive_vz = float(pred.get("dive_vz", DIVE_VZ))
        # a radar's view of a low flyer, as predict reads it to refute lost tracks' ghosts
        self._vanish_cover_groups = LiveCover(
            1.0,
            float(pred.get("ghost_radar_alt_m", GHOST_RADAR_ALT_M)) if cfg.vanish_radar else None,
            float(pred.get("ghost_radar_mast_max_m", GHOST_RADAR_MAST_MAX_M)),
            float(pred.get("ghost_radar_mast_unknown_m", GHOST_RADAR_MAST_UNKNOWN_M)),
        )
        self._lost_t0 = np.zeros(0)
        # confirmed tracks at the last step: ids, states, last updates, classes
        self._prev_trk = (
            np.zeros(0, np.int64),
            np.zeros((0, 6)),
            np.zeros(0),
            np.zeros(0, np.int64),
        )
        self._vanished = np.zeros(0, np.int64)  # sorted ids of tracks that vanished in coverage
        self._ended_ids = np.zeros(0, np.int64)  # sorted: vanished, or ended by _ended, now

    # ------------------------------------------------------------------ queries
    def idle(self) -> bool:
        """True when every zone is clear (so no hold or manual alert is running)."""
        return not bool(self.state.any())

    def zone_states(self) -> list[dict]:
        """The non-clear zones now: id, state, since, class (for APIs and maps)."""
        out = []
        for i in np.flatnonzero(self.state):
            r = self.a_rank[i] if self.state[i] == ALERT else self.p_rank[i]
            out.append(
                {
                    "zone": self.zones.ids[i],
                    "state": STATE_NAMES[self.state[i]],
                    "since": float(self.since[i]),
                    "cls": THREAT_CLASSES[self._inv_rank[r]] if r >= 0 else None,
                    "manual_until": float(self.manual_until[i])
                    if math.isfinite(self.manual_until[i])
                    else None,
                }
            )
        return out

    # ------------------------------------------------------------------ automatic policy
    def step(
        self,
        t: float,
        threats: ZoneThreats,
        tracks: TrackState,
        health: SensorHealth | None,
    ) -> list[AlertChange]:
        """Advance every zone's state to time ``t``; return the state changes (zone order)."""
        cfg, pc, zs = self.cfg, self.cfg.per_class, self.zones
        t = float(t)
        if self._t0 is None:
            self._t0 = t
        self.t = t
        zone = np.asarray(threats.zone, np.int64)
        track = np.asarray(threats.track, np.int64)
        cls = np.asarray(threats.cls, np.int64)
        p = np.asarray(threats.p_reach, float)
        pi = np.asarray(threats.p_impact, float)
        e10 = np.asarray(threats.eta_p10, float)
        e50 = np.asarray(threats.eta_p50, float)
        lost = np.asarray(threats.lost, bool)
        eq = threats.eta_q
        eq = e10 if eq is None or not cfg.use_eta_q else np.asarray(eq, float)
        found, conf, last_up = self._track_info(track, tracks)
        # an 'unknown' track flying like a ballistic missile is decided on as one (as predict does)
        if len(tracks) and (cls == UNKNOWN_CLS).any():
            cls = self._ballistic_like(track, cls, tracks)
        if cfg.require_confirmed and len(zone):
            keep = ~found | conf
            zone, track, cls, p, pi, e10, e50, eq, lost, found, last_up = (
                a[keep] for a in (zone, track, cls, p, pi, e10, e50, eq, lost, found, last_up)
            )
        eta_lo = e10 - cfg.eta_widen * np.maximum(e50 - e10, 0.0)
        lost_for = self._lost_for(t, track, lost)
        # a live track coasting (no measurement) for longer than stale_s counts as lost
        quiet = np.where(found & ~lost, t - last_up, 0.0)
        stale = quiet > pc["stale_s"][cls]
        lost = lost | stale
        lost_for = np.where(stale, quiet, lost_for)
        # a track deleted after coasting through live acoustic coverage undetected: the threat
        # most likely ended there (downed or struck); its ghost pre-alerts only
        self._note_vanished(t, tracks, health)
        if self._vanished.size and lost.any():
            lost_for = np.where(lost & _member(track, self._vanished), np.inf, lost_for)
        # degraded mode: lower thresholds for tracks near dead sensors, add path zones
        deg_ids, sz, st, sc, se = self._degraded(t, tracks, health)
        deg = _member(track, deg_ids)
        if sz.size:
            zone = np.concatenate([zone, sz])
            track = np.concatenate([track, st])
            cls = np.concatenate([cls, sc])
            p = np.concatenate([p, np.ones(sz.size)])
            pi = np.concatenate([pi, np.zeros(sz.size)])
            eta_lo = np.concatenate([eta_lo, se])
            eq = np.concatenate([eq, se])
            deg = np.concatenate([deg, np.ones(sz.size, bool)])
            lost = np.concatenate([lost, np.zeros(sz.size, bool)])
            lost_for = np.concatenate([lost_for, np.zeros(sz.size)])
            quiet = np.concatenate([quiet, np.zeros(sz.size)])
        self._last_pairs = (zone, track, cls)

        # pair-level support, with hysteresis for zones already in a state
        cur = self.state[zone]
        in_alert = cur == ALERT
        in_any = cur != CLEAR
        # lost tracks: stricter thresholds, and after lost_alert_s pre-alerts only
        dfac = np.where(deg, pc["degraded_p_factor"][cls], 1.0) * np.where(
            lost, pc["lost_p_factor"][cls], 1.0
        )
        keep_r = pc["keep_ratio"][cls]
        fa = np.where(in_alert, keep_r, 1.0) * dfac
        fp = np.where(in_any, keep_r, 1.0) * dfac
        # a live track that will stay inside live acoustic coverage keeps being heard: its
        # alerts need less margin against losing it
        margin = pc["margin_s"][cls]
        cm = np.minimum(pc["covered_margin_s"][cls], margin)
        if (cm < margin).any():
            heard = ~lost & _member(track, self._covered_ahead(tracks, health))
            margin = np.where(heard, cm, margin)
        horizon = (
            zs.shelter_s[zone]
            + cfg.tick_s
            + cfg.latency_s
            + margin
            + np.where(deg, pc["degraded_margin_s"][cls], 0.0)
            + np.where(in_alert, pc["keep_margin_s"][cls], 0.0)
        )
        pre_h = cfg.pre_horizon_s + np.where(in_any, pc["keep_margin_s"][cls], 0.0)
        # a new alert from a live track needs P(arrival within the horizon) >= alert_p (eta_q:
        # the arrival time by which predict's eta_q share of all route samples has arrived);
        # ghosts (lost tracks, diffuse), degraded pairs and alerts being kept (hysteresis)
        # use the early ETA of the samples that reach the zone
        soon = eta_lo <= horizon
        # (any_eta classes too: their alert_p may lie below predict's eta_q share)
        any_eta = pc["any_eta"][cls]
        soon_q = np.where(in_alert | deg | lost | any_eta, soon, eq <= horizon)
        reach_p = p >= pc["alert_p"][cls] * fa
        impact_p = pi >= pc["alert_impact_p"][cls] * fa
        # any_eta: zones the threat may strike (any impact sample) alert at once; zones it
        # only flies over alert when their own arrival is within the horizon
        alert_ok = ((reach_p & soon_q) | (impact_p & soon)) | (
            any_eta & (reach_p | impact_p) & (pi > 0.0) & (eta_lo <= pre_h)
        )
        alert_ok &= (lost_for <= pc["lost_alert_s"][cls]) & (quiet <= pc["stale_alert_s"][cls])
        # a live track unheard while it flew inside live acoustic coverage, or coasting below
        # ground: the threat most likely ended
        self._ended_ids = np.union1d(self._ended(tracks, health), self._vanished)
        alert_ok &= ~_member(track, self._ended_ids)
        pre_thr = pc["pre_p"][cls] * fp
        pre_ok = alert_ok | (((p >= pre_thr) | (pi >= pre_thr)) & (eta_lo <= pre_h))

        # operator cancel: suppress known threats, let new tracks / higher classes through
        rank = cfg.rank[cls]
        supp = self.suppress_until[zone] > t
        if supp.any():
            new = supp & (
                ~np.isin(_keys(zone, track), self._supp_keys) | (rank > self.suppress_rank[zone])
            )
            self.suppress_until[zone[new & pre_ok]] = -np.inf
            allowed = self.suppress_until[zone] <= t
            alert_ok &= allowed
            pre_ok &= allowed

        # reduce pairs to zones
        nz = len(zs)
        za = np.zeros(nz, bool)
        za[zone[alert_ok]] = True
        zp = np.zeros(nz, bool)
        zp[zone[pre_ok]] = True
        rank_a = np.full(nz, -1, np.int64)
        np.maximum.at(rank_a, zone[alert_ok], rank[alert_ok])
        rank_p = np.full(nz, -1, np.int64)
        np.maximum.at(rank_p, zone[pre_ok], rank[pre_ok])
        eta_a = np.full(nz, np.inf)
        np.minimum.at(eta_a, zone[alert_ok], eta_lo[alert_ok])
        eta_p = np.full(nz, np.inf)
        np.minimum.at(eta_p, zone[pre_ok], eta_lo[pre_ok])

        # holds
        code_a = self._inv_rank[np.maximum(rank_a, 0)]
        code_p = self._inv_rank[np.maximum(rank_p, 0)]
        self.alert_until[za] = np.maximum(self.alert_until[za], t + pc["hold_s"][code_a[za]])
        cover = zp & (eta_p <= cfg.passed_cover_s)
        # zones another threat, not one that ended, makes plausible within ended_cover_s
        cover_live = None
        if (pc["ended_hold_s"] < 7200.0).any() and self._ended_ids.size:
            other = pre_ok & (eta_lo <= cfg.ended_cover_s) & ~_member(track, self._ended_ids)
            cover_live = np.zeros(nz, bool)
            cover_live[zone[other]] = True
        sup = (zone[alert_ok], track[alert_ok], lost[alert_ok])
        self._retract(t, za, cover, cover_live, sup, tracks, track, cls)
        self.pre_until[zp] = np.maximum(self.pre_until[zp], t + pc["pre_hold_s"][code_p[zp]])
        self._last_support[za] = t
        manual = self.manual_until > t
        want_alert = za | (self.alert_until > t) | manual
        want_pre = zp | (self.pre_until > t)
        desired = np.where(want_alert, ALERT, np.where(want_pre, PRE, CLEAR)).astype(np.int8)

        # episode class: escalates only; a manual-only alert takes the operator's class
        old_a, old_p = self.a_rank, self.p_rank
        was_a = self.state == ALERT
        was_p = self.state == PRE
        new_a = np.where(desired == ALERT, np.maximum(np.where(was_a, old_a, -1), rank_a), -1)
        new_a = np.where((desired == ALERT) & (new_a < 0), cfg.rank[self.manual_cls], new_a)
        new_p = np.where(desired == PRE, np.maximum(np.where(was_p, old_p, -1), rank_p), -1)
        new_p = np.where((desired == PRE) & (new_p < 0), cfg.rank[UNKNOWN_CLS], new_p)
        escalate = ((desired == ALERT) & was_a & (new_a > old_a)) | (
            (desired == PRE) & was_p & (new_p > old_p)
        )
        emit = (desired != self.state) | escalate
        changes = self._changes(
            t, emit, desired, new_a, new_p, eta_a, eta_p, zone, track, alert_ok, pre_ok
        )
        changed = desired != self.state
        self.since[changed] = t
        self.state = desired
        self.a_rank = new_a
        self.p_rank = new_p
        if self._supp_keys.size:
            live = self.suppress_until[(self._supp_keys // _KEY).astype(np.int64)] > t
            self._supp_keys = self._supp_keys[live]
        return changes

    def _changes(
        self,
        t: float,
        emit: np.ndarray,
        desired: np.ndarray,
        new_a: np.ndarray,
        new_p: np.ndarray,
        eta_a: np.ndarray,
        eta_p: np.ndarray,
        zone: np.ndarray,
        track: np.ndarray,
        alert_ok: np.ndarray,
        pre_ok: np.ndarray,
    ) -> list[AlertChange]:
        """AlertChange records for the emitted zones, with class, ETA and track labels."""
        idx = np.flatnonzero(emit)
        if idx.size == 0:
            return []
        dz = desired[zone]
        sel = emit[zone] & (((dz == ALERT) & alert_ok) | ((dz == PRE) & pre_ok))
        key = np.unique(_keys(zone[sel], track[sel]))  # sorted by zone, then track
        sz, st = key // _KEY, key % _KEY
        starts = np.searchsorted(sz, idx, "left")
        ends = np.searchsorted(sz, idx, "right")
        out: list[AlertChange] = []
        ids = self.zones.ids
        for i, a, b in zip(idx.tolist(), starts.tolist(), ends.tolist(), strict=True):
            s = int(desired[i])
            if s == CLEAR:
                out.append(AlertChange(t, ids[i], "clear"))
                continue
            r = new_a[i] if s == ALERT else new_p[i]
            eta = eta_a[i] if s == ALERT else eta_p[i]
            out.append(
                AlertChange(
                    t,
                    ids[i],
                    STATE_NAMES[s],
                    cls=THREAT_CLASSES[self._inv_rank[r]] if r >= 0 else None,
                    eta_s=float(max(eta, 0.0)) if math.isfinite(eta) else None,
                    tracks=tuple(track_label(x) for x in st[a:b].tolist()),
                )
            )
        return out

    def _retract(
        self,
        t: float,
        za: np.ndarray,
        zp: np.ndarray,
        zp_live: np.ndarray | None,
        sup: tuple[np.ndarray, np.ndarray, np.ndarray],
        tracks: TrackState,
        now_tr: np.ndarray,
        now_cls: np.ndarray,
    ) -> None:
        """Shorten the hold of zones whose alert support ended while every supporting track
        is still measured now (prediction moved away, nothing arrived): retract_hold_s of the
        zone's class, or of the class every such track is predicted as now (``now_tr``,
        ``now_cls``: this tick's pairs) where that is shorter (a rocket first read as a cruise
        missile, now falling: its level-flight corridor is retracted as a ballistic one); if
        every such track has passed the zone and none supports even a pre-alert there
        (``zp``): passed_hold_s. Every supporting threat ended and none that did not makes the
        zone plausible (``zp_live``; None when no class has an ended hold or nothing
        ended): ended_hold_s (:meth:`_ended_hold`). Every supporting pair was a lost track's
        (its ghost's cloud moved on) and nothing supports even a pre-alert there:
        lost_hold_s (:meth:`_lost_hold`). ``sup``: this tick's alert pairs (zones, tracks,
        lost flags)."""
        pz, ptr, plost = self._prev_sup
        self._prev_sup = sup
        ended = (self.state == ALERT) & ~za
        if pz.size == 0 or not ended.any():
            return
        m = ended[pz]
        if not m.any():
            return
        self._lost_hold(pz[m], plost[m], zp)
        # a track fusion merged into another lives on as the survivor
        pz, ptr = pz[m], tracks.survivor(ptr[m])
        if zp_live is not None:
            self._ended_hold(pz, ptr, zp_live)
        found, _, last_up = self._track_info(ptr, tracks)
        live = found & (last_up >= t - RETRACT_QUIET_S)
        dead_z = np.zeros(len(self.zones), bool)
        dead_z[pz[~live]] = True
        z = np.unique(pz)
        z = z[~dead_z[z]]
        if z.size:
            code = self._inv_rank[np.maximum(self.a_rank[z], 0)]
            hold = self.cfg.per_class["retract_hold_s"][code]
            lz, ltr = pz[live], ptr[live]
            now = self._present_hold(ltr, now_tr, now_cls)
            zone_now = np.full(len(self.zones), -np.inf)
            np.maximum.at(zone_now, lz, now)
            hold = np.minimum(hold, np.where(zone_now[z] > -np.inf, zone_now[z], np.inf))
            # every supporting track has passed: beyond the zone's reach and flying away
            near_z = np.zeros(len(self.zones), bool)
            near_z[pz[~self._receding(pz, ptr, tracks)]] = True
            near_z |= zp  # another threat still makes the zone plausible: no shorter hold
            hold = np.where(
                near_z[z], hold, np.minimum(hold, self.cfg.per_class["passed_hold_s"][code])
            )
            self.alert_until[z] = np.minimum(self.alert_until[z], self._last_support[z] + hold)

    def _lost_hold(self, pz: np.ndarray, plost: np.ndarray, zp: np.ndarray) -> None:
        """Shorten to lost_hold_s the hold of zones whose alert support ended (``pz``) when
        every pair that supported them was a lost track's (``plost``: its ghost no longer
        makes the zone plausible) and nothing supports even a pre-alert there (``zp``)."""
        lim = self.cfg.per_class["lost_hold_s"]
        if not (lim < 7200.0).any() or not plost.any():
            return
        only = np.zeros(len(self.zones), bool)
        only[pz[plost]] = True
        only[pz[~plost]] = False
        z = np.flatnonzero(only & ~zp)
        if z.size:
            code = self._inv_rank[np.maximum(self.a_rank[z], 0)]
            until = self._last_support[z] + lim[code]
            self.alert_until[z] = np.minimum(self.alert_until[z], until)

    def _present_hold(self, ptr: np.ndarray, now_tr: np.ndarray, now_cls: np.ndarray) -> np.ndarray:
        """Per supporting track: retract_hold_s of the most dangerous class it is predicted
        as this tick (inf when it has no pair now)."""
        out = np.full(ptr.shape, np.inf)
        if now_tr.size == 0 or ptr.size == 0:
            return out
        mine = _member(now_tr, np.unique(ptr))  # only the supporting tracks' pairs
        if not mine.any():
            return out
        ut, inv = np.unique(now_tr[mine], return_inverse=True)
        rank = np.full(ut.size, -1, np.int64)
        np.maximum.at(rank, inv, self.cfg.rank[now_cls[mine]])
        pos = np.clip(np.searchsorted(ut, ptr), 0, ut.size - 1)
        hit = ut[pos] == ptr
        code = self._inv_rank[np.maximum(rank[pos], 0)]
        out[hit] = self.cfg.per_class["retract_hold_s"][code[hit]]
        return out

    def _ended_hold(self, pz: np.ndarray, ptr: np.ndarray, cover: np.ndarray) -> None:
        """Shorten to ended_hold_s the hold of zones whose alert support ended (``pz``, with
        the tracks ``ptr`` that supported them at the last tick) because every such threat
        most likely ended (unheard inside live acoustic coverage, vanished there, or coasting
        below ground), unless another threat makes the zone plausible (``cover``)."""
        lim = self.cfg.per_class["ended_hold_s"]
        other = cover.copy()
        other[pz[~_member(ptr, self._ended_ids)]] = True  # a supporter that did not end
        z = np.unique(pz)
        z = z[~other[z]]
        if z.size:
            code = self._inv_rank[np.maximum(self.a_rank[z], 0)]
            until = self._last_support[z] + lim[code]
            self.alert_until[z] = np.minimum(self.alert_until[z], until)

    def _receding(self, zone: np.ndarray, track: np.ndarray, tracks: TrackState) -> np.ndarray:
        """Per (zone, track) pair: the track is more than the zone's radius + PASSED_M from its
        centroid and flying away from it (false for tracks fusion no longer holds)."""
        out = np.zeros(zone.shape, bool)
        if len(tracks) == 0 or zone.size == 0:
            return out
        ids = np.asarray(tracks.ids, np.int64)
        order = np.argsort(ids, kind="stable")
        pos = np.clip(np.searchsorted(ids[order], track), 0, len(ids) - 1)
        ok = ids[order][pos] == track
        x = np.asarray(tracks.x, float)[order][pos]
        zs = self.zones
        rx, ry = x[:, 0] - zs.cx[zone], x[:, 1] - zs.cy[zone]
        away = rx * x[:, 3] + ry * x[:, 4] > 0.0
        far = np.hypot(rx, ry) > zs.radius[zone] + PASSED_M
        return ok & away & far

    def _note_vanished(self, t: float, tracks: TrackState, health: SensorHealth | None) -> None:
        """Remember confirmed tracks deleted since the last step whose coasting stretch (last
        measurement to deletion, dead-reckoned) lay wholly inside live acoustic coverage or,
        for a level flyer not read as ballistic (a missile falls out of a radar's view),
        inside live acoustic and radar coverage (``vanish_radar``: a radar's horizon for a
        ``[predict] ghost_radar_alt_m`` flyer)."""
        cfg = self.cfg
        ids = np.asarray(tracks.ids, np.int64)
        conf = np.asarray(tracks.confirmed, bool) if len(tracks) else np.zeros(0, bool)
        pids, px, plast, pcls = self._prev_trk
        self._prev_trk = (
            ids[conf],
            np.asarray(tracks.x, float)[conf] if len(tracks) else np.zeros((0, 6)),
            np.asarray(tracks.last_update, float)[conf] if len(tracks) else np.zeros(0),
            np.asarray(tracks.cls, np.int64)[conf] if len(tracks) else np.zeros(0, np.int64),
        )
        if not cfg.vanish_check or pids.size == 0 or health is None or len(health.alive) == 0:
            return
        gone = ~np.isin(tracks.survivor(pids), ids)  # merged tracks live on
        coast = t - plast
        gone &= coast >= cfg.vanish_min_coast_s
        if not gone.any():
            return
        # live acoustic posts (their range) and, with vanish_radar, radars (a low flyer's view)
        groups = self._vanish_cover_groups.groups(health)
        if not groups:
            return
        gx, gv, gc = px[gone], px[gone][:, 3:5], coast[gone]
        f = np.linspace(0.0, 1.0, 5)
        qx = gx[:, 0:1] + gv[:, 0:1] * gc[:, None] * f
        qy = gx[:, 1:2] + gv[:, 1:2] * gc[:, None] * f
        level = (pcls[gone] != BAL) & (np.abs(gx[:, 5]) < self._dive_vz)
        cov = np.zeros(qx.shape, bool)
        for tree, rng, acoustic in groups:
            hit = within_any_circle(qx, qy, rng, tree)
            cov |= hit if acoustic else hit & level[:, None]
        new = pids[gone][cov.all(axis=1)]
        if new.size:
            self._vanished = np.union1d(self._vanished, new)[-100_000:]

    def _ended(self, tracks: TrackState, health: SensorHealth | None) -> np.ndarray:
        """Sorted ids of live tracks whose threat most likely ended, which alert no new zone:
        coasting with the altitude more than 3 sigma below ground (a missile that fell or
        was destroyed), or unheard inside acoustic coverage (:meth:`_quiet_in_cover`)."""
        if len(tracks) == 0:
            return np.zeros(0, np.int64)
        x, P = np.asarray(tracks.x, float), np.asarray(tracks.P, float)
        coast = float(tracks.t) > np.asarray(tracks.last_update, float)
        under = coast & (x[:, 2] + 3.0 * np.sqrt(np.maximum(P[:, 2, 2], 0.0)) < 0.0)
        ids = np.asarray(tracks.ids, np.int64)[under]
        return np.union1d(ids, self._quiet_in_cover(tracks, health))

    def _quiet_in_cover(self, tracks: TrackState, health: SensorHealth | None) -> np.ndarray:
        """Ids of confirmed tracks unmeasured for their class's ``covered_quiet_alert_s`` or
        more whose dead-reckoned path since the last measurement lay wholly inside the
        coverage of live acoustic posts (``covered_quiet_frac`` x their range, in slant
        distance at the track's altitude): a threat there would have been heard, so it most
        likely ended (downed or struck) and alerts no new zone."""
        empty = np.zeros(0, np.int64)
        if len(tracks) == 0 or health is None or len(health.alive) == 0:
            return empty
        lim = self.cfg.per_class["covered_quiet_alert_s"][np.asarray(tracks.cls, np.int64)]
        quiet = float(tracks.t) - np.asarray(tracks.last_update, float)
        cand = np.asarray(tracks.confirmed, bool) & (quiet >= lim) & (lim < 86_400.0)
        if not cand.any():
            return empty
        x = np.asarray(tracks.x, float)[cand]
        cov = self._in_cover(x, -np.linspace(0.0, 1.0, 5) * quiet[cand][:, None], health)
        return np.sort(np.asarray(tracks.ids, np.int64)[cand][cov])

    def _covered_ahead(self, tracks: TrackState, health: SensorHealth | None) -> np.ndarray:
        """Sorted ids of confirmed tracks whose straight path from now to ``covered_ahead_s``
        ahead lies wholly inside live acoustic coverage (``covered_quiet_frac`` x each post's
        range, slant distance at the track's altitude): they will keep being heard."""
        empty = np.zeros(0, np.int64)
        if len(tracks) == 0 or health is None or len(health.alive) == 0:
            return empty
        cand = np.asarray(tracks.confirmed, bool)
        if not cand.any():
            return empty
        ahead = np.linspace(0.0, self.cfg.covered_ahead_s, 7)[None, :]
        cov = self._in_cover(np.asarray(tracks.x, float)[cand], ahead, health)
        return np.sort(np.asarray(tracks.ids, np.int64)[cand][cov])

    def _in_cover(self, x: np.ndarray, dt: np.ndarray, health: SensorHealth) -> np.ndarray:
        """Bool per state row of ``x``: its straight path at every offset of ``dt`` (s, one
        row per state or one for all) lies inside live acoustic coverage
        (``covered_quiet_frac`` x each post's range, in slant distance at its altitude)."""
        posts = self._live_posts(health)
        if posts is None:
            return np.zeros(len(x), bool)
        tree, rng = posts
        f = self.cfg.covered_quiet_frac
        qx = x[:, 0:1] + x[:, 3:4] * dt
        qy = x[:, 1:2] + x[:, 4:5] * dt
        # posts hear within their range in slant distance at the track's altitude
        qz = np.broadcast_to(np.maximum(x[:, 2:3], 0.0), qx.shape)
        return within_any_circle(qx, qy, f * rng, tree, pz=f * qz).all(axis=1)

    def _live_posts(self, health: SensorHealth) -> tuple[cKDTree, np.ndarray] | None:
        """KD-tree and ranges of the live acoustic posts (None: none), rebuilt only when the
        live set, a position or a range changes."""
        groups = self._post_groups.groups(health)
        return groups[0][:2] if groups else None

    def _lost_for(self, t: float, track: np.ndarray, lost: np.ndarray) -> np.ndarray:
        """Seconds each pair's track has been lost (0 for live tracks); remembers loss times."""
        ids = np.unique(track[lost])
        t0 = np.full(ids.size, t)
        if ids.size and self._lost_ids.size:
            pos = np.minimum(np.searchsorted(self._lost_ids, ids), self._lost_ids.size - 1)
            known = self._lost_ids[pos] == ids
            t0[known] = self._lost_t0[pos[known]]
        self._lost_ids, self._lost_t0 = ids, t0
        out = np.zeros(len(track))
        if ids.size:
            k = np.searchsorted(ids, track[lost])
            out[lost] = t - t0[k]
        return out

    def _ballistic_like(self, track: np.ndarray, cls: np.ndarray, tracks: TrackState) -> np.ndarray:
        """Pair classes with 'unknown' tracks above the ballistic altitude/climb set to ballistic."""
        ids = np.asarray(tracks.ids, np.int64)
        fast = tracks.ballistic_kinematics(self._bal_alt, self._bal_vz)
        hit = _member(track, ids[fast & (np.asarray(tracks.cls) == UNKNOWN_CLS)])
        return np.where(hit & (cls == UNKNOWN_CLS), BAL, cls)

    def _time_aloft(self, tracks: TrackState) -> np.ndarray:
        """Per track: seconds until it reaches the ground (inf: flying on, or altitude or
        vertical speed unknown). Ballistic tracks (and 'unknown' ones flying like them) in free
        fall, z + vz t - g t^2 / 2 = 0; tracks diving faster than predict's ``dive_vz`` at
        their vertical speed, z / |vz|, as predict predicts both as falling."""
        x = np.asarray(tracks.x, float)
        z, vz = np.maximum(x[:, 2], 0.0), x[:, 5]
        out = np.full(len(tracks), np.inf)
        ok = np.isfinite(z) & np.isfinite(vz)
        cls = np.asarray(tracks.cls, np.int64)
        bal = ok & (self._ballistic_like(np.asarray(tracks.ids, np.int64), cls, tracks) == BAL)
        out[bal] = fall_time(z[bal], vz[bal], G0)
        dive = ok & ~bal & tracks.diving(self._dive_vz)
        out[dive] = z[dive] / -vz[dive]
        return out

    @staticmethod
    def _track_info(track: np.ndarray, tracks: TrackState) -> tuple[np.ndarray, ...]:
        """Per pair: track held by fusion now, confirmed, time of its last measurement."""
        if len(tracks) == 0 or track.size == 0:
            z = np.zeros(track.shape, bool)
            return z, z.copy(), np.full(track.shape, -np.inf)
        ids = np.asarray(tracks.ids, np.int64)
        order = np.argsort(ids, kind="stable")
        sids = ids[order]
        pos = np.clip(np.searchsorted(sids, track), 0, len(sids) - 1)
        found = sids[pos] == track
        conf = np.asarray(tracks.confirmed, bool)[order][pos]
        last = np.asarray(tracks.last_update, float)[order][pos]
        return found, conf & found, np.where(found, last, -np.inf)

    # ------------------------------------------------------------------ degraded mode
    def _sensor_groups(self, which: str, mask: np.ndarray, health: SensorHealth) -> list:
        """KD-trees of the sensors in ``mask``, grouped by kind and range: (kind, tree, ranges,
        antenna heights, sensor indices, max range) each; cached per ``which`` ('dead', or
        'all' for every sensor) while the mask is unchanged."""
        key = np.packbits(mask).tobytes() + np.asarray(health.range_m, float).tobytes()
        hit = self._group_cache.get(which)
        if hit is not None and hit[0] == key:
            return hit[1]
        idx = np.flatnonzero(mask)
        rng = np.asarray(health.range_m, float)[idx]
        alt = np.full(idx.size, np.nan) if health.alt_m is None else health.alt_m[idx]
        kind = np.asarray(health.kind, np.int64)[idx]
        bucket = np.floor(np.log2(np.maximum(rng, 1.0))).astype(np.int64)
        groups = []
        for k in np.unique(kind):
            for b in np.unique(bucket[kind == k]):
                m = (kind == k) & (bucket == b)
                xy = np.column_stack([np.asarray(health.x)[idx[m]], np.asarray(health.y)[idx[m]]])
                groups.append((int(k), cKDTree(xy), rng[m], alt[m], idx[m], float(rng[m].max())))
        self._group_cache[which] = (key, groups)
        return groups

    def _coverage_lost(
        self,
        px: np.ndarray,
        py: np.ndarray,
        pz: np.ndarray,
        dead: np.ndarray,
        health: SensorHealth,
    ) -> np.ndarray:
        """Per point (height ``pz``, NaN unknown): inside a dead sensor's range and seen by no
        live sensor of its kind (a radar out where another radar still sees is no gap in what
        sensors hear). A live sensor with a height sees only to its radar horizon for the
        point's height (unknown: ground level), so a low drone is not taken for backed."""

        def within(x, y, z, groups: list, alive: np.ndarray | None) -> dict[int, np.ndarray]:
            """Per sensor kind: points inside the range of a sensor of ``groups``; with
            ``alive``, of a live one, out to its radar horizon for the points' heights ``z``."""
            pts = cKDTree(np.column_stack([x, y]))
            out: dict[int, np.ndarray] = {}
            for kind, tree, rng, alt, sid, rmax in groups:
                sm = pts.sparse_distance_matrix(tree, rmax, output_type="ndarray")
                hit = out.setdefault(kind, np.zeros(x.size, bool))
                if sm.size:
                    i, j = sm["i"], sm["j"]
                    r = rng[j]
                    if alive is not None:
                        r = np.where(alive[sid[j]], r, -1.0)
                        a = alt[j]
                        r = np.where(np.isfinite(a), np.minimum(r, radar_horizon_m(a, z[i])), r)
                    hit[i[sm["v"] <= r]] = True
            return out

        in_dead = within(px, py, None, self._sensor_groups("dead", dead, health), None)
        cand = np.flatnonzero(np.logical_or.reduce(list(in_dead.values())))
        lost = np.zeros(px.size, bool)
        if cand.size == 0:
            return lost
        z = np.nan_to_num(pz[cand], nan=0.0)
        alive = np.asarray(health.alive, bool)
        every = self._sensor_groups("all", np.ones(alive.size, bool), health)
        backups = [g for g in every if g[0] in in_dead]  # live sensors of the dead ones' kinds
        in_live = within(px[cand], py[cand], z, backups, alive)
        for kind, d in in_dead.items():
            live_k = in_live.get(kind, np.zeros(cand.size, bool))
            lost[cand] |= d[cand] & ~live_k
        return lost

    def _degraded(self, t: float, tracks: TrackState, health: SensorHealth | None):
        """Track ids in degraded mode, and extra (zone, track, cls, eta) pairs on their paths."""
        cfg = self.cfg
        e = np.zeros(0, np.int64)
        none = (e, e, e, e, np.zeros(0))
        self.degraded_tracks = e
        if health is None or len(tracks) == 0 or len(health.alive) == 0:
            return none
        dead = ~np.asarray(health.alive, bool)
        if health.monitored is not None:  # silence of a sensor that sends no heartbeats
            dead &= np.asarray(health.monitored, bool)
        if t - (self._t0 or t) < cfg.degraded_grace_s:
            # sensors never heard from may simply not have sent their first heartbeat yet
            dead &= np.isfinite(np.asarray(health.last_seen, float))
        if not dead.any():
            return none
        live = np.asarray(tracks.confirmed, bool) if cfg.require_confirmed else np.ones(len(tracks))
        live = live.astype(bool)
        if not live.any():
            return none
        x = np.asarray(tracks.x, float)[live]
        tid = np.asarray(tracks.ids, np.int64)[live]
        tcls = np.asarray(tracks.cls, np.int64)[live]
        pos, vel = x[:, :2], x[:, 3:5]
        speed = np.hypot(vel[:, 0], vel[:, 1])
        moving = speed > 1.0
        ahead = np.minimum(cfg.degraded_lookahead_s, self._time_aloft(tracks)[live])
        length = np.where(moving, np.minimum(speed * ahead, cfg.degraded_max_path_m), 0.0)
        n = (np.ceil(length / cfg.degraded_step_m) + 1).astype(np.int64)
        jj = np.arange(int(n.max()))
        frac = jj[None, :] / np.maximum(n - 1, 1)[:, None]
        valid = jj[None, :] < n[:, None]
        unit = np.where(moving[:, None], vel / np.maximum(speed, 1e-9)[:, None], 0.0)
        along = frac * length[:, None]
        px = pos[:, 0:1] + unit[:, 0:1] * along
        py = pos[:, 1:2] + unit[:, 1:2] * along
        tau = np.where(moving[:, None], along / np.maximum(speed, 1e-9)[:, None], 0.0)
        ti = np.broadcast_to(np.arange(len(tid))[:, None], px.shape)[valid]
        px, py, tau = px[valid], py[valid], tau[valid]
        pz = np.broadcast_to(x[:, 2:3], valid.shape)[valid]
        covered = self._coverage_lost(px, py, pz, dead, health)
        if not covered.any():
            return none
        deg_rows = np.unique(ti[covered])
        self.degraded_tracks = tid[deg_rows]
        # zones near the covered stretch of each degraded path
        zs = self.zones
        cov = np.flatnonzero(covered)
        ctree = cKDTree(np.column_stack([px[cov], py[cov]]))
        r = cfg.degraded_radius_m
        sm = ctree.sparse_distance_matrix(zs.tree, r + zs.max_radius, output_type="ndarray")
        if sm.size == 0:
            return (self.degraded_tracks, e, e, e, np.zeros(0))
        zi = sm["j"].astype(np.int64)
        ok = sm["v"] <= r + zs.radius[zi]
        si = cov[sm["i"][ok]]
        zi = zi[ok]
        if zi.size == 0:
            return (self.degraded_tracks, e, e, e, np.zeros(0))
        d = sm["v"][ok]
        row = ti[si]
        eta = np.maximum(tau[si] - d / np.maximum(speed[row], 1.0), 0.0)
        key = _keys(zi, row)
        order = np.lexsort((eta, key))
        key, zi, row, eta = key[order], zi[order], row[order], eta[order]
        first = np.r_[True, key[1:] != key[:-1]]
        zi, row, eta = zi[first], row[first], eta[first]
        return self.degraded_tracks, zi, tid[row], tcls[row], eta

    # ------------------------------------------------------------------ operators
    def _resolve(self, action: OperatorAction) -> np.ndarray:
        """Zone indices named by an action (zones and whole regions); unknown ids raise."""
        zs = self.zones
        out = []
        for z in action.zones:
            if z not in zs.index:
                raise RecordError("operator action", None, "zones", f"unknown zone id {z!r}")
            out.append(zs.index[z])
        rix = {r: i for i, r in enumerate(zs.region_ids)}
        for r in action.regions:
            if r not in rix:
                raise RecordError("operator action", None, "regions", f"unknown region id {r!r}")
            out.extend(np.flatnonzero(zs.region == rix[r]).tolist())
        return np.unique(np.asarray(out, np.int64))

    def operator(self, action: OperatorAction) -> list[AlertChange]:
        """Apply a manual alert, extend or cancel; log it to the audit log first; return changes."""
        cfg = self.cfg
        idx = self._resolve(action)
        t = float(action.t)
        ids = self.zones.ids
        dur = float(action.duration_s if action.duration_s is not None else cfg.manual_alert_s)
        rec: dict[str, Any] = {
            "t": t,
            "action": action.action,
            "who": action.who,
            "why": action.why,
            "zones": list(action.zones),
            "regions": list(action.regions),
        }
        changes: list[AlertChange] = []
        if action.action == "alert":
            code = CLS_CODE[action.cls] if action.cls else UNKNOWN_CLS
            newly = idx[self.state[idx] != ALERT]
            changes = [
                AlertChange(t, ids[i], "alert", cls=THREAT_CLASSES[code], tracks=())
                for i in newly.tolist()
            ]
            rec.update(duration_s=dur, until=t + dur, cls=THREAT_CLASSES[code])
            rec["affected"] = [ids[i] for i in idx.tolist()]
            rec["changed"] = [c.zone for c in changes]
            self.audit.append(rec)
            self.manual_until[idx] = np.maximum(self.manual_until[idx], t + dur)
            self.manual_cls[idx] = code
            self.suppress_until[idx] = -np.inf
            self.a_rank[newly] = cfg.rank[code]
            self.since[newly] = t
            self.state[idx] = ALERT
        elif action.action == "extend":
            # only zones under alert are extended; the others are listed as not affected
            hit = idx[self.state[idx] == ALERT]
            rec.update(duration_s=dur, until=t + dur)
            rec["affected"] = [ids[i] for i in hit.tolist()]
            rec["changed"] = []
            self.audit.append(rec)
            self.manual_until[hit] = np.maximum(self.manual_until[hit], t + dur)
            keep_cls = self._inv_rank[np.maximum(self.a_rank[hit], 0)]
            self.manual_cls[hit] = np.where(self.a_rank[hit] >= 0, keep_cls, UNKNOWN_CLS)
        else:  # cancel
            on = idx[self.state[idx] != CLEAR]
            changes = [AlertChange(t, ids[i], "clear") for i in on.tolist()]
            until = t + cfg.cancel_suppress_s
            rec.update(suppress_until=until)
            rec["affected"] = [ids[i] for i in idx.tolist()]
            rec["changed"] = [c.zone for c in changes]
            self.audit.append(rec)
            lz, lt, lc = self._last_pairs
            m = np.isin(lz, idx)
            self._supp_keys = np.union1d(self._supp_keys, _keys(lz[m], lt[m]))
            prank = np.full(len(self.zones), -1, np.int64)
            np.maximum.at(prank, lz[m], cfg.rank[lc[m]])
            self.suppress_rank[idx] = np.maximum.reduce(
                [prank[idx], self.a_rank[idx], self.p_rank[idx]]
            )
            self.suppress_until[idx] = until
            self.manual_until[idx] = -np.inf
            self.alert_until[idx] = -np.inf
            self.pre_until[idx] = -np.inf
            self.a_rank[idx] = -1
            self.p_rank[idx] = -1
            self.since[on] = t
            self.state[idx] = CLEAR
        return changes
