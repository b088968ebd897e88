"""Outgoing webhooks benchmark (issue 18, X3): deliveries per second to a local receiver.

Real database, `queue_event` (one WebhookDelivery and one outbox row per event, as the hub
subscriber writes them), the outbox worker with the "webhook" sender (secret opened, body
signed, POST, the row and the log marked), and a local aiohttp receiver that checks nothing
but counts. Prints the time to queue N events, the time from the worker's start until every
delivery is marked delivered (deliveries per second), and, for a ratio, plain aiohttp client
POSTs of the same bodies to the same receiver, 16 at a time like the worker's concurrency.

    python bench/webhooks.py [--events 300] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, bench_company, private_database  # noqa: E402

from daemon.outbox_worker import OutboxWorker  # noqa: E402
from daemon.webhook_send import register_webhooks  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.secret_box import SecretBox  # noqa: E402
from models.messaging import webhooks as hooks  # noqa: E402
from models.people.users import create_user  # noqa: E402
from models.schema.integrations import WebhookDelivery  # noqa: E402

CONCURRENCY = 16  # the outbox worker's default


async def start_receiver() -> tuple[web.AppRunner, str, list[int]]:
    count = [0]

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        count[0] += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook", count


async def run(args: argparse.Namespace, url: str) -> None:
    await open_db(url)
    await bench_company()
    admin = await create_user("admin", "bench-pass-1", group_name="Admin", extension="100")
    await admin.fetch_related("group")
    runner, hook_url, count = await start_receiver()
    box = SecretBox(b"3" * 43 + b"=")
    clock = SystemClock()
    await hooks.create_subscription(
        admin, url=hook_url, event_types=["lead.created"], description="bench", box=box
    )
    n = args.events

    started = time.perf_counter()
    for lead_id in range(n):
        data = {"lead_id": lead_id, "source": "web form", "responsible_id": admin.id}
        await hooks.queue_event("lead.created", data, clock=clock)
    queued = time.perf_counter() - started

    worker = OutboxWorker(clock=clock, poll_interval=0.05, batch_size=500)
    sender = register_webhooks(worker, box, clock)
    sending = time.perf_counter()
    await worker.start()
    deadline = sending + 300
    while await WebhookDelivery.filter(status=hooks.DELIVERED).count() < n:
        if time.perf_counter() > deadline:
            raise SystemExit("timed out")
        await asyncio.sleep(0.01)
    through_outbox = time.perf_counter() - sending
    await worker.stop()
    await sender.close()
    received = count[0]

    # The same bodies straight from one aiohttp session, 16 at a time.
    bodies = [
        json.dumps(d.payload, separators=(",", ":")).encode()
        for d in await WebhookDelivery.all().order_by("id")
    ]
    limit = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession() as session:

        async def post(body: bytes) -> None:
            async with limit, session.post(hook_url, data=body) as resp:
                await resp.read()

        direct_start = time.perf_counter()
        await asyncio.gather(*(post(body) for body in bodies))
        direct_time = time.perf_counter() - direct_start
    await runner.cleanup()

    print(
        f"{n} events: queued in {queued:.2f} s ({n / queued:.0f}/s); delivered through the "
        f"outbox in {through_outbox:.2f} s = {n / through_outbox:.0f} deliveries/s "
        f"(receiver got {received})"
    )
    print(
        f"  plain aiohttp POSTs: {direct_time:.2f} s = {n / direct_time:.0f} POSTs/s; "
        f"outbox / plain time ratio {through_outbox / direct_time:.1f}x"
    )
    await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    async with private_database(args.backend, args.pg_url, None) as url:
        await run(args, url)


if __name__ == "__main__":
    asyncio.run(main())
