"""Fixtures of the call widget's browser tests: the real panel on a TCP port, Chromium, log-ins.

Imported explicitly by the widget, live and calls-page test modules (`from
tests.web.widget_support import *`), so they do not depend on another engineer's conftest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page

from models.core.hub import Hub
from models.core.settings import AmiSettings, Settings, WebSettings
from models.schema.users import User
from web.app import create_app
from web.views.live import LIVE, LiveRelay

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "widget"


async def eventually(predicate: Callable[[], Any], within: float = 10.0) -> None:
    """Wait until predicate() is true, polling; fail if it never is (no timing assertion)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


class Panel:
    """The running web panel and what tests need to reach into it."""

    def __init__(self, url: str, app: web.Application, hub: Hub, settings: Settings) -> None:
        self.url = url
        self.app = app
        self.hub = hub
        self.settings = settings

    @property
    def relay(self) -> LiveRelay:
        return self.app[LIVE]

    def sockets_of(self, user_id: int) -> int:
        return len(self.relay.sockets.get(user_id, ()))


@pytest.fixture
async def panel(world, hub, clock, tmp_path):
    # The tests read English texts (the panel's default is Spanish).
    await User.all().update(language="en")
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    settings = Settings(
        data_dir=tmp_path,
        web=WebSettings(port=0, secret_key="widget-tests-" + "k" * 40),
        ami=AmiSettings(recordings_dir=str(recordings)),
    )
    app = create_app(settings, hub=hub, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield Panel(f"http://127.0.0.1:{port}", app, hub, settings)
    await runner.cleanup()


@pytest.fixture(scope="session")
async def chromium(browser) -> Browser:
    """The session's one headless Chromium (tests/web/conftest.py's `browser`), not a second."""
    return browser


@pytest.fixture
async def contexts(chromium):
    """new_context() -> a fresh browser profile (its own cookies); all closed at the end."""
    made: list[BrowserContext] = []

    async def factory() -> BrowserContext:
        context = await chromium.new_context(viewport={"width": 1280, "height": 900})
        made.append(context)
        return context

    yield factory
    for context in made:
        await context.close()


async def log_in(context: BrowserContext, panel: Panel, username: str, password: str) -> Page:
    """Log in through the real form; returns the page, on the dashboard with the widget live."""
    page = await context.new_page()
    await page.goto(panel.url + "/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#call-widget[data-live='1']")
    return page


async def open_tab(context: BrowserContext, panel: Panel, path: str = "/") -> Page:
    """Another tab of an already logged-in browser."""
    page = await context.new_page()
    await page.goto(panel.url + path)
    await page.wait_for_selector("#call-widget[data-live='1']")
    return page


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
