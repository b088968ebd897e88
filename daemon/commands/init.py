"""centralita init: the setup wizard (S1), interactive or from flags."""

from __future__ import annotations

import argparse
import getpass
import sys

from daemon.commands._db import with_db
from models.core.errors import CrmError, ValidationFailed
from models.core.settings import Settings
from models.people import users as user_ops


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="set up the CRM: company name and first admin (asks, unless all flags are given)",
        description="Create the CRM: its name (Latin characters), the admin user with a PBX "
        "extension, and optionally more users. Without --name/--admin/--password/--extension "
        "it asks interactively.",
    )
    p.add_argument("--name", help="CRM name, in Latin characters")
    p.add_argument("--admin", help="admin username")
    p.add_argument("--password", help="admin password (at least 8 characters)")
    p.add_argument("--extension", help="admin's PBX extension, e.g. 100")
    p.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="USERNAME:PASSWORD:EXTENSION",
        help="an extra agent (repeatable)",
    )
    p.set_defaults(func=run)


def _ask(prompt: str, *, secret: bool = False, default: str = "") -> str:
    suffix = f" [{default}]" if default else ""
    while True:
        value = (getpass.getpass if secret else input)(f"{prompt}{suffix}: ").strip()
        if value or default:
            return value or default


def run(args: argparse.Namespace, settings: Settings) -> int:
    flags = [args.name, args.admin, args.password, args.extension]
    interactive = not all(flags)
    if interactive and not sys.stdin.isatty():
        print(
            "centralita init: give --name, --admin, --password and --extension "
            "(no terminal to ask on)",
            file=sys.stderr,
        )
        return 2
    name = args.name or _ask("CRM name (Latin characters)", default="Centralita")
    admin = args.admin or _ask("Admin username", default="admin")
    password = args.password or _ask("Admin password (8+ characters)", secret=True)
    extension = args.extension or _ask("Admin PBX extension", default="100")
    extra = [tuple(spec.split(":", 2)) for spec in args.user]
    if interactive:
        while _ask("Add another user? (y/n)", default="n").lower().startswith("y"):
            extra.append((_ask("  username"), _ask("  password", secret=True), _ask("  extension")))
    for spec in extra:
        if len(spec) != 3:
            print("centralita init: --user takes USERNAME:PASSWORD:EXTENSION", file=sys.stderr)
            return 2

    async def work() -> int:
        try:
            await user_ops.setup_crm(name, admin, password, extension)
            for username, pw, ext in extra:
                await user_ops.create_user(username, pw, extension=ext or None)
        except ValidationFailed as err:
            for field, message in err.fields.items():
                print(f"centralita init: {field}: {message}", file=sys.stderr)
            return 2
        except CrmError as err:
            print(f"centralita init: {err}", file=sys.stderr)
            return 2
        print(f"CRM {name!r} created; admin {admin!r} with extension {extension}.")
        for username, _, ext in extra:
            print(f"  user {username!r} with extension {ext}")
        return 0

    return with_db(settings, work)
