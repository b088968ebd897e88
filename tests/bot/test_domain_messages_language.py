"""The domain's refusals reach the chat in the linked user's language (models/locale)."""

from __future__ import annotations

from models.schema.users import User
from models.telephony import dialer as dialer_ops
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat


async def test_a_refused_dialer_command_says_why_in_the_users_language(
    linked, clock, luis_chat: Chat
):
    dialer = await dialer_ops.create_list(
        linked.luis, "Lunes", clock=clock, numbers=["+34911000001", "+34911000002"]
    )
    await dialer_ops.start_list(linked.luis, dialer.id, clock=clock)

    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer resume"))  # Luis reads Spanish
    refused = (await luis_chat.wait_messages(1))[-1].text
    assert "No se pudo: la lista está en marcha: solo se reanuda una lista en pausa" in (refused)

    await User.filter(id=linked.luis.id).update(language="en")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer resume"))
    refused = (await luis_chat.wait_messages(2))[-1].text
    assert "Could not do it: the list is running: only a paused list resumes" in refused
    assert (await dialer_ops.get_list(dialer.id)).status == "running"
