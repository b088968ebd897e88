"""What a user sees when something below a page fails unexpectedly: never aiohttp's English
"500 Internal Server Error" nor a traceback; a database that does not answer says "try again"
(503 with Retry-After), in the reader's language."""

from __future__ import annotations

import asyncpg

from models.schema.users import User
from models.telephony import call_history
from tests.web.conftest import http_login


async def test_a_database_that_does_not_answer_is_a_503_in_the_readers_language(
    world, world_server, http, monkeypatch
):
    await User.filter(id=world.ana.id).update(language="es")
    await http_login(http, world_server.url, "ana", world.password)

    async def down(*args, **kwargs):
        raise asyncpg.exceptions.AdminShutdownError("terminating connection")

    monkeypatch.setattr(call_history, "list_calls", down)
    async with http.get(world_server.url + "/calls") as answer:
        assert answer.status == 503 and answer.headers["Retry-After"] == "5"
        html = await answer.text()
    assert "La base de datos está ocupada en este momento" in html
    assert "Traceback" not in html and "Internal Server Error" not in html


async def test_a_bug_is_a_plain_500_page_and_is_logged(
    world, world_server, http, monkeypatch, caplog
):
    await http_login(http, world_server.url, "ana", world.password)

    async def bug(*args, **kwargs):
        raise KeyError("no such column")

    monkeypatch.setattr(call_history, "list_calls", bug)
    async with http.get(world_server.url + "/calls") as answer:
        assert answer.status == 500
        html = await answer.text()
    assert "Algo ha fallado por nuestra parte" in html and "KeyError" not in html
    assert any("GET /calls failed" in r.getMessage() for r in caplog.records)
