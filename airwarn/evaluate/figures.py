"""Scorecard figures (matplotlib, Agg): zone map by hours under alert, alert timeline."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection, PolyCollection  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from airwarn.evaluate.scoring import HIT, LATE, MISS, Episodes, Scorecard  # noqa: E402

MISS_Y_MIN = -3.0


def _zone_rings(card: Scorecard) -> tuple[list[np.ndarray], np.ndarray]:
    """Exterior rings (lon, lat) of every zone polygon part and the zone index of each."""
    rings, owner = [], []
    for i, z in enumerate(card.zones.zones):
        g = z.geometry
        parts = getattr(g, "geoms", [g])
        for part in parts:
            rings.append(np.asarray(part.exterior.coords)[:, :2])
            owner.append(i)
    return rings, np.asarray(owner, np.int64)


def read_track_lines(path: Path, max_lines: int = 2_000_000) -> list[np.ndarray]:
    """Confirmed fused tracks from tracks.jsonl as (lon, lat) polylines (first max_lines lines)."""
    by: dict[str, list[tuple[float, float, float]]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n >= max_lines:
                break
            try:
                o = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(o, dict) or not o.get("confirmed"):
                continue
            try:
                by.setdefault(str(o["track"]), []).append(
                    (float(o["t"]), float(o["lon"]), float(o["lat"]))
                )
            except (KeyError, TypeError, ValueError):
                continue
    out = []
    for pts in by.values():
        a = np.asarray(sorted(pts))
        if a.shape[0] >= 2:
            out.append(a[:, 1:3])
    return out


def plot_map(card: Scorecard, path: Path, tracks: list[np.ndarray] | None = None) -> Path:
    """Zones coloured by hours under alert (ours, oracle, region-wide), truth and fused tracks."""
    rings, owner = _zone_rings(card)
    panels = [
        ("airwarn alerts", card.zone_hours("alert")),
        ("oracle (floor)", card.zone_hours("oracle")),
        ("region-wide baseline", card.zone_hours("region")),
    ]
    vmax = max(float(max(h.max() for _, h in panels)), 0.2)
    norm = LogNorm(vmin=0.05, vmax=vmax)
    cmap = plt.get_cmap("inferno_r")
    truth_lines = [np.column_stack([th.lon, th.lat]) for th in card.truth if th.t.size >= 2]
    imp = [(th.impact["lon"], th.impact["lat"]) for th in card.truth if th.impact is not None]
    b = np.array([z.geometry.bounds for z in card.zones.zones])
    lon0, lat0, lon1, lat1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    pad = 0.05 * max(lon1 - lon0, lat1 - lat0, 0.01)
    aspect = 1.0 / np.cos(np.radians(0.5 * (lat0 + lat1)))
    box = (lat1 - lat0 + 2 * pad) * aspect / (lon1 - lon0 + 2 * pad)
    height = float(np.clip(6.2 * box, 3.0, 12.0)) + 1.4
    fig, axes = plt.subplots(1, 3, figsize=(21, height), constrained_layout=True)
    mappable = None
    for k, (ax, (title, hours)) in enumerate(zip(axes, panels, strict=True)):
        h = hours[owner]
        on = h > 0
        if (~on).any():
            ax.add_collection(
                PolyCollection(
                    [rings[i] for i in np.flatnonzero(~on)],
                    facecolor="#e8e8e8",
                    edgecolor="none",
                )
            )
        if on.any():
            pc = PolyCollection(
                [rings[i] for i in np.flatnonzero(on)],
                array=np.maximum(h[on], 0.05),
                cmap=cmap,
                norm=norm,
                edgecolor="none",
            )
            ax.add_collection(pc)
            mappable = pc
        ax.add_collection(LineCollection(truth_lines, colors="#1f6fb4", linewidths=0.35, alpha=0.5))
        if k == 0 and tracks:
            ax.add_collection(LineCollection(tracks, colors="#2ca02c", linewidths=0.35, alpha=0.6))
        if imp:
            a = np.asarray(imp)
            ax.plot(a[:, 0], a[:, 1], "x", color="red", ms=3, mew=0.7, label="impacts")
        ax.set_xlim(lon0 - pad, lon1 + pad)
        ax.set_ylim(lat0 - pad, lat1 + pad)
        ax.set_aspect(aspect)
        total = float((hours * card.zones.population).sum())
        ax.set_title(f"{title}: {total:,.0f} person-hours")
        ax.set_xlabel("lon")
        if k == 0:
            ax.set_ylabel("lat")
    if mappable is not None:
        fig.colorbar(mappable, ax=axes, shrink=0.8, label="hours under alert")
    note = "blue: true paths" + ("; green: fused confirmed tracks" if tracks else "")
    fig.suptitle(f"Hours under alert per zone ({note}; red x: impacts)")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _under_alert(eps: Episodes, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step function of total weight (population) under the episodes over time."""
    if len(eps) == 0:
        return np.zeros(0), np.zeros(0)
    w = weight[eps.zone]
    t = np.r_[eps.start, eps.end]
    d = np.r_[w, -w]
    o = np.argsort(t, kind="stable")
    return t[o], np.cumsum(d[o])


def plot_timeline(card: Scorecard, path: Path) -> Path:
    """Population under alert over time (ours, pre-alert, oracle, region-wide) and arrivals."""
    zs = card.zones
    pop = zs.population.astype(float)
    reg_pop = np.bincount(zs.region, weights=pop, minlength=len(zs.region_ids))
    ts = [float(th.t[0]) for th in card.truth] + list(card.alert_eps.start)
    t0 = min(ts) if ts else 0.0
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(14, 8), sharex=True, constrained_layout=True)
    series = [
        (card.region_eps, reg_pop, "region-wide baseline", "#999999"),
        (card.oracle_eps, pop, "oracle", "#1f77b4"),
        (card.prealert_eps, pop, "airwarn pre-alert", "#ffbf00"),
        (card.alert_eps, pop, "airwarn alert", "#d62728"),
    ]
    for eps, w, label, color in series:
        t, v = _under_alert(eps, w)
        if t.size:
            ax1.step((t - t0) / 3600.0, v / 1e6, where="post", label=label, color=color, lw=1.2)
    ax1.set_ylabel("people under alert (millions)")
    ax1.legend(loc="upper right")
    ax1.grid(alpha=0.3)
    pr = card.pairs
    if len(pr):
        x = (pr.t_arr - t0) / 3600.0
        lead = pr.lead_s / 60.0
        styles = ((HIT, "hit", "#2ca02c"), (LATE, "late", "#ff7f0e"), (MISS, "miss", "#d62728"))
        for code, label, color in styles:
            for is_imp, marker, size in ((False, "o", 7), (True, "*", 80)):
                m = (pr.outcome == code) & (pr.impact == is_imp)
                if not m.any():
                    continue
                y = np.full(int(m.sum()), MISS_Y_MIN) if code == MISS else lead[m]
                kind = "impact" if is_imp else "overflight"
                ax2.scatter(
                    x[m], y, s=size, marker=marker, color=color, alpha=0.6, linewidths=0,
                    label=f"{kind} {label} ({int(m.sum())})",
                )  # fmt: skip
        ax2.axhline(
            np.median(zs.shelter_s) / 60.0, color="k", lw=0.6, ls="--", label="median shelter time"
        )
        ax2.axhline(0.0, color="k", lw=0.4)
    ax2.set_ylabel(f"lead time at arrival, min (misses at {MISS_Y_MIN:g})")
    ax2.set_xlabel(f"hours after {_utc(t0)}")
    ax2.legend(loc="upper right", fontsize=8, ncol=2)
    ax2.grid(alpha=0.3)
    fig.suptitle("Alerts against threat arrivals")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _utc(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
