"""The web panel started for real on a free port, and headless Chromium to drive it.

Browser tests are skipped only when /usr/bin/chromium is missing outside CI; in CI (CI=true)
a missing browser fails them, so the suite never silently loses its browser coverage.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from models.core.settings import Settings, WebSettings
from web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LOGIN_LIMIT = 5


@dataclass
class Server:
    url: str
    app: web.Application
    settings: Settings


def web_settings(tmp_path: Path, **web_overrides) -> Settings:
    options = {"secret_key": SecretStr("test-signing-key-" + "x" * 32)}
    options["login_attempts_per_minute"] = LOGIN_LIMIT
    options.update(web_overrides)
    return Settings(data_dir=tmp_path, web=WebSettings(**options))


async def start_server(settings: Settings, hub, clock, services=None):
    app = create_app(settings, hub=hub, clock=clock, services=services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, Server(f"http://127.0.0.1:{port}", app, settings)


@pytest.fixture
async def server(db, hub, clock, tmp_path):
    """The real app on a free port over the test database (set up or not, as the test makes it)."""
    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    yield srv
    await runner.cleanup()


@pytest.fixture
async def world_server(world, hub, clock, tmp_path):
    runner, srv = await start_server(web_settings(tmp_path), hub, clock)
    yield srv
    await runner.cleanup()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def http_login(session: aiohttp.ClientSession, url: str, username: str, password: str):
    async with session.get(f"{url}/login") as resp:
        token = csrf_from(await resp.text())
    async with session.post(
        f"{url}/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 303, await resp.text()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def _browser_available() -> bool:
    if CHROMIUM.exists():
        return True
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: install Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return False


@pytest.fixture(scope="session")
async def browser():
    _browser_available()
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    chromium = await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield chromium
    await chromium.close()
    await playwright.stop()


@pytest.fixture
async def page(browser):
    context = await browser.new_context(
        viewport={"width": 1366, "height": 860}, locale="en-US", accept_downloads=False
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    yield page
    await context.close()


async def login(page, url: str, username: str, password: str) -> None:
    await page.goto(f"{url}/login")
    await page.fill("#f-username", username)
    await page.fill("#f-password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/$"))


async def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
