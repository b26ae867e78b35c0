"""fuse: multi-sensor multi-target tracking (reports -> tracks), vectorised over all tracks.

``Tracker(registry, config)``: ``add(DetectionBatch)``, ``advance(t[, sensor_last_seen])
-> TrackState`` (``sensor_last_seen``: per registered sensor, its latest heartbeat or
report time, as the ingestor keeps it; it tells which acoustic posts are live).
``run_track(sensors, detections, out)`` backs ``airwarn track``.

Components (Stone Soup vocabulary), each batched over every track or report at once:

* predictor: NCV (:func:`models.ncv_predict`, gravity for ballistic tracks) and an IMM
  of NCV + coordinated turns left/right (:func:`models.imm_mix`, :func:`models.ct_transition`,
  :func:`models.imm_combine`) on steps of 2-60 s, turning at 3 deg/s or at most
  2.5 m/s^2 lateral acceleration (slower for fast tracks); one NCV step on longer ones;
* updater: linear Kalman update for each report signature (position 2-D/3-D, with or
  without velocity; :func:`models.kalman_update`, closed form for 2-D positions);
* hypothesiser: Mahalanobis gating of candidate pairs from a spatial index
  (:func:`associate.gate_pairs`: grid hash, cKDTree for wide gates);
* data associator: clustered GNN (:func:`associate.gnn_assign`), confirmed tracks first;
* initiator: acoustic reports of one scan merged into one target; one tentative track
  per unassigned report (reports of other sensors in the same scan join it); a left-over
  report inside the gate of a track that other sensors updated in that scan starts none;
  two-point starts: radar plots at a fast mover's distance, acoustic reports of two posts
  only a fast mover links (cruise missiles below the radar horizon), and over sparse posts
  reports of two posts with disjoint ranges a drone's speed links ("chain" tracks, which
  a post's run of reports keeps alive without moving);
* track existence (IPDA-like log-odds, ``Tracker._missed``): raised by each update
  (weakly for a repeat from the same post: false alarms come in bursts), lowered by
  missed detections: live acoustic posts (heartbeat or report within ``ex_live_s``),
  silent for ``ex_silence_s``, whose slant range covers samples of the track's position
  and altitude; the likelihood of the silence is averaged over the samples, so a track
  that may be in a coverage gap or over dead posts keeps its existence;
* confirmer: several radar scans, or several updates from at least two sensors with
  existence >= ``ex_confirm``;
* deleter: radar misses, coasting time, position uncertainty, existence < ``ex_delete``;
  a track read as a missile in the last ``ballistic_memory_s`` and deleted below the ground
  is listed in the state's ``landed`` (its missile came down: no lost-track ghost);
* class memory: a track read as ballistic, or moving under gravity, in the last
  ``ballistic_memory_s`` is reported ``ballistic`` while the classifier reads only
  'unknown' or 'aircraft' (a rocket over its apogee);
* duplicates: tracks whose states agree (6-D Mahalanobis) are merged (not ballistic ones
  by default, see ``TrackerConfig.merge_ballistic``);
* out of sequence: rollback to a snapshot and replay (<= 15 s late, exact), direct
  retrodicted update beyond.

Benchmarks: ``bench/fuse_vs_stonesoup.py`` (side by side with Stone Soup on the shared
runner's scenarios) and ``bench/fuse_raid.py`` (a simulated raid: x real time, quality).
"""

from airwarn.fuse.run import run_track
from airwarn.fuse.tracker import Tracker, TrackerConfig

__all__ = ["Tracker", "TrackerConfig", "run_track"]
