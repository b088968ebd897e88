"""Linking Telegram chats to users (B1) and the call notifications sent to them (B2).

A user asks for a one-time code (web profile page, or `centralita telegram-link USER`) and
sends `/start CODE` to the bot (or opens the page's t.me link, which sends it). Codes are valid
for ten minutes, used once and stored as their SHA-256. Wrong codes are counted per chat:
after `MAX_GUESSES` wrong ones within `GUESS_WINDOW` the chat must wait.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models.core.clock import Clock
from models.core.errors import CrmError, NotFound, ValidationFailed, msg
from models.core.events import LeadCreated
from models.core.hub import Hub
from models.sales.auto_lead import caller_id_name
from models.sales.leads import LeadInput, create_lead
from models.schema.calls import Call
from models.schema.company import Company
from models.schema.tasks import Task
from models.schema.telegram import TelegramLinkGuess, TelegramMessage
from models.schema.users import TelegramLinkCode, User
from models.telephony.caller_directory import CallerDirectory
from models.work import reminders as work_reminders

logger = logging.getLogger(__name__)

CODE_TTL = timedelta(minutes=10)
GUESS_WINDOW = timedelta(minutes=10)
MAX_GUESSES = 5
# No 0/O, 1/I/L: codes are read off a screen and typed on a phone.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class LinkCodeInvalid(CrmError):
    """The code is unknown, already used or expired."""


class TooManyGuesses(CrmError):
    """Too many wrong codes from this chat recently; `retry_after` says how long to wait."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        super().__init__(
            msg(
                "too many wrong codes; try again in %(seconds)s s",
                seconds=int(retry_after.total_seconds()),
            )
        )


async def create_link_code(user: User, *, clock: Clock) -> str:
    """A fresh one-time code for `user`; earlier unused codes of the user stop working.

    Only the code's SHA-256 is stored: whoever reads the table cannot link a chat with it.
    """
    now = clock.now()
    async with in_transaction():
        await TelegramLinkCode.filter(user_id=user.id, used_at=None).update(used_at=now)
        while True:
            code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
            if not await TelegramLinkCode.exists(code_hash=_code_hash(code)):
                break
        await TelegramLinkCode.create(
            code_hash=_code_hash(code), user_id=user.id, expires_at=now + CODE_TTL
        )
    return code


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


async def create_link_code_for_username(username: str, *, clock: Clock) -> tuple[User, str]:
    user = await User.get_or_none(username=username, is_active=True)
    if user is None:
        raise NotFound(msg("no active user named %(name)s", name=repr(username)))
    return user, await create_link_code(user, clock=clock)


def normalize_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


async def link_chat(
    code: str, chat_id: int, *, clock: Clock, chat_name: str = "", chat_username: str = ""
) -> User:
    """Link `chat_id` to the owner of `code`; raises TooManyGuesses or LinkCodeInvalid.

    A chat linked to another user before is moved to this one (one chat per user and one
    user per chat). `chat_name` and `chat_username` (Telegram's, as the chat has them now)
    are kept to show on the profile page which chat is linked.
    """
    now = clock.now()
    since = now - GUESS_WINDOW
    wrong = await TelegramLinkGuess.filter(chat_id=chat_id, at__gte=since).order_by("at")
    if len(wrong) >= MAX_GUESSES:
        raise TooManyGuesses(wrong[-MAX_GUESSES].at + GUESS_WINDOW - now)
    normalized = normalize_code(code)
    user: User | None = None
    async with in_transaction():
        row = (
            await TelegramLinkCode.filter(code_hash=_code_hash(normalized), used_at=None)
            .select_for_update()
            .first()
        )
        if row is not None and row.expires_at > now and normalized:
            row.used_at = now
            await row.save(update_fields=["used_at"])
            user = await User.get(id=row.user_id)
            if user.is_active:
                await User.filter(telegram_chat_id=chat_id).exclude(id=user.id).update(**_UNLINKED)
                user.telegram_chat_id = chat_id
                user.telegram_name = chat_name.strip()[:150]
                user.telegram_username = chat_username.strip().lstrip("@")[:64]
                user.telegram_linked_at = now
                await user.save(update_fields=list(_UNLINKED))
            else:
                user = None
    if user is None:
        # Recorded outside the transaction above, which a wrong code leaves untouched.
        await TelegramLinkGuess.create(chat_id=chat_id, at=now)
        raise LinkCodeInvalid(msg("unknown, used or expired code"))
    await TelegramLinkGuess.filter(chat_id=chat_id).delete()
    logger.info("telegram chat linked to user %s", user.username)
    return user


# A user's Telegram fields when no chat is linked.
_UNLINKED: dict[str, Any] = {
    "telegram_chat_id": None,
    "telegram_name": "",
    "telegram_username": "",
    "telegram_linked_at": None,
}


async def unlink_user(user: User) -> bool:
    """Forget the user's chat; True when there was one."""
    updated = await User.filter(id=user.id).exclude(telegram_chat_id=None).update(**_UNLINKED)
    for field, value in _UNLINKED.items():
        setattr(user, field, value)
    return bool(updated)


async def remember_bot_username(username: str) -> None:
    """The bot's @username as the Bot API gave it (getMe at start), for the t.me link."""
    company = await Company.first()
    username = username.strip().lstrip("@")[:64]
    if company is not None and company.telegram_bot_username != username:
        company.telegram_bot_username = username
        await company.save(update_fields=["telegram_bot_username"])


async def bot_username() -> str:
    """The bot's @username (without "@"), or "" while no bot has started."""
    company = await Company.first()
    return company.telegram_bot_username if company is not None else ""


def deep_link(username: str, code: str) -> str:
    """The t.me link that opens the bot and sends it `/start CODE` in one tap."""
    return f"https://t.me/{username}?start={code}"


async def unlink_chat(chat_id: int) -> User | None:
    user = await User.get_or_none(telegram_chat_id=chat_id)
    if user is not None:
        await unlink_user(user)
    return user


async def user_for_chat(chat_id: int) -> User | None:
    """The active user linked to this chat, or None (the chat may see no CRM data)."""
    return await User.get_or_none(telegram_chat_id=chat_id, is_active=True).prefetch_related(
        "group"
    )


async def linked_user(user_id: int) -> User | None:
    """The user if active and linked to a chat."""
    return await User.filter(id=user_id, is_active=True).exclude(telegram_chat_id=None).first()


async def linked_users(user_ids: list[int]) -> list[User]:
    return await User.filter(id__in=user_ids, is_active=True).exclude(telegram_chat_id=None)


# Call notifications ---------------------------------------------------------------------


async def remember_notification(
    linkedid: str, user: User, *, direction: str, card: dict[str, Any]
) -> TelegramMessage | None:
    """Record the notification of this call for this user; None when there is one already.

    Call it inside the transaction that also enqueues the message.
    """
    if await TelegramMessage.exists(linkedid=linkedid, user_id=user.id):
        return None
    return await TelegramMessage.create(
        linkedid=linkedid,
        user_id=user.id,
        chat_id=user.telegram_chat_id,
        direction=direction,
        card=card,
    )


async def notification_for(linkedid: str, user_id: int) -> TelegramMessage | None:
    return await TelegramMessage.get_or_none(linkedid=linkedid, user_id=user_id)


async def update_notification(
    row: TelegramMessage, *, state: str | None = None, card: dict[str, Any] | None = None
) -> None:
    """Change the call's state or the caller's card shown in a notification."""
    fields = []
    if state is not None:
        row.state = state
        fields.append("state")
    if card is not None:
        row.card = card
        fields.append("card")
    if fields:
        await row.save(update_fields=fields)


async def record_sent_message(notification_id: int, message_id: int) -> None:
    """The outbox sent the notification: keep its message id to edit it and route replies."""
    await TelegramMessage.filter(id=notification_id).update(message_id=message_id)


async def message_id_of(notification_id: int) -> int | None:
    row = await TelegramMessage.filter(id=notification_id).only("id", "message_id").first()
    if row is None:
        raise NotFound(msg("no telegram notification %(id)s", id=notification_id))
    message_id: int | None = row.message_id
    return message_id


async def notification_replied_to(chat_id: int, message_id: int) -> TelegramMessage | None:
    """The call notification a chat message replies to, if it is one."""
    return await TelegramMessage.get_or_none(chat_id=chat_id, message_id=message_id)


async def notification_by_id(notification_id: int, user: User) -> TelegramMessage:
    """A notification of `user` (buttons carry its id); NotFound for someone else's."""
    row = await TelegramMessage.get_or_none(id=notification_id, user_id=user.id)
    if row is None:
        raise NotFound(msg("this call notification is not yours"))
    return row


async def contact_for_notification(
    notification_id: int,
    user: User,
    *,
    clock: Clock,
    callers: CallerDirectory | None = None,
    hub: Hub | None = None,
) -> tuple[dict[str, Any], bool]:
    """Make sure the caller of a notification is a client or lead; return (card, lead created).

    Pressing "create lead" twice (or on two devices) creates one lead: the notification row
    is locked while we look up the number and create the lead, and the lead is written into
    the card, so the second press finds it. The number's lock (`callers`, the daemon's caller
    directory, shared with the call store) keeps the call ending meanwhile from making a
    second lead of it. With a `hub`, a lead made here publishes LeadCreated once it is
    committed (webhooks).
    """
    first = await notification_by_id(notification_id, user)
    number = first.card.get("e164") or first.card.get("number") or ""
    if not number.strip():
        raise ValidationFailed(
            {"number": msg("this call has no number to save: the PBX did not give one")}
        )
    callers = callers or await CallerDirectory.load()
    async with callers.number_locks.hold([callers.lock_key(number)]), in_transaction():
        row = (
            await TelegramMessage.filter(id=notification_id, user_id=user.id)
            .select_for_update()
            .first()
        )
        if row is None:
            raise NotFound(msg("this call notification is not yours"))
        card = dict(row.card)
        if card.get("client_id") is not None or card.get("lead_id") is not None:
            return card, False
        client, lead = await callers.find_by_phone(number)
        created = False
        if client is None and lead is None:
            # Named after the caller when the PBX gave a name (as the auto-lead would be).
            name = caller_id_name(card.get("caller_name"), number)
            lead = await create_lead(
                user, LeadInput(name=name, phones=[number], source="call"), clock=clock
            )
            created = True
        if client is not None:
            card.update(client_id=client.id, name=client.name, company=client.company_name)
        elif lead is not None:
            card.update(lead_id=lead.id, name=lead.name, company=lead.company_name)
        row.card = card
        await row.save(update_fields=["card"])
    if created and hub is not None and lead is not None:
        hub.publish(LeadCreated(lead.id, lead.source, lead.responsible_id))
    return card, created


async def reminders_due(clock: Clock) -> list[tuple[Task, User, int]]:
    """(task, assignee, minutes before) for every reminder whose time has come, for linked users.

    Which reminders are due is the work context's rule (models/work/reminders.py); Telegram
    only keeps the assignees with a linked chat. The caller deduplicates (per task, user and
    due time) through the outbox, so the panel's own "sent" mark does not hold Telegram back.
    """
    return [
        (due.task, due.user, due.minutes)
        for due in await work_reminders.reminders_due(clock)
        if due.user.telegram_chat_id is not None
    ]


async def linked_active_users() -> list[User]:
    return (
        await User.filter(is_active=True).exclude(telegram_chat_id=None).prefetch_related("group")
    )


async def call_for_note(linkedid: str, user: User) -> int | None:
    """The stored call a note from this notification should also point at, if the user may.

    A colleague's call (someone else answered) is left out: the note still lands on the
    client or lead, which the notification's buttons were about.
    """
    call = await Call.filter(linkedid=linkedid).only("id", "agent_id").first()
    if call is None or call.agent_id not in (None, user.id):
        return None
    return call.id


async def purge_link_guesses(*, clock: Clock) -> int:
    """Forget wrong link codes older than the guessing window (they no longer count)."""
    return await TelegramLinkGuess.filter(at__lt=clock.now() - GUESS_WINDOW).delete()
