"""Issue-4 warning quality per scenario: simulate, replay, evaluate, print the target table.

Each scenario is ``name:region:seed:hours:drones:cruise:ballistic[:zones[:acoustic:radars:
observers]]`` where zones is ``builtin`` (the simulated region's own zones), ``hromadas``,
``raions`` or ``oblasts`` (OCHA COD-AB; with ``-ctl`` appended, only the areas on
government-controlled land, ``airwarn zones --controlled-only``, as the built-in region) or
``israel`` (Home Front Command areas), read from ``--data`` (../shared/data), and the last three set the sensor mix (``airwarn simulate --acoustic
--radars --observers``; default: the simulator's). E.g. ``norad:ukraine:41:1.5:40:2:3:
builtin:3000:0:1`` is a raid seen by acoustic posts and observers only. Simulations are kept in
``--work`` and re-used; replay and evaluate run every time (``--policy`` to try another).
The default set runs in a few minutes on a loaded 2-core machine; timings are noisy.

``--variant`` feeds every scenario's reports as another generator might write them:
``no-radar-velocity`` (radar plots without ``vel_*``), ``half-radar-plots`` (every radar
plot dropped with probability 0.5), ``no-class`` (no ``cls`` hints), ``no-heartbeats``
(no heartbeat lines: every sensor is then taken as up, ``assume_up_without_heartbeats``),
``slow-heartbeats`` (one heartbeat in five kept: a sensor beats every 5 minutes) and
``no-radar-height`` (the sensors file gives no radar ``alt_m``).

    python bench/warning_quality.py [--work /tmp/awq] [--policy P] [--variant V] \
        [--scenario SPEC ...]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airwarn.contracts import read_sensors  # noqa: E402

DEFAULT = [
    "ua-s11:ukraine:11:2:60:2:2:builtin",
    "hrom-s11:ukraine:11:2:60:2:2:hromadas",
    "ua-s12:ukraine:12:1.5:100:3:2:builtin",
    "il-s13:israel:13:1:20:2:12:israel",
    "il-s14:israel:14:1:30:3:15:builtin",
    "ua-s21:ukraine:21:2:200:4:3:builtin",
    "hrom-s21:ukraine:21:2:200:4:3:hromadas",
    "rai-s11:ukraine:11:2:60:2:2:raions-ctl",
]
ZSRC = {
    "hromadas": "ukraine_boundaries_ocha_cod_ab/Hromadas.geojson",
    "raions": "ukraine_boundaries_ocha_cod_ab",
    "oblasts": "ukraine_boundaries_ocha_cod_ab",
    "israel": "israel_hfc_areas_oref_alert",
}


def _run(cmd: list[str]) -> None:
    """Run an airwarn command; stop with its output if it fails."""
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")


VARIANTS = (
    "no-radar-velocity",
    "half-radar-plots",
    "no-class",
    "no-heartbeats",
    "slow-heartbeats",
    "no-radar-height",
)


def variant(sim: Path, name: str) -> Path:
    """A copy of scenario ``sim`` whose detections are rewritten as variant ``name``."""
    out = sim.with_name(f"{sim.name}-{name}")
    if (out / "detections.jsonl").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    if name == "no-radar-height":
        with open(sim / "sensors.jsonl") as src, open(out / "sensors.jsonl", "w") as dst:
            for line in src:
                d = json.loads(line)
                if d.get("kind") == "radar":
                    d.pop("alt_m", None)
                dst.write(json.dumps(d) + "\n")
    for f in ("sensors.jsonl", "truth.jsonl", "zones.geojson", "scenario.json"):
        if (sim / f).exists() and not (out / f).exists():
            (out / f).symlink_to((sim / f).resolve())
    kinds = {s.id: s.kind for s in read_sensors(sim / "sensors.jsonl")}
    rng = random.Random(7)
    beats: dict[str, int] = {}
    with open(sim / "detections.jsonl") as src, open(out / "detections.jsonl", "w") as dst:
        for line in src:
            d = json.loads(line)
            if d.get("heartbeat"):
                k = beats[d["sensor"]] = beats.get(d["sensor"], -1) + 1
                if name != "no-heartbeats" and (name != "slow-heartbeats" or k % 5 == 0):
                    dst.write(line)
                continue
            radar = kinds.get(d["sensor"]) == "radar"
            if radar and name == "no-radar-velocity":
                for f in ("vel_e", "vel_n", "vel_u"):
                    d.pop(f, None)
            if radar and name == "half-radar-plots" and rng.random() < 0.5:
                continue
            if name == "no-class":
                d.pop("cls", None)
            dst.write(json.dumps(d) + "\n")
    return out


def scenario(spec: str, work: Path, data: Path, policy: str | None, var: str | None = None) -> dict:
    """Simulate (once), replay and evaluate one scenario; return scorecard and diagnostics."""
    parts = spec.split(":")
    if len(parts) not in (7, 8, 11):
        sys.exit(f"bad scenario {spec!r}: name:region:seed:hours:drones:cruise:ballistic"
                 "[:zones[:acoustic:radars:observers]]")  # fmt: skip
    name, region, seed, hours, drones, cruise, ball = parts[:7]
    zones = parts[7] if len(parts) > 7 else "builtin"
    mix = parts[8:]
    aw = [sys.executable, "-m", "airwarn.cli"]
    sim = work / "-".join(["sim", region, seed, hours, drones, cruise, ball, *mix])
    if not (sim / "truth.jsonl").exists():
        sensors = []
        if mix:
            sensors = ["--acoustic", mix[0], "--radars", mix[1], "--observers", mix[2]]
        _run([*aw, "simulate", "--out", str(sim), "--seed", seed, "--hours", hours,
              "--drones", drones, "--cruise", cruise, "--ballistic", ball, "--region", region,
              *sensors])  # fmt: skip
    if var:
        sim = variant(sim, var)
    zfile = sim / "zones.geojson"
    if zones != "builtin":
        zfile = work / f"zones-{zones}.geojson"
        if not zfile.exists():
            kind, _, ctl = zones.partition("-")
            drop = ["--controlled-only"] if ctl == "ctl" else []
            _run([*aw, "zones", "--from", kind, "--src", str(data / ZSRC[kind]),
                  "--out", str(zfile), *drop])  # fmt: skip
    if var:
        name = f"{name}-{var}"
    out = work / f"run-{name}"
    t0 = time.perf_counter()
    cmd = [*aw, "replay", "--sensors", str(sim / "sensors.jsonl"), "--detections",
           str(sim / "detections.jsonl"), "--zones", str(zfile), "--out", str(out), "--no-cap"]  # fmt: skip
    if policy:
        cmd += ["--policy", policy]
    _run(cmd)
    t1 = time.perf_counter()
    _run([*aw, "evaluate", "--scenario", str(sim), "--alerts", str(out / "alerts.jsonl"),
          "--zones", str(zfile), "--out", str(out)])  # fmt: skip
    card = json.loads((out / "scorecard.json").read_text())
    diag = json.loads((out / "diagnostics.json").read_text())
    return {"name": name, "card": card, "diag": diag, "replay_s": t1 - t0, "out": str(out)}


def table(res: list[dict]) -> str:
    """The issue-4 target table, one row per scenario, plus the miss-stage diagnostic."""
    head = (
        "| scenario | zones | pairs imp/ovf | impacts miss+late | overflight miss (late) | "
        "ratio to oracle | false alert eps | drone pre-alert lead | miss stages a/b/c "
        "(a not heard) | replay s |"
    )
    L = [head, "|" + "---|" * 10]
    for r in res:
        s, d = r["card"], r["diag"]["miss_stages"]
        st = [0, 0, 0]
        for v in d.get("by_outcome", {}).values():
            for i, k in enumerate(("a_not_tracked", "b_not_predicted", "c_not_alerted")):
                st[i] += v[k]
        unheard = d.get("a_heard", {}).get("not_heard", "–")
        fa = r["diag"].get("false_alerts", {})
        ahead = fa.get("by_cause", {}).get("ahead_of_downed", {}).get("episodes", 0)
        ahead_pct = 100 * ahead / max(fa.get("alert_episodes", 0), 1)
        lead = s["targets"]["drone_prealert_lead_median_s"]["value"]
        ovf = s["overflight_pairs"]
        L.append(
            f"| {r['name']} | {s['zones']:,} | {s['impact_pairs']}/{ovf:,} | "
            f"{s['impact_miss'] + s['impact_late']} | "
            f"{100 * s['overflight_miss'] / max(ovf, 1):.2f}% ({s['overflight_late']}) | "
            f"{s['ratio_to_oracle'] or 0:.2f} | {100 * (s['false_alert_frac'] or 0):.1f}% "
            f"({ahead_pct:.1f}%) | "
            f"{'–' if lead is None else f'{lead / 60:.0f} min'} | {st[0]}/{st[1]}/{st[2]} ({unheard}) | "
            f"{r['replay_s']:.0f} |"
        )
    L.append("")
    L.append(
        "Targets: impacts 0; overflight miss <= 1%; ratio <= 1.5; false <= 20%; lead >= 10 min."
    )
    L.append("Miss stages (missed + late pairs): a not tracked, b not predicted, c not alerted.")
    L.append(
        "False alert eps (in brackets: those ahead of a threat that was then downed, as a share "
        "of all alert episodes; diagnostics.json false_alerts has every cause)."
    )
    return "\n".join(L)


def main() -> None:
    """Run the scenarios and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", default="/tmp/awq")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--policy", default=None)
    ap.add_argument("--scenario", action="append", default=None)
    ap.add_argument("--variant", choices=VARIANTS, default=None)
    a = ap.parse_args()
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    res = []
    for spec in a.scenario or DEFAULT:
        t0 = time.perf_counter()
        res.append(scenario(spec, work, Path(a.data), a.policy, a.variant))
        print(f"{spec}: {time.perf_counter() - t0:.0f} s ({res[-1]['out']})", flush=True)
    print(table(res))


if __name__ == "__main__":
    main()
