"""The bot when another program holds the database (issue 15): nothing silently lost.

A note sent while the lock is held is saved once the database answers (PostgreSQL waits for
its table lock) or, past SQLite's busy timeout, the agent reads that the database is busy and
tries again; a call's notification waits and is sent when the database answers. The lock is
another connection's (tests/db_lock.py), released by the test once the write was attempted.
"""

from __future__ import annotations

import asyncio
import logging

from models.contacts.clients import ClientInput, create_client
from models.core.events import CallerCard, CallRang
from models.schema.activity import Note
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat, eventually
from tests.db_lock import DatabaseLock, is_sqlite, short_busy_wait  # noqa: F401  (fixture)

BUSY_ES = "La base de datos está ocupada; inténtalo de nuevo dentro de un momento."
NOTE = "/note Juan Ruiz Quiere presupuesto antes del viernes"


async def test_a_note_sent_while_the_database_is_held_is_saved_or_the_agent_is_told_to_retry(
    linked,
    clock,
    luis_chat: Chat,
    short_busy_wait,  # noqa: F811
):
    url = short_busy_wait
    await create_client(linked.luis, ClientInput(name="Juan Ruiz"), clock=clock)
    lock = DatabaseLock(url, ("note",))
    await lock.take()
    try:
        if is_sqlite(url):
            # Past the busy timeout: the agent is told, in their language, and nothing is saved.
            await luis_chat.feed(updates.message(LUIS_CHAT, NOTE))
            assert await luis_chat.last_text(1) == BUSY_ES
            await lock.release()
            assert not await Note.exists()
            await luis_chat.feed(updates.message(LUIS_CHAT, NOTE))  # the agent tries again
            assert await luis_chat.last_text(2) == "📝 Nota guardada en Juan Ruiz."
        else:
            # PostgreSQL waits for the lock: the note is saved when it is released.
            sending = asyncio.ensure_future(luis_chat.feed(updates.message(LUIS_CHAT, NOTE)))
            await lock.wait_for_writer()
            assert not sending.done()
            await lock.release()
            await sending
            assert await luis_chat.last_text(1) == "📝 Nota guardada en Juan Ruiz."
        notes = await Note.all()
        assert [n.text for n in notes] == ["Quiere presupuesto antes del viernes"]
    finally:
        await lock.release()


class _Waiting(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "telegram message waits" in record.getMessage():
            self.seen.set()


async def test_a_call_ringing_while_the_database_is_held_is_still_announced(
    linked,
    hub,
    notifier,
    luis_chat: Chat,
    short_busy_wait,  # noqa: F811
):
    url = short_busy_wait
    lock = DatabaseLock(url, ("telegram_message",))
    waiting = _Waiting()
    log = logging.getLogger("bot.notifier")
    log.addHandler(waiting)
    await lock.take()
    try:
        card = CallerCard(number="+34611222333")  # the caller's card could not be read either
        hub.publish(
            CallRang(
                linkedid="1700000000.9",
                direction="in",
                extension="101",
                user_id=linked.luis.id,
                card=card,
            )
        )
        if is_sqlite(url):
            await asyncio.wait_for(waiting.seen.wait(), 10)
        else:
            await lock.wait_for_writer()
        assert luis_chat.messages() == []
        await lock.release()
        message = (await eventually(luis_chat.messages, within=15))[0]
        assert "Llamada entrante" in message.text and "611" in message.text
    finally:
        await lock.release()
        log.removeHandler(waiting)
