"""centralita api-token create USER [--name NAME] [--scope read|write] / revoke ID / list:
tokens of the REST API (/api/v1). A new token is printed once: only its hash is kept."""

from __future__ import annotations

import argparse
import sys

from daemon.commands._db import with_db
from models.core.clock import SystemClock
from models.core.errors import NotFound, ValidationFailed
from models.core.settings import Settings
from models.people import api_tokens
from models.people.users import find_user


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api-token", help="create, revoke and list REST API tokens")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    create = actions.add_parser("create", help="make a token for USER; it is printed once")
    create.add_argument("username")
    create.add_argument("--name", default="", help="what uses it, e.g. zapier")
    create.add_argument("--scope", choices=api_tokens.SCOPES, default="read")
    create.set_defaults(func=run_create)
    revoke = actions.add_parser("revoke", help="revoke the token with this ID")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(func=run_revoke)
    listing = actions.add_parser("list", help="list every token (never the tokens themselves)")
    listing.set_defaults(func=run_list)


def _fail(text: str) -> int:
    print(f"centralita api-token: {text}", file=sys.stderr)
    return 2


def run_create(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        user = await find_user(args.username)
        if user is None:
            return _fail(f"no user named {args.username!r}")
        try:
            token, plain = await api_tokens.create_token(
                user, name=args.name, scope=args.scope, clock=SystemClock()
            )
        except ValidationFailed as err:
            return _fail("; ".join(f"{k}: {v}" for k, v in err.fields.items()))
        print(plain)
        print(
            f"Token {token.id} ({token.scope}) for {user.username}. Copy it now: it is not "
            "shown again. Use it as: Authorization: Bearer <token>",
            file=sys.stderr,
        )
        return 0

    return with_db(settings, work)


def run_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        try:
            token = await api_tokens.revoke_token(None, args.id, clock=SystemClock())
        except NotFound:
            return _fail(f"no token with id {args.id}")
        print(f"Token {token.id} revoked.")
        return 0

    return with_db(settings, work)


def run_list(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        tokens = await api_tokens.list_tokens()
        if not tokens:
            print("No API tokens.")
        for t in tokens:
            state = f"revoked {t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "active"
            used = (
                f"{t.last_used_at:%Y-%m-%d %H:%M} from {t.last_used_ip}"
                if t.last_used_at
                else "never"
            )
            print(
                f"{t.id}\t{t.user.username}\t{t.name or '-'}\t{t.token_prefix}…\t{t.scope}\t"
                f"{state}\tlast used {used}"
            )
        return 0

    return with_db(settings, work)
