"""centralita user add|list|passwd."""

from __future__ import annotations

import argparse
import getpass
import sys

from daemon.commands._db import with_db
from models.core.errors import CrmError, ValidationFailed
from models.core.settings import Settings
from models.people import users as user_ops


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="add, list users or change a password")
    s = p.add_subparsers(dest="user_command", metavar="ACTION")
    s.required = True
    add = s.add_parser("add", help="add a user")
    add.add_argument("username")
    add.add_argument("--password", help="password (asked when omitted)")
    add.add_argument("--extension", help="PBX extension")
    add.add_argument("--email", default="")
    add.add_argument("--name", default="", help="full name")
    add.add_argument("--group", default="Agent", help="permission group (Admin, Agent or custom)")
    add.add_argument("--language", default="es", choices=["es", "en"])
    add.set_defaults(func=_add)
    ls = s.add_parser("list", help="list users")
    ls.set_defaults(func=_list)
    pw = s.add_parser("passwd", help="set a user's password")
    pw.add_argument("username")
    pw.add_argument("--password", help="new password (asked when omitted)")
    pw.set_defaults(func=_passwd)


def _password(value: str | None) -> str | None:
    if value:
        return value
    if not sys.stdin.isatty():
        print("centralita user: give --password (no terminal to ask on)", file=sys.stderr)
        return None
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        print("centralita user: the passwords differ", file=sys.stderr)
        return None
    return first


def _report(err: CrmError) -> int:
    if isinstance(err, ValidationFailed):
        for field, message in err.fields.items():
            print(f"centralita user: {field}: {message}", file=sys.stderr)
    else:
        print(f"centralita user: {err}", file=sys.stderr)
    return 2


def _add(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args.password)
    if password is None:
        return 2

    async def work() -> int:
        try:
            user = await user_ops.create_user(
                args.username,
                password,
                group_name=args.group,
                extension=args.extension,
                email=args.email,
                full_name=args.name,
                language=args.language,
            )
        except CrmError as err:
            return _report(err)
        print(
            f"user {user.username!r} added (extension {user.extension or '-'}, group {args.group})"
        )
        return 0

    return with_db(settings, work)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        rows = await user_ops.list_users()
        print(f"{'USERNAME':<20} {'EXT':<8} {'GROUP':<12} {'ACTIVE':<7} NAME")
        for u in rows:
            print(
                f"{u.username:<20} {u.extension or '-':<8} {u.group.name:<12} "
                f"{'yes' if u.is_active else 'no':<7} {u.full_name}"
            )
        return 0

    return with_db(settings, work)


def _passwd(args: argparse.Namespace, settings: Settings) -> int:
    password = _password(args.password)
    if password is None:
        return 2

    async def work() -> int:
        user = await user_ops.find_user(args.username)
        if user is None:
            print(f"centralita user: no user named {args.username!r}", file=sys.stderr)
            return 2
        try:
            await user_ops.set_password(user, password)
        except CrmError as err:
            return _report(err)
        print(f"password of {args.username!r} changed")
        return 0

    return with_db(settings, work)
