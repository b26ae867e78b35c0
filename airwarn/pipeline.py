"""The pipeline, one direction: ingest -> fuse -> predict -> decide -> publish.

:class:`Pipeline` wires the stages through their typed hand-offs (see
``airwarn.contracts``); :func:`replay` drives it from files, strictly causally:
records are taken in arrival (file) order, the arrival clock is the newest report
time seen, and a decision at tick ``T`` runs as soon as a record with ``t > T``
arrives, before that record is accepted — so it uses only reports that arrived
before it. Replaying a prefix of a file therefore yields exactly the same alert
lines for every tick before the prefix's clock.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from airwarn.contracts import AlertChange, Sensor, TrackState
from airwarn.decide import Decider
from airwarn.decide.policy import Policy
from airwarn.fuse import Tracker, TrackerConfig
from airwarn.ingest import Ingestor, SensorRegistry, iter_report_lines
from airwarn.predict import Predictor
from airwarn.publish.tracks import track_updates
from airwarn.zones.zoneset import ZoneSet

STAGES = ("ingest", "fuse", "predict", "decide", "publish")


@dataclass
class TickOutput:
    """What one decision tick produced."""

    t: float
    changes: list[AlertChange]
    tracks: TrackState


@dataclass
class StageTimer:
    """Accumulated wall-clock seconds per stage."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    def add(self, stage: str, dt: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + dt


class Pipeline:
    """All stages for one deployment (sensors, zones, policy), advanced tick by tick."""

    def __init__(self, sensors: Sequence[Sensor], zones: ZoneSet, policy: Policy):
        self.zones = zones
        self.frame = zones.frame
        self.policy = policy
        self.registry = SensorRegistry(sensors, self.frame)
        self.ingestor = Ingestor(self.registry)
        self.tracker = Tracker(
            self.registry, TrackerConfig(process_lag_s=policy.fuse_lag_s, rollback_s=0.0)
        )
        self.predictor = Predictor(zones, policy)
        self.decider = Decider(zones, policy)
        self.timer = StageTimer()

    def tick(self, t: float, *, final: bool = False) -> TickOutput:
        """Run fuse, predict and decide at time ``t`` on everything accepted so far.

        ``final`` marks the tail after the input ended: silence then means no data,
        not dead sensors.
        """
        c0 = time.perf_counter()
        batch = self.ingestor.drain()
        self.tracker.add(batch)
        tracks = self.tracker.advance(t)
        c1 = time.perf_counter()
        threats = self.predictor.update(tracks)
        c2 = time.perf_counter()
        health = self.ingestor.health(t)
        if final:
            health.alive[:] = True
        changes = self.decider.step(t, threats, tracks, health)
        c3 = time.perf_counter()
        self.timer.add("fuse", c1 - c0)
        self.timer.add("predict", c2 - c1)
        self.timer.add("decide", c3 - c2)
        return TickOutput(t, changes, tracks)

    def idle(self, tracks: TrackState) -> bool:
        """True when nothing is tracked, predicted or alerted any more."""
        return len(tracks) == 0 and self.predictor.idle() and self.decider.idle()


@dataclass
class ReplayResult:
    """Summary of a replay run."""

    alerts: list[AlertChange]
    n_track_updates: int
    ingest: dict
    seconds: dict[str, float]
    ticks: int
    t_first: float
    t_last: float


def replay(
    sensors: Sequence[Sensor],
    detections: str | Path,
    zones: ZoneSet,
    policy: Policy,
    out_dir: str | Path,
    *,
    track_every_s: float | None = None,
    cap: bool = True,
    progress: Callable[[int], None] | None = None,
    max_tail_s: float = 4 * 3600.0,
) -> ReplayResult:
    """Replay a detections file through the pipeline; write alerts, tracks and CAP to ``out_dir``.

    ``progress`` is called with the number of bytes read since the last call.
    """
    from airwarn.publish import Publisher

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pipe = Pipeline(sensors, zones, policy)
    pub = Publisher(out, zones, cap=cap)
    tick_s = float(policy.tick_s)
    track_every = float(track_every_s or policy.track_every_s)
    timer = pipe.timer
    ing = pipe.ingestor
    next_tick: float | None = None
    next_track_out = -math.inf
    n_tracks_out = 0
    ticks = 0
    t_first = math.nan

    def run_tick(t: float, final: bool = False) -> TickOutput:
        nonlocal next_track_out, n_tracks_out, ticks
        res = pipe.tick(t, final=final)
        ticks += 1
        c0 = time.perf_counter()
        pub.alerts(res.changes)
        if t >= next_track_out:
            n_tracks_out += pub.tracks(track_updates(res.tracks, pipe.frame))
            next_track_out = t + track_every
        timer.add("publish", time.perf_counter() - c0)
        return res

    det_path = Path(detections)
    c_ing = 0.0
    for line_no, text in iter_report_lines(det_path):
        c0 = time.perf_counter()
        if progress is not None:
            progress(len(text.encode()) if not text.isascii() else len(text))
        s = text.strip()
        if not s:
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError:
            ing.accept_line(s, line_no, det_path.name)
            c_ing += time.perf_counter() - c0
            continue
        rec = ing.check(obj, line_no, det_path.name, counted=False)
        if rec is None:
            c_ing += time.perf_counter() - c0
            continue
        if next_tick is None:
            t_first = rec.t
            next_tick = (math.floor(rec.t / tick_s) + 1) * tick_s
        c_ing += time.perf_counter() - c0
        while rec.t > next_tick:
            res = run_tick(next_tick)
            next_tick += tick_s
            if pipe.idle(res.tracks) and rec.t > next_tick + tick_s:
                # nothing is live: jump over the quiet gap to the tick just before rec.t
                next_tick = (math.ceil(rec.t / tick_s) - 1) * tick_s
        c0 = time.perf_counter()
        ing.admit(rec)
        c_ing += time.perf_counter() - c0

    # the input has ended: keep deciding until every threat and alert has run out
    t_last = float(ing.clock) if math.isfinite(ing.clock) else math.nan
    if next_tick is not None:
        end = next_tick + max_tail_s
        while next_tick <= end:
            res = run_tick(next_tick, final=True)
            next_tick += tick_s
            if pipe.idle(res.tracks):
                break
    timer.add("ingest", c_ing)
    pub.close()
    return ReplayResult(
        alerts=pub.all_alerts,
        n_track_updates=n_tracks_out,
        ingest=ing.stats.to_json(),
        seconds=dict(timer.seconds),
        ticks=ticks,
        t_first=t_first,
        t_last=t_last,
    )
