"""airwarn fusion vs Stone Soup, side by side on the shared runner's seeded scenarios.

For each N, writes the scenario with ``../shared/bench/stonesoup_side_by_side.py write``,
tracks it with airwarn (tracker time only: no parsing, no writing), then runs the
runner's ``compare`` (Stone Soup with k-d tree gating, capped by ``--max-seconds``)
and prints both, with the meas/s and GOSPA ratios.

    python bench/fuse_vs_stonesoup.py [--n 10 100 500 1000 5000] [--scans 60]
        [--max-seconds 60] [--repeat 3] [--out /tmp/aw_bench]

Timings are wall-clock on whatever machine runs this (noisy on a shared 2-core box);
airwarn's time is the best of ``--repeat`` runs of the tracker on the same input.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airwarn.fuse import Tracker  # noqa: E402
from airwarn.fuse.run import _slice, load_batches, scan_times  # noqa: E402
from airwarn.publish.tracks import track_updates  # noqa: E402

RUNNER = ROOT.parent / "shared" / "bench" / "stonesoup_side_by_side.py"


def track_file(scen: Path, out: Path, repeat: int) -> dict:
    """Run airwarn's tracker on a scenario; write tracks.jsonl; return timing figures."""
    reg, b, _ = load_batches(scen / "sensors.jsonl", scen / "detections.jsonl")
    times = scan_times(b.t, None)
    clock = np.maximum.accumulate(b.t)
    upto = np.searchsorted(clock, times, side="right").tolist()
    best = best_cpu = np.inf
    per_scan = None
    for rep in range(repeat):
        tr = Tracker(reg)
        prev = 0
        steps = []
        states = []
        p0 = time.process_time()
        for T, k in zip(times.tolist(), upto, strict=True):
            c0 = time.perf_counter()
            tr.add(_slice(b, prev, k))
            prev = k
            st = tr.advance(T)
            steps.append(time.perf_counter() - c0)
            if rep == 0:
                states.append(st)
        best_cpu = min(best_cpu, time.process_time() - p0)
        total = float(np.sum(steps))
        if total < best:
            best, per_scan = total, np.asarray(steps)
        if rep == 0:
            with open(out, "w", encoding="utf-8") as fh:
                for st in states:
                    for u in track_updates(st, reg.frame):
                        fh.write(json.dumps(u.to_json(), separators=(",", ":")) + "\n")
    n = len(b)
    return {
        "measurements": n,
        "tracker_s": best,
        "meas_per_s": n / best,
        "cpu_meas_per_s": n / best_cpu,
        "us_per_meas": 1e6 * best / n,
        "ms_per_scan_median": 1e3 * float(np.median(per_scan)),
    }


def runner(*args: str) -> dict:
    """Run the shared runner; return its last stdout line (JSON)."""
    res = subprocess.run(
        [sys.executable, str(RUNNER), *args], capture_output=True, text=True, check=True
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10, 100, 500, 1000, 5000])
    ap.add_argument("--scans", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=60.0, help="cap on Stone Soup's time")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("/tmp/aw_bench"))
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument(
        "--crosscheck-scans", type=int, default=1, help="Stone Soup GOSPAMetric re-checks (slow)"
    )
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in a.n:
        scen = a.out / f"s{n}"
        runner(
            "write", "--n", str(n), "--scans", str(a.scans), "--seed", str(a.seed),
            "--out", str(scen),
        )  # fmt: skip
        tracks = scen / "airwarn_tracks.jsonl"
        aw = track_file(scen, tracks, a.repeat)
        cmp_ = runner(
            "compare", "--scenario", str(scen), "--tracks", str(tracks),
            "--time-s", f"{aw['tracker_s']:.6f}", "--max-seconds", str(a.max_seconds),
            "--crosscheck-scans", str(a.crosscheck_scans),
        )  # fmt: skip
        ss, ot = cmp_["stonesoup"], cmp_["other"]
        row = {
            "n": n,
            "measurements": aw["measurements"],
            "ss_scans_done": ss["scans_done"],
            "scans": ss["scans"],
            "ss_meas_per_s": ss["meas_per_s"],
            "aw_meas_per_s": aw["meas_per_s"],
            "aw_cpu_meas_per_s": aw["cpu_meas_per_s"],
            "meas_per_s_ratio": cmp_["meas_per_s_ratio"],
            "aw_us_per_meas": aw["us_per_meas"],
            "aw_ms_per_scan": aw["ms_per_scan_median"],
            "ss_gospa": ss["gospa_mean"],
            "aw_gospa": ot["gospa_mean"],
            "gospa_ratio": cmp_["gospa_mean_ratio"],
            "ss_gospa_warm": ss["gospa_mean_after_warmup"],
            "aw_gospa_warm": ot["gospa_mean_after_warmup"],
            "gospa_warm_ratio": cmp_["gospa_mean_after_warmup_ratio"],
            "ss_missed": ss["missed_per_scan_mean_after_warmup"],
            "aw_missed": ot["missed_per_scan_mean_after_warmup"],
            "ss_false": ss["false_per_scan_mean_after_warmup"],
            "aw_false": ot["false_per_scan_mean_after_warmup"],
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if a.json_out:
            with open(a.json_out, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")
    hdr = (
        f"{'N':>5} {'meas':>7} {'SS scans':>8} {'SS meas/s':>9} {'aw meas/s':>10} {'ratio':>7} "
        f"{'aw us/meas':>10} {'SS GOSPA':>9} {'aw GOSPA':>9} {'ratio':>6} "
        f"{'SS warm':>8} {'aw warm':>8} {'ratio':>6} {'miss SS/aw':>11} {'false SS/aw':>11}"
    )
    print(hdr)
    for r in rows:
        print(
            f"{r['n']:>5} {r['measurements']:>7} {r['ss_scans_done']:>4}/{r['scans']:<3} "
            f"{r['ss_meas_per_s']:>9.0f} {r['aw_meas_per_s']:>10.0f} {r['meas_per_s_ratio']:>6.1f}x "
            f"{r['aw_us_per_meas']:>10.2f} {r['ss_gospa']:>9.1f} {r['aw_gospa']:>9.1f} "
            f"{r['gospa_ratio']:>6.3f} {r['ss_gospa_warm']:>8.1f} {r['aw_gospa_warm']:>8.1f} "
            f"{r['gospa_warm_ratio']:>6.3f} {r['ss_missed']:>5.2f}/{r['aw_missed']:<5.2f} "
            f"{r['ss_false']:>5.2f}/{r['aw_false']:<5.2f}"
        )


if __name__ == "__main__":
    main()
