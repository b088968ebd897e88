"""The leader of three `centralita run` instances ([cluster] enabled, PostgreSQL) SIGKILLed in
the middle of work that outlives one request (issue 19, item 4):

  leader-kill-import   an import of new clients started on the leader's panel; the leader
                       killed mid-import; another instance marks it interrupted when its lease
                       ends, and it is resumed from that instance's import page. Rows: every
                       row of the file stored once.
  leader-kill-dialer   an auto-dialer list running on the leader; the leader killed while a
                       list call is under way; the new leader finds that call again and goes
                       on. Numbers: each dialed once (the PBX's Originates), none skipped.

The instances are started as tests/daemon/test_cluster_instances.py starts them."""

from __future__ import annotations

import asyncio
import csv
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
from cryptography.fernet import Fernet

from bench.faults_cluster import the_leader
from bench.faults_local import Row, until
from daemon.pbxsim import PbxSimulator
from models.core.clock import SystemClock
from models.core.db import close_db, open_db
from models.schema.users import User
from models.telephony import dialer as dialer_ops
from tests.daemon.test_cli_demo import centralita
from tests.daemon.test_cluster_instances import query, start, stop_all, write_config
from tests.web.conftest import csrf_from, http_login
from tests.web.import_flow import start_import_over_http

PASSWORD = "ana-pass-1234"
LEASE = 3  # [cluster] import_lease_seconds: the bench waits for it, not for 30 s


class Cluster:
    """Three instances on `url` and the PBX simulator; `kill_leader()` SIGKILLs the leader."""

    def __init__(self, url: str, tmp: Path, sim: PbxSimulator, extra: str = "") -> None:
        self.url, self.tmp, self.sim, self.extra = url, tmp, sim, extra
        self.key = Fernet.generate_key().decode()
        self.procs: list[asyncio.subprocess.Process] = []
        self.urls: list[str | None] = []
        self._started = 2  # configs instance0-2.toml, then one more per replacement

    def _config(self, index: int) -> str:
        path = write_config(
            self.tmp, index, self.sim, self.key, cluster_extra=f"import_lease_seconds = {LEASE}\n"
        )
        with Path(path).open("a", encoding="utf-8") as out:
            out.write(self.extra)
        return path

    async def start(self) -> None:
        configs = [self._config(i) for i in range(3)]
        started = await asyncio.gather(*(start(c, self.url, self.tmp) for c in configs))
        self.procs = [proc for proc, _ in started]
        self.urls = [web_url for _, web_url in started]

    async def replace(self, index: int) -> None:
        """A new instance where a killed one was (systemd's Restart=always)."""
        self._started += 1
        config = self._config(self._started)
        self.procs[index], self.urls[index] = await start(config, self.url, self.tmp)

    async def leader(self, session: aiohttp.ClientSession) -> int:
        return await the_leader(session, self.urls)

    async def kill(self, index: int) -> None:
        self.procs[index].send_signal(signal.SIGKILL)
        await self.procs[index].wait()
        self.urls[index] = None

    def alive(self) -> str:
        return next(u for u in self.urls if u is not None)

    async def stop(self) -> None:
        await stop_all(self.procs)


async def _logged_in(url: str) -> aiohttp.ClientSession:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    await http_login(session, url, "ana", PASSWORD)
    return session


async def _resume(url: str, batch_id: int) -> None:
    session = await _logged_in(url)
    try:
        async with session.get(f"{url}/imports/{batch_id}") as resp:
            page = await resp.text()
        if f'action="/imports/{batch_id}/resume"' not in page:
            raise SystemExit(f"import {batch_id}: its page on {url} offers no resume")
        values = {"csrf_token": csrf_from(page)}
        async with session.post(
            f"{url}/imports/{batch_id}/resume", data=values, allow_redirects=False
        ) as resp:
            if resp.status != 303:
                raise SystemExit(f"resume refused ({resp.status}): {await resp.text()}")
    finally:
        await session.close()


async def _status(url: str, batch_id: int) -> tuple[str, str, int]:
    rows = await query(
        url, f"SELECT status, error, processed_rows FROM import_batch WHERE id = {batch_id}"
    )
    return rows[0] if rows else ("", "", 0)


async def leader_kill_import(url: str, rows: int) -> Row:
    started = time.monotonic()
    sim = PbxSimulator(speed=1.0)
    await sim.start()
    with tempfile.TemporaryDirectory(prefix="centralita_faults_") as tmp_name:
        tmp = Path(tmp_name)
        await _init(tmp, url)
        source = tmp / "clientes.csv"
        names = [f"Cliente {n:06d}" for n in range(rows)]
        with source.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["Nombre", "Teléfono"])
            writer.writerows([name, f"+34 6{n:08d}"] for n, name in enumerate(names))
        cluster = Cluster(url, tmp, sim)
        note = "import on the leader's panel; leader SIGKILLed mid-import, resumed on another"
        try:
            await cluster.start()
            async with aiohttp.ClientSession() as probe:
                leader = await cluster.leader(probe)
            leader_url = cluster.urls[leader]
            assert leader_url is not None
            session = await _logged_in(leader_url)
            try:
                batch_id = await start_import_over_http(session, leader_url, source)
            finally:
                await session.close()

            async def some_written() -> bool:
                status, _, done = await _status(url, batch_id)
                return status != "running" or done > 0

            await until(some_written, 60, "the first rows written", step=0.01)
            status, _, before_kill = await _status(url, batch_id)
            if status != "running":
                note = f"the import ended ({status}) before the kill: more rows needed"
            await cluster.kill(leader)
            other = cluster.alive()

            async def interrupted() -> bool:
                return (await _status(url, batch_id))[0] == "failed"

            await until(interrupted, 60 + 3 * LEASE, "the import marked interrupted", step=0.1)
            await _resume(other, batch_id)

            async def done() -> bool:
                return (await _status(url, batch_id))[0] == "done"

            await until(done, 600, "the resumed import done", step=0.2)
            note += f" (row {before_kill} written at the kill)"
            stored = Counter(
                r[0] for r in await query(url, "SELECT name FROM client WHERE import_batch_id > 0")
            )
        finally:
            await cluster.stop()
            await sim.close()
    found = sum(1 for name in names if stored.get(name))
    return Row(
        "leader-kill-import",
        rows,
        found,
        rows - found,
        sum(stored.values()) - found,
        time.monotonic() - started,
        note,
    )


async def _init(tmp: Path, url: str) -> None:
    init = await asyncio.to_thread(
        centralita, tmp, url, "init", "--name", "Acme", "--admin", "ana",
        "--password", PASSWORD, "--extension", "101",
    )  # fmt: skip
    if init.returncode:
        raise SystemExit(init.stderr)


async def leader_kill_dialer(url: str, numbers: int, kills: int) -> Row:
    started = time.monotonic()
    sim = PbxSimulator(speed=1.0)
    await sim.start()
    targets = [f"+3491400{n:04d}" for n in range(numbers)]
    for number in targets:
        sim.script_number(number, "answer", ring=0.5, talk=2)
    with tempfile.TemporaryDirectory(prefix="centralita_faults_") as tmp_name:
        tmp = Path(tmp_name)
        await _init(tmp, url)
        cluster = Cluster(url, tmp, sim, extra="[dialer]\ngap_seconds = 0.3\n")
        bridged: set[str] = set()  # the calls answered so far, by linkedid
        emit = sim.pbx.emit_fields

        def watch(fields):
            event = dict(fields)
            if event.get("Event") == "BridgeEnter":
                bridged.add(event.get("Linkedid", ""))
            emit(fields)

        sim.pbx.emit_fields = watch
        try:
            await cluster.start()
            await open_db(url)
            clock = SystemClock()
            ana = await User.get(username="ana")
            listed = await dialer_ops.create_list(ana, "faults", clock=clock, numbers=targets)
            await dialer_ops.start_list(ana, listed.id, clock=clock)
            await close_db()
            async with aiohttp.ClientSession() as probe:
                for kill in range(kills):
                    leader = await cluster.leader(probe)
                    # Mid-list and mid-call: a list call answered and talking.
                    wanted = (kill + 1) * numbers // (kills + 1)

                    async def mid_call(wanted: int = wanted) -> bool:
                        return len(bridged) >= wanted  # answered, 2 s of talk ahead

                    await until(mid_call, 120, "list calls under way", step=0.01)
                    await cluster.kill(leader)
                    await cluster.leader(probe)  # another instance took over
                    if kill < kills - 1:
                        await cluster.replace(leader)

            async def finished() -> bool:
                rows = await query(url, f"SELECT status FROM dialer_list WHERE id = {listed.id}")
                return bool(rows) and rows[0][0] == "finished"

            await until(finished, 300, "the list finished", step=0.2)
            results = await query(
                url, f"SELECT result FROM dialer_entry WHERE dialer_list_id = {listed.id}"
            )
        finally:
            await cluster.stop()
            await sim.close()
    # The PBX's Originates for the list's numbers (the doctor's own probe names none).
    listed = {n[-9:] for n in targets}
    dialed = Counter(
        a["Exten"][-9:] for a in sim.received("Originate") if a.get("Exten", "")[-9:] in listed
    )
    reached = sum(1 for n in targets if dialed.get(n[-9:]))
    # Lost: a number never dialed, or dialed but left without its answered result.
    lost = numbers - reached + sum(1 for (result,) in results if result != "answered")
    return Row(
        "leader-kill-dialer",
        numbers,
        numbers - lost,
        lost,
        sum(dialed.values()) - reached,
        time.monotonic() - started,
        f"{kills} SIGKILLs of the leader mid-list, a list call talking at each",
    )
