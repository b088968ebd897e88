"""X1 from chat: "call back" under a notification and /call send a ClickToCall on the hub."""

from __future__ import annotations

from models.contacts.clients import ClientInput, create_client
from models.core.events import CallRang, ClickToCall
from models.telephony.caller_directory import caller_card
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, Chat


async def test_call_back_button_and_call_command(linked, clock, hub, notifier, luis_chat: Chat):
    world = linked
    requests: list[ClickToCall] = []

    async def pbx(command: ClickToCall) -> None:
        requests.append(command)

    hub.handle(ClickToCall, pbx)
    hub.publish(
        CallRang(
            linkedid="1700000001.1",
            direction="in",
            extension="101",
            user_id=world.luis.id,
            card=await caller_card("+34699000777"),
        )
    )
    message = (await luis_chat.wait_messages(1))[0]
    back = message.reply_markup["inline_keyboard"][1][0]["callback_data"]
    await luis_chat.feed(updates.callback(LUIS_CHAT, back, message_id=message.message_id))
    assert [(r.user_id, r.extension, r.number) for r in requests] == [
        (world.luis.id, "101", "+34699000777")
    ]
    assert "Llamando a +34699000777" in await luis_chat.last_text(2)

    await create_client(
        world.luis, ClientInput(name="Ferretería Pons", phones=["933 001 122"]), clock=clock
    )
    await luis_chat.feed(updates.message(LUIS_CHAT, "/call pons"))
    await luis_chat.wait_messages(3)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/call 600 111 222"))
    await luis_chat.wait_messages(4)
    assert [r.number for r in requests[1:]] == ["+34933001122", "+34600111222"]


async def test_call_without_pbx_link_says_why(linked, clock, luis_chat: Chat):
    await luis_chat.feed(updates.message(LUIS_CHAT, "/call 600111222"))
    assert "No se pudo llamar" in await luis_chat.last_text(1)
