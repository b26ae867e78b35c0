"""The ``[decide]`` section of the alert policy, validated into arrays the Decider indexes.

Keys are documented in ``airwarn/decide/policy.toml``. Per-class keys (``PER_CLASS``)
take a default at ``[decide]`` level and may be overridden per threat class in
``[decide.by_class.<cls>]``; they become arrays indexed by class code
(``airwarn.contracts.CLS_CODE``). A bad key or value raises ``ValueError`` naming
the policy file, the section and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, PolicyError

# name: (default, lo, hi); bool defaults mean a true/false key
PER_CLASS: dict[str, tuple[Any, float | None, float | None]] = {
    "alert_p": (0.05, 0.0, 1.0),
    "alert_impact_p": (0.02, 0.0, 1.0),
    "pre_p": (0.05, 0.0, 1.0),
    "keep_ratio": (0.5, 0.0, 1.0),
    "margin_s": (120.0, 0.0, 3600.0),
    "keep_margin_s": (60.0, 0.0, 3600.0),
    "hold_s": (600.0, 0.0, 7200.0),
    "pre_hold_s": (600.0, 0.0, 7200.0),
    "any_eta": (False, None, None),
    "lost_p_factor": (1.0, 1.0, 1000.0),
    "lost_alert_s": (86_400.0, 0.0, 86_400.0),
    "stale_s": (86_400.0, 0.0, 86_400.0),
    "stale_alert_s": (300.0, 0.0, 86_400.0),
    "covered_quiet_alert_s": (86_400.0, 0.0, 86_400.0),
    "retract_hold_s": (600.0, 0.0, 7200.0),
    "passed_hold_s": (7200.0, 0.0, 7200.0),
    "ended_hold_s": (7200.0, 0.0, 7200.0),
    "lost_hold_s": (7200.0, 0.0, 7200.0),
    "degraded_p_factor": (0.5, 0.0, 1.0),
    "degraded_margin_s": (120.0, 0.0, 3600.0),
    "covered_margin_s": (120.0, 0.0, 3600.0),
}
GLOBAL: dict[str, tuple[Any, float | None, float | None]] = {
    "latency_s": (20.0, 0.0, 600.0),
    "eta_widen": (0.0, 0.0, 10.0),
    "use_eta_q": (True, None, None),
    "pre_horizon_s": (1800.0, 0.0, 7200.0),
    "require_confirmed": (True, None, None),
    "degraded_grace_s": (180.0, 0.0, 3600.0),
    "degraded_lookahead_s": (900.0, 0.0, 7200.0),
    "degraded_max_path_m": (150_000.0, 0.0, 2_000_000.0),
    "degraded_step_m": (2500.0, 100.0, 100_000.0),
    "degraded_radius_m": (5000.0, 0.0, 100_000.0),
    "manual_alert_s": (1800.0, 1.0, 86_400.0),
    "cancel_suppress_s": (1800.0, 0.0, 86_400.0),
    "vanish_check": (True, None, None),
    "vanish_min_coast_s": (20.0, 0.0, 3600.0),
    "vanish_radar": (True, None, None),
    "covered_quiet_frac": (0.8, 0.0, 2.0),
    "passed_cover_s": (7200.0, 0.0, 7200.0),
    "ended_cover_s": (7200.0, 0.0, 7200.0),
    "covered_ahead_s": (180.0, 0.0, 3600.0),
}
LIST_KEYS: dict[str, list] = {
    "danger_order": ["ballistic", "cruise", "jet_drone", "drone", "unknown", "aircraft"],
    "tune_p_scale": [0.25, 0.5, 1.0, 2.0, 4.0],
    "tune_margin_s": [60.0, 120.0, 240.0],
    "tune_hold_scale": [1.0],
}


def _check_value(name: str, v: Any, spec: tuple, where: str) -> Any:
    default, lo, hi = spec
    if isinstance(default, bool):
        if not isinstance(v, bool):
            raise PolicyError(f"{where}: key '{name}' must be true or false, got {v!r}")
        return v
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise PolicyError(f"{where}: key '{name}' must be a number, got {v!r}")
    v = float(v)
    if v != v or (lo is not None and v < lo) or (hi is not None and v > hi):
        raise PolicyError(f"{where}: key '{name}' must be in [{lo}, {hi}], got {v!r}")
    return v


@dataclass
class DecideConfig:
    """Validated decide settings: scalars, and per-class arrays indexed by class code."""

    tick_s: float = 5.0
    scalars: dict[str, Any] = field(default_factory=dict)
    per_class: dict[str, np.ndarray] = field(default_factory=dict)
    lists: dict[str, list] = field(default_factory=dict)
    rank: np.ndarray = field(default_factory=lambda: np.zeros(len(THREAT_CLASSES), np.int64))

    def __getattr__(self, name: str) -> Any:
        for d in ("scalars", "per_class", "lists"):
            try:
                table = object.__getattribute__(self, d)
            except AttributeError:
                break
            if name in table:
                return table[name]
        raise AttributeError(name)

    @classmethod
    def from_dict(
        cls, section: dict[str, Any] | None, src: str = "policy", tick_s: float = 5.0
    ) -> DecideConfig:
        """Validate a ``[decide]`` table (missing keys take their built-in defaults)."""
        where = f"{src} [decide]"
        sec = dict(section or {})
        known = set(PER_CLASS) | set(GLOBAL) | set(LIST_KEYS) | {"by_class"}
        unknown = sorted(set(sec) - known)
        if unknown:
            raise PolicyError(f"{where}: unknown key(s) {unknown}; known keys: {sorted(known)}")
        scalars = {
            k: _check_value(k, sec.get(k, spec[0]), spec, where) for k, spec in GLOBAL.items()
        }
        base = {
            k: _check_value(k, sec.get(k, spec[0]), spec, where) for k, spec in PER_CLASS.items()
        }
        by_class = sec.get("by_class", {})
        if not isinstance(by_class, dict):
            raise PolicyError(f"{where}: 'by_class' must be a table of per-class tables")
        bad_cls = sorted(set(by_class) - set(CLS_CODE))
        if bad_cls:
            raise PolicyError(
                f"{where}: unknown class(es) {bad_cls} in by_class; classes: {list(THREAT_CLASSES)}"
            )
        per_class: dict[str, np.ndarray] = {}
        for k, spec in PER_CLASS.items():
            dtype = bool if isinstance(spec[0], bool) else float
            per_class[k] = np.array([base[k]] * len(THREAT_CLASSES), dtype)
        for c, table in by_class.items():
            w = f"{where} by_class.{c}"
            if not isinstance(table, dict):
                raise PolicyError(f"{w}: must be a table")
            bad = sorted(set(table) - set(PER_CLASS))
            if bad:
                raise PolicyError(f"{w}: unknown key(s) {bad}; per-class keys: {sorted(PER_CLASS)}")
            for k, v in table.items():
                per_class[k][CLS_CODE[c]] = _check_value(k, v, PER_CLASS[k], w)
        lists: dict[str, list] = {}
        for k, default in LIST_KEYS.items():
            v = sec.get(k, default)
            if not isinstance(v, list) or not v:
                raise PolicyError(f"{where}: key '{k}' must be a non-empty list, got {v!r}")
            if k == "danger_order":
                bad = [c for c in v if c not in CLS_CODE]
                if bad or len(set(v)) != len(v):
                    raise PolicyError(
                        f"{where}: key 'danger_order' must list distinct classes of "
                        f"{list(THREAT_CLASSES)}, got {v!r}"
                    )
            else:
                if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v):
                    raise PolicyError(f"{where}: key '{k}' must be a list of numbers, got {v!r}")
                if any(x < 0 for x in v):
                    raise PolicyError(f"{where}: key '{k}' must hold non-negative numbers")
                v = [float(x) for x in v]
            lists[k] = list(v)
        # danger rank: higher is more dangerous; classes left out of the list rank lowest
        rank = np.zeros(len(THREAT_CLASSES), np.int64)
        order = lists["danger_order"] + [
            c for c in THREAT_CLASSES if c not in lists["danger_order"]
        ]
        for i, c in enumerate(order):
            rank[CLS_CODE[c]] = len(order) - i
        return cls(
            tick_s=float(tick_s), scalars=scalars, per_class=per_class, lists=lists, rank=rank
        )

    @classmethod
    def from_policy(cls, policy: Any) -> DecideConfig:
        """The decide settings of a :class:`airwarn.decide.policy.Policy`."""
        return cls.from_dict(policy.decide, policy.source, policy.tick_s)
