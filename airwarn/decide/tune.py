"""``airwarn tune``: sweep the alert thresholds and margins over simulated raids.

For each scenario directory (sensors.jsonl, detections.jsonl, truth.jsonl and
optionally zones.geojson) the reports are ingested, fused and predicted **once**, and
at every tick one :class:`~airwarn.decide.Decider` per grid point decides on the same
hand-offs (the grid only changes ``[decide]`` keys, which predict does not read). Each
grid point's alert lines are scored against truth with :func:`airwarn.evaluate.score`;
the table (``tune.csv``, ``tune.json``) and the trade-off plot (``tradeoff.png``:
misses against person-hours under alert) let an agency choose its point.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from airwarn.contracts import (
    THREAT_CLASSES,
    AlertChange,
    Sensor,
    SensorHealth,
    TrackState,
    ZoneThreats,
)
from airwarn.decide.config import DecideConfig
from airwarn.decide.decider import Decider
from airwarn.decide.policy import Policy
from airwarn.zones.zoneset import ZoneSet

THRESHOLD_KEYS = ("alert_p", "alert_impact_p", "pre_p")
SENSOR_COLS = ("x", "y", "range_m", "kind", "alt_m")
THREAT_COLS = ("zone", "track", "cls", "p_reach", "p_impact", "eta_p10", "eta_p50", "lost", "eta_q")
"""ZoneThreats columns kept in a capture, in ZoneThreats field order."""
TRACK_COLS = ("ids", "x", "cls", "confirmed", "last_update", "n_updates", "z_var", "vz_var")
"""TrackState columns a capture keeps (decide reads no others)."""


@dataclass(frozen=True)
class GridPoint:
    """One setting of the sweep: threshold factor, lead margin (s), hold factor."""

    p_scale: float
    margin_s: float
    hold_scale: float

    @property
    def label(self) -> str:
        return f"p×{self.p_scale:g} m{self.margin_s:g}s h×{self.hold_scale:g}"


def grid_points(cfg: DecideConfig) -> list[GridPoint]:
    """The grid of ``tune_p_scale`` × ``tune_margin_s`` × ``tune_hold_scale``."""
    return [
        GridPoint(float(a), float(b), float(c))
        for a, b, c in itertools.product(cfg.tune_p_scale, cfg.tune_margin_s, cfg.tune_hold_scale)
    ]


def policy_variant(base: Policy, g: GridPoint) -> Policy:
    """A copy of ``base`` with the grid point applied to every class's [decide] keys."""
    dec = copy.deepcopy(base.decide)
    cfg = DecideConfig.from_policy(base)
    for k in THRESHOLD_KEYS:
        dec[k] = min(1.0, float(cfg.per_class[k][0] if k not in dec else dec[k]) * g.p_scale)
    dec["margin_s"] = g.margin_s
    dec["hold_s"] = float(dec.get("hold_s", cfg.per_class["hold_s"][0])) * g.hold_scale
    for table in dec.get("by_class", {}).values():
        for k in THRESHOLD_KEYS:
            if k in table:
                table[k] = min(1.0, float(table[k]) * g.p_scale)
        table.pop("margin_s", None)
        if "hold_s" in table:
            table["hold_s"] = float(table["hold_s"]) * g.hold_scale
    pol = replace(
        base,
        predict=copy.deepcopy(base.predict),
        fuse=copy.deepcopy(base.fuse),
        decide=dec,
        source=f"{base.source} [{g.label}]",
    )
    DecideConfig.from_policy(pol)  # validate
    return pol


class _Recorder:
    """Stands in for the Decider inside a Pipeline and records every tick's hand-offs."""

    def __init__(self, keep_p: float):
        self.keep_p = keep_p
        self.rows: list[tuple] = []

    def step(
        self, t: float, threats: ZoneThreats, tracks: TrackState, health: SensorHealth
    ) -> list[AlertChange]:
        m = (threats.p_reach >= self.keep_p) | (threats.p_impact >= self.keep_p)
        eq = threats.eta_q if threats.eta_q is not None else threats.eta_p10
        thr = tuple(np.asarray(eq if k == "eta_q" else getattr(threats, k))[m] for k in THREAT_COLS)
        trk = (
            np.asarray(tracks.ids, np.int64),
            np.asarray(tracks.x, float)[:, :6],
            np.asarray(tracks.cls, np.int64),
            np.asarray(tracks.confirmed, bool),
            np.asarray(tracks.last_update, float),
            np.asarray(tracks.n_updates, np.int64),
            # decide reads the altitude and vertical-speed variances (below ground, diving)
            np.asarray(tracks.P, float)[:, 2, 2],
            np.asarray(tracks.P, float)[:, 5, 5],
        )
        dead = np.flatnonzero(~np.asarray(health.alive, bool))
        never = ~np.isfinite(np.asarray(health.last_seen, float)[dead])
        mon = health.monitored
        unmon = np.zeros(dead.size, bool) if mon is None else ~np.asarray(mon, bool)[dead]
        merged = np.zeros((0, 2), np.int64) if tracks.merged is None else tracks.merged
        self.rows.append((float(t), thr, trk, dead, never, unmon, np.asarray(merged, np.int64)))
        return []

    def idle(self) -> bool:
        return True


@dataclass
class Capture:
    """Every tick's hand-offs to decide (threats, tracks, dead sensors) from one replay.

    Deciding from a capture gives the same alert lines as deciding inside the replay:
    ticks the replay skipped over quiet gaps are filled with empty ticks while any
    decider still holds an alert.
    """

    tick_s: float
    rows: list[tuple]
    sensors: tuple[np.ndarray, ...]  # x, y, range_m, kind, alt_m
    seconds: dict[str, float]

    def save(self, path: str | Path) -> None:
        """Write the capture as one compressed .npz."""
        cols: dict[str, Any] = {"tick_s": np.array(self.tick_s)}
        cols["t"] = np.array([r[0] for r in self.rows])
        names = THREAT_COLS
        for i, k in enumerate(names):
            cols[f"thr_{k}"] = np.concatenate([r[1][i] for r in self.rows]) if self.rows else []
        cols["thr_n"] = np.array([len(r[1][0]) for r in self.rows], np.int64)
        for i, k in enumerate(TRACK_COLS):
            parts = [r[2][i] for r in self.rows]
            cols[f"trk_{k}"] = np.concatenate(parts) if parts else []
        cols["trk_n"] = np.array([len(r[2][0]) for r in self.rows], np.int64)
        cols["dead"] = np.concatenate([r[3] for r in self.rows]) if self.rows else []
        cols["never"] = np.concatenate([r[4] for r in self.rows]) if self.rows else []
        cols["dead_n"] = np.array([len(r[3]) for r in self.rows], np.int64)
        cols["unmon"] = np.concatenate([r[5] for r in self.rows]) if self.rows else []
        cols["merged"] = np.concatenate([r[6] for r in self.rows]) if self.rows else []
        cols["merged_n"] = np.array([len(r[6]) for r in self.rows], np.int64)
        for i, k in enumerate(SENSOR_COLS):
            cols[f"sensor_{k}"] = self.sensors[i]
        cols["seconds"] = np.array(json.dumps(self.seconds))
        np.savez_compressed(path, **cols)

    @classmethod
    def load(cls, path: str | Path) -> Capture:
        """Read a capture written by :meth:`save`."""
        d = np.load(path)

        def split(prefix: str, names: Sequence[str], counts: np.ndarray) -> list[tuple]:
            cuts = np.cumsum(counts)[:-1]
            per = [np.split(d[f"{prefix}_{k}"], cuts) for k in names]
            return list(zip(*per, strict=True)) if len(counts) else []

        names = THREAT_COLS
        thr = split("thr", names, d["thr_n"])
        trk = split("trk", TRACK_COLS, d["trk_n"])
        cuts = np.cumsum(d["dead_n"])[:-1]
        dead = np.split(d["dead"], cuts) if len(d["dead_n"]) else []
        never = np.split(d["never"], cuts) if len(d["dead_n"]) else []
        unmon = np.split(d["unmon"], cuts) if len(d["dead_n"]) else []
        mcuts = np.cumsum(d["merged_n"])[:-1]
        merged = np.split(d["merged"].reshape(-1, 2), mcuts) if len(d["merged_n"]) else []
        rows = list(zip(d["t"].tolist(), thr, trk, dead, never, unmon, merged, strict=True))
        sensors = tuple(d[f"sensor_{k}"] for k in SENSOR_COLS)
        return cls(float(d["tick_s"]), rows, sensors, json.loads(str(d["seconds"])))


def capture(
    sensors: Sequence[Sensor],
    detections: str | Path,
    zones: ZoneSet,
    base: Policy,
    *,
    keep_p: float = 0.0,
    max_tail_s: float = 4 * 3600.0,
) -> Capture:
    """Replay a detections file once (ingest, fuse, predict) and record decide's inputs.

    The tick schedule is that of :func:`airwarn.pipeline.replay` (causal: a tick runs when
    the first record past it arrives, before that record is admitted). Pairs with both
    probabilities below ``keep_p`` are dropped to save memory.
    """
    from airwarn.pipeline import Pipeline, drive

    pipe = Pipeline(sensors, zones, base)
    rec = _Recorder(keep_p)
    pipe.decider = rec  # type: ignore[assignment]
    drive(pipe, detections, max_tail_s=max_tail_s)
    reg = pipe.registry
    sens = tuple(np.asarray(getattr(reg, k)) for k in SENSOR_COLS)
    return Capture(float(base.tick_s), rec.rows, sens, dict(pipe.timer.seconds))


def decide_from_capture(
    cap: Capture, zones: ZoneSet, policies: Sequence[Policy], *, max_tail_s: float = 4 * 3600.0
) -> tuple[list[list[AlertChange]], float]:
    """Run one Decider per policy over a capture; return each one's changes and the seconds."""
    c0 = time.perf_counter()
    decs = [Decider(zones, p) for p in policies]
    outs: list[list[AlertChange]] = [[] for _ in decs]
    sx, sy, sr, sk, sa = cap.sensors
    n_s = len(sx)

    def run(t: float, thr: ZoneThreats, trk: TrackState, h: SensorHealth) -> None:
        for d, o in zip(decs, outs, strict=True):
            o.extend(d.step(t, thr, trk, h))

    def empty(t: float) -> None:
        h = SensorHealth(t, sx, sy, sr, sk, np.full(n_s, t), np.ones(n_s, bool), alt_m=sa)
        run(t, ZoneThreats.empty(t), TrackState.empty(t), h)

    t_prev: float | None = None
    for t, thr, trk, dead, never, unmon, merged in cap.rows:
        if t_prev is not None:
            tf = t_prev + cap.tick_s
            while tf < t - 1e-6 and not all(d.idle() for d in decs):
                empty(tf)
                tf += cap.tick_s
        zt = ZoneThreats(t, *thr)
        n = len(trk[0])
        P = np.zeros((n, 6, 6))
        P[:, 2, 2], P[:, 5, 5] = trk[6], trk[7]
        ts = TrackState(
            t=t,
            ids=trk[0],
            x=trk[1],
            P=P,
            cls=trk[2],
            cls_prob=np.zeros((n, len(THREAT_CLASSES))),
            confirmed=trk[3],
            last_update=trk[4],
            n_updates=trk[5],
            merged=merged,
        )
        alive = np.ones(n_s, bool)
        alive[dead] = False
        last = np.full(n_s, t)
        last[dead] = t - 1e6
        last[dead[never]] = -np.inf
        mon = np.ones(n_s, bool)
        mon[dead[unmon]] = False
        run(t, zt, ts, SensorHealth(t, sx, sy, sr, sk, last, alive, mon, alt_m=sa))
        t_prev = t
    if t_prev is not None:
        tf, end = t_prev + cap.tick_s, t_prev + max_tail_s
        while tf <= end and not all(d.idle() for d in decs):
            empty(tf)
            tf += cap.tick_s
    return outs, time.perf_counter() - c0


def _row(scenario: str, g: GridPoint, s: dict[str, Any], by_class: dict) -> dict[str, Any]:
    pairs = s["pairs"] or 0
    return {
        "scenario": scenario,
        "p_scale": g.p_scale,
        "margin_s": g.margin_s,
        "hold_scale": g.hold_scale,
        "label": g.label,
        "pairs": pairs,
        "impact_pairs": s["impact_pairs"],
        "overflight_pairs": s["overflight_pairs"],
        "impact_miss": s["impact_miss"],
        "impact_late": s["impact_late"],
        "overflight_miss": s["overflight_miss"],
        "overflight_late": s["overflight_late"],
        "miss_frac": round((s["miss"] + s["late"]) / pairs, 5) if pairs else None,
        "overflight_miss_frac": s["overflight_miss_frac"],
        "alert_episodes": s["alert_episodes"],
        "false_alert_episodes": s["false_alert_episodes"],
        "false_alert_frac": s["false_alert_frac"],
        "person_hours_alert": s["person_hours_alert"],
        "person_hours_prealert": s["person_hours_prealert"],
        "person_hours_oracle": s["person_hours_oracle"],
        "ratio_to_oracle": s["ratio_to_oracle"],
        "lead_median_s": s["lead_median_s"],
        "drone_prealert_lead_median_s": by_class.get("drone", {}).get("prealert_lead_median_s"),
    }


def _aggregate(rows: list[dict], g: GridPoint) -> dict[str, Any]:
    """Totals over scenarios for one grid point (ratios of sums, medians of medians)."""
    mine = [r for r in rows if r["label"] == g.label]

    def tot(k: str) -> float:
        return float(sum(r[k] or 0 for r in mine))

    def med(k: str) -> float | None:
        v = [r[k] for r in mine if r[k] is not None]
        return round(float(np.median(v)), 1) if v else None

    pairs, over = tot("pairs"), tot("overflight_pairs")
    missed = (
        tot("impact_miss") + tot("impact_late") + tot("overflight_miss") + tot("overflight_late")
    )
    return {
        "scenario": "ALL",
        "p_scale": g.p_scale,
        "margin_s": g.margin_s,
        "hold_scale": g.hold_scale,
        "label": g.label,
        "pairs": int(pairs),
        "impact_pairs": int(tot("impact_pairs")),
        "overflight_pairs": int(over),
        "impact_miss": int(tot("impact_miss")),
        "impact_late": int(tot("impact_late")),
        "overflight_miss": int(tot("overflight_miss")),
        "overflight_late": int(tot("overflight_late")),
        "miss_frac": round(missed / pairs, 5) if pairs else None,
        "overflight_miss_frac": round(tot("overflight_miss") / over, 5) if over else None,
        "alert_episodes": int(tot("alert_episodes")),
        "false_alert_episodes": int(tot("false_alert_episodes")),
        "false_alert_frac": round(tot("false_alert_episodes") / tot("alert_episodes"), 4)
        if tot("alert_episodes")
        else None,
        "person_hours_alert": round(tot("person_hours_alert"), 1),
        "person_hours_prealert": round(tot("person_hours_prealert"), 1),
        "person_hours_oracle": round(tot("person_hours_oracle"), 1),
        "ratio_to_oracle": round(tot("person_hours_alert") / tot("person_hours_oracle"), 4)
        if tot("person_hours_oracle")
        else None,
        "lead_median_s": med("lead_median_s"),
        "drone_prealert_lead_median_s": med("drone_prealert_lead_median_s"),
    }


def pareto(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both axes (lower is better), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1]))
    front, best = [], math.inf
    for i in order:
        if points[i][1] < best:
            front.append(i)
            best = points[i][1]
    return front


def plot_tradeoff(agg: list[dict], path: Path, default_label: str | None = None) -> Path:
    """Misses (missed + late pairs, % of threatened) against person-hours / oracle."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [
        (r["ratio_to_oracle"], 100.0 * r["miss_frac"])
        for r in agg
        if r["ratio_to_oracle"] is not None and r["miss_frac"] is not None
    ]
    rows = [r for r in agg if r["ratio_to_oracle"] is not None and r["miss_frac"] is not None]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    if pts:
        x, y = np.array(pts).T
        sc = ax.scatter(x, y, c=[r["p_scale"] for r in rows], cmap="viridis", s=40, zorder=3)
        fig.colorbar(sc, ax=ax, label="threshold factor (p×)")
        front = pareto(pts)
        ax.plot(x[front], y[front], "-", color="tab:red", lw=1.2, label="Pareto front", zorder=2)
        for r, xi, yi in zip(rows, x, y, strict=True):
            imp = r["impact_miss"] + r["impact_late"]
            text = f"{r['label']} ·imp {imp}" if imp else r["label"]
            ax.annotate(text, (xi, yi), fontsize=6, xytext=(3, 3), textcoords="offset points")
            if r["label"] == default_label:
                ax.scatter([xi], [yi], marker="*", s=220, facecolor="none", edgecolor="k", zorder=4)
        ax.axvline(1.5, color="gray", ls="--", lw=0.8, label="target: 1.5× oracle")
        ax.axvline(1.0, color="gray", ls=":", lw=0.8, label="oracle (floor)")
    ax.set_xlabel("person-hours under alert / oracle person-hours")
    ax.set_ylabel("missed or late (zone, threat) pairs, % of threatened")
    ax.set_title(
        "airwarn tune: misses vs person-hours under alert (★ policy as given; ·imp N = impact pairs missed or late)",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _code_version() -> str:
    """A digest of the ingest, fuse and predict sources: a cached capture is stale when they change."""
    import airwarn

    root = Path(airwarn.__file__).parent
    h = hashlib.sha1()
    for pkg in ("ingest", "fuse", "predict"):
        for f in sorted((root / pkg).glob("*.py")):
            h.update(f.read_bytes())
    for f in ("pipeline.py", "contracts.py"):
        h.update((root / f).read_bytes())
    return h.hexdigest()


def tune(
    scenarios: Sequence[str | Path],
    out: str | Path,
    policy: str | Path | None = None,
    *,
    points: Sequence[GridPoint] | None = None,
    log: Callable[[str], None] | None = print,
    cache: bool = True,
) -> list[dict[str, Any]]:
    """Sweep the grid over the scenarios; write tune.csv, tune.json, tradeoff.png; return rows.

    Each scenario is ingested, fused and predicted once; its decide inputs are cached in
    ``out/cache`` (keyed by the detections file, the [predict] policy and the ingest, fuse
    and predict sources) for later runs.
    """
    from airwarn.contracts import read_sensors, read_truth
    from airwarn.evaluate import score
    from airwarn.zones import builtin_zones, load_zones, zone_set

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = Policy.load(policy)
    cfg = DecideConfig.from_policy(base)
    grid = list(points) if points is not None else grid_points(cfg)
    if not grid:
        raise ValueError("tune: the grid is empty")
    variants = [policy_variant(base, g) for g in grid]
    default = GridPoint(1.0, float(cfg.per_class["margin_s"][0]), 1.0)
    rows: list[dict[str, Any]] = []
    timing: dict[str, dict[str, float]] = {}
    for scen in map(Path, scenarios):
        for f in ("sensors.jsonl", "detections.jsonl", "truth.jsonl"):
            if not (scen / f).exists():
                raise FileNotFoundError(f"tune: scenario {scen} has no {f}")
        c0 = time.perf_counter()
        zfile = scen / "zones.geojson"
        zs = zone_set(load_zones(zfile) if zfile.exists() else builtin_zones())
        key = f"{scen.resolve()}|{(scen / 'detections.jsonl').stat().st_mtime_ns}|{base.tick_s}|"
        key += json.dumps(base.predict, sort_keys=True) + _code_version()
        cfile = out / "cache" / f"{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"
        if cache and cfile.exists():
            cap = Capture.load(cfile)
        else:
            cap = capture(read_sensors(scen / "sensors.jsonl"), scen / "detections.jsonl", zs, base)
            if cache:
                cfile.parent.mkdir(exist_ok=True)
                cap.save(cfile)
        c_cap = time.perf_counter()
        changes, dsec = decide_from_capture(cap, zs, variants)
        secs = {**cap.seconds, "decide_all_settings": dsec, "capture_or_load": c_cap - c0}
        truth = read_truth(scen / "truth.jsonl")
        c1 = time.perf_counter()
        name = scen.name if scen.name not in {r["scenario"] for r in rows} else str(scen)
        for g, alerts in zip(grid, changes, strict=True):
            card = score(truth, alerts, zs)
            rows.append(_row(name, g, card.summary, card.by_class))
        c2 = time.perf_counter()
        timing[name] = {
            "replay_s": round(c1 - c0, 2),
            "score_s": round(c2 - c1, 2),
            **{k: round(v, 3) for k, v in secs.items()},
        }
        if log:
            log(
                f"tune: {name}: {len(grid)} settings, replay {c1 - c0:.1f} s, scoring {c2 - c1:.1f} s"
            )
    agg = [_aggregate(rows, g) for g in grid]
    table = rows + agg
    cols = list(table[0])
    with open(out / "tune.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(table)
    pts = [
        (r["ratio_to_oracle"], r["miss_frac"])
        for r in agg
        if r["ratio_to_oracle"] is not None and r["miss_frac"] is not None
    ]
    valid = [r for r in agg if r["ratio_to_oracle"] is not None and r["miss_frac"] is not None]
    front = [valid[i]["label"] for i in pareto(pts)]
    doc = {
        "policy": base.source,
        "scenarios": [str(s) for s in scenarios],
        "grid": [g.__dict__ | {"label": g.label} for g in grid],
        "default": default.label,
        "pareto": front,
        "rows": rows,
        "aggregate": agg,
        "timing": timing,
    }
    (out / "tune.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    plot_tradeoff(agg, out / "tradeoff.png", default.label)
    if log:
        log(f"tune: wrote {out / 'tune.csv'}, {out / 'tune.json'}, {out / 'tradeoff.png'}")
    return table
