"""``airwarn track``: fusion alone, from public files to tracks.jsonl."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from airwarn.contracts import iter_jsonl, read_sensors, write_jsonl
from airwarn.fuse.tracker import Tracker, TrackerConfig
from airwarn.geo import LocalFrame
from airwarn.ingest import Ingestor, SensorRegistry, iter_report_lines
from airwarn.publish.tracks import track_updates


def load_batches(
    sensors_path: str | Path, detections_path: str | Path
) -> tuple[SensorRegistry, list, Ingestor]:
    """Read sensors and detections; return (registry, per-line (t, batch) list, ingestor).

    Every accepted report becomes a one-report batch in arrival order, grouped into
    runs of consecutive lines with the same arrival clock so that replaying them keeps
    the order in which they arrived.
    """
    sensors = read_sensors(sensors_path) if sensors_path else []
    if sensors:
        frame = LocalFrame.around([s.lat for s in sensors], [s.lon for s in sensors])
    else:
        lats, lons = [], []
        for _, obj in iter_jsonl(detections_path):
            if isinstance(obj, dict) and "lat" in obj and "lon" in obj:
                lats.append(obj["lat"])
                lons.append(obj["lon"])
        frame = LocalFrame.around(lats or [0.0], lons or [0.0])
    reg = SensorRegistry(sensors, frame)
    ing = Ingestor(reg)
    src = Path(detections_path).name
    for line_no, text in iter_report_lines(detections_path):
        ing.accept_line(text, line_no, src)
    return reg, ing.drain(), ing


def scan_times(t: np.ndarray, scan_s: float | None) -> np.ndarray:
    """Output times: every distinct report time, or a regular grid of ``scan_s``."""
    if t.size == 0:
        return np.zeros(0)
    if scan_s is None:
        return np.unique(t)
    t0 = np.floor(t.min() / scan_s) * scan_s
    return t0 + scan_s * np.arange(1, int(np.ceil((t.max() - t0) / scan_s)) + 1)


def run_track(
    sensors_path: str | Path,
    detections_path: str | Path,
    out_path: str | Path,
    scan_s: float | None = None,
    config: TrackerConfig | None = None,
) -> dict:
    """Track a detections file; write every live track at every scan time; return stats.

    Reports are handed to the tracker in arrival order: at scan time ``T`` it has
    received every line up to the first one with ``t > T`` (so late reports arrive
    late, as in the file). ``tracker_s`` counts tracker time only.
    """
    c0 = time.perf_counter()
    reg, batch, ing = load_batches(sensors_path, detections_path)
    parse_s = time.perf_counter() - c0
    tracker = Tracker(reg, config)
    times = scan_times(batch.t, scan_s)
    # arrival clock: the newest report time seen up to each line
    clock = np.maximum.accumulate(batch.t) if len(batch) else np.zeros(0)
    # reports delivered before the tick at T: lines whose arrival clock is <= T
    upto = np.searchsorted(clock, times, side="right")
    from airwarn.ingest import to_batch  # noqa: F401  (same columns as ingest)

    tracker_s = 0.0
    write_s = 0.0
    n_rows = 0
    prev = 0
    with open(out_path, "w", encoding="utf-8") as fh:
        import json

        for T, k in zip(times.tolist(), upto.tolist(), strict=True):
            c1 = time.perf_counter()
            if k > prev:
                tracker.add(_slice(batch, prev, k))
                prev = k
            st = tracker.advance(T)
            c2 = time.perf_counter()
            tracker_s += c2 - c1
            for u in track_updates(st, reg.frame):
                fh.write(json.dumps(u.to_json(), separators=(",", ":")))
                fh.write("\n")
                n_rows += 1
            write_s += time.perf_counter() - c2
    _ = write_jsonl  # (kept for API symmetry)
    return {
        "measurements": int(len(batch)),
        "scans": int(times.size),
        "track_updates": n_rows,
        "tracks_created": int(tracker.next_id - 1),
        "tracker_s": round(tracker_s, 4),
        "meas_per_s": round(len(batch) / tracker_s, 1) if tracker_s > 0 else None,
        "parse_s": round(parse_s, 3),
        "write_s": round(write_s, 3),
        "ingest": ing.stats.to_json(),
        "tracker": dict(tracker.stats),
    }


def _slice(b, s: int, e: int):
    from airwarn.contracts import DetectionBatch

    return DetectionBatch(
        t=b.t[s:e],
        sensor=b.sensor[s:e],
        sensor_kind=b.sensor_kind[s:e],
        x=b.x[s:e],
        y=b.y[s:e],
        z=b.z[s:e],
        sigma=b.sigma[s:e],
        sigma_z=b.sigma_z[s:e],
        vx=b.vx[s:e],
        vy=b.vy[s:e],
        vz=b.vz[s:e],
        cls=b.cls[s:e],
        arrival=b.arrival[s:e],
        ids=b.ids[s:e],
    )
