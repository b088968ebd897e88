"""centralita doctor [--call EXT]: what is wrong between the CRM and the configured Asterisk.

One line per check (ok / warning / problem) with what to change and where, in the reader's
language; exit status 0 when nothing is a problem, 1 otherwise. With no PBX configured
([ami] host empty) it says so and exits 0: the product then runs its own simulator.
"""

from __future__ import annotations

import argparse
import os
import re

from daemon.commands._db import with_db
from daemon.doctor.context import load_context
from daemon.doctor.runner import format_report, no_pbx_report, run_checks
from models.core.clock import SystemClock
from models.core.settings import Settings

_EXTENSION = re.compile(r"^[0-9*#+]{1,20}$")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the PBX connection: one line per check, exit 1 on a problem",
        description="Checks the AMI host, the login, the Asterisk version, the manager user's "
        "rights, the users' phones, the dialplan contexts, the trunks and the recordings.",
    )
    p.add_argument(
        "--call",
        metavar="EXT",
        default="",
        help="also ring extension EXT with a short harmless call and say what the CRM saw",
    )
    p.add_argument(
        "--lang",
        choices=("es", "en"),
        default=None,
        help="language of the report (default: from the environment's LANG)",
    )
    p.set_defaults(func=run)


def _language(chosen: str | None) -> str:
    if chosen:
        return chosen
    return "es" if os.environ.get("LANG", "").lower().startswith("es") else "en"


def run(args: argparse.Namespace, settings: Settings) -> int:
    lang = _language(args.lang)
    if args.call and not _EXTENSION.match(args.call):
        print(f"centralita doctor: --call: {args.call!r} is not an extension (digits)")
        return 2
    clock = SystemClock()
    if settings.uses_simulator:
        print(format_report(no_pbx_report(clock.now()), lang))
        return 0

    async def work() -> int:
        ctx = await load_context(settings, settings.ami, clock.now(), call_extension=args.call)
        report = await run_checks(ctx)
        print(format_report(report, lang))
        return 0 if report.is_healthy else 1

    return with_db(settings, work)
