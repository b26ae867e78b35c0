"""Small in-code scenarios for the fusion tests."""

from __future__ import annotations

import numpy as np
import pytest

from airwarn.contracts import SENSOR_KIND_CODE, UNKNOWN_CLS, DetectionBatch, Sensor
from airwarn.geo import LocalFrame
from airwarn.ingest import SensorRegistry

FRAME = LocalFrame(49.0, 32.0)


def registry(sensors: list[tuple[str, str, float, float, float]]) -> SensorRegistry:
    """Registry from (id, kind, x_m, y_m, range_m) in the test frame."""
    xs = np.array([s[2] for s in sensors], float)
    ys = np.array([s[3] for s in sensors], float)
    lat, lon = FRAME.to_geo(xs, ys) if sensors else (np.zeros(0), np.zeros(0))
    recs = [
        Sensor(id=s[0], kind=s[1], lat=float(la), lon=float(lo), range_m=s[4])
        for s, la, lo in zip(sensors, np.atleast_1d(lat), np.atleast_1d(lon), strict=True)
    ]
    return SensorRegistry(recs, FRAME)


def batch(rows: list[dict], reg: SensorRegistry, arrival0: int = 0) -> DetectionBatch:
    """DetectionBatch from dicts with t, sensor (index), x, y, sigma and optional fields."""
    n = len(rows)

    def col(k, default=np.nan, dtype=float):
        return np.array([r.get(k, default) for r in rows], dtype)

    sensor = col("sensor", -1, np.int64)
    kind = np.array(
        [reg.kind[s] if s >= 0 else SENSOR_KIND_CODE["observer"] for s in sensor], np.int64
    )
    return DetectionBatch(
        t=col("t"),
        sensor=sensor,
        sensor_kind=kind.reshape(n),
        x=col("x"),
        y=col("y"),
        z=col("z"),
        sigma=col("sigma"),
        sigma_z=col("sigma_z"),
        vx=col("vx"),
        vy=col("vy"),
        vz=col("vz"),
        cls=col("cls", UNKNOWN_CLS, np.int64),
        arrival=np.arange(arrival0, arrival0 + n, dtype=np.int64),
        ids=[f"r{arrival0 + i}" for i in range(n)],
    )


@pytest.fixture
def radar_reg() -> SensorRegistry:
    return registry([("radar1", "radar", 0.0, 0.0, 200_000.0)])


@pytest.fixture
def two_radar_reg() -> SensorRegistry:
    """Two radars 20 km apart covering the same area (sensor codes 0 and 1)."""
    return registry(
        [("radar1", "radar", 0.0, 0.0, 200_000.0), ("radar2", "radar", 20_000.0, 0.0, 200_000.0)]
    )


@pytest.fixture
def three_radar_reg() -> SensorRegistry:
    """Three radars 20 km apart covering the same area (sensor codes 0, 1 and 2)."""
    return registry([(f"radar{k}", "radar", 20_000.0 * k, 0.0, 200_000.0) for k in range(3)])
