"""Smaller things agents noticed (issue 15, item 9): /dialer speaks the agent's language, /call
says when the call failed later on (the agent's own phone did not answer), and the daily digest
greets by the time of day in the agent's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.reminders import send_daily_digests
from models.core.errors import msg
from models.core.events import ClickToCall, ClickToCallProgress
from models.people.schedule import validate_schedule
from models.schema.users import User
from models.telephony import dialer as dialer_ops
from tests.bot import updates
from tests.bot.conftest import LUIS_CHAT, MARTA_CHAT, Chat, eventually


async def test_dialer_takes_spanish_words_and_answers_in_english_too(
    linked, clock, luis_chat: Chat
):
    dialer = await dialer_ops.create_list(
        linked.luis, "Lunes", clock=clock, numbers=["+34911000001", "+34911000002"]
    )
    await dialer_ops.start_list(linked.luis, dialer.id, clock=clock)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer pausa"))
    assert await luis_chat.last_text(1) == "⏸ Lista «Lunes» en pausa."
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer estado"))
    assert "en pausa" in await luis_chat.last_text(2)
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer ahora"))
    assert await luis_chat.last_text(3) == "Uso: /dialer pausa | reanudar | estado"

    await User.filter(id=linked.luis.id).update(language="en")
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer pause"))
    refused = await luis_chat.last_text(4)
    assert refused.startswith("Could not do it") and "paused" in refused
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer resume"))
    assert await luis_chat.last_text(5) == "▶️ List “Lunes” resumed."
    await luis_chat.feed(updates.message(LUIS_CHAT, "/dialer"))
    status = await luis_chat.last_text(6)
    assert status.startswith("List “Lunes”: running.") and "to dial 2" in status


async def test_call_says_when_the_agents_own_phone_failed(
    linked, clock, hub, dp, bot, luis_chat: Chat
):
    requests: list[ClickToCall] = []

    async def pbx(command: ClickToCall) -> None:
        # Accepted now; a few seconds later the PBX reports that the agent's phone never
        # answered (as daemon/ami/commands.py does from the OriginateResponse).
        requests.append(command)
        hub.publish(ClickToCallProgress(command.request_id, command.user_id, "ringing_agent"))
        reason = msg("the agent did not answer extension %(ext)s", ext=command.extension)
        hub.publish(ClickToCallProgress(command.request_id, command.user_id, "failed", reason))

    hub.handle(ClickToCall, pbx)
    await dp.emit_startup(bot=bot, **dp.workflow_data)  # as polling or the webhook app does
    try:
        await luis_chat.feed(updates.message(LUIS_CHAT, "/call 600111222"))
        assert await luis_chat.last_text(2) == (
            "❌ No se pudo hacer la llamada: el agente no contestó en la extensión 101"
        )
        await User.filter(id=linked.luis.id).update(language="en")
        await luis_chat.feed(updates.message(LUIS_CHAT, "/call 600111333"))
        assert await luis_chat.last_text(4) == (
            "❌ The call could not be made: the agent did not answer extension 101"
        )
        # A call started in the panel is the panel's to report, not the chat's.
        hub.publish(ClickToCallProgress("web-1", linked.luis.id, "failed", "busy"))
        await hub.drain()
    finally:
        await dp.emit_shutdown(bot=bot, **dp.workflow_data)
    assert len(luis_chat.messages()) == 4
    assert [r.number for r in requests] == ["+34600111222", "+34600111333"]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def test_digest_greets_by_the_time_of_day_in_the_users_zone(linked, clock, tg_outbox, api):
    # Luis (Madrid, Spanish) starts at 15:00; Marta (Mexico City, English) at 19:00.
    await User.filter(id=linked.luis.id).update(
        work_schedule=validate_schedule({"kind": "weekly", "days": {"2": [["15:00", "23:00"]]}})
    )
    await User.filter(id=linked.marta.id).update(
        language="en",
        time_zone="America/Mexico_City",
        work_schedule=validate_schedule(
            {"kind": "weekly", "days": {"2": [["19:00", "23:30"]], "3": [["08:00", "12:00"]]}}
        ),
    )
    clock.set(_at(25, 14, 1))  # 15:01 in Madrid
    assert await send_daily_digests(clock, tg_outbox) == 1
    luis = (await eventually(lambda: api.chat(LUIS_CHAT)))[0].text
    assert luis.startswith("🌤 Buenas tardes, Luis Pérez. Tu resumen:")
    clock.set(_at(26, 1, 1))  # 19:01 on Wednesday in Mexico City, 02:01 on Thursday in Madrid
    assert await send_daily_digests(clock, tg_outbox) == 1
    marta = (await eventually(lambda: api.chat(MARTA_CHAT)))[0].text
    assert marta.startswith("🌙 Good evening, Marta Núñez. Your digest:")
    clock.set(_at(26, 14, 2))  # 08:02 on Thursday in Mexico City
    assert await send_daily_digests(clock, tg_outbox) == 1
    morning = await eventually(lambda: len(api.chat(MARTA_CHAT)) == 2 and api.chat(MARTA_CHAT))
    assert morning[1].text.startswith("☀️ Good morning, Marta Núñez. Your digest:")
