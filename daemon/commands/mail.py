"""centralita mail add|list|sync: users' mailboxes from the command line (G5).

`mail add` takes the password from CENTRALITA_MAIL_PASSWORD or standard input (never from the
command line, where `ps` and the shell history would show it). `mail sync` brings mailboxes up
to date once, now, and says what each one fetched.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from daemon.commands._db import with_db
from daemon.mail_imap import MailServerError
from daemon.mail_sync import sync_account_once
from models.core.clock import SystemClock
from models.core.errors import CrmError, ValidationFailed
from models.core.hub import Hub
from models.core.secret_box import SecretBox, secret_box_for
from models.core.settings import Settings
from models.messaging import mail_accounts as accounts
from models.messaging.mail_presets import CUSTOM, PRESETS, SECURITY_MODES
from models.people import users as user_ops
from models.schema.mail import MailAccount

PASSWORD_ENV = "CENTRALITA_MAIL_PASSWORD"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mail", help="users' mailboxes: add, list, sync now")
    s = p.add_subparsers(dest="mail_command", metavar="ACTION")
    s.required = True
    add = s.add_parser(
        "add",
        help="connect a mailbox for a user",
        description=f"The password is read from ${PASSWORD_ENV}, else from standard input.",
    )
    add.add_argument("username")
    add.add_argument("--address", required=True)
    add.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default=CUSTOM,
        help="a mail service whose servers fill in --imap, --smtp and --security",
    )
    add.add_argument("--imap", metavar="HOST:PORT", default="")
    add.add_argument("--smtp", metavar="HOST:PORT", default="")
    add.add_argument("--security", choices=SECURITY_MODES, help="for IMAP (and SMTP)")
    add.add_argument("--smtp-security", choices=SECURITY_MODES, help="SMTP's, when it differs")
    add.add_argument("--login", default="", help="login name (default: the address)")
    add.add_argument("--name", default="", help="the name recipients see")
    add.set_defaults(func=_add)
    ls = s.add_parser("list", help="list mailboxes (never their passwords)")
    ls.set_defaults(func=_list)
    sync = s.add_parser("sync", help="sync mailboxes once, now")
    sync.add_argument("username", nargs="?", help="only this user's mailboxes")
    sync.set_defaults(func=_sync)


def _fail(message: str) -> int:
    print(f"centralita mail: {message}", file=sys.stderr)
    return 2


def _report(err: CrmError) -> int:
    if isinstance(err, ValidationFailed):
        for field, message in err.fields.items():
            _fail(f"{field.replace('_', '-')}: {message}")
        return 2
    return _fail(str(err))


def _read_password() -> str | None:
    password = os.environ.get(PASSWORD_ENV, "")
    if password:
        return password
    if sys.stdin.isatty():
        return getpass.getpass("Mailbox password: ") or None
    line = sys.stdin.readline()
    return line.rstrip("\r\n") or None


def _host_port(value: str) -> tuple[str, str]:
    host, sep, port = value.rpartition(":")
    if not sep:
        return value, ""
    return host.strip("[]"), port


def _box(settings: Settings) -> SecretBox:
    return secret_box_for(settings.security.encryption_key.get_secret_value(), settings.data_dir)


def _add(args: argparse.Namespace, settings: Settings) -> int:
    if args.preset == CUSTOM and not (args.imap and args.smtp and args.security):
        return _fail("give --imap HOST:PORT, --smtp HOST:PORT and --security (or a --preset)")
    password = _read_password()
    if password is None:
        return _fail(f"no password: set {PASSWORD_ENV} or write it on standard input")
    imap_host, imap_port = _host_port(args.imap)
    smtp_host, smtp_port = _host_port(args.smtp)
    data = accounts.AccountInput(
        address=args.address,
        password=password,
        provider=args.preset,
        login=args.login,
        display_name=args.name,
        imap_host=imap_host,
        imap_port=imap_port,
        imap_security=args.security or "",
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        smtp_security=args.smtp_security or args.security or "",
        first_sync_days=settings.mail.first_sync_days,
    )

    async def work() -> int:
        owner = await user_ops.find_user(args.username)
        if owner is None:
            return _fail(f"no user named {args.username!r}")
        try:
            account = await accounts.create_account(owner, data, box=_box(settings))
        except CrmError as err:
            return _report(err)
        print(
            f"mailbox {account.id} {account.address} added for {owner.username}: "
            f"IMAP {account.imap_host}:{account.imap_port} ({account.imap_security}), "
            f"SMTP {account.smtp_host}:{account.smtp_port} ({account.smtp_security})"
        )
        # The hub is in-process: a daemon already running learns of it when it restarts.
        print("`centralita mail sync` syncs it now; a running daemon takes it up at its restart")
        return 0

    return with_db(settings, work)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        rows = await MailAccount.all().select_related("owner").order_by("owner__username", "id")
        print(f"{'ID':<4} {'USER':<14} {'ADDRESS':<30} {'IMAP':<28} {'SMTP':<28} {'ON':<3} LAST")
        for a in rows:
            last = a.last_sync_at.strftime("%Y-%m-%d %H:%M") if a.last_sync_at else "never"
            if a.last_error:
                last += f" error: {a.last_error}"
            print(
                f"{a.id:<4} {a.owner.username:<14} {a.address:<30} "
                f"{f'{a.imap_host}:{a.imap_port}/{a.imap_security}':<28} "
                f"{f'{a.smtp_host}:{a.smtp_port}/{a.smtp_security}':<28} "
                f"{'yes' if a.enabled else 'no':<3} {last}"
            )
        if not rows:
            print("no mailboxes")
        return 0

    return with_db(settings, work)


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    async def work() -> int:
        query = MailAccount.all()
        if args.username:
            owner = await user_ops.find_user(args.username)
            if owner is None:
                return _fail(f"no user named {args.username!r}")
            query = query.filter(owner_id=owner.id)
        rows = await query.order_by("id")
        if not rows:
            print("no mailboxes to sync")
            return 0
        files_dir = settings.data_dir / "mail"
        files_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        hub = Hub()
        failed = 0
        try:
            for account in rows:
                try:
                    report = await sync_account_once(
                        account.id,
                        settings=settings,
                        box=_box(settings),
                        clock=SystemClock(),
                        hub=hub,
                        files_dir=files_dir,
                    )
                except MailServerError as err:
                    failed += 1
                    print(f"{account.address}: failed: {err}", file=sys.stderr)
                    continue
                except LookupError:  # removed meanwhile
                    continue
                print(
                    f"{account.address}: fetched {report.fetched}, "
                    f"on a client's or lead's timeline {report.matched} "
                    f"(new leads {report.leads_created}), skipped {report.skipped}"
                )
        finally:
            await hub.close()
        return 1 if failed else 0

    return with_db(settings, work)
