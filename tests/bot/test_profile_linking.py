"""Issue 15 item 7: an agent links Telegram from their profile page, without an administrator.

The panel (real app over HTTP, and Chromium for the page itself) makes the code and shows the
t.me link; the bot (real dispatcher fed real updates, answering through the local Bot API
server) takes `/start CODE`; the profile then shows the linked chat and unlinks it.
"""

from __future__ import annotations

import re

import aiohttp
import pytest

from bot.runner import remember_identity
from models.messaging import telegram_links as telegram
from models.schema.users import TelegramLinkCode, User
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat
from tests.bot.fake_bot_api import BOT_USERNAME
from tests.web import conftest as panel
from tests.web.conftest import csrf_from, http_login, login, screenshot

# The panel's fixtures, used here beside the bot's.
browser = panel.browser
page = panel.page
http = panel.http
world_server = panel.world_server

STRANGER = 777_001
LINK = re.compile(r"https://t\.me/centralita_test_bot\?start=([A-Z0-9]{8})")


async def _speaks(user: User, language: str) -> None:
    """The user's profile language (the world's users speak Spanish)."""
    await User.filter(id=user.id).update(language=language)


async def _profile(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}/settings/profile") as resp:
        assert resp.status == 200
        return await resp.text()


async def _new_code(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    token = csrf_from(await _profile(http, url))
    async with http.post(f"{url}/settings/telegram/code", data={"csrf_token": token}) as resp:
        return resp.status, await resp.text()


async def test_profile_code_links_the_chat_and_unlinks_it(
    world, world_server, http, clock, bot, luis_chat: Chat
):
    await remember_identity(bot)  # what the bot does at start: getMe -> the t.me link
    await _speaks(world.luis, "en")
    await http_login(http, world_server.url, "luis", world.password)
    assert "Link Telegram" in await _profile(http, world_server.url)

    status, html = await _new_code(http, world_server.url)
    assert status == 200
    match = LINK.search(html)
    assert match, "the profile shows no t.me link"
    code = match.group(1)
    assert f"/start {code}" in html
    assert "expires at" in html
    # Only its hash is kept: the code itself is nowhere in the database.
    assert not await TelegramLinkCode.exists(code_hash=code)

    await luis_chat.feed(updates.message(LUIS_CHAT, f"/start {code}"))
    # Said in Luis's profile language, not the Spanish of his Telegram app.
    assert "Hello, Luis Pérez" in await luis_chat.last_text(1)

    html = await _profile(http, world_server.url)
    assert "Linked since" in html
    assert f"@agent{LUIS_CHAT}" in html
    assert "Agent" in html
    assert "/settings/telegram/unlink" in html
    assert "Link Telegram" not in html

    async with http.post(
        f"{world_server.url}/settings/telegram/unlink", data={"csrf_token": csrf_from(html)}
    ) as resp:
        assert resp.status == 200
        html = await resp.text()
    assert "Telegram chat unlinked." in html
    assert "Link Telegram" in html
    assert (await User.get(id=world.luis.id)).telegram_chat_id is None
    # The chat is a stranger again: it is told how to link, and nothing more.
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    assert "Abre tu perfil en el CRM → Telegram" in await luis_chat.last_text(2)


async def test_unlink_needs_the_form_token_and_a_linked_chat(world, world_server, http, clock):
    await telegram.link_chat(
        await telegram.create_link_code(world.luis, clock=clock), LUIS_CHAT, clock=clock
    )
    await _speaks(world.luis, "en")
    await http_login(http, world_server.url, "luis", world.password)
    async with http.post(f"{world_server.url}/settings/telegram/unlink", data={}) as resp:
        assert resp.status == 403
    assert (await User.get(id=world.luis.id)).telegram_chat_id == LUIS_CHAT

    token = csrf_from(await _profile(http, world_server.url))
    for expected in ("Telegram chat unlinked.", "No Telegram chat was linked."):
        async with http.post(
            f"{world_server.url}/settings/telegram/unlink", data={"csrf_token": token}
        ) as resp:
            assert resp.status == 200
            assert expected in await resp.text()


async def test_code_page_in_spanish_without_a_known_bot(world, world_server, http, clock):
    """Before the bot has ever started the page still shows the code to send by hand."""
    await http_login(http, world_server.url, "luis", world.password)
    status, html = await _new_code(http, world_server.url)
    assert status == 200
    assert "t.me/" not in html
    assert "Envía al bot del CRM este mensaje en Telegram" in html
    assert re.search(r"/start [A-Z0-9]{8}", html)
    assert "Pedir otro código" in html


async def test_a_new_code_cancels_the_one_shown_before(
    world, world_server, http, clock, dp, bot, api
):
    await http_login(http, world_server.url, "luis", world.password)
    first = re.search(r"/start ([A-Z0-9]{8})", (await _new_code(http, world_server.url))[1])
    second = re.search(r"/start ([A-Z0-9]{8})", (await _new_code(http, world_server.url))[1])
    assert first and second and first.group(1) != second.group(1)
    chat = Chat(dp, bot, api, STRANGER)
    await chat.feed(updates.message(STRANGER, f"/start {first.group(1)}", language="en"))
    assert "That code is wrong or has expired" in await chat.last_text(1)
    await chat.feed(updates.message(STRANGER, f"/start {second.group(1)}", language="en"))
    assert "Hola, Luis Pérez" in await chat.last_text(2)  # his profile speaks Spanish


@pytest.mark.parametrize(
    ("language", "refused", "hint"),
    [
        ("en", "That code is wrong or has expired", "Open your profile in the CRM → Telegram"),
        ("es", "Ese código no es válido o ha caducado", "Abre tu perfil en el CRM → Telegram"),
    ],
)
async def test_used_and_expired_codes_are_refused_in_the_chats_language(
    world, clock, dp, bot, api, language, refused, hint
):
    chat = Chat(dp, bot, api, STRANGER)
    await chat.feed(updates.message(STRANGER, "hello", language=language))
    assert hint in await chat.last_text(1)

    used = await telegram.create_link_code(world.marta, clock=clock)
    await telegram.link_chat(used, 555_999, clock=clock)
    await chat.feed(updates.message(STRANGER, f"/start {used}", language=language))
    assert refused in await chat.last_text(2)

    expired = await telegram.create_link_code(world.luis, clock=clock)
    clock.advance(minutes=10, seconds=1)
    await chat.feed(updates.message(STRANGER, f"/start {expired}", language=language))
    assert refused in await chat.last_text(3)
    assert (await User.get(id=world.luis.id)).telegram_chat_id is None

    # Just inside the ten minutes the same kind of code works.
    fresh = await telegram.create_link_code(world.luis, clock=clock)
    clock.advance(minutes=9, seconds=59)
    await chat.feed(updates.message(STRANGER, f"/start {fresh}", language=language))
    await chat.wait_messages(4)
    assert (await User.get(id=world.luis.id)).telegram_chat_id == STRANGER


async def test_linked_user_hears_their_profile_language_not_the_apps(world, clock, dp, bot, api):
    await _speaks(world.marta, "en")
    code = await telegram.create_link_code(world.marta, clock=clock)
    chat = Chat(dp, bot, api, STRANGER)
    await chat.feed(updates.message(STRANGER, f"/start {code}", language="es"))
    assert "Hello, Marta Núñez" in await chat.last_text(1)
    await chat.feed(updates.message(STRANGER, "/unlink", language="es"))
    assert "Chat unlinked" in await chat.last_text(2)


async def test_profile_page_in_a_browser(world, world_server, page, clock, bot, luis_chat: Chat):
    await remember_identity(bot)
    await _speaks(world.luis, "en")
    await login(page, world_server.url, "luis", world.password)
    await page.goto(f"{world_server.url}/settings/profile")
    await page.click("#telegram button[type=submit]")
    link = page.locator("#telegram a.telegram-link")
    href = await link.get_attribute("href")
    assert href and href.startswith(f"https://t.me/{BOT_USERNAME}?start=")
    code = href.rsplit("=", 1)[1]
    assert await page.locator("#telegram code.link-code").inner_text() == f"/start {code}"
    await screenshot(page, "profile_telegram_code")

    await luis_chat.feed(updates.message(LUIS_CHAT, f"/start {code}"))
    await luis_chat.wait_messages(1)
    await page.goto(f"{world_server.url}/settings/profile")
    chat_row = page.locator("#telegram dl.telegram-chat")
    assert f"@agent{LUIS_CHAT}" in await chat_row.inner_text()
    await screenshot(page, "profile_telegram_linked")

    questions: list[str] = []

    async def answer(dialog) -> None:
        questions.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    await page.click("#telegram button.danger")
    await page.wait_for_url(re.compile(r".*/settings/profile#telegram$"))
    assert questions == ["Unlink this Telegram chat? The bot will no longer write to it."]
    assert "Telegram chat unlinked." in await page.locator(".flash").inner_text()
    assert (await User.get(id=world.luis.id)).telegram_chat_id is None
