"""The auto-dialer from chat (Q1): /dialer pause, resume and status act on the agent's list."""

from __future__ import annotations

from models.telephony import dialer as dialer_ops
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat


async def test_dialer_pause_resume_and_status_from_chat(linked, clock, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer status"))
    assert "ninguna lista" in (await luis_chat.wait_messages(1))[-1].text
    dialer = await dialer_ops.create_list(
        linked.luis, "Lunes", clock=clock, numbers=["+34911000001", "+34911000002"]
    )
    await dialer_ops.start_list(linked.luis, dialer.id, clock=clock)

    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer pause"))
    assert "en pausa" in (await luis_chat.wait_messages(2))[-1].text
    assert (await dialer_ops.get_list(dialer.id)).status == "paused"

    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer pause"))
    refused = (await luis_chat.wait_messages(3))[-1].text
    assert "pausa" in refused and "paused" not in refused
    assert (await dialer_ops.get_list(dialer.id)).status == "paused"

    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer resume"))
    assert "reanudada" in (await luis_chat.wait_messages(4))[-1].text
    assert (await dialer_ops.get_list(dialer.id)).status == "running"

    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer"))
    status = (await luis_chat.wait_messages(5))[-1].text
    assert "Lunes" in status and "pendientes 2" in status and "omitidos 0" in status
    assert "en marcha" in status and "running" not in status  # the status, in Spanish
