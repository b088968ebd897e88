"""The bot receives updates by long polling (default) or by webhook on the aiohttp server."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import build_bot
from bot.runner import PollingRunner
from bot.webhook import mount_webhook, register_webhook
from models.messaging import telegram_links as telegram
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, eventually


async def test_long_polling_links_a_chat(world, clock, dp, bot, api):
    code = await telegram.create_link_code(world.luis, clock=clock)
    runner = PollingRunner(dp, bot, polling_timeout=1)
    await runner.start()
    try:
        api.push_update(updates.message(LUIS_CHAT, f"/start {code}"))
        reply = await eventually(lambda: api.chat(LUIS_CHAT))
    finally:
        await runner.stop()
    assert "Luis Pérez" in reply[0].text
    assert api.calls_of("deleteWebhook") and len(api.calls_of("setMyCommands")) == 2
    assert api.calls_of("getUpdates")


async def test_webhook_checks_the_secret_and_handles_updates(world, clock, dp, bot, api):
    app = web.Application()
    mount_webhook(app, dp, bot, path="/telegram/webhook", secret="s3cret")
    await register_webhook(
        bot, public_url="https://crm.example.com/", path="/telegram/webhook", secret="s3cret"
    )
    assert api.webhook_url == "https://crm.example.com/telegram/webhook"
    code = await telegram.create_link_code(world.luis, clock=clock)
    async with TestClient(TestServer(app)) as client:
        update = updates.message(LUIS_CHAT, f"/start {code}")
        refused = await client.post("/telegram/webhook", json=update)
        assert refused.status == 401
        assert api.chat(LUIS_CHAT) == []
        accepted = await client.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        )
        assert accepted.status == 200
        # Telegram delivers the same update again (it did not see our answer): one reply.
        again = await client.post(
            "/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
        )
        assert again.status == 200
    await eventually(lambda: api.chat(LUIS_CHAT))
    assert len([m for m in api.chat(LUIS_CHAT) if "Luis" in m.text]) == 1


async def test_polling_with_a_wrong_token_does_not_start(world, clock, dp, api):
    wrong = build_bot("7000001:WRONG", api.base_url)
    runner = PollingRunner(dp, wrong, polling_timeout=1)
    try:
        await runner.start()
        await runner.stop()
    finally:
        await wrong.session.close()
    assert not api.calls_of("getUpdates")
