"""PostgreSQL really restarted (bench/private_postgres.py: a server of the bench's own) while
one `centralita run` takes calls whose Telegram notifications go through the outbox. The
restarts alternate `pg_ctl restart -m fast` (sessions ended, as `systemctl restart`) and
`-m immediate` (as a crash: no checkpoint, recovery at start). Each call must be stored once
and each notification delivered once."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from bench.faults_local import DID, Row, digits, running, stored_calls, until
from bench.private_postgres import PrivatePostgres
from tests.bot.fake_bot_api import FakeBotApi


async def pg_restart(restarts: int, calls_per_restart: int) -> list[Row]:
    started = time.monotonic()
    api = FakeBotApi()
    await api.start()
    numbers: list[str] = []
    try:
        async with (
            PrivatePostgres() as pg,
            running(pg.url, speed=20, telegram={"token": api.token, "api_url": api.base_url}) as rt,
        ):
            sim = rt.telephony.simulator
            assert sim is not None
            calls = []
            for r in range(restarts):
                for n in range(calls_per_restart):
                    numbers.append(f"34600{7000 + r:04d}{n:02d}")
                    calls.append(
                        await sim.inbound_call(
                            f"+{numbers[-1]}", DID, ["101"], answer_by="101",
                            answer_after=1, talk=10 + 10 * n,
                        )
                    )  # fmt: skip
                await asyncio.wait_for(calls[-1].started.wait(), 10)
                await pg.restart("fast" if r % 2 == 0 else "immediate")
                await asyncio.wait_for(calls[-calls_per_restart].done(), 60)
            await asyncio.wait_for(asyncio.gather(*(c.done() for c in calls)), 120)
            linkedids = [c.linkedid for c in calls]

            async def all_stored() -> bool:
                return (await stored_calls(linkedids))[0] == len(linkedids)

            def sent_counts() -> Counter[str]:
                texts = [digits(c.params.get("text")) for c in api.calls_of("sendMessage")]
                return Counter(n for n in numbers for t in texts if n in t)

            async def all_sent() -> bool:
                return len(sent_counts()) == len(numbers)

            await until(all_stored, 120, "calls stored", step=0.2)
            await until(all_sent, 300, "notifications delivered", step=0.2)
            await rt.telephony.calls.drain()
            await rt.messaging.worker.run_once()  # nothing left that could go out twice
            found, extra = await stored_calls(linkedids)
            counts = sent_counts()
    finally:
        await api.stop()
    seconds = time.monotonic() - started
    note = f"{restarts} restarts (fast and immediate) of a private PostgreSQL"
    return [
        Row(
            "pg-restart-calls", len(linkedids), found, len(linkedids) - found, extra, seconds, note
        ),  # fmt: skip
        Row.of_deliveries(
            "pg-restart-messages",
            len(numbers),
            counts,
            seconds,
            "call notifications through the outbox",
        ),  # fmt: skip
    ]
