"""The FastAPI application: ingest, JSON API, streams, CAP, compatibility endpoints, map."""

from __future__ import annotations

import asyncio
import json
import math
from contextlib import asynccontextmanager
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, WebSocket
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.websockets import WebSocketDisconnect

from airwarn.contracts import RecordError
from airwarn.serve import compat
from airwarn.serve.auth import Principal
from airwarn.serve.service import ServeConfig, Service, parse_ndjson

WEB_DIR = Path(__file__).with_name("web")
MAX_BODY = 16 * 1024 * 1024
bearer = HTTPBearer(auto_error=False, description="Per-sensor or operator bearer token")
AUTH_RESPONSES: dict = {
    400: {"description": "body is not valid JSON"},
    401: {"description": "missing or unknown bearer token"},
    403: {"description": "the token's role may not do this"},
}


def maplibre_dir() -> Path | None:
    """Where the npm-installed MapLibre GL JS dist files are (None if not installed)."""
    for p in (
        WEB_DIR / "node_modules" / "maplibre-gl" / "dist",
        WEB_DIR / "vendor" / "maplibre-gl",
    ):
        if (p / "maplibre-gl.js").is_file():
            return p
    return None


def create_app(config: ServeConfig, service: Service | None = None) -> FastAPI:
    """The airwarn web service for one deployment (starts its ticker, MQTT, webhooks on startup)."""
    svc = service or Service(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from airwarn.serve.runtime import start_background, stop_background

        svc.bus.bind(asyncio.get_running_loop())
        handles = await start_background(svc)
        try:
            yield
        finally:
            await stop_background(svc, handles)

    app = FastAPI(
        title="airwarn",
        version="0.1.0",
        summary="Civilian early warning for air threats: live ingest, zone alerts, CAP 1.2.",
        lifespan=lifespan,
    )
    app.state.service = svc

    def principal(cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        p = svc.config.tokens.lookup(cred.credentials) if cred is not None else None
        if p is None:
            raise HTTPException(
                401, "missing or unknown bearer token", headers={"WWW-Authenticate": "Bearer"}
            )
        return p

    def operator(p: Principal = Depends(principal)) -> Principal:
        if not p.is_operator:
            raise HTTPException(403, f"token {p.name!r} (role {p.role}) may not act as operator")
        return p

    def admin(p: Principal = Depends(principal)) -> Principal:
        if p.role != "admin":
            raise HTTPException(403, f"token {p.name!r} (role {p.role}) is not an admin")
        return p

    # ------------------------------------------------------------------ ingest
    @app.post(
        "/api/v1/reports",
        tags=["ingest"],
        summary="Post a batch of reports (NDJSON, detections format)",
        responses={
            200: {"description": "all records accepted (or ignored as duplicate / too late)"},
            207: {"description": "some records rejected; the good ones are kept"},
            400: {"description": "empty batch"},
            401: {"description": "no or unknown token"},
            403: {"description": "token may not report for these sensors"},
            413: {"description": "batch too large"},
            422: {"description": "every record invalid; each named by line and field"},
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-ndjson": {"schema": {"type": "string"}},
                    "application/json": {
                        "schema": {"oneOf": [{"type": "array", "items": {}}, {"type": "object"}]}
                    },
                },
            }
        },
    )
    async def post_reports(request: Request, p: Principal = Depends(principal)) -> JSONResponse:
        if p.role != "sensor":
            raise HTTPException(403, f"token {p.name!r} (role {p.role}) may not post reports")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"batch larger than {MAX_BODY} bytes")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HTTPException(400, f"body is not UTF-8 ({exc.reason})") from None
        items = decode_batch(text, request.headers.get("content-type", ""))
        if not items:
            raise HTTPException(400, "empty batch: send one JSON report per line")
        res = await run_in_threadpool(svc.ingest, items, p, "batch")
        return JSONResponse(res.to_json(), status_code=res.status)

    # ------------------------------------------------------------------ JSON API
    @app.get("/api/v1/alerts", tags=["alerts"], summary="Zones under pre-alert or alert now")
    def get_alerts() -> dict:
        return {"t": svc.clock(), "last_tick": _fin(svc.last_tick), "zones": svc.zone_states()}

    @app.get("/api/v1/zones", tags=["alerts"], summary="State of every zone")
    def get_zones(active: bool = False) -> dict:
        return {"t": svc.clock(), "zones": svc.zone_states(active_only=active)}

    @app.get(
        "/api/v1/zones.geojson",
        tags=["map"],
        summary="Zone polygons (GeoJSON) with id, name, region, shelter_s, population",
        response_class=Response,
        responses=_doc("application/geo+json", "object"),
    )
    def get_zones_geojson() -> Response:
        return Response(svc_zones_geojson(svc), media_type="application/geo+json")

    @app.get("/api/v1/tracks", tags=["map"], summary="Live tracks and predicted corridors")
    def get_tracks(t: float | None = Query(None, ge=0, le=1e11)) -> dict:
        return svc.tracks_json(t)

    @app.get(
        "/api/v1/events", tags=["alerts"], summary="Published alert changes and operator actions"
    )
    def get_events(
        after: int = Query(0, ge=0, le=2**62), limit: int = Query(1000, ge=1, le=10000)
    ) -> dict:
        evs = [
            e.to_json()
            for e in svc.log.events(after=after, kinds=["alert", "operator"], limit=limit)
        ]
        return {"events": evs, "last_seq": evs[-1]["seq"] if evs else after}

    @app.get("/api/v1/history", tags=["map"], summary="Zone states at a past time (time scrubber)")
    def get_history(t: float = Query(..., ge=0, le=1e11)) -> dict:
        t0, t1 = svc.time_range()
        return {"t": t, "range": [t0, t1], "zones": list(svc.states_at(t).values())}

    @app.get("/api/v1/status", tags=["service"], summary="Service health and counters")
    def get_status() -> dict:
        return svc.status()

    # ------------------------------------------------------------------ streams
    @app.get(
        "/api/v1/stream",
        tags=["streams"],
        summary="Server-sent events: alert changes, operator actions, ticks",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    )
    async def stream(
        request: Request,
        last_event_id: str | None = Header(None),
        once: bool = Query(False, description="send the backlog and a snapshot, then close"),
    ) -> StreamingResponse:
        after = _int_or_none(last_event_id)
        q = svc.bus.subscribe()

        async def gen():
            try:
                yield "retry: 2000\n\n"
                sent = 0
                if after is not None:
                    for e in svc.log.events(after=after, kinds=["alert", "operator"]):
                        ev = replay_event(svc, e)
                        sent = e.seq
                        yield sse(ev)
                yield sse({"type": "snapshot", "t": svc.clock(), "zones": svc.zone_states()})
                if once:
                    return
                while True:
                    try:
                        ev = await asyncio.wait_for(q.get(), 15.0)
                    except TimeoutError:
                        yield ": keepalive\n\n"
                        continue
                    if ev is None:
                        return
                    if ev.get("id") is not None and ev["id"] <= sent:
                        continue
                    yield sse(ev)
            finally:
                svc.bus.unsubscribe(q)

        return StreamingResponse(
            gen(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @app.websocket("/api/v1/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        q = svc.bus.subscribe()
        try:
            await websocket.send_json(
                {"type": "snapshot", "t": svc.clock(), "zones": svc.zone_states()}
            )
            while True:
                ev = await q.get()
                if ev is None:
                    break
                await websocket.send_json(ev)
        except WebSocketDisconnect:
            pass
        finally:
            svc.bus.unsubscribe(q)

    # ------------------------------------------------------------------ operators
    @app.post(
        "/api/v1/operator/actions",
        tags=["operator"],
        summary="Manual alert, extend or cancel for zones or whole regions (operators only)",
        responses=AUTH_RESPONSES,
    )
    async def post_operator(body: dict[str, Any], p: Principal = Depends(operator)) -> dict:
        try:
            return await run_in_threadpool(svc.operator, body, p)
        except RecordError as err:
            raise HTTPException(422, str(err)) from None

    @app.get(
        "/api/v1/operator/audit",
        tags=["operator"],
        summary="The operator audit log",
        responses=AUTH_RESPONSES,
    )
    def get_audit(
        limit: int = Query(1000, ge=1, le=100000), p: Principal = Depends(operator)
    ) -> dict:
        return {"actions": svc.audit(limit)}

    # ------------------------------------------------------------------ webhooks
    @app.post(
        "/api/v1/webhooks",
        tags=["webhooks"],
        summary="Register a webhook (admins only)",
        responses=AUTH_RESPONSES,
    )
    def post_webhook(body: dict[str, Any], p: Principal = Depends(admin)) -> dict:
        url, secret = body.get("url"), body.get("secret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise HTTPException(422, "field 'url': must be an http(s) URL")
        if not isinstance(secret, str) or len(secret) < 16:
            raise HTTPException(422, "field 'secret': must be a string of >= 16 characters")
        svc.webhooks_register(url, secret)
        return {"url": url}

    @app.get(
        "/api/v1/webhooks/status",
        tags=["webhooks"],
        summary="Registered webhooks and deliveries",
        responses=AUTH_RESPONSES,
    )
    def get_webhooks(p: Principal = Depends(admin)) -> dict:
        return svc.webhooks_status()

    # ------------------------------------------------------------------ CAP
    @app.get(
        "/cap/feed.atom",
        tags=["cap"],
        summary="Atom index of CAP 1.2 messages",
        response_class=Response,
        responses={**_doc("application/atom+xml"), 404: {"description": "CAP output is off"}},
    )
    def cap_feed() -> Response:
        if svc.cap is None:
            raise HTTPException(404, "CAP output is off")
        return Response(svc.cap.atom(), media_type="application/atom+xml")

    @app.get(
        "/cap/{identifier}.xml",
        tags=["cap"],
        summary="One CAP 1.2 message",
        response_class=Response,
        responses={**_doc("application/cap+xml"), 404: {"description": "no such message"}},
    )
    def cap_message(identifier: str) -> Response:
        xml = svc.cap.get(identifier) if svc.cap is not None else None
        if xml is None:
            raise HTTPException(404, f"no CAP message {identifier!r}")
        return Response(xml, media_type="application/cap+xml")

    # ------------------------------------------------------------------ compatibility
    def ua_response(request: Request, data: Any) -> Response:
        last = svc.last_change_wall()
        lm = formatdate(last, usegmt=True)
        ims = request.headers.get("if-modified-since")
        if ims:
            try:
                if parsedate_to_datetime(ims).timestamp() >= math.floor(last):
                    return Response(status_code=304, headers={"Last-Modified": lm})
            except (TypeError, ValueError):
                pass
        return JSONResponse(data, headers={"Last-Modified": lm})

    @app.get("/v1/alerts/active.json", tags=["compat"], summary="alerts.in.ua: active alerts")
    def ua_active(request: Request) -> Response:
        return ua_response(request, compat.active_json(_ua_states(svc), svc.clock()))

    for ver in (1, 2):

        def _iot(request: Request, v2: bool = ver == 2) -> Response:
            return ua_response(request, compat.iot_string(_ua_status(svc, v2)))

        def _iot_oblast(request: Request, v2: bool = ver == 2) -> Response:
            return ua_response(request, compat.by_oblast_string(_ua_status(svc, v2)))

        def _iot_one(uid: int, request: Request, v2: bool = ver == 2) -> Response:
            return ua_response(request, _ua_status(svc, v2).get(uid, "N"))

        app.add_api_route(
            f"/v{ver}/iot/active_air_raid_alerts.json",
            _iot,
            tags=["compat"],
            summary=f"alerts.in.ua IoT v{ver}: status character per location uid",
        )
        app.add_api_route(
            f"/v{ver}/iot/active_air_raid_alerts_by_oblast.json",
            _iot_oblast,
            tags=["compat"],
            summary=f"alerts.in.ua IoT v{ver}: 27 oblast status characters",
        )
        app.add_api_route(
            f"/v{ver}/iot/active_air_raid_alerts/{{uid}}.json",
            _iot_one,
            tags=["compat"],
            summary=f"alerts.in.ua IoT v{ver}: one location's status",
        )

    def hfc() -> Response:
        obj = compat.hfc_alert(svc.zone_states(), svc.clock())
        body = "" if obj is None else json.dumps(obj, ensure_ascii=False)
        return Response(body, media_type="application/json; charset=utf-8")

    app.add_api_route(
        "/WarningMessages/alert/alerts.json",
        hfc,
        tags=["compat"],
        summary="Israel Home Front Command style alerts.json (empty body when quiet)",
        response_class=Response,
    )
    app.add_api_route(
        "/Alerts.json",
        hfc,
        tags=["compat"],
        response_class=Response,
        summary="Same as /WarningMessages/alert/alerts.json",
    )

    # ------------------------------------------------------------------ map
    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/map")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/map", include_in_schema=False)
    def map_page() -> HTMLResponse:
        return HTMLResponse((WEB_DIR / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name.startswith("maplibre-gl."):
            d = maplibre_dir()
            if d is None:
                raise HTTPException(
                    404, "maplibre-gl is not installed: run npm ci in airwarn/serve/web"
                )
            p = d / name
        else:
            p = WEB_DIR / name
        if (
            "/" in name
            or ".." in name
            or not p.is_file()
            or p.suffix not in (".js", ".css", ".map")
        ):
            raise HTTPException(404, "not found")
        return FileResponse(p)

    return app


def _doc(media_type: str, kind: str = "string") -> dict:
    """OpenAPI 200 response documentation for a non-JSON media type."""
    return {200: {"description": "OK", "content": {media_type: {"schema": {"type": kind}}}}}


def decode_batch(text: str, content_type: str) -> list[tuple[int, Any]]:
    """Decode an ingest body: NDJSON lines, or one JSON array / object."""
    s = text.lstrip()
    if "json" in content_type and "ndjson" not in content_type and s.startswith("["):
        try:
            arr = json.loads(s)
        except json.JSONDecodeError as exc:
            return [
                (exc.lineno, RecordError("batch", exc.lineno, None, f"not valid JSON ({exc.msg})"))
            ]
        return list(enumerate(arr, 1)) if isinstance(arr, list) else [(1, arr)]
    return parse_ndjson(text)


def sse(ev: dict) -> str:
    """One server-sent event (``id`` for logged events, ``event`` = type)."""
    head = f"id: {ev['id']}\n" if ev.get("id") is not None else ""
    return f"{head}event: {ev.get('type', 'message')}\ndata: {json.dumps(ev, separators=(',', ':'))}\n\n"


def replay_event(svc: Service, e) -> dict:
    """A logged alert/operator event in the live stream format."""
    if e.kind == "alert":
        from airwarn.contracts import AlertChange

        c = AlertChange.parse(e.body["change"], "event log", e.seq)
        return svc.alert_event(c, e.seq, e.body.get("cap_id"))
    return {"id": e.seq, "type": e.kind, **e.body}


def svc_zones_geojson(svc: Service) -> str:
    """Zone polygons (WGS84) with id, name, region, shelter_s, population (cached)."""
    cached = getattr(svc, "_zones_geojson", None)
    if cached is None:
        from shapely.geometry import mapping

        feats = []
        for z in svc.zones.zones:
            geom = mapping(z.geometry.simplify(0.0005, preserve_topology=True))
            feats.append(
                {
                    "type": "Feature",
                    "id": len(feats),
                    "properties": {
                        "id": z.id,
                        "name": z.name,
                        "region": z.region,
                        "shelter_s": z.shelter_s,
                        "population": z.population,
                    },
                    "geometry": geom,
                }
            )
        cached = json.dumps({"type": "FeatureCollection", "features": feats}, separators=(",", ":"))
        svc._zones_geojson = cached
    return cached


def _ua_states(svc: Service) -> list[dict]:
    return svc.zone_states()


def _ua_status(svc: Service, v2: bool) -> dict[int, str]:
    per_region: dict[str, int] = {}
    zs = svc.zones
    for i, r in enumerate(zs.region_ids):
        per_region[r] = int((zs.region == i).sum())
    return compat.oblast_status(svc.zone_states(), per_region, v2=v2)


def _fin(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _int_or_none(s: str | None) -> int | None:
    try:
        return int(s) if s is not None else None
    except ValueError:
        return None
