"""Background tasks of a running service: the wall-clock ticker, the scenario player,
webhook delivery and the MQTT subscriber."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from pathlib import Path

from airwarn.contracts import RecordError
from airwarn.serve.auth import Principal
from airwarn.serve.service import Service

log = logging.getLogger("airwarn.serve")


async def ticker(svc: Service) -> None:
    """Tick the pipeline at every multiple of tick_s of the service clock."""
    tick_s = svc.tick_s
    clock = svc.clock
    while True:
        now = clock()
        t = math.floor(now / tick_s) * tick_s
        if t > svc.last_tick:
            try:
                await asyncio.to_thread(svc.tick, t)
            except Exception:
                log.exception("tick at %s failed", t)
        nxt = math.floor(clock() / tick_s) * tick_s + tick_s
        await asyncio.sleep(clock.wall_seconds(nxt - clock()) + 0.0005)


async def play_scenario(svc: Service, scenario: Path, batch_max: int = 2000) -> None:
    """Play a scenario's detections.jsonl through the live service at the clock's speed.

    Records are ingested in file (arrival) order through the same path as HTTP posts,
    and ticks run as in ``airwarn replay``: the tick at ``T`` runs once the scenario
    clock passes ``T``, before any record newer than ``T`` is admitted. After a restart
    the records and ticks already in the event log are skipped quickly.
    """
    from airwarn.ingest import iter_report_lines

    path = Path(scenario) / "detections.jsonl"
    tick_s = svc.tick_s
    clock = svc.clock
    who = Principal("replay", "sensor", None)
    batch: list = []
    next_tick: float | None = None

    async def flush() -> None:
        if batch:
            items = list(batch)
            batch.clear()
            await asyncio.to_thread(svc.ingest, items, who, path.name)

    async def tick_to(t: float, final: bool = False) -> None:
        if t > svc.last_tick:
            wait = clock.wall_seconds(t - clock())
            if wait > 0:
                await asyncio.sleep(wait)
            elif clock() > t + tick_s:  # the pipeline cannot keep up: the clock follows it
                clock.reset(t)
        await asyncio.to_thread(svc.tick, t, final=final)

    lines = iter_report_lines(path)
    while True:
        chunk = await asyncio.to_thread(_take, lines, 5000)
        if not chunk:
            break
        for line_no, text in chunk:
            s = text.strip()
            if not s:
                continue
            try:
                obj = json.loads(s)
            except json.JSONDecodeError as exc:
                batch.append(
                    (line_no, RecordError(path.name, line_no, None, f"not valid JSON ({exc.msg})"))
                )
                continue
            t = obj.get("t") if isinstance(obj, dict) else None
            if isinstance(t, int | float) and not isinstance(t, bool):
                if next_tick is None:
                    next_tick = (math.floor(t / tick_s) + 1) * tick_s
                    start = max(float(t), svc.last_tick if math.isfinite(svc.last_tick) else t)
                    clock.reset(start)
                if t > next_tick:
                    await flush()
                    while t > next_tick:
                        if next_tick > svc.last_tick and clock() < svc.last_tick:
                            clock.reset(next_tick)
                        await tick_to(next_tick)
                        next_tick += tick_s
                        if svc._idle() and t > next_tick + tick_s:
                            next_tick = (math.ceil(t / tick_s) - 1) * tick_s
                            clock.reset(next_tick)
            batch.append((line_no, obj))
            if len(batch) >= batch_max:
                await flush()
    await flush()
    # the input ended: keep ticking until nothing is tracked or alerted (at most 4 h)
    if next_tick is not None:
        end = next_tick + 4 * 3600.0
        while next_tick <= end:
            await tick_to(next_tick, final=True)
            next_tick += tick_s
            if svc._idle():
                break
    svc.replay_done = True
    log.info("scenario %s played to the end", scenario)


def _take(it, n: int) -> list:
    out = []
    for x in it:
        out.append(x)
        if len(out) >= n:
            break
    return out


async def start_background(svc: Service) -> dict:
    """Start the ticker (or scenario player), webhook worker and MQTT; return handles."""
    cfg = svc.config
    tasks: list[asyncio.Task] = []
    if cfg.replay_dir is not None:
        tasks.append(asyncio.create_task(play_scenario(svc, Path(cfg.replay_dir))))
    elif cfg.autotick:
        tasks.append(asyncio.create_task(ticker(svc)))
    tasks.append(asyncio.create_task(svc.webhooks.run()))
    mqtt = None
    if cfg.mqtt is not None:
        from airwarn.serve.mqtt import MqttIngest

        mqtt = MqttIngest(svc, cfg.mqtt)
        try:
            await asyncio.to_thread(mqtt.start)
        except Exception:  # HTTP ingest keeps working without the broker
            log.exception(
                "MQTT ingest could not start (port %s); continuing without it", cfg.mqtt.port
            )
            await asyncio.to_thread(mqtt.stop)
            mqtt = None
    return {"tasks": tasks, "mqtt": mqtt}


async def stop_background(svc: Service, handles: dict) -> None:
    """Stop background tasks (the event log stays open: every append is already durable)."""
    for t in handles["tasks"]:
        t.cancel()
    for t in handles["tasks"]:
        try:
            await t
        except (asyncio.CancelledError, Exception):
            pass
    if handles.get("mqtt") is not None:
        await asyncio.to_thread(handles["mqtt"].stop)
