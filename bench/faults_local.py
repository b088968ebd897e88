"""Fault scenarios on one `centralita run` in this process (daemon.app.start with the built-in
PBX simulator): the AMI link cut during calls, the Bot API failing, the SMTP server down,
PostgreSQL connections killed. Each returns a `Row` of what was made and what arrived."""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiosmtpd.controller import Controller

from bench._common import dsn, seed_agents
from daemon import app as root
from daemon.pbxsim.calls import SimCall
from models.core.clock import SystemClock
from models.core.db import close_db, open_db
from models.core.settings import Settings
from models.messaging import telegram_links as telegram
from models.messaging.mail import OutgoingEmail, queue_email
from models.schema.calls import Call
from tests.bot.fake_bot_api import Failure, FakeBotApi
from tests.smtp_server import start_smtp

DID = "900100200"
CHAT = 777_101


@dataclass
class Row:
    """One line of the table: `made` things, `recorded` arrived; lost and doubled should be 0
    (`allowed_doubled` is an honest bound where at-least-once is the promise)."""

    scenario: str
    made: int
    recorded: int
    lost: int
    doubled: int
    seconds: float
    note: str = ""
    allowed_doubled: int = 0

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.doubled <= self.allowed_doubled

    @classmethod
    def of_deliveries(
        cls, scenario: str, made: int, arrived: Counter[str], seconds: float, note: str,
        allowed_doubled: int = 0,
    ) -> Row:  # fmt: skip
        """`made` things sent, `arrived` counting each by how many times it arrived."""
        return cls(
            scenario, made, len(arrived), made - len(arrived),
            sum(v - 1 for v in arrived.values()), seconds, note, allowed_doubled,
        )  # fmt: skip


def digits(text: Any) -> str:
    return re.sub(r"\D", "", str(text))


async def until(predicate, within: float, what: str, step: float = 0.05) -> None:
    """Wait until the async `predicate` is true; a bench that waits for ever helps nobody."""
    end = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > end:
            print(f"  (gave up waiting: {what})", flush=True)
            return
        await asyncio.sleep(step)


async def stored_calls(linkedids: list[str]) -> tuple[int, int]:
    """(calls stored once of `linkedids`, extra rows): the call table against the PBX's calls."""
    for attempt in range(50):  # the database may be coming back (pg-kill)
        try:
            rows = await Call.all().values_list("linkedid", flat=True)
            break
        except Exception:
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)
    counts = Counter(rows)
    found = sum(1 for lid in set(linkedids) if counts.get(lid, 0) >= 1)
    return found, len(rows) - found


@asynccontextmanager
async def running(url: str, speed: float, **sections: Any) -> AsyncIterator[root.Runtime]:
    """A fresh database with agents 100-102 (Luis, 101, linked to a Telegram chat when a bot
    is configured) and `centralita run` on it with the simulator at `speed`."""
    await open_db(url)
    try:
        agents = await seed_agents(3, 100)
        if "telegram" in sections:
            code = await telegram.create_link_code(agents[1], clock=SystemClock())
            await telegram.link_chat(code, CHAT, clock=SystemClock())
        with tempfile.TemporaryDirectory(prefix="centralita_faults_") as tmp:
            settings = Settings.model_validate(
                {
                    "data_dir": tmp,
                    "database": {"url": url},
                    "web": {"port": 0},
                    "ami": {"simulator_demo": False, "reconnect_max_delay": 1.0},
                    **sections,
                }
            )
            rt = await root.start(settings, simulator_speed=speed, open_database=False)
            try:
                await rt.telephony.link.wait_ready(10)
                yield rt
            finally:
                await root.stop(rt)
    finally:
        await close_db()


def answered_watch(rt: root.Runtime) -> asyncio.Event:
    """An event set at each BridgeEnter the simulator emits (a call was answered)."""
    sim = rt.telephony.simulator
    assert sim is not None
    answered = asyncio.Event()
    emit = sim.pbx.emit_fields

    def watch(fields):
        if dict(fields).get("Event") == "BridgeEnter":
            answered.set()
        emit(fields)

    sim.pbx.emit_fields = watch
    return answered


async def ami_link_cut(url: str, cuts: int) -> Row:
    """Cut the AMI link `cuts` times, each with a call in progress (ringing or talking)."""
    started = time.monotonic()
    async with running(url, speed=20) as rt:
        sim = rt.telephony.simulator
        assert sim is not None
        answered = answered_watch(rt)
        calls: list[SimCall] = []
        for n in range(cuts):
            answered.clear()
            call = await sim.inbound_call(
                f"+34 6004{n:05d}", DID, ["101", "102"], answer_by="101", answer_after=2, talk=60
            )
            calls.append(call)
            if n % 2:  # every other cut while it talks, the rest while it rings
                await asyncio.wait_for(answered.wait(), 10)
            else:
                await asyncio.wait_for(call.started.wait(), 10)
            await sim.drop_clients()
            await rt.telephony.link.wait_ready(15)
        await asyncio.wait_for(asyncio.gather(*(c.done() for c in calls)), 60)
        linkedids = [c.linkedid for c in calls]

        async def all_stored() -> bool:
            return (await stored_calls(linkedids))[0] == len(linkedids)

        await until(all_stored, 30, "calls stored")
        await rt.telephony.calls.drain()
        found, extra = await stored_calls(linkedids)
    return Row(
        "ami-link-cut",
        len(calls),
        found,
        len(calls) - found,
        extra,
        time.monotonic() - started,
        f"{cuts} cuts, a call ringing or talking at each",
    )


async def bot_api_outage(url: str, seconds: float, messages: int) -> Row:
    """The Bot API answers sendMessage with 429 (retry_after) and 5xx for `seconds` while
    `messages` call notifications for Luis are queued; each must arrive once afterwards."""
    started = time.monotonic()
    api = FakeBotApi()
    await api.start()
    try:
        async with running(
            url, speed=50, telegram={"token": api.token, "api_url": api.base_url}
        ) as rt:
            sim = rt.telephony.simulator
            assert sim is not None
            api.fail_for(
                "sendMessage",
                seconds,
                [
                    Failure(429, "Too Many Requests: retry after 2", retry_after=2),
                    Failure(502, "Bad Gateway"),
                    Failure(500, "Internal Server Error"),
                ],
            )
            numbers = [f"34600{5000 + n:04d}{n % 10}" for n in range(messages)]
            calls = [
                await sim.inbound_call(f"+{number}", DID, ["101"], answer_by="101", talk=5)
                for number in numbers
            ]
            await asyncio.wait_for(asyncio.gather(*(c.done() for c in calls)), 60)

            def sent_counts() -> Counter[str]:
                texts = [digits(c.params.get("text")) for c in api.calls_of("sendMessage")]
                return Counter(n for n in numbers for t in texts if n in t)

            async def all_sent() -> bool:
                return len(sent_counts()) == len(numbers)

            await until(all_sent, seconds + 300, "messages delivered")
            await rt.messaging.worker.run_once()  # nothing left that could go out twice
            counts = sent_counts()
            refused = sum(1 for c in api.calls if c.method == "sendMessage" and c.status != 200)
    finally:
        await api.stop()
    return Row(
        "bot-api-429-5xx",
        messages,
        len(counts),
        messages - len(counts),
        sum(v - 1 for v in counts.values()),
        time.monotonic() - started,
        f"{seconds:g} s outage, {refused} refused answers",
    )


async def smtp_down(url: str, seconds: float, mails: int) -> Row:
    """The SMTP server is down for `seconds` while `mails` emails are queued in the outbox."""
    started = time.monotonic()
    smtp, controller = start_smtp()
    mail = {
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "from_address": "crm@example.com",
    }
    try:
        async with running(url, speed=50, mail=mail) as rt:
            controller.stop()  # down: connections refused
            clock = SystemClock()
            subjects = [f"Invitation {n}" for n in range(mails)]
            for n, subject in enumerate(subjects):
                text = "Join the team in Centralita."
                await queue_email(OutgoingEmail(f"user{n}@example.com", subject, text), clock=clock)
            rt.messaging.worker.wake()
            await asyncio.sleep(seconds)  # the outage itself: the bench's knob
            controller = Controller(smtp, hostname="127.0.0.1", port=smtp.port)
            controller.start()

            def received() -> Counter[str]:
                return Counter(str(r.message["Subject"]) for r in list(smtp.received))

            async def all_received() -> bool:
                return len(received()) == mails

            await until(all_received, 300, "emails received")
            await rt.messaging.worker.run_once()
            counts = received()
    finally:
        controller.stop()
    return Row(
        "smtp-down",
        mails,
        len(counts),
        mails - len(counts),
        sum(v - 1 for v in counts.values()),
        time.monotonic() - started,
        f"{seconds:g} s down",
    )


async def kill_backends(url: str) -> int:
    """What a PostgreSQL restart looks like to its clients: every other connection dropped."""
    conn = await asyncpg.connect(dsn(url))
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return len(rows)
    finally:
        await conn.close()


async def pg_connections_killed(url: str, kills: int, calls_per_kill: int) -> Row:
    """During calls on one instance, PostgreSQL drops every connection `kills` times."""
    started = time.monotonic()
    killed = 0
    async with running(url, speed=20) as rt:
        sim = rt.telephony.simulator
        assert sim is not None
        calls: list[SimCall] = []
        for k in range(kills):
            for n in range(calls_per_kill):
                calls.append(
                    await sim.inbound_call(
                        f"+34 6007{k:02d}{n:03d}",
                        DID,
                        ["101", "102"],
                        answer_by="102",
                        answer_after=1,
                        talk=10 + 10 * n,
                    )
                )
            await asyncio.wait_for(calls[-1].started.wait(), 10)
            killed += await kill_backends(url)
            await asyncio.wait_for(calls[-calls_per_kill].done(), 30)
        await asyncio.wait_for(asyncio.gather(*(c.done() for c in calls)), 60)
        linkedids = [c.linkedid for c in calls]

        async def all_stored() -> bool:
            return (await stored_calls(linkedids))[0] == len(linkedids)

        await until(all_stored, 60, "calls stored", step=0.2)
        await rt.telephony.calls.drain()
        found, extra = await stored_calls(linkedids)
    return Row(
        "pg-connections-killed",
        len(calls),
        found,
        len(calls) - found,
        extra,
        time.monotonic() - started,
        f"{kills} kills, {killed} connections",
    )
