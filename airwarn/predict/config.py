"""Settings of the predict stage: code defaults, overridden by the policy's ``[predict]`` table.

The defaults here match ``airwarn/decide/policy.toml``; every key is documented there.
Per-class motion models live in sub-tables (``[predict.drone]``, ``[predict.cruise]``, ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from airwarn.contracts import (
    BALLISTIC_MIN_ALT_M,
    BALLISTIC_MIN_VZ,
    DIVE_VZ,
    GHOST_RADAR_ALT_M,
    GHOST_RADAR_MAST_MAX_M,
    GHOST_RADAR_MAST_UNKNOWN_M,
    THREAT_CLASSES,
    PolicyError,
)


@dataclass(frozen=True)
class RouteModel:
    """Motion model of an air-breathing threat class (drone, jet drone, cruise missile)."""

    horizon_s: float
    speed_min: float
    speed_max: float
    speed_nominal: float
    speed_sigma: float  # log-normal speed spread per route sample
    turn_sigma_dps: float  # stationary std of the turn rate, deg/s
    turn_tau_s: float  # correlation time of the turn rate
    dogleg_per_h: float  # rate of sharp course changes per hour
    dogleg_min_deg: float
    dogleg_max_deg: float
    loiter_per_h: float  # rate of loiter episodes per hour
    loiter_s: float  # duration of one loiter episode
    target_frac: float  # share of route samples steering to a populated target
    target_kappa: float  # von Mises concentration of the target bearing around the course
    target_tau_s: float  # time constant of steering toward the target
    ghost_max_s: float  # a lost track's ghost is dropped after this long
    refresh_s: float  # a track's prediction is reused (ETAs shifted) for at most this long
    vel_sd_scale: float  # factor on the track's horizontal velocity sd when sampling


@dataclass(frozen=True)
class BallisticModel:
    """Impact prediction settings for ballistic threats."""

    horizon_s: float
    samples: float  # impact samples per ballistic track (few tracks: many samples are cheap)
    p_min: float  # rows for ballistic tracks down to this p_reach (a long impact strip)
    accel_sigma: float  # unmodelled horizontal acceleration per sample, m/s^2
    descent_accel_min: float  # smallest effective downward acceleration of the fall, m/s^2
    glide_speed_ms: float  # horizontal speed needed to glide down to descent_accel_min (0: any)
    glide_ceiling_m: float  # above this altitude the fall is at g (no air to lift; 0: none)
    ground_alt_m: float  # mean ground altitude above the ellipsoid
    curvature: bool  # include Earth curvature (centrifugal relief v^2/R) in gravity
    ghost_margin_s: float  # a lost ballistic ghost lasts until this long after its last impact
    terminal_m: float  # zones within reach of the last terminal_m (horizontal) before impact
    path_samples: float  # impact samples whose ground track before the terminal part counts


DEFAULT_ROUTES: dict[str, dict[str, float]] = {
    "drone": dict(
        horizon_s=1800.0,
        speed_min=30.0,
        speed_max=60.0,
        speed_nominal=47.0,
        speed_sigma=0.08,
        turn_sigma_dps=0.02,
        turn_tau_s=120.0,
        dogleg_per_h=2.0,
        dogleg_min_deg=20.0,
        dogleg_max_deg=100.0,
        loiter_per_h=0.5,
        loiter_s=300.0,
        target_frac=0.3,
        target_kappa=4.0,
        target_tau_s=300.0,
        ghost_max_s=2400.0,
        refresh_s=60.0,
        vel_sd_scale=1.0,
    ),
    "jet_drone": dict(
        horizon_s=1200.0,
        speed_min=80.0,
        speed_max=220.0,
        speed_nominal=150.0,
        speed_sigma=0.08,
        turn_sigma_dps=0.02,
        turn_tau_s=60.0,
        dogleg_per_h=3.0,
        dogleg_min_deg=20.0,
        dogleg_max_deg=90.0,
        loiter_per_h=0.0,
        loiter_s=0.0,
        target_frac=0.3,
        target_kappa=4.0,
        target_tau_s=200.0,
        ghost_max_s=1200.0,
        refresh_s=15.0,
        vel_sd_scale=1.0,
    ),
    "cruise": dict(
        horizon_s=900.0,
        speed_min=150.0,
        speed_max=300.0,
        speed_nominal=230.0,
        speed_sigma=0.06,
        turn_sigma_dps=0.02,
        turn_tau_s=60.0,
        dogleg_per_h=6.0,
        dogleg_min_deg=20.0,
        dogleg_max_deg=90.0,
        loiter_per_h=0.0,
        loiter_s=0.0,
        target_frac=0.3,
        target_kappa=4.0,
        target_tau_s=120.0,
        ghost_max_s=900.0,
        refresh_s=10.0,
        vel_sd_scale=1.0,
    ),
}
DEFAULT_ROUTES["unknown"] = dict(DEFAULT_ROUTES["drone"])

DEFAULT_BALLISTIC: dict[str, Any] = dict(
    horizon_s=900.0,
    samples=256.0,
    p_min=0.008,
    accel_sigma=0.05,
    descent_accel_min=1.0,
    glide_speed_ms=1100.0,
    glide_ceiling_m=60000.0,
    ground_alt_m=150.0,
    curvature=True,
    ghost_margin_s=30.0,
    terminal_m=25000.0,
    path_samples=32.0,
)

DEFAULTS: dict[str, Any] = dict(
    samples=48,
    reach_m=2000.0,
    grid_m=1000.0,
    grid_pad=1.0,
    step_m=1500.0,
    p_min=0.02,
    seed=1,
    target_zones=300,
    ghost_gate_m=5000.0,
    ghost_half_life_s=300.0,
    ghost_unwatched_half_life_s=150.0,
    ghost_cover_kill_s=30.0,
    ghost_cover_frac=0.8,
    ghost_radar_cover=True,
    ghost_radar_alt_m=GHOST_RADAR_ALT_M,
    ghost_radar_kill_s=60.0,
    ghost_radar_mast_max_m=GHOST_RADAR_MAST_MAX_M,
    ghost_radar_mast_unknown_m=GHOST_RADAR_MAST_UNKNOWN_M,
    ghost_min_updates=6,
    ghost_ballistic_m=20000.0,
    eta_q=0.05,
    ballistic_min_alt_m=BALLISTIC_MIN_ALT_M,
    ballistic_min_vz=BALLISTIC_MIN_VZ,
    ballistic_min_speed=300.0,
    dive_vz=DIVE_VZ,
    refresh_turn_deg=10.0,
    refresh_speed_frac=0.15,
    refresh_offset_m=1000.0,
)


@dataclass(frozen=True)
class PredictConfig:
    """All predict settings, validated."""

    samples: int = 48
    reach_m: float = 2000.0
    grid_m: float = 1000.0
    grid_pad: float = 1.0
    step_m: float = 1500.0
    p_min: float = 0.02
    seed: int = 1
    target_zones: int = 300
    ghost_gate_m: float = 5000.0
    ghost_half_life_s: float = 300.0
    ghost_unwatched_half_life_s: float = 150.0
    ghost_cover_kill_s: float = 30.0
    ghost_cover_frac: float = 0.8
    ghost_radar_cover: bool = True
    ghost_radar_alt_m: float = GHOST_RADAR_ALT_M
    ghost_radar_kill_s: float = 60.0
    ghost_radar_mast_max_m: float = GHOST_RADAR_MAST_MAX_M
    ghost_radar_mast_unknown_m: float = GHOST_RADAR_MAST_UNKNOWN_M
    ghost_min_updates: int = 6
    ghost_ballistic_m: float = 20000.0
    eta_q: float = 0.05
    ballistic_min_alt_m: float = BALLISTIC_MIN_ALT_M
    ballistic_min_vz: float = BALLISTIC_MIN_VZ
    ballistic_min_speed: float = 300.0
    dive_vz: float = DIVE_VZ
    refresh_turn_deg: float = 10.0
    refresh_speed_frac: float = 0.15
    refresh_offset_m: float = 1000.0
    routes: dict[str, RouteModel] = field(default_factory=dict)
    ballistic: BallisticModel | None = None

    @classmethod
    def from_policy(cls, section: dict[str, Any] | None) -> PredictConfig:
        """Build from the policy's ``[predict]`` dict; a bad key raises ValueError naming it."""
        sec = dict(section or {})
        top: dict[str, Any] = {}
        for k, v in DEFAULTS.items():
            val = sec.pop(k, v)
            if isinstance(v, bool):
                if not isinstance(val, bool):
                    raise PolicyError(
                        f"policy [predict] key '{k}': must be true or false, got {val!r}"
                    )
                top[k] = val
                continue
            if isinstance(val, bool) or not isinstance(val, int | float):
                raise PolicyError(f"policy [predict] key '{k}': must be a number, got {val!r}")
            if not math.isfinite(float(val)) or val < 0:
                raise PolicyError(
                    f"policy [predict] key '{k}': must be finite and >= 0, got {val!r}"
                )
            top[k] = int(val) if isinstance(v, int) else float(val)
        if top["samples"] < 4:
            raise PolicyError("policy [predict] key 'samples': must be >= 4")
        if not 0 < top["p_min"] < 1:
            raise PolicyError("policy [predict] key 'p_min': must be in (0, 1)")
        if not 0 < top["eta_q"] < 1:
            raise PolicyError("policy [predict] key 'eta_q': must be in (0, 1)")
        for k in ("reach_m", "grid_m", "step_m"):
            if top[k] <= 0:
                raise PolicyError(f"policy [predict] key '{k}': must be > 0")
        routes = {}
        for name, base in DEFAULT_ROUTES.items():
            routes[name] = RouteModel(**_merge(base, sec.pop(name, None), f"predict.{name}"))
        ball = BallisticModel(
            **_merge(DEFAULT_BALLISTIC, sec.pop("ballistic", None), "predict.ballistic")
        )
        if sec:
            raise PolicyError(f"policy [predict]: unknown keys {sorted(sec)}")
        return cls(**top, routes=routes, ballistic=ball)

    def route_for(self, cls_code: int) -> RouteModel:
        """Route model of a class code (unknown/other classes use the 'unknown' model)."""
        return self.routes.get(THREAT_CLASSES[int(cls_code)], self.routes["unknown"])


def _merge(base: dict[str, Any], user: Any, where: str) -> dict[str, Any]:
    """Overlay a user sub-table on defaults, checking names and types."""
    out = dict(base)
    if user is None:
        return out
    if not isinstance(user, dict):
        raise PolicyError(f"policy [{where}]: must be a table")
    for k, v in user.items():
        if k not in base:
            raise PolicyError(f"policy [{where}]: unknown key '{k}'")
        if isinstance(base[k], bool):
            if not isinstance(v, bool):
                raise PolicyError(f"policy [{where}] key '{k}': must be true or false, got {v!r}")
        elif isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            raise PolicyError(f"policy [{where}] key '{k}': must be a number >= 0, got {v!r}")
        out[k] = v if isinstance(base[k], bool) else float(v)
    return out


ROUTE_FIELDS = tuple(f.name for f in fields(RouteModel))
