"""The panel driven in headless Chromium: what a user does, checked in the page and the database.

Screenshots of the main pages land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from datetime import timedelta

from models.contacts import clients as client_ops
from models.sales import deals as deal_ops
from models.schema.clients import Client
from models.schema.deals import DealHistory
from models.schema.tasks import Task
from models.schema.users import User
from models.work import tasks as task_ops
from tests.web.conftest import LOGIN_LIMIT, login, screenshot


async def test_first_run_setup_page(server, page):
    await page.goto(f"{server.url}/clients")
    assert page.url.endswith("/setup")
    await screenshot(page, "setup")
    await page.fill("#f-name", "Acme Telecom")
    await page.fill("#f-username", "ana")
    await page.fill("#f-password", "long-password-1")
    await page.fill("#f-extension", "100")
    await page.click("button[type=submit]")
    await page.wait_for_url(re.compile(r".*/$"))
    assert await page.locator(".widget").count() == 7
    admin = await User.get(username="ana").prefetch_related("group")
    assert admin.group.name == "Admin"
    assert admin.extension == "100"


async def test_create_a_client_and_find_it_by_the_last_digits(world_server, world, page):
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/clients/new")
    # a client without a name is refused, and what was typed stays in the form
    await page.fill("input[name=phones] >> nth=0", "612 34 56 78")
    await page.click("form[action='/clients/new'] button[type=submit]")
    await page.wait_for_selector(".field.has-error #f-name")
    assert await page.input_value("input[name=phones] >> nth=0") == "612 34 56 78"
    await screenshot(page, "client-form-errors")
    await page.fill("#f-name", "Bodegas Ribera")
    await page.click("[data-add-row=phones-list]")
    await page.fill("input[name=phones] >> nth=1", "+44 20 7946 0958")
    await page.fill("input[name=emails] >> nth=0", "compras@ribera.example")
    await page.fill("#f-tags", "vino, vip")
    await page.click("form[action='/clients/new'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*/clients/\d+$"))
    assert await page.locator("h1").inner_text() == "Bodegas Ribera"
    await screenshot(page, "client-card")
    # the universal search at the top, by the last four digits of the second phone
    await page.fill(".topbar input[name=q]", "0958")
    await page.press(".topbar input[name=q]", "Enter")
    await page.wait_for_url(re.compile(r".*/search\?q=0958"))
    rows = page.locator("[data-group=clients] table.clients tbody tr")
    assert await rows.count() == 1
    assert "Bodegas Ribera" in await rows.first.inner_text()
    await screenshot(page, "clients-search")
    # and by a number written in another format
    await page.goto(f"{world_server.url}/clients?q=%2B34612345678")
    assert await page.locator("table.clients tbody tr").count() == 1


async def test_drag_a_deal_to_another_column_persists(world_server, world, clock, page):
    client = await client_ops.create_client(
        world.luis,
        client_ops.ClientInput(name="Hotel Sol", phones=["+34 911 000 111"]),
        clock=clock,
    )
    deal = await deal_ops.create_deal(
        world.luis, client.id, "Centralita 20 ext.", 1200, clock=clock
    )
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/deals")
    card = page.locator(f".deal-card[data-id='{deal.id}']")
    target = page.locator(".cards[data-status=awaiting_payment]")
    await card.drag_to(target)
    await page.wait_for_selector(f".deal-card[data-saved=awaiting_payment][data-id='{deal.id}']")
    totals = page.locator(".column.awaiting_payment .totals")
    assert await totals.locator("[data-currency=EUR]").get_attribute("data-amount") == "1200.00"
    assert await page.locator(".column.new .totals [data-currency=EUR]").count() == 0
    await page.wait_for_timeout(400)  # let the drop animation end before the screenshot
    await screenshot(page, "deals-kanban")
    saved = await deal_ops.get_deal(world.luis, deal.id)
    assert saved.status == "awaiting_payment"
    assert await DealHistory.filter(deal_id=deal.id, kind="status").count() == 1
    await page.reload()
    column = page.locator(".cards[data-status=awaiting_payment]")
    assert await column.locator(f"[data-id='{deal.id}']").count() == 1
    await page.goto(f"{world_server.url}/deals/{deal.id}")
    assert "→" in await page.locator(".history").inner_text()


async def test_complete_a_task_by_its_checkbox(world_server, world, clock, page):
    task = await task_ops.create_task(
        world.luis,
        task_ops.TaskInput(title="Llamar a Hotel Sol", due_at=clock.now() - timedelta(hours=2)),
        clock=clock,
    )
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/tasks")
    row = page.locator(f"tr[data-task='{task.id}']")
    assert "overdue" in (await row.get_attribute("class") or "")
    await screenshot(page, "tasks")
    # ticking the box submits at once: the page reloads without the (now closed) task
    async with page.expect_navigation():
        await row.locator("input[type=checkbox]").click()
    assert await page.locator(f"tr[data-task='{task.id}']").count() == 0
    assert (await Task.get(id=task.id)).is_done
    await page.goto(f"{world_server.url}/tasks?status=done")
    done_row = page.locator(f"tr[data-task='{task.id}']")
    assert await done_row.locator("input[type=checkbox]").is_checked()


async def test_an_agent_is_refused_another_agents_client(world_server, world, clock, page):
    theirs = await client_ops.create_client(
        world.marta, client_ops.ClientInput(name="Cliente de Marta"), clock=clock
    )
    await login(page, world_server.url, "luis", world.password)
    response = await page.goto(f"{world_server.url}/clients/{theirs.id}")
    assert response.status == 404  # as if there were no such client: ids cannot be probed
    assert "Cliente de Marta" not in await page.content()
    await screenshot(page, "forbidden")
    response = await page.goto(f"{world_server.url}/clients/999999")
    assert response.status == 404
    await page.goto(f"{world_server.url}/clients")
    assert "Cliente de Marta" not in await page.content()


async def test_dashboard_layout_is_saved_per_user(world_server, world, page):
    await login(page, world_server.url, "luis", world.password)
    await page.click("[data-hide=my_calls]")
    await page.wait_for_selector("[data-show=my_calls]:visible")
    first = page.locator(".widget h2").first
    await first.drag_to(page.locator("[data-widget=new_leads] h2"))
    await page.wait_for_timeout(300)  # the layout is posted after the drop; wait for it below
    await page.wait_for_function(
        "() => document.querySelector('.widget').dataset.widget !== 'clients'"
    )
    for _ in range(20):
        await world.luis.refresh_from_db()
        if world.luis.dashboard_layout.get("order", ["clients"])[0] != "clients":
            break
        await page.wait_for_timeout(100)
    assert world.luis.dashboard_layout["hidden"] == ["my_calls"]
    await page.reload()
    assert await page.locator("[data-widget=my_calls]").is_hidden()
    assert await page.locator(".show-widget:visible").count() == 1  # only the hidden one
    assert await page.locator(".widget").first.get_attribute("data-widget") != "clients"
    await screenshot(page, "dashboard")
    # another user's dashboard is untouched
    await world.ana.refresh_from_db()
    assert world.ana.dashboard_layout == {}


async def test_spanish_for_spanish_users_and_the_login_page_follows_the_browser(
    world_server, world, browser
):
    context = await browser.new_context(
        locale="es-ES", extra_http_headers={"Accept-Language": "es-ES,es;q=0.9"}
    )
    page = await context.new_page()
    await page.goto(f"{world_server.url}/login")
    assert "Iniciar sesión" in await page.content()
    await context.close()
    context = await browser.new_context(
        locale="en-GB", extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"}
    )
    page = await context.new_page()
    await page.goto(f"{world_server.url}/login")
    assert "Log in to Centralita" in await page.content()
    await screenshot(page, "login")
    await login(page, world_server.url, "luis", world.password)  # luis speaks Spanish
    assert "Clientes" in await page.locator(".sidebar").inner_text()
    await page.goto(f"{world_server.url}/settings/profile")
    await page.select_option("#f-language", "en")
    await page.click("form[action='/settings/profile'] button[type=submit]")
    await page.wait_for_url(re.compile(r".*/settings/profile$"))
    assert "Clients" in await page.locator(".sidebar").inner_text()
    assert "Profile saved." in await page.locator(".flash").inner_text()
    await context.close()


async def test_screenshots_of_the_main_pages(world_server, world, clock, page):
    client = await client_ops.create_client(
        world.ana,
        client_ops.ClientInput(name="Talleres Norte", phones=["+34 944 000 222"], tags=["taller"]),
        clock=clock,
    )
    await deal_ops.create_deal(world.ana, client.id, "Renovación", 800, "USD", clock=clock)
    await task_ops.create_task(
        world.ana,
        task_ops.TaskInput(
            title="Visita",
            due_at=clock.now() + timedelta(days=1),
            kind="video",
            assignee_ids=[world.luis.id],
        ),
        clock=clock,
    )
    await login(page, world_server.url, "ana", world.password)
    for path, name in [
        ("/clients", "clients"),
        ("/leads", "leads"),
        ("/deals?view=list", "deals-list"),
        ("/calendar", "calendar-month"),
        ("/calendar?view=week", "calendar-week"),
        ("/team", "team"),
        ("/settings/profile", "settings-profile"),
        ("/settings/hours", "settings-hours"),
        ("/settings/telephony", "settings-telephony"),
        ("/settings/company", "settings-company"),
        ("/settings/groups", "settings-groups"),
        ("/settings/custom-fields", "settings-custom-fields"),
    ]:
        response = await page.goto(f"{world_server.url}{path}")
        assert response.status == 200, path
        await screenshot(page, name)
    await page.goto(f"{world_server.url}/calendar")
    assert "Visita" in await page.locator("table.cal").inner_text()  # the admin sees Luis's task


async def test_a_form_without_its_csrf_token_is_refused(world_server, world, page):
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/clients/new")
    await page.fill("#f-name", "Sin token")
    # what a forged cross-site form would look like: the same fields, no token
    await page.evaluate(
        "document.querySelector(\"form[action='/clients/new'] input[name=csrf_token]\").remove()"
    )
    async with page.expect_navigation() as navigation:
        await page.click("form[action='/clients/new'] button[type=submit]")
    response = await navigation.value
    assert response.status == 403
    assert await Client.filter(name="Sin token").count() == 0
    await screenshot(page, "csrf-refused")


async def test_login_attempts_are_rate_limited(world_server, world, page):
    for _ in range(LOGIN_LIMIT):
        await page.goto(f"{world_server.url}/login")
        await page.fill("#f-username", "luis")
        await page.fill("#f-password", "not-the-password")
        await page.click("button[type=submit]")
        await page.wait_for_selector(".flash.error")
    await page.fill("#f-password", world.password)
    async with page.expect_navigation() as navigation:
        await page.click("button[type=submit]")
    assert (await navigation.value).status == 429
    assert page.url.endswith("/login")
    await screenshot(page, "login-rate-limited")
