"""Read a scenario and an alert file, score them, write report.md, scorecard.json and figures."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np

from airwarn.contracts import THREAT_CLASSES, read_alerts, read_truth
from airwarn.evaluate.scoring import KINDS, OUTCOMES, EvalParams, Scorecard, score


def _load_zones(scenario_dir: Path, zones_path: Path | None):
    from airwarn.zones import builtin_zones, load_zones, zone_set

    if zones_path is not None:
        return zone_set(load_zones(zones_path)), str(zones_path)
    scen = scenario_dir / "zones.geojson"
    if scen.exists():
        return zone_set(load_zones(scen)), str(scen)
    return zone_set(builtin_zones()), "built-in region"


def evaluate_files(
    scenario_dir: str | Path,
    alerts_path: str | Path,
    out_dir: str | Path,
    zones_path: str | Path | None = None,
    stage_seconds: dict[str, float] | None = None,
    params: EvalParams | None = None,
) -> Scorecard:
    """Score alerts_path against scenario_dir/truth.jsonl; write the report into out_dir."""
    scenario_dir = Path(scenario_dir)
    alerts_path = Path(alerts_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    c0 = time.perf_counter()
    zs, zsrc = _load_zones(scenario_dir, Path(zones_path) if zones_path else None)
    truth = read_truth(scenario_dir / "truth.jsonl")
    alerts = read_alerts(alerts_path)
    c1 = time.perf_counter()
    card = score(truth, alerts, zs, params)
    c2 = time.perf_counter()
    card.summary["zones_source"] = zsrc
    card.summary["scenario"] = str(scenario_dir)
    card.summary["alerts_file"] = str(alerts_path)
    tracks_file = alerts_path.parent / "tracks.jsonl"
    write_report(card, out, tracks_file if tracks_file.exists() else None, stage_seconds)
    card.diagnostics = _write_diagnostics(
        card, alerts, tracks_file if tracks_file.exists() else None, out, scenario_dir
    )
    c3 = time.perf_counter()
    card.stage_seconds = {
        **(stage_seconds or {}),
        "evaluate_read": c1 - c0,
        "evaluate_score": c2 - c1,
        "evaluate_report": c3 - c2,
    }
    (out / "scorecard.json").write_text(json.dumps(card.to_json(), indent=1), encoding="utf-8")
    return card


def _write_diagnostics(
    card: Scorecard, alerts, tracks_file: Path | None, out: Path, scenario_dir: Path
) -> dict:
    """Write diagnostics.json and append the diagnostic section (miss stages, excess
    person-hours) to report.md; return the diagnostics."""
    from airwarn.evaluate.diagnose import diagnostics, diagnostics_markdown

    d = diagnostics(card, alerts, tracks_file, scenario_dir)
    (out / "diagnostics.json").write_text(json.dumps(d, indent=1), encoding="utf-8")
    rep = out / "report.md"
    text = rep.read_text(encoding="utf-8")
    sec = "\n".join(diagnostics_markdown(d))
    marker = "## Figures"
    text = text.replace(marker, sec + "\n" + marker, 1) if marker in text else text + "\n" + sec
    rep.write_text(text, encoding="utf-8")
    return d


def write_pairs_csv(card: Scorecard, path: Path) -> None:
    """One row per threatened (zone, threat) pair with its outcome and lead times."""
    pr = card.pairs
    zs = card.zones
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["zone", "threat", "cls", "kind", "t_arr", "t_leave", "shelter_s", "outcome",
             "lead_s", "prealert_lead_s", "flight_s", "alert_after_s"]
        )  # fmt: skip
        for i in range(len(pr)):
            w.writerow(
                [
                    zs.ids[pr.zone[i]],
                    card.truth[pr.threat[i]].id,
                    THREAT_CLASSES[pr.cls[i]],
                    KINDS[0] if pr.impact[i] else KINDS[1],
                    f"{pr.t_arr[i]:.1f}",
                    f"{pr.t_leave[i]:.1f}",
                    f"{zs.shelter_s[pr.zone[i]]:.0f}",
                    OUTCOMES[pr.outcome[i]],
                    "" if not np.isfinite(pr.lead_s[i]) else f"{pr.lead_s[i]:.1f}",
                    "" if not np.isfinite(pr.warn_lead_s[i]) else f"{pr.warn_lead_s[i]:.1f}",
                    f"{pr.flight_s[i]:.1f}",
                    "" if not np.isfinite(pr.alert_after_s[i]) else f"{pr.alert_after_s[i]:.1f}",
                ]
            )


def _false_table(card: Scorecard, n: int = 10) -> list[str]:
    """Markdown lines: the zones with the most person-hours under false alert episodes."""
    eps, f = card.alert_eps, card.false_alert
    if not f.any():
        return []
    zs = card.zones
    ph = np.bincount(eps.zone[f], weights=eps.duration[f], minlength=len(zs)) / 3600.0
    cnt = np.bincount(eps.zone[f], minlength=len(zs))
    ph *= zs.population
    top = np.argsort(-ph)[:n]
    top = top[ph[top] > 0]
    L = [
        f"False alerts: {card.summary['person_hours_false_alert']:,.0f} person-hours. "
        f"Zones with the most:",
        "",
        "| zone | name | region | population | false episodes | person-hours |",
        "|---|---|---|---|---|---|",
    ]
    for z in top:
        L.append(
            f"| {zs.ids[z]} | {zs.names[z]} | {zs.region_ids[zs.region[z]]} | "
            f"{int(zs.population[z]):,} | {int(cnt[z])} | {ph[z]:,.0f} |"
        )
    return [*L, ""]


def _fmt(v) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def _mins(v) -> str:
    return "–" if v is None else f"{v:,.0f} s ({v / 60:.1f} min)"


def write_report(
    card: Scorecard,
    out: Path,
    tracks_file: Path | None = None,
    stage_seconds: dict[str, float] | None = None,
) -> Path:
    """Write report.md, pairs.csv, map.png and timeline.png into out."""
    from airwarn.evaluate.figures import plot_map, plot_timeline, read_track_lines

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tracks = read_track_lines(tracks_file) if tracks_file is not None else None
    plot_map(card, out / "map.png", tracks)
    plot_timeline(card, out / "timeline.png")
    write_pairs_csv(card, out / "pairs.csv")
    s = card.summary
    L: list[str] = ["# airwarn evaluation report", ""]
    if "scenario" in s:
        L += [
            f"- scenario: `{s['scenario']}`; alerts: `{s['alerts_file']}`; "
            f"zones: {s.get('zones_source', '')}",
        ]
    L += [
        f"- {s['threats']} threats, {s['zones']:,} zones, {s['alert_lines']:,} alert lines "
        f"({s['unknown_zone_lines']} naming unknown zones), {s['alert_episodes']:,} alert "
        f"episodes, {s['prealert_episodes']:,} pre-alert episodes",
        f"- {s['pairs']:,} threatened (zone, threat) pairs: {s['impact_pairs']} impacts, "
        f"{s['overflight_pairs']:,} overflights (path within "
        f"{card.params.near_m / 1000:g} km); {s['zones_threatened']:,} zones threatened, "
        f"{s['zones_alerted']:,} zones alerted",
        "",
        "## Targets (issue 4)",
        "",
        "| target | value | goal | met |",
        "|---|---|---|---|",
    ]
    names = {
        "impact_miss_or_late": "missed or late impacts",
        "overflight_miss_frac": "overflight misses / threatened overflight pairs",
        "ratio_to_oracle": "person-hours under alert / oracle",
        "drone_prealert_lead_median_s": "median pre-alert lead time, drones (s)",
        "false_alert_frac": "false alert episodes / alert episodes",
    }
    for k, t in card.targets.items():
        ok = {True: "yes", False: "**no**", None: "n/a"}[t["ok"]]
        v = t["value"]
        val = f"{100 * v:.2f}%" if k.endswith("_frac") and v is not None else _fmt(v)
        if "warnable" in t:
            val += f" ({t['warnable']} warnable)"
        L.append(f"| {names.get(k, k)} | {val} | {t['target']} | {ok} |")
    L += [
        "",
        "## Warnings",
        "",
        "| | hit | late | miss |",
        "|---|---|---|---|",
        f"| impacts | {s['impact_hit']} | {s['impact_late']} | {s['impact_miss']} |",
        f"| overflights | {s['overflight_hit']:,} | {s['overflight_late']:,} | "
        f"{s['overflight_miss']:,} |",
        f"| all | {s['hit']:,} | {s['late']:,} | {s['miss']:,} |",
        "",
        f"Warnable pairs (the threat had flown at least shelter_s + "
        f"{card.params.warn_latency_s:g} s when it arrived): {s['warnable_pairs']:,} of "
        f"{s['pairs']:,}; among them impacts late/missed {s['impact_late_warnable']}/"
        f"{s['impact_miss_warnable']}, overflights late/missed "
        f"{s['overflight_late_warnable']:,}/{s['overflight_miss_warnable']:,} "
        f"({_pct(s['overflight_miss_frac_warnable'])} missed).",
        "",
        f"Lead time (alert start to arrival) median {_mins(s['lead_median_s'])}, "
        f"10th percentile {_mins(s['lead_p10_s'])}; pre-alert lead median "
        f"{_mins(s['prealert_lead_median_s'])}. Of the misses, {s['cleared_before_arrival']} "
        "were under alert at t_arr − shelter_s but cleared before the arrival, and "
        f"{s['miss_alerted_during_passage']} were alerted only after t_arr, while the threat "
        "was still within 2 km.",
        "",
        "### By class",
        "",
        "| class | threats | impacts h/l/m | overflights h/l/m | lead median | lead p10 "
        "| pre-alert lead median |",
        "|---|---|---|---|---|---|---|",
    ]
    for c, d in card.by_class.items():
        L.append(
            f"| {c} | {d['threats']} | {d['impact_hit']}/{d['impact_late']}/{d['impact_miss']} "
            f"| {d['overflight_hit']}/{d['overflight_late']}/{d['overflight_miss']} "
            f"| {_mins(d['lead_median_s'])} | {_mins(d['lead_p10_s'])} "
            f"| {_mins(d['prealert_lead_median_s'])} |"
        )
    L += [
        "",
        "## Person-hours under alert",
        "",
        "| | person-hours | episodes |",
        "|---|---|---|",
        f"| airwarn alert | {s['person_hours_alert']:,.0f} | {s['alert_episodes']:,} |",
        f"| airwarn pre-alert (apart) | {s['person_hours_prealert']:,.0f} | "
        f"{s['prealert_episodes']:,} |",
        f"| oracle (floor) | {s['person_hours_oracle']:,.0f} | {s['oracle_episodes']:,} |",
        f"| region-wide baseline | {s['person_hours_region_wide']:,.0f} | "
        f"{s['region_wide_episodes']:,} (region episodes) |",
        "",
        f"Ratio to oracle **{_fmt(s['ratio_to_oracle'])}**, to region-wide "
        f"**{_fmt(s['ratio_to_region_wide'])}** (oracle / region-wide "
        f"{_fmt(s['oracle_to_region_wide'])}). False alert episodes: "
        f"{s['false_alert_episodes']:,} of {s['alert_episodes']:,} "
        f"({_pct(s['false_alert_frac'])}); false pre-alert episodes "
        f"{s['false_prealert_episodes']:,} of {s['prealert_episodes']:,}.",
        "",
        *_false_table(card),
        "## Figures",
        "",
        "![hours under alert per zone](map.png)",
        "",
        "![alerts against arrivals](timeline.png)",
        "",
    ]
    if stage_seconds:
        L += ["## Timing", "", "| stage | seconds |", "|---|---|"]
        for k, v in stage_seconds.items():
            L.append(f"| {k} | {float(v):.2f} |")
        L.append(f"| evaluate (scoring) | {s['score_seconds']:.2f} |")
        L.append("")
    p = card.params
    L += [
        "## Definitions",
        "",
        f"A (zone, threat) pair is threatened when the true path comes within {p.near_m:g} m "
        "of the zone polygon while airborne (horizontal distance, any altitude), or the threat "
        "impacts inside it; t_arr is the first time within that distance (for impacts the "
        "earlier of that and the impact time). Hit: one alert episode covers "
        "[t_arr − shelter_s, t_arr]; late: under alert at t_arr, episode started later; miss: "
        "otherwise. An alert episode runs from an `alert` line to the zone's next line with "
        f"another state. False alert: no threat within {p.false_m:g} m of the zone during the "
        f"episode ± {p.false_pad_s:g} s. Region-wide: every zone of a region under alert while "
        f"any threat is within {p.region_m:g} m of the union of the region's zones, until "
        f"{p.hold_s:g} s after it leaves or ends. Oracle: each threatened zone from "
        f"t_arr − shelter_s − {p.oracle_pre_s:g} s until the threat's last time within "
        f"{p.near_m:g} m + {p.hold_s:g} s. Per-pair detail: `pairs.csv`.",
        "",
    ]
    path = out / "report.md"
    path.write_text("\n".join(L), encoding="utf-8")
    return path
