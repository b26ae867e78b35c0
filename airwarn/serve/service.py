"""The live service core: one pipeline on the wall clock, made durable by the event log.

:class:`Service` owns the pipeline (``Pipeline(sensors, zones, policy)`` by default),
the SQLite :class:`~airwarn.serve.store.EventLog`, the published zone states and the
event bus. Every accepted report is in the log before its HTTP/MQTT reply; every tick
that ran and every alert change it published are logged in one transaction. On start
the log is replayed into a fresh pipeline (deterministic), so a restart — even after
``kill -9`` — loses no accepted report and neither repeats nor forgets an alert.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from airwarn.contracts import (
    THREAT_CLASSES,
    AlertChange,
    Detection,
    Heartbeat,
    RecordError,
    Sensor,
    parse_report,
    track_label,
)
from airwarn.decide.policy import Policy
from airwarn.ingest import AHEAD_LEAD_S, RecentKeys
from airwarn.serve.auth import Principal, TokenStore
from airwarn.serve.bus import Bus
from airwarn.serve.store import EventLog
from airwarn.zones.zoneset import ZoneSet

log = logging.getLogger("airwarn.serve")

PipelineFactory = Callable[[Sequence[Sensor], ZoneSet, Policy], Any]

ACTIVE_STATES = ("pre_alert", "alert")
MAX_BATCH = 100_000
PUBLISHED_MEMORY_S = 86400.0  # how long a published change's key is remembered


def default_pipeline(sensors: Sequence[Sensor], zones: ZoneSet, policy: Policy):
    """The same pipeline as ``airwarn replay``."""
    from airwarn.pipeline import Pipeline

    return Pipeline(sensors, zones, policy)


class Clock:
    """Service time: the wall clock, or a scenario clock running ``rate`` times faster."""

    def __init__(self, t0: float | None = None, rate: float = 1.0):
        self.rate = float(rate)
        self._wall0 = time.time()
        self._t0 = self._wall0 if t0 is None else float(t0)

    def __call__(self) -> float:
        return self._t0 + (time.time() - self._wall0) * self.rate

    def reset(self, t0: float) -> None:
        """Make the clock read ``t0`` now."""
        self._wall0 = time.time()
        self._t0 = float(t0)

    def wall_seconds(self, dt: float) -> float:
        """Wall seconds until ``dt`` seconds of service time have passed."""
        return max(0.0, dt / self.rate)


@dataclass
class ServeConfig:
    """Everything a service instance needs; tests build it in code."""

    data_dir: Path
    zones: ZoneSet
    sensors: list[Sensor]
    policy: Policy
    tokens: TokenStore
    pipeline_factory: PipelineFactory = default_pipeline
    clock: Clock = field(default_factory=Clock)
    autotick: bool = True  # background ticker on the service clock
    base_url: str = "http://127.0.0.1:8000"
    sender: str = "airwarn@localhost"
    cap: bool = True
    mqtt: Any = None  # airwarn.serve.mqtt.MqttConfig or None
    replay_dir: Path | None = None
    tracks_every_s: float | None = None
    webhook_retries: int = 6
    webhook_backoff_s: float = 1.0
    snapshot_every_s: float = 600.0  # pipeline snapshot period (service time); 0: never


@dataclass
class ZoneView:
    """The published state of one zone."""

    state: str = "clear"
    since: float | None = None
    cls: str | None = None
    eta_s: float | None = None
    arrival_t: float | None = None
    tracks: list[str] = field(default_factory=list)
    episode: int | None = None  # seq of the alert event that opened the episode
    last_seq: int | None = None
    cap_id: str | None = None
    cap_ids: list[str] = field(default_factory=list)
    top: str = "clear"  # highest state of the current episode


@dataclass
class IngestResult:
    """Per-record outcome of one batch."""

    accepted: list[dict] = field(default_factory=list)
    ignored: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    seq: int | None = None  # log sequence number of the last accepted record

    @property
    def status(self) -> int:
        """200 all good, 207 mixed, 403 all refused for auth, 422 all invalid, 400 empty."""
        if not self.rejected:
            return 200 if (self.accepted or self.ignored) else 400
        if self.accepted or self.ignored:
            return 207
        if all(r.get("status") == 403 for r in self.rejected):
            return 403
        return 422

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "n_accepted": len(self.accepted),
            "n_ignored": len(self.ignored),
            "n_rejected": len(self.rejected),
            "seq": self.seq,
            "accepted": self.accepted,
            "ignored": self.ignored,
            "rejected": self.rejected,
        }


def parse_ndjson(text: str) -> list[tuple[int, Any]]:
    """NDJSON body -> [(line number, decoded object or RecordError)] (blank lines skipped)."""
    out: list[tuple[int, Any]] = []
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s:
            continue
        try:
            out.append((i, json.loads(s)))
        except json.JSONDecodeError as exc:
            out.append((i, RecordError("batch", i, None, f"not valid JSON ({exc.msg})")))
    return out


class Service:
    """One deployment's live pipeline, its durable log and its published state."""

    def __init__(self, config: ServeConfig):
        self.config = config
        self.zones = config.zones
        self.policy = config.policy
        self.tick_s = float(config.policy.tick_s)
        self.tracks_every_s = float(config.tracks_every_s or config.policy.track_every_s)
        self.clock = config.clock
        self.data_dir = Path(config.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log = EventLog(self.data_dir / "airwarn.db")
        self.bus = Bus()
        self.lock = threading.RLock()
        self.pipe = config.pipeline_factory(config.sensors, config.zones, config.policy)
        self.zone_views: dict[str, ZoneView] = {}
        self.last_tick: float = -math.inf
        self.last_tracks = None
        self.last_tracks_t = -math.inf
        self.ingest_lock = threading.Lock()  # arrival side: front admission, log, queue
        self._queue: list[Detection | Heartbeat] = []  # logged, not yet handed to the pipeline
        self._front_clock = -math.inf
        self._front_seen: RecentKeys[str] = RecentKeys(self.pipe.ingestor.max_lateness_s)
        self._pending = 0  # reports admitted since the last tick
        self.replay_done = False
        self._last_tick_seq = 0
        # (t, zone, state) of the changes published, to skip those a restart derives again;
        # a day of them is kept (a restart re-derives only the changes after its snapshot)
        self._published: RecentKeys[tuple[float, str, str]] = RecentKeys(PUBLISHED_MEMORY_S)
        self.stats: dict[str, Any] = {
            "reports_accepted": 0,
            "reports_rejected": 0,
            "ticks": 0,
            "alert_changes": 0,
            "recovered_events": 0,
            "recovery_mismatches": 0,
            "tick_seconds_last": 0.0,
            "tick_seconds_max": 0.0,
            "duplicate": 0,
            "too_late": 0,
        }
        self.cap = None
        if config.cap:
            from airwarn.serve.capfeed import CapStore

            self.cap = CapStore(self.log, self.zones, config.base_url, config.sender)
        self._last_change_wall = time.time()
        from airwarn.serve.webhooks import Webhooks

        self.webhooks = Webhooks(self.log, config.webhook_retries, config.webhook_backoff_s)
        self._snap_t = -math.inf
        self._fp = self._fingerprint() if config.snapshot_every_s else ""
        self.listeners: list[Callable[[list[dict]], None]] = []
        self.recover()

    # ------------------------------------------------------------------ recovery
    def recover(self) -> None:
        """Replay the event log into the fresh pipeline; rebuild the published zone states.

        Alert changes re-derived from the last tick or operator action that are not in
        the log (a crash between deciding and logging) are published now.
        """
        # the pipeline's state of each zone: as published up to a restored snapshot, then
        # as re-derived from the events after it
        derived_last: dict[str, AlertChange] = {}
        start = self._restore_snapshot(derived_last)
        ing = self.pipe.ingestor
        n = 0
        derived: set[tuple[float, str, str]] = set()
        logged: set[tuple[float, str, str]] = set()
        last_group: list[AlertChange] = []
        last_t = None
        for ev in self.log.events(after=max(0, start - 1)):
            n += 1
            if ev.kind == "report":
                rec = parse_report(ev.body, "event log", ev.seq)
                self._front_admit(rec)
                ing.admit(rec)
                self._pending += 1
                self.stats["reports_accepted"] += 1
            elif ev.kind == "tick":
                out = self.pipe.tick(float(ev.t), final=bool(ev.body.get("final")))
                self.last_tick = float(ev.t)
                self.last_tracks = out.tracks
                self._pending = 0
                self._last_tick_seq = ev.seq
                last_group, last_t = list(out.changes), float(ev.t)
                derived |= {(round(c.t, 3), c.zone, c.state) for c in last_group}
                derived_last.update((c.zone, c) for c in last_group)
                self.stats["ticks"] += 1
            elif ev.kind == "operator":
                last_group = self._apply_operator(ev.body)
                last_t = float(ev.t) if ev.t is not None else last_t
                derived |= {(round(c.t, 3), c.zone, c.state) for c in last_group}
                derived_last.update((c.zone, c) for c in last_group)
            elif ev.kind == "alert":
                c = AlertChange.parse(ev.body["change"], "event log", ev.seq)
                self._apply_change(c, ev.seq, ev.body.get("cap_id"))
                key = (round(c.t, 3), c.zone, c.state)
                logged.add(key)
                self._published.add(key, key[0])
                self.stats["alert_changes"] += 1
                self._last_change_wall = ev.wall
        self.stats["reports_accepted"] = self.log.count("report")
        self.stats["alert_changes"] = self.log.count("alert")
        if not n:
            return
        missing = [c for c in last_group if (round(c.t, 3), c.zone, c.state) not in logged]
        self.stats["recovered_events"] = n
        self.stats["recovery_mismatches"] = len(logged ^ derived) - len(missing)
        if self.stats["recovery_mismatches"]:
            # e.g. the pipeline's code or policy changed since these alerts were published
            log.warning(
                "recovery: %d alert changes differ from re-derivation", len(logged ^ derived)
            )
        if self.cap is not None:
            self.cap.repair(self.log)
        self._reconcile(derived_last, missing, last_t if last_t is not None else self.last_tick)
        log.info("recovered %d events; last tick %s", n, self.last_tick)

    # ------------------------------------------------------------------ snapshots
    def _fingerprint(self) -> str:
        """What a snapshot is valid for: the pipeline's code, the policy, zones and sensors."""
        import hashlib

        import airwarn

        h = hashlib.sha256()
        root = Path(airwarn.__file__).parent
        files = ["pipeline.py", "contracts.py", "geo.py", "zones/zoneset.py"]
        for pkg in ("ingest", "fuse", "predict", "decide"):
            files += sorted(str(f.relative_to(root)) for f in (root / pkg).glob("*.py"))
        for f in files:
            if (root / f).is_file():
                h.update(f.encode() + (root / f).read_bytes())
        pol = self.policy
        h.update(
            json.dumps([pol.tick_s, pol.predict, pol.decide], sort_keys=True, default=str).encode()
        )
        h.update("\n".join(self.zones.ids).encode())
        h.update("\n".join(s.id for s in self.config.sensors).encode())
        h.update(f"{type(self.pipe).__module__}.{type(self.pipe).__qualname__}".encode())
        return h.hexdigest()

    @property
    def _snapshot_path(self) -> Path:
        return self.data_dir / "pipeline.snapshot"

    def _snapshot_due(self, t: float) -> bool:
        every = float(self.config.snapshot_every_s or 0)
        return every > 0 and t >= self._snap_t + every

    def _write_snapshot(self, t: float, seq: int) -> None:
        """Save the pipeline as it is at tick marker ``seq`` (before that tick runs)."""
        import os
        import pickle

        try:
            blob = pickle.dumps(
                {"fingerprint": self._fp, "seq": seq, "t": t, "pipe": self.pipe},
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        except Exception:  # a pipeline that cannot be pickled: restarts replay the whole log
            log.exception("pipeline snapshot failed; restarts will replay the whole log")
            self.config.snapshot_every_s = 0
            return
        tmp = self._snapshot_path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(blob)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self._snapshot_path)
        self._snap_t = t
        self.stats["snapshot_seq"] = seq
        self.stats["snapshot_bytes"] = len(blob)

    def _restore_snapshot(self, states: dict[str, AlertChange]) -> int:
        """Load a valid snapshot; return the seq of the tick marker to resume at (0: none).

        ``states`` receives each zone's last published change before the snapshot.
        """
        import pickle

        p = self._snapshot_path
        if not self.config.snapshot_every_s or not p.is_file():
            return 0
        try:
            snap = pickle.loads(p.read_bytes())
            ok = snap.get("fingerprint") == self._fp and snap["seq"] <= self.log.last_seq()
        except Exception:
            log.exception("unreadable snapshot %s; replaying the whole log", p)
            return 0
        if not ok:
            log.warning("snapshot %s is for other code, policy or zones; replaying the log", p)
            return 0
        seq = int(snap["seq"])
        self.pipe = snap["pipe"]
        ing = self.pipe.ingestor
        self._front_seen = ing._seen.copy()  # the report ids the ingestor admitted lately
        self._front_clock = float(ing.clock)
        self._snap_t = float(snap["t"])
        # published states up to the snapshot come from the log alone
        for ev in self.log.events(kinds=["alert"], until=seq - 1):
            c = AlertChange.parse(ev.body["change"], "event log", ev.seq)
            self._apply_change(c, ev.seq, ev.body.get("cap_id"))
            self._published.add((round(c.t, 3), c.zone, c.state), c.t)
            self._last_change_wall = ev.wall
            states[c.zone] = c
        self.stats["restored_snapshot_seq"] = seq
        log.info("restored the pipeline snapshot at log seq %d", seq)
        return seq

    def _reconcile(
        self, derived_last: dict[str, AlertChange], missing: list[AlertChange], t_fix: float
    ) -> None:
        """Publish what the re-derived pipeline decided but the log lacks.

        A crash between deciding and logging, or a pipeline whose code or policy changed,
        leaves published states that differ from the pipeline's; converging them means no
        zone stays alerted without an all-clear and no decided alert goes unpublished.
        """
        active = {z for z, v in self.zone_views.items() if v.state != "clear"}
        fix: list[AlertChange] = []
        for z in sorted(set(derived_last) | active):
            want = derived_last.get(z)
            want_state = want.state if want is not None else "clear"
            have = self.zone_views.get(z)
            if (have.state if have is not None else "clear") == want_state:
                continue
            if want is not None and want in missing:
                fix.append(want)
            elif want is None or want.state == "clear":
                fix.append(AlertChange(t_fix, z, "clear"))
            else:
                eta = None if want.eta_s is None else max(0.0, want.eta_s - (t_fix - want.t))
                fix.append(AlertChange(t_fix, z, want.state, want.cls, eta, want.tracks))
        self.stats["recovered_unpublished"] = len(fix)
        if fix:
            with self.lock:
                events = self._publish_changes(t_fix, fix, tick=False)
            self._broadcast(events, t_fix)

    def _front_admit(self, rec: Detection | Heartbeat) -> str | None:
        """The ingestor's admission rule, applied on arrival: None, "too_late" or "duplicate"."""
        if rec.t < self._front_clock - self.pipe.ingestor.max_lateness_s:
            return "too_late"
        if isinstance(rec, Detection):
            if rec.id in self._front_seen:
                return "duplicate"
            self._front_seen.add(rec.id, rec.t)
        self._front_clock = max(self._front_clock, rec.t)
        return None

    # ------------------------------------------------------------------ ingest
    def ingest(
        self, items: Iterable[tuple[int, Any]], principal: Principal, src: str = "batch"
    ) -> IngestResult:
        """Validate, authorise, de-duplicate and durably log a batch of decoded records."""
        res = IngestResult()
        # where the service clock drives the ticks (not a caller ticking by hand), a record
        # far ahead of it comes from a sender whose clock is set wrong
        cfg = self.config
        now = self.clock() if cfg.autotick or cfg.replay_dir is not None else math.inf
        good: list[tuple[int, Detection | Heartbeat]] = []
        for idx, obj in items:
            if isinstance(obj, RecordError):
                res.rejected.append(self._rej(obj, 422))
                continue
            try:
                rec = parse_report(obj, src, idx)
            except RecordError as err:
                res.rejected.append(self._rej(err, 422))
                continue
            if rec.t > now + AHEAD_LEAD_S:
                # it would move the arrival clock ahead and make every other sensor's
                # reports too late
                err = RecordError(
                    src,
                    idx,
                    "t",
                    f"is {rec.t - now:,.0f} s ahead of the service clock ({now:.0f}, UTC "
                    "seconds): is the sender's clock set wrong (local time written as UTC)?",
                )
                res.rejected.append(self._rej(err, 422))
                continue
            if not principal.may_report(rec.sensor):
                err = RecordError(
                    src,
                    idx,
                    "sensor",
                    f"token {principal.name!r} may not report for {rec.sensor!r}",
                )
                res.rejected.append(self._rej(err, 403))
                continue
            good.append((idx, rec))
        self.stats["reports_rejected"] += len(res.rejected)
        if not good:
            return res
        with self.ingest_lock:
            admitted: list[tuple[int, Detection | Heartbeat]] = []
            for idx, rec in good:
                why = self._front_admit(rec)
                if why is not None:
                    self.stats[why] += 1
                    res.ignored.append({"line": idx, "id": getattr(rec, "id", None), "reason": why})
                else:
                    admitted.append((idx, rec))
            if admitted:
                res.seq = self.log.append(("report", r.t, r.to_json()) for _, r in admitted)[-1]
                self._queue.extend(r for _, r in admitted)
                self._pending += len(admitted)
                self.stats["reports_accepted"] += len(admitted)
        for idx, rec in admitted:
            res.accepted.append({"line": idx, "id": getattr(rec, "id", None)})
        return res

    @staticmethod
    def _rej(err: RecordError, status: int) -> dict:
        return {
            "line": err.line,
            "field": err.field,
            "error": str(err),
            "status": status,
        }

    # ------------------------------------------------------------------ ticking
    def tick(self, t: float, *, force: bool = False, final: bool = False) -> list[dict]:
        """Run one decision tick at ``t`` (skipped while idle with nothing new); return events.

        ``final`` marks ticks after a played scenario ended (silence is not sensor failure).
        """
        with self.lock:
            with self.ingest_lock:
                if t <= self.last_tick:
                    return []
                if not force and self._pending == 0 and self._idle():
                    return []
                queue, self._queue = self._queue, []
                self._pending = 0
                ing = self.pipe.ingestor
                for rec in queue:  # same order and rule as on arrival: all are admitted
                    ing.admit(rec)
                # the tick marker: every report logged before it is used by this tick
                self._last_tick_seq = self.log.append(
                    [("tick", t, {"final": True} if final else {})]
                )[0]
                self.last_tick = t
            if self._snapshot_due(t):
                self._write_snapshot(t, self._last_tick_seq)
            c0 = time.perf_counter()
            out = self.pipe.tick(t, final=final) if final else self.pipe.tick(t)
            dt = time.perf_counter() - c0
            self.last_tracks = out.tracks
            self.stats["ticks"] += 1
            self.stats["tick_seconds_last"] = dt
            self.stats["tick_seconds_max"] = max(self.stats["tick_seconds_max"], dt)
            events = self._publish_changes(t, list(out.changes), tick=False)
            self._snapshot_tracks(t)
            self.stats["publish_seconds_last"] = time.perf_counter() - c0 - dt
        self._broadcast(events, t)
        return events

    def _idle(self) -> bool:
        tr = self.last_tracks
        if tr is None:
            return not self.zone_views or all(v.state == "clear" for v in self.zone_views.values())
        try:
            return bool(self.pipe.idle(tr))
        except Exception:  # a pipeline without idle(): always tick
            return False

    def _publish_changes(
        self, t: float, changes: list[AlertChange], *, tick: bool, final: bool = False
    ) -> list[dict]:
        """Log (with the tick) and apply alert changes; return the events to broadcast."""
        fresh = []
        for c in changes:
            key = (round(c.t, 3), c.zone, c.state)
            if key in self._published:  # already published before a restart
                continue
            fresh.append(c)
        rows: list[tuple[str, float | None, dict]] = []
        if tick:
            body: dict[str, Any] = {"n_changes": len(fresh)}
            if final:
                body["final"] = True
            rows.append(("tick", t, body))
        caps: list[str | None] = []
        for c in fresh:
            caps.append(self.cap.identifier(c) if self.cap is not None else None)
        for c, cid in zip(fresh, caps, strict=True):
            rows.append(("alert", c.t, {"change": c.to_json(), "cap_id": cid}))
        if not rows:
            return []
        seqs = self.log.append(rows)
        if tick:
            self._last_tick_seq = seqs[0]
        if fresh:
            self._last_change_wall = time.time()
        events = []
        cap_rows: list[tuple] = []
        for c, seq, cid in zip(fresh, seqs[1:] if tick else seqs, caps, strict=True):
            prev = self.zone_views.get(c.zone)
            prev_caps = list(prev.cap_ids) if prev is not None else []
            prev_state = prev.state if prev is not None else "clear"
            top = "alert" if c.state == "alert" else "pre_alert"
            if prev is not None and prev.state != "clear" and prev.top == "alert":
                top = "alert"
            self._apply_change(c, seq, cid)
            self._published.add((round(c.t, 3), c.zone, c.state), c.t)
            self.stats["alert_changes"] += 1
            msg_type = None
            if self.cap is not None and c.zone in self.zones.index:
                msg_type, row = self.cap.prepare(c, seq, cid, prev_state, prev_caps, top)
                cap_rows.append(row)
            events.append(self.alert_event(c, seq, cid, msg_type))
        if self.cap is not None:
            self.cap.store(cap_rows)  # one transaction; a crash before it is repaired on start
        return events

    def alert_event(
        self, c: AlertChange, seq: int, cap_id: str | None, msg_type: str | None = None
    ) -> dict:
        """The public JSON of one published alert change (SSE, WebSocket, webhooks)."""
        zi = self.zones.index.get(c.zone)
        ev = {"id": seq, "type": "alert", **c.to_json()}
        if zi is not None:
            ev["name"] = self.zones.names[zi]
            ev["region"] = self.zones.region_ids[int(self.zones.region[zi])]
            ev["shelter_s"] = float(self.zones.shelter_s[zi])
        if c.eta_s is not None:
            ev["arrival_t"] = round(c.t + float(c.eta_s), 3)
        if cap_id:
            ev["cap"] = cap_id
            ev["cap_url"] = f"{self.config.base_url}/cap/{cap_id}.xml"
        if msg_type:
            ev["msg_type"] = msg_type
        return ev

    def _apply_change(self, c: AlertChange, seq: int, cap_id: str | None) -> None:
        v = self.zone_views.get(c.zone)
        if v is None:
            v = self.zone_views[c.zone] = ZoneView()
        if c.state == "clear":
            self.zone_views[c.zone] = ZoneView(state="clear", since=c.t, last_seq=seq)
            return
        if v.state == "clear":
            v.episode = seq
            v.since = c.t
            v.cap_ids = []
            v.top = c.state
        elif c.state == "alert":
            v.top = "alert"
        elif v.state != c.state:
            v.since = c.t
        v.state = c.state
        v.cls = c.cls
        v.eta_s = c.eta_s
        v.arrival_t = None if c.eta_s is None else c.t + float(c.eta_s)
        v.tracks = list(c.tracks or [])
        v.last_seq = seq
        if cap_id:
            v.cap_id = cap_id
            v.cap_ids.append(cap_id)

    def last_change_wall(self) -> float:
        """Wall time of the newest published alert change (for Last-Modified)."""
        return self._last_change_wall

    def webhooks_register(self, url: str, secret: str) -> None:
        """Add (or re-key) a webhook receiving every alert change."""
        self.webhooks.register(url, secret)

    def webhooks_status(self) -> dict:
        """Registered webhook URLs and delivery counters."""
        return self.webhooks.status()

    def _broadcast(self, events: list[dict], t: float) -> None:
        if events:
            self.webhooks.enqueue([e for e in events if e.get("type") == "alert"])
            for fn in list(self.listeners):
                try:
                    fn(events)
                except Exception:  # a listener must never break the tick
                    log.exception("listener failed")
        tick_ev = {
            "type": "tick",
            "t": t,
            "n_changes": len(events),
            "log_seq": self._last_tick_seq,  # reports logged before this seq were used
            "compute_s": round(self.stats["tick_seconds_last"], 4),
            "publish_s": round(self.stats.get("publish_seconds_last", 0.0), 4),
        }
        if self.last_tracks is not None:
            tick_ev["n_tracks"] = len(self.last_tracks)
        self.bus.publish([*events, tick_ev])

    # ------------------------------------------------------------------ operators
    def operator(self, body: dict, principal: Principal) -> dict:
        """Apply a manual alert / extend / cancel; log it (who, when, why); return the record."""
        action = validate_operator(body, self.zones)
        t = self.clock()
        entry = {**action, "who": principal.name, "role": principal.role, "t": t}
        make_operator_action(entry)  # the decide stage's own validation, before logging
        with self.lock:
            seq = self.log.append([("operator", t, entry)])[0]
            changes = self._apply_operator(entry)
            events = []
            if changes:
                events = self._publish_changes(t, changes, tick=False)
        op_ev = {"id": seq, "type": "operator", **entry}
        self._broadcast([op_ev, *events], t)
        return {"seq": seq, **entry, "changes": [e for e in events if e["type"] == "alert"]}

    def _apply_operator(self, entry: dict) -> list[AlertChange]:
        """Hand an operator action to the decide stage; return its immediate changes."""
        dec = getattr(self.pipe, "decider", None)
        if dec is None or not hasattr(dec, "operator"):
            return []
        out = dec.operator(make_operator_action(entry))
        return [c for c in out or [] if isinstance(c, AlertChange)]

    def audit(self, limit: int = 1000) -> list[dict]:
        """Operator actions from the log, newest last."""
        rows = list(self.log.events(kinds=["operator"]))[-limit:]
        return [{"seq": e.seq, **e.body} for e in rows]

    # ------------------------------------------------------------------ views
    def zone_states(self, *, active_only: bool = True) -> list[dict]:
        """Published zone states (only pre_alert/alert zones unless ``active_only`` is False)."""
        out = []
        zs = self.zones
        if active_only:
            items = [(z, v) for z, v in self.zone_views.items() if v.state in ACTIVE_STATES]
        else:
            items = [(z, self.zone_views.get(z, ZoneView())) for z in zs.ids]
        for zid, v in items:
            zi = zs.index.get(zid)
            d = {
                "zone": zid,
                "state": v.state,
                "since": v.since,
                "cls": v.cls,
                "eta_s": v.eta_s,
                "arrival_t": v.arrival_t,
                "tracks": v.tracks,
                "cap": v.cap_id,
                "episode": v.episode,
                "updated_seq": v.last_seq,
            }
            if zi is not None:
                d["name"] = zs.names[zi]
                d["region"] = zs.region_ids[int(zs.region[zi])]
                d["shelter_s"] = float(zs.shelter_s[zi])
                d["population"] = int(zs.population[zi])
            out.append(d)
        return out

    def states_at(self, t: float) -> dict[str, dict]:
        """Zone states as published at time ``t`` (from the log), for the time scrubber."""
        st: dict[str, dict] = {}
        for ev in self.log.events(kinds=["alert"]):
            if ev.t is not None and ev.t > t:
                break
            c = ev.body["change"]
            if c["state"] == "clear":
                st.pop(c["zone"], None)
            else:
                st[c["zone"]] = c
        return st

    def time_range(self) -> tuple[float | None, float | None]:
        """First and last event times in the log."""
        rows = self.log.execute("SELECT MIN(t), MAX(t) FROM events WHERE t IS NOT NULL")
        return rows[0] if rows else (None, None)

    def tracks_json(self, t: float | None = None) -> dict:
        """Live tracks (or the snapshot at/before ``t``) as GeoJSON with predicted corridors."""
        if t is not None:
            rows = self.log.execute(
                "SELECT body FROM tracks WHERE t <= ? ORDER BY t DESC LIMIT 1", (float(t),)
            )
            return json.loads(rows[0][0]) if rows else _fc([])
        with self.lock:
            tr = self.last_tracks
        if tr is None:
            return _fc([])
        return tracks_geojson(tr, self.zones.frame)

    def _snapshot_tracks(self, t: float) -> None:
        if self.last_tracks is None or t < self.last_tracks_t + self.tracks_every_s:
            return
        self.last_tracks_t = t
        fc = tracks_geojson(self.last_tracks, self.zones.frame)
        self.log.execute(
            "INSERT OR REPLACE INTO tracks(t, body) VALUES (?, ?)",
            (t, json.dumps(fc, separators=(",", ":"))),
        )

    def status(self) -> dict:
        """Service health and counters."""
        ing = self.pipe.ingestor
        return {
            "now": self.clock(),
            "last_tick": self.last_tick if math.isfinite(self.last_tick) else None,
            "tick_s": self.tick_s,
            "zones": len(self.zones),
            "active_zones": sum(v.state in ACTIVE_STATES for v in self.zone_views.values()),
            "subscribers": len(self.bus),
            "subscribers_peak": self.bus.peak,
            "ingest": ing.stats.to_json(),
            "queued": len(self._queue),
            "log_seq": self.log.last_seq(),
            **self.stats,
        }

    def close(self) -> None:
        self.log.close()


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def tracks_geojson(tracks, frame, horizon_s: float = 900.0, steps: int = 10) -> dict:
    """Tracks as Point features plus a predicted-corridor Polygon per moving track.

    The corridor is a display aid (straight-line extrapolation widening with a ±10°
    heading spread and the track's own position error), vectorised over tracks.
    """
    n = len(tracks)
    if n == 0:
        return _fc([])
    x = np.asarray(tracks.x, float)
    P = np.asarray(tracks.P, float)
    lat, lon = frame.to_geo(x[:, 0], x[:, 1])
    ve, vn = frame.vel_to_geo(x[:, 0], x[:, 1], x[:, 3], x[:, 4])
    sig = np.sqrt(np.maximum(0.5 * (P[:, 0, 0] + P[:, 1, 1]), 0.0))
    speed = np.hypot(x[:, 3], x[:, 4])
    moving = speed > 5.0
    # horizon: up to 15 min or 300 km, whichever is first
    hz = np.minimum(horizon_s, 300_000.0 / np.maximum(speed, 1.0))
    k = np.linspace(0.0, 1.0, steps)
    dt = hz[:, None] * k[None, :]  # (n, K)
    ux = x[:, 3] / np.maximum(speed, 1e-9)
    uy = x[:, 4] / np.maximum(speed, 1e-9)
    cx = x[:, 0, None] + x[:, 3, None] * dt
    cy = x[:, 1, None] + x[:, 4, None] * dt
    half = sig[:, None] + np.tan(np.radians(10.0)) * speed[:, None] * dt + 500.0
    lx, ly = cx - uy[:, None] * half, cy + ux[:, None] * half
    rx, ry = cx + uy[:, None] * half, cy - ux[:, None] * half
    px = np.concatenate([lx, rx[:, ::-1], lx[:, :1]], axis=1)
    py = np.concatenate([ly, ry[:, ::-1], ly[:, :1]], axis=1)
    plat, plon = frame.to_geo(px.ravel(), py.ravel())
    plat = plat.reshape(px.shape)
    plon = plon.reshape(px.shape)
    feats: list[dict] = []
    for i in range(n):
        label = track_label(int(tracks.ids[i]))
        props = {
            "track": label,
            "cls": THREAT_CLASSES[int(tracks.cls[i])],
            "confirmed": bool(tracks.confirmed[i]),
            "speed": round(float(speed[i]), 1),
            "alt_m": round(float(x[i, 2]), 1),
            "vel_e": round(float(ve[i]), 2),
            "vel_n": round(float(vn[i]), 2),
            "sigma_m": round(float(sig[i]), 1),
            "t": float(tracks.t),
        }
        feats.append(
            {
                "type": "Feature",
                "properties": {**props, "kind": "track"},
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                },
            }
        )
        if moving[i]:
            ring = [
                [round(float(a), 5), round(float(b), 5)]
                for a, b in zip(plon[i], plat[i], strict=True)
            ]
            feats.append(
                {
                    "type": "Feature",
                    "properties": {**props, "kind": "corridor", "horizon_s": float(hz[i])},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
    return _fc(feats)


OPERATOR_ACTIONS = ("alert", "extend", "cancel")


def validate_operator(body: Any, zones: ZoneSet) -> dict:
    """Check an operator request (action, zones/regions, why, duration_s, cls); raise RecordError."""
    src = "operator action"
    if not isinstance(body, dict):
        raise RecordError(src, None, None, "must be a JSON object")
    known = {"action", "zones", "regions", "why", "reason", "duration_s", "cls"}
    extra = sorted(set(body) - known)
    if extra:
        raise RecordError(src, None, extra[0], f"unknown field; known: {sorted(known)}")
    act = body.get("action")
    if act not in OPERATOR_ACTIONS:
        raise RecordError(src, None, "action", f"must be one of {list(OPERATOR_ACTIONS)}")
    zl = body.get("zones") or []
    rl = body.get("regions") or []
    if not isinstance(zl, list) or not all(isinstance(z, str) for z in zl):
        raise RecordError(src, None, "zones", "must be a list of zone ids")
    if not isinstance(rl, list) or not all(isinstance(r, str) for r in rl):
        raise RecordError(src, None, "regions", "must be a list of region names")
    if not zl and not rl:
        raise RecordError(src, None, "zones", "give at least one zone or region")
    bad = [z for z in zl if z not in zones.index]
    if bad:
        raise RecordError(src, None, "zones", f"unknown zone ids {bad[:5]}")
    badr = [r for r in rl if r not in zones.region_ids]
    if badr:
        raise RecordError(src, None, "regions", f"unknown regions {badr[:5]}")
    why = body.get("why", body.get("reason"))
    if not isinstance(why, str) or not why.strip():
        raise RecordError(src, None, "why", "is required (why the action is taken)")
    out: dict[str, Any] = {"action": act, "zones": zl, "regions": rl, "why": why.strip()}
    dur = body.get("duration_s")
    if dur is not None:
        if isinstance(dur, bool) or not isinstance(dur, int | float) or not 0 < dur <= 86400:
            raise RecordError(src, None, "duration_s", "must be a number in (0, 86400]")
        out["duration_s"] = float(dur)
    elif act == "extend":
        raise RecordError(src, None, "duration_s", "is required for extend")
    cls = body.get("cls")
    if cls is not None:
        if cls not in THREAT_CLASSES:
            raise RecordError(src, None, "cls", f"must be one of {list(THREAT_CLASSES)}")
        out["cls"] = cls
    return out


def make_operator_action(entry: dict):
    """The decide stage's OperatorAction for a logged entry (the dict itself if there is none)."""
    try:
        from airwarn.decide.operator import OperatorAction
    except ImportError:
        return entry
    keys = ("action", "who", "why", "t", "zones", "regions", "duration_s", "cls")
    return OperatorAction.parse({k: entry[k] for k in keys if entry.get(k) is not None})
