"""The analytics pages (N1-N7) over HTTP and in a browser: figures of a small world, rights,
the period selector."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from models.contacts.clients import ClientInput, create_client
from models.core.clock import FixedClock
from models.people.users import create_group, create_user
from models.sales.deals import create_deal, move_deal
from models.telephony.call_record import CallRecord
from models.telephony.caller_directory import CallerDirectory
from tests.web.conftest import http_login, login, screenshot


async def _small_world(world, clock):
    """Luis: 2 deals (one won, 250 EUR, after 1 day), 2 calls. Marta: 1 deal, 1 call."""
    mine = await create_client(world.luis, ClientInput(name="Ribera"), clock=clock)
    hers = await create_client(world.marta, ClientInput(name="Duero"), clock=clock)
    won = await create_deal(world.luis, mine.id, "Big", "250", clock=clock)
    await create_deal(world.luis, mine.id, "Small", "10", clock=clock)
    await create_deal(world.marta, hers.id, "Hers", "99", clock=clock)
    await move_deal(world.luis, won.id, "won", clock=FixedClock(clock.now() + timedelta(days=1)))
    directory = await CallerDirectory.load()
    for i, ext in enumerate(["101", "101", "102"]):
        await directory.record_call(
            CallRecord(
                linkedid=f"w.{i}",
                direction="out",
                from_number=ext,
                to_number="600000020",
                started_at=clock.now() - timedelta(hours=1),  # 09:00 UTC, 10:00 in Madrid
                result="answered",
                agent_extension=ext,
                talk_seconds=90,
            ),
            clock=clock,
        )


def _cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)
        ]
        for r in rows
    ]


async def test_admin_sees_everyones_figures_and_can_narrow_to_one(world_server, world, clock, http):
    await _small_world(world, clock)
    await http_login(http, world_server.url, "ana", world.password)
    async with http.get(f"{world_server.url}/analytics/deals?period=month") as resp:
        assert resp.status == 200
        html = await resp.text()
    status = dict(_cells(html, "table-status")[1:])
    assert list(status.values()) == ["2", "0", "0", "0", "1", "0"]  # new, ..., won, cancelled
    assert [row[1] for row in _cells(html, "table-funnel")[1:]] == ["3", "1", "1", "1", "1"]
    assert "250" in html and "/static/vendor/chart.js/dist/chart.umd.min.js" in html
    assert "100,0 %" in html  # conversion 1 won / 1 closed, written the Spanish way
    assert ">1,0<" in html  # one day from creation to won
    async with http.get(
        f"{world_server.url}/analytics/calls?period=today&user={world.marta.id}"
    ) as resp:
        html = await resp.text()
    assert _cells(html, "table-hours")[1:] == [["10:00", "1"]]
    async with http.get(f"{world_server.url}/analytics/team?period=week") as resp:
        html = await resp.text()
    team = {row[0]: row[1:] for row in _cells(html, "table-team")[1:]}
    # deals in progress, won, open tasks, done tasks, calls
    assert team["Luis Pérez" if "Luis Pérez" in team else "luis"] == ["1", "1", "0", "0", "2"]
    assert "<th>3</th>" in html.split('id="table-team"')[1]  # three calls in all
    async with http.get(f"{world_server.url}/static/vendor/chart.js/dist/chart.umd.min.js") as r:
        assert r.status == 200 and "Chart" in await r.text()


async def test_agent_sees_only_own_figures(world_server, world, clock, http):
    await _small_world(world, clock)
    await http_login(http, world_server.url, "marta", world.password)
    async with http.get(
        f"{world_server.url}/analytics/calls?period=30days&user={world.luis.id}"
    ) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert [row[1] for row in _cells(html, "table-users")[1:]] == ["1"]  # hers, not Luis's 2
    assert 'name="user"' not in html  # no user filter without calls.view_all
    async with http.get(f"{world_server.url}/analytics/team") as resp:
        html = await resp.text()
    assert len(_cells(html, "table-team")) == 3  # header, her row, totals
    async with http.get(f"{world_server.url}/analytics/deals") as resp:
        assert [r[1] for r in _cells(await resp.text(), "table-status")[1:]][0] == "1"


async def test_without_the_right_the_page_is_refused(world_server, world, http):
    await create_group("NoStats", [])
    await create_user("pepe", "long-password-2", group_name="NoStats")
    await http_login(http, world_server.url, "pepe", "long-password-2")
    async with http.get(f"{world_server.url}/analytics") as resp:
        assert resp.status == 403
    async with http.get(f"{world_server.url}/") as resp:
        assert 'href="/analytics"' not in await resp.text()


async def test_custom_period_in_the_users_zone_and_bad_dates(world_server, world, clock, http):
    # 23:30 UTC on Nov 24 is already Nov 25 in Madrid.
    await create_client(
        world.luis,
        ClientInput(name="Night"),
        clock=FixedClock(datetime(2026, 11, 24, 23, 30, tzinfo=UTC)),
    )
    await http_login(http, world_server.url, "ana", world.password)
    url = f"{world_server.url}/analytics/clients?period=custom&from=2026-11-25&to=2026-11-25"
    async with http.get(url) as resp:
        assert _cells(await resp.text(), "table-growth")[1:] == [["2026-11-25", "1"]]
    url = f"{world_server.url}/analytics/clients?period=custom&from=2026-11-24&to=2026-11-24"
    async with http.get(url) as resp:
        assert _cells(await resp.text(), "table-growth")[1:] == []
    url = f"{world_server.url}/analytics/clients?period=custom&from=2026-11-25&to=2026-11-01"
    async with http.get(url) as resp:
        assert resp.status == 422
        assert 'role="alert"' in await resp.text()
    async with http.get(f"{world_server.url}/analytics/nonsense") as resp:
        assert resp.status == 404


async def test_browser_switches_the_period_and_draws_the_charts(world_server, world, clock, page):
    await _small_world(world, clock)
    await login(page, world_server.url, "ana", world.password)
    await page.click("nav.sidebar a[href='/analytics']")
    await page.wait_for_selector("canvas#chart-status")
    assert await page.locator("#table-funnel tbody tr").count() == 5
    await screenshot(page, "analytics-deals")
    await page.click("nav.tabs a[href^='/analytics/calls']")
    await page.wait_for_selector("canvas#chart-hours")
    await page.select_option("#period", "today")
    await page.wait_for_url(re.compile(r".*/analytics/calls\?period=today.*"))
    # Chart.js drew on the canvas (it sizes it) and the numbers are in the table too.
    await page.wait_for_function(
        "() => Chart.getChart(document.getElementById('chart-hours')) !== undefined"
    )
    assert await page.locator("#table-hours tbody tr").count() == 1
    assert (await page.locator("#table-hours tbody td").nth(1).inner_text()) == "3"
    await page.select_option("#period", "custom")
    assert await page.locator("#custom-dates").is_visible()
    await page.fill("input[name=from]", "2026-11-01")
    await page.fill("input[name=to]", "2026-11-02")
    await page.click("#period-form button[type=submit]")
    await page.wait_for_url(re.compile(r".*period=custom.*"))
    assert await page.locator("#table-hours tbody tr").count() == 0
    assert "2026-11-01" in await page.locator("#period-range").inner_text()
    await screenshot(page, "analytics-calls")
