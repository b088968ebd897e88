"""The web form snippets pasted into a page of another site and sent by Chromium (E3): the
plain HTML form lands on the thank-you page, the fetch() variant passes the CORS preflight; both
make leads with the page's UTM values, counted on Settings -> Web forms."""

from __future__ import annotations

import re
from html import unescape

import pytest
from aiohttp import web

from models.schema.activity import Note
from models.schema.leads import Lead
from models.schema.users import User
from tests.web.conftest import http_login, login, screenshot, start_server, web_settings
from tests.web.test_web_forms import create_form


@pytest.fixture
async def srv(world, hub, clock, tmp_path):
    await User.all().update(language="en")
    runner, server = await start_server(web_settings(tmp_path), hub, clock)
    yield server
    await runner.cleanup()


async def _site_server(pages: dict[str, str]):
    """Another site on its own port (so another origin) serving the pasted snippets."""

    async def show(request: web.Request) -> web.Response:
        body = pages[request.path]
        return web.Response(
            text=f"<!doctype html><html><body>{body}</body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_get("/{page}", show)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def test_a_browser_sends_both_snippets_from_another_site(world, srv, http, page):
    """The snippets pasted into a real page of another origin, sent by Chromium: the plain
    form (the thank-you page) and the fetch() variant (a CORS preflight, then the POST)."""
    pages: dict[str, str] = {}
    runner, port = await _site_server(pages)
    try:
        origin = f"http://127.0.0.1:{port}"
        await http_login(http, srv.url, "ana", world.password)
        status, html = await create_form(
            http, srv.url, name="Tienda", origins=origin, source_tag_id=str(world.did_tag.id)
        )
        assert status == 200, html
        plain, fetch = (
            unescape(s)
            for s in re.findall(r'<textarea class="snippet"[^>]*>(.*?)</textarea>', html, re.S)
        )
        pages.update({"/contacto": plain, "/rapido": fetch})

        await page.goto(f"{origin}/contacto?utm_source=newsletter&utm_campaign=navidad")
        await page.fill("input[name=name]", "Lucía Ferrer")
        await page.fill("input[name=phone]", "699 111 222")
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=We have received your message")
        lead = await Lead.get(name="Lucía Ferrer")
        assert (lead.source, lead.source_tag_id) == ("web form", world.did_tag.id)
        assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "navidad")

        await page.goto(f"{origin}/rapido?utm_source=instagram&utm_medium=social")
        await page.fill("input[name=name]", "Óscar Vidal")
        await page.fill("input[name=email]", "oscar@example.com")
        await page.fill("textarea[name=message]", "¿Tenéis centralita virtual?")
        await page.click("button[type=submit]")
        await page.wait_for_selector("text=Thank you, we will contact you soon.")
        lead = await Lead.get(name="Óscar Vidal")
        assert (lead.utm_source, lead.utm_medium) == ("instagram", "social")
        assert "¿Tenéis centralita virtual?" in (await Note.get(lead_id=lead.id)).text

        await login(page, srv.url, "ana", world.password)
        await page.goto(f"{srv.url}/settings/forms")
        await page.click("text=HTML form to copy into your site")
        assert await page.locator(".form-submissions").inner_text() == "2"
        await screenshot(page, "settings-web-forms")
    finally:
        await runner.cleanup()
