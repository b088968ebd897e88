"""Bulk SMS benchmark (issue 8): one bulk SMS to N clients through the HTTP driver.

Real database, outbox and worker, the HTTP driver posting to a local aiohttp gateway. Prints
the time to queue the bulk SMS (one Sms row, one outbox row, one timeline entry each), the
sending rate through the gateway (messages per second, from the first send to the last), and
how many messages the gateway got once, twice or never (must be N, 0, 0). The gateway answers
503 to a share of requests (`--fail-every`) so that retries are part of the figure.

    python bench/bench_sms.py [--recipients 10000] [--rate 1000] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import DEFAULT_PG, private_database  # noqa: E402

from daemon.outbox_worker import OutboxWorker  # noqa: E402
from daemon.sms.wiring import policy_of, register_sms  # noqa: E402
from models.core.clock import SystemClock  # noqa: E402
from models.core.db import close_db, open_db  # noqa: E402
from models.core.settings import SmsSettings  # noqa: E402
from models.messaging import bulk_sms, outbox  # noqa: E402
from models.messaging import sms as sms_ops  # noqa: E402
from models.people.users import create_user, ensure_standard_groups  # noqa: E402
from models.schema.clients import Client, Phone  # noqa: E402
from models.schema.company import Company, TelephonySettings  # noqa: E402


class Gateway:
    def __init__(self, fail_every: int) -> None:
        self.got: Counter[str] = Counter()
        self.requests = 0
        self.fail_every = fail_every
        self.first = self.last = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests += 1
        if self.fail_every and self.requests % self.fail_every == 0:
            return web.Response(status=503, text="busy")
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.got[body["ref"]] += 1
        return web.json_response({"id": f"gw-{body['ref']}"})


async def run(args: argparse.Namespace, url: str) -> None:
    await open_db(url)
    await ensure_standard_groups()
    await Company.create(name="Bench", default_region="ES")
    await TelephonySettings.create()
    admin = await create_user("admin", "bench-pass-1", group_name="Admin", extension="100")
    await admin.fetch_related("group")
    clock = SystemClock()
    now = clock.now()
    await Client.bulk_create(
        [
            Client(name=f"Cliente {i}", name_key=f"cliente {i}", created_at=now)
            for i in range(args.recipients)
        ],
        batch_size=1000,
    )
    ids = list(await Client.all().order_by("id").values_list("id", flat=True))
    await Phone.bulk_create(
        [
            Phone(typed=f"+346{i:08d}", e164=f"+346{i:08d}", client_id=cid)
            for i, cid in enumerate(ids)
        ],
        batch_size=1000,
    )

    gateway = Gateway(args.fail_every)
    app = web.Application()
    app.router.add_post("/send", gateway.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    settings = SmsSettings(
        driver="http", http_url=f"http://127.0.0.1:{port}/send", messages_per_second=args.rate
    )

    started = time.perf_counter()
    batch, left_out = await bulk_sms.send_bulk(
        admin, ids, "Hola {first_name}, oferta", clock=clock, policy=policy_of(settings)
    )
    queued = time.perf_counter() - started
    worker = OutboxWorker(
        clock=clock, poll_interval=0.2, base_backoff=0.2, batch_size=500, concurrency=32
    )
    gateway_driver = register_sms(worker, settings, None, clock)
    await worker.start()
    sending = time.perf_counter()
    while (await outbox.counts(sms_ops.KIND))[outbox.SENT] < len(ids):  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    total = time.perf_counter() - sending
    await worker.stop()
    await gateway_driver.close()  # type: ignore[union-attr]
    await runner.cleanup()

    refs = [str(sid) for sid in await sms_ops.Sms.all().values_list("id", flat=True)]
    once = sum(1 for r in refs if gateway.got[r] == 1)
    twice = sum(1 for r in refs if gateway.got[r] > 1)
    never = sum(1 for r in refs if gateway.got[r] == 0)
    report = await bulk_sms.batch_report(admin, batch.id)
    print(
        f"{args.recipients} recipients ({len(left_out)} left out): queued in {queued:.1f} s "
        f"({args.recipients / queued:.0f}/s); sent in {total:.1f} s = "
        f"{args.recipients / total:.0f} messages/s (rate limit {args.rate:g}/s, "
        f"{gateway.requests - sum(gateway.got.values())} gateway 503s retried)"
    )
    print(f"  gateway got: once {once}, twice {twice}, never {never}; report {report.counts}")
    await close_db()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--fail-every", type=int, default=50)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    args = parser.parse_args()
    async with private_database(args.backend, args.pg_url, None) as url:
        await run(args, url)


if __name__ == "__main__":
    asyncio.run(main())
