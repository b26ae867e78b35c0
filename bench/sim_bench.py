"""Time the simulator on the default record raid (or a variant) and print the figures.

    python bench/sim_bench.py [--out DIR] [--drones N] [--acoustic N] [--hours H] [--seed S]

Prints seconds per stage, line counts, file sizes, peak memory, and the ratios to the
budget (60 s, 2 million detection lines). Timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from airwarn.sim import SimParams, write_scenario  # noqa: E402

BUDGET_S = 60.0
BUDGET_LINES = 2_000_000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--drones", type=int, default=539)
    ap.add_argument("--acoustic", type=int, default=3000)
    ap.add_argument("--radars", type=int, default=30)
    a = ap.parse_args()
    params = SimParams(
        seed=a.seed, hours=a.hours, drones=a.drones, acoustic=a.acoustic, radars=a.radars
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = a.out or Path(tmp)
        c = time.perf_counter()
        info = write_scenario(params, out)
        wall = time.perf_counter() - c
        sizes = {p.name: round(p.stat().st_size / 1e6, 1) for p in sorted(out.iterdir())}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({k: info[k] for k in ("threats", "fates", "reports_by_kind")}, indent=1))
    print(
        f"lines      {info['detections']:>10,d}  (reports {info['reports']:,d}, "
        f"heartbeats {info['heartbeats']:,d}, duplicates {info['duplicates']:,d})"
    )
    print(f"sensors    {info['sensors']:>10,d}  observers {info['observers']:,d}")
    print(f"stages s   {info['seconds']}")
    print(f"files MB   {sizes}")
    print(f"wall       {wall:10.1f} s   peak RSS {rss:,.0f} MB")
    print(
        f"ratios     time/budget {wall / BUDGET_S:.2f}   lines/budget "
        f"{info['detections'] / BUDGET_LINES:.2f}   lines/s {info['detections'] / wall:,.0f}"
    )


if __name__ == "__main__":
    main()
