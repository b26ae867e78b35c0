"""ingest: parse and validate reports, drop duplicates, keep the arrival clock and sensor health.

Every line of ``detections.jsonl`` goes through :meth:`Ingestor.accept`. A bad line
is counted and kept as a :class:`~airwarn.contracts.RecordError` (line number and
field) and skipped; nothing already accepted is lost. A repeated report ``id`` is
ignored (ids are remembered for the lateness window, :class:`RecentKeys`, so the memory
stays bounded in a service that runs for months). Reports up to ``MAX_LATENESS_S`` older
than the arrival clock (the newest ``t`` seen so far) are accepted; older ones are counted
as too late.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from airwarn.contracts import (
    CLS_CODE,
    HEARTBEAT_PERIOD_S,
    MAX_LATENESS_S,
    SENSOR_KIND_CODE,
    UNKNOWN_CLS,
    UNREGISTERED,
    Detection,
    DetectionBatch,
    Heartbeat,
    RecordError,
    Sensor,
    SensorHealth,
    parse_report,
    sensor_kind_code,
)
from airwarn.geo import LocalFrame
from airwarn.ingest.ahead import AHEAD_CONFIRM, AHEAD_LEAD_S, AheadBuffer
from airwarn.ingest.recent import RecentKeys

__all__ = [
    "AHEAD_CONFIRM",
    "AHEAD_LEAD_S",
    "AheadBuffer",
    "BEYOND_RANGE",
    "IngestStats",
    "Ingestor",
    "RecentKeys",
    "SensorRegistry",
    "iter_report_lines",
    "to_batch",
    "unregistered_code",
]


class SensorRegistry:
    """The registered sensors, indexed, with positions in the local frame."""

    def __init__(self, sensors: Sequence[Sensor], frame: LocalFrame):
        self.sensors = list(sensors)
        self.frame = frame
        self.index: dict[str, int] = {s.id: i for i, s in enumerate(self.sensors)}
        lat = np.array([s.lat for s in self.sensors], float)
        lon = np.array([s.lon for s in self.sensors], float)
        self.x, self.y = frame.to_local(lat, lon) if len(lat) else (np.zeros(0), np.zeros(0))
        self.range_m = np.array([s.range_m for s in self.sensors], float)
        self.alt_m = np.array([np.nan if s.alt_m is None else s.alt_m for s in self.sensors], float)
        self.kind = np.array(
            [sensor_kind_code(s.kind) for s in self.sensors],
            np.int64,
        )

    def code(self, sensor_id: str) -> int:
        """Batch code of a sensor id: its registry index, or for an unregistered id (a phone
        observer) :func:`unregistered_code`, so that fusion tells one person reporting twice
        from two people."""
        i = self.index.get(sensor_id)
        return unregistered_code(sensor_id) if i is None else i

    def __len__(self) -> int:
        return len(self.sensors)


@lru_cache(maxsize=65536)
def unregistered_code(sensor_id: str) -> int:
    """Stable negative batch code of an unregistered sensor id: ``UNREGISTERED`` minus a
    56-bit hash of the id (BLAKE2b), the same in every process and registry and needing no
    table that grows with the number of phones (two ids share a code with odds ~1e-17)."""
    h = hashlib.blake2b(sensor_id.encode("utf-8"), digest_size=7).digest()
    return UNREGISTERED - int.from_bytes(h, "big")


HEARTBEAT_GAPS = 4
"""Gaps between a sensor's heartbeats remembered to learn their period."""
MAX_HEARTBEAT_PERIOD_S = 3600.0
"""The longest heartbeat period learned: a sensor silent for more than an hour (and 90 s)
after its last sign of life is taken for dead whatever its period."""


BEYOND_RANGE = 2.0
"""A registered sensor's report farther than this many times its ``range_m`` (plus 3 sigma)
from it is counted in ``IngestStats.beyond_range``."""


LATENESS_MEMORY = 1000
"""Reports whose lateness (behind the arrival clock when admitted) ``Ingestor.lateness``
reads."""


PRECISE_SIGMA_M = 20.0
"""A report's 1-sigma position error below this is finer than any air-surveillance sensor
of the contract's kinds gives (counted in ``IngestStats.precise``)."""


@dataclass
class IngestStats:
    """Counts of what happened to the input lines."""

    lines: int = 0
    reports: int = 0
    heartbeats: int = 0
    errors: int = 0
    duplicates: int = 0
    too_late: int = 0
    out_of_order: int = 0
    unregistered: int = 0
    # reports whose sigma_m is below PRECISE_SIGMA_M: a few are plausible, most of a feed
    # means kilometres were written as metres
    precise: int = 0
    # registered sensors' reports farther than BEYOND_RANGE x their range from them: a few
    # are plausible, most of a feed means lat and lon were swapped in detections.jsonl
    beyond_range: int = 0
    # records that ran more than AHEAD_LEAD_S ahead of the arrival clock and that the lines
    # after them never confirmed (a sensor's clock set wrong): refused, with their sensors
    # (the first 20) and how far ahead each was at its first such record
    ahead: int = 0
    ahead_sensors: dict[str, float | None] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "error_samples"}
        d["error_samples"] = self.error_samples[:20]
        return d


class Ingestor:
    """Validates arriving records, de-duplicates them and tracks the arrival clock.

    Accepted detections are buffered until :meth:`drain` hands them to fusion as a
    :class:`DetectionBatch`; heartbeats update sensor health.
    """

    def __init__(
        self,
        registry: SensorRegistry,
        *,
        max_lateness_s: float = MAX_LATENESS_S,
        keep_errors: int = 1000,
        assume_up: bool = True,
    ):
        self.registry = registry
        self.assume_up = assume_up
        self.max_lateness_s = max_lateness_s
        self.keep_errors = keep_errors
        self.stats = IngestStats()
        self.errors: list[RecordError] = []
        self.clock = -np.inf
        self._late_ring = np.zeros(LATENESS_MEMORY)  # lateness of the last reports (s)
        self._late_n = 0
        self._seen: RecentKeys[str] = RecentKeys(max_lateness_s)
        self._pending: list[Detection] = []
        self._arrival = 0
        self._pending_arrival: list[int] = []
        self.last_seen = np.full(len(registry), -np.inf)
        self.sent_heartbeat = np.zeros(len(registry), bool)
        # the last HEARTBEAT_GAPS gaps between each sensor's consecutive heartbeats
        self._hb_prev = np.full(len(registry), -np.inf)
        self._hb_gaps = np.full((len(registry), HEARTBEAT_GAPS), np.inf)
        self._hb_n = np.zeros(len(registry), np.int64)

    # -- per record -------------------------------------------------------
    def _error(self, err: RecordError) -> None:
        self.stats.errors += 1
        if len(self.errors) < self.keep_errors:
            self.errors.append(err)
        if len(self.stats.error_samples) < 20:
            self.stats.error_samples.append(str(err))

    def accept_line(self, text: str, line: int, src: str = "detections.jsonl"):
        """Decode and accept one raw line; return the record, or None if skipped."""
        s = text.strip()
        if not s:
            return None
        self.stats.lines += 1
        try:
            obj = json.loads(s)
        except json.JSONDecodeError as exc:
            self._error(RecordError(src, line, None, f"not valid JSON ({exc.msg})"))
            return None
        return self.accept(obj, line, src, counted=True)

    def accept(self, obj, line: int | None = None, src: str = "detections.jsonl", *, counted=False):
        """Validate and admit one decoded object; return the accepted record or None."""
        rec = self.check(obj, line, src, counted=counted)
        return None if rec is None else self.admit(rec)

    def check(self, obj, line: int | None = None, src: str = "detections.jsonl", *, counted=False):
        """Validate one decoded object (counting it); return the record, or None on error."""
        if not counted:
            self.stats.lines += 1
        try:
            return parse_report(obj, src, line)
        except RecordError as err:
            self._error(err)
            return None

    def admit(self, rec: Detection | Heartbeat):
        """Admit a validated record: drop it if too late or a duplicate, else buffer it."""
        if rec.t < self.clock - self.max_lateness_s:
            self.stats.too_late += 1
            return None
        if rec.t < self.clock:
            self.stats.out_of_order += 1
        si = self.registry.index.get(rec.sensor, -1)
        if isinstance(rec, Heartbeat):
            self.stats.heartbeats += 1
            if si >= 0:
                self.last_seen[si] = max(self.last_seen[si], rec.t)
                self.sent_heartbeat[si] = True
                prev = self._hb_prev[si]
                if rec.t > prev:
                    if prev > -np.inf:
                        self._hb_gaps[si, self._hb_n[si] % HEARTBEAT_GAPS] = rec.t - prev
                        self._hb_n[si] += 1
                    self._hb_prev[si] = rec.t
            self.clock = max(self.clock, rec.t)
            return rec
        if rec.id in self._seen:
            self.stats.duplicates += 1
            return None
        self._seen.add(rec.id, rec.t)
        self.stats.reports += 1
        self.stats.precise += rec.sigma_m < PRECISE_SIGMA_M
        if np.isfinite(self.clock):
            self._late_ring[self._late_n % LATENESS_MEMORY] = max(self.clock - rec.t, 0.0)
            self._late_n += 1
        if si >= 0:
            self.last_seen[si] = max(self.last_seen[si], rec.t)
        else:
            self.stats.unregistered += 1
        self.clock = max(self.clock, rec.t)
        self._pending.append(rec)
        self._pending_arrival.append(self._arrival)
        self._arrival += 1
        return rec

    def lateness(self, q: float) -> float:
        """The ``q`` quantile of how far behind the arrival clock (s) the last
        ``LATENESS_MEMORY`` reports were admitted (0 before any)."""
        n = min(self._late_n, LATENESS_MEMORY)
        return float(np.quantile(self._late_ring[:n], q)) if n else 0.0

    def refuse_ahead(
        self, records: Sequence[Detection | Heartbeat], ahead_by: dict[str, float]
    ) -> None:
        """Count records held for running ahead of the arrival clock that the lines after them
        never confirmed (:class:`AheadBuffer`), naming their sensors and how far ahead of the
        clock (s) each ran when it was first held (``ahead_by``)."""
        self.stats.ahead += len(records)
        for rec in records:
            if len(self.stats.ahead_sensors) >= 20:
                break
            lead = ahead_by.get(rec.sensor)
            self.stats.ahead_sensors.setdefault(
                rec.sensor, None if lead is None else round(lead, 1)
            )

    # -- hand-offs ----------------------------------------------------------
    def drain(self) -> DetectionBatch:
        """Accepted detections since the last drain, as a batch in the local frame."""
        batch = to_batch(self._pending, self.registry, arrival=self._pending_arrival)
        self._pending = []
        self._pending_arrival = []
        reg = batch.sensor >= 0
        if reg.any():
            # a registered sensor's report far beyond its range: lat and lon swapped, or the
            # range written in the wrong unit (counted; most of a feed is warned of)
            i = batch.sensor[reg]
            d = np.hypot(batch.x[reg] - self.registry.x[i], batch.y[reg] - self.registry.y[i])
            far = d > BEYOND_RANGE * self.registry.range_m[i] + 3.0 * batch.sigma[reg]
            self.stats.beyond_range += int(far.sum())
        return batch

    def heartbeat_period(self) -> np.ndarray:
        """Per registered sensor, the period its heartbeats come at (s): the shortest of its
        last HEARTBEAT_GAPS gaps (a lost heartbeat or an outage lengthens one gap, not all);
        for a sensor not yet measured, the median of its kind's; never below
        HEARTBEAT_PERIOD_S (the contract's minute), at most MAX_HEARTBEAT_PERIOD_S."""
        own = self._hb_gaps.min(axis=1)  # inf: fewer than two heartbeats yet
        per = own.copy()
        kind = self.registry.kind
        for k in np.unique(kind[np.isfinite(own)]):
            m = kind == k
            per[m & ~np.isfinite(own)] = np.median(own[m & np.isfinite(own)])
        per = np.where(np.isfinite(per), per, HEARTBEAT_PERIOD_S)
        return np.clip(per, HEARTBEAT_PERIOD_S, MAX_HEARTBEAT_PERIOD_S)

    def liveness(self, t: float) -> np.ndarray:
        """Per registered sensor, the latest time it was known up, on the contract's clock of
        one heartbeat a minute, as fusion and :meth:`health` read it: its latest heartbeat or
        report, moved on by its heartbeat period less a minute (a sensor that beats every 5
        minutes is known up 4 minutes longer after each beat than one that beats every
        minute), never past ``t``; with ``assume_up``, ``t`` itself for sensors of a kind
        none of which has sent a heartbeat."""
        seen = np.minimum(self.last_seen + (self.heartbeat_period() - HEARTBEAT_PERIOD_S), t)
        if self.assume_up:
            r = self.registry
            seen[~np.isin(r.kind, np.unique(r.kind[self.sent_heartbeat]))] = t
        return seen

    def health(
        self,
        t: float,
        *,
        silent_after_s: float = 2.5 * HEARTBEAT_PERIOD_S,
        liveness: np.ndarray | None = None,
    ) -> SensorHealth:
        """Sensor liveness at ``t``: alive if heard from within ``silent_after_s``; monitored
        (its silence is evidence of failure) if it has sent a heartbeat, or was never heard
        while sensors of its kind send heartbeats. A feed without heartbeats monitors none:
        a post that hears nothing is not a dead one. With ``assume_up`` the sensors of a kind
        none of which has sent a heartbeat (every sensor, in a feed that has none) are taken
        as up, as a registry without health reports is read: their silence is evidence that
        nothing is near them, and none is ever taken for dead. ``liveness``: the
        :meth:`liveness` at ``t`` when the caller has it already (no record admitted since)."""
        r = self.registry
        kinds = np.unique(r.kind[self.sent_heartbeat])
        never = ~np.isfinite(self.last_seen)
        seen = self.liveness(t) if liveness is None else liveness
        alive = (t - seen) <= silent_after_s
        return SensorHealth(
            t=t,
            x=r.x,
            y=r.y,
            range_m=r.range_m,
            kind=r.kind,
            last_seen=self.last_seen.copy(),
            alive=alive,
            monitored=self.sent_heartbeat | (never & np.isin(r.kind, kinds)),
            alt_m=r.alt_m,
        )


def to_batch(
    reports: Sequence[Detection],
    registry: SensorRegistry,
    *,
    arrival: Sequence[int] | None = None,
) -> DetectionBatch:
    """Columns of detections in the registry's local frame (NaN for absent optional fields)."""
    n = len(reports)
    frame = registry.frame
    nan = np.nan

    def col(name: str) -> np.ndarray:
        return np.array(
            [getattr(d, name) if getattr(d, name) is not None else nan for d in reports], float
        )

    t = np.array([d.t for d in reports], float)
    lat = np.array([d.lat for d in reports], float)
    lon = np.array([d.lon for d in reports], float)
    sensor = np.array([registry.code(d.sensor) for d in reports], np.int64)
    kind = np.where(
        sensor >= 0,
        registry.kind[np.maximum(sensor, 0)] if n and len(registry) else 0,
        SENSOR_KIND_CODE["observer"],
    )
    kind = np.asarray(kind, np.int64).reshape(n)
    if n:
        x, y = frame.to_local(lat, lon)
        ve, vn = col("vel_e"), col("vel_n")
        has_v = np.isfinite(ve) & np.isfinite(vn)
        vx = np.full(n, nan)
        vy = np.full(n, nan)
        if has_v.any():
            vx[has_v], vy[has_v] = frame.vel_to_local(lat[has_v], lon[has_v], ve[has_v], vn[has_v])
    else:
        x = y = vx = vy = np.zeros(0)
    return DetectionBatch(
        t=t,
        sensor=sensor,
        sensor_kind=kind,
        x=np.asarray(x, float),
        y=np.asarray(y, float),
        z=col("alt_m"),
        sigma=np.array([d.sigma_m for d in reports], float),
        sigma_z=col("sigma_alt_m"),
        vx=vx,
        vy=vy,
        vz=col("vel_u"),
        cls=np.array([CLS_CODE[d.cls] if d.cls else UNKNOWN_CLS for d in reports], np.int64),
        arrival=np.asarray(arrival if arrival is not None else np.arange(n), np.int64),
        ids=[d.id for d in reports],
    )


def iter_report_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, raw text) of a detections file, in arrival (file) order."""
    with open(path, encoding="utf-8-sig") as fh:
        yield from enumerate(fh, 1)
