"""Latency of one call notification: the ringing event on the hub -> the `sendMessage` request
at the local Bot API server (notifier, outbox row, worker, aiogram, HTTP). Target: p99 <= 50 ms.

    python bench/bench_bot_latency.py                     # 200 calls, SQLite
    python bench/bench_bot_latency.py --backend postgres --calls 500
    python bench/bench_bot_latency.py --sqlite-sync NORMAL   # WAL without an fsync per commit

Each call rings a different linked agent (one message a second per chat is Telegram's limit)
and calls are spaced under the overall rate limit, so the figure is the pipeline's own delay.
The comparison limit is aiogram's bare `sendMessage` round trip to the same server.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _bot_setup import bot_rig

from bench._common import DEFAULT_PG, summary
from bot import build_bot
from models.contacts.clients import ClientInput, create_client
from models.core.events import CallRang
from models.sales.deals import create_deal
from models.telephony.caller_directory import caller_card


async def bare_send(api, samples: int) -> list[float]:
    bot = build_bot(api.token, api.base_url)
    try:
        times = []
        for n in range(samples):
            start = time.perf_counter()
            await bot.send_message(999, f"bare {n}")
            times.append((time.perf_counter() - start) * 1000)
        return times
    finally:
        await bot.session.close()


async def main(args: argparse.Namespace) -> None:
    async with bot_rig(
        args.calls, backend=args.backend, pg_url=args.pg_url, sqlite_sync=args.sqlite_sync
    ) as rig:
        client = await create_client(
            None, ClientInput(name="Juan Ruiz", phones=["611222333"], company_name="Ruiz Obras")
        )
        await create_deal(rig.agents[0], client.id, "Reforma", "12500", "EUR")
        card = await caller_card("+34611222333")  # the AMI side looks it up before publishing
        latencies = []
        for n, agent in enumerate(rig.agents):
            before = len(rig.api.calls_of("sendMessage"))
            start = time.monotonic()
            rig.hub.publish(
                CallRang(
                    linkedid=f"bench.{n}",
                    direction="in",
                    extension=agent.extension,
                    user_id=agent.id,
                    card=card,
                )
            )
            calls = await rig.api.wait_for("sendMessage", before + 1)
            latencies.append((calls[-1].at - start) * 1000)
            await asyncio.sleep(args.spacing)
        bare = await bare_send(rig.api, min(200, args.calls))
    label = args.backend + (f", synchronous={args.sqlite_sync}" if args.sqlite_sync else "")
    print(f"bot notification latency ({label}, {args.calls} calls): {summary(latencies)}")
    print(f"limit, bare aiogram sendMessage round trip: {summary(bare)}")
    p99 = sorted(latencies)[min(len(latencies) - 1, int(round(0.99 * (len(latencies) - 1))))]
    print(f"target p99 <= 50 ms: {'met' if p99 <= 50 else 'NOT met'} ({p99:.1f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.05, help="seconds between calls")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument(
        "--sqlite-sync",
        default="",
        help="SQLite PRAGMA synchronous (e.g. NORMAL); default: as opened",
    )
    asyncio.run(main(parser.parse_args()))
