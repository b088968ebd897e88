"""The lists in Chromium: sorting by a column header, the pager, a message after every action
and a question before every destructive one (issue 14, item 11).

Expected orders are written from tests/list_world.py's data (users sort by name: Ana García,
Luis Pérez, Marta Núñez; rows without a user come last). Ana reads Spanish.
"""

from __future__ import annotations

import re

from models.contacts import clients as client_ops
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User
from tests.list_world import seed
from tests.web.conftest import login, screenshot

# The link of each row that names it.
ROW_NAME = {
    "clients": "td.primary-cell a",
    "leads": "a[href^='/leads/']",
    "deals": "a[href^='/deals/']",
    "tasks": "a.title",
}


async def names(page, kind: str) -> list[str]:
    return await page.eval_on_selector_all(
        f"table.list.{kind} tbody tr {ROW_NAME[kind]}", "links => links.map(a => a.textContent)"
    )


async def sort_by(page, key: str) -> None:
    async with page.expect_navigation():
        await page.click(f"th[data-sort={key}] a")


async def order_shown(page) -> tuple[str, str, str]:
    """The sorted column, its aria-sort and the arrow it shows."""
    th = page.locator("th.sorted")
    assert await th.count() == 1
    return (
        await th.get_attribute("data-sort"),
        await th.get_attribute("aria-sort"),
        await th.locator(".sort-arrow").inner_text(),
    )


async def test_clients_sort_by_each_column_and_keep_the_filters(world, world_server, page):
    await seed(world)
    await login(page, world_server.url, "ana", world.password)
    await page.goto(f"{world_server.url}/clients?status=active")
    # Newest first until the reader chooses.
    assert await order_shown(page) == ("created", "descending", "▼")
    assert await names(page, "clients") == [
        "Carmen Díaz", "Elena Ruiz", "Beatriz Alba", "david Ortiz", "Álvaro Núñez", "Zoe Zamora"
    ]  # fmt: skip

    await sort_by(page, "name")
    assert await order_shown(page) == ("name", "ascending", "▲")
    assert "status=active" in page.url and "sort=name" in page.url and "dir=asc" in page.url
    assert await names(page, "clients") == [
        "Álvaro Núñez", "Beatriz Alba", "Carmen Díaz", "david Ortiz", "Elena Ruiz", "Zoe Zamora"
    ]  # fmt: skip
    await screenshot(page, "clients-sorted-by-name")

    await sort_by(page, "name")
    assert await order_shown(page) == ("name", "descending", "▼")
    assert await names(page, "clients") == [
        "Zoe Zamora", "Elena Ruiz", "david Ortiz", "Carmen Díaz", "Beatriz Alba", "Álvaro Núñez"
    ]  # fmt: skip

    await sort_by(page, "responsible")  # Ana's, Luis's, Marta's, nobody's; newest first
    assert await order_shown(page) == ("responsible", "ascending", "▲")
    assert await names(page, "clients") == [
        "david Ortiz", "Zoe Zamora", "Elena Ruiz", "Beatriz Alba", "Álvaro Núñez", "Carmen Díaz"
    ]  # fmt: skip
    await sort_by(page, "responsible")
    assert await names(page, "clients") == [
        "Carmen Díaz", "Álvaro Núñez", "Elena Ruiz", "Beatriz Alba", "david Ortiz", "Zoe Zamora"
    ]  # fmt: skip

    await sort_by(page, "created")  # back to its own first direction: newest first
    assert await order_shown(page) == ("created", "descending", "▼")
    await sort_by(page, "created")
    assert await names(page, "clients") == [
        "Zoe Zamora", "Álvaro Núñez", "david Ortiz", "Beatriz Alba", "Elena Ruiz", "Carmen Díaz"
    ]  # fmt: skip

    # Filtering keeps the order: the filter form carries it.
    await page.fill("#flt-q", "norte")
    async with page.expect_navigation():
        await page.click(".filters button[type=submit]")
    assert "sort=created" in page.url and "dir=asc" in page.url
    assert await names(page, "clients") == [
        "Álvaro Núñez", "david Ortiz", "Beatriz Alba", "Elena Ruiz", "Carmen Díaz"
    ]  # fmt: skip


async def test_leads_deals_tasks_and_calls_sort_by_their_columns(world, world_server, page):
    made = await seed(world)
    await login(page, world_server.url, "ana", world.password)
    url = world_server.url

    await page.goto(f"{url}/leads?view=all&status=any")
    assert await names(page, "leads") == ["Lead Marbella", "Lead Cádiz", "lead Alicante"]
    await sort_by(page, "name")
    assert await names(page, "leads") == ["lead Alicante", "Lead Cádiz", "Lead Marbella"]
    await sort_by(page, "responsible")
    assert await names(page, "leads") == ["Lead Marbella", "lead Alicante", "Lead Cádiz"]
    await sort_by(page, "responsible")
    assert await names(page, "leads") == ["Lead Cádiz", "lead Alicante", "Lead Marbella"]
    assert "view=all" in page.url and "status=any" in page.url

    await page.goto(f"{url}/deals?view=list")
    assert await names(page, "deals") == ["Auditoría", "Contrato anual", "Mantenimiento"]
    await sort_by(page, "title")
    assert await names(page, "deals") == ["Auditoría", "Contrato anual", "Mantenimiento"]
    await sort_by(page, "title")
    assert await names(page, "deals") == ["Mantenimiento", "Contrato anual", "Auditoría"]
    await sort_by(page, "amount")
    assert await order_shown(page) == ("amount", "ascending", "▲")
    assert await names(page, "deals") == ["Mantenimiento", "Contrato anual", "Auditoría"]
    await sort_by(page, "amount")
    assert await names(page, "deals") == ["Auditoría", "Contrato anual", "Mantenimiento"]
    await sort_by(page, "responsible")
    assert await names(page, "deals") == ["Mantenimiento", "Contrato anual", "Auditoría"]

    await page.goto(f"{url}/tasks?scope=all&status=any")
    assert await order_shown(page) == ("due", "ascending", "▲")
    assert await names(page, "tasks") == ["Enviar factura", "Llamar a Beatriz", "Revisar contrato"]
    await sort_by(page, "due")
    assert await names(page, "tasks") == ["Revisar contrato", "Llamar a Beatriz", "Enviar factura"]
    await sort_by(page, "title")
    assert await names(page, "tasks") == ["Enviar factura", "Llamar a Beatriz", "Revisar contrato"]
    await sort_by(page, "created")
    assert await names(page, "tasks") == ["Enviar factura", "Revisar contrato", "Llamar a Beatriz"]
    assert "scope=all" in page.url and "status=any" in page.url

    number = {str(call_id): n[-1] for n, call_id in made.calls.items()}

    async def calls() -> list[str]:
        ids = await page.eval_on_selector_all(
            "table.list.calls tr.call", "rows => rows.map(r => r.dataset.callId)"
        )
        return [number[i] for i in ids]

    await page.goto(f"{url}/calls")
    assert await calls() == ["4", "2", "3", "1"]  # the latest first
    await sort_by(page, "started")
    assert await calls() == ["1", "3", "2", "4"]
    await sort_by(page, "agent")  # Ana, Luis, Marta, then the call nobody answered
    assert await calls() == ["2", "1", "4", "3"]
    await sort_by(page, "agent")
    assert await calls() == ["3", "4", "1", "2"]


async def test_pager_first_previous_next_last_and_page_size(world, world_server, page):
    for n in range(1, 61):
        await client_ops.create_client(world.ana, client_ops.ClientInput(name=f"Cliente {n:02d}"))
    await login(page, world_server.url, "ana", world.password)
    await page.goto(f"{world_server.url}/clients?sort=name&dir=asc&tag=")
    rows = await names(page, "clients")
    assert len(rows) == 50 and rows[0] == "Cliente 01" and rows[-1] == "Cliente 50"
    assert await page.inner_text(".pager .page-of") == "Página 1 de 2"

    async with page.expect_navigation():
        await page.select_option(".pager select[name=per_page]", "25")
    assert "per_page=25" in page.url and "sort=name" in page.url
    assert await page.inner_text(".pager .page-of") == "Página 1 de 3"
    assert (await names(page, "clients"))[0] == "Cliente 01"
    # On the first page, "first" and "previous" lead nowhere.
    assert await page.locator(".pager a[rel=first], .pager a[rel=prev]").count() == 0

    async def go(rel: str) -> list[str]:
        async with page.expect_navigation():
            await page.click(f".pager a[rel={rel}]")
        return await names(page, "clients")

    rows = await go("next")
    assert (rows[0], rows[-1], len(rows)) == ("Cliente 26", "Cliente 50", 25)
    rows = await go("last")
    assert rows == [f"Cliente {n}" for n in range(51, 61)]
    assert await page.inner_text(".pager .page-of") == "Página 3 de 3"
    assert await page.locator(".pager a[rel=next], .pager a[rel=last]").count() == 0
    await screenshot(page, "clients-pager-last-page")
    rows = await go("prev")
    assert rows[0] == "Cliente 26"
    rows = await go("first")
    assert rows[0] == "Cliente 01" and not re.search(r"[?&]page=", page.url)
    assert "per_page=25" in page.url and "dir=asc" in page.url


async def test_a_message_after_each_action(world, world_server, page):
    made = await seed(world)
    await login(page, world_server.url, "ana", world.password)
    url = world_server.url

    async def flash() -> str:
        return await page.inner_text("main .flash")

    client_id = made.clients["Beatriz Alba"]
    await page.goto(f"{url}/clients/{client_id}")
    await page.fill(".note-form textarea[name=text]", "Prefiere las mañanas")
    async with page.expect_navigation():
        await page.click(".note-form button[type=submit]")
    assert await flash() == "Nota añadida."

    await page.goto(f"{url}/tasks?scope=all")
    task_id = made.tasks["Enviar factura"]
    async with page.expect_navigation():
        await page.click(f"tr[data-task='{task_id}'] input[name=done]")
    assert await flash() == "Tarea completada."
    assert (await Task.get(id=task_id)).is_done

    await page.goto(f"{url}/team")
    admin_group = await page.eval_on_selector(
        f"form[action='/team/{world.luis.id}/group'] select",
        "s => [...s.options].find(o => o.text === 'Administrador' || o.text === 'Admin').value",
    )
    async with page.expect_navigation():
        await page.select_option(f"form[action='/team/{world.luis.id}/group'] select", admin_group)
    assert re.fullmatch(r"Luis Pérez ahora está en \w+\.", await flash())

    # A fetch()-driven action answers with a toast: hiding a dashboard widget saves the layout.
    await page.goto(f"{url}/")
    await page.click("[data-hide=clients]")
    toast = page.locator(".toasts .toast")
    await toast.wait_for()
    assert await toast.inner_text() == "Disposición del panel guardada."
    await screenshot(page, "dashboard-toast")


async def test_destructive_actions_ask_first(world, world_server, page):
    made = await seed(world)
    await login(page, world_server.url, "ana", world.password)
    url = world_server.url
    questions: list[str] = []
    answer = {"yes": False}

    async def on_dialog(dialog):
        questions.append(dialog.message)
        await (dialog.accept() if answer["yes"] else dialog.dismiss())

    page.on("dialog", on_dialog)

    # A task: "no" keeps it, "yes" deletes it and says so.
    task_id = made.tasks["Revisar contrato"]
    await page.goto(f"{url}/tasks/{task_id}")
    await page.click(f"form[action='/tasks/{task_id}/delete'] button")
    assert questions.pop() == "¿Eliminar esta tarea?"
    assert page.url.endswith(f"/tasks/{task_id}") and await Task.exists(id=task_id)
    answer["yes"] = True
    async with page.expect_navigation():
        await page.click(f"form[action='/tasks/{task_id}/delete'] button")
    assert questions.pop() == "¿Eliminar esta tarea?"
    assert await page.inner_text("main .flash") == "Tarea eliminada."
    assert not await Task.exists(id=task_id)
    answer["yes"] = False

    deal_id = made.deals["Auditoría"]
    await page.goto(f"{url}/deals/{deal_id}")
    await page.click(f"form[action='/deals/{deal_id}/delete'] button")
    assert questions.pop() == "¿Eliminar este acuerdo y su historial?"
    assert await Deal.exists(id=deal_id)

    lead_id = made.leads["Lead Marbella"]
    await page.goto(f"{url}/leads/{lead_id}")
    await page.click(f"form[action='/leads/{lead_id}/close'] button")
    assert questions.pop() == "¿Cerrar este lead? Dejará de estar entre los leads abiertos."
    assert (await Lead.get(id=lead_id)).status == "open"

    client_id = made.clients["Zoe Zamora"]
    await page.goto(f"{url}/clients/{client_id}")
    await page.click(f"form[action='/clients/{client_id}/delete'] button")
    assert questions.pop() == "¿Eliminar este cliente y todo lo vinculado a él?"

    await page.goto(f"{url}/team")
    await page.click(f"form[action='/team/{world.marta.id}/active'] button")
    assert questions.pop() == (
        "¿Desactivar a Marta Núñez? Se cerrarán todas sus sesiones y ya no podrá iniciar sesión."
    )
    assert (await User.get(id=world.marta.id)).is_active
    answer["yes"] = True
    async with page.expect_navigation():
        await page.click(f"form[action='/team/{world.marta.id}/active'] button")
    assert questions.pop().startswith("¿Desactivar a Marta Núñez?")
    assert await page.inner_text("main .flash") == "Se ha desactivado a Marta Núñez."
    assert not (await User.get(id=world.marta.id)).is_active
    # Reactivating is not destructive: no question.
    async with page.expect_navigation():
        await page.click(f"form[action='/team/{world.marta.id}/active'] button")
    assert questions == []
    assert await page.inner_text("main .flash") == "Marta Núñez puede volver a iniciar sesión."
