"""Real Telegram Update JSON, as the Bot API delivers it (getUpdates or a webhook)."""

from __future__ import annotations

import itertools
import time
from typing import Any

_update_ids = itertools.count(500_000)
_message_ids = itertools.count(9_000)


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "first_name": "Agent", "username": f"agent{chat_id}", "type": "private"}


def _user(chat_id: int, language: str) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Agent", "language_code": language}


def message(
    chat_id: int,
    body: str,
    *,
    reply_to: int | None = None,
    replied_text: str = "call",
    replied_markup: dict[str, Any] | None = None,
    language: str = "es",
) -> dict[str, Any]:
    """A text message; `reply_to` makes it a reply to that message of the bot, which Telegram
    includes whole (its text and its inline keyboard)."""
    msg: dict[str, Any] = {
        "message_id": next(_message_ids),
        "from": _user(chat_id, language),
        "chat": _chat(chat_id),
        "date": int(time.time()),
        "text": body,
    }
    if body.startswith("/"):
        command = body.split()[0]
        msg["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    if reply_to is not None:
        msg["reply_to_message"] = {
            "message_id": reply_to,
            "from": {"id": 7000001, "is_bot": True, "first_name": "Centralita"},
            "chat": _chat(chat_id),
            "date": int(time.time()) - 60,
            "text": replied_text,
        }
        if replied_markup:
            msg["reply_to_message"]["reply_markup"] = replied_markup
    return {"update_id": next(_update_ids), "message": msg}


def photo(chat_id: int, *, language: str = "es") -> dict[str, Any]:
    """A photo without a caption."""
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": _user(chat_id, language),
            "chat": _chat(chat_id),
            "date": int(time.time()),
            "photo": [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 90, "height": 90}],
        },
    }


def callback(chat_id: int, data: str, *, message_id: int, language: str = "es") -> dict[str, Any]:
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": str(next(_update_ids)),
            "from": _user(chat_id, language),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": {
                "message_id": message_id,
                "from": {"id": 7000001, "is_bot": True, "first_name": "Centralita"},
                "chat": _chat(chat_id),
                "date": int(time.time()),
                "text": "…",
            },
        },
    }
