"""Who may call /api/v1: only a live token; a read token cannot write; each token is rate
limited and told when to come back; a browser's session cookie is not a token."""

from __future__ import annotations

from models.people import api_tokens
from models.schema.integrations import ApiToken
from tests.web.api_support import api, token_of
from tests.web.conftest import http_login, start_server, web_settings
from web.api.core import API_RATE


async def test_no_token_a_wrong_one_and_a_revoked_one_are_401(world, world_server, http, clock):
    url = world_server.url
    status, body, headers = await api(http, url, "GET", "/clients", None)
    assert status == 401 and "Bearer" in body["detail"]
    assert headers["WWW-Authenticate"].startswith("Bearer")
    status, body, _ = await api(http, url, "GET", "/clients", "ctl_not-a-real-token")
    assert status == 401
    status, _, _ = await api(http, url, "GET", "/clients", "something else entirely")
    assert status == 401

    token = await token_of(world.luis, clock)
    assert (await api(http, url, "GET", "/clients", token))[0] == 200
    row = await ApiToken.get(user_id=world.luis.id)
    await api_tokens.revoke_token(world.luis, row.id, clock=clock)
    status, body, _ = await api(http, url, "GET", "/clients", token)
    assert status == 401 and body["type"] == "about:blank"


async def test_a_deactivated_users_token_stops_working(world, world_server, http, clock):
    token = await token_of(world.luis, clock)
    world.luis.is_active = False
    await world.luis.save(update_fields=["is_active"])
    assert (await api(http, world_server.url, "GET", "/clients", token))[0] == 401


async def test_a_read_token_reads_but_may_not_write(world, world_server, http, clock):
    url = world_server.url
    token = await token_of(world.luis, clock, scope="read")
    assert (await api(http, url, "GET", "/leads", token))[0] == 200
    status, body, _ = await api(http, url, "POST", "/clients", token, json={"name": "Nuevo"})
    assert status == 403
    assert "leer" in body["detail"]  # Luis reads Spanish
    status, _, _ = await api(http, url, "POST", "/leads", token, json={"name": "Nuevo"})
    assert status == 403
    # ...and nothing was written.
    status, body, _ = await api(http, url, "GET", "/clients", token)
    assert body["items"] == []


async def test_the_rate_limit_answers_429_with_retry_after(world, world_server, http, clock):
    url = world_server.url
    world_server.app[API_RATE].set_rate("3/minute")
    token = await token_of(world.luis, clock)
    other = await token_of(world.marta, clock)
    for _ in range(3):
        assert (await api(http, url, "GET", "/clients", token))[0] == 200
    status, body, headers = await api(http, url, "GET", "/clients", token)
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["Retry-After"] in body["detail"]
    # Each token counts on its own.
    assert (await api(http, url, "GET", "/clients", other))[0] == 200


async def test_the_last_use_is_recorded(world, world_server, http, clock):
    token = await token_of(world.luis, clock)
    assert (await ApiToken.get(user_id=world.luis.id)).last_used_at is None
    await api(http, world_server.url, "GET", "/clients", token)
    row = await ApiToken.get(user_id=world.luis.id)
    assert row.last_used_at == clock.now()
    assert row.last_used_ip == "127.0.0.1"


async def test_behind_a_trusted_proxy_the_last_use_names_the_caller(
    world, hub, http, clock, tmp_path
):
    runner, srv = await start_server(
        web_settings(tmp_path, trusted_proxies=["127.0.0.1"]), hub, clock
    )
    try:
        token = await token_of(world.luis, clock)
        forwarded = {"X-Forwarded-For": "198.51.100.7"}
        status, _, _ = await api(http, srv.url, "GET", "/clients", token, headers=forwarded)
        assert status == 200
        assert (await ApiToken.get(user_id=world.luis.id)).last_used_ip == "198.51.100.7"
    finally:
        await runner.cleanup()


async def test_a_session_cookie_is_not_a_token(world, world_server, http, clock):
    await http_login(http, world_server.url, "ana", world.password)
    status, _, _ = await api(http, world_server.url, "GET", "/clients", None)
    assert status == 401
    # ...nor does it need a CSRF field to be refused on a write.
    status, _, _ = await api(http, world_server.url, "POST", "/clients", None, json={"name": "X"})
    assert status == 401


async def test_problems_speak_the_users_language(world, world_server, http, clock):
    token = await token_of(world.luis, clock, scope="read")
    status, body, _ = await api(http, world_server.url, "POST", "/clients", token, json={})
    assert (status, body["title"]) == (403, "Prohibido")
    world.luis.language = "en"
    await world.luis.save(update_fields=["language"])
    status, body, _ = await api(http, world_server.url, "POST", "/clients", token, json={})
    assert (status, body["title"]) == (403, "Forbidden")
    assert "may only read" in body["detail"]


async def test_the_rate_comes_from_the_configuration(world, db, hub, clock, http, tmp_path):
    settings = web_settings(tmp_path, api_calls_per_minute=2)
    runner, srv = await start_server(settings, hub, clock)
    try:
        token = await token_of(world.luis, clock)
        statuses = [(await api(http, srv.url, "GET", "/users", token))[0] for _ in range(3)]
        assert statuses == [200, 200, 429]
    finally:
        await runner.cleanup()
