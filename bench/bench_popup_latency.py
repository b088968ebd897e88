"""Pop-up latency: from a ringing event on the hub to the websocket message in an agent's client.

The real web panel (create_app) serves 200 logged-in agents, each with an open /ws socket held
by a separate client process (so the clients' work does not share the server's event loop).
Bursts of 50 calls ring at once, each for a different agent; each CallRang carries its publish
time, and the client measures when the pop-up message arrives. Prints p50/p95/p99/max.

Where the clock starts: by default, the CallRang the calls service publishes on the hub (the
web side alone). With --pbx, the agent's DialBegin leaving the PBX simulator's socket: the
calls then go over TCP through the real AMI link, tracker and calls service (caller lookup in
the database included) before the hub. Target: p99 <= 50 ms.

    python bench/bench_popup_latency.py [--agents 200] [--calls 50] [--rounds 20] [--pbx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp import ClientSession, TCPConnector, WSMsgType, web  # noqa: E402

from bench._common import seed_agents  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.events import CallEnded, CallerCard, CallRang  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.core.settings import Settings, WebSettings  # noqa: E402
from models.people import sessions  # noqa: E402
from models.people import users as user_ops  # noqa: E402
from models.schema.users import User  # noqa: E402
from web.app import create_app  # noqa: E402
from web.keys import SESSIONS  # noqa: E402
from web.security import COOKIE_NAME, SESSION_KEY  # noqa: E402
from web.services import WebServices  # noqa: E402
from web.views.live import LIVE  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# -- the client process: one websocket per agent, latency of every ringing message ---------


async def run_clients(port: int, cookies: list[str], expected: int) -> None:
    arrivals: list[tuple[str, float]] = []
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
                    arrivals.append((data["linkedid"], arrived))
                    if len(arrivals) >= expected:
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
    print(json.dumps(arrivals), flush=True)


# -- the server side ------------------------------------------------------------------------


async def seed(agents: int) -> list[User]:
    agents_list = await seed_agents(agents, 1000)
    # The panel sends everyone to /setup until an admin exists.
    await user_ops.create_user("admin", "bench-password-1", group_name="Admin")
    return agents_list


def _agents_for(users: list[User], burst: int, calls: int) -> list[User]:
    start = burst * calls % len(users)
    return [users[(start + i) % len(users)] for i in range(calls)]


async def ring_burst(
    hub: Hub, users: list[User], burst: int, calls: int, sent: dict[str, float]
) -> None:
    """Hub mode: `calls` CallRang events at once, each for another agent; then they end."""
    ringing = _agents_for(users, burst, calls)
    for i, user in enumerate(ringing):
        card = CallerCard(number=f"+3491100{burst:02d}{i:03d}", name=f"Client {i}")
        linkedid = f"b{burst}-{i}"
        sent[linkedid] = time.time()
        hub.publish(CallRang(linkedid, "in", user.extension or "", user.id, card))
    await hub.drain()
    await asyncio.sleep(0.2)  # let the client drain its sockets between bursts
    for i, user in enumerate(ringing):
        hub.publish(CallEnded(f"b{burst}-{i}", None, user.extension or "", user.id, "missed"))
    await hub.drain()


async def pbx_burst(sim, users: list[User], burst: int, calls: int) -> None:
    """PBX mode: `calls` inbound calls from unknown numbers ring at once, one agent each."""
    started = [
        await sim.inbound_call(
            f"+3462{burst:03d}{i:04d}",
            "900100200",
            [user.extension],
            answer_by=user.extension,
            answer_after=2.0,
            talk=2.0,
        )
        for i, user in enumerate(_agents_for(users, burst, calls))
    ]
    for call in started:
        await call.done()
    await asyncio.sleep(0.3)


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
    sent: dict[str, float] = {}
    on_hub: dict[str, float] = {}
    services = None
    telephony = None
    stack = AsyncExitStack()  # what start_telephony starts
    if args.pbx:
        from daemon.telephony import start_telephony

        # The ringing event leaves the simulator's socket as the agent's DialBegin.
        def on_sent(fields: list[tuple[str, str]]) -> None:
            event = dict(fields)
            if event.get("Event") == "DialBegin" and event.get("Linkedid") not in sent:
                sent[event["Linkedid"]] = time.time()

        sim_settings = settings.model_copy(
            update={"ami": settings.ami.model_copy(update={"simulator_demo": False})}
        )

        async def on_rang(event: CallRang) -> None:
            on_hub.setdefault(event.linkedid, time.time())

        # When each CallRang reached the hub's subscribers: splits the figure in two.
        hub.subscribe("bench-probe", on_rang, CallRang)
        telephony = await start_telephony(
            stack, sim_settings, hub, SystemClock(), simulator_speed=10.0
        )
        telephony.simulator.sent_hook = on_sent
        await telephony.link.wait_ready(10)
        # The panel shares the call path's caller directory, as `centralita run` wires it.
        services = WebServices(callers=telephony.calls.directory)
    app = create_app(settings, hub=hub, clock=SystemClock(), services=services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    codec = app[SESSIONS]
    expires = int((datetime.now(UTC) + timedelta(hours=1)).timestamp())
    cookies = []
    for u in users:  # a server-side session for each agent, its key in the signed cookie
        key, _ = await sessions.open_session(u, datetime.now(UTC), lifetime=timedelta(hours=1))
        cookies.append(codec.dumps({SESSION_KEY: key, "csrf": "bench", "exp": expires}))
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
    to_hub: list[float] = []
    from_hub: list[float] = []
    try:
        assert client.stdout is not None
        await client.stdout.readline()  # "connected"
        while len(relay.sockets) < len(users):  # noqa: ASYNC110  (polling another process)
            if client.returncode is not None:
                raise SystemExit("the client process failed")
            await asyncio.sleep(0.05)
        print(f"{len(users)} agents connected; {args.rounds} bursts of {args.calls} calls")
        for burst in range(args.rounds):
            if telephony is not None:
                await pbx_burst(telephony.simulator, users, burst, args.calls)
            else:
                await ring_burst(hub, users, burst, args.calls, sent)
        out, _ = await asyncio.wait_for(client.communicate(), timeout=120)
        arrivals = json.loads(out.decode().strip().splitlines()[-1])
        latencies = [(at - sent[linkedid]) * 1000 for linkedid, at in arrivals]
        to_hub = [(on_hub[k] - sent[k]) * 1000 for k, _ in arrivals if k in on_hub]
        from_hub = [(at - on_hub[k]) * 1000 for k, at in arrivals if k in on_hub]
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()
        if telephony is not None:
            await stack.aclose()
        await runner.cleanup()
        await hub.close()
    origin = "the simulator's socket (PBX mode)" if args.pbx else "the hub's CallRang"
    print(f"from {origin} to the pop-up message in the agent's websocket client")
    print(
        f"pop-up latency over {len(latencies)} pop-ups ({args.agents} agents connected, "
        f"{args.calls} calls ringing at once):"
    )
    for q in (50, 95, 99):
        print(f"  p{q}: {percentile(latencies, q):7.2f} ms")
    print(f"  max: {max(latencies):7.2f} ms   (target p99 <= 50 ms)")
    if to_hub:
        for name, part in (
            ("socket -> hub (link, tracker, card)", to_hub),
            ("hub -> websocket client (web)", from_hub),
        ):
            print(f"  {name}: p50 {percentile(part, 50):.2f} ms, p99 {percentile(part, 99):.2f} ms")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        port, cookie_path, expected = int(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])
        asyncio.run(run_clients(port, json.loads(cookie_path.read_text()), expected))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--pbx",
        action="store_true",
        help="ring through the PBX simulator, AMI link, tracker and calls service",
    )
    asyncio.run(main(parser.parse_args()))
