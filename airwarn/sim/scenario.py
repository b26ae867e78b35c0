"""Simulate a raid and write it in the public formats (docs/contracts.md).

``simulate`` builds everything in memory; ``write_scenario`` writes ``sensors.jsonl``,
``detections.jsonl`` (arrival order), ``truth.jsonl``, ``zones.geojson`` and
``scenario.json`` into a directory. Same parameters, byte-identical files.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from airwarn.contracts import THREAT_CLASSES, Sensor, Threat, Zone, write_jsonl, write_zones
from airwarn.geo import LocalFrame
from airwarn.sim.network import Network, build_network
from airwarn.sim.params import SimParams
from airwarn.sim.reports import (
    ACOUSTIC,
    HEARTBEAT,
    OBSERVER,
    RADAR,
    Lines,
    acoustic_reports,
    deliver,
    heartbeat_lines,
    observer_reports,
    radar_reports,
)
from airwarn.sim.theatre import THEATRES, Theatre
from airwarn.sim.threats import Raid, build_aircraft, build_raid


@dataclass
class Scenario:
    """A simulated night in memory: theatre, frame, raid, sensors and lines in arrival order."""

    params: SimParams
    theatre: Theatre
    frame: LocalFrame
    raid: Raid
    network: Network
    lines: Lines
    arrival: np.ndarray
    report_no: np.ndarray
    duplicate: np.ndarray
    sensor_names: list[str]
    t0: float
    t1: float
    seconds: dict[str, float]


def theatre_for(params: SimParams) -> Theatre:
    """The theatre named by ``params.region``."""
    try:
        make = THEATRES[params.region]
    except KeyError:
        raise ValueError(
            f"SimParams.region: unknown region {params.region!r}; known: {sorted(THEATRES)}"
        ) from None
    if params.region == "synthetic":
        return make(seed=params.seed, target_min_pop=params.target_min_pop)
    return make(target_min_pop=params.target_min_pop)


def with_theatre_defaults(params: SimParams, theatre: Theatre) -> SimParams:
    """Apply the theatre's own defaults to the fields the caller left at SimParams' default
    (an acoustic network of unset size takes the theatre's: ``Theatre.acoustic_posts``)."""
    base = SimParams()
    upd = {k: v for k, v in theatre.defaults.items() if getattr(params, k) == getattr(base, k)}
    upd["acoustic"] = theatre.acoustic_posts(params.acoustic)
    return replace(params, **upd)


def simulate(params: SimParams, theatre: Theatre | None = None) -> Scenario:
    """Simulate the raid, the sensor network and every report line (in memory)."""
    sec: dict[str, float] = {}
    c = time.perf_counter()
    th = theatre or theatre_for(params)
    params = with_theatre_defaults(params, th)
    frame = th.frame()
    t0 = float(params.start_t)
    t1 = t0 + float(params.hours) * 3600.0
    ss = np.random.SeedSequence(params.seed)
    r_raid, r_net, r_ac, r_rad, r_obs, r_del, r_air = (
        np.random.default_rng(s) for s in ss.spawn(7)
    )
    raid = build_raid(params, th, frame, r_raid, t0, t1)
    if len(raid.t):
        t1 = max(t1, float(raid.t.max()) + 60.0)
    sec["threats"] = time.perf_counter() - c
    c = time.perf_counter()
    net = build_network(params, th, frame, r_net, t0, t1)
    sec["network"] = time.perf_counter() - c
    c = time.perf_counter()
    ac = acoustic_reports(params, net, raid, r_ac, t0, t1)
    sec["acoustic"] = time.perf_counter() - c
    c = time.perf_counter()
    ra = radar_reports(params, net, raid, r_rad, t0, t1)
    sec["radar"] = time.perf_counter() - c
    air = build_aircraft(params, th, frame, r_air, t0, t1)
    if len(air):
        extra = [
            acoustic_reports(replace(params, acoustic_false_per_h=0.0), net, air, r_air, t0, t1),
            radar_reports(replace(params, radar_clutter_per_scan=0.0), net, air, r_air, t0, t1),
        ]
        for e in extra:
            e.threat[:] = -1  # not a threat
        ac = Lines.concat([ac, extra[0]])
        ra = Lines.concat([ra, extra[1]])
    c = time.perf_counter()
    ob, obs_names, _ = observer_reports(params, th, frame, raid, r_obs, t0, t1, len(net))
    hb = heartbeat_lines(net, params, t0, t1)
    every = Lines.concat([hb, ac, ra, ob])
    del hb, ac, ra, ob  # keep one copy of the lines in memory at a time
    lines, arrival, num, dup = deliver(every, params, r_del)
    del every
    sec["deliver"] = time.perf_counter() - c
    return Scenario(
        params, th, frame, raid, net, lines, arrival, num, dup, net.ids + obs_names, t0, t1, sec
    )


def _r(a: np.ndarray, nd: int) -> list:
    return np.round(a, nd).tolist()


def _detection_chunks(sc: Scenario, chunk: int = 200_000) -> Iterator[list[str]]:
    """detections.jsonl lines in arrival order, formatted directly (compact JSON, the same
    text ``json.dumps(obj, separators=(",", ":"))`` gives), a chunk at a time."""
    ln = sc.lines
    names = sc.sensor_names
    ncls = len(THREAT_CLASSES)
    cls_txt = ["" if c < 0 else f',"cls":"{THREAT_CLASSES[c]}"' for c in range(-1, ncls)]
    hb_tail = [f',"sensor":"{n}","heartbeat":true}}' for n in names]
    for a in range(0, len(ln), chunk):
        sl = slice(a, a + chunk)
        kind = ln.kind[sl]
        out = [""] * kind.shape[0]
        i = np.flatnonzero(kind == HEARTBEAT)
        for k, t, s in zip(i.tolist(), _r(ln.t[sl][i], 3), ln.sensor[sl][i].tolist(), strict=True):
            out[k] = f'{{"t":{t}{hb_tail[s]}'
        i = np.flatnonzero(kind != HEARTBEAT)
        if not i.size:
            yield out
            continue
        x, y = ln.x[sl][i], ln.y[sl][i]
        lat, lon = sc.frame.to_geo(x, y)
        head = zip(
            i.tolist(),
            kind[i].tolist(),
            _r(ln.t[sl][i], 3),
            ln.sensor[sl][i].tolist(),
            _r(lat, 6),
            _r(lon, 6),
            _r(ln.sigma[sl][i], 1),
            (ln.cls[sl][i] + 1).tolist(),
            sc.report_no[sl][i].tolist(),
            strict=True,
        )
        rad = kind[i] == RADAR
        ve = np.zeros(i.size)
        vn = np.zeros(i.size)
        if rad.any():
            ve[rad], vn[rad] = sc.frame.vel_to_geo(
                x[rad], y[rad], ln.vx[sl][i][rad], ln.vy[sl][i][rad]
            )
        r = i[rad]
        radar = iter(
            zip(
                _r(ln.z[sl][r], 1),
                _r(ln.sigma_z[sl][r], 1),
                _r(ve[rad], 2),
                _r(vn[rad], 2),
                _r(ln.vz[sl][r], 2),
                strict=True,
            )
        )
        for k, kd, t, s, la, lo, sg, c, no in head:
            if kd == RADAR:
                z, sz, e, n, u = next(radar)
                out[k] = (
                    f'{{"t":{t},"sensor":"{names[s]}","lat":{la},"lon":{lo},"alt_m":{z},'
                    f'"sigma_m":{sg},"sigma_alt_m":{sz},"vel_e":{e},"vel_n":{n},"vel_u":{u}'
                    f'{cls_txt[c]},"id":"r{no:07d}"}}'
                )
            else:
                out[k] = (
                    f'{{"t":{t},"sensor":"{names[s]}","lat":{la},"lon":{lo},"sigma_m":{sg}'
                    f'{cls_txt[c]},"id":"r{no:07d}"}}'
                )
        yield out


def _write_detections(sc: Scenario, path: Path) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for lines in _detection_chunks(sc):
            fh.write("\n".join(lines))
            fh.write("\n")
            n += len(lines)
    return n


def _sensor_rows(net: Network) -> Iterator[dict]:
    for i, sid in enumerate(net.ids):
        alt = None if not np.isfinite(net.alt_m[i]) else round(float(net.alt_m[i]), 1)
        yield Sensor(
            id=sid,
            kind=str(net.kind[i]),
            lat=round(float(net.lat[i]), 6),
            lon=round(float(net.lon[i]), 6),
            range_m=round(float(net.range_m[i]), 1),
            alt_m=alt,
        ).to_json()


def truth_threats(sc: Scenario) -> list[Threat]:
    """The truth records (WGS84), one per threat."""
    raid = sc.raid
    if not len(raid):
        return []
    idx = np.concatenate(raid.truth_idx)
    lat, lon = sc.frame.to_geo(raid.x[idx], raid.y[idx])
    splits = np.cumsum([len(i) for i in raid.truth_idx])[:-1]
    out = []
    for k, (ii, la, lo) in enumerate(
        zip(raid.truth_idx, np.split(lat, splits), np.split(lon, splits), strict=True)
    ):
        imp = None
        if raid.impact_xy[k] is not None:
            ti, xi, yi = raid.impact_xy[k]
            ila, ilo = sc.frame.to_geo(xi, yi)
            imp = {"t": round(ti, 3), "lat": round(float(ila), 6), "lon": round(float(ilo), 6)}
        out.append(
            Threat(raid.ids[k], raid.cls[k], raid.t[ii], la, lo, raid.z[ii], raid.fate[k], imp)
        )
    return out


def _truth_rows(threats: list[Threat]) -> Iterator[dict]:
    """``Threat.to_json`` objects (same keys and rounding), with numpy rounding for speed."""
    for th in threats:
        yield {
            "id": th.id,
            "cls": th.cls,
            "t": _r(th.t, 3),
            "lat": _r(th.lat, 6),
            "lon": _r(th.lon, 6),
            "alt_m": _r(th.alt_m, 1),
            "fate": th.fate,
            "impact": th.impact,
        }


def summary(sc: Scenario) -> dict:
    """Counts of what was simulated (also stored in scenario.json)."""
    ln = sc.lines
    rep = ln.kind != HEARTBEAT
    kinds = {"acoustic": ACOUSTIC, "radar": RADAR, "observer": OBSERVER}
    fates = Counter(f"{c}:{f}" for c, f in zip(sc.raid.cls, sc.raid.fate, strict=True))
    return {
        "region": sc.theatre.name,
        "threats": len(sc.raid),
        "by_class": dict(Counter(sc.raid.cls)),
        "fates": dict(sorted(fates.items())),
        "detections": len(ln),
        "reports": int(rep.sum()),
        "heartbeats": int((~rep).sum()),
        "duplicates": int(sc.duplicate.sum()),
        "false_reports": int((rep & (ln.threat < 0) & ~sc.duplicate).sum()),
        "reports_by_kind": {k: int((ln.kind == v).sum()) for k, v in kinds.items()},
        "sensors": len(sc.network),
        "sensor_outages": int(np.isfinite(sc.network.out_start).sum()),
        "observers": len(sc.sensor_names) - len(sc.network),
        "t0": sc.t0,
        "t1": sc.t1,
    }


def write_scenario(
    params: SimParams,
    out_dir: str | Path,
    zones: Sequence[Zone] | None = None,
    theatre: Theatre | None = None,
) -> dict:
    """Simulate and write a scenario directory in the public formats; return a summary.

    ``theatre`` replaces the one named by ``params.region`` (any region built as a
    :class:`Theatre`); ``zones`` overrides the theatre's zones (zones.geojson).
    """
    c = time.perf_counter()
    sc = simulate(params, theatre)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    info = summary(sc)
    w = time.perf_counter()
    write_jsonl(out / "sensors.jsonl", _sensor_rows(sc.network))
    _write_detections(sc, out / "detections.jsonl")
    write_jsonl(out / "truth.jsonl", _truth_rows(truth_threats(sc)))
    zs = list(zones) if zones is not None else (sc.theatre.zones() if sc.theatre.zones else [])
    if zs:
        write_zones(out / "zones.geojson", zs)
    sc.seconds["write"] = time.perf_counter() - w
    info["zones"] = len(zs)
    doc = {
        "generator": "airwarn.sim",
        "params": sc.params.to_json(),
        "frame_center": [sc.frame.lat0, sc.frame.lon0],
        "summary": info,
        "threats": [
            {"id": i, "cls": c, "fate": f, "launch": s, "target": g}
            for i, c, f, s, g in zip(
                sc.raid.ids,
                sc.raid.cls,
                sc.raid.fate,
                sc.raid.launch_site,
                sc.raid.target,
                strict=True,
            )
        ],
        "outages": sc.network.outages(),
    }
    (out / "scenario.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    info["seconds"] = {k: round(v, 2) for k, v in sc.seconds.items()}
    info["seconds"]["total"] = round(time.perf_counter() - c, 2)
    return info
