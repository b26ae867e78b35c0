"""Threat-class inference from kinematics (speed, altitude, climb) and report class hints.

Class probabilities are ``softmax(hint_logp + kinematic log-likelihood)``. Report hints
accumulate in ``hint_logp`` (a hint is right with probability ``HINT_P``); the
kinematic term is evaluated on the current state, with the state's velocity
uncertainty widening each class's speed spread, so a track with unknown velocity is
classified by its hints (and the prior) alone.
"""

from __future__ import annotations

import numpy as np

from airwarn.contracts import CLS_CODE, THREAT_CLASSES, UNKNOWN_CLS

NCLS = len(THREAT_CLASSES)
HINT_P = 0.8
"""Probability that a report's class hint is right."""
STEEP_VZ = 150.0
"""A climb or dive at least this steep (m/s) is a ballistic missile's."""
LEVEL_VZ_SD = 80.0
"""Vertical speed spread of the classes that fly level - aircraft, drones, jet drones, cruise
missiles (m/s): airliners climb at 10-20 m/s, fighters up to ~100 m/s; a track climbing or
falling at hundreds of m/s is a missile or a rocket, and neither the aircraft class (never
alerted) nor a route class (flown on level for up to 30 minutes) must hold it. A measured
vertical speed ``vu`` costs these classes ``vu^2 / (2 (LEVEL_VZ_SD^2 + var(vu)))`` of
log-likelihood. 40 m/s: a rocket's track near its apogee, climbing at 80 m/s, read as
'unknown' and was flown on level as a cruise missile (bench/foreign_raid.py rocket seed 18
at 8.96x the oracle, 7.84x at 80 m/s, aircraft only). Applied to the route classes too
(session 22): a rocket 19 s after launch climbing at 338 m/s had been read as a jet drone;
rockets seed 18 5.71 -> 5.27x, seed 17 1.76 -> 1.65x, 150 km apart 3.61 -> 3.67x."""
HINT_CLIP = 12.0
"""Accumulated hint log-odds are kept within this range (no certainty from hints alone)."""

# horizontal speed model per class: mean, sd (m/s); altitude: mean, sd (m)
_SPEED = np.array(
    [
        [48.0, 10.0],  # drone (Shahed-type, 150-185 km/h)
        [120.0, 35.0],  # jet drone
        [230.0, 45.0],  # cruise
        [1200.0, 700.0],  # ballistic
        [200.0, 70.0],  # aircraft
        [100.0, 400.0],  # unknown: broad
    ]
)
_ALT = np.array(
    [
        [1000.0, 1500.0],
        [2000.0, 2500.0],
        [200.0, 400.0],
        [30000.0, 40000.0],
        [8000.0, 3500.0],
        [3000.0, 20000.0],
    ]
)
_LEVEL = [CLS_CODE[c] for c in ("drone", "jet_drone", "cruise", "aircraft")]
_PRIOR = np.log(np.array([0.55, 0.08, 0.08, 0.04, 0.05, 0.2]))
_HINT_ROW = np.full((NCLS, NCLS), np.log((1 - HINT_P) / (NCLS - 1)))
np.fill_diagonal(_HINT_ROW, np.log(HINT_P))
_HINT_ROW -= np.log(1.0 / NCLS)  # log-likelihood ratio against an uninformative hint
_HINT_ROW[UNKNOWN_CLS] = 0.0  # "unknown" carries no information


def hint_loglik(cls_codes: np.ndarray) -> np.ndarray:
    """Log-likelihood ratios (n, NCLS) contributed by report class hints."""
    return _HINT_ROW[np.asarray(cls_codes, np.int64)]


def class_probabilities(
    x: np.ndarray, P: np.ndarray, hint_logp: np.ndarray, fall_llr: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities (N, NCLS), most likely class code (N,)) for N track states.

    ``fall_llr`` (N,): log-likelihood ratio of the track's measured altitudes under free
    fall against level flight (the tracker's fall test); its positive part counts for the
    ballistic class (a missile gliding on lift may look level, so no evidence against).
    """
    n = x.shape[0]
    if n == 0:
        return np.zeros((0, NCLS)), np.zeros(0, np.int64)
    speed = np.hypot(x[:, 3], x[:, 4])
    var_v = 0.5 * (P[:, 3, 3] + P[:, 4, 4])
    s2 = _SPEED[None, :, 1] ** 2 + var_v[:, None]
    ll = -0.5 * (speed[:, None] - _SPEED[None, :, 0]) ** 2 / s2 - 0.5 * np.log(s2)
    var_z = P[:, 2, 2]
    a2 = _ALT[None, :, 1] ** 2 + var_z[:, None]
    ll += -0.5 * (x[:, 2:3] - _ALT[None, :, 0]) ** 2 / a2 - 0.5 * np.log(a2)
    # strong climb or dive (|vu| > STEEP_VZ) is ballistic
    vu = np.abs(x[:, 5])
    ll[:, CLS_CODE["ballistic"]] += np.where(vu > STEEP_VZ, 3.0, 0.0)
    # aircraft, drones and cruise missiles fly level: a measured steep climb or dive counts
    # against them (the state's vertical speed variance widens the spread, so an unmeasured
    # one counts for nothing)
    ll[:, _LEVEL] -= (0.5 * vu**2 / (LEVEL_VZ_SD**2 + P[:, 5, 5]))[:, None]
    if fall_llr is not None:
        ll[:, CLS_CODE["ballistic"]] += np.maximum(np.nan_to_num(fall_llr), 0.0)
    lp = ll + _PRIOR + np.clip(hint_logp, -HINT_CLIP, HINT_CLIP)
    lp -= lp.max(axis=1, keepdims=True)
    p = np.exp(lp)
    p /= p.sum(axis=1, keepdims=True)
    return p, np.argmax(p, axis=1)
