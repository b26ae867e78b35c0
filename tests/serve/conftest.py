"""Fixtures for the service tests: four small zones near Kyiv, two sensors, tokens."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from shapely.geometry import box

from airwarn.contracts import Sensor, Zone
from airwarn.decide.policy import Policy
from airwarn.serve import Clock, ServeConfig, TokenStore
from airwarn.zones import zone_set

from .fakes import FakePipeline

SENSOR_TOKEN = "sensor-token-R1-only"
ANY_SENSOR_TOKEN = "sensor-token-any-sensor"
OPERATOR_TOKEN = "operator-token-duty"
ADMIN_TOKEN = "admin-token-root-123"
T0 = 1_760_000_000.0


def small_zones() -> list[Zone]:
    """Four 0.1-degree squares near Kyiv in two regions."""
    out = []
    for i, (lat, lon) in enumerate(
        [(50.40, 30.40), (50.40, 30.55), (50.55, 30.40), (50.55, 30.55)]
    ):
        out.append(
            Zone(
                id=f"Z{i}",
                name=f"Zone {i}",
                population=10_000 * (i + 1),
                shelter_s=90.0,
                region="Kyiv City" if i < 2 else "Kyiv",
                geometry=box(lon, lat, lon + 0.1, lat + 0.1),
            )
        )
    return out


def small_sensors() -> list[Sensor]:
    return [
        Sensor("R1", "radar", 50.3, 30.3, 150_000.0),
        Sensor("A1", "acoustic", 50.45, 30.45, 3_000.0),
    ]


def tokens() -> TokenStore:
    return TokenStore(
        [
            {"token": SENSOR_TOKEN, "name": "radar-1", "role": "sensor", "sensors": ["R1"]},
            {"token": ANY_SENSOR_TOKEN, "name": "all-sensors", "role": "sensor", "sensors": "*"},
            {"token": OPERATOR_TOKEN, "name": "duty-officer", "role": "operator"},
            {"token": ADMIN_TOKEN, "name": "admin", "role": "admin"},
        ]
    )


def report(i: int, t: float, lat: float = 50.45, lon: float = 30.45, sensor: str = "R1") -> dict:
    return {"t": t, "sensor": sensor, "lat": lat, "lon": lon, "sigma_m": 200.0, "id": f"r{i}"}


@pytest.fixture(scope="session")
def zones():
    return zone_set(small_zones())


@pytest.fixture
def make_config(tmp_path, zones):
    """Build a ServeConfig on a fresh data dir with the fake pipeline and a manual clock."""

    def make(data: Path | None = None, **kw) -> ServeConfig:
        base = dict(
            data_dir=data or tmp_path / "data",
            zones=zones,
            sensors=small_sensors(),
            policy=Policy.load(),
            tokens=tokens(),
            pipeline_factory=FakePipeline,
            clock=Clock(t0=T0, rate=1.0),
            autotick=False,
        )
        base.update(kw)
        return ServeConfig(**base)

    return make


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn running an app in a thread on a free loopback port."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            time.sleep(0.01)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
