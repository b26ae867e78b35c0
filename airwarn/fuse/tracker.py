"""The multi-sensor multi-target tracker: all tracks as columns, processed scan by scan.

Reports are processed in time bins (``TrackerConfig.bin_s`` on an absolute time grid):
per bin, co-temporal acoustic reports of one target are merged (initiator-side
clustering), every track is predicted to the bin time for gating, the hypothesiser
gates (k-d tree + Mahalanobis), the associator assigns (clustered GNN), each assigned
track is predicted to its report's own time and updated (batched Kalman), unassigned
reports initiate tentative tracks, the confirmer promotes tracks with enough
independent evidence and the deleter drops stale ones.

Out-of-sequence reports (up to ``max_lateness_s`` older than reports already
processed) are handled by reprocessing: the tracker keeps a snapshot of its state every
``snapshot_every_s`` of measurement time and the reports of the last minute; a late
report rolls the state back to the last snapshot before it and replays the stored
reports with it in time order. The result is the same as if the report had come in
order, and only reports that have been added are ever used (causal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from airwarn.contracts import (
    ANONYMOUS_OBSERVER,
    CLS_CODE,
    MAX_LATENESS_S,
    SENSOR_KIND_CODE,
    THREAT_CLASSES,
    DetectionBatch,
    PolicyError,
    TrackState,
    estimated_underground,
)
from airwarn.fuse.associate import cluster_points, gate_pairs, gnn_assign
from airwarn.fuse.classify import STEEP_VZ, class_probabilities, hint_loglik
from airwarn.fuse.clutter import ClutterMap
from airwarn.fuse.models import (
    SIGNATURE_LIST,
    G,
    ct_transition,
    fall_test,
    imm_combine,
    imm_mix,
    imm_transition,
    kalman_update,
    linear_predict,
    measurement_arrays,
    ncv_predict,
    ncv_predict_pos,
    observer_density,
    signature_codes,
    white_accel_Q,
)

REACQUIRE_PAD_M = 2000.0
"""Re-acquisition gate padding (m) beyond 3 sigma: an acoustic post places a threat only
within its range (2-5 km)."""

NCLS = len(THREAT_CLASSES)
ACOUSTIC = SENSOR_KIND_CODE["acoustic"]
RADAR = SENSOR_KIND_CODE["radar"]
OBSERVER = SENSOR_KIND_CODE["observer"]
NO_SENSOR = -2
RADAR_SLOTS = 8
"""Radars per track whose last plot time is kept, to read the track's scan period."""
IMM_PRIOR = np.array([0.8, 0.1, 0.1])
"""Initial IMM mode probabilities: NCV, turn left, turn right."""


@dataclass
class TrackerConfig:
    """Tuning of the tracker (defaults suit drones/missiles seen by acoustic posts and radars)."""

    imm: bool = True
    """IMM of NCV and coordinated turns (left/right); False: a single NCV filter."""
    imm_min_dt_s: float = 2.0
    """Steps shorter than this use one NCV step (the modes differ by ~1 m there)."""
    imm_max_dt_s: float = 60.0
    """Steps longer than this (a track coasting through a gap) use one NCV step too: a
    turn mode held for minutes spins its velocity round several times, and mixing such
    modes left a drone re-heard after 200 s with 4 m/s instead of 35 (capping the turn at
    90 degrees a step still left 26-41 m/s of 50). A cruise track heard every ~50 s keeps
    the turn modes."""
    imm_turn_deg_s: float = 3.0
    """Turn rate of the coordinated-turn modes, deg/s (a standard-rate turn)."""
    imm_turn_accel: float = 2.5
    """Largest lateral acceleration of the turn modes, m/s^2: a track faster than
    accel / rate turns slower (a 47 m/s drone keeps ~3 deg/s, a 230 m/s cruise missile
    gets 0.6 deg/s). A fixed rate would turn a fast track seen every 50 s by sparse
    acoustic posts through 150 degrees between reports, and the mixed modes then shrink
    its speed; 0 = the fixed rate for all."""
    imm_sojourn_s: tuple[float, float, float] = (60.0, 15.0, 15.0)
    """Mean time spent in each mode (NCV, left, right) before switching, s."""
    bin_s: float = 5.0
    """Reports within one bin of this length (absolute time grid) form one scan."""
    gate_d2: float = 11.8
    """Mahalanobis gate on horizontal position (chi-square, 2 dof, ~99.7%)."""
    alt_gate_d2: float = 16.0
    """Altitude gate (chi-square, 1 dof; 0 = off), see :meth:`Tracker._alt_gate`: a
    measured altitude more than this many variances from the track's predicted one (and
    ``alt_gate_min_m`` away), an acoustic report of a track certainly above the post's
    range, or a measured altitude certainly above the range of the post that heard a
    track whose altitude nothing measured, is another target. Without it an airliner's
    plots 9 km up took the acoustic track of a cruise missile flying beside it
    (bench/foreign_raid.py --aircraft)."""
    alt_gate_min_m: float = 3000.0
    """... and measured altitudes closer than this always agree (a low track's altitude
    estimate wanders; the gate is for airliners and missiles over low threats)."""
    q_h: float = 1.0
    """Horizontal process noise spectral density, m^2/s^3 (NCV)."""
    q_v: float = 0.5
    """Vertical process noise spectral density, m^2/s^3."""
    q_ballistic: float = 400.0
    """Vertical process noise of tracks classified ballistic (gravity model), m^2/s^3: lift
    and drag make the effective fall acceleration differ from g by up to ~8 m/s^2."""
    q_ballistic_h: float = 100.0
    """Horizontal process noise of tracks classified ballistic, m^2/s^3 (velocity sd grows
    ~22 m/s in 5 s unmeasured: drag and manoeuvres, but no lift to absorb)."""
    prior_vel_sd: float = 50.0
    """Initiator prior velocity sd per horizontal axis when a report has no velocity, m/s."""
    prior_vz_sd: float = 200.0
    """Initiator prior vertical speed sd when a report has no velocity, m/s: unknown (a
    drone flies level, a missile climbs or falls at hundreds of m/s), so plotted altitudes
    set it. 5 m/s (level flight assumed) left a rocket's climb read at 0-80 m/s for its
    first 20-40 s of plots, and its track flown on as a drone or cruise missile."""
    fast_init: bool = True
    """Two-point initiator for fast movers seen by a radar that reports no velocity: a
    free plot also starts a track whose velocity is its difference from a one-plot
    tentative track of the same radar, ``fast_min_speed``..``fast_max_speed`` away per
    second (the prior velocity gate cannot follow a ballistic or cruise missile from one
    scan to the next). Such a track still needs its further scans to confirm."""
    fast_min_speed: float = 150.0
    fast_max_speed: float = 4000.0
    fast_max_dt_s: float = 30.0
    fast_confirm_scans: int = 5
    """Radar scans that confirm a two-point track (any two plots of successive scans can
    make one, so clutter needs more scans to be told apart: with 20 clutter plots a scan
    over 180 scans, 3 scans confirmed 133 false tracks, 5 confirmed 8, against 7 without
    the two-point initiator)."""
    fast_acoustic: bool = True
    """Two-post initiator for fast movers heard by acoustic posts only (a cruise missile
    below the radar horizon): an acoustic report not used by a confirmed or two-point
    track is paired with a report of another post heard up to ``fast_ac_max_dt_s``
    before, when even the shortest displacement the two posts' ranges allow is
    ``fast_ac_min_speed`` per second or more (no drone covers it) and the centres' is at
    most ``fast_ac_max_speed``. Each pair starts a two-point track that confirms only
    after ``fast_ac_confirm_posts`` posts in all heard it in turn, each reachable from the
    last by the same rule and ahead on its course (a drone swarm gives many chance pairs,
    few chance lines: in a 12-drone swarm over posts 6 km apart with 0.8 false reports per
    post and hour, 40 times the simulator's, 3 posts confirmed 0-3 false fast tracks per 20
    minutes and 4 none; without the reachability rule, 3 posts confirmed 3-9). 3 keeps
    sparse posts useful: of the 40 cruise pairs of ``bench/foreign_raid.py`` seed 7 (posts
    12 km apart), 22 were missed or late without this initiator, 19 with 4 posts, 14 with
    3."""
    fast_ac_min_speed: float = 120.0
    fast_ac_max_speed: float = 400.0
    fast_ac_max_dt_s: float = 120.0
    fast_ac_confirm_posts: int = 3
    fast_ac_next_s: float = 120.0
    """How long a tentative two-post fast track waits for the next post on its line
    before it is deleted (``fast_ac_max_dt_s`` where that is longer). Posts 12 km apart,
    each hearing a missile only while it is within 3 km, leave gaps of two minutes and
    more along its way (126 and 142 s between the posts of one missile of
    ``bench/foreign_raid.py`` seed 8), and a pair that waits no longer than the pair
    window dies before its third post; but waiting longer also lets chance reports line
    up (see policy.toml for what 180 s did), so the default waits the pair window."""
    fast_ac_link_s: float = 0.0
    """A two-post fast track that died waiting for its next post is remembered this long
    (s; 0: not at all, the default: see policy.toml for what 300 s did). A new fast pair whose two reports continue it, the four posts' reports
    on one straight line flown at one speed (a least-squares constant-velocity fit within
    the 99 % chi-square of 4 degrees of freedom, each report placed within its post's range:
    sigma = range / 2 per axis), counts the old pair's posts as its own and takes the
    fit's velocity. A cruise missile over posts 12 km apart is heard by one post at a time,
    often more than ``fast_ac_next_s`` apart: its pairs died one after another, unconfirmed,
    for 48 minutes of one flight of ``bench/foreign_raid.py`` seed 31. Four posts in a line
    at one speed are rarer by chance than the three the confirmation rule asks for."""
    fast_ac_dwell: bool = True
    """A post that heard something for longer than a fast mover stays in its range
    (2 range / ``fast_ac_min_speed`` plus two bins) heard a drone: its reports start no
    two-post tracks."""
    fast_ac_refute: bool = True
    """A tentative two-post fast track (no radar) that takes a report of a post that has
    been hearing something for longer than a fast mover stays in its range (the
    ``fast_ac_dwell`` rule) is following a drone: it becomes an ordinary tentative track
    of that post alone (its pair's other post heard something else), so the reports it
    takes no longer keep the drone's own chain from starting. On an acoustic-only raid
    (``bench/foreign_raid.py --seed 12 --radar-km 3000 --post-km 8``) a chance fast pair
    took a swarm drone's reports post after post, counting none of them, while the drone
    stayed untracked; with it (and the chain restart) that raid's impacts missed went
    5 -> 2 (late 1 -> 2). Its
    velocity and second sensor are dropped: kept, the refuted pairs confirmed as drones
    with a fast mover's velocity (3.1 -> 3.6x the oracle there)."""
    slow_acoustic: bool = True
    """Two-post initiator for slow movers over sparse posts (a drone heard by one post at a
    time, each post's tentative track dying in the silence before the next): a free
    acoustic report is paired with a free report of another post heard up to
    ``slow_ac_max_dt_s`` before whose range does not overlap its own, when some speed
    between ``slow_ac_min_speed`` and ``slow_ac_max_speed`` links the two ranges. The pair
    starts a two-point track that confirms after ``slow_ac_confirm_posts`` posts heard it
    in turn, each reachable from the last at such a speed and ahead on its course (a radar
    plot or a phone report it takes is no post: it confirms the track by that sensor's own
    rule, e.g. ``confirm_radar_scans``); posts in range that stay silent lower its existence
    as for any track."""
    slow_ac_min_speed: float = 15.0
    slow_ac_max_speed: float = 80.0
    slow_ac_max_dt_s: float = 600.0
    slow_ac_confirm_posts: int = 3
    slow_ac_gap: bool = True
    """A slow pair needs the way between the two ranges to be out of other live posts'
    coverage (``slow_ac_gap_cover`` x range; at most ``slow_ac_gap_frac`` of it covered):
    a drone flying through covered ground would have been heard on the way, so dense
    networks, whose tracks need no chain, make no chance chains out of false reports."""
    slow_ac_gap_cover: float = 0.8
    slow_ac_gap_frac: float = 0.1
    slow_ac_hold: bool = True
    """A chain track's reports from the post that reported last, while the track is
    predicted within that post's range, keep it alive but leave its state as it was (they
    tell only that it still is there; as position updates at the post, with the turn modes
    mixed in, a post's run dragged 52 m/s down to 21 in 100 s)."""
    prior_alt_m: float = 1000.0
    prior_alt_sd: float = 1500.0
    sigma_v: float = 10.0
    """1-sigma of a reported velocity component, m/s."""
    acoustic_merge_m: float = 4000.0
    """Acoustic reports of one bin closer than this are merged into one report."""
    confirm_radar_scans: int = 3
    """Radar updates at distinct times that confirm a track on their own."""
    confirm_scans_high: int = 2
    """Radar updates that confirm a track flying high: its altitude at least
    ``confirm_high_alt_m`` even 3 sigma down (a ballistic missile; clutter and aircraft fly
    lower, and a short-range missile's whole flight lasts a few minutes). On a foreign raid
    a missile seen at +63 and +73 s, then missed for three scans, was otherwise confirmed
    only at +143 s of a 220 s flight."""
    confirm_high_alt_m: float = 15000.0
    confirm_hypersonic: float = 1000.0
    """A radar plot of a track flying high (``confirm_high_alt_m``, 3 sigma down), still
    rising, whose measured speed is at least this (m/s, 3 sigma down) confirms it at once
    when it could land within ``confirm_hypersonic_tgo_s`` (a vacuum fall from its altitude
    and vertical speed, the shortest): nothing but a missile flies so fast so high (the
    fastest aircraft make ~700 m/s), clutter carries no such velocity, and such a missile
    cannot wait for a second plot. On a foreign raid a 218 s missile, first plotted with its
    velocity at +77 s and again by its 10 s radar at +107 s, was otherwise confirmed at
    +108 s, 25 s late for a zone's 120 s to shelter. Falling missiles are left out: they are
    tracked by then, and single stray plots of their descent over Israel (12 missiles of
    il-s13) made confirmed duplicate tracks whose impact areas cost 12% more person-hours."""
    confirm_hypersonic_tgo_s: float = 300.0
    ballistic_hint: float = 1.0
    """Log-odds added to a track's ballistic class hint at each update whose state climbs
    or dives at 150 m/s or more (3 sigma down; 0 = off): without it a short-range rocket
    (bench/foreign_raid.py --rockets) levelling off 5-9 km up at 300-500 m/s was classed
    aircraft, cruise or unknown near its apogee, and a cruise or unknown track's route
    samples flew on for minutes after the impact (see policy.toml)."""
    steep_gravity: bool = True
    """A track whose update measures a climb or dive of 150 m/s or more (3 sigma down)
    coasts under gravity until its next update, whatever its class (False: only tracks
    classed ballistic). Without it a rocket's track classed aircraft or unknown at its last
    plot coasted on at its climb rate (bench/foreign_raid.py --rockets seed 18: 115 s at
    343 m/s, to 44 km) and its predicted impact swept the zones beyond."""
    fall_test: bool = True
    """Test each track's measured altitudes for free fall against level flight (two
    vertical Kalman filters, :func:`~airwarn.fuse.models.fall_test`); the accumulated
    log-likelihood ratio, where positive, counts for the ballistic class. A short-range
    rocket 5-9 km up near its apogee flies at aircraft speeds and climbs or dives too
    slowly for ``ballistic_hint``; its parabola is what marks it."""
    fall_q: tuple[float, float] = (4.0, 25.0)
    """White-noise vertical acceleration (m^2/s^3) of the fall test's level mode (aircraft
    climb and descend) and free-fall mode (drag and lift make a missile's fall differ
    from g)."""
    fall_vz_sd: float = 400.0
    """Vertical speed sd (m/s) the fall test starts with at a track's first altitude."""
    fall_test_vz: bool = True
    """The fall test also folds in reported vertical speeds (``vel_u``, sd ``fall_vz_meas_sd``):
    a radar's climb rate falling by g per second marks a coasting rocket within a few plots,
    where altitudes with a 500 m error take half a minute."""
    fall_vz_meas_sd: float = 20.0
    """Error sd (m/s) the fall test takes for a reported vertical speed: twice ``sigma_v``,
    so that a radar whose climb rates are noisier than assumed does not make a level flyer
    look like a falling one (the free-fall mode's larger process noise fits outliers
    better: with 10 m/s assumed and 20 m/s real, level flyers' ratio reached the clip in 86 %
    of 60-plot runs; with 20 assumed, at most 3.5)."""
    fall_llr_clip: tuple[float, float] = (-4.0, 12.0)
    """The fall test's log-likelihood ratio is kept in this range, so that a track that
    flew level for long can still be seen to fall within a few plots."""
    confirm_climb_vz: float = 250.0
    """A track climbing at least this fast (m/s, 3 sigma down) confirms after
    ``confirm_radar_scans`` even when it began as a two-point track (a missile in its boost:
    no aircraft climbs so, and clutter pairs have no steady climb). A 150 s missile of a
    foreign raid, plotted every 6 s, was otherwise confirmed at its 5th plot, +26 s instead
    of +14 s, when its overflown zones' 90 s to shelter were already short."""
    confirm_hits: int = 3
    """Updates that confirm a track once they come from at least two sensors."""
    tentative_max_misses: int = 2
    """Radar scans in a row without update that delete a tentative track."""
    max_misses: int = 5
    """Radar scans in a row without update that delete a confirmed track."""
    observer_max_age_s: float = 180.0
    """A tentative track last updated by an observer (people report a passing drone about
    once a minute, over towns) waits this long for the next report."""
    tentative_max_age_s: float = 30.0
    """A tentative track not updated for this long is deleted."""
    max_coast_s: float = 180.0
    """A confirmed track coasting longer than this is deleted."""
    radar_silence: bool = True
    """Misses on the clock: a track last updated by a radar that is still live (heard
    from within ``ex_live_s``) and still has it in range counts one miss per scan period
    of that radar (the shortest interval between its plots on this track) elapsed since
    its last plot, whether or not the radar reported anything else meanwhile. Without
    it, misses count only in scans where the radar sent other plots, so a radar that sees
    nothing else (little clutter, one target) lets a downed threat coast ``max_coast_s``."""
    landed_gate: bool = True
    """A missile's track that came down (moving under gravity, falling, predicted 3 sigma
    below the ground) takes no more reports: it coasts to its deletion as ``landed``.
    Without it a rocket's track, coasting underground after the impact, took the plots of a
    drone flying past the impact point and flew on as a 235 m/s 'cruise missile' 1 km
    underground, leaving a cruise ghost that alerted 125 zones."""
    radar_slots: bool = False
    """A confirmed track's scan period counts plots of each of its last ``RADAR_SLOTS``
    radars, and one with none of its own takes its last radar's shortest period on any
    track (False, and always for tentative tracks: only two plots in a row from one radar on
    the track itself). Where several radars overlap, each plot of a track often comes from
    another radar, so the scan period was never seen and a lost or phantom track coasted
    ``max_coast_s``; a tentative track of a weak target that radars plot now and then must
    live to confirm (see policy.toml)."""
    radar_slack_s: float = 10.0
    """Delivery latency allowed for a radar's plots before its silence counts."""
    max_sigma_m: float = 8000.0
    """A track whose horizontal position sigma grows beyond this is deleted."""
    snapshot_every_s: float = 2.0
    """Spacing of the rollback snapshots kept for out-of-sequence reports."""
    rollback_s: float = 15.0
    """Reports up to this late are handled exactly by rollback and reprocessing."""
    max_lateness_s: float = MAX_LATENESS_S
    existence: bool = True
    """Track existence (IPDA-like log-odds): raised by updates, lowered by the silence of
    live acoustic posts that would have heard the track; gates acoustic/observer-only
    confirmation and deletes tracks whose existence falls low."""
    ex_pd: float = 0.7
    """Probability that a live post hears a target inside its slant range in one
    reporting period (conservative: the simulated posts have 0.85)."""
    ex_period_s: float = 20.0
    """Acoustic reporting period (longest: the least negative evidence per second)."""
    ex_silence_s: float = 25.0
    """A post gives negative evidence only after this long without any report."""
    ex_live_s: float = 70.0
    """A post is live when heard from (heartbeat or report) within this long."""
    ex_samples: int = 16
    """Position/altitude samples per track for the probability of silence."""
    ex_neighbours: int = 8
    """Nearest posts looked at per sample (more covering ones add little evidence)."""
    ex_alt_band_m: tuple[float, float] = (0.0, 2500.0)
    """Altitudes (evenly spread samples) assumed for a track with no measured altitude."""
    ex_alt_known_sd_m: float = 1000.0
    """A track's altitude counts as measured when its sd is below this."""
    ex_step_s: float = 15.0
    """Silence is counted at most this often (it accumulates in between)."""
    ex_max_step_s: float = 30.0
    """Longest silence interval integrated in one step (gaps between ticks)."""
    ex_init_acoustic: float = 0.2
    """Initial existence of a track started by one acoustic post (or an observer)."""
    ex_init_multi: float = 0.5
    """... by acoustic reports of two or more posts merged in one scan, or a radar plot."""
    ex_lr_new: float = 4.0
    """Likelihood ratio of an acoustic or observer report from another sensor than the
    track's last one."""
    ex_lr_same: float = 1.5
    """... of a further report from the same post (false alarms come in bursts)."""
    ex_lr_multi: float = 10.0
    """... of merged acoustic reports of two or more posts, and of a radar plot."""
    ex_confirm: float = 0.5
    """Existence needed to confirm a track without radar confirmation."""
    obs_clutter: bool = True
    """Weigh observer reports against chance reports (IPDA's ``1 - Pd + Pd g / lambda``):
    a report from another person counts ``1 - obs_pd + obs_pd * g / (lambda * dt)``
    toward existence (at most ``ex_lr_new``), ``g`` the density of its innovation
    (:func:`~airwarn.fuse.models.observer_density` over the track position and velocity
    spread over the step plus the report's sigma), ``dt`` the time since the track's last
    update, ``lambda`` the observer reports per area and second around it in a
    :class:`~airwarn.fuse.clutter.ClutterMap` (reports no confirmed track took, spread by
    population where the tracker has a population layer); a track an observer starts there
    begins with its odds divided by ``1 + mu / obs_pd`` (``mu`` the chance reports expected
    within the report's sigma over ``observer_max_age_s``), and a track only observers
    updated confirms at ``ex_confirm_obs``. On raids whose phones report nothing often
    (bench/foreign_raid.py --observers: 2 false reports an hour per 100,000 people) it
    halves the person-hours under alert (false tracks over cities); on raids whose
    observers report only threats it changes nothing (see policy.toml)."""
    obs_pd: float = 0.5
    """Chance that a real threat in a track's gate brings another observer report."""
    ex_confirm_obs: float = 0.75
    """Existence that confirms a track only observers updated (with ``obs_clutter``)."""
    obs_clutter_cell_m: float = 5000.0
    """Cell of the observer clutter map (m); the rate around a report is its cell's and
    its eight neighbours' (15 km square)."""
    obs_clutter_tau_s: float = 1800.0
    """Memory of the observer clutter map (s, exponential decay time)."""
    obs_clutter_min_s: float = 3600.0
    """The map reads its first counts as if it had watched this long (s)."""
    obs_clutter_people: bool = True
    """Where the tracker is given a population layer (the pipeline gives the zones'), the
    clutter map learns the region's chance reports per person and spreads them by
    population (:meth:`~airwarn.fuse.clutter.ClutterMap.set_people`) instead of learning
    each cell's rate from its own reports."""
    ex_delete: float = 0.05
    """A track whose existence falls below this is deleted."""
    ex_max: float = 0.99
    """Existence is capped here (so that a long-tracked threat can still end fast)."""
    absorb: bool = True
    """A report left over in a scan, inside the gate of a track that other sensors updated
    in that scan, starts no new track (dense posts hear one target several times)."""
    landed_sd: float = math.inf
    """A ballistic track predicted this many altitude sigmas below ground is deleted (3 is
    sensible; off by default: its impact zones lose their support at once and keep the
    full hold, where a track still measured gives them the shorter retract hold). Listed
    as ``landed`` (no ghost), 3 against off, session 23: rockets seed 18 5.03 -> 6.45x the
    oracle, seed 19 7.67 -> 7.97x, 150 km apart 3.54 -> 3.84x, foreign seed 7 2.063 ->
    2.094x, seed 23 4.90 -> 4.74x."""
    ballistic_memory_s: float = 60.0
    """A track the classifier read as ballistic, or that moved under gravity, within the last
    this many seconds is a missile whatever the classifier reads now: it is reported as
    'ballistic' while the classifier reads it 'unknown' or 'aircraft' (a rocket over its
    apogee, climbing or falling slowly at aircraft speeds, is neither flown on level as a
    cruise missile nor dropped as an aircraft), and when it is deleted (or merged into
    another) estimated at or below the ground, its height measured (sd < 1 km), or 3
    sigma below it, its missile came down: it is listed in the state's ``landed``, and
    predict starts no lost-track ghost from it (stray reports after a rocket's impact kept
    its track alive underground at cruise speed, classed cruise, and its ghost flew on).
    Not a drone-class track (a drone's height estimate may drift underground: posts hear
    no height). 0 turns both off. Only the classifier's own reading or the track's
    kinematics refresh it, not the held class."""
    merge: bool = True
    """Merge duplicate tracks of one target (several posts or radars each starting one)."""
    merge_d2: float = 22.5
    """Mahalanobis bound on the 6-D state difference of two duplicates (chi-square,
    6 dof, 99.9%)."""
    merge_radius_m: float = 20000.0
    """Only tracks closer than this are compared."""
    merge_fuse: bool = True
    """When a ballistic track merges with another (``merge_ballistic``), the survivor takes
    the fused estimate of both (covariance intersection) instead of keeping its own: a
    rocket's older track, started before its climb was measured, often held the worse
    vertical state. Other merges keep the survivor's state: acoustic tracks carry initiator
    state (two-post pairs, the posts heard) that an average of states would not respect,
    and fusing merged radar tracks of drones missed more overflights (record raid 86 -> 88
    of 5,186; foreign_raid seed 8 57 -> 61)."""
    merge_ballistic: bool = True
    """Absorb and merge also apply to ballistic tracks: several radars each started a track
    on one rocket (4.8 confirmed tracks per rocket on bench/foreign_raid.py --rockets seed
    17, 1.8 with merging), each alerting its own impact area (see policy.toml)."""
    merge_step_s: float = 10.0
    """Duplicates are looked for at most this often."""
    reacquire_s: float = 0.0
    """Re-acquisition: a tentative track with ``reacquire_updates`` updates inside the
    dead-reckoned cloud of a confirmed track deleted less than this long (s) before is
    confirmed at once: the threat is found again (a drone that dropped out of a radar's
    view is heard by acoustic posts a minute later). 0: off (the default; measured in
    policy.toml, 300 s mixed: fewer misses on some raids, more on others). The
    re-acquired track may take the lost track's velocity (``reacquire_inherit``)."""
    reacquire_updates: int = 2
    """Updates a tentative track needs before re-acquisition confirms it."""
    reacquire_min_updates: int = 8
    """Only tracks deleted after at least this many updates are re-acquired (a false
    track that chance reports confirmed does not confirm the next chance reports there)."""
    reacquire_inherit: bool = True
    """A re-acquired track whose velocity is less certain than the lost track's takes
    the lost track's velocity and adds its class hints (a track that one acoustic post
    started knows no velocity; without it the successor predicted worse than the lost
    track's ghost it replaced)."""
    reacquire_max_speed: float = 80.0
    """Only tracks lost at most this fast (m/s) are re-acquired: a fast track's
    dead-reckoned cloud soon spans other threats' reports (a cruise missile's, 30 km in two
    minutes)."""
    reacquire_accel: float = 0.05
    """Growth (m/s per s, 1 sigma) of the inherited velocity's sd over the time between
    the lost track's last update and the re-acquisition (turns made unseen)."""
    process_lag_s: float = 0.0
    """``advance(t)`` folds in only reports measured up to ``t - process_lag_s`` (later ones
    wait for the next call) and predicts the tracks to ``t``. Reports usually arrive a few
    seconds after they are measured, so a lag of a few seconds turns most of them from
    out-of-sequence (rollback and reprocess) into in-order updates."""

    @classmethod
    def from_dict(cls, d: dict, src: str = "policy", **fixed: float) -> TrackerConfig:
        """A config from a policy's ``[fuse]`` table (keys are this class's fields; ``fixed``
        ones are set by the caller). Unknown keys and values of the wrong type are named."""
        if not isinstance(d, dict):
            raise PolicyError(f"{src}: 'fuse' must be a table ([fuse])")
        base = cls()
        out: dict = {}
        for k, v in d.items():
            if k not in base.__dataclass_fields__ or k in fixed:
                raise PolicyError(f"{src}: unknown [fuse] key {k!r}")
            ref = getattr(base, k)
            if isinstance(ref, bool):
                ok = isinstance(v, bool)
            elif isinstance(ref, int | float):
                ok = isinstance(v, int | float) and not isinstance(v, bool)
                ok = ok and (isinstance(ref, float) or float(v).is_integer())
                v = type(ref)(v) if ok else v
            elif isinstance(ref, tuple):
                ok = isinstance(v, list | tuple) and len(v) == len(ref)
                ok = ok and all(isinstance(e, int | float) and not isinstance(e, bool) for e in v)
                v = tuple(float(e) for e in v) if ok else v
            else:
                ok = False
            if not ok:
                raise PolicyError(f"{src}: [fuse] key {k!r} must be like {ref!r}, got {v!r}")
            out[k] = v
        return cls(**out, **fixed)


_RCOLS = ("t", "sensor", "kind", "x", "y", "z", "sigma", "sigma_z", "vx", "vy", "vz", "cls", "arr")


def _reports_from_batch(b: DetectionBatch) -> dict[str, np.ndarray]:
    return {
        "t": np.asarray(b.t, float),
        "sensor": np.asarray(b.sensor, np.int64),
        "kind": np.asarray(b.sensor_kind, np.int64),
        "x": np.asarray(b.x, float),
        "y": np.asarray(b.y, float),
        "z": np.asarray(b.z, float),
        "sigma": np.asarray(b.sigma, float),
        "sigma_z": np.asarray(b.sigma_z, float),
        "vx": np.asarray(b.vx, float),
        "vy": np.asarray(b.vy, float),
        "vz": np.asarray(b.vz, float),
        "cls": np.asarray(b.cls, np.int64),
        "arr": np.asarray(b.arrival, np.int64),
    }


def _empty_reports() -> dict[str, np.ndarray]:
    return {
        k: np.zeros(0, np.int64 if k in ("sensor", "kind", "cls", "arr") else float) for k in _RCOLS
    }


def _cat(a: dict, b: dict) -> dict:
    return {k: np.concatenate((a[k], b[k])) for k in a}


def _take(a: dict, idx) -> dict:
    return {k: v[idx] for k, v in a.items()}


@dataclass
class _LostTracks:
    """Confirmed tracks deleted lately, kept for re-acquisition (one row each)."""

    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # e, n, ve, vn
    pos_var: np.ndarray = field(default_factory=lambda: np.zeros(0))  # horizontal, per axis
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # time the state is valid at
    t_del: np.ndarray = field(default_factory=lambda: np.zeros(0))  # time of the deletion
    Pv: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 2)))  # velocity cov
    hint: np.ndarray = field(default_factory=lambda: np.zeros((0, NCLS)))  # class hints

    def take(self, sel: np.ndarray) -> _LostTracks:
        """The rows ``sel`` (a mask or indices)."""
        return _LostTracks(**{k: v[sel] for k, v in self.__dict__.items()})

    def extend(self, other: _LostTracks) -> _LostTracks:
        return _LostTracks(
            **{k: np.concatenate((v, getattr(other, k))) for k, v in self.__dict__.items()}
        )


@dataclass
class _Tracks:
    """Columns of all live tracks (state valid at each track's own time ``t``)."""

    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    key: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # birth hash
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 6)))
    P: np.ndarray = field(default_factory=lambda: np.zeros((0, 6, 6)))
    n_upd: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last_update: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sensor0: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    multi: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    radar_scans: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last_radar_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_sensor: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last_radar: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    radar_dt: np.ndarray = field(default_factory=lambda: np.zeros(0))  # its scan period seen
    radar_dt_slots: np.ndarray = field(default_factory=lambda: np.zeros(0))  # ... over slots
    # the last RADAR_SLOTS radars that plotted it and their last plot times (NO_SENSOR, -inf)
    rslot: np.ndarray = field(default_factory=lambda: np.zeros((0, RADAR_SLOTS), np.int64))
    rslot_t: np.ndarray = field(default_factory=lambda: np.zeros((0, RADAR_SLOTS)))
    fast: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # two-point start
    chain: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # slow two-post start
    n_posts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # sensor changes
    obs_only: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # observers alone
    ac: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # last post: x, y, t, range
    ac1: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # last acoustic report
    ac0: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))  # first post on the line
    misses: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    confirmed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    ballistic: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    bal_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # last read ballistic
    # below the ground, not read as a drone, in the last state
    down: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    hint: np.ndarray = field(default_factory=lambda: np.zeros((0, NCLS)))
    fx: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 2)))  # fall test states
    fP: np.ndarray = field(default_factory=lambda: np.zeros((0, 2, 2, 2)))
    ft: np.ndarray = field(default_factory=lambda: np.zeros(0))  # their time (nan: none yet)
    fllr: np.ndarray = field(default_factory=lambda: np.zeros(0))  # fall - level, log
    xm: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 6)))  # IMM mode states
    Pm: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 6, 6)))
    mu: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # mode probabilities
    lex: np.ndarray = field(default_factory=lambda: np.zeros(0))  # existence log-odds
    lex0: np.ndarray = field(default_factory=lambda: np.zeros(0))  # ... at the last update
    ex_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # silence counted up to
    ex_acc: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # per sample

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def copy(self) -> _Tracks:
        return _Tracks(**{k: v.copy() for k, v in self.__dict__.items()})

    def keep(self, mask: np.ndarray) -> None:
        for k, v in self.__dict__.items():
            setattr(self, k, v[mask])

    def take(self, idx: np.ndarray) -> _Tracks:
        """A new column set of the tracks at ``idx`` (copies)."""
        return _Tracks(**{k: v[idx] for k, v in self.__dict__.items()})

    def extend(self, other: _Tracks) -> None:
        for k, v in self.__dict__.items():
            setattr(self, k, np.concatenate((v, getattr(other, k))))


def _empty_heard() -> dict[str, np.ndarray]:
    """Recent acoustic reports kept for the two-post initiator, ``free`` where no confirmed
    or two-point track took them (arrays are replaced, never changed in place, so a shallow
    copy is a snapshot)."""
    e = np.zeros(0)
    return {
        "t": e,
        "x": e,
        "y": e,
        "sigma": e,
        "range": e,
        "sensor": np.zeros(0, np.int64),
        "hll": np.zeros((0, NCLS)),
        "free": np.zeros(0, bool),
        "slow": np.zeros(0, bool),
    }


def _hash_key(*cols: np.ndarray) -> np.ndarray:
    """A 63-bit key per row mixed from integer columns (splitmix64 finaliser per column)."""
    h = np.full(np.shape(cols[0]), 0x9E3779B97F4A7C15, np.uint64)
    with np.errstate(over="ignore"):
        for c in cols:
            h ^= np.asarray(c).astype(np.int64).astype(np.uint64)
            h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h ^= h >> np.uint64(31)
    return (h >> np.uint64(1)).astype(np.int64)


def _report_key(r: dict) -> np.ndarray:
    """Birth key of tracks started from reports ``r``: their time (ms), sensor and place (m)."""
    return _hash_key(np.round(r["t"] * 1000.0), r["sensor"], np.round(r["x"]), np.round(r["y"]))


def _below_ground(x: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Per state: estimated at or below the ground with the height measured (sd < 1 km,
    :func:`~airwarn.contracts.estimated_underground`), or 3 sigma below it (coasting under
    gravity)."""
    sd_z = np.sqrt(np.maximum(P[:, 2, 2], 0.0))
    coast = np.nan_to_num(x[:, 2], nan=np.inf) + 3.0 * sd_z < 0.0
    return estimated_underground(x, P) | coast


FAST_LINK_CHI2 = 13.28
"""99 % point of chi-square with 4 degrees of freedom (8 coordinates, 4 line parameters):
the fit a dead two-post fast track and a new one must pass to be linked."""


def _empty_fast_dead() -> dict[str, np.ndarray]:
    """Dead two-post fast tracks remembered for ``fast_ac_link_s``: their first and last
    post reports (x, y, t, range), posts and updates counted, deletion time."""
    return {
        "a": np.zeros((0, 4)),
        "b": np.zeros((0, 4)),
        "n_posts": np.zeros(0, np.int64),
        "n_upd": np.zeros(0, np.int64),
        "t_del": np.zeros(0),
    }


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


class Tracker:
    """Fusion stage: ``add`` report batches, ``advance`` to a time to get all live tracks.

    Components (Stone Soup vocabulary): predictor :func:`~airwarn.fuse.models.ncv_predict`
    (with gravity for ballistic tracks), updater :func:`~airwarn.fuse.models.kalman_update`,
    hypothesiser :func:`~airwarn.fuse.associate.gate_pairs`, data associator
    :func:`~airwarn.fuse.associate.gnn_assign`, initiator :meth:`_initiate`, confirmer
    :meth:`_confirm`, deleter :meth:`_delete`.
    """

    def __init__(
        self,
        registry,
        config: TrackerConfig | None = None,
        people: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ):
        """``people``: optional population layer (x, y in the registry's frame, people at
        each point), e.g. the zones' centroids and populations, for the observer clutter
        map (``obs_clutter_people``)."""
        self.registry = registry
        self.cfg = config or TrackerConfig()
        self.frame = registry.frame
        self._sx = np.asarray(registry.x, float)
        self._sy = np.asarray(registry.y, float)
        self._srange = np.asarray(registry.range_m, float)
        self._skind = np.asarray(registry.kind, np.int64)
        # each radar's scan period: the shortest interval (>= 1 s) between two of its plots
        # on one track, over all tracks (radar_slots)
        self._radar_period = np.full(self._sx.shape, np.inf)
        self._ac = np.flatnonzero(self._skind == ACOUSTIC)
        self._ac_tree = (
            cKDTree(np.column_stack((self._sx[self._ac], self._sy[self._ac])))
            if self._ac.size
            else None
        )
        self._ac_r = self._srange[self._ac]
        self._ac_rmax = float(self._ac_r.max()) if self._ac.size else 0.0
        self._seen: np.ndarray | None = None  # latest sensor_last_seen given to advance
        self._last_rep = np.full(self._skind.size, -np.inf)  # latest report per sensor
        self._ex_next = -math.inf  # next time the silence of posts is counted
        self._merge_next = -math.inf  # next time duplicates are looked for
        self._merged: list[np.ndarray] = []  # [absorbed, survivor] ids since the last state
        self._landed: list[np.ndarray] = []  # ids of tracks deleted as come down, since then
        self._lost = _LostTracks()  # confirmed tracks deleted lately (re-acquisition)
        self._fast_dead = _empty_fast_dead()  # two-post fast tracks deleted lately
        # fixed standard-normal samples (deterministic): position (2) and altitude (1)
        self._ex_u = np.random.default_rng(0).standard_normal((self.cfg.ex_samples, 3))
        self._ex_uq = (np.argsort(np.argsort(self._ex_u[:, 2])) + 0.5) / self.cfg.ex_samples
        self.tracks = _Tracks()
        self.tracks.ex_acc = np.zeros((0, self.cfg.ex_samples))
        self.next_id = 1
        self.t_done = -math.inf  # every report with t <= t_done has been processed
        self._pending = _empty_reports()
        self._store: list[dict] = []  # chunks of processed reports kept for reprocessing
        # rollback snapshots: (time, tracks, next id, late reports already applied,
        # recent acoustic reports of the two-post initiator, observer clutter map)
        self._snaps: list[tuple[float, _Tracks, int, int, dict, ClutterMap]] = []
        self._heard = _empty_heard()  # recent acoustic reports (two-post initiator)
        # observer reports per cell (part of the rollback snapshots)
        self._clutter = ClutterMap(
            self.cfg.obs_clutter_cell_m, self.cfg.obs_clutter_tau_s, self.cfg.obs_clutter_min_s
        )
        if people is not None and self.cfg.obs_clutter_people:
            self._clutter.set_people(*people)
        self._late: list[dict] = []  # reports applied by direct late update, in order
        self._late_base = 0  # late reports dropped from the head of ``_late``
        self._late_in_state = 0  # how many late reports the current state includes
        self._ticks: list[float] = []  # recent advance times (bin cuts for replays)
        self.stats = {
            "measurements": 0,
            "rollbacks": 0,
            "reprocessed": 0,
            "late_direct": 0,
            "merged": 0,
            "absorbed": 0,
            "fast_starts": 0,
            "fast_acoustic_starts": 0,
            "fast_links": 0,
            "chain_acoustic_starts": 0,
            "chain_to_fast": 0,
            "fast_refuted": 0,
            "alt_gated": 0,
        }

    # ------------------------------------------------------------------ API
    def add(self, batch: DetectionBatch) -> None:
        """Queue reports that arrived since the last call (any order, any time)."""
        if len(batch) == 0:
            return
        self._pending = _cat(self._pending, _reports_from_batch(batch))

    def advance(self, t: float, sensor_last_seen: np.ndarray | None = None) -> TrackState:
        """Process every queued report with time <= t; return all live tracks predicted to t.

        ``sensor_last_seen`` (optional, per registered sensor: the time of its latest
        heartbeat or report, as :class:`~airwarn.ingest.Ingestor` keeps it) tells which
        acoustic posts are live; the silence of live posts around a track lowers its
        existence (no liveness given: no negative evidence, dead posts give none).

        Reports older than reports already processed are handled in one of two ways:
        up to ``rollback_s`` late, the state is rolled back to a snapshot before them
        and everything since is reprocessed in time order (exact); later than that,
        each track is retrodicted to the report's time and updated there (direct
        out-of-sequence update, approximate: its effect is then predicted forward).
        """
        t_out = float(t)
        t = t_out - self.cfg.process_lag_s
        if sensor_last_seen is not None:
            self._seen = np.asarray(sensor_last_seen, float)
        p = self._pending
        due = p["t"] <= t
        if due.any():
            now = _take(p, due)
            self._pending = _take(p, ~due)
            self.stats["measurements"] += int(due.sum())
            lateness = self.t_done - now["t"]
            very = lateness > self.cfg.rollback_s
            direct = _take(now, very)
            now = _take(now, ~very)
            redo: list[dict] = []
            late = now["t"] <= self.t_done
            if late.any():
                now, redo, too_old = self._rollback(now, float(now["t"][late].min()))
                direct = _cat(direct, too_old)
                # late reports applied since the snapshot go back in first (they are
                # older than it), so the snapshots taken during the replay include them
                for d in redo:
                    self._direct(d)
            order = np.lexsort((now["arr"], now["t"]))
            self._process(_take(now, order))
            if direct["t"].size:
                order = np.lexsort((direct["arr"], direct["t"]))
                d = _take(direct, order)
                self._late.append(d)
                self._direct(d)
                self.stats["late_direct"] += int(d["t"].size)
        if t > self.t_done:
            self._ticks.append(t)
        self.t_done = max(self.t_done, t)
        if self.cfg.existence and sensor_last_seen is not None:
            self._missed(t_out, np.asarray(sensor_last_seen, float))
        tr = self.tracks
        x, P = self._predict(tr, np.full(len(tr), t_out))
        prob, cls = class_probabilities(x, P, tr.hint, tr.fllr)
        if self.cfg.ballistic_memory_s > 0:
            tr.bal_t[(cls == CLS_CODE["ballistic"]) | tr.ballistic] = t_out
        keep = ~self._expired(t_out)
        if self.cfg.radar_silence and sensor_last_seen is not None:
            keep &= ~self._radar_silent(t_out, x, np.asarray(sensor_last_seen, float))
        # a ballistic track predicted below ground by more than landed_sd sigmas has landed
        if math.isfinite(self.cfg.landed_sd):
            sz = np.sqrt(np.maximum(P[:, 2, 2], 0.0))
            sunk = tr.ballistic & (x[:, 2] + self.cfg.landed_sd * sz < 0.0)
            keep &= ~sunk
            if sunk.any():
                self._landed.append(tr.ids[sunk & tr.confirmed])
        if not keep.all():
            self._note_fast_dead(~keep, t_out)
            self._note_lost(~keep, x, P, np.full(len(tr), t_out), t_out)
        if self.cfg.merge and t_out >= self._merge_next:
            self._merge_next = t_out + self.cfg.merge_step_s
            keep &= self._merge(x, P, keep)
        if not keep.all():  # deleted or merged into another
            self._note_landed(~keep, t_out, x, P, cls)
        tr.down = _below_ground(x, P) & (cls != CLS_CODE["drone"])
        if not keep.all():
            tr.keep(keep)
            x, P, prob, cls = x[keep], P[keep], prob[keep], cls[keep]
        self._prune()
        st = self._state(t_out, x, P, (prob, cls))
        if self._merged:
            st.merged = np.concatenate(self._merged)
            self._merged = []
        if self._landed:
            st.landed = np.unique(np.concatenate(self._landed))
            self._landed = []
        return st

    def _note_landed(
        self,
        dead: np.ndarray,
        t: float,
        x: np.ndarray | None = None,
        P: np.ndarray | None = None,
        cls: np.ndarray | None = None,
    ) -> None:
        """List, for the next state's ``landed``, the tracks among ``dead`` (mask; states
        ``x``, ``P`` at ``t`` and classifier reading ``cls``, computed when None) whose
        missile came down: confirmed, read as ballistic or moving under gravity within the
        last ``ballistic_memory_s``, and below the ground (:func:`_below_ground`) and not
        read as a drone at ``t`` (or at its last update), or so in the last state."""
        tr = self.tracks
        mem = self.cfg.ballistic_memory_s
        if mem <= 0 or not dead.any():
            return
        i = np.flatnonzero(dead & tr.confirmed & (t - tr.bal_t <= mem))
        if i.size == 0:
            return
        if x is None or P is None:
            sub = tr.take(i)
            x, P = self._predict(sub, np.full(i.size, float(t)))
            cls = class_probabilities(x, P, sub.hint, sub.fllr)[1]
        else:
            x, P, cls = x[i], P[i], cls[i]
        # now or at its last update (a track coasting since grows too uncertain in height),
        # or in the last state (stray reports since may have lifted it, or slowed it to a
        # drone's reading)
        under = _below_ground(x, P) | _below_ground(tr.x[i], tr.P[i])
        m = (under & (cls != CLS_CODE["drone"])) | tr.down[i]
        if m.any():
            self._landed.append(tr.ids[i[m]])

    def _expired(self, t: float) -> np.ndarray:
        """Deleter on the clock: tracks silent too long (even when no report arrives) or
        too unlikely to exist."""
        tr = self.tracks
        age = t - tr.last_update
        dead = np.where(tr.confirmed, age > self._coast_limit(), age > self._tentative_age())
        return dead | self._unlikely()

    def _coast_limit(self) -> np.ndarray:
        """Longest coast of each confirmed track: a chain track (posts heard one at a time)
        waits for the next post up to ``slow_ac_max_dt_s``."""
        cfg = self.cfg
        tr = self.tracks
        chain = tr.chain & (tr.radar_scans == 0)
        return np.where(chain, max(cfg.max_coast_s, cfg.slow_ac_max_dt_s), cfg.max_coast_s)

    def _tentative_age(self) -> np.ndarray:
        """Longest silence of each tentative track: a two-post acoustic start waits for
        the next post on its line (``fast_ac_next_s``; a chain ``slow_ac_max_dt_s``), a
        track an observer last updated for the next report (``observer_max_age_s``)."""
        tr = self.tracks
        cfg = self.cfg
        ac_fast = tr.fast & (tr.radar_scans == 0)
        age = np.where(
            ac_fast,
            max(cfg.tentative_max_age_s, cfg.fast_ac_max_dt_s, cfg.fast_ac_next_s),
            cfg.tentative_max_age_s,
        )
        chain = tr.chain & (tr.radar_scans == 0)
        age = np.where(chain, max(cfg.tentative_max_age_s, cfg.slow_ac_max_dt_s), age)
        ls = tr.last_sensor
        known = (ls >= 0) & (ls < self._skind.size)
        kind = np.full(ls.shape, -1, np.int64)
        kind[known] = self._skind[ls[known]]
        obs = ((ls < 0) & (ls != NO_SENSOR)) | (kind == OBSERVER)
        return np.where(obs & (tr.radar_scans == 0), np.maximum(age, cfg.observer_max_age_s), age)

    def _radar_silent(self, t: float, x: np.ndarray, last_seen: np.ndarray) -> np.ndarray:
        """Deleter on the clock: tracks whose last radar, live and in range, has missed
        ``max_misses`` (tentative: ``tentative_max_misses``) of its scans since its last
        plot on the track, with no other sensor's update since."""
        tr = self.tracks
        cfg = self.cfg
        lr = tr.last_radar
        j = np.clip(lr, 0, None)
        dt = tr.radar_dt
        if cfg.radar_slots and self._radar_period.size:
            # a confirmed track plotted by several radars in turn has the scan period one of
            # them showed on it, or if none plotted it twice, the period its last radar shows
            # on other tracks; a tentative track only the period of two plots in a row (a
            # weak target that radars taking turns plot now and then must live to confirm)
            own = np.minimum(tr.radar_dt_slots, np.where(lr >= 0, self._radar_period[j], np.inf))
            dt = np.where(tr.confirmed, own, dt)
        ok = (lr >= 0) & np.isfinite(dt) & (tr.last_update <= tr.last_radar_t + 1e-6)
        if not ok.any():
            return np.zeros(len(tr), bool)
        live = t - last_seen[j] <= cfg.ex_live_s
        inr = np.hypot(x[:, 0] - self._sx[j], x[:, 1] - self._sy[j]) <= self._srange[j]
        n_max = np.where(tr.confirmed, cfg.max_misses, cfg.tentative_max_misses)
        silent = self.t_done - tr.last_radar_t > n_max * dt + cfg.radar_slack_s
        return ok & live & inr & silent

    def _unlikely(self) -> np.ndarray:
        """Tracks whose existence has fallen below ``ex_delete``."""
        cfg = self.cfg
        if not cfg.existence:
            return np.zeros(len(self.tracks), bool)
        return self.tracks.lex < _logit(cfg.ex_delete)

    def _missed(self, t_clock: float, last_seen: np.ndarray) -> None:
        """Missed detections: lower each track's existence by the silence of live posts.

        A post counts when it is live (heard from within ``ex_live_s`` of ``t_clock``)
        and has sent no report for ``ex_silence_s``. Each track carries fixed samples of
        its position (predicted to the processed time, with its covariance) and altitude;
        each sample accumulates, since the track's last update, the reporting periods
        ``n_covering * dt / ex_period_s`` of such posts whose slant range covers it. The
        likelihood of the whole silence if the track exists is the mean over samples of
        ``(1 - ex_pd) ** periods``: samples in a coverage gap keep it up, so a threat that
        may be in a gap (dead posts, no posts) loses at most that share of existence.
        """
        cfg = self.cfg
        tr = self.tracks
        ac = self._ac
        if len(tr) == 0 or self._ac_tree is None:
            return
        te = self.t_done
        if te < self._ex_next:
            return
        w = np.clip(te - tr.ex_t, 0.0, cfg.ex_max_step_s) / cfg.ex_period_s
        tr.ex_t = np.maximum(tr.ex_t, te)
        usable = (t_clock - last_seen[ac] <= cfg.ex_live_s) & (
            te - self._last_rep[ac] >= cfg.ex_silence_s
        )
        # tracks a radar updated lately get their evidence from the radar's scans
        i = np.flatnonzero((w > 0) & ~tr.ballistic & (te - tr.last_radar_t >= cfg.ex_silence_s))
        if i.size == 0 or not usable.any():
            return
        self._ex_next = te + cfg.ex_step_s
        xp, Pp = ncv_predict_pos(tr.x[i], tr.P[i], te - tr.t[i], cfg.q_h)
        # closed-form 2x2 Cholesky factor (with a little jitter)
        l00 = np.sqrt(Pp[:, 0, 0] + 1.0)
        l10 = Pp[:, 1, 0] / l00
        l11 = np.sqrt(np.maximum(Pp[:, 1, 1] + 1.0 - l10 * l10, 1.0))
        u = self._ex_u
        m, k = i.size, u.shape[0]
        pts = np.empty((m, k, 2))
        pts[:, :, 0] = xp[:, 0, None] + l00[:, None] * u[None, :, 0]
        pts[:, :, 1] = xp[:, 1, None] + l10[:, None] * u[None, :, 0] + l11[:, None] * u[None, :, 1]
        # altitude samples: around a measured altitude, else spread over the band where
        # threats heard by posts fly (the filter's altitude is only its prior there)
        sz = np.sqrt(np.maximum(tr.P[i, 2, 2], 0.0))
        zk = np.maximum(tr.x[i, 2, None] + sz[:, None] * u[None, :, 2], 0.0)
        lo, hi = cfg.ex_alt_band_m
        band = lo + (hi - lo) * self._ex_uq
        zk = np.where((sz > cfg.ex_alt_known_sd_m)[:, None], band[None, :], zk).reshape(-1)
        d, j = self._ac_tree.query(
            pts.reshape(-1, 2), k=cfg.ex_neighbours, distance_upper_bound=self._ac_rmax
        )
        d = d.reshape(m * k, -1)
        j = j.reshape(m * k, -1)
        ok = j < ac.size
        jj = np.where(ok, j, 0)
        rr = self._ac_r[jj]
        cover = ok & usable[jj] & (np.where(ok, d, 0.0) ** 2 + zk[:, None] ** 2 <= rr * rr)
        ncov = cover.sum(axis=1).reshape(m, k)
        acc = tr.ex_acc[i] + w[i, None] * ncov
        tr.ex_acc[i] = acc
        lik = np.exp(acc * math.log1p(-cfg.ex_pd)).mean(axis=1)
        tr.lex[i] = tr.lex0[i] + np.log(np.maximum(lik, 1e-12))

    def _merge(self, x: np.ndarray, P: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Duplicates: among ``live`` tracks (states ``x``, ``P`` at the tick), pairs whose
        states agree (6-D Mahalanobis, summed covariances, ``merge_d2``) lose the younger
        (a tentative one before a confirmed one), which passes its evidence on. Two tracks
        last updated by the same sensor in the same scan are two targets (one sensor
        reports a target once per scan) and are never merged. Returns the keep mask."""
        cfg = self.cfg
        tr = self.tracks
        n = len(tr)
        keep = np.ones(n, bool)
        if int(live.sum()) < 2:
            return keep
        idx = np.flatnonzero(live)
        pairs = cKDTree(x[idx, :2]).query_pairs(cfg.merge_radius_m, output_type="ndarray")
        if pairs.shape[0] == 0:
            return keep
        i, j = idx[pairs[:, 0]], idx[pairs[:, 1]]
        same_scan = (
            (tr.last_sensor[i] == tr.last_sensor[j])
            & (tr.last_sensor[i] >= 0)
            & (np.abs(tr.last_update[i] - tr.last_update[j]) < 1.0)
        )
        # cheap horizontal pre-gate (2-D Mahalanobis, closed-form inverse)
        a = P[i, 0, 0] + P[j, 0, 0]
        b = P[i, 0, 1] + P[j, 0, 1]
        c = P[i, 1, 1] + P[j, 1, 1]
        ex, ey = x[i, 0] - x[j, 0], x[i, 1] - x[j, 1]
        d2h = (c * ex * ex - 2.0 * b * ex * ey + a * ey * ey) / (a * c - b * b)
        ok = ~same_scan & (d2h <= cfg.merge_d2)
        if not cfg.merge_ballistic:
            ok &= ~tr.ballistic[i] & ~tr.ballistic[j]
        i, j = i[ok], j[ok]
        if i.size == 0:
            return keep
        dx = x[i] - x[j]
        S = P[i] + P[j]
        d2 = np.einsum("na,na->n", dx, np.linalg.solve(S, dx[:, :, None])[:, :, 0])
        ok = d2 <= cfg.merge_d2
        if cfg.alt_gate_d2 > 0:
            # a track an acoustic post heard and nothing measured the altitude of flies
            # below that post's range: it is not a track certainly higher up (an airliner)
            ok &= ~self._above_heard(x, P, i, j) & ~self._above_heard(x, P, j, i)
        if not ok.any():
            return keep
        i, j = i[ok], j[ok]
        # rank: confirmed first, then older (smaller id); the lower-ranked one goes
        key_i = np.where(tr.confirmed[i], 0, 1) * (1 << 40) + tr.ids[i]
        key_j = np.where(tr.confirmed[j], 0, 1) * (1 << 40) + tr.ids[j]
        lose = np.where(key_i > key_j, i, j)
        win = np.where(key_i > key_j, j, i)
        # the survivor keeps the evidence of what it absorbs
        np.maximum.at(tr.lex0, win, tr.lex0[lose])
        np.maximum.at(tr.lex, win, tr.lex[lose])
        np.maximum.at(tr.radar_scans, win, tr.radar_scans[lose])
        np.maximum.at(tr.bal_t, win, tr.bal_t[lose])
        np.logical_or.at(tr.multi, win, tr.multi[lose])
        keep[lose] = False
        self.stats["merged"] += int((~keep).sum())
        # each absorbed track goes to one survivor: that of its first pair
        first = np.unique(lose, return_index=True)[1]
        lose, win = lose[first], win[first]
        if cfg.merge_fuse:
            fuse = tr.ballistic[lose] | tr.ballistic[win]
            self._fuse_states(lose[fuse], win[fuse])
        # absorbed -> survivor, followed through chains (a winner that lost another pair)
        src, dst = tr.ids[lose], tr.ids[win]
        o = np.argsort(src)
        src, dst = src[o], dst[o]
        for _ in range(src.size):
            pos = np.clip(np.searchsorted(src, dst), 0, src.size - 1)
            hop = src[pos] == dst
            if not hop.any():
                break
            dst = np.where(hop, dst[pos], dst)
        self._merged.append(np.stack((src, dst), axis=1))
        return keep

    def _fuse_states(self, lose: np.ndarray, win: np.ndarray) -> None:
        """Track-to-track fusion of merged duplicates (one pair per absorbed track): each
        survivor ``win`` that loses no pair itself takes the covariance intersection (equal
        weights) of its state and those of the tracks it absorbs (``lose``), predicted to
        its own time::

            Y = (sum_k P_k^-1) / n        x = Y^-1 (sum_k P_k^-1 x_k) / n

        consistent whatever the tracks' errors share (the same reports, or none). The
        survivor keeps its id; its estimate is no longer only that of the older track."""
        tr = self.tracks
        ok = ~np.isin(win, lose)
        lose, win = lose[ok], win[ok]
        if lose.size == 0:
            return
        xl, Pl = self._predict(tr.take(lose), tr.t[win])
        w = np.unique(win)
        Yw = np.linalg.inv(tr.P[w])
        Yl = np.linalg.inv(Pl)
        Y = Yw.copy()
        y = np.einsum("nij,nj->ni", Yw, tr.x[w])
        k = np.searchsorted(w, win)
        np.add.at(Y, k, Yl)
        np.add.at(y, k, np.einsum("nij,nj->ni", Yl, xl))
        n = 1.0 + np.bincount(k, minlength=w.size)
        P = np.linalg.inv(Y / n[:, None, None])
        P = 0.5 * (P + np.swapaxes(P, 1, 2))
        tr.x[w] = np.einsum("nij,nj->ni", P, y / n[:, None])
        tr.P[w] = P
        tr.xm[w] = tr.x[w, None]
        tr.Pm[w] = tr.P[w, None]
        np.maximum.at(tr.fllr, win, tr.fllr[lose])

    def _above_heard(
        self, x: np.ndarray, P: np.ndarray, i: np.ndarray, j: np.ndarray
    ) -> np.ndarray:
        """Pairs where track ``i`` has a measured altitude certainly (``alt_gate_d2``)
        above the range of the post that last heard track ``j``, whose altitude nothing
        measured."""
        cfg = self.cfg
        known = P[:, 2, 2] < cfg.ex_alt_known_sd_m**2
        low = x[i, 2] - np.sqrt(cfg.alt_gate_d2 * np.maximum(P[i, 2, 2], 0.0))
        return known[i] & ~known[j] & (low > self._heard_ceiling(j))

    def _heard_ceiling(self, i: np.ndarray) -> np.ndarray:
        """Altitude below which tracks ``i`` fly if a post heard them: the range of the
        post that last did (inf where none has)."""
        return np.nan_to_num(self.tracks.ac[i, 3], nan=np.inf)

    def state(self, t: float) -> TrackState:
        """All live tracks predicted to ``t`` (nothing is modified)."""
        tr = self.tracks
        return self._state(t, *self._predict(tr, np.full(len(tr), float(t))))

    def _state(
        self, t: float, x: np.ndarray, P: np.ndarray, read: tuple | None = None
    ) -> TrackState:
        """The TrackState of the live tracks from their states ``x``, ``P`` at ``t``
        (``read``: the classifier's (probabilities, class) of them, when already computed).
        A track read as ballistic, or moving under gravity, within the last
        ``ballistic_memory_s`` that the classifier now reads 'unknown' or 'aircraft' is
        reported as 'ballistic'."""
        tr = self.tracks
        if len(tr) == 0:
            return TrackState.empty(t)
        prob, cls = read if read is not None else class_probabilities(x, P, tr.hint, tr.fllr)
        mem = self.cfg.ballistic_memory_s
        if mem > 0:
            vague = (cls == CLS_CODE["unknown"]) | (cls == CLS_CODE["aircraft"])
            cls = np.where(vague & (t - tr.bal_t <= mem), CLS_CODE["ballistic"], cls)
        return TrackState(
            t=float(t),
            ids=tr.ids.copy(),
            x=x,
            P=P,
            cls=cls,
            cls_prob=prob,
            confirmed=tr.confirmed.copy(),
            last_update=tr.last_update.copy(),
            n_updates=tr.n_upd.copy(),
            key=tr.key.copy(),
        )

    # ------------------------------------------------------ out of sequence
    def _rollback(self, now: dict, t_late: float) -> tuple[dict, list[dict], dict]:
        """Restore the last snapshot before ``t_late``.

        Returns (reports to process in time order, late-report groups to re-apply
        directly afterwards, reports too old for any snapshot).
        """
        snaps = [s for s in self._snaps if s[0] <= t_late]
        if not snaps:
            first = self._snaps[0][0] if self._snaps else math.inf
            old = (now["t"] <= self.t_done) & (now["t"] < first)
            too_old = _take(now, old)
            now = _take(now, ~old)
            late = now["t"] <= self.t_done
            if not late.any():
                return now, [], too_old
            t_late = float(now["t"][late].min())
            snaps = [s for s in self._snaps if s[0] <= t_late]
        else:
            too_old = _empty_reports()
        t_snap, tr, nid, k, heard, clutter = snaps[-1]
        self.tracks = tr.copy()
        self.next_id = nid
        self._heard = dict(heard)
        self._clutter = clutter.copy()
        # tracks deleted after the snapshot live again
        self._lost = self._lost.take(self._lost.t_del < t_snap)
        fd = self._fast_dead
        self._fast_dead = {k: v[fd["t_del"] < t_snap] for k, v in fd.items()}
        self._snaps = [s for s in self._snaps if s[0] < t_snap]
        self._late_in_state = k
        redo = self._late[k - self._late_base :]
        store = _empty_reports()
        for c in self._store:
            store = _cat(store, c)
        again = store["t"] >= t_snap
        self.stats["rollbacks"] += 1
        self.stats["reprocessed"] += int(again.sum())
        self._store = [_take(store, ~again)]
        return _cat(_take(store, again), now), redo, too_old

    def _direct(self, r: dict) -> None:
        """Direct late update: bins of late reports against tracks retrodicted to them."""
        self._bins(r)
        self._late_in_state += 1

    # ------------------------------------------------------------ processing
    def _bins(self, r: dict, snapshots: bool = False) -> None:
        """Run time-sorted reports bin by bin (optionally taking rollback snapshots)."""
        n = r["t"].shape[0]
        if n == 0:
            return
        cfg = self.cfg
        cuts = self._cuts(r)
        starts = np.concatenate(([0], cuts)).tolist()
        ends = np.concatenate((cuts, [n])).tolist()
        for s, e in zip(starts, ends, strict=True):
            if snapshots:
                t0 = float(r["t"][s])
                last = self._snaps[-1][0] if self._snaps else -math.inf
                if t0 >= last + cfg.snapshot_every_s:
                    snap = (
                        t0,
                        self.tracks.copy(),
                        self.next_id,
                        self._late_in_state,
                        dict(self._heard),
                        self._clutter.copy(),
                    )
                    self._snaps.append(snap)
            self._bin(_take(r, slice(s, e)))

    def _cuts(self, r: dict) -> np.ndarray:
        """Bin boundaries of time-sorted reports: the absolute ``bin_s`` grid and every
        ``advance`` time, so a replay after a rollback cuts exactly where the first
        pass did (and a sensor's successive scans between two ticks stay apart)."""
        t = r["t"]
        cuts = np.flatnonzero(np.diff(np.floor(t / self.cfg.bin_s))) + 1
        if self._ticks:
            tk = np.asarray(self._ticks)
            tk = tk[(tk >= t[0]) & (tk < t[-1])]
            if tk.size:
                cuts = np.union1d(cuts, np.searchsorted(t, tk, "right"))
                cuts = cuts[(cuts > 0) & (cuts < t.size)]
        return cuts

    def _process(self, r: dict) -> None:
        """Process time-sorted in-order reports, with snapshots, keeping them for replay."""
        if r["t"].shape[0] == 0:
            return
        self._bins(r, snapshots=True)
        self._store.append(r)

    def _prune(self) -> None:
        """Forget snapshots, stored reports and late groups no rollback can need."""
        horizon = self.t_done - self.cfg.rollback_s
        keep_from = 0
        for i, s in enumerate(self._snaps):
            if s[0] <= horizon:
                keep_from = i
        self._snaps = self._snaps[keep_from:]
        if self._snaps:
            t0 = self._snaps[0][0]
            self._store = [c for c in self._store if c["t"].size and c["t"].max() >= t0]
            while self._ticks and self._ticks[0] < t0:
                self._ticks.pop(0)
            k0 = self._snaps[0][3]
            if k0 > self._late_base:
                del self._late[: k0 - self._late_base]
                self._late_base = k0

    def _predict(self, tr: _Tracks, t_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictor: each track from its own time to ``t_to`` (NCV, gravity if ballistic)."""
        cfg = self.cfg
        dt = t_to - tr.t
        q_h = np.where(tr.ballistic, cfg.q_ballistic_h, cfg.q_h)
        q_v = np.where(tr.ballistic, cfg.q_ballistic, cfg.q_v)
        return ncv_predict(tr.x, tr.P, dt, q_h, q_v, gravity=tr.ballistic)

    def _imm_predict(self, xm, Pm, mu, dt, q_h, q_v, grav):
        """IMM predictor: mix, then predict each mode (NCV, CT left, CT right) to ``dt``.

        Returns (mode states (n, 3, 6), covariances (n, 3, 6, 6), predicted mode
        probabilities c (n, 3)). Gravity is added in every mode of ballistic tracks.
        """
        cfg = self.cfg
        T = imm_transition(dt, np.asarray(cfg.imm_sojourn_s, float))
        x0, P0, c = imm_mix(xm, Pm, mu, T)
        xo = np.empty_like(x0)
        Po = np.empty_like(P0)
        xo[:, 0], Po[:, 0] = ncv_predict(x0[:, 0], P0[:, 0], dt, q_h, q_v, gravity=grav)
        w = np.full(dt.shape[0], np.deg2rad(cfg.imm_turn_deg_s))
        if cfg.imm_turn_accel > 0:
            v = np.hypot(x0[:, 0, 3], x0[:, 0, 4])
            w = np.minimum(w, cfg.imm_turn_accel / np.maximum(v, 1.0))
        Q = white_accel_Q(dt, cfg.q_h, cfg.q_v)
        for j, om in ((1, w), (2, -w)):
            xo[:, j], Po[:, j] = linear_predict(x0[:, j], P0[:, j], ct_transition(dt, om), Q)
            if grav.any():
                xo[grav, j, 2] -= 0.5 * G * dt[grav] ** 2
                xo[grav, j, 5] -= G * dt[grav]
        return xo, Po, c

    def _merge_acoustic(self, r: dict) -> tuple[dict, np.ndarray, np.ndarray]:
        """Merge co-temporal nearby acoustic reports into one (centroid, shrunk sigma).

        Returns (reports, number of distinct sensors behind each, hint log-likelihoods).
        """
        hll = hint_loglik(r["cls"])
        nsrc = np.ones(r["t"].shape[0], np.int64)
        ac = np.flatnonzero(r["kind"] == ACOUSTIC)
        if ac.size < 2:
            return r, nsrc, hll
        pos = np.stack((r["x"][ac], r["y"][ac]), axis=1)
        lab = cluster_points(pos, self.cfg.acoustic_merge_m)
        u, inv, cnt = np.unique(lab, return_inverse=True, return_counts=True)
        if u.size == ac.size:
            return r, nsrc, hll
        k = u.size
        w = 1.0 / r["sigma"][ac] ** 2
        sw = np.bincount(inv, w, k)
        mx = np.bincount(inv, w * r["x"][ac], k) / sw
        my = np.bincount(inv, w * r["y"][ac], k) / sw
        mt = np.bincount(inv, r["t"][ac], k) / cnt
        sig = np.sqrt(1.0 / sw)  # = sigma / sqrt(k) for equal sigmas
        sig_mean = np.bincount(inv, r["sigma"][ac], k) / cnt
        sig = np.maximum(sig, 0.5 * sig_mean)  # posts' offsets are not fully independent
        # distinct sensors per cluster
        pair = np.unique(np.stack((inv, r["sensor"][ac]), axis=1), axis=0)
        ns = np.bincount(pair[:, 0], minlength=k)
        first = np.full(k, -1, np.int64)
        first[inv[::-1]] = ac[::-1]  # the first report of each cluster represents it
        rep = first
        merged = _take(r, rep)
        merged["x"], merged["y"], merged["t"], merged["sigma"] = mx, my, mt, sig
        mh = np.zeros((k, NCLS))
        np.add.at(mh, inv, hll[ac])
        other = np.flatnonzero(r["kind"] != ACOUSTIC)
        out = _cat(_take(r, other), merged)
        nsrc = np.concatenate((nsrc[other], ns))
        hll = np.concatenate((hll[other], mh))
        return out, nsrc, hll

    def _bin(self, r: dict) -> None:
        """One scan: merge, gate, associate, update, initiate, confirm, delete."""
        cfg = self.cfg
        if cfg.existence:
            # reports come time-sorted: on repeated sensors the last (latest) write wins
            s_ok = r["sensor"] >= 0
            si = r["sensor"][s_ok]
            self._last_rep[si] = np.maximum(self._last_rep[si], r["t"][s_ok])
        r, nsrc, hll = self._merge_acoustic(r)
        nm = r["t"].shape[0]
        t_ref = float(r["t"].max())
        tr = self.tracks
        nt = len(tr)
        q_h = np.where(tr.ballistic, cfg.q_ballistic_h, cfg.q_h)
        xp, Pp = ncv_predict_pos(tr.x, tr.P, t_ref - tr.t, q_h)
        mpos = np.stack((r["x"], r["y"]), axis=1)
        ti, mj, cost = gate_pairs(
            xp, Pp, mpos, r["sigma"] ** 2, cfg.gate_d2, tvel=tr.x[:, 3:5], mdt=r["t"] - t_ref
        )
        if cfg.alt_gate_d2 > 0 and ti.size:
            ti, mj, cost = self._alt_gate(ti, mj, cost, r)
        if cfg.landed_gate and ti.size:
            up = ~self._came_down(t_ref)[ti]
            ti, mj, cost = ti[up], mj[up], cost[up]
        # confirmed tracks choose first; tentative tracks share what is left (as the
        # initiator's holding tracks do in Stone Soup), so a fresh track never steals
        # a report from an established one
        conf = tr.confirmed[ti]
        at, am = gnn_assign(ti[conf], mj[conf], cost[conf], nt, nm)
        used = np.zeros(nm, bool)
        used[am] = True
        free = ~conf & ~used[mj]
        if free.any():
            bt, bm = gnn_assign(ti[free], mj[free], cost[free], nt, nm)
            at = np.concatenate((at, bt))
            am = np.concatenate((am, bm))
            used[bm] = True
        updated = np.zeros(nt, bool)
        updated[at] = True
        self._update(at, am, r, nsrc, hll)
        at_all, am_all = at, am
        # second round: a report left over from a *different* sensor than the one that
        # updated a track in this scan also updates it (two radars, radar + acoustic)
        absorb = cfg.absorb and at.size and at.size < nm
        if absorb:
            upd2 = np.full(nt, NO_SENSOR, np.int64)
        if at.size and at.size < nm:
            upd_sensor = np.full(nt, NO_SENSOR, np.int64)
            upd_sensor[at] = r["sensor"][am]
            us = upd_sensor[ti]
            ok = ~used[mj] & (us != NO_SENSOR) & (us != r["sensor"][mj])
            if ok.any():
                bt, bm = gnn_assign(ti[ok], mj[ok], cost[ok], nt, nm)
                self._update(bt, bm, r, nsrc, hll)
                used[bm] = True
                at_all, am_all = np.concatenate((at, bt)), np.concatenate((am, bm))
                if absorb:
                    upd2[bt] = r["sensor"][bm]
        free = ~used
        if absorb and free.any():
            # a left-over report in the gate of a track that other sensors updated in this
            # scan is the same target heard once more, not a new one: it starts no track
            # (a report of a sensor that updated the track in this scan is another target)
            sm = r["sensor"][mj]
            g = free[mj] & updated[ti] & (upd_sensor[ti] != sm) & (upd2[ti] != sm)
            if not cfg.merge_ballistic:
                g &= ~tr.ballistic[ti]
            if g.any():
                free[mj[g]] = False
                self.stats["absorbed"] += int(np.unique(mj[g]).size)
        # observer reports no confirmed track took: the clutter map's chance reports (a
        # threat's first few too)
        chance = (r["kind"] == OBSERVER) & cfg.obs_clutter
        chance[am_all[tr.confirmed[at_all]]] = False
        self._misses(r, updated, xp)
        if cfg.fast_init:
            self._initiate_fast(r, free, nsrc, hll)
        if cfg.fast_acoustic or cfg.slow_acoustic:
            # acoustic reports that no confirmed or two-point track took
            est = tr.confirmed[:nt] | tr.fast[:nt] | tr.chain[:nt]
            taken = np.zeros(nm, bool)
            taken[am_all[est[at_all]]] = True
            slow = self._initiate_two_post(r, r["kind"] == ACOUSTIC, ~taken, nsrc, hll)
            self._refute_fast(at_all, am_all, slow)
        self._initiate_grouped(r, free, nsrc, hll)
        if chance.any():
            # counted after this scan's updates and starts have used the map
            self._clutter.add(t_ref, r["x"][chance], r["y"][chance], np.ones(int(chance.sum())))
        self._confirm()
        self._delete(t_ref, Pp, updated)

    def _came_down(self, t: float) -> np.ndarray:
        """Per track: a missile that came down by ``t`` - moving under gravity (its motion
        model), falling, and predicted more than 3 sigma below the ground."""
        tr = self.tracks
        dt = t - tr.t
        z = tr.x[:, 2] + tr.x[:, 5] * dt - 0.5 * G * dt * dt
        var = tr.P[:, 2, 2] + 2.0 * dt * tr.P[:, 2, 5] + dt * dt * tr.P[:, 5, 5]
        fell = (tr.x[:, 5] < 0.0) & (z + 3.0 * np.sqrt(np.maximum(var, 0.0)) < 0.0)
        return fell & tr.ballistic

    def _alt_gate(
        self, ti: np.ndarray, mj: np.ndarray, cost: np.ndarray, r: dict
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Drop gated pairs whose altitudes cannot agree (``alt_gate_d2`` sigmas apart).

        A track's altitude is *measured* when its sd is below ``ex_alt_known_sd_m``:
        predicted over the step (gravity's fall added as spread) it must agree with a
        report's measured altitude, and lie below an acoustic post's range for the post's
        report (a post hears nothing higher up). A track with no measured altitude that a
        post heard flies below that post's range: a report measured certainly higher is
        another target (an airliner's plots beside a cruise missile the posts hear).
        """
        tr = self.tracks
        cfg = self.cfg
        z = r["z"][mj]
        has = np.isfinite(z)
        ac = ~has & (r["kind"][mj] == ACOUSTIC)
        use = has | ac
        if not use.any():
            return ti, mj, cost
        t, m, has = ti[use], mj[use], has[use]
        k = math.sqrt(cfg.alt_gate_d2)
        dt = r["t"][m] - tr.t[t]
        zp = np.maximum(tr.x[t, 2] + tr.x[t, 5] * dt, 0.0)  # nothing flies underground
        q_v = np.where(tr.ballistic[t], cfg.q_ballistic, cfg.q_v)
        var = tr.P[t, 2, 2] + 2.0 * dt * tr.P[t, 2, 5] + dt * dt * tr.P[t, 5, 5]
        var = np.maximum(var, 0.0) + q_v * np.abs(dt) ** 3 / 3.0 + (0.5 * G * dt * dt) ** 2
        known = tr.P[t, 2, 2] < cfg.ex_alt_known_sd_m**2
        zr = np.where(has, z[use], 0.0)
        sz = np.where(np.isfinite(r["sigma_z"][m]), r["sigma_z"][m], r["sigma"][m])
        bad = has & known & ((zr - zp) ** 2 > cfg.alt_gate_d2 * (var + sz**2))
        bad &= np.abs(zr - zp) > cfg.alt_gate_min_m
        bad |= has & ~known & (zr - k * sz > self._heard_ceiling(t))
        bad |= ~has & known & (zp - k * np.sqrt(var) > self._sensor_range(r["sensor"][m]))
        if not bad.any():
            return ti, mj, cost
        self.stats["alt_gated"] += int(bad.sum())
        ok = np.ones(ti.size, bool)
        ok[np.flatnonzero(use)[bad]] = False
        return ti[ok], mj[ok], cost[ok]

    def _update(self, at: np.ndarray, am: np.ndarray, r: dict, nsrc, hll) -> None:
        """Updater: predict each assigned track to its report's time, then Kalman update."""
        if at.size == 0:
            return
        cfg = self.cfg
        tr = self.tracks
        tm = r["t"][am]
        dt = tm - tr.t[at]
        obs = (r["kind"][am] == OBSERVER) & cfg.obs_clutter & cfg.existence
        if obs.any():
            # innovation of observer reports (isotropic spread, squared distance) and time
            # since the track's last update, before it
            ao, mo, do = at[obs], am[obs], dt[obs]
            gate_s2 = 0.5 * (tr.P[ao, 0, 0] + tr.P[ao, 1, 1] + r["sigma"][mo] ** 2 * 2.0)
            gate_s2 += 0.5 * (tr.P[ao, 3, 3] + tr.P[ao, 4, 4]) * do**2
            nu2 = (tr.x[ao, 0] + tr.x[ao, 3] * do - r["x"][mo]) ** 2
            nu2 += (tr.x[ao, 1] + tr.x[ao, 4] * do - r["y"][mo]) ** 2
            obs_lr = self._observer_lr(r, mo, gate_s2, nu2, tm[obs] - tr.last_update[ao])
        grav = tr.ballistic[at]
        q_h = np.where(grav, cfg.q_ballistic_h, cfg.q_h)
        q_v = np.where(grav, cfg.q_ballistic, cfg.q_v)
        has_z = np.isfinite(r["z"][am])
        has_v = np.isfinite(r["vx"][am]) & np.isfinite(r["vy"][am])
        has_vz = np.isfinite(r["vz"][am])
        code = signature_codes(has_z, has_v, has_vz)
        sig = r["sigma"][am]
        # a chain track's repeated reports of one post say only "still in its range": while
        # the track is predicted there they leave its state as it was (a post's run of
        # updates at the post would drag the track to a halt there); beyond, they update it
        hold = (
            cfg.slow_ac_hold
            & tr.chain[at]
            & (r["kind"][am] == ACOUSTIC)
            & (r["sensor"][am] == tr.last_sensor[at])
        )
        if hold.any():
            px = tr.x[at, 0] + tr.x[at, 3] * dt - r["x"][am]
            py = tr.x[at, 1] + tr.x[at, 4] * dt - r["y"][am]
            hold &= np.hypot(px, py) <= sig
            ah = at[hold]
            kept = (tr.x[ah], tr.P[ah], tr.xm[ah], tr.Pm[ah], tr.mu[ah], tr.t[ah])
        sz = np.where(np.isfinite(r["sigma_z"][am]), r["sigma_z"][am], sig)
        sv = np.full(at.size, cfg.sigma_v)
        meas = (r["x"][am], r["y"][am], r["z"][am], r["vx"][am], r["vy"][am], r["vz"][am])
        # IMM where the step is long enough for the modes to differ (a 3 deg/s turn moves
        # a drone ~1 m off the NCV prediction in 1 s); a single NCV step elsewhere
        use = cfg.imm & (np.abs(dt) >= cfg.imm_min_dt_s) & (np.abs(dt) <= cfg.imm_max_dt_s)
        x = np.empty((at.size, 6))
        P = np.empty((at.size, 6, 6))
        if (~use).any():
            k = ~use
            xk, Pk = ncv_predict(tr.x[at[k]], tr.P[at[k]], dt[k], q_h[k], q_v[k], gravity=grav[k])
            for code_c in np.unique(code[k]).tolist():
                g = code[k] == code_c
                comp = SIGNATURE_LIST[code_c]
                z, R = measurement_arrays(
                    comp, *(m[k][g] for m in meas), sig[k][g], sz[k][g], sv[k][g]
                )
                xk[g], Pk[g], _, _ = kalman_update(xk[g], Pk[g], z, R, comp)
            x[k], P[k] = xk, Pk
            tr.xm[at[k]] = xk[:, None]
            tr.Pm[at[k]] = Pk[:, None]
        if use.any():
            ai = at[use]
            xm, Pm, c = self._imm_predict(
                tr.xm[ai], tr.Pm[ai], tr.mu[ai], dt[use], q_h[use], q_v[use], grav[use]
            )
            M = xm.shape[1]
            ll = np.zeros((ai.size, M))
            for code_c in np.unique(code[use]).tolist():
                g = code[use] == code_c
                comp = SIGNATURE_LIST[code_c]
                z, R = measurement_arrays(
                    comp, *(m[use][g] for m in meas), sig[use][g], sz[use][g], sv[use][g]
                )
                ng = int(g.sum())
                xf, Pf, d2, lds = kalman_update(
                    xm[g].reshape(ng * M, 6),
                    Pm[g].reshape(ng * M, 6, 6),
                    np.repeat(z, M, axis=0),
                    np.repeat(R, M, axis=0),
                    comp,
                )
                xm[g] = xf.reshape(ng, M, 6)
                Pm[g] = Pf.reshape(ng, M, 6, 6)
                ll[g] = (-0.5 * (d2 + lds)).reshape(ng, M)
            lw = np.log(np.maximum(c, 1e-300)) + ll
            lw -= lw.max(axis=1, keepdims=True)
            mu = np.exp(lw)
            mu = np.maximum(mu / mu.sum(axis=1, keepdims=True), 1e-4)
            mu /= mu.sum(axis=1, keepdims=True)
            x[use], P[use] = imm_combine(xm, Pm, mu)
            tr.xm[ai] = xm
            tr.Pm[ai] = Pm
            tr.mu[ai] = mu
        tr.x[at] = x
        tr.P[at] = P
        tr.t[at] = tm
        if hold.any():
            tr.x[ah], tr.P[ah], tr.xm[ah], tr.Pm[ah], tr.mu[ah], tr.t[ah] = kept
        tr.last_update[at] = np.maximum(tr.last_update[at], tm)
        tr.n_upd[at] += 1
        tr.hint[at] += hll[am]
        s = r["sensor"][am]
        kind = r["kind"][am]
        tr.obs_only[at] &= kind == OBSERVER
        if cfg.existence:
            new_s = (s != tr.last_sensor[at]) | (s == ANONYMOUS_OBSERVER)
            ll = np.where(new_s, math.log(cfg.ex_lr_new), math.log(cfg.ex_lr_same))
            if obs.any():
                # a report from the same phone again keeps ex_lr_same
                ll[obs] = np.where(new_s[obs], np.log(obs_lr), ll[obs])
            ll[(kind == RADAR) | (nsrc[am] >= 2)] = math.log(cfg.ex_lr_multi)
            lx = np.minimum(tr.lex[at] + ll, _logit(cfg.ex_max))
            tr.lex0[at] = lx
            tr.lex[at] = lx
            tr.ex_acc[at] = 0.0
        radar_new = (kind == RADAR) & (tm > tr.last_radar_t[at] + 1e-6)
        # scan period of the track's radar: shortest interval between two plots in a row of
        # one radar on it (radar_slots: also between two plots of one radar, _note_radar_plots)
        gap = tm - tr.last_radar_t[at]
        same = radar_new & (s == tr.last_radar[at]) & (gap >= 1.0)
        tr.radar_dt[at] = np.where(same, np.minimum(tr.radar_dt[at], gap), tr.radar_dt[at])
        if cfg.radar_slots:
            self._note_radar_plots(at[kind == RADAR], s[kind == RADAR], tm[kind == RADAR])
        tr.last_radar[at] = np.where(kind == RADAR, s, tr.last_radar[at])
        tr.radar_scans[at] += radar_new
        tr.last_radar_t[at] = np.where(
            kind == RADAR, np.maximum(tr.last_radar_t[at], tm), tr.last_radar_t[at]
        )
        s0 = tr.sensor0[at]
        self._count_posts(at, am, r)
        # an anonymous observer report is another person's, as for existence above (phone
        # users that name themselves keep one code each, see ingest's SensorRegistry.code)
        tr.multi[at] |= (
            (nsrc[am] >= 2) | ((s0 != NO_SENSOR) & (s0 != s)) | (s == ANONYMOUS_OBSERVER)
        )
        tr.sensor0[at] = np.where(s0 == NO_SENSOR, s, s0)
        tr.last_sensor[at] = s
        tr.misses[at] = 0
        # gravity only for tracks with a measured altitude that look ballistic
        has_alt = P[:, 2, 2] < 1000.0**2
        steep = has_alt & (np.abs(x[:, 5]) - 3.0 * np.sqrt(np.maximum(P[:, 5, 5], 0.0)) >= STEEP_VZ)
        if cfg.ballistic_hint > 0:
            # a measured steep climb or dive is a missile's: its class stays ballistic over
            # the apogee, where a short-range rocket flies level at aircraft speeds
            tr.hint[at[steep], THREAT_CLASSES.index("ballistic")] += cfg.ballistic_hint
        if cfg.fall_test and has_z.any():
            vz = r["vz"][am][has_z] if cfg.fall_test_vz else None
            self._fall_test(at[has_z], tm[has_z], r["z"][am][has_z], sz[has_z], vz)
        bal = np.zeros(at.size, bool)
        if has_alt.any():
            ah = at[has_alt]
            prob, _ = class_probabilities(x[has_alt], P[has_alt], tr.hint[ah], tr.fllr[ah])
            bal[has_alt] = prob[:, THREAT_CLASSES.index("ballistic")] > 0.5
        if cfg.steep_gravity:
            # whatever its class, a track measured climbing or falling steeply coasts under
            # gravity (a rocket's track coasting at its climb rate rose tens of km)
            bal |= steep
        tr.ballistic[at] = bal

    def _note_radar_plots(self, at: np.ndarray, s: np.ndarray, tm: np.ndarray) -> None:
        """Scan periods from radar plots (radars ``s`` at ``tm`` on tracks ``at``): a track's
        ``radar_dt_slots`` is the shortest interval (>= 1 s) between two plots of one radar on it,
        over the last ``RADAR_SLOTS`` radars that plotted it, so that radars taking turns on
        one track (each plot from another radar) still give it a scan period."""
        if at.size == 0:
            return
        tr = self.tracks
        hit = tr.rslot[at] == s[:, None]
        has = hit.any(axis=1)
        k = np.where(has, hit.argmax(axis=1), tr.rslot_t[at].argmin(axis=1))
        gap = tm - tr.rslot_t[at, k]
        same = has & (gap >= 1.0)
        old = tr.radar_dt_slots[at]
        tr.radar_dt_slots[at] = np.where(same, np.minimum(old, gap), old)
        np.minimum.at(self._radar_period, s[same], gap[same])
        w = ~has | (gap > 0.0)
        tr.rslot[at[w], k[w]] = s[w]
        tr.rslot_t[at[w], k[w]] = tm[w]

    def _fall_test(
        self,
        at: np.ndarray,
        tm: np.ndarray,
        z: np.ndarray,
        sz: np.ndarray,
        vz: np.ndarray | None = None,
    ) -> None:
        """Fold measured altitudes ``z`` (sd ``sz``), and vertical speeds ``vz`` where
        finite (sd ``fall_vz_meas_sd``), at ``tm`` into the fall test of tracks ``at``: a
        track's first measured altitude starts both filters there (vertical speed ``vz``
        with sd ``fall_vz_meas_sd`` if measured, else 0 with sd ``fall_vz_sd``); a
        measurement older than the filters' time is left out."""
        tr = self.tracks
        cfg = self.cfg
        new = ~np.isfinite(tr.ft[at])
        if new.any():
            # from the altitude alone: the track's vertical speed was estimated under
            # the level model and would bias the test
            an = at[new]
            tr.fx[an] = 0.0
            tr.fx[an, :, 0] = z[new, None]
            tr.fP[an] = 0.0
            tr.fP[an, :, 0, 0] = sz[new, None] ** 2
            tr.fP[an, :, 1, 1] = cfg.fall_vz_sd**2
            if vz is not None:
                mv = np.isfinite(vz[new])
                tr.fx[an[mv], :, 1] = vz[new][mv, None]
                tr.fP[an[mv], :, 1, 1] = cfg.fall_vz_meas_sd**2
            tr.ft[an] = tm[new]
            tr.fllr[an] = 0.0
        old = ~new & (tm >= tr.ft[at])
        if not old.any():
            return
        ao = at[old]
        fx, fP, llr = fall_test(
            tr.fx[ao],
            tr.fP[ao],
            tm[old] - tr.ft[ao],
            z[old],
            sz[old] ** 2,
            cfg.fall_q,
            None if vz is None else vz[old],
            cfg.fall_vz_meas_sd**2,
        )
        lo, hi = cfg.fall_llr_clip
        tr.fx[ao], tr.fP[ao], tr.ft[ao] = fx, fP, tm[old]
        tr.fllr[ao] = np.clip(tr.fllr[ao] + llr, lo, hi)

    def _observer_lr(
        self, r: dict, am: np.ndarray, s2: np.ndarray, nu2: np.ndarray, since: np.ndarray
    ) -> np.ndarray:
        """Likelihood ratio of observer reports ``am`` against chance reports (see
        ``obs_clutter``): ``1 - obs_pd + obs_pd * g / (lambda * dt)``, ``g`` the density
        (:func:`~airwarn.fuse.models.observer_density`, spread ``s2`` per axis) of the
        innovation ``nu2`` (squared metres), ``dt`` the time since the track's last update
        (10 s to ``observer_max_age_s``); at most ``ex_lr_new``."""
        cfg = self.cfg
        lam = self._clutter.density(self.t_done, r["x"][am], r["y"][am])
        dt = np.clip(since, 10.0, cfg.observer_max_age_s)
        g = observer_density(nu2, s2)
        lr = 1.0 - cfg.obs_pd + cfg.obs_pd * g / np.maximum(lam * dt, 1e-300)
        return np.minimum(lr, cfg.ex_lr_new)

    def _sensor_range(self, s: np.ndarray) -> np.ndarray:
        """Registered range of each sensor index (0 for unregistered ones)."""
        out = np.zeros(s.shape)
        ok = (s >= 0) & (s < self._srange.size)
        out[ok] = self._srange[s[ok]]
        return out

    def _count_posts(self, at: np.ndarray, am: np.ndarray, r: dict) -> None:
        """Count the sensors heard in turn on each track. On a two-point track only an
        acoustic post that a fast mover could reach from the last one counts (the pair
        rule of ``fast_acoustic`` again, and ahead within 60 degrees of its course)."""
        cfg = self.cfg
        tr = self.tracks
        s = r["sensor"][am]
        ac = r["kind"][am] == ACOUSTIC
        new = s != tr.last_sensor[at]
        prev = tr.ac[at]
        dx = r["x"][am] - prev[:, 0]
        dy = r["y"][am] - prev[:, 1]
        dt = r["t"][am] - prev[:, 2]
        d = np.hypot(dx, dy)
        rng = self._sensor_range(s)
        with np.errstate(invalid="ignore"):
            v = tr.x[at, 3:5]
            ahead = (dt > 0) & (dx * v[:, 0] + dy * v[:, 1] >= 0.5 * d * np.hypot(v[:, 0], v[:, 1]))
            ok = ahead & self._fast_link(d, dt, rng, prev[:, 3])
            ok_slow = ahead & (d - rng - prev[:, 3] <= cfg.slow_ac_max_speed * dt)
            ok_slow &= d + rng + prev[:, 3] >= cfg.slow_ac_min_speed * dt
        fast_ac = tr.fast[at] & (tr.radar_scans[at] == 0)
        chain = tr.chain[at] & (tr.radar_scans[at] == 0)
        ok = np.where(chain, ok_slow, ok)
        two = fast_ac | chain
        # a chain track's count is of the posts on its line: another sensor's report (a
        # radar's plot, a phone's) confirms it only by that sensor's own rule
        tr.n_posts[at] += new & (~two | (ac & ok)) & (ac | ~tr.chain[at])
        upd = ac & (~two | ok | ~new)
        rep = np.stack((r["x"][am], r["y"][am], r["t"][am], rng), 1)
        tr.ac[at[upd]] = rep[upd]
        if cfg.fast_acoustic and chain.any():
            self._chain_to_fast(at, am, r, chain & ac & new & ~ok)
        tr.ac1[at[ac]] = rep[ac]

    def _set_velocity(self, i, vx: np.ndarray, vy: np.ndarray, var: np.ndarray) -> None:
        """Give tracks ``i`` a new horizontal velocity with variance ``var`` per axis, not
        correlated with the rest of the state, and collapse their turn modes onto it."""
        tr = self.tracks
        tr.x[i, 3] = vx
        tr.x[i, 4] = vy
        tr.P[i, 3:5, :] = 0.0
        tr.P[i, :, 3:5] = 0.0
        tr.P[i, 3, 3] = var
        tr.P[i, 4, 4] = var
        tr.xm[i] = tr.x[i, None]
        tr.Pm[i] = tr.P[i, None]

    def _fast_link(self, d: np.ndarray, dt: np.ndarray, ra: np.ndarray, rb: np.ndarray):
        """Whether two acoustic reports ``d`` apart and ``dt`` seconds apart, of posts with
        ranges ``ra`` and ``rb``, are a fast mover's (the pair rule of ``fast_acoustic``):
        even the shortest displacement the ranges allow takes ``fast_ac_min_speed`` or
        more, and the centres' at most ``fast_ac_max_speed``."""
        cfg = self.cfg
        ok = d - ra - rb >= cfg.fast_ac_min_speed * dt
        return ok & (d <= cfg.fast_ac_max_speed * dt)

    def _chain_to_fast(self, at: np.ndarray, am: np.ndarray, r: dict, cand: np.ndarray) -> None:
        """A chain (slow two-post) track whose last two acoustic reports, from two posts,
        only a fast mover links (the pair rule of ``fast_acoustic``) restarts as a two-point
        fast track at the later report: velocity = their position difference / time
        difference, ``n_posts`` = 2. Without it a cruise missile whose reports a chance
        chain took (they are then not free to start a fast pair) stayed unconfirmed for
        ten minutes of posts heard in turn on ``bench/foreign_raid.py`` seed 8."""
        cfg = self.cfg
        tr = self.tracks
        prev = tr.ac1[at]
        s = r["sensor"][am]
        dt = r["t"][am] - prev[:, 2]
        d = np.hypot(r["x"][am] - prev[:, 0], r["y"][am] - prev[:, 1])
        with np.errstate(invalid="ignore"):
            cand = cand & (dt >= cfg.bin_s) & (dt <= cfg.fast_ac_max_dt_s)
            cand &= self._fast_link(d, dt, self._sensor_range(s), prev[:, 3])
        if not cand.any():
            return
        i, m, dtc = at[cand], am[cand], dt[cand]
        s2 = r["sigma"][m] ** 2
        tr.x[i, 0] = r["x"][m]
        tr.x[i, 1] = r["y"][m]
        tr.P[i, :2, :] = 0.0
        tr.P[i, :, :2] = 0.0
        tr.P[i, 0, 0] = s2
        tr.P[i, 1, 1] = s2
        vx = (r["x"][m] - prev[cand, 0]) / dtc
        vy = (r["y"][m] - prev[cand, 1]) / dtc
        self._set_velocity(i, vx, vy, 2.0 * s2 / dtc**2)
        tr.chain[i] = False
        tr.fast[i] = True
        tr.n_posts[i] = 2
        tr.ac[i] = np.stack((r["x"][m], r["y"][m], r["t"][m], self._sensor_range(s[cand])), 1)
        tr.ac0[i] = prev[cand]
        self.stats["chain_to_fast"] += int(i.size)

    def _misses(self, r: dict, updated: np.ndarray, xp: np.ndarray) -> None:
        """Count radar scans in which the track's radar reported but not on this track."""
        tr = self.tracks
        n_old = xp.shape[0]
        if n_old == 0 or self._skind.size == 0:
            return
        rs = r["sensor"][(r["kind"] == RADAR) & (r["sensor"] >= 0)]
        if rs.size == 0:
            return
        active = np.zeros(self._skind.size, bool)
        active[rs] = True
        ls = tr.last_sensor[:n_old]
        lsc = np.clip(ls, 0, None)
        inr = np.hypot(xp[:, 0] - self._sx[lsc], xp[:, 1] - self._sy[lsc]) <= self._srange[lsc]
        miss = (ls >= 0) & active[lsc] & inr & ~updated[:n_old]
        tr.misses[:n_old] += miss

    def _initiate_fast(self, r: dict, free: np.ndarray, nsrc, hll) -> None:
        """Two-point initiator: pair free radar plots without velocity with one-plot
        tentative tracks of the same radar at a fast mover's distance; each pair starts a
        new track (velocity = position difference / time difference), the plot still
        starts its own one-plot track as well."""
        cfg = self.cfg
        tr = self.tracks
        idx = np.flatnonzero(free & (r["kind"] == RADAR) & ~np.isfinite(r["vx"]))
        if idx.size == 0 or len(tr) == 0:
            return
        cand = np.flatnonzero(
            ~tr.confirmed
            & (tr.n_upd == 1)
            & (tr.last_radar >= 0)
            & (tr.P[:, 3, 3] >= (0.5 * cfg.prior_vel_sd) ** 2)
        )
        if cand.size == 0:
            return
        # free plots of the bin x one-plot tracks (pairs only within one radar)
        dt = r["t"][idx, None] - tr.t[cand][None, :]
        dx = r["x"][idx, None] - tr.x[cand, 0][None, :]
        dy = r["y"][idx, None] - tr.x[cand, 1][None, :]
        ok = (r["sensor"][idx, None] == tr.last_radar[cand][None, :]) & (dt >= 1.0)
        ok &= dt <= cfg.fast_max_dt_s
        sp = np.hypot(dx, dy) / np.where(ok, dt, 1.0)
        ok &= (sp >= cfg.fast_min_speed) & (sp <= cfg.fast_max_speed)
        zr = r["z"][idx, None]
        z_ok = np.isfinite(zr) & (tr.P[cand, 2, 2] < 1000.0**2)[None, :]
        vz = np.where(z_ok, (zr - tr.x[cand, 2][None, :]) / np.where(ok, dt, 1.0), 0.0)
        ok &= np.abs(vz) <= cfg.fast_max_speed
        pi, ci = np.nonzero(ok)
        if pi.size == 0:
            return
        # one start per plot and per tentative track: the slowest consistent pairs
        at, am = gnn_assign(ci, pi, sp[pi, ci], cand.size, idx.size)
        if at.size == 0:
            return
        src = cand[at]
        rows = idx[am]
        d = dt[am, at]
        new = tr.take(src)
        new.ids = np.arange(self.next_id, self.next_id + src.size, dtype=np.int64)
        new.key = _hash_key(new.key, _report_key(_take(r, rows)))
        self.next_id += src.size
        new.x[:, 3] = dx[am, at] / d
        new.x[:, 4] = dy[am, at] / d
        zk = z_ok[am, at]
        new.x[:, 5] = np.where(zk, vz[am, at], new.x[:, 5])
        # velocity variance of the difference of two positions
        vv = (r["sigma"][rows] ** 2 + new.P[:, 0, 0]) / d**2
        vvz = (np.where(np.isfinite(r["sigma_z"][rows]), r["sigma_z"][rows], 1000.0) ** 2) / d**2
        new.P[:, 3:, :] = 0.0
        new.P[:, :, 3:] = 0.0
        new.P[:, 3, 3] = new.P[:, 4, 4] = vv
        new.P[:, 5, 5] = np.where(zk, vvz + new.P[:, 2, 2] / d**2, cfg.prior_vz_sd**2)
        new.fast[:] = True
        new.xm = np.repeat(new.x[:, None], 3, axis=1)
        new.Pm = np.repeat(new.P[:, None], 3, axis=1)
        n0 = len(tr)
        tr.extend(new)
        self._update(n0 + np.arange(src.size), rows, r, nsrc, hll)
        self.stats["fast_starts"] += int(src.size)

    def _refute_fast(self, at: np.ndarray, am: np.ndarray, slow: np.ndarray) -> None:
        """``fast_ac_refute``: tentative two-post fast tracks that took a dwelling post's
        report become ordinary tentative tracks of that post alone."""
        if not self.cfg.fast_ac_refute or not slow.any() or at.size == 0:
            return
        tr = self.tracks
        hit = tr.fast[at] & ~tr.confirmed[at] & (tr.radar_scans[at] == 0) & slow[am]
        if hit.any():
            i = np.unique(at[hit])
            tr.fast[i] = False
            # the pair's other post heard something else: another sensor must confirm it
            tr.multi[i] = False
            tr.sensor0[i] = tr.last_sensor[i]
            tr.n_posts[i] = 1
            # ... and its velocity is unknown again (the pair's was a fast mover's)
            self._set_velocity(i, 0.0, 0.0, self.cfg.prior_vel_sd**2)
            self.stats["fast_refuted"] += int(i.size)

    def _initiate_two_post(
        self, r: dict, acoustic: np.ndarray, free: np.ndarray, nsrc, hll
    ) -> np.ndarray:
        """Two-post initiator: pair the ``free`` acoustic reports (no confirmed or two-point
        track took them) with free recent reports of other posts that only a fast mover
        could link (see ``TrackerConfig.fast_acoustic``); each pair starts a two-point track
        at the later report, velocity = position difference / time difference, its variance
        (sigma_a^2 + sigma_b^2) / dt^2. Reports that start no fast track then try the slow
        pairs of ``slow_acoustic``. All ``acoustic`` reports are then remembered for the
        longer of the two windows (the taken ones only to measure how long each post
        heard). Returns which reports come from a post that has been hearing something
        for longer than a fast mover stays in its range (``fast_ac_dwell``)."""
        cfg = self.cfg
        h = self._heard
        t_ref = float(r["t"].max())
        keep_s = max(cfg.fast_ac_max_dt_s, cfg.slow_ac_max_dt_s if cfg.slow_acoustic else 0.0)
        old = h["t"] < t_ref - keep_s
        if old.any():
            h = {k: v[~old] for k, v in h.items()}
        ia = np.flatnonzero(acoustic)
        sa = r["sensor"][ia]
        ra = self._sensor_range(sa)
        if cfg.fast_ac_dwell and ia.size:
            slow_a, slow_h = self._slow_posts(r["t"][ia], sa, ra, h, t_ref)
            # once slow, always slow (pruning old reports shortens runs)
            h = {**h, "slow": h["slow"] | slow_h}
        else:
            slow_a = np.zeros(ia.size, bool)
        sel = free[ia] & ~slow_a
        started = np.zeros(ia.size, bool)
        idx, sj, rj = ia[sel], sa[sel], ra[sel]
        hf = np.flatnonzero(h["free"] & ~h["slow"])
        if cfg.fast_acoustic and idx.size and hf.size:
            hp = {k: v[hf] for k, v in h.items()}
            dt = r["t"][idx, None] - hp["t"][None, :]
            d = np.hypot(r["x"][idx, None] - hp["x"][None, :], r["y"][idx, None] - hp["y"][None, :])
            ok = (dt >= cfg.bin_s) & (dt <= cfg.fast_ac_max_dt_s)
            ok &= sj[:, None] != hp["sensor"][None, :]
            ok &= self._fast_link(d, np.where(ok, dt, 1.0), rj[:, None], hp["range"][None, :])
            pi, hi = np.nonzero(ok)
            if pi.size:
                # one start per report and per remembered report: the most recent pairs
                mem, am = gnn_assign(hi, pi, dt[pi, hi], hf.size, idx.size)
                self._start_two_post(r, idx[am], hp, mem, dt[am, mem], nsrc, hll, "fast")
                started[np.searchsorted(ia, idx[am])] = True
        if cfg.slow_acoustic and ia.size:
            self._initiate_slow_acoustic(r, ia[free[ia] & ~started], h, nsrc, hll)
        if ia.size:
            add = {
                "t": r["t"][ia],
                "x": r["x"][ia],
                "y": r["y"][ia],
                "sigma": r["sigma"][ia],
                "range": ra,
                "sensor": sa,
                "hll": hll[ia],
                "free": free[ia],
                "slow": slow_a,
            }
            h = {k: np.concatenate((v, add[k])) for k, v in h.items()}
        self._heard = h
        slow = np.zeros(r["t"].shape[0], bool)
        slow[ia] = slow_a
        return slow

    def _start_two_post(
        self, r: dict, rows: np.ndarray, hp: dict, mem: np.ndarray, dtp: np.ndarray, nsrc, hll,
        kind: str,
    ) -> None:  # fmt: skip
        """Start two-post tracks at reports ``rows`` paired with remembered reports ``hp`` at
        ``mem``, ``dtp`` earlier: velocity = position difference / time difference, its
        variance (sigma_a^2 + sigma_b^2) / dt^2; ``kind`` "fast" or "chain" marks them."""
        cfg = self.cfg
        n0 = len(self.tracks)
        self._initiate(_take(r, rows), nsrc[rows], hll[rows] + hp["hll"][mem])
        tr = self.tracks
        sl = slice(n0, n0 + rows.size)
        vv = (r["sigma"][rows] ** 2 + hp["sigma"][mem] ** 2) / dtp**2
        vx = (r["x"][rows] - hp["x"][mem]) / dtp
        self._set_velocity(sl, vx, (r["y"][rows] - hp["y"][mem]) / dtp, vv)
        getattr(tr, kind)[sl] = True
        tr.n_upd[sl] = 2
        tr.n_posts[sl] = 2
        tr.multi[sl] = True
        tr.lex[sl] = _logit(cfg.ex_init_multi)
        tr.lex0[sl] = tr.lex[sl]
        tr.ac0[sl] = np.stack((hp["x"][mem], hp["y"][mem], hp["t"][mem], hp["range"][mem]), 1)
        self.stats[f"{kind}_acoustic_starts"] += int(rows.size)
        if kind == "fast" and cfg.fast_ac_link_s > 0 and self._fast_dead["t_del"].size:
            self._link_fast(np.arange(n0, n0 + rows.size))

    def _note_fast_dead(self, dead: np.ndarray, t_ref: float) -> None:
        """Remember the two-post fast tracks (no radar, unconfirmed) among ``dead`` for
        ``fast_ac_link_s``, and forget those remembered longer."""
        cfg = self.cfg
        if cfg.fast_ac_link_s <= 0:
            return
        tr = self.tracks
        sel = dead & tr.fast & (tr.radar_scans == 0) & ~tr.confirmed
        fd = self._fast_dead
        keep = fd["t_del"] >= t_ref - cfg.fast_ac_link_s
        add = {
            "a": tr.ac0[sel],
            "b": tr.ac[sel],
            "n_posts": tr.n_posts[sel],
            "n_upd": tr.n_upd[sel],
            "t_del": np.full(int(sel.sum()), t_ref),
        }
        self._fast_dead = {k: np.concatenate((v[keep], add[k])) for k, v in fd.items()}

    def _link_fast(self, idx: np.ndarray) -> None:
        """``fast_ac_link_s``: new two-post fast tracks ``idx`` that continue a remembered
        dead one (four posts' reports on one line at one speed) count its posts and take the
        fitted velocity; each remembered track continues at most one new track."""
        cfg = self.cfg
        tr = self.tracks
        dead = self._fast_dead
        # the four reports per (new, dead) pair: dead first, dead last, new first, new last
        c = tr.ac[idx]
        pts = np.stack(
            np.broadcast_arrays(
                dead["a"][None, :, :], dead["b"][None, :, :],
                tr.ac0[idx][:, None, :], c[:, None, :],
            ),
            2,
        )  # (new, dead, 4, [x, y, t, range])  # fmt: skip
        t = pts[..., 2]
        gap = t[..., 2] - t[..., 1]
        ok = (gap > 0) & (gap <= cfg.fast_ac_link_s) & np.isfinite(pts).all(axis=(2, 3))
        if not ok.any():
            return
        w = 1.0 / np.maximum(pts[..., 3] / 2.0, 1.0) ** 2  # sigma = range / 2 per axis
        sw = w.sum(-1)
        tm = (w * t).sum(-1) / sw
        dtt = t - tm[..., None]
        stt = np.maximum((w * dtt**2).sum(-1), 1e-9)
        chi2 = np.zeros(ok.shape)
        vel = []
        for k in (0, 1):
            q = pts[..., k]
            qm = (w * q).sum(-1) / sw
            v = (w * dtt * (q - qm[..., None])).sum(-1) / stt
            chi2 += (w * (q - qm[..., None] - v[..., None] * dtt) ** 2).sum(-1)
            vel.append(v)
        speed = np.hypot(vel[0], vel[1])
        ok &= chi2 <= FAST_LINK_CHI2
        ok &= (speed >= cfg.fast_ac_min_speed) & (speed <= cfg.fast_ac_max_speed)
        ni, di = np.nonzero(ok)
        if ni.size == 0:
            return
        # greedy on the fit: each new and each remembered track in one link at most
        used_n: set[int] = set()
        used_d: set[int] = set()
        links = []
        for j in np.argsort(chi2[ni, di], kind="stable"):
            a, b = int(ni[j]), int(di[j])
            if a not in used_n and b not in used_d:
                used_n.add(a)
                used_d.add(b)
                links.append((a, b))
        na, nb = (np.array(col, np.int64) for col in zip(*links, strict=True))
        i = idx[na]
        tr.n_posts[i] += dead["n_posts"][nb]
        tr.n_upd[i] += dead["n_upd"][nb]
        self._set_velocity(i, vel[0][na, nb], vel[1][na, nb], 1.0 / stt[na, nb])
        keep = np.ones(dead["t_del"].size, bool)
        keep[nb] = False
        self._fast_dead = {k: v[keep] for k, v in dead.items()}
        self.stats["fast_links"] += int(i.size)

    def _initiate_slow_acoustic(self, r: dict, idx: np.ndarray, h: dict, nsrc, hll) -> None:
        """Slow two-post initiator (see ``TrackerConfig.slow_acoustic``): pair free acoustic
        reports ``idx`` with free remembered reports ``h`` of posts whose range does not
        overlap theirs, up to ``slow_ac_max_dt_s`` before, linked by a drone's speed; the
        most recent pair of each report starts a two-point ("chain") track."""
        cfg = self.cfg
        hf = np.flatnonzero(h["free"])
        if idx.size == 0 or hf.size == 0:
            return
        hp = {k: v[hf] for k, v in h.items()}
        rj = self._sensor_range(r["sensor"][idx])
        dt = r["t"][idx, None] - hp["t"][None, :]
        d = np.hypot(r["x"][idx, None] - hp["x"][None, :], r["y"][idx, None] - hp["y"][None, :])
        reach = rj[:, None] + hp["range"][None, :]
        ok = (dt >= cfg.bin_s) & (dt <= cfg.slow_ac_max_dt_s) & (d > reach)
        ok &= r["sensor"][idx, None] != hp["sensor"][None, :]
        dts = np.where(ok, dt, 1.0)
        ok &= d - reach <= cfg.slow_ac_max_speed * dts
        ok &= d + reach >= cfg.slow_ac_min_speed * dts
        pi, hi = np.nonzero(ok)
        if pi.size == 0:
            return
        if cfg.slow_ac_gap:
            gap = self._unheard_between(
                r["x"][idx[pi]], r["y"][idx[pi]], rj[pi], r["sensor"][idx[pi]],
                hp["x"][hi], hp["y"][hi], hp["range"][hi], hp["sensor"][hi], float(r["t"].max()),
            )  # fmt: skip
            pi, hi = pi[gap], hi[gap]
            if pi.size == 0:
                return
        mem, am = gnn_assign(hi, pi, dt[pi, hi], hf.size, idx.size)
        # the last report of a post's run is heard as the target leaves its range, the
        # first of the next post's as it enters: on average pi/4 of each range (mean
        # half-chord of a disc) lies between the target and each post, along the line
        rows = idx[am]
        u = np.stack((r["x"][rows] - hp["x"][mem], r["y"][rows] - hp["y"][mem]), 1)
        u /= np.maximum(np.hypot(u[:, 0], u[:, 1]), 1.0)[:, None]
        ra, rb = hp["range"][mem], rj[am]
        hq = dict(hp)
        hq["x"] = hp["x"].copy()
        hq["y"] = hp["y"].copy()
        hq["x"][mem] += np.pi / 4 * ra * u[:, 0]
        hq["y"][mem] += np.pi / 4 * ra * u[:, 1]
        rq = {**r, "x": r["x"].copy(), "y": r["y"].copy()}
        rq["x"][rows] -= np.pi / 4 * rb * u[:, 0]
        rq["y"][rows] -= np.pi / 4 * rb * u[:, 1]
        n0 = len(self.tracks)
        self._start_two_post(rq, rows, hq, mem, dt[am, mem], nsrc, hll, "chain")
        self.tracks.ac[n0:, 0] = r["x"][rows]  # the posts' runs are counted from the post
        self.tracks.ac[n0:, 1] = r["y"][rows]

    def _unheard_between(self, bx, by, rb, sb, ax, ay, ra, sa, t: float) -> np.ndarray:
        """Whether the straight way from post A's range to post B's (per pair) stays out of
        the coverage (``slow_ac_gap_cover`` of the range) of every other live acoustic post: a
        drone flying it would not have been heard between the two. Of 24 points along the
        way, those outside both ranges count; at most ``slow_ac_gap_frac`` of them may be
        covered. All posts count as live until ``advance`` is given their liveness."""
        cfg = self.cfg
        n = bx.size
        if n == 0 or self._ac_tree is None:
            return np.ones(n, bool)
        k = 24
        f = (np.arange(k) + 0.5) / k
        px = ax[:, None] + f[None, :] * (bx - ax)[:, None]
        py = ay[:, None] + f[None, :] * (by - ay)[:, None]
        out_a = np.hypot(px - ax[:, None], py - ay[:, None]) > ra[:, None]
        out_b = np.hypot(px - bx[:, None], py - by[:, None]) > rb[:, None]
        between = out_a & out_b
        d, j = self._ac_tree.query(
            np.stack((px.ravel(), py.ravel()), 1), k=4, distance_upper_bound=self._ac_rmax
        )
        ok = j < self._ac.size
        jj = np.where(ok, j, 0)
        post = self._ac[jj]
        live = np.ones(self._ac.size, bool)
        if self._seen is not None:
            live = t - self._seen[self._ac] <= cfg.ex_live_s
        cov = ok & live[jj] & (np.where(ok, d, np.inf) <= cfg.slow_ac_gap_cover * self._ac_r[jj])
        cov &= (post != np.repeat(sa, k)[:, None]) & (post != np.repeat(sb, k)[:, None])
        covered = cov.any(axis=1).reshape(n, k) & between
        nb = np.maximum(between.sum(axis=1), 1)
        return covered.sum(axis=1) <= cfg.slow_ac_gap_frac * nb

    def _slow_posts(
        self, t: np.ndarray, sensor: np.ndarray, rng: np.ndarray, h: dict, t_ref: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which new reports (``t``, ``sensor``, ``rng``) and which remembered ones ``h`` come
        from a post that heard something for longer than a fast mover can stay in its range,
        w = 2 range / ``fast_ac_min_speed`` plus two bins: a drone, not a cruise missile.

        A post's reports (all of them, the new ones and those tracks took included) form
        runs broken by silences longer than w / 2; a report is slow when its run spans more
        than w. (The caller keeps a report slow once it was: runs shrink as old reports are
        forgotten.)"""
        cfg = self.cfg
        ts = np.concatenate((h["t"], t))
        ss = np.concatenate((h["sensor"], sensor))
        w = 2.0 * np.concatenate((h["range"], rng)) / cfg.fast_ac_min_speed + 2.0 * cfg.bin_s
        big = 4.0 * (cfg.fast_ac_max_dt_s + float(w.max()) + 1.0)
        key = ss * big + (ts - t_ref + cfg.fast_ac_max_dt_s)
        o = np.argsort(key, kind="stable")
        ks, ws = key[o], w[o]
        start = np.ones(ks.size, bool)
        start[1:] = np.diff(ks) > 0.5 * ws[1:]
        first = np.flatnonzero(start)
        last = np.r_[first[1:] - 1, ks.size - 1]
        run = np.cumsum(start) - 1
        span = ks[last] - ks[first]  # sorted: a run's last key minus its first
        slow = np.empty(ks.size, bool)
        slow[o] = span[run] > ws
        n = h["t"].size
        return slow[n:], slow[:n]

    def _initiate_grouped(self, r: dict, free: np.ndarray, nsrc, hll) -> None:
        """Initiate from unassigned reports; reports of one scan that fall in the gate of
        a track just started from another sensor's report update it instead."""
        idx = np.flatnonzero(free)
        if idx.size == 0:
            return
        if idx.size > 1 and np.unique(r["sensor"][idx]).size > 1:
            pos = np.stack((r["x"][idx], r["y"][idx]), axis=1)
            lab = cluster_points(pos, 3.5 * float(r["sigma"][idx].max()))
            # representative per cluster: the most precise report (then the earliest)
            order = np.lexsort((idx, r["sigma"][idx], lab))
            first = np.ones(idx.size, bool)
            first[1:] = lab[order][1:] != lab[order][:-1]
            rep = np.zeros(idx.size, bool)
            rep[order[first]] = True
            if not rep.all():
                n0 = len(self.tracks)
                self._initiate(_take(r, idx[rep]), nsrc[idx[rep]], hll[idx[rep]])
                rest = idx[~rep]
                nt_new = len(self.tracks) - n0
                tr = self.tracks
                sl = slice(n0, n0 + nt_new)
                t_ref = float(r["t"][rest].max())
                xp, Pp = ncv_predict(
                    tr.x[sl], tr.P[sl], t_ref - tr.t[sl], self.cfg.q_h, self.cfg.q_v
                )
                mpos = np.stack((r["x"][rest], r["y"][rest]), axis=1)
                ti, mj, cost = gate_pairs(
                    xp[:, :2], Pp[:, :2, :2], mpos, r["sigma"][rest] ** 2, self.cfg.gate_d2
                )
                ok = tr.sensor0[n0 + ti] != r["sensor"][rest[mj]]
                at, am = gnn_assign(ti[ok], mj[ok], cost[ok], nt_new, rest.size)
                self._update(n0 + at, rest[am], r, nsrc, hll)
                left = np.ones(rest.size, bool)
                left[am] = False
                idx = rest[left]
        self._initiate(_take(r, idx), nsrc[idx], hll[idx])

    def _initiate(self, r: dict, nsrc: np.ndarray, hll: np.ndarray) -> None:
        """Initiator: one tentative track per unassigned report."""
        n = r["t"].shape[0]
        if n == 0:
            return
        cfg = self.cfg
        x = np.zeros((n, 6))
        P = np.zeros((n, 6, 6))
        x[:, 0], x[:, 1] = r["x"], r["y"]
        has_z = np.isfinite(r["z"])
        x[:, 2] = np.where(has_z, r["z"], cfg.prior_alt_m)
        has_v = np.isfinite(r["vx"]) & np.isfinite(r["vy"])
        x[:, 3] = np.where(has_v, r["vx"], 0.0)
        x[:, 4] = np.where(has_v, r["vy"], 0.0)
        has_vz = np.isfinite(r["vz"])
        x[:, 5] = np.where(has_vz, r["vz"], 0.0)
        s2 = r["sigma"] ** 2
        sz = np.where(np.isfinite(r["sigma_z"]), r["sigma_z"], r["sigma"])
        P[:, 0, 0] = P[:, 1, 1] = s2
        P[:, 2, 2] = np.where(has_z, sz**2, cfg.prior_alt_sd**2)
        vv = np.where(has_v, cfg.sigma_v**2, cfg.prior_vel_sd**2)
        P[:, 3, 3] = P[:, 4, 4] = vv
        P[:, 5, 5] = np.where(has_vz, cfg.sigma_v**2, cfg.prior_vz_sd**2)
        kind = r["kind"]
        lex = np.where(
            (kind == RADAR) | (nsrc >= 2), _logit(cfg.ex_init_multi), _logit(cfg.ex_init_acoustic)
        )
        obs = (kind == OBSERVER) & (nsrc < 2)
        if cfg.obs_clutter and obs.any():
            # a report where chance reports are frequent is less likely a new threat: the
            # odds fall by 1 + mu / obs_pd, mu the chance reports expected within its sigma
            # over observer_max_age_s
            lam = self._clutter.density(self.t_done, r["x"][obs], r["y"][obs])
            mu = lam * 2.0 * math.pi * r["sigma"][obs] ** 2 * cfg.observer_max_age_s
            lex[obs] -= np.log1p(mu / cfg.obs_pd)
        ac = np.where(
            (kind == ACOUSTIC)[:, None],
            np.stack((r["x"], r["y"], r["t"], self._sensor_range(r["sensor"])), 1),
            np.nan,
        )
        ids = np.arange(self.next_id, self.next_id + n, dtype=np.int64)
        self.next_id += n
        new = _Tracks(
            ids=ids,
            key=_report_key(r),
            t=r["t"].copy(),
            x=x,
            P=P,
            n_upd=np.ones(n, np.int64),
            last_update=r["t"].copy(),
            sensor0=r["sensor"].copy(),
            multi=nsrc >= 2,
            radar_scans=(kind == RADAR).astype(np.int64),
            last_radar_t=np.where(kind == RADAR, r["t"], -np.inf),
            last_sensor=r["sensor"].copy(),
            last_radar=np.where(kind == RADAR, r["sensor"], NO_SENSOR),
            radar_dt=np.full(n, np.inf),
            radar_dt_slots=np.full(n, np.inf),
            rslot=np.where(
                (np.arange(RADAR_SLOTS) == 0)[None, :] & (kind == RADAR)[:, None],
                r["sensor"][:, None],
                NO_SENSOR,
            ),
            rslot_t=np.where(
                (np.arange(RADAR_SLOTS) == 0)[None, :] & (kind == RADAR)[:, None],
                r["t"][:, None],
                -np.inf,
            ),
            fast=np.zeros(n, bool),
            chain=np.zeros(n, bool),
            n_posts=np.ones(n, np.int64),
            obs_only=kind == OBSERVER,
            ac=ac,
            ac1=ac.copy(),
            ac0=ac.copy(),
            misses=np.zeros(n, np.int64),
            confirmed=np.zeros(n, bool),
            ballistic=np.zeros(n, bool),
            bal_t=np.full(n, -np.inf),
            down=np.zeros(n, bool),
            hint=hll.copy(),
            fx=np.zeros((n, 2, 2)),
            fP=np.zeros((n, 2, 2, 2)),
            ft=np.full(n, np.nan),
            fllr=np.zeros(n),
            xm=np.repeat(x[:, None], 3, axis=1),
            Pm=np.repeat(P[:, None], 3, axis=1),
            mu=np.broadcast_to(IMM_PRIOR, (n, 3)).copy(),
            lex=lex,
            lex0=lex.copy(),
            ex_t=r["t"].copy(),
            ex_acc=np.zeros((n, cfg.ex_samples)),
        )
        self.tracks.extend(new)

    def _note_lost(
        self, dead: np.ndarray, x: np.ndarray, P: np.ndarray, t_x: np.ndarray, t_del: float
    ) -> None:
        """Remember the established confirmed tracks among ``dead`` (states ``x``, ``P`` valid
        at ``t_x``) for re-acquisition; forget those deleted more than ``reacquire_s`` ago."""
        cfg = self.cfg
        if cfg.reacquire_s <= 0:
            return
        m = dead & self.tracks.confirmed & (self.tracks.n_upd >= cfg.reacquire_min_updates)
        m &= np.hypot(x[:, 3], x[:, 4]) <= cfg.reacquire_max_speed
        if not m.any():
            return
        new = _LostTracks(
            x=np.column_stack([x[m, 0:2], x[m, 3:5]]),
            pos_var=0.5 * (P[m, 0, 0] + P[m, 1, 1]),
            t=np.asarray(t_x, float)[m],
            t_del=np.full(int(m.sum()), float(t_del)),
            Pv=P[m][:, 3:5, 3:5],
            hint=self.tracks.hint[m],
        )
        lost = self._lost
        self._lost = lost.take(lost.t_del >= t_del - cfg.reacquire_s).extend(new)

    def _reacquired(self) -> tuple[np.ndarray, np.ndarray]:
        """Tentative tracks with ``reacquire_updates`` updates inside the dead-reckoned cloud
        (3 sigma, plus 30 % of the distance flown and 2 km) of a confirmed track deleted
        less than ``reacquire_s`` before their last update: the same threat found again.
        Returns their indices and, for each, the lost track it is closest to (in gates)."""
        tr, cfg = self.tracks, self.cfg
        none = np.zeros(0, np.int64)
        lost = self._lost
        lx, lvar, lt, ldel = lost.x, lost.pos_var, lost.t, lost.t_del
        if cfg.reacquire_s <= 0 or lt.size == 0 or len(tr) == 0:
            return none, none
        cand = np.flatnonzero(~tr.confirmed & (tr.n_upd >= cfg.reacquire_updates))
        if cand.size == 0:
            return none, none
        tc = tr.last_update[cand][:, None]
        dt = tc - lt[None, :]
        ok = (tc >= ldel[None, :]) & (tc - ldel[None, :] <= cfg.reacquire_s)
        px = lx[None, :, 0] + lx[None, :, 2] * dt
        py = lx[None, :, 1] + lx[None, :, 3] * dt
        flown = np.hypot(lx[:, 2], lx[:, 3])[None, :] * np.abs(dt)
        tvar = 0.5 * (tr.P[cand, 0, 0] + tr.P[cand, 1, 1])
        gate = 3.0 * np.sqrt(lvar[None, :] + tvar[:, None]) + 0.3 * flown + REACQUIRE_PAD_M
        d = np.hypot(tr.x[cand, 0:1] - px, tr.x[cand, 1:2] - py)
        score = np.where(ok & (d <= gate), d / gate, np.inf)
        best = score.argmin(axis=1)
        hit = np.isfinite(score[np.arange(cand.size), best])
        return cand[hit], best[hit]

    def _inherit(self, idx: np.ndarray, lost: np.ndarray) -> None:
        """Re-acquired tracks ``idx`` take the velocity (and its covariance, grown by
        ``reacquire_accel`` over the time since) of the lost tracks ``lost`` where theirs is
        less certain (a track started by one acoustic post knows no velocity), and add the
        lost tracks' class hints: the lost track's motion lives on in its successor."""
        tr, cfg = self.tracks, self.cfg
        lt = self._lost.take(lost)
        dt = np.maximum(tr.last_update[idx] - lt.t, 0.0)
        pv = lt.Pv + (cfg.reacquire_accel * dt)[:, None, None] ** 2 * np.eye(2)
        worse = np.trace(tr.P[idx][:, 3:5, 3:5], axis1=1, axis2=2) > np.trace(pv, axis1=1, axis2=2)
        i, pv = idx[worse], pv[worse]
        if i.size:
            v = lt.x[worse, 2:4]
            x, xm, P, Pm = tr.x[i], tr.xm[i], tr.P[i], tr.Pm[i]
            x[:, 3:5] = v
            xm[:, :, 3:5] = v[:, None, :]
            for C in (P, Pm):
                C[..., 3:5, :] = 0.0
                C[..., :, 3:5] = 0.0
            P[:, 3:5, 3:5] = pv
            Pm[:, :, 3:5, 3:5] = pv[:, None]
            tr.x[i], tr.xm[i], tr.P[i], tr.Pm[i] = x, xm, P, Pm
        tr.hint[idx] += lt.hint

    def _confirm(self) -> None:
        """Confirmer: several radar scans, or several updates from at least two sensors
        with enough existence, or re-acquisition of a lately deleted track."""
        tr = self.tracks
        cfg = self.cfg
        ri, rl = self._reacquired()
        if ri.size:
            if cfg.reacquire_inherit:
                self._inherit(ri, rl)
            tr.confirmed[ri] = True
        hits = (tr.n_upd >= cfg.confirm_hits) & tr.multi
        hits &= ~tr.fast | (tr.n_posts >= cfg.fast_ac_confirm_posts)
        hits &= ~tr.chain | (tr.n_posts >= cfg.slow_ac_confirm_posts)
        if cfg.existence:
            need = _logit(cfg.ex_confirm)
            if cfg.obs_clutter:
                obs_need = _logit(max(cfg.ex_confirm, cfg.ex_confirm_obs))
                need = np.where(tr.obs_only, obs_need, need)
            hits &= tr.lex >= need
        scans = np.where(tr.fast, cfg.fast_confirm_scans, cfg.confirm_radar_scans)
        sz = np.sqrt(np.maximum(tr.P[:, 2, 2], 0.0))
        high = tr.x[:, 2] - 3.0 * sz >= cfg.confirm_high_alt_m
        scans = np.where(high, np.minimum(scans, cfg.confirm_scans_high), scans)
        svz = np.sqrt(np.maximum(tr.P[:, 5, 5], 0.0))
        climb = tr.x[:, 5] - 3.0 * svz >= cfg.confirm_climb_vz
        scans = np.where(climb, np.minimum(scans, cfg.confirm_radar_scans), scans)
        sv = np.sqrt(np.maximum(tr.P[:, 3, 3] + tr.P[:, 4, 4] + tr.P[:, 5, 5], 0.0))
        hyper = high & (np.linalg.norm(tr.x[:, 3:6], axis=1) - 3.0 * sv >= cfg.confirm_hypersonic)
        z, vz = np.maximum(tr.x[:, 2], 0.0), tr.x[:, 5]
        hyper &= (vz + np.sqrt(vz**2 + 2.0 * G * z)) / G <= cfg.confirm_hypersonic_tgo_s
        hyper &= vz >= 0.0
        scans = np.where(hyper, 1, scans)
        tr.confirmed |= (tr.radar_scans >= scans) | hits

    def _delete(self, t_ref: float, Pp: np.ndarray, updated: np.ndarray) -> None:
        """Deleter: too many radar misses, coasting too long, too uncertain, or too
        unlikely to exist."""
        tr = self.tracks
        cfg = self.cfg
        n_old = Pp.shape[0]
        age = t_ref - tr.last_update
        sig2 = np.zeros(len(tr))
        if n_old:
            sig2[:n_old] = np.where(updated, 0.0, 0.5 * (Pp[:, 0, 0] + Pp[:, 1, 1]))
        tent = ~tr.confirmed
        dead = np.where(
            tent,
            (tr.misses >= cfg.tentative_max_misses) | (age > self._tentative_age()),
            (tr.misses >= cfg.max_misses) | (age > self._coast_limit()),
        )
        dead |= sig2 > cfg.max_sigma_m**2
        dead |= self._unlikely()
        if dead.any():
            self._note_fast_dead(dead, t_ref)
            self._note_lost(dead, tr.x, tr.P, tr.last_update, t_ref)
            self._note_landed(dead, t_ref)
            tr.keep(~dead)
