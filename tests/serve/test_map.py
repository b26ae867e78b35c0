"""The live map in headless Chromium (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil

import pytest

from airwarn.serve import create_app
from airwarn.serve.app import maplibre_dir
from airwarn.serve.auth import Principal

from .conftest import T0, LiveServer, report

CHROMIUM = os.environ.get("AIRWARN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed"),
    pytest.mark.skipif(maplibre_dir() is None, reason="maplibre-gl not installed (npm ci)"),
]


def test_map_shows_alerted_zones_tracks_and_scrubber(make_config, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    app = create_app(make_config())
    svc = app.state.service
    who = Principal("t", "sensor", None)
    svc.ingest([(1, report(1, T0 + 1, 50.45, 30.45)), (2, report(2, T0 + 2, 50.6, 30.6))], who)
    svc.tick(T0 + 5)
    with LiveServer(app) as srv, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 700})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            outside: list[str] = []
            page.on(
                "request",
                lambda r: (
                    outside.append(r.url)
                    if not r.url.startswith((srv.url, "data:", "blob:"))
                    else None
                ),
            )
            page.goto(srv.url + "/map")
            page.wait_for_function(
                "window.airwarn && window.airwarn.ready === true", timeout=60_000
            )
            page.wait_for_function(
                """() => new Set(map.queryRenderedFeatures({layers: ['zones-fill']})
                        .filter(f => f.state.state === 'alert').map(f => f.properties.id)).size === 2""",
                timeout=30_000,
            )
            assert page.locator("#n-alert").inner_text() == "2"
            assert page.locator("#zones li.alert").count() == 2
            assert page.locator("#zones li.alert .countdown").first.inner_text() != ""
            # a new alert arrives over SSE while the page is open
            svc.ingest([(3, report(3, T0 + 6, 50.45, 30.60))], who)
            svc.tick(T0 + 10)
            page.wait_for_function(
                "document.querySelector('#n-alert').textContent === '3'", timeout=30_000
            )
            assert page.locator("#feed li").count() >= 1
            page.wait_for_function(
                "map.querySourceFeatures('tracks').some(f => f.properties.kind === 'corridor')",
                timeout=30_000,
            )
            shot = tmp_path / "map.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            if os.environ.get("AIRWARN_SCREENSHOT"):
                shutil.copy(shot, os.environ["AIRWARN_SCREENSHOT"])
            # scrub back to before the first alert: nothing alerted
            page.evaluate("scrubTo(%f)" % (T0 + 1))
            page.wait_for_function(
                "document.querySelector('#n-alert').textContent === '0'", timeout=30_000
            )
            assert page.locator("#mode").inner_text() == "HISTORY"
            page.click("#live-btn")
            page.wait_for_function(
                "document.querySelector('#n-alert').textContent === '3'", timeout=30_000
            )
            assert errors == []
            assert outside == []  # works offline: no CDN, no tiles from the internet
        finally:
            browser.close()
