"""The leader of three `centralita run` instances ([cluster] enabled, PostgreSQL) SIGKILLed in
the middle of a call while Telegram messages are being sent, R times: each call must be stored
once, each message delivered. The instances are started as tests/daemon/
test_cluster_instances.py starts them (its helpers are imported, not copied)."""

from __future__ import annotations

import asyncio
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from bench.faults_local import Row, until
from bot.delivery import TelegramOutbox
from daemon.pbxsim import PbxSimulator
from models.core.clock import SystemClock
from models.core.db import close_db, open_db
from models.messaging import telegram_links as telegram
from models.schema.users import User
from tests.bot.fake_bot_api import FakeBotApi
from tests.daemon.test_cli_demo import centralita
from tests.daemon.test_cluster_instances import query, roles, start, stop_all, write_config

CHAT = 777_100  # Ana's chat
OTHER_CHAT = 777_900  # where the bench's own messages go, one a second (Telegram's per-chat pace)
Instance = tuple[asyncio.subprocess.Process, str]


def config_for(tmp: Path, index: int, sim: PbxSimulator, key: str, api: FakeBotApi) -> str:
    path = write_config(tmp, index, sim, key)
    with open(path, "a", encoding="utf-8") as out:
        out.write(f'[telegram]\ntoken = "{api.token}"\napi_url = "{api.base_url}"\n')
    return path


async def the_leader(session: aiohttp.ClientSession, urls: list[str | None]) -> int:
    found: list[str] = []

    async def one_leader() -> bool:
        found[:] = await roles(session, urls)
        return found.count("leader") == 1

    await until(one_leader, 30, "one leader", step=0.05)
    return found.index("leader")


async def leader_kill(url: str, kills: int, messages: int) -> list[Row]:
    started = time.monotonic()
    api = FakeBotApi()
    await api.start()
    sim = PbxSimulator(speed=1.0)
    await sim.start()
    procs: list[asyncio.subprocess.Process] = []
    texts: list[str] = []
    linkedids: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="centralita_faults_") as tmp_name:
            tmp = Path(tmp_name)
            init = await asyncio.to_thread(
                centralita, tmp, url, "init", "--name", "Acme", "--admin", "ana",
                "--password", "ana-pass-1234", "--extension", "101",
            )  # fmt: skip
            if init.returncode:
                raise SystemExit(init.stderr)
            await open_db(url)
            clock = SystemClock()
            code = await telegram.create_link_code(await User.get(username="ana"), clock=clock)
            await telegram.link_chat(code, CHAT, clock=clock)
            outbox = TelegramOutbox(clock)
            key = Fernet.generate_key().decode()
            started_three = await asyncio.gather(
                *(start(config_for(tmp, i, sim, key, api), url, tmp) for i in range(3))
            )
            procs.extend(proc for proc, _ in started_three)
            urls: list[str | None] = [web_url for _, web_url in started_three]
            answered = asyncio.Event()
            emit = sim.pbx.emit_fields

            def watch(fields):
                if dict(fields).get("Event") == "BridgeEnter":
                    answered.set()
                emit(fields)

            sim.pbx.emit_fields = watch
            async with aiohttp.ClientSession() as session:
                for round_ in range(kills):
                    leader = await the_leader(session, urls)
                    answered.clear()
                    call = await sim.inbound_call(
                        f"+34 91123{round_:04d}", "900100200", ["101"],
                        answer_by="101", answer_after=0.5, talk=6,
                    )  # fmt: skip
                    linkedids.append(call.linkedid)
                    await asyncio.wait_for(answered.wait(), 15)
                    before = len(api.calls_of("sendMessage"))
                    for n in range(messages):
                        texts.append(f"fault round {round_} message {n}")
                        await outbox.send(OTHER_CHAT, texts[-1])

                    async def sending(before: int = before) -> bool:
                        return len(api.calls_of("sendMessage")) > before

                    await until(sending, 15, "sends under way", step=0.01)
                    procs[leader].send_signal(signal.SIGKILL)  # mid-call, mid-sends
                    await procs[leader].wait()
                    urls[leader] = None
                    await the_leader(session, urls)  # another instance took over
                    await asyncio.wait_for(call.done(), 30)
                    if round_ < kills - 1:  # three instances again for the next round
                        config = config_for(tmp, 3 + round_, sim, key, api)
                        procs[leader], urls[leader] = await start(config, url, tmp)

                async def all_stored() -> bool:
                    rows = await query(url, "SELECT linkedid FROM call")
                    return {r[0] for r in rows} >= set(linkedids)

                def sent() -> Counter[str]:
                    got = [str(c.params.get("text")) for c in api.calls_of("sendMessage")]
                    return Counter(t for t in got if t in set(texts))

                async def all_sent() -> bool:
                    return len(sent()) == len(texts)

                await until(all_stored, 30, "calls stored", step=0.2)
                # A message claimed by the killed leader is due again when its lease (120 s)
                # runs out.
                await until(all_sent, 180, "messages delivered", step=0.2)
            calls = Counter(r[0] for r in await query(url, "SELECT linkedid FROM call"))
            counts = sent()
            await close_db()
    finally:
        await stop_all(procs)
        await sim.close()
        await api.stop()
    seconds = time.monotonic() - started
    found = sum(1 for lid in linkedids if calls.get(lid))
    return [
        Row(
            "leader-kill-calls",
            len(linkedids),
            found,
            len(linkedids) - found,
            sum(calls.values()) - found,
            seconds,
            f"{kills} SIGKILLs of the leader mid-call",
        ),
        Row.of_deliveries(
            "leader-kill-messages",
            len(texts),
            counts,
            seconds,
            "at-least-once: a send in flight at the kill may go twice",
            allowed_doubled=kills,
        ),
    ]
