"""fuse: multi-sensor multi-target tracking (reports -> tracks), vectorised over all tracks.

``Tracker(registry, config)``: ``add(DetectionBatch)``, ``advance(t) -> TrackState``.
``run_track(sensors, detections, out)`` backs ``airwarn track``.

Components (Stone Soup vocabulary), each batched over every track or report at once:

* predictor: NCV (:func:`models.ncv_predict`, gravity for ballistic tracks) and an IMM
  of NCV + coordinated turns left/right (:func:`models.imm_mix`, :func:`models.ct_transition`,
  :func:`models.imm_combine`) on steps of 2 s or more;
* updater: linear Kalman update for each report signature (position 2-D/3-D, with or
  without velocity; :func:`models.kalman_update`, closed form for 2-D positions);
* hypothesiser: Mahalanobis gating of candidate pairs from a spatial index
  (:func:`associate.gate_pairs`: grid hash, cKDTree for wide gates);
* data associator: clustered GNN (:func:`associate.gnn_assign`), confirmed tracks first;
* initiator: acoustic reports of one scan merged into one target; one tentative track
  per unassigned report (reports of other sensors in the same scan join it);
* confirmer: several radar scans, or several updates from at least two sensors;
* deleter: radar misses, coasting time, position uncertainty;
* out of sequence: rollback to a snapshot and replay (<= 15 s late, exact), direct
  retrodicted update beyond.

Benchmarks: ``bench/fuse_vs_stonesoup.py`` (side by side with Stone Soup on the shared
runner's scenarios) and ``bench/fuse_raid.py`` (a simulated raid: x real time, quality).
"""

from airwarn.fuse.run import run_track
from airwarn.fuse.tracker import Tracker, TrackerConfig

__all__ = ["Tracker", "TrackerConfig", "run_track"]
