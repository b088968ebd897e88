"""The Content-Security-Policy in Chromium: every main page works under it (issue 14, item 20).

The browser reports each thing the policy blocks as a `securitypolicyviolation` event and a
console error; both are collected on every page, with the page's own script errors, and
must stay empty. The behaviours that used to be inline scripts are exercised too.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from aiohttp import web

from models.contacts import clients as client_ops
from models.sales import deals as deal_ops
from models.sales import leads as lead_ops
from models.work import tasks as task_ops
from tests.web.conftest import login, screenshot
from web import security_headers

# Registered before any page script runs (outside the page's policy, like a browser extension).
LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
async def watched(page):
    """The page, and what went wrong on it: CSP violations, console errors, script errors."""
    problems: list[str] = []

    def on_console(message) -> None:
        # A failed load is reported with its address by the "response" listener below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def on_response(response) -> None:
        if response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda err: problems.append(f"script error: {err}"))
    await page.context.add_init_script(LISTEN)
    return page, problems


async def visit(page, problems: list[str], url: str) -> None:
    response = await page.goto(url)
    assert response.status == 200, url
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    await page.wait_for_load_state("networkidle")
    violations = await page.evaluate("window.__violations")
    assert violations == [], f"{url}: {violations}"
    assert problems == [], f"{url}: {problems}"


async def test_the_main_pages_run_under_the_policy(world_server, world, clock, watched):
    page, problems = watched
    client = await client_ops.create_client(
        world.ana,
        client_ops.ClientInput(name="Talleres Norte", phones=["+34 944 000 222"], tags=["taller"]),
        clock=clock,
    )
    await deal_ops.create_deal(world.ana, client.id, "Renovación", 800, "EUR", clock=clock)
    lead = await lead_ops.create_lead(
        world.ana, lead_ops.LeadInput(name="Bodega Sur", phones=["+34 955 000 333"]), clock=clock
    )
    task = await task_ops.create_task(
        world.ana,
        task_ops.TaskInput(title="Visita", due_at=clock.now() + timedelta(days=1)),
        clock=clock,
    )
    url = world_server.url
    await visit(page, problems, f"{url}/login")
    await login(page, url, "ana", world.password)
    # The live-event websocket connects under connect-src 'self'.
    await page.wait_for_selector("#call-widget[data-live='1']", state="attached")
    paths = [
        "/",
        "/clients",
        "/search?q=Talleres",
        f"/clients/{client.id}",
        "/clients/new",
        "/leads",
        f"/leads/{lead.id}",
        "/deals",
        "/deals?view=list",
        "/calendar",
        "/calendar?view=week",
        "/tasks",
        f"/tasks/{task.id}",
        "/calls",
        "/analytics",
        *(
            f"/analytics/{report}"
            for report in ("deals", "calls", "sources", "leads", "clients", "tasks", "team")
        ),
        "/team",
        "/imports/new",
        "/dialer",
        "/settings/profile",
        "/settings/hours",
        "/settings/telephony",
        "/settings/company",
        "/settings/groups",
        "/settings/custom-fields",
    ]
    for path in paths:
        await visit(page, problems, f"{url}{path}")
    await screenshot(page, "csp-settings-custom-fields")


async def test_what_were_inline_scripts_still_work(world_server, world, clock, watched):
    page, problems = watched
    client = await client_ops.create_client(
        world.ana, client_ops.ClientInput(name="Hotel Sol"), clock=clock
    )
    url = world_server.url
    await login(page, url, "ana", world.password)

    # Analytics: the charts are drawn, and the period picker shows the dates or reloads.
    await visit(page, problems, f"{url}/analytics/calls")
    assert await page.evaluate(
        "[...document.querySelectorAll('canvas[data-chart]')]"
        ".every((c) => Chart.getChart(c) !== undefined)"
    )
    await page.select_option("#period", "custom")
    assert await page.locator("#custom-dates").is_visible()
    async with page.expect_navigation():
        await page.select_option("#period", "30days")
    assert "period=30days" in page.url

    # Deals kanban and the dashboard: SortableJS is loaded from /static/vendor.
    await visit(page, problems, f"{url}/deals")
    assert await page.evaluate("typeof Sortable") == "function"

    # Working hours: the "day - night - 48" preset fills the rotation.
    await visit(page, problems, f"{url}/settings/hours")
    await page.click("[data-rotation-preset]")
    assert await page.input_value("#f-pattern") == "08:00-20:00\n20:00-08:00\noff\noff"
    assert await page.is_checked("input[name=kind][value=rotation]")

    # Deleting a client asks first; saying no keeps it.
    await visit(page, problems, f"{url}/clients/{client.id}")
    questions: list[str] = []

    async def answer_no(dialog):
        questions.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", answer_no)
    await page.click(f"form[action='/clients/{client.id}/delete'] button[type=submit]")
    assert questions == ["¿Eliminar este cliente y todo lo vinculado a él?"]  # Ana reads Spanish
    assert page.url.endswith(f"/clients/{client.id}")
    page.remove_listener("dialog", answer_no)

    # The calendar's "whose tasks" select reloads the page at once.
    await visit(page, problems, f"{url}/calendar")
    async with page.expect_navigation():
        await page.select_option("select[name=user]", str(world.luis.id))
    assert re.search(rf"[?&]user={world.luis.id}\b", page.url)
    assert problems == []


@pytest.fixture
async def other_site():
    """another_site(html) -> the address of a page of another origin (localhost, not
    127.0.0.1) serving that HTML with no policy of its own."""
    pages: dict[str, str] = {}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(text=pages["html"], content_type="text/html")

    app = web.Application()
    app.router.add_get("/", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def page_with(html: str) -> str:
        pages["html"] = html
        return f"http://localhost:{port}/"

    yield page_with
    await runner.cleanup()


async def framed_url(page, site_url: str) -> str:
    await page.goto(site_url)
    frame = await (await page.wait_for_selector("#victim")).content_frame()
    assert frame is not None
    await frame.wait_for_load_state()
    return frame.url


async def test_the_panel_cannot_be_framed_by_another_site(
    world_server, world, page, other_site, monkeypatch
):
    """frame-ancestors 'none' and X-Frame-Options: another site that frames the profile gets
    the browser's error page in the frame, not the panel."""
    await login(page, world_server.url, "ana", world.password)
    attacker = other_site(f'<iframe id="victim" src="{world_server.url}/settings/profile">')
    assert (await framed_url(page, attacker)).startswith("chrome-error://")
    # The same page without the headers shows the panel inside the frame (its login page:
    # the browser keeps the SameSite cookie out of another site's frame).
    monkeypatch.setattr(security_headers, "STATIC_HEADERS", {})
    monkeypatch.setattr(security_headers, "content_security_policy", lambda sip="": "")
    assert (await framed_url(page, attacker)).startswith(f"{world_server.url}/login")
