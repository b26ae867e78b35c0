"""Soak: one pipeline fed the same raid again and again, as a service runs night after night.

A service runs for months, so nothing it holds in memory may grow with the reports or tracks
ever seen. This bench writes ``--passes`` copies of a raid's detections one after another
(each shifted past the last by the raid's span plus an hour, report ids made unique per
pass), feeds them through one ``Pipeline`` with ``drive`` (as ``airwarn replay`` does) and
prints, at the end of each pass, the reports admitted so far against what the pipeline
holds: the report ids the ingestor remembers, predict's first-confirmation records, its
ghosts, and the process's resident memory.

    python bench/soak.py [--scenario DIR] [--work DIR] [--passes 4]

Without ``--scenario`` it simulates ``airwarn simulate --seed 11 --hours 2 --drones 60
--cruise 2 --ballistic 2`` (ua-s11 of warning_quality) into ``--work``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airwarn.contracts import read_sensors  # noqa: E402
from airwarn.decide.policy import Policy  # noqa: E402
from airwarn.pipeline import Pipeline, drive  # noqa: E402
from airwarn.zones import load_zones, zone_set  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process now (MB), from /proc (0 where there is none)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def write_passes(src: Path, out: Path, passes: int) -> tuple[float, list[float]]:
    """Write ``passes`` shifted copies of ``src`` into ``out``; return the shift and the end
    time of each pass."""
    t0 = t1 = None
    with open(src) as fh:
        for line in fh:
            t = json.loads(line)["t"]
            t0 = t if t0 is None else min(t0, t)
            t1 = t if t1 is None else max(t1, t)
    if t0 is None or t1 is None:
        sys.exit(f"{src}: no records")
    shift = (t1 - t0) + 3600.0
    with open(out, "w") as dst:
        for k in range(passes):
            with open(src) as fh:
                for line in fh:
                    d = json.loads(line)
                    d["t"] = round(d["t"] + k * shift, 3)
                    if "id" in d:
                        d["id"] = f"{d['id']}#{k}"
                    dst.write(json.dumps(d, separators=(",", ":")) + "\n")
    return shift, [t1 + k * shift for k in range(passes)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, help="a scenario folder (sensors, detections)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/airwarn-soak"))
    ap.add_argument("--passes", type=int, default=4)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    scen = args.scenario
    if scen is None:
        scen = args.work / "raid"
        if not (scen / "detections.jsonl").exists():
            cmd = [sys.executable, "-m", "airwarn.cli", "simulate", "--out", str(scen)]
            cmd += ["--seed", "11", "--hours", "2", "--drones", "60", "--cruise", "2"]
            cmd += ["--ballistic", "2"]
            subprocess.run(cmd, check=True, capture_output=True)
    feed = args.work / "soak_detections.jsonl"
    shift, ends = write_passes(scen / "detections.jsonl", feed, args.passes)
    zf = scen / "zones.geojson"
    zones = zone_set(load_zones(zf)) if zf.exists() else None
    if zones is None:
        from airwarn.zones import builtin_zones

        zones = zone_set(builtin_zones())
    pipe = Pipeline(read_sensors(scen / "sensors.jsonl"), zones, Policy.load())
    rows: list[tuple] = []
    c0 = time.perf_counter()
    nxt = [0]

    def on_tick(res) -> None:
        k = nxt[0]
        if k < len(ends) and res.t >= ends[k]:
            nxt[0] += 1
            pr, ing = pipe.predictor, pipe.ingestor
            rows.append(
                (
                    k + 1,
                    ing.stats.reports,
                    len(ing._seen),
                    int(pr._conf_ids.size),
                    pr.n_ghosts,
                    rss_mb(),
                    time.perf_counter() - c0,
                )
            )

    drive(pipe, feed, on_tick=on_tick)
    print(f"{args.passes} passes of {scen} ({shift / 3600:.1f} h apart), one pipeline:")
    print("| pass | reports admitted | ids remembered | first-confirmation records | ghosts "
          "| RSS MB | wall s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for k, rep, ids, conf, gh, rss, wall in rows:
        print(f"| {k} | {rep:,} | {ids:,} | {conf:,} | {gh} | {rss:.0f} | {wall:.0f} |")
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        print(
            f"last pass / first: reports admitted {b[1] / max(a[1], 1):.2f}x, ids remembered "
            f"{b[2] / max(a[2], 1):.2f}x, first-confirmation records {b[3] / max(a[3], 1):.2f}x, "
            f"RSS {b[5] / max(a[5], 1e-9):.2f}x"
        )


if __name__ == "__main__":
    main()
