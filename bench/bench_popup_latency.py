"""Pop-up latency: from a ringing event on the hub to the websocket message in an agent's client.

The real web panel (create_app) serves 200 logged-in agents, each with an open /ws socket held
by a separate client process (so the clients' work does not share the server's event loop).
Bursts of 50 calls ring at once, each for a different agent; each CallRang carries its publish
time, and the client measures when the pop-up message arrives. Prints p50/p95/p99/max.

Where the clock starts: the hub event the call tracker publishes for a ringing agent (the
tracker's AMI parsing is measured by bench_tracker.py). Target: p99 <= 50 ms.

    python bench/bench_popup_latency.py [--agents 200] [--calls 50] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector, WSMsgType, web  # noqa: E402

from models import users as user_ops  # noqa: E402
from models.clock import SystemClock  # noqa: E402
from models.db import close_db, open_db  # noqa: E402
from models.events import CallEnded, CallerCard, CallRang  # noqa: E402
from models.hub import Hub  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402
from models.schema.users import Group, User  # noqa: E402
from models.settings import Settings, WebSettings  # noqa: E402
from web.app import create_app  # noqa: E402
from web.keys import SESSIONS  # noqa: E402
from web.security import COOKIE_NAME, password_mark  # noqa: E402
from web.views.live import LIVE  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# -- the client process: one websocket per agent, latency of every ringing message ---------


async def run_clients(port: int, cookies: list[str], expected: int) -> None:
    latencies: list[float] = []
    done = asyncio.Event()

    async def agent(session: ClientSession, cookie: str) -> None:
        headers = {"Cookie": f"{COOKIE_NAME}={cookie}"}
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws", headers=headers) as ws:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                arrived = time.time()
                data = json.loads(msg.data)
                if data.get("type") == "ringing":
                    sent = datetime.fromisoformat(data["started_at"]).timestamp()
                    latencies.append((arrived - sent) * 1000)
                    if len(latencies) >= expected:
                        done.set()

    async with ClientSession(connector=TCPConnector(limit=0)) as session:  # one socket each
        tasks = [asyncio.create_task(agent(session, c), name="bench-agent") for c in cookies]
        print("connected", flush=True)
        waiter = asyncio.create_task(done.wait(), name="bench-done")
        finished, _ = await asyncio.wait(
            [waiter, *tasks], timeout=600, return_when=asyncio.FIRST_COMPLETED
        )
        for task in finished:
            if task is not waiter and task.exception() is not None:
                print(f"an agent's socket failed: {task.exception()!r}", file=sys.stderr)
                sys.exit(1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(latencies), flush=True)


# -- the server side ------------------------------------------------------------------------


async def seed(agents: int) -> list[User]:
    await user_ops.ensure_standard_groups()
    await Company.create(name="Bench", default_currency="EUR", default_region="ES")
    await TelephonySettings.create()
    group = await Group.get(name="Agent")
    # One real password hash shared by all: argon2 per user would dominate the set-up.
    hashed = user_ops.hash_password("bench-password-1")
    await User.bulk_create(
        [
            User(username=f"agent{i}", password_hash=hashed, extension=str(1000 + i), group=group)
            for i in range(agents)
        ]
    )
    agents_list = list(await User.all().order_by("id"))
    # The panel sends everyone to /setup until an admin exists.
    await user_ops.create_user("admin", "bench-password-1", group_name="Admin")
    return agents_list


async def ring_burst(hub: Hub, users: list[User], burst: int, calls: int) -> None:
    """`calls` calls ring at once, each for another agent; then they end."""
    start = burst * calls % len(users)
    ringing = [users[(start + i) % len(users)] for i in range(calls)]
    for i, user in enumerate(ringing):
        card = CallerCard(number=f"+3491100{burst:02d}{i:03d}", name=f"Client {i}")
        at = datetime.now(UTC)
        hub.publish(CallRang(f"b{burst}-{i}", "in", user.extension or "", user.id, card, at=at))
    await hub.drain()
    await asyncio.sleep(0.2)  # let the client drain its sockets between bursts
    for i, user in enumerate(ringing):
        hub.publish(CallEnded(f"b{burst}-{i}", None, user.extension or "", user.id, "missed"))
    await hub.drain()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="centralita_popup_") as tmp:
        await open_db(f"sqlite://{Path(tmp) / 'bench.sqlite3'}")
        try:
            await measure(args, Path(tmp))
        finally:
            await close_db()


async def measure(args: argparse.Namespace, tmp: Path) -> None:
    users = await seed(args.agents)
    hub = Hub()
    settings = Settings(data_dir=tmp, web=WebSettings(secret_key="bench-" + "x" * 40))
    app = create_app(settings, hub=hub, clock=SystemClock())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    codec = app[SESSIONS]
    expires = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    cookies = [
        codec.dumps(
            {"uid": u.id, "pw": password_mark(u.password_hash), "csrf": "bench", "exp": expires}
        )
        for u in users
    ]
    expected = args.calls * args.rounds
    cookie_file = tmp / "cookies.json"
    cookie_file.write_text(json.dumps(cookies))
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        str(port),
        str(cookie_file),
        str(expected),
        stdout=asyncio.subprocess.PIPE,
    )
    relay = app[LIVE]
    try:
        assert client.stdout is not None
        await client.stdout.readline()  # "connected"
        while len(relay.sockets) < len(users):  # noqa: ASYNC110  (polling another process)
            if client.returncode is not None:
                raise SystemExit("the client process failed")
            await asyncio.sleep(0.05)
        print(f"{len(users)} agents connected; {args.rounds} bursts of {args.calls} calls")
        for burst in range(args.rounds):
            await ring_burst(hub, users, burst, args.calls)
        out, _ = await asyncio.wait_for(client.communicate(), timeout=120)
        latencies = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
        await runner.cleanup()
        await hub.close()
    print(
        f"pop-up latency over {len(latencies)} pop-ups ({args.agents} agents connected, "
        f"{args.calls} calls ringing at once):"
    )
    for q in (50, 95, 99):
        print(f"  p{q}: {percentile(latencies, q):7.2f} ms")
    print(f"  max: {max(latencies):7.2f} ms   (target p99 <= 50 ms)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, cookie_path, expected = int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
        asyncio.run(run_clients(port, json.loads(cookie_path.read_text()), expected))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
