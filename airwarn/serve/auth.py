"""Bearer-token principals: sensors may post reports (for their own sensor ids), operators act.

The tokens file is JSON::

    {"tokens": [
      {"token": "s3cr3t", "name": "radar-net-east", "role": "sensor", "sensors": ["R01", "R02"]},
      {"token": "0p3r", "name": "duty-officer-kyiv", "role": "operator"}
    ]}

``role`` is ``sensor`` (post reports; ``sensors`` lists the sensor ids it may speak
for, ``"*"`` for any), ``operator`` (manual alert, extend, cancel) or ``admin``
(operator rights plus webhook management). Reading alerts, CAP, streams and the map
needs no token.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from pathlib import Path

ROLES = ("sensor", "operator", "admin")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request speaks for."""

    name: str
    role: str
    sensors: frozenset[str] | None = None  # None: any sensor id

    def may_report(self, sensor_id: str) -> bool:
        """True if this principal may post reports for ``sensor_id``."""
        if self.role != "sensor":
            return False
        return self.sensors is None or sensor_id in self.sensors

    @property
    def is_operator(self) -> bool:
        return self.role in ("operator", "admin")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """Maps bearer tokens to principals (tokens are kept only as SHA-256 digests)."""

    def __init__(self, entries: list[dict] | None = None):
        self._by_digest: dict[str, Principal] = {}
        for i, e in enumerate(entries or [], 1):
            self.add(e, i)

    def add(self, e: dict, index: int | None = None) -> Principal:
        """Register one token entry; raise ValueError naming the entry and field."""
        where = f"tokens entry {index}" if index else "tokens entry"
        if not isinstance(e, dict):
            raise ValueError(f"{where}: must be an object")
        tok = e.get("token")
        if not isinstance(tok, str) or len(tok) < 8:
            raise ValueError(f"{where}: field 'token' must be a string of >= 8 characters")
        role = e.get("role")
        if role not in ROLES:
            raise ValueError(f"{where}: field 'role' must be one of {list(ROLES)}, got {role!r}")
        sens = e.get("sensors", "*")
        if sens == "*":
            sset = None
        elif isinstance(sens, list) and all(isinstance(s, str) for s in sens):
            sset = frozenset(sens)
        else:
            raise ValueError(f"{where}: field 'sensors' must be a list of sensor ids or '*'")
        p = Principal(name=str(e.get("name") or f"{role}-{index}"), role=role, sensors=sset)
        self._by_digest[_digest(tok)] = p
        return p

    def lookup(self, token: str | None) -> Principal | None:
        """The principal for a bearer token, or None."""
        if not token:
            return None
        return self._by_digest.get(_digest(token))

    def from_header(self, authorization: str | None) -> Principal | None:
        """The principal for an ``Authorization: Bearer <token>`` header, or None."""
        if not authorization:
            return None
        scheme, _, tok = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.lookup(tok.strip())

    def __len__(self) -> int:
        return len(self._by_digest)

    @classmethod
    def load(cls, path: str | Path) -> TokenStore:
        """Read a tokens JSON file (see module docstring)."""
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = doc.get("tokens") if isinstance(doc, dict) else doc
        if not isinstance(entries, list):
            raise ValueError(f"{path}: field 'tokens' must be a list")
        return cls(entries)

    @classmethod
    def create_default(cls, path: str | Path) -> tuple[TokenStore, list[dict]]:
        """Write a fresh tokens file (one sensor token for any sensor, one operator, one admin)."""
        entries = [
            {
                "token": secrets.token_urlsafe(24),
                "name": "sensors",
                "role": "sensor",
                "sensors": "*",
            },
            {"token": secrets.token_urlsafe(24), "name": "operator", "role": "operator"},
            {"token": secrets.token_urlsafe(24), "name": "admin", "role": "admin"},
        ]
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"tokens": entries}, indent=1), encoding="utf-8")
        p.chmod(0o600)
        return cls(entries), entries
