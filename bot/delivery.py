"""Every bot message goes through the outbox: this writes the rows, `TelegramSender` sends them.

Payload of an outbox row of kind "telegram":
    {"method": "sendMessage" | "editMessageText", "params": {...Bot API parameters...},
     "notification_id": id of the TelegramMessage whose message id to remember (optional),
     "edit_of": id of the TelegramMessage to edit, when its message id is not known yet,
     "after": outbox id of the message the edit depends on}
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    RestartingTelegram,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import EditMessageText, SendMessage
from aiogram.types import InlineKeyboardMarkup, Message

from models.core.clock import Clock
from models.core.errors import NotFound
from models.messaging import outbox
from models.messaging import telegram_links as telegram
from models.schema.outbox import OutboxMessage

logger = logging.getLogger(__name__)

KIND = "telegram"
_METHODS = {"sendMessage": SendMessage, "editMessageText": EditMessageText}


def _markup(keyboard: InlineKeyboardMarkup | None) -> dict[str, Any] | None:
    return keyboard.model_dump(mode="json", exclude_none=True) if keyboard is not None else None


def chat_key(payload: dict[str, Any]) -> int:
    """The rate-limit key of a row: its chat (Telegram allows about one message a second each)."""
    return int(payload["params"]["chat_id"])


class TelegramOutbox:
    """Writes Telegram messages to the outbox; given to handlers and the notifier."""

    def __init__(
        self,
        clock: Clock,
        wake: Callable[[], None] | None = None,
        fast_lane: outbox.FastLane | None = None,
    ) -> None:
        self.clock = clock
        self._wake = wake or (lambda: None)
        self._fast_lane = fast_lane

    def wake(self) -> None:
        """Tell the worker there is something to send (after the transaction committed)."""
        self._wake()

    def hand_over(self, row: OutboxMessage) -> None:
        """After the transaction that wrote a `fast` message committed: give it to the worker."""
        if self._fast_lane is not None and row.status == outbox.SENDING:
            self._fast_lane.hand_over(row)
        else:
            self._wake()

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        keyboard: InlineKeyboardMarkup | None = None,
        dedupe_key: str | None = None,
        notification_id: int | None = None,
        wake: bool = True,
        key_is_new: bool = False,
        fast: bool = False,
    ) -> OutboxMessage:
        """Queue a message. `fast` writes it claimed for this process's worker: the caller
        passes the row to `hand_over` once its transaction committed."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if keyboard is not None:
            params["reply_markup"] = _markup(keyboard)
        payload: dict[str, Any] = {"method": "sendMessage", "params": params}
        if notification_id is not None:
            payload["notification_id"] = notification_id
        lease_until = None
        if fast and self._fast_lane is not None:
            lease_until = self.clock.now() + timedelta(seconds=self._fast_lane.lease_seconds)
        row = await outbox.enqueue(
            KIND,
            payload,
            clock=self.clock,
            dedupe_key=dedupe_key,
            key_is_new=key_is_new,
            lease_until=lease_until,
        )
        if wake:
            self._wake()
        return row

    async def edit(
        self,
        chat_id: int,
        text: str,
        *,
        message_id: int | None = None,
        edit_of: int | None = None,
        after: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
        dedupe_key: str | None = None,
        wake: bool = True,
    ) -> OutboxMessage:
        """Edit a message by id, or the notification `edit_of` once it has been sent."""
        params: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if message_id is not None:
            params["message_id"] = message_id
        if keyboard is not None:
            params["reply_markup"] = _markup(keyboard)
        payload: dict[str, Any] = {"method": "editMessageText", "params": params}
        if edit_of is not None:
            payload["edit_of"] = edit_of
        if after is not None:
            payload["after"] = after
        row = await outbox.enqueue(KIND, payload, clock=self.clock, dedupe_key=dedupe_key)
        if wake:
            self._wake()
        return row


class TelegramSender:
    """The outbox worker's sender for kind "telegram": one Bot API call per row.

    Translates aiogram's errors into the outbox's: 429 -> retry after `retry_after`, 5xx and
    network errors -> retry with backoff, other 4xx -> permanent.
    """

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def __call__(self, payload: dict[str, Any]) -> dict[str, Any]:
        method_name = payload["method"]
        method_cls = _METHODS.get(method_name)
        if method_cls is None:
            raise outbox.PermanentFailure(f"unknown Telegram method {method_name!r}")
        params = dict(payload["params"])
        if "message_id" not in params and payload.get("edit_of") is not None:
            params["message_id"] = await self._message_id(payload)
        try:
            result = await self.bot(method_cls.model_validate(params))
        except TelegramRetryAfter as err:
            raise outbox.RetryLater(err.message, delay=float(err.retry_after)) from err
        except (TelegramServerError, RestartingTelegram, TelegramNetworkError) as err:
            raise outbox.RetryLater(f"{type(err).__name__}: {err.message}") from err
        except TelegramBadRequest as err:
            if "message is not modified" in err.message:
                return {"not_modified": True}
            raise outbox.PermanentFailure(err.message) from err
        except TelegramAPIError as err:
            raise outbox.PermanentFailure(f"{type(err).__name__}: {err.message}") from err
        if isinstance(result, Message):
            if payload.get("notification_id") is not None:
                await telegram.record_sent_message(payload["notification_id"], result.message_id)
            return {"message_id": result.message_id, "chat_id": result.chat.id}
        return {"ok": bool(result)}

    async def _message_id(self, payload: dict[str, Any]) -> int:
        try:
            message_id = await telegram.message_id_of(payload["edit_of"])
        except NotFound as err:
            raise outbox.PermanentFailure(str(err)) from err
        if message_id is not None:
            return message_id
        after = payload.get("after")
        if after is not None and await outbox.get_status(after) == outbox.DEAD:
            raise outbox.PermanentFailure("the message to edit was never sent")
        raise outbox.NotReady("the message to edit is not sent yet")
