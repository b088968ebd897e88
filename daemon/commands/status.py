"""centralita status: is the CRM set up, and how big is it."""

from __future__ import annotations

import argparse

from daemon.commands._db import with_db
from models.core.settings import Settings
from models.people import users as user_ops


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="say whether the CRM is set up (exit 1 when it is not)")
    p.add_argument("--quiet", action="store_true", help="print nothing; only the exit code")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        ready = await user_ops.has_admin()
        if not args.quiet:
            company = await user_ops.get_company() if ready else None
            print(
                f"CRM {company.name!r} is set up; database {settings.redacted()['database']['url']}"
                if company
                else "The CRM is not set up yet: run `centralita init` or open the web panel."
            )
        return 0 if ready else 1

    return with_db(settings, work)
