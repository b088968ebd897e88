"""Outbox delivery to Telegram: 429 retry_after honoured, 5xx retried with backoff, 4xx dead,
nothing lost or sent twice across a worker restart, and the rate limits kept."""

from __future__ import annotations

import pytest
from tortoise.exceptions import OperationalError

from bot.delivery import KIND, TelegramOutbox, TelegramSender, chat_key
from daemon.outbox_worker import OutboxWorker, RateLimit
from models.messaging import outbox
from models.schema.outbox import OutboxMessage
from tests.bot.conftest import eventually, make_worker


class FakeTimer:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _row(message_id: int) -> OutboxMessage:
    return await OutboxMessage.get(id=message_id)


async def test_429_waits_exactly_retry_after(db, clock, bot, api):
    timer = FakeTimer()  # the chat is also held quiet for retry_after
    worker = make_worker(clock, bot, rate=RateLimit(1000, 0, timer=timer))
    row = await TelegramOutbox(clock).send(42, "hola")
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    await worker.run_once()
    row = await _row(row.id)
    assert row.status == "pending" and "retry after 7" in row.last_error
    assert (row.next_attempt_at - clock.now()).total_seconds() == 7
    await TelegramOutbox(clock).send(42, "same chat, written later")
    clock.advance(seconds=6)
    timer.now += 6
    await worker.run_once()
    assert api.calls_of("sendMessage") == []
    clock.advance(seconds=1)
    timer.now += 1
    await worker.run_once()
    await worker.run_once()
    assert [m.text for m in api.chat(42)] == ["hola", "same chat, written later"]
    assert (await _row(row.id)).status == "sent"


async def test_5xx_is_retried_with_growing_delays(db, clock, bot, api):
    worker = make_worker(clock, bot)
    row = await TelegramOutbox(clock).send(42, "hola")
    api.fail_next("sendMessage", 500, "Internal Server Error", times=2)
    await worker.run_once()
    first = await _row(row.id)
    assert first.attempts == 1 and (first.next_attempt_at - clock.now()).total_seconds() == 1
    clock.advance(seconds=1)
    await worker.run_once()
    second = await _row(row.id)
    assert second.attempts == 2 and (second.next_attempt_at - clock.now()).total_seconds() == 2
    clock.advance(seconds=2)
    await worker.run_once()
    assert [m.text for m in api.chat(42)] == ["hola"]
    assert (await _row(row.id)).status == "sent"


async def test_refusals_are_dead_at_once_and_failures_after_max_attempts(db, clock, bot, api):
    api.blocked_chats.add(43)
    worker = OutboxWorker(clock=clock, max_attempts=3)
    worker.register(KIND, TelegramSender(bot))
    blocked = await TelegramOutbox(clock).send(43, "hola")
    await worker.run_once()
    assert (await _row(blocked.id)).status == "dead"
    assert "blocked by the user" in (await _row(blocked.id)).last_error
    flaky = await TelegramOutbox(clock).send(44, "hola")
    api.fail_next("sendMessage", 502, "Bad Gateway", times=10)
    for _ in range(4):
        await worker.run_once()
        clock.advance(minutes=5)
    dead = await _row(flaky.id)
    assert dead.status == "dead" and dead.attempts == 3
    assert "gave up after 3 attempts" in dead.last_error


async def test_a_claim_left_by_a_dead_worker_is_sent_once_its_lease_ends(db, clock, bot, api):
    row = await TelegramOutbox(clock).send(42, "hola")
    # A worker claimed it and died before sending.
    lease_end = clock.now().replace(minute=2)
    assert await outbox.claim_ids([row.id], now=clock.now(), lease_until=lease_end)
    worker = make_worker(clock, bot)
    await worker.run_once()
    assert api.calls_of("sendMessage") == []  # still leased to the other worker
    clock.advance(minutes=3)
    await worker.run_once()
    await worker.run_once()
    assert [m.text for m in api.chat(42)] == ["hola"]


async def test_nothing_lost_or_sent_twice_across_a_restart(db, clock, bot, api):
    tg = TelegramOutbox(clock)
    for n in range(30):
        await tg.send(1000 + n % 3, f"message {n}")
    first = make_worker(clock, bot)
    await first.start()
    await eventually(lambda: len(api.calls_of("sendMessage")) >= 5)
    await first.stop()
    for n in range(30, 40):
        await tg.send(1000 + n % 3, f"message {n}")
    second = make_worker(clock, bot)
    await second.start()
    try:
        await eventually(lambda: len(api.calls_of("sendMessage")) >= 40)
        await second.run_once()
    finally:
        await second.stop()
    texts = [c.params["text"] for c in api.calls_of("sendMessage")]
    assert sorted(texts) == sorted(f"message {n}" for n in range(40))
    assert await outbox.counts(KIND) == {"pending": 0, "sending": 0, "sent": 40, "dead": 0}
    # Per chat, in the order they were written.
    for chat in (1000, 1001, 1002):
        numbers = [int(m.text.split()[1]) for m in api.chat(chat)]
        assert numbers == sorted(numbers)


async def test_one_message_per_second_per_chat(db, clock, bot, api):
    timer = FakeTimer()
    worker = OutboxWorker(clock=clock)
    worker.register(
        KIND, TelegramSender(bot), rate=RateLimit(30, 1.0, timer=timer), key_of=chat_key
    )
    tg = TelegramOutbox(clock)
    for n in range(3):
        await tg.send(42, f"m{n}")
    await tg.send(43, "other chat")
    await worker.run_once()
    await worker.run_once()
    assert [m.text for m in api.chat(42)] == ["m0"]
    assert [m.text for m in api.chat(43)] == ["other chat"]
    timer.now += 0.9
    await worker.run_once()
    assert len(api.chat(42)) == 1
    timer.now += 0.1
    await worker.run_once()
    await worker.run_once()
    assert [m.text for m in api.chat(42)] == ["m0", "m1"]
    timer.now += 1
    await worker.run_once()
    assert [m.text for m in api.chat(42)] == ["m0", "m1", "m2"]


async def test_about_thirty_messages_per_second_overall(db, clock, bot, api):
    timer = FakeTimer()
    worker = OutboxWorker(clock=clock)
    worker.register(
        KIND, TelegramSender(bot), rate=RateLimit(25, 1.0, timer=timer), key_of=chat_key
    )
    tg = TelegramOutbox(clock)
    for n in range(60):
        await tg.send(5000 + n, f"m{n}")
    sent_after: list[int] = []
    for _ in range(6):  # 0.0 s, 0.2 s, ... 1.0 s
        await worker.run_once()
        await worker.run_once()
        sent_after.append(len(api.calls_of("sendMessage")))
        timer.now += 0.2
    # A burst of a fifth of a second's worth, then 25 a second: at most 30 in the first second.
    assert sent_after == [5, 10, 15, 20, 25, 30]


async def test_fast_lane_rows_held_by_the_rate_limit_survive_a_stop(db, clock, bot, api):
    """Ringing messages are written already claimed and handed to the worker in memory; a
    stop gives the ones still held by the rate limit back to the table, sent once after."""
    timer = FakeTimer()
    first = OutboxWorker(clock=clock)
    first.register(
        KIND, TelegramSender(bot), rate=RateLimit(1000, 1.0, timer=timer), key_of=chat_key
    )
    tg = TelegramOutbox(clock, fast_lane=first)
    for n in range(3):
        tg.hand_over(await tg.send(42, f"ring {n}", fast=True))
    await first.start()
    await eventually(lambda: api.chat(42))
    await first.stop()
    assert [m.text for m in api.chat(42)] == ["ring 0"]
    assert await outbox.counts(KIND) == {"pending": 2, "sending": 0, "sent": 1, "dead": 0}
    second = make_worker(clock, bot)
    for _ in range(3):
        await second.run_once()
    assert [m.text for m in api.chat(42)] == ["ring 0", "ring 1", "ring 2"]


async def test_fast_lane_row_of_a_crashed_process_is_sent_after_its_lease(db, clock, bot, api):
    crashed = make_worker(clock, bot)
    tg = TelegramOutbox(clock, fast_lane=crashed)
    await tg.send(42, "ring", fast=True)  # written claimed; the process dies before handing over
    survivor = make_worker(clock, bot)
    await survivor.run_once()
    assert api.chat(42) == []
    clock.advance(seconds=crashed.lease_seconds)
    await survivor.run_once()
    assert [m.text for m in api.chat(42)] == ["ring"]


async def test_purge_keeps_pending_and_recent_messages(db, clock, bot, api):
    worker = make_worker(clock, bot)
    tg = TelegramOutbox(clock)
    old = await tg.send(42, "old")
    await worker.run_once()
    waiting = await tg.send(43, "waiting", dedupe_key="k")
    await OutboxMessage.filter(id__in=[old.id, waiting.id]).update(
        created_at=clock.now().replace(month=10)
    )
    await tg.send(44, "recent")
    await worker.run_once()
    await OutboxMessage.filter(id=waiting.id).update(status="pending")
    assert await outbox.purge_finished(clock=clock) == 1
    assert not await OutboxMessage.exists(id=old.id)
    assert await OutboxMessage.exists(id=waiting.id)


async def test_a_fast_lane_row_waits_in_memory_while_the_database_does_not_answer(
    db, clock, bot, api, monkeypatch
):
    """The pass that takes a handed-over ringing message fails on its database read (a
    PostgreSQL restart): the message is kept for the next pass, not left to its lease."""
    worker = make_worker(clock, bot)
    tg = TelegramOutbox(clock, fast_lane=worker)
    tg.hand_over(await tg.send(42, "ring", fast=True))
    original = OutboxMessage.filter

    def down(*args, **kwargs):
        raise OperationalError("connection was closed in the middle of operation")

    monkeypatch.setattr(OutboxMessage, "filter", down)
    with pytest.raises(OperationalError):
        await worker.run_once()
    monkeypatch.setattr(OutboxMessage, "filter", original)
    await worker.run_once()  # the database answers again; the clock has not moved
    assert [m.text for m in api.chat(42)] == ["ring"]
    assert await outbox.counts(KIND) == {"pending": 0, "sending": 0, "sent": 1, "dead": 0}
