"""The alert policy: a documented TOML file (airwarn/decide/policy.toml is the default).

Sections: top level (``tick_s``, ``track_every_s``), ``[fuse]`` (tracker settings, read
by the fuse stage), ``[predict]`` (read by the predict stage) and ``[decide]`` (read by
the decide stage). Each stage reads its own section and documents its keys in the default
file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airwarn.contracts import PolicyError

DEFAULT_POLICY = Path(__file__).with_name("policy.toml")


def _merge(base: dict[str, Any], user: dict[str, Any]) -> None:
    """Merge ``user`` into ``base`` in place; tables merge key by key, at any depth."""
    for k, v in user.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v


def _seconds(base: dict[str, Any], key: str, default: float, src: str) -> float:
    """A top-level lag (s): a number in [0, 60], else a PolicyError naming the key."""
    v = base.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 60:
        raise PolicyError(f"{src}: key '{key}' must be a number in [0, 60], got {v!r}")
    return float(v)


@dataclass
class Policy:
    """Alert policy settings; ``fuse``, ``predict`` and ``decide`` are their stages' TOML
    sections."""

    tick_s: float = 5.0
    track_every_s: float = 30.0
    predict: dict[str, Any] = field(default_factory=dict)
    decide: dict[str, Any] = field(default_factory=dict)
    source: str = "built-in"
    fuse_lag_s: float = 5.0
    fuse_lag_max_s: float = 15.0
    fuse: dict[str, Any] = field(default_factory=dict)
    assume_up_without_heartbeats: bool = True

    @classmethod
    def load(cls, path: str | Path | None = None) -> Policy:
        """Read a policy TOML; values missing from a user file fall back to the default file."""
        base = tomllib.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
        src = "built-in"
        user: dict[str, Any] = {}
        if path is not None:
            try:
                user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise PolicyError(f"{path}: not valid TOML ({exc})") from exc
            _merge(base, user)
            src = str(path)
        known = {"tick_s", "track_every_s", "fuse_lag_s", "fuse_lag_max_s"}
        known |= {"assume_up_without_heartbeats"}
        known |= {"fuse", "predict", "decide"}
        unknown = set(base) - known
        if unknown:
            raise PolicyError(f"{src}: unknown policy keys {sorted(unknown)}")
        lag = _seconds(base, "fuse_lag_s", 5.0, src)
        lag_max = _seconds(base, "fuse_lag_max_s", lag, src)
        if lag_max < lag:
            if "fuse_lag_max_s" in user:
                raise PolicyError(
                    f"{src}: key 'fuse_lag_max_s' must be at least fuse_lag_s ({lag:g}), "
                    f"got {lag_max!r}"
                )
            lag_max = lag  # a file that raises only fuse_lag_s gets that fixed lag
        for k in ("tick_s", "track_every_s"):
            v = base.get(k)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise PolicyError(f"{src}: key '{k}' must be a positive number, got {v!r}")
        up = base.get("assume_up_without_heartbeats", True)
        if not isinstance(up, bool):
            raise PolicyError(
                f"{src}: key 'assume_up_without_heartbeats' must be true or false, got {up!r}"
            )
        for k in ("fuse", "predict", "decide"):
            if not isinstance(base.get(k, {}), dict):
                raise PolicyError(f"{src}: '{k}' must be a table ([{k}])")
        from airwarn.decide.config import DecideConfig

        DecideConfig.from_dict(base.get("decide", {}), src)  # bad [decide] keys fail here
        return cls(
            tick_s=float(base.get("tick_s", 5.0)),
            track_every_s=float(base.get("track_every_s", 30.0)),
            fuse_lag_s=float(lag),
            fuse_lag_max_s=float(lag_max),
            assume_up_without_heartbeats=up,
            fuse=dict(base.get("fuse", {})),
            predict=dict(base.get("predict", {})),
            decide=dict(base.get("decide", {})),
            source=src,
        )
