"""`GET /api/v1/clients` at a million clients (issue 18): p95 per case, and its ratio to a
bare aiohttp handler measured in the same run.

    python bench/api_clients.py --clients 20000 --backend sqlite        # a quick look
    python bench/api_clients.py                                          # 1,000,000, both databases
    python bench/api_clients.py --sqlite /tmp/demo_1m.sqlite3 --pg-db centralita_bench_1m --reuse

Loads `centralita demo-data` into a private database (or reuses one kept by
bench_demo_data.py / bench_web_pages.py), starts the real app (web.app.create_app) on a
loopback port and calls the API with a read token of an admin (who sees every client) and of
the demo agent with the most tasks (who sees their own clients and nobody's). Per case, after
10 untimed calls, N calls one after another on one keep-alive connection:
- the first page (newest first, 50 clients with their phones, emails and tags),
- the fifth page, reached with the cursor the fourth one gave,
- the first and the fifth page sorted by name, and a page from a name cursor mid-list,
- a filter (status=potential).
Each is timed twice: the server's own time (a middleware in front of all others) and the
round trip seen by the caller. The same caller then times a bare aiohttp handler answering a
small JSON document, in the same process; the ratio is the case's round-trip p95 to the bare
handler's. Target: p95 at most 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
from bench.bench_web_pages import BENCH_PASSWORD, BENCH_USER, _busiest_agent, _serve  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.hub import Hub  # noqa: E402
from models.core.settings import Settings, WebSettings  # noqa: E402
from models.people import api_tokens  # noqa: E402
from models.people import users as user_ops  # noqa: E402
from models.schema.clients import Client  # noqa: E402
from models.schema.users import User  # noqa: E402
from web.api.paging import Order, _encode  # noqa: E402
from web.app import create_app  # noqa: E402

TARGET_MS = 50.0
PAGES_IN = 5  # the page reached with a cursor


async def run(backend: str, args: argparse.Namespace) -> None:
    async with bench_database(backend, args) as url:
        await open_db(url)
        try:
            await top_up_demo_data(backend, args.clients, deals=args.deals, calls=args.calls)
            if not await User.filter(username=BENCH_USER).exists():
                await user_ops.create_user(BENCH_USER, BENCH_PASSWORD, group_name="Admin")
            clock = SystemClock()
            tokens = {"admin": await _token(BENCH_USER, clock)}
            agent = await _busiest_agent()
            if agent:
                user = await User.get(username=agent)
                mine = await Client.filter(responsible_id=user.id).count()
                nobody = await Client.filter(responsible_id__isnull=True).count()
                print(f"  {agent} sees {mine:,} own clients and {nobody:,} of nobody", flush=True)
                tokens["agent"] = await _token(agent, clock)
            await _measure(backend, args, tokens)
        finally:
            await close_db()


async def _token(username: str, clock: SystemClock) -> str:
    user = await User.get(username=username)
    _, plain = await api_tokens.create_token(user, name="bench", scope="read", clock=clock)
    return plain


async def _middle_cursor() -> str:
    """A name-sort cursor at the client whose id is half the largest: somewhere mid-list,
    as a program paging through every client gets to (the cursor the API itself makes)."""
    top = await Client.all().order_by("-id").first().values_list("id", flat=True)
    row = await Client.filter(id__lte=int(top or 0) // 2).order_by("-id").first()
    assert row is not None
    return _encode(row, Order("name_key", descending=False))


async def _call(session: aiohttp.ClientSession, url: str, label: str = "") -> tuple[float, dict]:
    """(round trip in ms, decoded body) of one GET, labelled for the timing middleware."""
    started = time.perf_counter()
    async with session.get(url, headers={"X-Bench": label}) as resp:
        body = await resp.json()
        assert resp.status == 200, (url, resp.status, body)
    return (time.perf_counter() - started) * 1000, body


async def _cursor_after(session: aiohttp.ClientSession, url: str, pages: int) -> str:
    """The cursor that leads to page `pages + 1` of the list at `url`."""
    cursor = ""
    for _ in range(pages):
        _, body = await _call(session, url + (f"&cursor={cursor}" if cursor else ""))
        cursor = body["next_cursor"]
        assert cursor, f"{url} has fewer than {pages + 1} pages"
    return cursor


async def _time_case(session, url: str, label: str, requests: int) -> list[float]:
    for _ in range(10):
        await _call(session, url)
    return [(await _call(session, url, label))[0] for _ in range(requests)]


def _line(label: str, server: list[float], trip: list[float], bare_p95: float | None) -> str:
    p50, p95, p99 = (percentile(server, q) for q in (50, 95, 99))
    trip_p95 = percentile(trip, 95)
    ratio = f"  ratio {trip_p95 / bare_p95:6.1f}" if bare_p95 else ""
    verdict = "ok" if p95 <= TARGET_MS else "MISSED"
    return (
        f"  {label:34s} p50 {p50:7.1f}  p95 {p95:7.1f}  p99 {p99:7.1f} ms   round trip p95 "
        f"{trip_p95:7.1f} ms{ratio}  ({verdict})"
    )


async def _measure(backend: str, args: argparse.Namespace, tokens: dict[str, str]) -> None:
    settings = Settings(
        data_dir=Path(args.data_dir),
        web=WebSettings(secret_key=SecretStr("bench-" + "k" * 40), api_calls_per_minute=1_000_000),
    )
    app = create_app(settings, hub=Hub(), clock=SystemClock())
    server_ms: dict[str, list[float]] = {}

    @web.middleware
    async def timing(request: web.Request, handler):
        started = time.perf_counter()
        response = await handler(request)
        label = request.headers.get("X-Bench", "")
        if label:
            server_ms.setdefault(label, []).append((time.perf_counter() - started) * 1000)
        return response

    app.middlewares.insert(0, timing)
    runner, base = await _serve(app)
    trips: dict[str, list[float]] = {}
    middle = await _middle_cursor()
    list_url = f"{base}/api/v1/clients?limit=50"
    try:
        for who, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(headers=headers) as session:
                by_id = await _cursor_after(session, list_url, PAGES_IN - 1)
                by_name_url = f"{list_url}&sort=name"
                by_name = await _cursor_after(session, by_name_url, PAGES_IN - 1)
                cases = {
                    "first page": list_url,
                    f"page {PAGES_IN} (cursor)": f"{list_url}&cursor={by_id}",
                    "sort=name, first page": f"{list_url}&sort=name",
                    f"sort=name, page {PAGES_IN} (cursor)": f"{by_name_url}&cursor={by_name}",
                    "sort=name, cursor mid-list": f"{by_name_url}&cursor={middle}",
                    "status=potential": f"{list_url}&status=potential",
                }
                for case, url in cases.items():
                    label = f"{who}: {case}"
                    trips[label] = await _time_case(session, url, label, args.requests)
    finally:
        await runner.cleanup()

    async def bare(request: web.Request) -> web.Response:
        return web.json_response({"items": [], "next_cursor": None})

    bare_app = web.Application()
    bare_app.router.add_get("/", bare)
    bare_runner, bare_url = await _serve(bare_app)
    try:
        async with aiohttp.ClientSession() as session:
            bare_trips = await _time_case(session, f"{bare_url}/", "", args.requests)
    finally:
        await bare_runner.cleanup()
    bare_p95 = percentile(bare_trips, 95)

    clients = await Client.all().count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{backend}: GET /api/v1/clients, {clients:,} clients, {args.requests} calls per case, "
        f"server time (load average {load} on {os.cpu_count()} cores; target p95 <= "
        f"{TARGET_MS:.0f} ms)"
    )
    for label, trip in trips.items():
        print(_line(label, server_ms[label], trip, bare_p95))
    print(
        f"  {'bare aiohttp handler':34s} round trip p50 {percentile(bare_trips, 50):.2f}  "
        f"p95 {bare_p95:.2f}  p99 {percentile(bare_trips, 99):.2f} ms",
        flush=True,
    )


def _child(backend: str, args: argparse.Namespace) -> None:
    asyncio.run(run(backend, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--deals", type=int, default=None, help="default: clients / 5")
    parser.add_argument("--calls", type=int, default=None, help="default: as many as clients")
    parser.add_argument("--requests", type=int, default=200, help="timed calls per case")
    add_database_arguments(parser)
    parser.add_argument("--data-dir", default="/tmp/centralita-bench-api")
    run_each_backend(_child, parser.parse_args())


if __name__ == "__main__":
    main()
