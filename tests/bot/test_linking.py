"""B1: linking a chat with a one-time code; unlinked chats learn nothing."""

from __future__ import annotations

from models.messaging import telegram_links as telegram
from models.schema.users import User
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat

STRANGER = 777_000


async def test_start_with_the_code_links_the_chat(world, clock, luis_chat: Chat):
    code = await telegram.create_link_code(world.luis, clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, f"/start {code.lower()}"))
    assert "Luis Pérez" in await luis_chat.last_text(1)
    assert (await User.get(id=world.luis.id)).telegram_chat_id == LUIS_CHAT


async def test_code_works_once_and_expires_after_ten_minutes(
    world, clock, luis_chat: Chat, dp, bot, api
):
    code = await telegram.create_link_code(world.luis, clock=clock)
    clock.advance(minutes=11)
    await luis_chat.feed(updates.message(LUIS_CHAT, f"/start {code}"))
    assert "caducado" in await luis_chat.last_text(1)
    assert (await User.get(id=world.luis.id)).telegram_chat_id is None

    fresh = await telegram.create_link_code(world.luis, clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, f"/start {fresh}"))
    await luis_chat.wait_messages(2)
    other = Chat(dp, bot, api, STRANGER)
    await other.feed(updates.message(STRANGER, f"/start {fresh}", language="en"))
    assert "expired" in await other.last_text(1)
    assert (await User.get(id=world.luis.id)).telegram_chat_id == LUIS_CHAT


async def test_wrong_guesses_are_rate_limited(world, clock, dp, bot, api):
    stranger = Chat(dp, bot, api, STRANGER)
    code = await telegram.create_link_code(world.luis, clock=clock)
    for n in range(telegram.MAX_GUESSES):
        await stranger.feed(updates.message(STRANGER, f"/start WRONG{n:03d}", language="en"))
    await stranger.wait_messages(telegram.MAX_GUESSES)
    # Even the right code is refused while the chat is blocked: guessing cannot win.
    await stranger.feed(updates.message(STRANGER, f"/start {code}", language="en"))
    assert "Too many wrong codes" in await stranger.last_text(telegram.MAX_GUESSES + 1)
    assert (await User.get(id=world.luis.id)).telegram_chat_id is None
    clock.advance(minutes=11)  # the block is over (and that code has expired)
    fresh = await telegram.create_link_code(world.luis, clock=clock)
    await stranger.feed(updates.message(STRANGER, f"/start {fresh}", language="en"))
    assert "Luis" in await stranger.last_text(telegram.MAX_GUESSES + 2)


async def test_unlinked_chat_gets_only_the_hint(world, clock, dp, bot, api):
    stranger = Chat(dp, bot, api, STRANGER)
    for body in ("/find Luis", "/tasks", "hola", "/note Acme llamar"):
        await stranger.feed(updates.message(STRANGER, body))
    texts = [m.text for m in await stranger.wait_messages(4)]
    assert all("no está vinculado" in t for t in texts)
    assert len(set(texts)) == 1
    # A button press (say, a forwarded call message) answers with the hint and nothing else.
    await stranger.feed(updates.callback(STRANGER, "call:lead:1", message_id=1))
    answer = api.calls_of("answerCallbackQuery")[-1].params
    assert "no está vinculado" in answer["text"]
    assert len(api.chat(STRANGER)) == 4


async def test_unlink_stops_everything(world, clock, luis_chat: Chat):
    code = await telegram.create_link_code(world.luis, clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, f"/start {code}"))
    await luis_chat.feed(updates.message(LUIS_CHAT, "/unlink"))
    assert "desvinculado" in await luis_chat.last_text(2)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/tasks"))
    assert "no está vinculado" in await luis_chat.last_text(3)
