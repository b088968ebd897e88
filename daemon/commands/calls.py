"""centralita calls --json / centralita leads --json: the recorded calls and leads."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime

from daemon.commands._db import with_db
from models.core.settings import Settings
from models.reporting.json_listing import iter_calls, iter_leads


def _since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an ISO time such as 2026-11-29T09:00 or 2026-11-29T09:00+01:00"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calls", help="list recorded calls, one JSON object per line")
    p.add_argument("--json", action="store_true", required=True, help="JSON lines output")
    p.add_argument("--since", type=_since, help="only calls started at or after this ISO time")
    p.set_defaults(func=_calls)
    lp = sub.add_parser("leads", help="list leads, one JSON object per line")
    lp.add_argument("--json", action="store_true", required=True, help="JSON lines output")
    lp.set_defaults(func=_leads)


def _calls(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        async for row in iter_calls(args.since):
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0

    return with_db(settings, work)


def _leads(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        async for row in iter_leads():
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0

    return with_db(settings, work)
