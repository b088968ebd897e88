"""E3, G5: new mail from a client or a new lead is told in Telegram to the mailbox's users who
linked a chat, in each one's language, once."""

from __future__ import annotations

import pytest

from bot.mail_notices import MailNotifier
from models.core.events import MailArrived
from models.schema.users import User
from tests.bot.conftest import LUIS_CHAT, MARTA_CHAT, eventually


@pytest.fixture
async def mail_notifier(hub, tg_outbox):
    notifier = MailNotifier(hub, tg_outbox)
    notifier.start()
    yield notifier
    await notifier.stop()


def _arrived(world, email_id: int, **more) -> MailArrived:
    values = {
        "email_id": email_id,
        "account_id": 1,
        "user_ids": (world.luis.id, world.marta.id, world.ana.id),
        "client_id": None,
        "lead_id": 7,
        "sender": "Laura Gómez <laura@nuevo.test>",
        "subject": "Presupuesto instalación",
    }
    values.update(more)
    return MailArrived(**values)


async def test_each_linked_mailbox_user_is_told_once_in_their_language(
    linked, hub, mail_notifier, api
):
    world = linked  # Luis and Marta linked; Ana has no chat
    await User.filter(id=world.marta.id).update(language="en")
    event = _arrived(world, 41, lead_created=True)
    hub.publish(event)
    hub.publish(event)  # delivered twice: still one message each
    hub.publish(_arrived(world, 42, subject="", user_ids=(world.luis.id,)))
    await eventually(lambda: len(api.chat(LUIS_CHAT)) == 2 and len(api.chat(MARTA_CHAT)) == 1)
    await hub.drain()
    first, second = [m.text for m in api.chat(LUIS_CHAT)]
    assert (
        first == "✉️ Nuevo lead por correo: Laura Gómez <laura@nuevo.test>\nPresupuesto instalación"
    )
    assert second == "✉️ Nuevo correo de Laura Gómez <laura@nuevo.test>\n(sin asunto)"
    assert [m.text for m in api.chat(MARTA_CHAT)] == [
        "✉️ New lead from email: Laura Gómez <laura@nuevo.test>\nPresupuesto instalación"
    ]
