"""The OpenAPI schema of the service, exercised by schemathesis (property-based requests)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from airwarn.decide.policy import Policy  # noqa: E402
from airwarn.serve import Clock, ServeConfig, create_app  # noqa: E402
from airwarn.zones import zone_set  # noqa: E402

from .conftest import T0, small_sensors, small_zones, tokens  # noqa: E402
from .fakes import FakePipeline  # noqa: E402


def _app():
    cfg = ServeConfig(
        data_dir=Path(tempfile.mkdtemp(prefix="airwarn-schemathesis-")),
        zones=zone_set(small_zones()),
        sensors=small_sensors(),
        policy=Policy.load(),
        tokens=tokens(),
        pipeline_factory=FakePipeline,
        clock=Clock(t0=T0),
        autotick=False,
    )
    return create_app(cfg)


APP = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP).exclude(
    path="/api/v1/stream"  # an endless event stream; tested in test_live.py
)


def test_openapi_schema_lists_the_main_endpoints():
    paths = APP.openapi()["paths"]
    for p in (
        "/api/v1/reports",
        "/api/v1/alerts",
        "/api/v1/operator/actions",
        "/cap/feed.atom",
        "/v1/alerts/active.json",
        "/v1/iot/active_air_raid_alerts.json",
        "/WarningMessages/alert/alerts.json",
    ):
        assert p in paths


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
