"""Simulation parameters: every knob of the raid, sensor and report models in one place."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

ACOUSTIC_POSTS = 3000
"""Acoustic posts of a theatre that names no count of its own (``Theatre.defaults``)."""

NIGHT_2025_07_04 = 1_751_576_400.0
"""2025-07-03T21:00Z (midnight in Kyiv): start of the night of the 539-drone record raid."""


@dataclass(frozen=True)
class SimParams:
    """Seeded, documented parameters of a simulated raid and its sensor reports.

    Counts and the time window come first (the ``airwarn simulate`` options); the
    realism knobs below them have defaults a domain expert would recognise. Ranges
    are ``(low, high)`` tuples drawn uniformly unless said otherwise.
    """

    seed: int = 1
    hours: float = 8.0
    """Length of the scenario window; heartbeats cover all of it, launches fit inside it."""
    drones: int = 539
    cruise: int = 7
    ballistic: int = 4
    acoustic: int | None = None
    """Acoustic posts in the network; None: the theatre's own count (Ukraine: 9,500, the
    size of its real network; other theatres: ``ACOUSTIC_POSTS``)."""
    radars: int = 30
    observer_rate: float = 1.0
    """Multiplier on the rate of human observer reports (0 disables them)."""
    start_t: float = NIGHT_2025_07_04
    region: str = "ukraine"
    """Theatre (see airwarn.sim.theatre.THEATRES): ``ukraine`` (the built-in region),
    ``israel`` (an example with medium-range ballistic missiles) or ``synthetic``."""

    # --- raid: Shahed-type drones -------------------------------------------------
    drone_sites: tuple[str, ...] = ()
    """Names of the theatre's drone launch areas to use (empty: all of them)."""
    waves: int = 3
    """Drone launch waves; each uses a few launch areas and lasts ``wave_spread_s``
    (at most 20% of the window)."""
    wave_window: tuple[float, float] = (0.0, 0.45)
    """Wave start times as fractions of the window."""
    wave_spread_s: float = 5400.0
    drone_speed_kmh: tuple[float, float] = (150.0, 185.0)
    drone_alt_m: tuple[float, float] = (50.0, 2500.0)
    drone_waypoints: tuple[int, int] = (2, 4)
    """Intermediate (dogleg) waypoints per route, inclusive range."""
    dogleg_frac: float = 0.15
    """1-sigma lateral offset of a dogleg waypoint, as a fraction of the route's length."""
    p_drone_downed: float = 0.85
    p_drone_left: float = 0.02
    """Drones that wander out of the region (fate ``left``)."""
    p_drone_lost: float = 0.04
    """Drones lost to electronic warfare: they crash off-target (fate ``impact``)."""
    downed_at: tuple[float, float] = (0.2, 0.97)
    """Where along its route a downed threat is hit (fraction of the route)."""
    jet_drones: int = 0
    """Jet-powered Shahed variants (Geran-3 type), class ``jet_drone``."""
    jet_drone_speed_kmh: tuple[float, float] = (300.0, 370.0)
    target_pop_power: float = 0.8
    """Targets are populated places weighted by population ** this."""
    target_min_pop: int = 20_000
    impact_scatter_m: float = 1500.0

    # --- raid: missiles ---------------------------------------------------------
    cruise_speed_ms: tuple[float, float] = (200.0, 250.0)
    cruise_alt_m: tuple[float, float] = (30.0, 100.0)
    cruise_release_alt_m: float = 9000.0
    cruise_waypoints: tuple[int, int] = (3, 6)
    cruise_launch_at: float = 0.5
    """Fraction of the window at which the bombers release their missiles."""
    p_cruise_downed: float = 0.75
    ballistic_apogee_m: tuple[float, float] = (40_000.0, 50_000.0)
    ballistic_flight_s: tuple[float, float] = (180.0, 360.0)
    """Flight time at the shortest and the longest range of ``ballistic_range_m``."""
    ballistic_range_m: tuple[float, float] = (60_000.0, 480_000.0)
    """Targets lie within this range of the launch area; flight time scales across it."""
    ballistic_launch_at: float = 0.8
    p_ballistic_downed: float = 0.35
    ballistic_intercept_alt_m: tuple[float, float] = (8000.0, 25_000.0)
    """Altitudes where a downed ballistic missile is hit (on its way down)."""

    aircraft: int = 0
    """Own helicopters and fighters on patrol: radar and acoustic confounders, not threats
    (off by default: real systems filter them by IFF before warning)."""

    # --- truth sampling ---------------------------------------------------------
    truth_dt_s: dict[str, float] = field(
        default_factory=lambda: {"drone": 10.0, "cruise": 5.0, "ballistic": 1.0}
    )
    sample_dt_s: dict[str, float] = field(
        default_factory=lambda: {"drone": 2.0, "cruise": 1.0, "ballistic": 1.0}
    )
    """Internal path sampling the sensors see (finer than the truth file)."""

    # --- sensors ----------------------------------------------------------------
    acoustic_range_m: tuple[float, float] = (2000.0, 5000.0)
    acoustic_sigma_frac: tuple[float, float] = (0.5, 1.0)
    """A post's reported sigma_m as a fraction of its range."""
    acoustic_period_s: tuple[float, float] = (10.0, 20.0)
    acoustic_pd: float = 0.85
    acoustic_near_places: float = 0.65
    """Share of posts placed near populated places; the rest along approach corridors."""
    acoustic_false_per_h: float = 0.02
    """False acoustic events per post per hour (each a burst of 1-3 reports)."""
    radar_range_m: tuple[float, float] = (150_000.0, 300_000.0)
    radar_mast_m: tuple[float, float] = (15.0, 60.0)
    radar_period_s: tuple[float, float] = (9.0, 12.0)
    radar_pd: float = 0.9
    radar_r50: dict[str, float] = field(
        default_factory=lambda: {"drone": 0.5, "jet_drone": 0.6, "cruise": 0.45, "ballistic": 1.5}
    )
    """Range (fraction of the radar's range) where Pd halves: small, low targets fade early."""
    radar_sigma_m: tuple[float, float] = (150.0, 500.0)
    radar_sigma_alt_m: tuple[float, float] = (200.0, 1500.0)
    radar_sigma_vel_ms: tuple[float, float] = (3.0, 10.0)
    radar_clutter_per_scan: float = 0.03
    radar_p_cls: float = 0.3
    """Probability that a radar report carries a class hint (correct 85% of the time)."""
    observer_per_min: float = 1.0
    """Observer reports per minute of flight over a dense city (scaled by population nearby)."""
    observer_pop_ref: float = 100_000.0
    observer_sigma_m: tuple[float, float] = (1000.0, 5000.0)
    observer_false_frac: float = 0.2
    """False observer reports, as a fraction of the true ones."""
    sensor_outage_p: float = 0.05
    """Share of sensors that go down once during the night (no heartbeats, no reports)."""
    sensor_outage_s: tuple[float, float] = (600.0, 5400.0)

    # --- delivery ---------------------------------------------------------------
    heartbeat_s: float = 60.0
    latency_s: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "heartbeat": (0.2, 3.0),
            "acoustic": (1.0, 8.0),
            "radar": (1.0, 5.0),
            "observer": (20.0, 90.0),
        }
    )
    max_lag_s: float = 58.0
    """No line arrives more than this after its ``t`` (public limit: 60 s). Late human
    reports are time-stamped no earlier than this before arrival (the position may be older)."""
    duplicate_rate: float = 0.01
    duplicate_delay_s: tuple[float, float] = (0.5, 10.0)

    def to_json(self) -> dict:
        """Plain JSON-able dict of all parameters."""
        return asdict(self)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> SimParams:
        """Parameters from :meth:`to_json` output (e.g. scenario.json's ``params``).

        Unknown keys raise ValueError naming them; JSON lists become tuples again.
        """
        known = {f.name: f for f in fields(cls)}
        bad = sorted(set(obj) - set(known))
        if bad:
            raise ValueError(f"SimParams: unknown field(s) {bad}")
        out: dict[str, Any] = {}
        for k, v in obj.items():
            if isinstance(v, list):
                v = tuple(v)
            elif isinstance(v, dict):
                v = {kk: tuple(vv) if isinstance(vv, list) else vv for kk, vv in v.items()}
            out[k] = v
        return cls(**out)
