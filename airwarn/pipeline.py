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
from airwarn.ingest import AheadBuffer, Ingestor, SensorRegistry, iter_report_lines
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
        self.ingestor = Ingestor(self.registry, assume_up=policy.assume_up_without_heartbeats)
        cfg = TrackerConfig.from_dict(
            policy.fuse, policy.source, process_lag_s=policy.fuse_lag_s, rollback_s=0.0
        )
        self.tracker = Tracker(
            self.registry, cfg, people=(zones.cx, zones.cy, zones.population.astype(float))
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
        # a feed whose reports arrive later gets a longer fusion lag (fuse_lag_max_s)
        pol = self.policy
        if pol.fuse_lag_max_s > pol.fuse_lag_s:
            lag = self.ingestor.lateness(LAG_QUANTILE)
            self.tracker.cfg.process_lag_s = min(max(lag, pol.fuse_lag_s), pol.fuse_lag_max_s)
        seen = self.ingestor.liveness(t)  # once per tick: fusion and health read it
        tracks = self.tracker.advance(t, sensor_last_seen=seen)
        c1 = time.perf_counter()
        # after the input ends silence is no evidence: ghosts get no negative information
        health = self.ingestor.health(t, liveness=seen)
        threats = self.predictor.update(tracks, None if final else health)
        c2 = time.perf_counter()
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


LAG_QUANTILE = 0.75
"""The share of recent reports the fusion lag waits for (policy ``fuse_lag_max_s``)."""


@dataclass
class DriveResult:
    """What :func:`drive` saw: ticks run, first report time, final arrival clock."""

    ticks: int
    t_first: float
    t_last: float


def drive(
    pipe: Pipeline,
    detections: str | Path,
    *,
    on_tick: Callable[[TickOutput], None] | None = None,
    progress: Callable[[int], None] | None = None,
    max_tail_s: float = 4 * 3600.0,
) -> DriveResult:
    """Feed a detections file through ``pipe`` in arrival order, ticking causally.

    A tick at ``T`` runs when the first valid record with ``t > T`` arrives, before that
    record is admitted; quiet gaps with nothing live are skipped. A record more than
    ``AHEAD_LEAD_S`` ahead of the arrival clock is held until the lines after it agree that
    time has moved on (:class:`~airwarn.ingest.AheadBuffer`); those never confirmed are
    refused (``IngestStats.ahead``). After the input ends,
    ticks go on (``final=True``) until nothing is tracked, predicted or alerted, at most
    ``max_tail_s``. ``on_tick`` sees every tick's output; ``progress`` gets bytes read.
    Time outside the ticks is booked to the ``ingest`` stage.
    """
    ing = pipe.ingestor
    tick_s = float(pipe.policy.tick_s)
    det_path = Path(detections)
    next_tick: float | None = None
    ticks = 0
    t_first = math.nan
    c_ticks = 0.0
    c_start = time.perf_counter()

    def run_tick(t: float, final: bool = False) -> TickOutput:
        nonlocal ticks, c_ticks
        c0 = time.perf_counter()
        res = pipe.tick(t, final=final)
        if on_tick is not None:
            on_tick(res)
        ticks += 1
        c_ticks += time.perf_counter() - c0
        return res

    def feed(rec) -> None:
        """Run the ticks before ``rec``'s time, then admit it."""
        nonlocal next_tick, t_first
        if next_tick is None:
            t_first = rec.t
            next_tick = (math.floor(rec.t / tick_s) + 1) * tick_s
        while rec.t > next_tick:
            res = run_tick(next_tick)
            next_tick += tick_s
            if pipe.idle(res.tracks) and rec.t > next_tick + tick_s:
                # nothing is live: jump over the quiet gap to the tick just before rec.t
                next_tick = (math.ceil(rec.t / tick_s) - 1) * tick_s
        ing.admit(rec)

    # records far ahead of the arrival clock wait until the lines after them agree (one
    # sensor's clock set hours ahead must not make every other report too late)
    ahead = AheadBuffer()
    unreported = 0  # bytes read since the last progress call (one call per ~256 KB)
    for line_no, text in iter_report_lines(det_path):
        if progress is not None:
            unreported += len(text) if text.isascii() else len(text.encode())
            if unreported >= 1 << 18:
                progress(unreported)
                unreported = 0
        s = text.strip()
        if not s:
            continue
        try:
            obj = json.loads(s)
        except json.JSONDecodeError:
            ing.accept_line(s, line_no, det_path.name)
            continue
        rec = ing.check(obj, line_no, det_path.name, counted=False)
        if rec is None:
            continue
        if not rec.t <= ing.clock + ahead.lead_s:
            # far ahead of the clock (or the first line): wait for the next lines to agree
            ahead.hold(rec, ing.clock)
            for r in ahead.release(ing.clock):
                feed(r)
            continue
        feed(rec)
        if len(ahead):
            ahead.contradict()
            for r in ahead.release(ing.clock):
                feed(r)
    # at the end, lines no later line contradicted (the last of a sparse feed) are taken;
    # the contradicted ones are refused
    take, refuse = ahead.rest()
    for r in take:
        feed(r)
    ing.refuse_ahead(refuse, ahead.ahead_by)
    if progress is not None and unreported:
        progress(unreported)
    pipe.timer.add("ingest", time.perf_counter() - c_start - c_ticks)

    # the input has ended: keep deciding until every threat and alert has run out
    t_last = float(ing.clock) if math.isfinite(ing.clock) else math.nan
    if next_tick is not None:
        end = next_tick + max_tail_s
        while next_tick <= end:
            res = run_tick(next_tick, final=True)
            next_tick += tick_s
            if pipe.idle(res.tracks):
                break
    return DriveResult(ticks, t_first, t_last)


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
    track_every = float(track_every_s or policy.track_every_s)
    next_track_out = -math.inf
    n_tracks_out = 0

    def publish(res: TickOutput) -> None:
        nonlocal next_track_out, n_tracks_out
        c0 = time.perf_counter()
        pub.alerts(res.changes)
        if res.t >= next_track_out:
            n_tracks_out += pub.tracks(track_updates(res.tracks, pipe.frame))
            next_track_out = res.t + track_every
        pipe.timer.add("publish", time.perf_counter() - c0)

    d = drive(pipe, detections, on_tick=publish, progress=progress, max_tail_s=max_tail_s)
    pub.close()
    return ReplayResult(
        alerts=pub.all_alerts,
        n_track_updates=n_tracks_out,
        ingest=pipe.ingestor.stats.to_json(),
        seconds=dict(pipe.timer.seconds),
        ticks=d.ticks,
        t_first=d.t_first,
        t_last=d.t_last,
    )
