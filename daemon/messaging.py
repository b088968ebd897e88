"""Wiring of the outbox worker, its email sender, the Telegram bot (polling or webhook) and
its notifier."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiohttp import web

from bot import build_bot, build_dispatcher
from bot.delivery import KIND as TELEGRAM_KIND
from bot.delivery import TelegramOutbox, TelegramSender, chat_key
from bot.mail_notices import MailNotifier
from bot.notifier import CallNotifier
from bot.runner import PollingRunner
from bot.webhook import mount_webhook, register_webhook
from daemon.mail import register_mail
from daemon.mail_send import register_mail_out
from daemon.outbox_worker import OutboxWorker, RateLimit
from daemon.supervisor import Supervisor
from daemon.webhook_events import WebhookEvents
from daemon.webhook_send import WebhookSender, register_webhooks
from models.core.clock import Clock
from models.core.hub import Hub
from models.core.secret_box import SecretBox, secret_box_for
from models.core.settings import Settings
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)


@dataclass
class Messaging:
    worker: OutboxWorker
    telegram_outbox: TelegramOutbox
    webhooks: WebhookSender | None = None
    clock: Clock | None = None
    bot: Bot | None = None
    dispatcher: Dispatcher | None = None


def build_messaging(
    settings: Settings,
    hub: Hub,
    clock: Clock,
    supervisor: Supervisor,
    callers: CallerDirectory | None = None,
    box: SecretBox | None = None,
) -> Messaging:
    """The outbox worker with its email sender (when [mail] is configured), and the bot when a
    token is configured (not started yet). `callers` is the call path's caller directory: the
    bot's "create lead" takes its per-number locks. `box` opens the users' mailbox passwords
    for sending their mail (kind "mail_out"); without one, the installation's key is used."""
    worker = OutboxWorker(clock=clock, supervisor=supervisor)
    register_mail(worker, settings.mail)
    if box is None:
        key = settings.security.encryption_key.get_secret_value()
        box = secret_box_for(key, settings.data_dir)
    register_mail_out(worker, box, clock, timeout=settings.mail.timeout_seconds)
    telegram_outbox = TelegramOutbox(clock, wake=worker.wake, fast_lane=worker)
    messaging = Messaging(worker=worker, telegram_outbox=telegram_outbox, clock=clock)
    # Outgoing webhooks (issue 18): signed POSTs; a paused subscription is told on Telegram.
    messaging.webhooks = register_webhooks(worker, box, clock, telegram=telegram_outbox)
    token = settings.telegram.token.get_secret_value()
    if token:
        bot = build_bot(token, settings.telegram.api_url)
        worker.register(
            TELEGRAM_KIND,
            TelegramSender(bot),
            rate=RateLimit(per_second=settings.telegram.messages_per_second),
            key_of=chat_key,
        )
        messaging.bot = bot
        messaging.dispatcher = build_dispatcher(
            clock=clock, hub=hub, telegram_outbox=telegram_outbox, callers=callers
        )
    return messaging


def mount_bot_webhook(messaging: Messaging, settings: Settings, app: web.Application) -> None:
    """In webhook mode the web server receives Telegram's updates (before it starts)."""
    if messaging.bot is None or messaging.dispatcher is None or settings.telegram.mode != "webhook":
        return
    mount_webhook(
        app,
        messaging.dispatcher,
        messaging.bot,
        path=settings.telegram.webhook_path,
        secret=settings.telegram.webhook_secret.get_secret_value(),
    )


async def start_messaging(
    stack: AsyncExitStack, messaging: Messaging, settings: Settings, hub: Hub
) -> None:
    """Start the outbox worker, the call notifier and the bot (polling, or set the webhook);
    each joins `stack` as it starts."""
    if messaging.webhooks is not None:
        stack.push_async_callback(messaging.webhooks.close)  # after the worker stopped
    await messaging.worker.start()
    stack.push_async_callback(messaging.worker.stop)
    if messaging.clock is not None:
        webhook_events = WebhookEvents(hub, messaging.clock, messaging.worker.wake)
        webhook_events.start()
        stack.push_async_callback(webhook_events.stop)
    bot = messaging.bot
    if bot is None or messaging.dispatcher is None:
        logger.info("no [telegram] token: the bot is not started")
        return
    stack.push_async_callback(bot.session.close)
    notifier = CallNotifier(hub, messaging.telegram_outbox)
    notifier.start()
    stack.push_async_callback(notifier.stop)
    # Mail from a client or a new lead: a Telegram notice to the mailbox's linked users.
    mail_notifier = MailNotifier(hub, messaging.telegram_outbox)
    mail_notifier.start()
    stack.push_async_callback(mail_notifier.stop)
    if settings.telegram.mode == "webhook":
        if not settings.web.public_url:
            logger.error(
                "[telegram] mode = webhook needs [web] public_url; the bot gets no updates"
            )
            return
        await register_webhook(
            bot,
            public_url=settings.web.public_url,
            path=settings.telegram.webhook_path,
            secret=settings.telegram.webhook_secret.get_secret_value(),
        )
        return
    runner = PollingRunner(messaging.dispatcher, bot)
    await runner.start()
    stack.push_async_callback(runner.stop)
