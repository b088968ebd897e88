"""Open chat dialogs with the bot (aiogram's FSM state and data) kept in the database, so that a
restart of the bot, or of the whole daemon, finds every chat where it was.

A dialog left alone for DIALOG_TTL is over: read after that, it is gone, so a note prompt from
yesterday never captures what the agent types today. Ending a dialog deletes its row.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.schema.dialogs import ChatDialog

DIALOG_TTL = timedelta(hours=12)
_UNSET: Any = object()


@dataclass(frozen=True)
class DialogKey:
    """Whose dialog: the bot, the chat and the Telegram user in it (aiogram's storage key)."""

    bot_id: int
    chat_id: int
    telegram_user_id: int
    thread_id: int = 0
    business_connection_id: str = ""
    destiny: str = "default"


def _where(key: DialogKey) -> dict[str, Any]:
    return dataclasses.asdict(key)


async def read_dialog(key: DialogKey, *, clock: Clock) -> tuple[str | None, dict[str, Any]]:
    """The dialog's state and data; (None, {}) when there is none or it has expired."""
    row = await ChatDialog.get_or_none(**_where(key))
    if row is None:
        return None, {}
    if row.updated_at < clock.now() - DIALOG_TTL:
        await ChatDialog.filter(id=row.id, updated_at=row.updated_at).delete()
        return None, {}
    return row.state, dict(row.data)


async def write_dialog(
    key: DialogKey,
    *,
    clock: Clock,
    state: str | None = _UNSET,
    data: dict[str, Any] = _UNSET,
) -> None:
    """Change the dialog's state, its data or both; a dialog with neither is deleted."""
    now = clock.now()
    for _attempt in range(2):
        try:
            async with in_transaction():
                row = await ChatDialog.filter(**_where(key)).select_for_update().first()
                fresh = row is not None and row.updated_at >= now - DIALOG_TTL
                new_state = state if state is not _UNSET else (row.state if fresh and row else None)
                new_data = data if data is not _UNSET else (row.data if fresh and row else {})
                if new_state is None and not new_data:
                    if row is not None:
                        await row.delete()
                    return
                if row is None:
                    await ChatDialog.create(
                        **_where(key), state=new_state, data=dict(new_data), updated_at=now
                    )
                else:
                    row.state, row.data, row.updated_at = new_state, dict(new_data), now
                    await row.save(update_fields=["state", "data", "updated_at"])
            return
        except IntegrityError:
            continue  # another update of the same chat created the row first: update it
    raise RuntimeError(f"could not store the dialog of chat {key.chat_id}")
