"""Where the warning-quality gap lives: fusion, or predict and decide.

Replays a scenario once and, on the same ticks and sensor health, runs two more
predict -> decide chains beside the real one:

- ``fused``: the replay as ``airwarn replay`` runs it (fused tracks);
- ``snapped``: the same fused tracks, each moved onto the state of the nearest true
  threat within ``--gate-m`` (position, velocity and a small covariance): fusion's
  existence and timing, perfect states;
- ``ideal``: every airborne true threat as a confirmed track with its true state from
  launch to end (perfect fusion): what predict and decide reach on their own.

Each chain is decided twice, with the policy as given and with every class's
``margin_s`` set to ``--margin-s`` (default 0: the extra lead the policy keeps against
fusion's latency and track losses). Every run is scored with ``airwarn evaluate``'s
scorer; the table shows how much of the person-hours above the oracle, and how many of
the missed or late pairs, each part of the chain accounts for.

    python bench/fusion_gap.py [--scenario DIR] [--policy P] [--zones Z] [--margin-s 0]

Without ``--scenario`` it simulates a 2-hour raid (seed 11, 60 drones, 2 cruise, 2
ballistic) into ``--work``. Truth is read only by the ``snapped`` and ``ideal`` chains
(an upper bound, never the product); the ``fused`` chain is the causal replay.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: E402

from airwarn.contracts import TrackState, read_sensors, read_truth  # noqa: E402
from airwarn.decide import Decider  # noqa: E402
from airwarn.decide.policy import Policy  # noqa: E402
from airwarn.decide.tune import GridPoint, policy_variant  # noqa: E402
from airwarn.evaluate import score  # noqa: E402
from airwarn.pipeline import Pipeline, drive  # noqa: E402
from airwarn.predict import Predictor  # noqa: E402
from airwarn.predict.calibrate import paths_from_truth, tracks_at  # noqa: E402
from airwarn.zones import load_zones, zone_set  # noqa: E402


class TruthStates:
    """True threat states at tick times (predict's calibration paths, no added errors)."""

    def __init__(self, truth, zones, pos_sd: float, vel_sd: float):
        self.paths = paths_from_truth(truth, zones)
        self.pos_sd, self.vel_sd = pos_sd, vel_sd

    def ideal(self, t: float) -> TrackState:
        """Every airborne threat as a confirmed track with its true state."""
        return tracks_at(self.paths, t, self.pos_sd, self.vel_sd, None)[0]

    def snap(self, tracks: TrackState, gate_m: float) -> TrackState:
        """Fused tracks, each on the true state of the nearest threat within ``gate_m``."""
        true = self.ideal(tracks.t)
        if len(tracks) == 0 or len(true) == 0:
            return tracks
        X = true.x
        d = np.hypot(tracks.x[:, None, 0] - X[None, :, 0], tracks.x[:, None, 1] - X[None, :, 1])
        j = d.argmin(axis=1)
        ok = d[np.arange(j.size), j] <= gate_m
        x, P = tracks.x.copy(), tracks.P.copy()
        x[ok], P[ok] = X[j[ok]], true.P[j[ok]]
        return replace(tracks, x=x, P=P)


class Chains:
    """The snapped and ideal predict -> decide chains, stepped from the replay's ticks."""

    def __init__(self, pipe: Pipeline, truth: TruthStates, policies, gate_m: float):
        self.pipe, self.truth, self.gate_m = pipe, truth, gate_m
        zones = pipe.zones
        self.pred = {k: Predictor(zones, policies[0]) for k in ("snapped", "ideal")}
        self.dec = {(k, i): Decider(zones, p) for k in CHAINS for i, p in enumerate(policies)}
        self.alerts = {key: [] for key in self.dec}
        self._threats: dict[str, tuple] = {}
        real_update, real_step = pipe.predictor.update, pipe.decider.step

        def update(tracks, health=None):
            self._threats = {"fused": (real_update(tracks, health), tracks)}
            for k, tr in (
                ("snapped", truth.snap(tracks, gate_m)),
                ("ideal", truth.ideal(tracks.t)),
            ):
                self._threats[k] = (self.pred[k].update(tr, health), tr)
            return self._threats["fused"][0]

        def step(t, threats, tracks, health):
            out = real_step(t, threats, tracks, health)
            for (k, i), dec in self.dec.items():
                if (k, i) == ("fused", 0):
                    self.alerts[k, i].extend(out)
                    continue
                th, tr = self._threats[k]
                self.alerts[k, i].extend(dec.step(t, th, tr, health))
            return out

        pipe.predictor.update, pipe.decider.step = update, step
        self.dec["fused", 0] = pipe.decider


CHAINS = ("fused", "snapped", "ideal")


def simulate(work: Path) -> Path:
    """A small default raid (written once into ``work``)."""
    out = work / "sim-fusion-gap-11"
    if not (out / "truth.jsonl").exists():
        cmd = [sys.executable, "-m", "airwarn.cli", "simulate", "--seed", "11", "--hours", "2"]
        cmd += ["--drones", "60", "--cruise", "2", "--ballistic", "2", "--out", str(out)]
        subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, help="a scenario dir (airwarn simulate's files)")
    ap.add_argument("--zones", type=Path, help="zones file (default: the scenario's)")
    ap.add_argument("--policy", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/airwarn-fusion-gap"))
    ap.add_argument("--margin-s", type=float, default=0.0)
    ap.add_argument("--gate-m", type=float, default=5000.0)
    ap.add_argument("--pos-sd", type=float, default=100.0)
    ap.add_argument("--vel-sd", type=float, default=3.0)
    a = ap.parse_args()
    sdir = a.scenario or simulate(a.work)
    zones = zone_set(load_zones(a.zones or sdir / "zones.geojson"))
    policy = Policy.load(a.policy)
    policies = (policy, policy_variant(policy, GridPoint(1.0, a.margin_s, 1.0)))
    truth_recs = read_truth(sdir / "truth.jsonl")
    truth = TruthStates(truth_recs, zones, a.pos_sd, a.vel_sd)
    pipe = Pipeline(read_sensors(sdir / "sensors.jsonl"), zones, policy)
    chains = Chains(pipe, truth, policies, a.gate_m)
    c0 = time.perf_counter()
    det = sdir / "detections.jsonl"
    with Progress(
        TextColumn("replay, three chains"), BarColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task("", total=det.stat().st_size)
        res = drive(pipe, det, progress=lambda n: bar.advance(task, n))
    print(f"{sdir}: {res.ticks} ticks, {time.perf_counter() - c0:.0f} s for all chains\n")
    rows = []
    for (k, i), alerts in sorted(
        chains.alerts.items(), key=lambda kv: (kv[0][1], CHAINS.index(kv[0][0]))
    ):
        s = score(truth_recs, alerts, zones).summary
        rows.append((k, i, s))
    m = f"{a.margin_s:g}"
    head = ("chain", "margin_s", "× oracle", "impacts hit/late/missed", "overflights missed / late")
    print("| " + " | ".join(head + ("false episodes",)) + " |")
    print("|---" * (len(head) + 1) + "|")
    for k, i, s in rows:
        ms = "policy" if i == 0 else m
        imp = f"{s['impact_hit']}/{s['impact_late']}/{s['impact_miss']}"
        ovf = f"{s['overflight_miss']} / {s['overflight_late']} of {s['overflight_pairs']:,}"
        ratio = s["ratio_to_oracle"]
        fr = s["false_alert_frac"]
        print(
            f"| {k} | {ms} | {ratio:.3f} | {imp} | {ovf} | "
            f"{'n/a' if fr is None else f'{100 * fr:.1f} %'} |"
        )


if __name__ == "__main__":
    main()
