"""aiogram's FSM storage on the database (models/messaging/chat_dialogs.py): a dialog half-way
through (a task's title typed, its date not yet) survives a restart of the bot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey

from models.core.clock import Clock
from models.messaging.chat_dialogs import DialogKey, read_dialog, write_dialog


def _key(key: StorageKey) -> DialogKey:
    return DialogKey(
        bot_id=key.bot_id,
        chat_id=key.chat_id,
        telegram_user_id=key.user_id,
        thread_id=key.thread_id or 0,
        business_connection_id=key.business_connection_id or "",
        destiny=key.destiny,
    )


class DatabaseStorage(BaseStorage):
    """Each chat's dialog state and data in the `chat_dialog` table."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        name = state.state if isinstance(state, State) else state
        await write_dialog(_key(key), clock=self._clock, state=name)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await read_dialog(_key(key), clock=self._clock)
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await write_dialog(_key(key), clock=self._clock, data=dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await read_dialog(_key(key), clock=self._clock)
        return data

    async def close(self) -> None:
        """Nothing to close: the database belongs to the process."""
