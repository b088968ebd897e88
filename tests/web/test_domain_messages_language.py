"""The domain's refusals reach the panel in the reader's language (models/locale)."""

from __future__ import annotations

import html as html_lib

from models.contacts import clients as client_ops
from models.schema.users import User
from tests.web.conftest import csrf_from, http_login


async def _post_client_with_a_taken_phone(http, url: str) -> tuple[int, str]:
    async with http.get(f"{url}/clients/new") as resp:
        token = csrf_from(await resp.text())
    form = [("csrf_token", token), ("name", "Segundo"), ("phones", "600 111 222")]
    async with http.post(f"{url}/clients/new", data=form) as resp:
        return resp.status, html_lib.unescape(await resp.text())


async def test_a_phone_of_another_client_is_refused_in_the_readers_language(
    world_server, world, clock, http
):
    await client_ops.create_client(
        world.luis, client_ops.ClientInput(name="Primero", phones=["+34 600 111 222"]), clock=clock
    )
    await http_login(http, world_server.url, "luis", world.password)  # Luis reads Spanish

    status, page = await _post_client_with_a_taken_phone(http, world_server.url)
    assert status == 422
    assert "el número +34600111222 pertenece al cliente Primero" in page
    assert "belongs to" not in page

    await User.filter(id=world.luis.id).update(language="en")
    status, page = await _post_client_with_a_taken_phone(http, world_server.url)
    assert status == 422
    assert "the number +34600111222 belongs to the client Primero" in page


async def test_a_bad_email_is_refused_next_to_its_field_in_spanish(world_server, world, http):
    await http_login(http, world_server.url, "luis", world.password)
    async with http.get(f"{world_server.url}/clients/new") as resp:
        token = csrf_from(await resp.text())
    form = [("csrf_token", token), ("name", "Tercero"), ("emails", "no-es-un-email")]
    async with http.post(f"{world_server.url}/clients/new", data=form) as resp:
        assert resp.status == 422
        page = html_lib.unescape(await resp.text())
    assert "no es una dirección de correo válida: no-es-un-email" in page
