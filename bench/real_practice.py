"""Today's practice from the record, beside airwarn's scorecards.

The scorecard's region-wide baseline is a rule (every zone of an oblast while a threat is
within 60 km, then a 10-minute hold). This bench measures what Ukraine's alerts really cost
people, from ``../shared/data``: the official alert history (oblast-level alerts,
2022-03-15 to 2024-04-22) and the Air Force's attack reports (launched per weapon model and
night). For every reported night inside the history it takes the minutes a person in
government-controlled Ukraine spent under alert, from the night's start to an hour past its
end (oblasts weighted by their people on controlled land, OCHA hromadas with
``--controlled-only``), bins nights by threats launched (attack drones, cruise and ballistic
missiles; reconnaissance drones apart) and prints each bin's median, quartiles and the
median above an ordinary night's rate (hours at least 6 h from any reported attack). It
also prints each oblast's days under alert per year (the issue's "Kyiv spent about 29 days
under alert in 2022" is a check of the reading), and, for each ``--run`` (an ``airwarn
evaluate`` output folder), the minutes per person of airwarn, the oracle and the region-wide
rule beside the real median for nights of that raid's size.

    python bench/real_practice.py [--data ../shared/data] [--run DIR ...] [--history volunteer]

Caveats, printed too: the history stops in April 2024 (before the 500-800-threat nights of
2025 and before raion-level alerts became the rule); raion and hromada alerts (15 % of the
official rows) are not counted, so practice is if anything longer than measured; real nights
last longer than most simulated raids.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airwarn.contracts import read_zones  # noqa: E402
from airwarn.evaluate.practice import (  # noqa: E402
    ATTACK_CLASSES,
    exposure_table,
    night_exposure,
    read_alert_history,
    read_attack_nights,
    read_model_classes,
    region_key,
)
from airwarn.zones.importers import ocha_zones  # noqa: E402

HISTORY = {"official": "official_data_en.csv", "volunteer": "volunteer_data_en.csv"}


def controlled_population(ocha: Path) -> dict[str, float]:
    """People on government-controlled land per oblast (region key), from OCHA hromadas."""
    names = {z.id: z.name for z in ocha_zones(ocha, "oblasts").zones}
    pop: Counter[str] = Counter()
    for z in ocha_zones(ocha, "hromadas", controlled_only=True).zones:
        pop[region_key(names[z.region])] += z.population
    return dict(pop)


def days_per_year(hist, keys: list[str]) -> list[tuple[str, list[float]]]:
    """Days each region spent under alert in each calendar year the history covers."""
    y0 = datetime.fromtimestamp(float(hist.start.min()), UTC).year
    y1 = datetime.fromtimestamp(float(hist.end.max()), UTC).year
    years = list(range(y0, y1 + 1))
    edges = [datetime(y, 1, 1, tzinfo=UTC).timestamp() for y in years + [y1 + 1]]
    sec = hist.seconds_under_alert(np.array(edges[:-1]), np.array(edges[1:]))
    rows = [("year", [float(y) for y in years])]
    for k in keys:
        if k in hist.regions:
            rows.append((k, list(sec[:, hist.regions.index(k)] / 86400.0)))
    return rows


def run_minutes(run: Path) -> dict:
    """Minutes per person under alert in one ``airwarn evaluate`` output folder."""
    card = json.loads((run / "scorecard.json").read_text())
    src = Path(card["zones_source"])  # relative to where evaluate ran: look upwards
    found = [p for p in (src, *(d / src for d in (run, *run.resolve().parents))) if p.exists()]
    if not found:
        sys.exit(f"{run}: zones {src} not found")
    pop = sum(z.population for z in read_zones(found[0]))
    per = 60.0 / pop
    return {
        "run": run.name,
        "threats": card["threats"],
        "zones": card["zones"],
        "airwarn": card["person_hours_alert"] * per,
        "oracle": card["person_hours_oracle"] * per,
        "region_wide": card["person_hours_region_wide"] * per,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--history", choices=sorted(HISTORY), default="official")
    ap.add_argument("--after", type=float, default=3600.0, help="s counted past a night's end")
    ap.add_argument("--run", type=Path, action="append", default=[], help="evaluate folder")
    args = ap.parse_args()
    d = args.data
    hist = read_alert_history(d / "ukraine_air_raid_alerts" / HISTORY[args.history])
    atk = d / "ukraine_missile_drone_attacks"
    nights = read_attack_nights(
        atk / "missile_attacks_daily.csv", read_model_classes(atk / "missiles_and_uavs.csv")
    )
    pop = controlled_population(d / "ukraine_boundaries_ocha_cod_ab")
    ex = night_exposure(hist, nights, pop, after_s=args.after)
    span = [
        datetime.fromtimestamp(float(x), UTC).date() for x in (hist.start.min(), hist.end.max())
    ]
    print(
        f"alert history ({args.history}): {hist.start.size:,} oblast alerts, {span[0]} .. {span[1]}"
    )
    print(
        f"attack reports: {len(nights.t0):,} nights with times "
        f"({', '.join(f'{c} {n:,.0f}' for c, n in zip(ATTACK_CLASSES, nights.launched.sum(0), strict=True))}), "
        f"{len(nights.skipped)} rows without a period left out; {len(ex.t0)} nights inside the history"
    )
    print(
        f"population on government-controlled land: {sum(pop.values()) / 1e6:.1f} M in {len(pop)} oblasts"
    )
    print(f"ordinary hours: {ex.background_per_h:.1f} minutes under alert per person per hour\n")
    print("minutes under alert per person, per night (start .. end + 1 h):")
    print(
        f"{'threats':>8} {'nights':>6} {'median n':>8} {'window h':>8} {'median':>7} {'p25':>6} {'p75':>6} {'above ordinary':>14}"
    )
    table = exposure_table(ex)
    for r in table:
        print(
            f"{r['threats']:>8} {r['nights']:>6} {r['threats_median']:>8.0f} {r['window_h_median']:>8.1f} "
            f"{r['minutes_median']:>7.0f} {r['minutes_p25']:>6.0f} {r['minutes_p75']:>6.0f} {r['excess_median']:>14.0f}"
        )
    print(f"\ndays under alert per year (calendar year; the history starts {span[0]}):")
    rows = days_per_year(
        hist, ["kyiv", "kyivska", "kharkivska", "dnipropetrovska", "lvivska", "odeska"]
    )
    print(f"{'oblast':>16} " + " ".join(f"{int(y):>6}" for y in rows[0][1]))
    for k, v in rows[1:]:
        print(f"{k:>16} " + " ".join(f"{x:>6.1f}" for x in v))
    if args.run:
        print("\nsimulated raids (minutes under alert per person in the zone set):")
        print(
            f"{'run':>14} {'threats':>7} {'zones':>6} {'airwarn':>8} {'oracle':>7} {'region-wide':>11} {'real nights':>11} {'airwarn / real':>14} {'region-wide / real':>18}"
        )
        for run in args.run:
            m = run_minutes(run)
            same = [r for r in table if _in_bin(m["threats"], r["threats"])]
            real = same[0]["minutes_median"] if same else float("nan")
            print(
                f"{m['run']:>14} {m['threats']:>7} {m['zones']:>6} {m['airwarn']:>8.1f} {m['oracle']:>7.1f} "
                f"{m['region_wide']:>11.1f} {real:>11.0f} {m['airwarn'] / real:>14.3f} {m['region_wide'] / real:>18.2f}"
            )
    print(
        "\ncaveats: raion and hromada alerts are not counted (practice is if anything longer);"
        " the history ends in April 2024, before the 500-800-threat nights of 2025 and"
        " raion-level alerting; real nights last longer than most simulated raids."
    )


def _in_bin(n: float, label: str) -> bool:
    """Whether ``n`` threats falls in an exposure_table bin label ("10-29", "100+")."""
    if label.endswith("+"):
        return n >= float(label[:-1])
    lo, hi = (float(x) for x in label.split("-"))
    return lo <= n <= hi


if __name__ == "__main__":
    main()
