"""Three `centralita run` on one PostgreSQL (X4): one leader holds the PBX link; killed with
SIGKILL in the middle of a call, another instance takes over within 5 s, resyncs the live
call from the PBX and records it once. PostgreSQL only: the suite's PostgreSQL must answer
(this test fails, not skips, when it does not)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
import uuid

import aiohttp
import asyncpg
import pytest
from cryptography.fernet import Fernet

from daemon.pbxsim import PbxSimulator
from tests.daemon.test_cli_demo import REPO, RUN_MAIN, init_crm
from tests.web.conftest import http_login

PG = os.environ.get("CENTRALITA_TEST_DB", "")
PG = PG if PG.startswith("postgres") else "postgres://postgres@127.0.0.1:5432/test"
pytestmark = pytest.mark.postgres_only  # on PG whatever the pass: run once, in its pass


@pytest.fixture
async def cluster_db():
    admin_dsn = PG.replace("postgres://", "postgresql://", 1)
    name = f"centralita_cluster_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{PG.rsplit('/', 1)[0]}/{name}"
    yield url
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def query(url: str, sql: str) -> list[tuple]:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


def write_config(
    tmp_path, index: int, sim: PbxSimulator, key: str, web_extra: str = "", cluster_extra: str = ""
) -> str:
    path = tmp_path / f"instance{index}.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f"[web]\nport = 0\n{web_extra}"
        f'secret_key = "cluster-test-secret-key-{"x" * 20}"\n'
        f'[ami]\nhost = "127.0.0.1"\nport = {sim.port}\n'
        f'username = "{sim.username}"\nsecret = "{sim.secret}"\n'
        "action_timeout = 2.0\nping_interval = 2.0\nreconnect_max_delay = 1.0\n"
        f"[cluster]\nenabled = true\n{cluster_extra}"
        f'[security]\nencryption_key = "{key}"\n',
        encoding="utf-8",
    )
    return str(path)


async def start(config: str, url: str, tmp_path) -> tuple[asyncio.subprocess.Process, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENTRALITA_")}
    env.update({"CENTRALITA_DATABASE__URL": url, "PYTHONPATH": str(REPO)})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_MAIN,
        "--config",
        config,
        "run",
        stdout=asyncio.subprocess.PIPE,
        stderr=open(f"{config}.log", "ab"),  # noqa: SIM115,ASYNC230 (the child's log)
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 90)).decode()
    assert "is running: http://" in line, line
    return proc, line.split("is running: ", 1)[1].split()[0]


async def roles(session: aiohttp.ClientSession, urls: list[str | None]) -> list[str]:
    found = []
    for url in urls:
        if url is None:
            found.append("dead")
            continue
        try:
            async with session.get(url + "/healthz") as answer:
                found.append((await answer.json()).get("role", "?"))
        except aiohttp.ClientError:
            found.append("down")
    return found


async def until(predicate, within: float, step: float = 0.1):
    end = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError("not reached in time")
        await asyncio.sleep(step)


async def stop_all(procs: list[asyncio.subprocess.Process]) -> None:
    """SIGTERM to every instance still running, SIGKILL to one that does not stop in 30 s."""
    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        if proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def test_the_leader_killed_mid_call_is_replaced_and_the_call_is_recorded_once(
    tmp_path, cluster_db
):
    url = cluster_db
    sim = PbxSimulator(speed=1.0)
    await sim.start()
    procs: list[asyncio.subprocess.Process] = []
    try:
        await init_crm(tmp_path, url, "101")
        key = Fernet.generate_key().decode()
        urls: list[str | None] = []
        for i in range(3):
            proc, web_url = await start(write_config(tmp_path, i, sim, key), url, tmp_path)
            procs.append(proc)
            urls.append(web_url)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:

            async def one_leader():
                found = await roles(session, urls)
                return found if found.count("leader") == 1 else None

            leader = (await until(one_leader, 30)).index("leader")
            followers = [u for i, u in enumerate(urls) if i != leader]
            # Ana's browser is on a follower: the leader's pop-up must reach it.
            await http_login(session, followers[0], "ana", "ana-pass-1234")
            ws = await session.ws_connect(followers[0] + "/ws", origin=followers[0])
            await ws.send_str("ping")
            assert (await ws.receive_json(timeout=30))["type"] == "pong"
            answered = asyncio.Event()
            originated: list[str] = []
            emit = sim.pbx.emit_fields

            def watch(fields):
                name = dict(fields).get("Event")
                if name == "BridgeEnter":
                    answered.set()
                emit(fields)

            place = sim.scripts.originate

            def count_originate(action, respond):
                originated.append(action.get("Exten"))
                return place(action, respond)

            sim.scripts.originate = count_originate

            sim.pbx.emit_fields = watch
            call = await sim.inbound_call(
                "+34911234567", "900100200", ["101"], answer_by="101", answer_after=0.5, talk=8
            )
            while True:  # the pop-up, on the follower's socket
                message = await ws.receive_json(timeout=30)
                if message.get("type") == "ringing" and "911234567" in json.dumps(message):
                    break
            await asyncio.wait_for(answered.wait(), 10)
            procs[leader].send_signal(signal.SIGKILL)
            await procs[leader].wait()
            killed_at = time.monotonic()
            urls[leader] = None

            async def new_leader():
                found = await roles(session, urls)
                return found if found.count("leader") == 1 else None

            await until(new_leader, 10, step=0.05)
            takeover = time.monotonic() - killed_at
            assert takeover <= 5.0, f"takeover took {takeover:.1f} s"
            await asyncio.wait_for(call.done(), 30)

            async def stored():
                rows = await query(url, "SELECT linkedid, direction, answered_at FROM call")
                return rows or None

            rows = await until(stored, 15)
            assert len(rows) == 1 and rows[0][0] == call.linkedid
            assert rows[0][1] == "in" and rows[0][2] is not None
            # Still one a moment later: the dead leader left no second copy behind.
            assert len(await query(url, "SELECT id FROM call")) == 1
            # A click-to-call asked on the follower goes to the new leader's PBX link, once.
            async with session.get(followers[0] + "/") as page:
                html = await page.text()
            token = html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            async with session.post(
                followers[0] + "/api/calls/originate",
                json={"number": "+34600111222"},
                headers={"X-CSRF-Token": token},
            ) as answer:
                assert answer.status == 202, await answer.text()
            await until(lambda: asyncio.sleep(0, originated), 15)
            await ws.close()
            assert len(originated) == 1  # the PBX got one Originate
    finally:
        await stop_all(procs)
        await sim.close()
