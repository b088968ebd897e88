"""The profile's API tokens page: Luis makes a token (shown once, on the answer to the form),
uses it, sees when and from where it was last used, and revokes it; Marta cannot revoke his."""

from __future__ import annotations

import html as html_lib
import re

from models.schema.integrations import ApiToken
from tests.web.api_support import api
from tests.web.conftest import csrf_from, http_login


async def _page(http, url: str) -> str:
    async with http.get(f"{url}/settings/api-tokens") as resp:
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "no-store"
        return html_lib.unescape(await resp.text())


async def test_make_use_and_revoke_a_token_from_the_profile(world, world_server, http, clock):
    url = world_server.url
    await http_login(http, url, "luis", world.password)
    async with http.get(f"{url}/settings/profile") as resp:
        assert "/settings/api-tokens" in await resp.text()
    page = await _page(http, url)
    assert "No tienes tokens de la API." in page  # Luis reads Spanish
    form = {"csrf_token": csrf_from(page), "name": "Zapier", "scope": "write"}
    async with http.post(f"{url}/settings/api-tokens", data=form) as resp:
        assert resp.status == 200
        answer = html_lib.unescape(await resp.text())
    plain = re.search(r'<code class="api-token">(ctl_[\w-]+)</code>', answer).group(1)
    assert "no se volverá a mostrar" in answer
    row = await ApiToken.get(user_id=world.luis.id)
    assert row.token_hash != plain and plain not in row.token_hash  # only a hash is kept
    assert (row.name, row.scope) == ("Zapier", "write")

    # Shown once: the list shows its first characters only, and that it was never used.
    page = await _page(http, url)
    assert plain not in page and row.token_prefix in page
    assert "Nunca" in page
    status, body, _ = await api(http, url, "POST", "/clients", plain, json={"name": "Vía API"})
    assert status == 201, body
    page = await _page(http, url)
    assert "Nunca" not in page and "127.0.0.1" in page

    # Marta may not revoke it (answered as a missing token); Luis may.
    http.cookie_jar.clear()
    await http_login(http, url, "marta", world.password)
    marta_page = await _page(http, url)
    async with http.post(
        f"{url}/settings/api-tokens/{row.id}/revoke",
        data={"csrf_token": csrf_from(marta_page)},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 404
    assert (await api(http, url, "GET", "/clients", plain))[0] == 200
    http.cookie_jar.clear()
    await http_login(http, url, "luis", world.password)
    page = await _page(http, url)
    async with http.post(
        f"{url}/settings/api-tokens/{row.id}/revoke", data={"csrf_token": csrf_from(page)}
    ) as resp:
        assert resp.status == 200
        page = html_lib.unescape(await resp.text())
    assert "Token revocado" in page and "Revocado" in page
    assert (await api(http, url, "GET", "/clients", plain))[0] == 401


async def test_a_wrong_form_is_shown_again_with_the_field_named(world, world_server, http):
    url = world_server.url
    await http_login(http, url, "luis", world.password)
    page = await _page(http, url)
    form = {"csrf_token": csrf_from(page), "name": "x" * 101, "scope": "admin"}
    async with http.post(f"{url}/settings/api-tokens", data=form) as resp:
        assert resp.status == 422
        answer = html_lib.unescape(await resp.text())
    assert "como máximo 100 caracteres" in answer
    assert "debe ser uno de: read, write" in answer
    assert 'class="api-token"' not in answer
    assert await ApiToken.all().count() == 0
