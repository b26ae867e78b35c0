"""A tiny stand-in pipeline for service tests: a report inside a zone alerts that zone.

It has the interface the service uses (``ingestor``, ``tick``, ``idle``,
``decider.operator``) and is deterministic, so service behaviour (durability, outputs,
auth) is tested apart from the tracking and prediction stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from airwarn.contracts import AlertChange, TrackState
from airwarn.ingest import Ingestor, SensorRegistry

CLEAR_AFTER_S = 60.0


@dataclass
class FakeTick:
    t: float
    changes: list[AlertChange]
    tracks: TrackState


class FakeDecider:
    """Records operator actions; manual alerts/cancels apply at the next tick."""

    def __init__(self):
        self.actions: list = []

    def operator(self, action) -> None:
        self.actions.append(action)


class FakePipeline:
    """Alert every zone a report falls in; clear it CLEAR_AFTER_S after its last report."""

    def __init__(self, sensors, zones, policy):
        self.zones = zones
        self.frame = zones.frame
        self.policy = policy
        self.registry = SensorRegistry(sensors, self.frame)
        self.ingestor = Ingestor(self.registry)
        self.decider = FakeDecider()
        self.state: dict[str, str] = {}
        self.last_hit: dict[str, float] = {}
        self.manual_until: dict[str, float] = {}
        self._ops_done = 0
        self.ticks: list[float] = []

    def _zones_of(self, action) -> list[str]:
        get = action.get if isinstance(action, dict) else lambda k, d=None: getattr(action, k, d)
        out = list(get("zones") or [])
        for r in get("regions") or []:
            ri = self.zones.region_ids.index(r)
            out += [self.zones.ids[i] for i in np.flatnonzero(self.zones.region == ri)]
        return out

    def tick(self, t: float, *, final: bool = False) -> FakeTick:
        self.ticks.append(t)
        batch = self.ingestor.drain()
        changes: list[AlertChange] = []
        zi = self.zones.containing(batch.x, batch.y) if len(batch) else np.zeros(0, np.int64)
        hit = sorted({self.zones.ids[i] for i in zi if i >= 0})
        for z in hit:
            self.last_hit[z] = t
        for a in self.decider.actions[self._ops_done :]:
            get = a.get if isinstance(a, dict) else lambda k, d=None, a=a: getattr(a, k, d)
            for z in self._zones_of(a):
                if get("action") in ("alert", "extend"):
                    self.manual_until[z] = float(get("t")) + float(get("duration_s") or 1800.0)
                    self.last_hit[z] = t
                else:
                    self.manual_until.pop(z, None)
                    self.last_hit.pop(z, None)
        self._ops_done = len(self.decider.actions)
        for z in self.zones.ids:
            active = (z in self.last_hit and t - self.last_hit[z] < CLEAR_AFTER_S) or (
                self.manual_until.get(z, -1) > t
            )
            cur = self.state.get(z, "clear")
            if active and cur == "clear":
                self.state[z] = "alert"
                changes.append(AlertChange(t, z, "alert", "drone", 300.0, ("T000001",)))
            elif not active and cur != "clear":
                self.state[z] = "clear"
                changes.append(AlertChange(t, z, "clear"))
        tracks = TrackState.empty(t)
        if len(batch):
            n = 1
            tracks = TrackState(
                t=t,
                ids=np.array([1], np.int64),
                x=np.array([[batch.x[-1], batch.y[-1], 100.0, 40.0, 10.0, 0.0]]),
                P=np.eye(6)[None] * 250.0**2,
                cls=np.zeros(n, np.int64),
                cls_prob=np.eye(6)[:1],
                confirmed=np.ones(n, bool),
                last_update=np.full(n, t),
                n_updates=np.ones(n, np.int64),
            )
        return FakeTick(t, changes, tracks)

    def idle(self, tracks) -> bool:
        return len(tracks) == 0 and all(s == "clear" for s in self.state.values())
