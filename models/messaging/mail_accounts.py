"""Users' mailboxes (G5): adding, editing, sharing and removing them, and who may use which.

A user manages their own mailboxes; an admin (right settings.manage) manages everyone's. A
mailbox is used (read, sent from) by its owner and the users it is shared with. The company
has at most MAX_ACCOUNTS of them. The password is sealed with the installation's SecretBox
before it reaches the database and is never handed back: editing with an empty password keeps
the stored one. Every change publishes `MailAccountsChanged`, so the sync picks it up.
"""

from __future__ import annotations

from typing import cast

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, msg
from models.core.events import MailAccountsChanged
from models.core.hub import Hub
from models.core.secret_box import SecretBox, SecretUnreadable
from models.core.sql import is_id
from models.messaging.mail_account_input import (
    AccountInput,
    LoginTarget,
    ServerEndpoint,
    clean,
    login_target,
    require_password,
)
from models.messaging.mail_exclusions import excluded_patterns, is_excluded
from models.messaging.mail_presets import PRESETS, Preset
from models.people.permissions import has_right
from models.schema.mail import MailAccount, MailAccountShare
from models.schema.users import User

__all__ = [
    "MAX_ACCOUNTS",
    "PRESETS",
    "AccountInput",
    "LoginTarget",
    "Preset",
    "ServerEndpoint",
    "accounts_managed_by",
    "accounts_usable_by",
    "create_account",
    "delete_account",
    "excluded_patterns",
    "imap_endpoint",
    "is_excluded",
    "login_target",
    "managed_account",
    "may_manage",
    "password_of",
    "set_shares",
    "shared_user_ids",
    "smtp_endpoint",
    "update_account",
    "usable_account",
]

MAX_ACCOUNTS = 20
MANAGE_ALL = "settings.manage"


def imap_endpoint(account: MailAccount) -> ServerEndpoint:
    return ServerEndpoint(account.imap_host, account.imap_port, account.imap_security)


def smtp_endpoint(account: MailAccount) -> ServerEndpoint:
    return ServerEndpoint(account.smtp_host, account.smtp_port, account.smtp_security)


def password_of(account: MailAccount, box: SecretBox) -> str:
    """The mailbox's password, for a login only; SecretUnreadable when none can be read."""
    if not account.password_encrypted:
        raise SecretUnreadable()
    return box.open(account.password_encrypted)


def may_manage(actor: User, account: MailAccount) -> bool:
    return account.owner_id == actor.id or has_right(actor, MANAGE_ALL)


def _not_found(account_id: int) -> NotFound:
    return NotFound(msg("mailbox %(id)s not found", id=account_id))


def _publish(hub: Hub | None, account_id: int) -> None:
    if hub is not None:
        hub.publish(MailAccountsChanged(account_id))


async def accounts_usable_by(user: User) -> list[MailAccount]:
    """The mailboxes `user` may read and send from: own and shared, enabled or not."""
    return (
        await MailAccount.filter(Q(owner_id=user.id) | Q(shares__user_id=user.id))
        .distinct()
        .order_by("address", "id")
    )


async def usable_account(user: User, account_id: int) -> MailAccount:
    """The mailbox if `user` owns it or it is shared with them; NotFound as for a missing one."""
    account = await MailAccount.get_or_none(id=account_id) if is_id(account_id) else None
    if account is None:
        raise _not_found(account_id)
    if account.owner_id != user.id and not await MailAccountShare.exists(
        account_id=account.id, user_id=user.id
    ):
        raise _not_found(account_id)
    return account


async def accounts_managed_by(actor: User) -> list[MailAccount]:
    """The mailboxes `actor` may change: their own, or everyone's for an admin (owner loaded)."""
    query = (
        MailAccount.all() if has_right(actor, MANAGE_ALL) else MailAccount.filter(owner_id=actor.id)
    )
    return await query.select_related("owner").order_by("owner__username", "address", "id")


async def managed_account(actor: User, account_id: int) -> MailAccount:
    """The mailbox if `actor` may change it (NotFound as for a missing one), owner loaded."""
    account = (
        await MailAccount.get_or_none(id=account_id).select_related("owner")
        if is_id(account_id)
        else None
    )
    if account is None or not may_manage(actor, account):
        raise _not_found(account_id)
    return account


async def shared_user_ids(account: MailAccount) -> list[int]:
    ids = await MailAccountShare.filter(account_id=account.id).values_list("user_id", flat=True)
    return sorted(cast(list[int], ids))


def _duplicate(address: object) -> Conflict:
    return Conflict(
        msg("this user already has the mailbox %(address)s", address=address), field="address"
    )


async def create_account(
    owner: User,
    data: AccountInput,
    *,
    box: SecretBox,
    actor: User | None = None,
    hub: Hub | None = None,
) -> MailAccount:
    """A new mailbox of `owner`, added by `actor` (the owner or an admin; None: the system,
    i.e. the command line)."""
    if actor is not None and actor.id != owner.id and not has_right(actor, MANAGE_ALL):
        raise PermissionDenied(msg("only an admin may add a mailbox for another user"))
    values = clean(data)
    require_password(data)
    async with in_transaction():
        if await MailAccount.all().count() >= MAX_ACCOUNTS:
            raise Conflict(
                msg(
                    "the company already has %(max)s mailboxes, the most allowed: remove one "
                    "before adding another",
                    max=MAX_ACCOUNTS,
                ),
                field="__all__",
            )
        if await MailAccount.exists(owner_id=owner.id, address=values["address"]):
            raise _duplicate(values["address"])
        try:
            account = MailAccount(
                owner_id=owner.id, password_encrypted=box.seal(data.password), **values
            )
            await account.save()
        except IntegrityError:
            raise _duplicate(values["address"]) from None
    _publish(hub, account.id)
    return account


async def update_account(
    actor: User,
    account_id: int,
    data: AccountInput,
    *,
    box: SecretBox,
    hub: Hub | None = None,
) -> MailAccount:
    """Change a mailbox; an empty password keeps the stored one. A change of server or login
    clears the last error (the next sync tells whether it works now)."""
    account = await managed_account(actor, account_id)
    values = clean(data)
    if values["address"] != account.address and await MailAccount.exists(
        owner_id=account.owner_id, address=values["address"]
    ):
        raise _duplicate(values["address"])
    server_keys = ("login", "imap_host", "imap_port", "imap_security", "smtp_host", "smtp_port")
    changed_server = bool(data.password) or any(
        getattr(account, key) != values[key] for key in server_keys
    )
    account.update_from_dict(values)
    if data.password:
        account.password_encrypted = box.seal(data.password)
    if changed_server:
        account.last_error = ""
    try:
        await account.save()
    except IntegrityError:
        raise _duplicate(values["address"]) from None
    _publish(hub, account.id)
    return account


async def delete_account(actor: User, account_id: int, *, hub: Hub | None = None) -> None:
    """Remove a mailbox. The mail already recorded stays on the timelines."""
    account = await managed_account(actor, account_id)
    await account.delete()
    _publish(hub, account_id)


async def set_shares(
    actor: User, account_id: int, user_ids: list[int], *, hub: Hub | None = None
) -> list[int]:
    """Share the mailbox with exactly these users (active ones, not the owner)."""
    account = await managed_account(actor, account_id)
    wanted = {uid for uid in user_ids if is_id(uid) and uid != account.owner_id}
    found = (
        set(
            cast(
                list[int],
                await User.filter(id__in=wanted, is_active=True).values_list("id", flat=True),
            )
        )
        if wanted
        else set()
    )
    if wanted - found:
        raise ValidationFailed({"shares": msg("choose active users of the team")})
    async with in_transaction():
        await MailAccountShare.filter(account_id=account.id).exclude(user_id__in=found).delete()
        present = set(
            cast(
                list[int],
                await MailAccountShare.filter(account_id=account.id).values_list(
                    "user_id", flat=True
                ),
            )
        )
        await MailAccountShare.bulk_create(
            [MailAccountShare(account_id=account.id, user_id=uid) for uid in found - present]
        )
    _publish(hub, account.id)
    return sorted(found)
