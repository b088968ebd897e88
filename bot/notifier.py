"""Call notifications in Telegram (B2): hub events in, outbox rows out.

A ringing call sends the caller's card with buttons to the linked agent; the same message is
edited when the call is answered, answered elsewhere, or ends; a missed call also sends an
alert. Every message is an outbox row with a dedupe key, so an event delivered twice never
sends twice. The messages are made outside any update, so each is rendered in its recipient's
language explicitly (`speaking`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram.utils.i18n import gettext as _
from tortoise.transactions import in_transaction

from bot.cards import OUTBOUND_ENDS, call_keyboard, call_text, card_to_dict, who
from bot.delivery import TelegramOutbox
from bot.i18n import language_of, speaking
from models.core.db import is_database_busy
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallerCard,
    CallMissed,
    CallRang,
    CallStoppedRinging,
)
from models.core.hub import Hub, Subscription
from models.messaging import outbox
from models.messaging import telegram_links as telegram
from models.schema.telegram import TelegramMessage
from models.schema.users import User

logger = logging.getLogger(__name__)

EVENTS = (CallRang, CallAnswered, CallStoppedRinging, CallEnded, CallMissed)
# While the database does not answer an event is retried after these pauses (seconds); its
# messages keep their dedupe keys, so a retry never sends twice.
BUSY_PAUSES = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0)


def _ring_key(notification_id: int) -> str:
    return f"tg:call:{notification_id}:ring"


class CallNotifier:
    """Subscribes to call events on the hub and writes Telegram messages to the outbox."""

    def __init__(self, hub: Hub, telegram_outbox: TelegramOutbox) -> None:
        self._hub = hub
        self._outbox = telegram_outbox
        self._subscription: Subscription | None = None

    def start(self) -> Subscription:
        """Subscribe (a named consumer task on the hub, stopped by `stop` or `hub.close`)."""
        if self._subscription is None:
            self._subscription = self._hub.subscribe(
                "telegram-notifier", self.handle, *EVENTS, after_live=True
            )
        return self._subscription

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._hub.unsubscribe(self._subscription)
            self._subscription = None

    async def handle(self, event: Any) -> None:
        """One call event. A database held by another process past its busy timeout delays
        the message (retried, in order, for about two minutes); it does not lose it."""
        for pause in (*BUSY_PAUSES, None):
            try:
                await self._handle(event)
                return
            except Exception as err:
                if pause is None or not is_database_busy(err):
                    raise
                if pause == BUSY_PAUSES[0]:
                    logger.warning(
                        "call %s: the database is busy (%s); its telegram message waits",
                        getattr(event, "linkedid", "?"),
                        err,
                    )
                await asyncio.sleep(pause)

    async def _handle(self, event: Any) -> None:
        if getattr(event, "user_id", None) is None:
            return  # nobody to tell (an extension with no user)
        if isinstance(event, CallRang):
            await self._rang(event)
        elif isinstance(event, CallAnswered):
            await self._set_state(event.linkedid, event.user_id, "answered")
        elif isinstance(event, CallStoppedRinging):
            # Only a colleague who picked up makes it "answered by another agent"; a phone
            # that simply stopped ringing (the PBX gave up, the caller hung up, the queue moved
            # on) waits for how the call ends: missed, most often.
            state = "elsewhere" if event.answered_by else "stopped"
            await self._set_state(event.linkedid, event.user_id, state, only_from=("ringing",))
        elif isinstance(event, CallEnded):
            if event.result == "answered" or event.talk_seconds:
                await self._set_state(
                    event.linkedid, event.user_id, "ended", talk_seconds=event.talk_seconds
                )
            else:
                await self._set_state(
                    event.linkedid,
                    event.user_id,
                    "missed",
                    result=event.result,
                    only_from=("ringing", "answered", "stopped"),
                )
        elif isinstance(event, CallMissed):
            await self._missed(event)

    async def _rang(self, event: CallRang) -> None:
        user = await telegram.linked_user(event.user_id)  # type: ignore[arg-type]
        if user is None:
            return
        await self._notify(user, event.linkedid, event.direction, event.card)

    async def _notify(
        self, user: User, linkedid: str, direction: str, card: CallerCard
    ) -> TelegramMessage | None:
        """Announce the call to the user, once; None when it was announced already."""
        lang = language_of(user.language)
        async with in_transaction():
            row = await telegram.remember_notification(
                linkedid, user, direction=direction, card=card_to_dict(card)
            )
            if row is None:
                return None
            with speaking(lang):
                body = call_text(
                    row.card,
                    direction=direction,
                    state="ringing",
                    lang=lang,
                    tz_name=user.time_zone,
                )
                keyboard = call_keyboard(row.id, row.card, direction)
            message = await self._outbox.send(
                row.chat_id,
                body,
                keyboard=keyboard,
                dedupe_key=_ring_key(row.id),
                key_is_new=True,  # the notification row was created just now
                notification_id=row.id,
                wake=False,
                fast=True,
            )
        self._outbox.hand_over(message)
        logger.info("call %s: telegram notification for %s", linkedid, user.username)
        return row

    async def _set_state(
        self,
        linkedid: str,
        user_id: int,
        state: str,
        *,
        talk_seconds: int = 0,
        result: str = "",
        only_from: tuple[str, ...] = ("ringing", "answered", "elsewhere"),
    ) -> None:
        row = await telegram.notification_for(linkedid, user_id)
        if row is None or row.state not in only_from:
            return
        if state == "missed" and row.direction != "in":
            # Our own call that nobody picked up is not a missed call: say how it ended.
            state = OUTBOUND_ENDS.get(result, "unanswered")
        user = await telegram.linked_user(user_id)
        if user is None:
            return
        card = {**row.card, "talk_seconds": talk_seconds} if talk_seconds else None
        await telegram.update_notification(row, state=state, card=card)
        await edit_notification(self._outbox, row, user)

    async def _missed(self, event: CallMissed) -> None:
        user = await telegram.linked_user(event.user_id)  # type: ignore[arg-type]
        if user is None:
            return
        row = await telegram.notification_for(event.linkedid, user.id)
        if row is None:
            # Never announced (linked meanwhile, or no ringing event): the alert is the message.
            row = await self._notify(user, event.linkedid, "in", event.card)
            if row is None:
                return
        if row.state in ("ringing", "stopped"):
            await telegram.update_notification(row, state="missed")
            await edit_notification(self._outbox, row, user)
        number = row.card.get("e164") or row.card.get("number") or "?"
        with speaking(user.language):
            body = _("❌ Missed call from %(who)s (%(number)s)") % {
                "who": who(row.card),
                "number": number,
            }
            keyboard = call_keyboard(row.id, row.card, row.direction)
        await self._outbox.send(
            row.chat_id,
            body,
            keyboard=keyboard,
            dedupe_key=f"tg:call:{row.id}:missed-alert",
        )


async def edit_notification(
    telegram_outbox: TelegramOutbox, row: TelegramMessage, user: User
) -> None:
    """Re-render a call notification (its state or card changed) as an edit of the message."""
    lang = language_of(user.language)
    with speaking(lang):
        body = call_text(
            row.card,
            direction=row.direction,
            state=row.state,
            lang=lang,
            tz_name=user.time_zone,
            talk_seconds=int(row.card.get("talk_seconds") or 0),
        )
        keyboard = call_keyboard(row.id, row.card, row.direction)
    marker = f"{row.state}:{row.card.get('client_id')}:{row.card.get('lead_id')}"
    await telegram_outbox.edit(
        row.chat_id,
        body,
        message_id=row.message_id,
        edit_of=None if row.message_id else row.id,
        after=await outbox.id_by_dedupe_key(_ring_key(row.id)),
        keyboard=keyboard,
        dedupe_key=f"tg:call:{row.id}:edit:{marker}",
    )
