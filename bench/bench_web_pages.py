"""Server time of the panel's heaviest pages on a demo-data database, and client-list throughput.

    python bench/bench_web_pages.py --clients 100000 --backend sqlite        # a quick look
    python bench/bench_web_pages.py --clients 1000000 --deals 200000 --calls 2000000   # issue 4
    python bench/bench_web_pages.py --backend sqlite --sqlite /tmp/demo_1m.sqlite3 --reuse

Loads `centralita demo-data` into a private database (or reuses one kept by
bench_demo_data.py), starts the real app from web.app.create_app on a loopback port, logs in
as an admin (who sees everything: the largest lists) and times, per request, the server's
own time (a timing middleware in front of all others) for:
- the dashboard (every widget's figures),
- the client list (first page, newest first, with its total),
- a search by the last 4 digits of an existing phone,
- the deals kanban,
- the dashboard and the kanban of the demo agent with the most tasks (an agent's dashboard
  counts their own tasks and calls; the admin above has none).
Target: p95 at most 100 ms each. Then a load generator (N concurrent keep-alive clients)
hits the client list and, for the limit, a bare aiohttp handler in the same process on
the same machine, and prints requests per second of each and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bench._common import (  # noqa: E402
    add_database_arguments,
    bench_database,
    percentile,
    run_each_backend,
    top_up_demo_data,
)
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.core.settings import Settings, WebSettings  # noqa: E402
from models.people import users as user_ops  # noqa: E402
from models.schema.clients import Client, Phone  # noqa: E402
from models.schema.users import User  # noqa: E402
from web.app import create_app  # noqa: E402

BENCH_USER = "bench-admin"
BENCH_PASSWORD = "bench-password-1"
AGENT_PASSWORD = "bench-agent-password-1"


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


async def _login(
    session: aiohttp.ClientSession,
    url: str,
    username: str = BENCH_USER,
    password: str = BENCH_PASSWORD,
) -> None:
    async with session.get(f"{url}/login") as resp:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await resp.text()).group(1)
    data = {"username": username, "password": password, "csrf_token": token}
    async with session.post(f"{url}/login", data=data, allow_redirects=False) as resp:
        assert resp.status == 303, resp.status


async def _load(url: str, path: str, seconds: float, concurrency: int, cookies=None) -> float:
    """Requests per second of `path` under `concurrency` keep-alive clients."""
    done = 0
    stop = time.perf_counter() + seconds
    jar = aiohttp.CookieJar(unsafe=True)
    if cookies:
        jar.update_cookies(cookies)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as session:

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                async with session.get(f"{url}{path}") as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)


async def run(backend: str, args: argparse.Namespace) -> None:
    async with bench_database(backend, args) as url:
        await open_db(url)
        try:
            await top_up_demo_data(backend, args.clients, deals=args.deals, calls=args.calls)
            if not await User.filter(username=BENCH_USER).exists():
                await user_ops.create_user(BENCH_USER, BENCH_PASSWORD, group_name="Admin")
            phones = (
                await Phone.filter(client_id__isnull=False)
                .limit(2000)
                .values_list("digits_rev", flat=True)
            )
            tails = [rev[:4][::-1] for rev in phones if len(rev) >= 4]
            agent = await _busiest_agent()
            await _measure(backend, args, tails, agent)
        finally:
            await close_db()


async def _request_pages(
    url: str, pages: dict, requests: int, username: str, password: str
) -> dict[str, str]:
    """Each page `requests` times (after 10 untimed warm-up requests) as this user, labelled
    for the timing middleware; returns the session's cookies."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        await _login(session, url, username, password)
        for label, make_path in pages.items():
            for i in range(requests + 10):
                headers = {"X-Bench": label if i >= 10 else ""}
                async with session.get(f"{url}{make_path()}", headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, (label, resp.status)
        return {c.key: c.value for c in session.cookie_jar}


async def _busiest_agent() -> str:
    """The demo agent with the most tasks: their dashboard counts the most rows."""
    from tortoise import connections

    rows = await connections.get("default").execute_query_dict(
        'SELECT u.username AS name, COUNT(*) AS n FROM "task_assignee" a '
        'JOIN "crm_user" u ON u.id = a.user_id GROUP BY u.username ORDER BY n DESC LIMIT 1'
    )
    if not rows:
        return ""
    user = await User.get(username=rows[0]["name"])
    await user_ops.set_password(user, AGENT_PASSWORD)  # only in the benchmark's database
    print(f"agent pages as {user.username} ({rows[0]['n']:,} tasks)", flush=True)
    return user.username


async def _measure(backend: str, args: argparse.Namespace, tails: list[str], agent: str) -> None:
    settings = Settings(
        data_dir=Path(args.data_dir),
        web=WebSettings(secret_key=SecretStr("bench-" + "k" * 40), login_attempts_per_minute=100),
    )
    app = create_app(settings, hub=Hub(), clock=SystemClock())
    timings: dict[str, list[float]] = {}

    @web.middleware
    async def timing(request: web.Request, handler):
        started = time.perf_counter()
        response = await handler(request)
        label = request.get("bench_label")
        if label is None:
            label = request.headers.get("X-Bench", "")
        if label:
            timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
        return response

    app.middlewares.insert(0, timing)
    runner, url = await _serve(app)
    rng = random.Random(1)
    pages = {
        "dashboard": lambda: "/",
        "client list": lambda: "/clients",
        "search by last 4 digits": lambda: f"/clients?q={rng.choice(tails)}",
        "deals kanban": lambda: "/deals",
    }
    try:
        cookies = await _request_pages(url, pages, args.requests, BENCH_USER, BENCH_PASSWORD)
        if agent:
            agent_pages = {"agent dashboard": lambda: "/", "agent kanban": lambda: "/deals"}
            pages.update(agent_pages)
            await _request_pages(url, agent_pages, args.requests, agent, AGENT_PASSWORD)
        clients = await Client.all().count()
        load = os.getloadavg()[0]
        print(
            f"{backend}: {clients:,} clients, {args.requests} requests per page, server time "
            f"(load average {load:.1f} on {os.cpu_count()} cores)"
        )
        for label in pages:
            values = timings[label]
            p50, p95 = percentile(values, 50), percentile(values, 95)
            verdict = "ok" if p95 <= 100 else "MISSED"
            print(
                f"  {label:26s} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (target p95 <= 100 ms: "
                f"{verdict})",
                flush=True,
            )
        list_rps = await _load(url, "/clients", args.seconds, args.concurrency, cookies)
    finally:
        await runner.cleanup()

    async def bare(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    bare_app = web.Application()
    bare_app.router.add_get("/", bare)
    bare_runner, bare_url = await _serve(bare_app)
    try:
        bare_rps = await _load(bare_url, "/", args.seconds, args.concurrency)
    finally:
        await bare_runner.cleanup()
    print(f"  load: {args.concurrency} clients for {args.seconds:.0f} s each")
    print(f"  client list page   {list_rps:8.0f} requests/s")
    print(f"  bare aiohttp page  {bare_rps:8.0f} requests/s")
    print(f"  => ratio {list_rps / bare_rps:.3f} of a bare handler", flush=True)


def _child(backend: str, args: argparse.Namespace) -> None:
    asyncio.run(run(backend, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=None, help="default: clients / 5")
    parser.add_argument("--calls", type=int, default=None, help="default: as many as clients")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument("--seconds", type=float, default=10.0, help="load test duration")
    parser.add_argument("--concurrency", type=int, default=16)
    add_database_arguments(parser)
    parser.add_argument("--data-dir", default="/tmp/centralita-bench-web")
    run_each_backend(_child, parser.parse_args())


if __name__ == "__main__":
    main()
