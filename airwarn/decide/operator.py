"""Operator control of the alert policy: manual alert, extend and cancel, with an audit log.

An :class:`OperatorAction` names zones and/or whole regions, who acts, when and why.
:meth:`airwarn.decide.Decider.operator` applies it; every applied action is first
written to the :class:`AuditLog` (JSON lines, opened in append mode, fsync'd), so an
action that could not be recorded is not applied.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, RecordError

OPERATOR_ACTIONS: tuple[str, ...] = ("alert", "extend", "cancel")
"""``alert``: put zones under alert until ``t + duration_s``; ``extend``: keep zones that
are under alert alerted until at least ``t + duration_s`` (others are left as they are);
``cancel``: clear zones now and
suppress automatic re-alerts for them (see ``cancel_suppress_s`` in policy.toml)."""


def _str_list(o: dict, key: str, src: str) -> tuple[str, ...]:
    v = o.get(key)
    if v is None:
        return ()
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) and x for x in v):
        raise RecordError(src, None, key, f"must be a list of non-empty strings, got {v!r}")
    return tuple(v)


@dataclass(frozen=True, slots=True)
class OperatorAction:
    """One operator action on zones and/or regions (ids as in zones.geojson)."""

    action: str
    who: str
    why: str
    t: float
    zones: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    duration_s: float | None = None
    cls: str | None = None

    def __post_init__(self) -> None:
        src = "operator action"
        if self.action not in OPERATOR_ACTIONS:
            raise RecordError(
                src, None, "action", f"must be one of {list(OPERATOR_ACTIONS)}, got {self.action!r}"
            )
        for k in ("who", "why"):
            v = getattr(self, k)
            if not isinstance(v, str) or not v.strip():
                raise RecordError(src, None, k, f"must be a non-empty string, got {v!r}")
        if isinstance(self.t, bool) or not isinstance(self.t, int | float) or self.t != self.t:
            raise RecordError(src, None, "t", f"must be a number (epoch seconds), got {self.t!r}")
        if not self.zones and not self.regions:
            raise RecordError(src, None, "zones", "name at least one zone or region")
        if self.duration_s is not None and (
            isinstance(self.duration_s, bool)
            or not isinstance(self.duration_s, int | float)
            or not 0 < self.duration_s <= 86_400
        ):
            raise RecordError(
                src, None, "duration_s", f"must be in (0, 86400] seconds, got {self.duration_s!r}"
            )
        if self.cls is not None and self.cls not in CLS_CODE:
            raise RecordError(
                src, None, "cls", f"must be one of {list(THREAT_CLASSES)}, got {self.cls!r}"
            )

    @classmethod
    def parse(cls, obj: Any, src: str = "operator action") -> OperatorAction:
        """Validate a decoded JSON object (e.g. from the live service) into an action."""
        if not isinstance(obj, dict):
            raise RecordError(src, None, None, f"must be a JSON object, got {type(obj).__name__}")
        known = {"action", "who", "why", "t", "zones", "regions", "duration_s", "cls"}
        extra = sorted(set(obj) - known)
        if extra:
            raise RecordError(src, None, extra[0], f"unknown field; known: {sorted(known)}")
        for k in ("action", "who", "why", "t"):
            if k not in obj:
                raise RecordError(src, None, k, "is required")
        return cls(
            action=obj["action"],
            who=obj["who"],
            why=obj["why"],
            t=float(obj["t"]) if isinstance(obj["t"], int) else obj["t"],
            zones=_str_list(obj, "zones", src),
            regions=_str_list(obj, "regions", src),
            duration_s=obj.get("duration_s"),
            cls=obj.get("cls"),
        )

    def to_json(self) -> dict:
        d: dict[str, Any] = {
            "action": self.action,
            "who": self.who,
            "why": self.why,
            "t": self.t,
            "zones": list(self.zones),
            "regions": list(self.regions),
        }
        if self.duration_s is not None:
            d["duration_s"] = self.duration_s
        if self.cls is not None:
            d["cls"] = self.cls
        return d


class AuditLog:
    """Append-only audit log of operator actions: one JSON object a line, fsync'd per record.

    The file is only ever opened in append mode; records carry a sequence number that
    continues across restarts.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.seq = sum(1 for _ in self.records(self.path)) if self.path.exists() else 0
        self._fh = open(self.path, "a", encoding="utf-8")

    def append(self, record: dict) -> dict:
        """Write one record durably (flush + fsync); return it with its ``seq`` and ``logged_at``."""
        rec = {"seq": self.seq + 1, "logged_at": round(time.time(), 3), **record}
        self._fh.write(json.dumps(rec, separators=(",", ":"), allow_nan=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.seq += 1
        return rec

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def records(path: str | Path) -> Iterator[dict]:
        """Read back the records of an audit log file, in order."""
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)


class MemoryAuditLog:
    """In-memory audit log used when no file is given (replays, tests)."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.seq = 0

    def append(self, record: dict) -> dict:
        rec = {"seq": self.seq + 1, "logged_at": round(time.time(), 3), **record}
        self.items.append(rec)
        self.seq += 1
        return rec

    def close(self) -> None:
        pass
