"""Track snapshots in the public tracks.jsonl format."""

from __future__ import annotations

import numpy as np

from airwarn.contracts import THREAT_CLASSES, TrackState, TrackUpdate, track_label
from airwarn.geo import LocalFrame


def track_updates(tracks: TrackState, frame: LocalFrame) -> list[TrackUpdate]:
    """Every live track of a TrackState as TrackUpdate records (WGS84, true east/north)."""
    n = len(tracks)
    if n == 0:
        return []
    x = tracks.x
    lat, lon = frame.to_geo(x[:, 0], x[:, 1])
    ve, vn = frame.vel_to_geo(x[:, 0], x[:, 1], x[:, 3], x[:, 4])
    sig = np.sqrt(np.maximum(0.5 * (tracks.P[:, 0, 0] + tracks.P[:, 1, 1]), 0.0))
    t = float(tracks.t)
    return [
        TrackUpdate(
            t=t,
            track=track_label(tracks.ids[i]),
            lat=float(lat[i]),
            lon=float(lon[i]),
            alt_m=float(x[i, 2]),
            vel_e=float(ve[i]),
            vel_n=float(vn[i]),
            vel_u=float(x[i, 5]),
            cls=THREAT_CLASSES[int(tracks.cls[i])],
            confirmed=bool(tracks.confirmed[i]),
            sigma_m=float(sig[i]),
        )
        for i in range(n)
    ]
