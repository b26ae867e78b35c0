"""fuse: multi-sensor multi-target tracking (reports -> tracks).

``Tracker(registry, config)``: ``add(DetectionBatch)``, ``advance(t) -> TrackState``.
``run_track(sensors, detections, out)`` backs ``airwarn track``.
"""

from airwarn.fuse.run import run_track
from airwarn.fuse.tracker import Tracker, TrackerConfig

__all__ = ["Tracker", "TrackerConfig", "run_track"]
