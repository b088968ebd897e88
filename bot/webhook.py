"""Webhook mode: Telegram POSTs updates to a path of our aiohttp server.

The root mounts it on the web application (`mount_webhook`) and registers the URL with
Telegram (`register_webhook`) at start. Updates are handled before the answer is returned,
so no update is processed in a task nobody owns; Telegram retries a failed delivery, and the
replies' dedupe keys make that retry harmless.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.runner import announce_commands, remember_identity

logger = logging.getLogger(__name__)


def mount_webhook(
    app: web.Application, dispatcher: Dispatcher, bot: Bot, *, path: str, secret: str
) -> None:
    """Serve Telegram's updates at `path`; requests without the secret header get 401. The
    dispatcher's startup and shutdown run with the web application's (as polling runs them)."""
    handler = SimpleRequestHandler(
        dispatcher=dispatcher, bot=bot, handle_in_background=False, secret_token=secret or None
    )
    handler.register(app, path=path)
    setup_application(app, dispatcher, bot=bot)


async def register_webhook(bot: Bot, *, public_url: str, path: str, secret: str) -> None:
    """Tell Telegram where to send updates (the web server's public URL plus `path`)."""
    url = public_url.rstrip("/") + path
    await bot.set_webhook(url, secret_token=secret or None, drop_pending_updates=False)
    await announce_commands(bot)
    await remember_identity(bot)
    logger.info("telegram webhook set to %s", url)
