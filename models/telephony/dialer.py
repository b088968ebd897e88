"""The auto-dialer (Q1): lists of numbers an agent's phone dials one after another.

A list belongs to an agent. Front-ends build it (from selected clients or leads, or numbers
typed on the keypad) and start, pause, resume, skip and stop it; the daemon's runner
(daemon/dialer.py) claims the entries one by one with a conditional update, places each call
as a click-to-call and records its result (models/telephony/dialer_runs.py). Everything the
runner needs to carry on after a restart is in these two tables: the entry being dialed keeps
the click-to-call request id, by which its stored call is found again, so it is neither dialed
twice nor skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models.contacts.contact_details import not_a_phone
from models.contacts.phones import NotAPhoneError, parse_phone, phone_text
from models.core.clock import Clock
from models.core.errors import (
    Conflict,
    Message,
    NotFound,
    ValidationFailed,
    msg,
)
from models.core.sql import is_id
from models.core.translation import catalog
from models.people.permissions import CLIENTS, LEADS, Ownership, has_right, may_see
from models.people.users import get_company, get_telephony
from models.schema.clients import Client, Phone
from models.schema.dialer import DialerEntry, DialerList
from models.schema.leads import Lead
from models.schema.users import User

logger = logging.getLogger(__name__)

IDLE, RUNNING, PAUSED, STOPPED, FINISHED = "idle", "running", "paused", "stopped", "finished"
PENDING, DIALING, DONE, SKIPPED = "pending", "dialing", "done", "skipped"
RESULTS = ("answered", "no_answer", "busy", "failed", "invalid")
MAX_ENTRIES = 10_000

# What front-ends show for the codes above, in the reader's language (`say`/`.in_language`);
# messages that quote a status quote its label, never the code.
LIST_STATUS_LABELS: dict[str, Message] = {
    IDLE: msg("ready to start"),
    RUNNING: msg("running"),
    PAUSED: msg("paused"),
    STOPPED: msg("stopped"),
    FINISHED: msg("finished"),
}
ENTRY_STATE_LABELS: dict[str, Message] = {
    PENDING: msg("to dial"),
    DIALING: msg("being dialed"),
    DONE: msg("dialed"),
    SKIPPED: msg("skipped"),
}
RESULT_LABELS: dict[str, Message] = {
    "answered": msg("answered"),
    "no_answer": msg("not answered"),
    "busy": msg("busy"),
    "failed": msg("failed"),
    "invalid": msg("invalid number"),
}
# Why an entry was skipped or failed. The entry keeps the English msgid (it is data, read by
# any reader); `reason_text` puts it in the reader's language. The last two are written by
# the daemon's runner (daemon/dialer.py) with the same English words.
NO_PHONE = msg("no phone number")
NOT_A_PHONE = msg("not a valid phone number")
LIST_STOPPED = msg("the list was stopped")
SKIPPED_BY_AGENT = msg("skipped by the agent")
NOT_PLACED = msg("the call could not be placed")
# Written before issue 19 by a runner that gave up on a call a restart interrupted; kept so
# that the entries it wrote still read in the reader's language.
LOST_IN_RESTART = msg("the daemon restarted during this call and no record of it was found")
# After a restart the call under way is looked for on the PBX (its live channels) and among
# the stored calls; these say why it was not found (daemon/dialer.py).
ENDED_IN_RESTART = msg(
    "the call ended while the daemon was restarting: the PBX no longer had it and no record "
    "of it was stored, so its outcome is unknown"
)
PBX_AWAY_IN_RESTART = msg(
    "the daemon restarted during this call and the PBX could not be reached to find it again"
)


def list_status_label(status: str) -> Message | str:
    return LIST_STATUS_LABELS.get(status, status)


def entry_state_label(state: str) -> Message | str:
    return ENTRY_STATE_LABELS.get(state, state)


def result_label(result: str) -> Message | str:
    return RESULT_LABELS.get(result, result)


def reason_text(reason: str, lang: str) -> str:
    """An entry's stored reason in `lang` (a reason we do not know stays as it is)."""
    return catalog(lang).gettext(reason) if reason else ""


@dataclass(frozen=True)
class Target:
    """One number to put on a list, with whom it belongs to."""

    number: str
    name: str = ""
    client_id: int | None = None
    lead_id: int | None = None


@dataclass(frozen=True)
class ListView:
    """A list as front-ends show it: its state, how far it got and one page of its numbers.

    `done` counts the numbers dialed (whatever the outcome), `answered` those of them that
    answered; `entries` are the page from `offset` (every entry when no limit was asked).
    """

    id: int
    name: str
    owner_id: int
    status: str
    total: int
    pending: int
    done: int
    skipped: int
    dialing: DialerEntry | None
    entries: list[DialerEntry]
    answered: int = 0
    offset: int = 0

    @property
    def is_live(self) -> bool:
        """Whether the list may still change by itself (the page keeps following it)."""
        return self.status in (IDLE, RUNNING, PAUSED) or self.dialing is not None


# -- building ----------------------------------------------------------------------------


async def _targets_of_owners(
    model: type[Client] | type[Lead], ids: Iterable[int], user: User, kind: Ownership
) -> list[Target]:
    """The numbers of the selected clients or leads the user may see, honouring G4.

    An id that names no record, or one the user may not see, is refused with the same words
    (the record is not named), so that ids cannot be probed.
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    all_numbers = (await get_telephony()).is_dial_all_numbers
    rows = {r.id: r for r in await model.filter(id__in=[i for i in ids if is_id(i)])}
    key = "client_id" if model is Client else "lead_id"
    phones: dict[int, list[Phone]] = {}
    for phone in await Phone.filter(**{f"{key}__in": list(rows)}).order_by("position", "id"):
        phones.setdefault(getattr(phone, key), []).append(phone)
    targets: list[Target] = []
    for owner_id in ids:
        row = rows.get(owner_id)
        if row is None or not may_see(user, kind, row.responsible_id):
            field = "client_ids" if model is Client else "lead_ids"
            raise ValidationFailed({field: msg(kind.missing.msgid, id=owner_id)})
        owned = phones.get(owner_id, [])
        if not all_numbers:
            owned = owned[:1]
        ref = {key: owner_id}
        if not owned:
            targets.append(Target("", row.name, **ref))
        for phone in owned:
            targets.append(Target(phone.e164 or phone.typed, row.name, **ref))
    return targets


async def create_list(
    user: User,
    name: str,
    *,
    clock: Clock,
    client_ids: Iterable[int] = (),
    lead_ids: Iterable[int] = (),
    numbers: Iterable[str] = (),
) -> DialerList:
    """A new idle list of `user`'s from selected clients, leads and typed numbers (in that order).

    With "dial all numbers" off (G4) a client or lead gives its first number only. A typed text
    that is no phone number ("abc123") is refused as the client form refuses it; a number that
    cannot be dialed ("12") is kept on the list as `invalid` with the reason, never dialed.
    """
    targets = await _targets_of_owners(Client, client_ids, user, CLIENTS)
    targets += await _targets_of_owners(Lead, lead_ids, user, LEADS)
    typed = [n.strip() for n in numbers if n.strip()]
    for number in typed:
        try:
            phone_text(number)  # the rule of the client and lead forms
        except NotAPhoneError as err:
            raise ValidationFailed({"numbers": not_a_phone(err)}) from None
    targets += [Target(n) for n in typed]
    if len(targets) > MAX_ENTRIES:
        raise ValidationFailed(
            {"numbers": msg("a list holds at most %(max)s numbers", max=MAX_ENTRIES)}
        )
    region = (await get_company()).default_region
    now = clock.now()
    async with in_transaction():
        dialer = await DialerList.create(
            # The default name is data: written once, in the language of its creator.
            name=(name.strip() or msg("List of %(when)s", when=f"{now:%Y-%m-%d %H:%M}"))[:200],
            owner_id=user.id,
            created_at=now,
        )
        entries = []
        for position, target in enumerate(targets):
            entry = DialerEntry(
                dialer_list_id=dialer.id,
                position=position,
                number=target.number[:64],
                name=target.name[:200],
                client_id=target.client_id,
                lead_id=target.lead_id,
            )
            if not target.number:
                entry.state, entry.result, entry.reason = SKIPPED, "invalid", NO_PHONE.msgid
            else:
                e164 = parse_phone(target.number, region).e164
                if e164 is None:
                    entry.state, entry.result = SKIPPED, "invalid"
                    entry.reason = NOT_A_PHONE.msgid  # the number is on the entry
                entry.e164 = e164
            entries.append(entry)
        if entries:
            await DialerEntry.bulk_create(entries)
    logger.info("dialer list %s of user %s: %d numbers", dialer.id, user.id, len(entries))
    return dialer


# -- the agent's controls ----------------------------------------------------------------


async def _own_list(user: User, list_id: int) -> DialerList:
    dialer = await DialerList.get_or_none(id=list_id) if is_id(list_id) else None
    # Another agent's list is answered as if there were none: its existence is not told.
    if dialer is None or (dialer.owner_id != user.id and not has_right(user, "calls.view_all")):
        raise NotFound(msg("dialer list %(id)s does not exist", id=list_id))
    return dialer


async def _set_status(
    dialer: DialerList, allowed: tuple[str, ...], status: str, **more: Any
) -> None:
    """Change the status only if nobody changed it meanwhile (a conditional update)."""
    updated = await DialerList.filter(id=dialer.id, status__in=allowed).update(
        status=status, **more
    )
    if not updated:
        current = await DialerList.get(id=dialer.id)
        raise Conflict(
            msg(
                "the list is %(status)s: it cannot become %(new)s",
                status=list_status_label(current.status),
                new=list_status_label(status),
            )
        )
    dialer.status = status


async def start_list(user: User, list_id: int, *, clock: Clock) -> DialerList:
    """Start dialing. An agent runs one list at a time; an empty list cannot start."""
    dialer = await _own_list(user, list_id)
    if not await DialerEntry.filter(dialer_list_id=list_id, state=PENDING).exists():
        raise ValidationFailed({"list": msg("the list has no number left to dial")})
    if not (await User.get(id=dialer.owner_id)).extension:
        raise ValidationFailed({"list": msg("the agent has no extension to dial from")})
    other = await DialerList.filter(
        owner_id=dialer.owner_id, status=RUNNING, id__not=list_id
    ).first()
    if other is not None:
        raise Conflict(
            msg(
                "the list %(name)s is already running: pause or stop it first",
                name=repr(other.name),
            )
        )
    await _set_status(dialer, (IDLE, PAUSED), RUNNING, started_at=clock.now())
    return dialer


async def pause_list(user: User, list_id: int) -> DialerList:
    """No new call is placed; the call under way goes on."""
    dialer = await _own_list(user, list_id)
    await _set_status(dialer, (RUNNING,), PAUSED)
    return dialer


async def resume_list(user: User, list_id: int, *, clock: Clock) -> DialerList:
    dialer = await _own_list(user, list_id)
    if dialer.status != PAUSED:
        raise Conflict(
            msg(
                "the list is %(status)s: only a paused list resumes",
                status=list_status_label(dialer.status),
            )
        )
    return await start_list(user, list_id, clock=clock)


async def stop_list(user: User, list_id: int, *, clock: Clock) -> DialerList:
    """End the list for good: the numbers not dialed yet are skipped."""
    dialer = await _own_list(user, list_id)
    async with in_transaction():
        await _set_status(dialer, (IDLE, RUNNING, PAUSED), STOPPED, finished_at=clock.now())
        await DialerEntry.filter(dialer_list_id=list_id, state=PENDING).update(
            state=SKIPPED, reason=LIST_STOPPED.msgid
        )
    return dialer


async def skip_entry(user: User, list_id: int, entry_id: int | None = None) -> DialerEntry:
    """Skip one pending number (by default the next one to be dialed)."""
    await _own_list(user, list_id)
    query = DialerEntry.filter(dialer_list_id=list_id, state=PENDING)
    entry = await (
        query.filter(id=entry_id).first()
        if entry_id is not None
        else query.order_by("position").first()
    )
    if entry is None:
        raise Conflict(msg("there is no pending number to skip"))
    updated = await DialerEntry.filter(id=entry.id, state=PENDING).update(
        state=SKIPPED, reason=SKIPPED_BY_AGENT.msgid
    )
    if not updated:
        raise Conflict(msg("this number is being dialed already"))
    entry.state, entry.reason = SKIPPED, SKIPPED_BY_AGENT.msgid
    return entry


async def view_list(
    user: User, list_id: int, *, offset: int = 0, limit: int | None = None
) -> ListView:
    """The list's state and counts, with its entries from `offset` (`limit` of them, or all)."""
    dialer = await _own_list(user, list_id)
    counts = {
        (row["state"], row["result"]): row["n"]
        for row in await DialerEntry.filter(dialer_list_id=list_id)
        .annotate(n=Count("id"))
        .group_by("state", "result")
        .values("state", "result", "n")
    }

    def count(state: str) -> int:
        return sum(n for (s, _), n in counts.items() if s == state)

    page = DialerEntry.filter(dialer_list_id=list_id).order_by("position").offset(max(0, offset))
    if limit is None:
        entries = list(await page)
    else:
        entries = list(await page.limit(limit)) if limit > 0 else []
    dialing = next((e for e in entries if e.state == DIALING), None)
    if dialing is None and count(DIALING):
        dialing = await DialerEntry.filter(dialer_list_id=list_id, state=DIALING).first()
    return ListView(
        dialer.id,
        dialer.name,
        dialer.owner_id,
        dialer.status,
        sum(counts.values()),
        count(PENDING),
        count(DONE),
        count(SKIPPED),
        dialing,
        entries,
        answered=counts.get((DONE, "answered"), 0),
        offset=max(0, offset),
    )


async def lists_of(user: User, *, limit: int = 20) -> list[DialerList]:
    """The user's lists, the live ones first, then the newest."""
    rows = await DialerList.filter(owner_id=user.id).order_by("-created_at", "-id").limit(limit)
    live = (RUNNING, PAUSED, IDLE)
    return sorted(rows, key=lambda d: d.status not in live)


async def current_list(user: User) -> DialerList | None:
    """The list the bot's /dialer commands act on: running, else paused, else idle."""
    for status in (RUNNING, PAUSED, IDLE):
        row = await DialerList.filter(owner_id=user.id, status=status).order_by("-id").first()
        if row is not None:
            return row
    return None


# -- the runner's side -------------------------------------------------------------------


async def running_list_ids() -> list[int]:
    ids = await DialerList.filter(status=RUNNING).values_list("id", flat=True)
    return cast(list[int], ids)


async def get_list(list_id: int) -> DialerList | None:
    return await DialerList.get_or_none(id=list_id).prefetch_related("owner")
