"""What became of a call asked for from the chat (/call, "Call back"): when it fails, the agent
is told why in their language (their own phone did not answer, the number is busy ...).

The PBX link reports each click-to-call on the hub (ClickToCallProgress). The bot marks its own
requests with REQUEST_PREFIX, so a call started in the panel is not reported in the chat too.
The watcher subscribes when the dispatcher starts and unsubscribes when it stops.
"""

from __future__ import annotations

import logging
import uuid

from aiogram.utils.i18n import gettext as _

from bot.delivery import TelegramOutbox
from bot.i18n import language_of, speaking
from models.core.errors import in_language
from models.core.events import ClickToCallProgress
from models.core.hub import Hub, Subscription
from models.messaging import telegram_links as telegram

logger = logging.getLogger(__name__)

REQUEST_PREFIX = "tg-"


def new_request_id() -> str:
    return REQUEST_PREFIX + uuid.uuid4().hex


def failure_text(reason: str, lang: str) -> str:
    """The failure in the current locale (the reason is the PBX link's, in `lang`)."""
    said = in_language(reason, lang) if reason else _("no reason was given")
    return _("❌ The call could not be made: %(reason)s") % {"reason": said}


class ClickToCallWatcher:
    """Tells the agent in Telegram when a click-to-call they asked for from the chat failed."""

    def __init__(self) -> None:
        self._hub: Hub | None = None
        self._subscription: Subscription | None = None

    async def start(self, hub: Hub, outbox: TelegramOutbox) -> None:
        """Dispatcher startup: `hub` and `outbox` are the dispatcher's workflow data."""
        if self._subscription is not None:
            return
        self._hub = hub

        async def handle(event: ClickToCallProgress) -> None:
            await self.report(event, outbox)

        self._subscription = hub.subscribe("telegram-click-to-call", handle, ClickToCallProgress)

    async def stop(self) -> None:
        """Dispatcher shutdown."""
        subscription, self._subscription = self._subscription, None
        if subscription is not None and self._hub is not None:
            await self._hub.unsubscribe(subscription)

    async def report(self, event: ClickToCallProgress, outbox: TelegramOutbox) -> None:
        if event.stage != "failed" or not event.request_id.startswith(REQUEST_PREFIX):
            return
        user = await telegram.linked_user(event.user_id)
        if user is None or user.telegram_chat_id is None:
            return
        lang = language_of(user.language)
        with speaking(lang):
            body = failure_text(event.reason, lang)
        logger.info("click-to-call %s failed; telling %s", event.request_id, user.username)
        await outbox.send(
            user.telegram_chat_id, body, dedupe_key=f"tg:c2c:{event.request_id}:failed"
        )
