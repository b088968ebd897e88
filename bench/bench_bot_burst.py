"""200 linked agents ringing at once: time until the last notification reaches the local Bot
API server, with Telegram's limits kept (about 30 messages a second overall, 1 per chat) and
none lost.

    python bench/bench_bot_burst.py
    python bench/bench_bot_burst.py --agents 500 --backend postgres

The comparison limit is what the rate limit alone allows: the bucket's burst, then
`--per-second` messages a second.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from _bot_setup import CHAT_BASE, bot_rig

from bench._common import DEFAULT_PG
from models.core.events import CallRang
from models.messaging import outbox
from models.telephony.caller_directory import caller_card


def busiest_second(times: list[float]) -> int:
    """The most requests inside any one-second window."""
    times = sorted(times)
    best = start = 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def main(args: argparse.Namespace) -> None:
    async with bot_rig(
        args.agents,
        backend=args.backend,
        pg_url=args.pg_url,
        per_second=args.per_second,
        sqlite_sync=args.sqlite_sync,
    ) as rig:
        card = await caller_card("+34699000111")
        start = time.monotonic()
        for n, agent in enumerate(rig.agents):
            rig.hub.publish(
                CallRang(
                    linkedid=f"burst.{n}",
                    direction="in",
                    extension=agent.extension,
                    user_id=agent.id,
                    card=card,
                )
            )
        calls = await rig.api.wait_for("sendMessage", args.agents, within=600)
        elapsed = calls[-1].at - start
        await asyncio.sleep(0.5)  # anything sent twice would arrive now
        calls = rig.api.calls_of("sendMessage")
        counts = await outbox.counts("telegram")
    chats = [int(c.params["chat_id"]) for c in calls]
    delivered = {chat - CHAT_BASE for chat in chats}
    per_chat = max(chats.count(c) for c in set(chats))
    capacity = max(1.0, args.per_second / 5)
    floor = max(0.0, (args.agents - capacity) / args.per_second)
    print(f"burst of {args.agents} ringing agents ({args.backend}, limit {args.per_second:g}/s):")
    print(
        f"  last notification after {elapsed:.2f} s; limit set by the rate alone {floor:.2f} s "
        f"(ratio {elapsed / floor if floor else float('nan'):.2f})"
    )
    print(
        f"  delivered to {len(delivered)} of {args.agents} agents, {len(calls)} sendMessage "
        f"requests, at most {per_chat} per chat; outbox {counts}"
    )
    print(f"  busiest one-second window: {busiest_second([c.at for c in calls])} messages")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--per-second", type=float, default=25.0)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--sqlite-sync", default="", help="SQLite PRAGMA synchronous")
    asyncio.run(main(parser.parse_args()))
