"""Diagnostics beside the scorecard (not part of issue 2's scoring): why pairs were missed,
and where person-hours above the oracle go.

Each missed or late (zone, threat) pair is put in one stage, judged at its *deadline*
``t_arr - shelter_s``:

* **a, not tracked**: no confirmed fused track (tracks.jsonl snapshots) came within
  ``near_track_m`` (5 km) of the threat's true position during the ``window_s`` (30 min)
  before the deadline — sensor coverage or fusion did not allow a warning. Where the
  scenario holds its sensor and detection files, these pairs are split by the accepted
  reports that lay within 1.5 sigma + 1 km of the threat in that window: none (sensors
  could not warn), 1-2 (too few for a track) and 3 or more (fusion's miss; reports of
  other threats nearby count too, so this is an upper bound);
* **b, not predicted**: tracked, but at the deadline the zone was neither alerted nor
  pre-alerted (predict gave it no plausible arrival within the horizons);
* **c, not alerted in time**: tracked and the zone was pre-alerted at the deadline (the
  arrival was plausible but below the alert threshold or beyond the alert horizon), or it
  was alerted then cleared before the arrival.

Excess person-hours (alert time outside the oracle's episodes of the same zone) are split
into zones the oracle never alerts (false or near-miss episodes) and, in threatened zones,
time before the oracle's window, between its windows and after it (its 600 s hold
included); also by the class named on the alert line that opened each episode.

False alert episodes (no threat within 15 km of the zone during the episode ± 5 min) are
put in one cause each, first that applies:

* **ahead of a downed threat**: a threat downed between the episode's start − 5 min and its
  end had the zone ahead of it (within 45° of its last course and within 15 minutes of
  flight): the alert warned of a real threat that was then shot down;
* **ballistic impact area**: opened by a ballistic threat (the impact ellipse covered the
  zone; the missile fell elsewhere);
* **route spread**: some threat came within 50 km of the zone during the episode ± 5 min
  (the predicted routes fanned over the zone, the threat flew past);
* **no threat near**: none within 50 km (false tracks, or ghosts of lost tracks).

Distances are to the zone's polygon and the course is toward its nearest point, so the causes
read the same on raion- or oblast-sized zones as on small ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

from airwarn.contracts import THREAT_CLASSES, AlertChange, iso_seconds
from airwarn.evaluate.scoring import HIT, LATE, MISS, NearTimes, Scorecard, truth_index

STAGES = ("a_not_tracked", "b_not_predicted", "c_not_alerted")


def read_confirmed_tracks(path: Path, frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confirmed track snapshots from tracks.jsonl as local (x, y, t) arrays."""
    lat, lon, t = [], [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if '"confirmed":true' not in line and '"confirmed": true' not in line:
                continue
            try:
                o = json.loads(line)
                lat.append(float(o["lat"]))
                lon.append(float(o["lon"]))
                t.append(float(o["t"]))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                continue
    if not t:
        z = np.zeros(0)
        return z, z.copy(), z.copy()
    x, y = frame.to_local(np.asarray(lat), np.asarray(lon))
    return np.asarray(x, float), np.asarray(y, float), np.asarray(t, float)


def read_reports(
    scenario_dir: Path,
    frame,
    reach_sigma: float = 1.5,
    reach_m: float = 1000.0,
    reach_max_m: float = 15000.0,
    chunk: int = 50_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Accepted sensor reports of a scenario (sensors.jsonl, detections.jsonl) as local
    (x, y, t, reach) arrays, reach = ``reach_sigma`` x sigma + ``reach_m`` (how far from the
    report a threat it heard can be), at most ``reach_max_m`` (a vaguer report places no
    threat); None when either file is missing. Lines are read as ``ingest`` reads them
    (duplicates, late and bad lines dropped); heartbeats skipped. Reports are turned into
    arrays every ``chunk`` lines: a night's 500,000 reports held as objects take ~0.5 GB."""
    from airwarn.contracts import read_sensors
    from airwarn.ingest import Ingestor, SensorRegistry, iter_report_lines

    sp, dp = Path(scenario_dir) / "sensors.jsonl", Path(scenario_dir) / "detections.jsonl"
    if not (sp.exists() and dp.exists()):
        return None
    ing = Ingestor(SensorRegistry(read_sensors(sp), frame))
    cols: list[tuple[np.ndarray, ...]] = []

    def drain() -> None:
        b = ing.drain()
        cols.append((b.x, b.y, b.t, np.minimum(reach_sigma * b.sigma + reach_m, reach_max_m)))

    for k, (line_no, text) in enumerate(iter_report_lines(dp), 1):
        if '"heartbeat": true' in text or '"heartbeat":true' in text:
            continue
        ing.accept_line(text, line_no, dp.name)
        if k % chunk == 0:
            drain()
    drain()
    x, y, t, reach = (np.concatenate(c) for c in zip(*cols, strict=True))
    return x, y, t, reach


def input_end(scenario_dir: Path, tail_bytes: int = 65536) -> float | None:
    """Time of the scenario's last sensor record (report or heartbeat): the largest ``t``
    among the last lines of detections.jsonl (lines come in arrival order); None when the
    file is missing or its tail holds no readable time."""
    dp = Path(scenario_dir) / "detections.jsonl"
    if not dp.exists():
        return None
    with open(dp, "rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - tail_bytes))
        lines = fh.read().decode("utf-8", errors="replace").splitlines()
    if size > tail_bytes:
        lines = lines[1:]  # the first may be cut
    best = None
    for line in lines:
        try:
            v = json.loads(line)["t"]
            t = iso_seconds(v) if isinstance(v, str) else float(v)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        if np.isfinite(t):
            best = t if best is None else max(best, t)
    return best


def tracked_times(
    card: Scorecard, tracks: tuple[np.ndarray, np.ndarray, np.ndarray], near_m: float
) -> list[np.ndarray]:
    """Per threat, the sorted snapshot times when a confirmed track was within near_m of it."""
    tx, ty, tt = tracks
    return near_times(card, tx, ty, tt, np.full(tt.size, float(near_m)))


def near_times(
    card: Scorecard, px: np.ndarray, py: np.ndarray, pt: np.ndarray, radius: np.ndarray
) -> list[np.ndarray]:
    """Per threat, the sorted distinct times ``pt`` of the points (``px``, ``py``) that lay
    within their own ``radius`` of the threat's true position at that time."""
    ix = truth_index(card.truth, card.zones, card.params)
    s = ix.samples
    n_thr = len(card.truth)
    out = [np.zeros(0) for _ in range(n_thr)]
    if pt.size == 0 or len(s) == 0:
        return out
    # samples are at most step_s apart: some sample lies within step_s / 2 of any time
    half = card.params.step_s / 2.0 + 0.5
    r_max = float(np.max(radius))
    k = r_max / half
    tree = cKDTree(np.column_stack([s.x, s.y, s.t * k]))
    q = cKDTree(np.column_stack([px, py, pt * k]))
    hits = q.query_ball_tree(tree, r=r_max, p=np.inf)
    rows = np.repeat(np.arange(pt.size), [len(h) for h in hits])
    if rows.size == 0:
        return out
    smp = np.fromiter((j for h in hits for j in h), np.int64, count=rows.size)
    ok = np.hypot(px[rows] - s.x[smp], py[rows] - s.y[smp]) <= radius[rows]
    ok &= np.abs(pt[rows] - s.t[smp]) <= half
    thr, when = s.thr[smp[ok]], pt[rows[ok]]
    order = np.lexsort((when, thr))
    thr, when = thr[order], when[order]
    cuts = np.searchsorted(thr, np.arange(n_thr + 1))
    for i in range(n_thr):
        out[i] = np.unique(when[cuts[i] : cuts[i + 1]])
    return out


def miss_stages(
    card: Scorecard,
    tracks_file: Path | None,
    near_track_m: float = 5000.0,
    window_s: float = 1800.0,
    reports: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    t_end: float | None = None,
) -> dict[str, Any]:
    """Classify each missed or late pair as a / b / c (module doc); counts by kind and class.
    With ``reports`` (:func:`read_reports`), split stage a by how often sensors heard the
    threat in the window: not at all, 1-2 reports (too few for any track), 3 or more. With
    ``t_end`` (:func:`input_end`), count the pairs whose deadline came after the sensor
    data ended (a scenario that stops its sensors while threats still fly)."""
    pr, zs = card.pairs, card.zones
    bad = np.flatnonzero(pr.outcome != HIT)
    res: dict[str, Any] = {"near_track_m": near_track_m, "window_s": window_s}
    if tracks_file is None or not Path(tracks_file).exists():
        res["note"] = "no tracks.jsonl next to the alerts: stages not computed"
        return res
    tt = tracked_times(card, read_confirmed_tracks(Path(tracks_file), zs.frame), near_track_m)
    dead = pr.t_arr[bad] - zs.shelter_s[pr.zone[bad]]
    last_seen, first_seen = _seen_before(tt, pr.threat[bad], dead, window_s)
    tracked = np.isfinite(last_seen)
    stage = np.zeros(bad.size, np.int64)
    in_alert = card.alert_eps.containing(pr.zone[bad], dead) >= 0
    in_pre = card.prealert_eps.containing(pr.zone[bad], dead) >= 0
    stage[:] = np.where(~tracked, 0, np.where(in_alert | in_pre, 2, 1))
    res["pairs"] = int(bad.size)
    rows = {}
    for kind, kmask in (("impact", pr.impact[bad]), ("overflight", ~pr.impact[bad])):
        for oc, oname in ((LATE, "late"), (MISS, "miss")):
            m = kmask & (pr.outcome[bad] == oc)
            rows[f"{kind}_{oname}"] = {
                s: int((m & (stage == k)).sum()) for k, s in enumerate(STAGES)
            }
    res["by_outcome"] = rows
    res["by_class"] = {
        THREAT_CLASSES[c]: {
            s: int(((pr.cls[bad] == c) & (stage == k)).sum()) for k, s in enumerate(STAGES)
        }
        for c in np.unique(pr.cls[bad])
    }
    b = stage == 1
    c = stage == 2
    res["b_track_lost_300s"] = int((b & (last_seen > 300)).sum())
    res["b_first_tracked_lt_300s"] = int((b & (first_seen < 300)).sum())
    res["c_prealert_at_deadline"] = int((c & in_pre).sum())
    res["c_alert_cleared_before_arrival"] = int((c & in_alert).sum())
    later = _count_between(tt, pr.threat[bad], dead, pr.t_arr[bad], lo_open=True) > 0
    res["a_tracked_later"] = int(((stage == 0) & later).sum())
    if reports is not None:
        res["a_heard"] = _heard_split(card, bad[stage == 0], dead[stage == 0], window_s, reports)
    if t_end is not None:
        after = dead > t_end
        res["input_end"] = t_end
        res["after_input_end"] = {
            "impact": int((after & pr.impact[bad]).sum()),
            "overflight": int((after & ~pr.impact[bad]).sum()),
        }
    res["stage"] = stage
    res["index"] = bad
    return res


def _keyed(per_threat: list[np.ndarray], qmin: float, qmax: float):
    """All threats' sorted times in one sorted array, keyed ``threat * span + (t - t0)`` so
    that one searchsorted answers queries on any threat; returns the times, each threat's
    first index, the keys and the key function of (threat, time) queries within
    [``qmin``, ``qmax``]."""
    sizes = np.array([a.size for a in per_threat], np.int64)
    allt = np.concatenate(per_threat)
    start = np.concatenate(([0], np.cumsum(sizes)))
    t0 = float(min(allt.min(), qmin))
    span = float(max(allt.max(), qmax)) - t0 + 1.0
    key = np.repeat(np.arange(sizes.size), sizes) * span + (allt - t0)
    return allt, start, key, lambda thr, t: thr * span + (np.asarray(t, float) - t0)


def _has_times(per_threat: list[np.ndarray], thr: np.ndarray) -> bool:
    """Whether there are queries and any time to look them up in."""
    return thr.size > 0 and any(a.size for a in per_threat)


def _seen_before(
    per_threat: list[np.ndarray], thr: np.ndarray, dead: np.ndarray, window_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per query (threat ``thr``, deadline ``dead``), how long before the deadline its last
    sorted time within the ``window_s`` before it lay, and its first time of all (NaN: none
    in the window)."""
    last = np.full(thr.size, np.nan)
    first = np.full(thr.size, np.nan)
    if not _has_times(per_threat, thr):
        return last, first
    allt, start, key, q = _keyed(per_threat, float(np.min(dead)), float(np.max(dead)))
    j = np.searchsorted(key, q(thr, dead), side="right") - 1  # last time <= dead
    ok = j >= start[thr]
    jj = np.where(ok, j, 0)
    ok &= allt[jj] >= dead - window_s
    last[ok] = dead[ok] - allt[jj[ok]]
    first[ok] = dead[ok] - allt[start[thr[ok]]]
    return last, first


HEARD = ("not_heard", "heard_1_2", "heard_3_plus")


def _count_between(
    per_threat: list[np.ndarray], thr: np.ndarray, lo: np.ndarray, hi: np.ndarray,
    lo_open: bool = False,
) -> np.ndarray:  # fmt: skip
    """Per query, how many of threat ``thr``'s sorted times lie in [lo, hi] ((lo, hi] with
    ``lo_open``): one searchsorted over all threats' times, keyed by threat."""
    if not _has_times(per_threat, thr):
        return np.zeros(thr.size, np.int64)
    _, _, key, q = _keyed(per_threat, float(np.min(lo)), float(np.max(hi)))
    a = np.searchsorted(key, q(thr, lo), side="right" if lo_open else "left")
    b = np.searchsorted(key, q(thr, hi), side="right")
    return (b - a).astype(np.int64)


def _heard_split(card: Scorecard, idx: np.ndarray, dead: np.ndarray, window_s: float, reports):
    """Pairs ``idx`` (deadlines ``dead``) counted by the sensor reports near their threat in
    the ``window_s`` before the deadline (HEARD), overall and by class."""
    pr = card.pairs
    n = _count_between(near_times(card, *reports), pr.threat[idx], dead - window_s, dead)
    grade = np.where(n == 0, 0, np.where(n < 3, 1, 2))
    out: dict[str, Any] = {h: int((grade == k).sum()) for k, h in enumerate(HEARD)}
    out["by_class"] = {
        THREAT_CLASSES[c]: {
            h: int(((pr.cls[idx] == c) & (grade == k)).sum()) for k, h in enumerate(HEARD)
        }
        for c in np.unique(pr.cls[idx])
    }
    return out


def _overlap(s: float, e: float, os_: np.ndarray, oe: np.ndarray) -> tuple[float, float, float]:
    """Time of [s, e) inside the sorted disjoint intervals, and outside them before / after."""
    inter = np.clip(np.minimum(e, oe) - np.maximum(s, os_), 0.0, None)
    inside = float(inter.sum())
    if inside <= 0:
        return 0.0, e - s, 0.0
    ov = inter > 0
    first = float(np.maximum(s, os_[ov]).min())
    last = float(np.minimum(e, oe[ov]).max())
    return inside, first - s, e - last


def _openers(card: Scorecard, alerts: Sequence[AlertChange]) -> dict[tuple[int, float], str]:
    """(zone index, start time) of each alert line -> the class it names (the class that
    opened an episode starting then)."""
    out: dict[tuple[int, float], str] = {}
    for a in alerts:
        if a.state == "alert" and a.zone in card.zones.index:
            out.setdefault((card.zones.index[a.zone], float(a.t)), a.cls or "unknown")
    return out


def excess_hours(card: Scorecard, alerts: Sequence[AlertChange]) -> dict[str, Any]:
    """Person-hours above the oracle: where (unthreatened zones, early, between, after), by class."""
    zs, eps, ora = card.zones, card.alert_eps, card.oracle_eps
    pop = zs.population.astype(float)
    start_cls = _openers(card, alerts)
    ocut = np.searchsorted(ora.zone, np.arange(len(zs) + 1))
    tot = {"inside_oracle": 0.0, "unthreatened_false": 0.0, "unthreatened_near": 0.0}
    tot |= {"other_time": 0.0, "early": 0.0, "between": 0.0, "after": 0.0}
    by_cls: dict[str, dict[str, float]] = {}
    zone_ex = np.zeros(len(zs))
    for i in range(len(eps)):
        z, s, e = int(eps.zone[i]), float(eps.start[i]), float(eps.end[i])
        a, b = ocut[z], ocut[z + 1]
        ph = pop[z] / 3600.0
        cls = start_cls.get((z, s), "unknown")
        d = by_cls.setdefault(cls, {"episodes": 0, "person_hours": 0.0, "excess": 0.0})
        d["episodes"] += 1
        d["person_hours"] += ph * (e - s)
        if a == b:
            key = "unthreatened_false" if card.false_alert[i] else "unthreatened_near"
            tot[key] += ph * (e - s)
            ex = ph * (e - s)
        else:
            inside, before, after = _overlap(s, e, ora.start[a:b], ora.end[a:b])
            tot["inside_oracle"] += ph * inside
            if inside <= 0:
                tot["other_time"] += ph * (e - s)
            else:
                tot["early"] += ph * before
                tot["after"] += ph * after
                tot["between"] += ph * max(0.0, e - s - inside - before - after)
            ex = ph * (e - s - inside)
        d["excess"] += ex
        zone_ex[z] += ex
    oracle = card.summary["person_hours_oracle"]
    top = np.argsort(-zone_ex)[:8]
    return {
        "person_hours_oracle": oracle,
        "split": {k: round(v, 1) for k, v in tot.items()},
        "by_class": {
            k: {kk: round(vv, 1) if isinstance(vv, float) else vv for kk, vv in v.items()}
            for k, v in sorted(by_cls.items())
        },
        "top_zones": [
            {"zone": zs.ids[z], "name": zs.names[z], "excess": round(float(zone_ex[z]), 1)}
            for z in top
            if zone_ex[z] > 0
        ],
    }


FALSE_CAUSES = ("ahead_of_downed", "ballistic_area", "route_spread", "no_threat_near")
AHEAD_DEG = 45.0
AHEAD_S = 900.0
SPREAD_M = 50_000.0


def false_causes(card: Scorecard, alerts: Sequence[AlertChange]) -> dict[str, Any]:
    """False alert episodes (count, person-hours) by cause and by the class that opened them.

    Distances are to the zone's polygon, so that on large zones (raions, oblasts) a threat
    20 km past the border counts as near, and a threat downed 20 km short of it as ahead."""
    zs, eps, pad = card.zones, card.alert_eps, card.params.false_pad_s
    idx = np.flatnonzero(card.false_alert)
    zone, s, e = eps.zone[idx], eps.start[idx], eps.end[idx]
    opener = _openers(card, alerts)
    cls = np.array(
        [opener.get((int(z), float(t)), "unknown") for z, t in zip(zone, s, strict=True)], object
    )
    downed = np.zeros(idx.size, bool)
    t_down = np.full(idx.size, np.inf)  # the earliest downing that the episode lay ahead of
    near = np.zeros(idx.size, bool)
    if idx.size:
        ix = truth_index(card.truth, zs, card.params)
        around = NearTimes(ix.coarse, ix.geom, SPREAD_M, pad, zones=np.unique(zone))
        near = around.any_between(zone, s - pad, e + pad)
    polys = np.array(zs.polys, dtype=object)
    for th in card.truth:
        t = np.asarray(th.t, float)
        if th.fate != "downed" or t.size < 2:
            continue
        hit = np.flatnonzero((t[-1] >= s - pad) & (t[-1] <= e))
        if hit.size == 0:
            continue
        x, y = zs.frame.to_local(np.asarray(th.lat[-2:], float), np.asarray(th.lon[-2:], float))
        x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
        dt = max(float(t[-1] - t[-2]), 1e-3)
        vx, vy = (x[-1] - x[-2]) / dt, (y[-1] - y[-2]) / dt
        # toward the polygon's nearest point: ahead within AHEAD_DEG, reached in AHEAD_S
        line = shapely.shortest_line(shapely.points(x[-1], y[-1]), polys[zone[hit]])
        end = shapely.get_coordinates(shapely.get_point(line, 1))
        rx, ry = end[:, 0] - x[-1], end[:, 1] - y[-1]
        dist, speed = np.hypot(rx, ry), float(np.hypot(vx, vy))
        cosang = (rx * vx + ry * vy) / np.maximum(dist * speed, 1e-9)
        ahead = ((cosang >= np.cos(np.radians(AHEAD_DEG))) | (dist <= 0)) & (
            dist <= speed * AHEAD_S
        )
        downed[hit[ahead]] = True
        t_down[hit[ahead]] = np.minimum(t_down[hit[ahead]], t[-1])
    cause = np.where(
        downed,
        0,
        np.where(cls == "ballistic", 1, np.where(near, 2, 3)),
    )
    ph = zs.population[zone].astype(float) * (e - s) / 3600.0
    out: dict[str, Any] = {"false_episodes": int(idx.size), "alert_episodes": len(eps)}
    out["by_cause"] = {
        c: {
            "episodes": int((cause == i).sum()),
            "person_hours": round(float(ph[cause == i].sum()), 1),
        }
        for i, c in enumerate(FALSE_CAUSES)
    }
    # the part of those alerts that came after the downing: the downed threat's track
    # coasting on, its ghost, and the holds after them (what a faster all-clear could save)
    dn = cause == 0
    after = np.clip(e[dn] - np.maximum(s[dn], t_down[dn]), 0.0, None)
    out["by_cause"]["ahead_of_downed"] |= {
        "person_hours_after_downing": round(
            float((zs.population[zone[dn]].astype(float) * after).sum() / 3600.0), 1
        ),
        "opened_after_downing": int((s[dn] > t_down[dn]).sum()),
        "after_downing_median_s": round(float(np.median(after)), 1) if after.size else None,
    }
    out["by_class"] = {
        str(c): {
            "episodes": int((cls == c).sum()),
            "person_hours": round(float(ph[cls == c].sum()), 1),
        }
        for c in sorted(set(cls.tolist()))
    }
    return out


def diagnostics(
    card: Scorecard,
    alerts: Sequence[AlertChange],
    tracks_file: Path | None,
    scenario_dir: Path | None = None,
) -> dict[str, Any]:
    """All diagnostics as a JSON-ready dict (stage a split by reports when ``scenario_dir``
    holds the sensor and detection files)."""
    reports = None if scenario_dir is None else read_reports(scenario_dir, card.zones.frame)
    t_end = None if scenario_dir is None else input_end(scenario_dir)
    ms = miss_stages(card, tracks_file, reports=reports, t_end=t_end)
    ms.pop("stage", None)
    ms.pop("index", None)
    return {
        "miss_stages": ms,
        "excess_person_hours": excess_hours(card, alerts),
        "false_alerts": false_causes(card, alerts),
    }


def diagnostics_markdown(d: dict[str, Any]) -> list[str]:
    """Markdown lines of the diagnostic section (marked apart from the scorecard)."""
    L = [
        "## Diagnostics (not part of the scorecard)",
        "",
        "Missed and late pairs by the stage that failed, judged at t_arr − shelter_s: "
        "**a** no confirmed track within "
        f"{d['miss_stages']['near_track_m'] / 1000:g} km of the threat in the "
        f"{d['miss_stages']['window_s'] / 60:g} min before (coverage/fusion); **b** tracked "
        "but the zone neither alerted nor pre-alerted (predict); **c** pre-alerted but not "
        "alerted, or alerted and cleared before arrival (decide).",
        "",
    ]
    ms = d["miss_stages"]
    if "note" in ms:
        L += [ms["note"], ""]
    else:
        L += ["| pairs | a not tracked | b not predicted | c not alerted |", "|---|---|---|---|"]
        for k, v in [*ms["by_outcome"].items(), *ms["by_class"].items()]:
            L.append(f"| {k} | {v[STAGES[0]]:,} | {v[STAGES[1]]:,} | {v[STAGES[2]]:,} |")
        L += [
            "",
            f"Of b: {ms['b_track_lost_300s']:,} with the last track > 5 min before the "
            f"deadline (lost), {ms['b_first_tracked_lt_300s']:,} first tracked < 5 min before "
            f"it. Of c: {ms['c_prealert_at_deadline']:,} pre-alerted at the deadline, "
            f"{ms['c_alert_cleared_before_arrival']:,} alerted but cleared before arrival. Of "
            f"a: {ms['a_tracked_later']:,} tracked between the deadline and the arrival.",
            "",
        ]
        if ms.get("after_input_end"):
            ae = ms["after_input_end"]
            L += [
                f"Of all these pairs, {ae['impact']:,} impact and {ae['overflight']:,} "
                "overflight pairs had their deadline after the sensor data ended (no sensor "
                "record after it: nothing could warn of them).",
                "",
            ]
        if "a_heard" in ms:
            h = ms["a_heard"]
            L += [
                "Of a, by the sensor reports near the threat in the window (within 1.5 σ + "
                f"1 km of its true position): {h['not_heard']:,} not heard at all (no sensor "
                f"in range, or the posts there dead), {h['heard_1_2']:,} heard once or twice, "
                f"{h['heard_3_plus']:,} heard 3 or more times (fusion made no confirmed track "
                "of them).",
                "",
            ]
    ex = d["excess_person_hours"]
    o = ex["person_hours_oracle"] or 1.0
    L += [
        "Person-hours under alert against the oracle (×oracle person-hours):",
        "",
        "| part | person-hours | × oracle |",
        "|---|---|---|",
    ]
    names = {
        "inside_oracle": "inside the oracle's windows",
        "unthreatened_false": "zones never threatened, false episodes",
        "unthreatened_near": "zones never threatened, threat within 15 km",
        "other_time": "threatened zones, episodes apart from any oracle window",
        "early": "threatened zones, before the oracle window",
        "between": "threatened zones, between oracle windows",
        "after": "threatened zones, after the oracle window (its hold included)",
    }
    for k, v in ex["split"].items():
        L.append(f"| {names[k]} | {v:,.0f} | {v / o:.2f} |")
    L += ["", "| class (alert opener) | episodes | person-hours | excess | excess × oracle |"]
    L.append("|---|---|---|---|---|")
    for k, v in ex["by_class"].items():
        L.append(
            f"| {k} | {v['episodes']:,} | {v['person_hours']:,.0f} | {v['excess']:,.0f} | "
            f"{v['excess'] / o:.2f} |"
        )
    L += ["", "Zones with the most excess person-hours: "]
    L.append(", ".join(f"{z['name']} {z['zone']} ({z['excess']:,.0f})" for z in ex["top_zones"]))
    fa = d.get("false_alerts")
    if fa and fa["false_episodes"]:
        names = {
            "ahead_of_downed": "ahead of a threat that was then downed",
            "ballistic_area": "ballistic impact area (the missile fell elsewhere)",
            "route_spread": "route spread (a threat passed within 50 km)",
            "no_threat_near": "no threat within 50 km (false or lost tracks)",
        }
        n = fa["false_episodes"]
        L += [
            "",
            f"False alert episodes by cause ({n:,} of {fa['alert_episodes']:,} episodes):",
            "",
            "| cause | episodes | share of false | person-hours |",
            "|---|---|---|---|",
        ]
        for k, v in fa["by_cause"].items():
            L.append(
                f"| {names[k]} | {v['episodes']:,} | {v['episodes'] / n:.0%} | "
                f"{v['person_hours']:,.0f} |"
            )
        dn = fa["by_cause"]["ahead_of_downed"]
        if dn["episodes"]:
            L += [
                "",
                f"Of the episodes ahead of downed threats, {dn['person_hours_after_downing']:,.0f} "
                f"person-hours came after the downing (median {dn['after_downing_median_s']:,.0f} s "
                f"past it), and {dn['opened_after_downing']:,} of the {dn['episodes']:,} "
                "opened after it: the downed threat's track coasting on, its ghost, and the "
                "holds after them.",
            ]
    return [*L, ""]
