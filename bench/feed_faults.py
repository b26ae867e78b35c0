"""Does a faulty feed still warn? Replay a scenario as it is and with the faults other
generators' and real feeds have, and compare the scorecards and ingest counts.

Faults, each applied alone to a copy of the scenario (sensors, detections, truth, zones):

* ``clock_ahead``: one phone report stamped 3 h ahead (local time written as UTC) a
  quarter of the way in;
* ``bom``: every file saved with a UTF-8 byte order mark (PowerShell, Excel);
* ``no_heartbeats``: the heartbeat lines removed (a feed with no health reports);
* ``duplicated``: every report line sent twice in a row;
* ``jittered``: lines re-ordered by an arrival delay of 0-30 s drawn per line (reports
  arrive late and out of order; none older than the 60 s lateness window);
* ``swapped``: lat and lon swapped in every detection (a generator's bug: nothing can be
  warned, and ``replay`` should say why: the ``beyond_range`` count).

A robust pipeline scores the first five as the clean feed (the person-hours of
``no_heartbeats`` and ``jittered`` may move a little: sensors without heartbeats are taken
as up, and reports that arrive later are used later), and counts the last.

    python bench/feed_faults.py --scenario DIR [--zones FILE] [--work /tmp/aw-faults] \
        [--only clock_ahead,bom] [--policy P]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

from other_theatre import row, run

FILES = ("sensors.jsonl", "detections.jsonl", "truth.jsonl")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def clock_ahead(det: list[str]) -> list[str]:
    """One phone report 3 h ahead, a quarter of the way in."""
    k = len(det) // 4
    t = json.loads(det[k])["t"]
    bad = {"t": t + 3 * 3600.0, "sensor": "phone-local-time", "lat": 50.45, "lon": 30.52,
           "sigma_m": 3000.0, "cls": "drone", "id": "fault-clock-ahead"}  # fmt: skip
    return [*det[:k], json.dumps(bad), *det[k:]]


def no_heartbeats(det: list[str]) -> list[str]:
    return [s for s in det if '"heartbeat"' not in s]


def duplicated(det: list[str]) -> list[str]:
    return [c for s in det for c in ((s, s) if '"heartbeat"' not in s else (s,))]


def jittered(det: list[str]) -> list[str]:
    """Lines re-ordered by their time plus an arrival delay of 0-30 s (seeded)."""
    rng = random.Random(7)
    keyed = [(json.loads(s)["t"] + rng.uniform(0.0, 30.0), i, s) for i, s in enumerate(det) if s]
    return [s for _, _, s in sorted(keyed)]


def swapped(det: list[str]) -> list[str]:
    out = []
    for s in det:
        o = json.loads(s)
        if "lat" in o:
            o["lat"], o["lon"] = o["lon"], o["lat"]
        out.append(json.dumps(o))
    return out


FAULTS: dict[str, Callable[[list[str]], list[str]] | None] = {
    "clock_ahead": clock_ahead,
    "bom": None,  # every file, below
    "no_heartbeats": no_heartbeats,
    "duplicated": duplicated,
    "jittered": jittered,
    "swapped": swapped,
}


def write_variant(src: Path, zones: Path, dst: Path, fault: str) -> None:
    """The scenario at ``src`` with one fault, written to ``dst``."""
    dst.mkdir(parents=True, exist_ok=True)
    bom = "\ufeff" if fault == "bom" else ""
    for name in FILES:
        lines = _lines(src / name)
        f = FAULTS[fault]
        if name == "detections.jsonl" and f is not None:
            lines = f(lines)
        (dst / name).write_text(bom + "\n".join(lines) + "\n", encoding="utf-8")
    (dst / "zones.geojson").write_text(bom + zones.read_text(encoding="utf-8"), encoding="utf-8")


def ingest_counts(out: Path) -> str:
    """The ingest counts a fault shows in: too late, duplicates, errors, held ahead,
    reports far beyond their sensor's range."""
    ing = json.loads((out / "replay_summary.json").read_text())["ingest"]
    keys = ("too_late", "duplicates", "errors", "ahead", "beyond_range")
    return " | ".join(f"{ing.get(k, 0):,}" for k in keys) + " |"


def main() -> None:
    """Replay the clean scenario and each faulty copy; print one row each."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True, type=Path)
    ap.add_argument("--zones", type=Path, default=None)
    ap.add_argument("--work", type=Path, default=Path("/tmp/aw-faults"))
    ap.add_argument("--only", default=",".join(FAULTS), help="comma-separated faults")
    ap.add_argument("--policy", default=None)
    a = ap.parse_args()
    zones = a.zones or a.scenario / "zones.geojson"
    print("| feed | impacts hit/late/miss | overflights hit/late/miss | ratio to oracle | "
          "false episodes | person-hours | too late | duplicates | errors | ahead | "
          "beyond range |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    out = a.work / "run-clean"
    print(row("clean", run(a.scenario, zones, out, a.policy)), ingest_counts(out))
    for fault in a.only.split(","):
        scen = a.work / fault
        write_variant(a.scenario, zones, scen, fault)
        out = a.work / f"run-{fault}"
        s = run(scen, scen / "zones.geojson", out, a.policy)
        print(row(fault, s), ingest_counts(out), flush=True)


if __name__ == "__main__":
    main()
