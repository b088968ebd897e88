"""Mail notices in Telegram (E3, G5): hub events in, outbox rows out.

When mail from a client or a lead arrives, or a new sender has just become a lead, each user
of the mailbox (its owner and those it is shared with) who linked a chat gets one message, in
their own language. Each row has a dedupe key (the email and the user), so an event delivered
twice never sends twice.
"""

from __future__ import annotations

import logging

from aiogram.utils.i18n import gettext as _

from bot.delivery import TelegramOutbox
from bot.i18n import language_of, speaking
from models.core.events import MailArrived
from models.core.hub import Hub, Subscription
from models.messaging import telegram_links as telegram

logger = logging.getLogger(__name__)

SUBJECT_LENGTH = 200


def notice_text(event: MailArrived) -> str:
    """The message, in the current language (`speaking`)."""
    subject = event.subject[:SUBJECT_LENGTH] or _("(no subject)")
    if event.lead_created:
        return _("✉️ New lead from email: %(sender)s\n%(subject)s") % {
            "sender": event.sender,
            "subject": subject,
        }
    return _("✉️ New email from %(sender)s\n%(subject)s") % {
        "sender": event.sender,
        "subject": subject,
    }


class MailNotifier:
    """Subscribes to MailArrived on the hub and writes a Telegram message per linked user."""

    def __init__(self, hub: Hub, telegram_outbox: TelegramOutbox) -> None:
        self._hub = hub
        self._outbox = telegram_outbox
        self._subscription: Subscription | None = None

    def start(self) -> Subscription:
        if self._subscription is None:
            self._subscription = self._hub.subscribe("telegram-mail", self.handle, MailArrived)
        return self._subscription

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._hub.unsubscribe(self._subscription)
            self._subscription = None

    async def handle(self, event: MailArrived) -> None:
        users = await telegram.linked_users(list(event.user_ids))
        for user in users:
            with speaking(language_of(user.language)):
                body = notice_text(event)
            await self._outbox.send(
                user.telegram_chat_id,
                body,
                dedupe_key=f"tg:mail:{event.email_id}:{user.id}",
                wake=False,
            )
        if users:
            self._outbox.wake()
            logger.info("email %s: telegram notice for %d users", event.email_id, len(users))
