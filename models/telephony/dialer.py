"""The auto-dialer (Q1): lists of numbers an agent's phone dials one after another.

A list belongs to an agent. Front-ends build it (from selected clients or leads, or numbers
typed on the keypad) and start, pause, resume, skip and stop it; the daemon's runner
(daemon/dialer.py) claims the entries one by one with a conditional update, places each call
as a click-to-call and records its result here. Everything the runner needs to carry on after
a restart is in these two tables: the entry being dialed keeps the click-to-call request id,
by which its stored call is found again, so it is neither dialed twice nor skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models.contacts.phones import parse_phone
from models.core.clock import Clock
from models.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from models.people.permissions import can_see_owned, has_right
from models.people.users import get_company, get_telephony
from models.schema.calls import Call
from models.schema.clients import Client, Phone
from models.schema.dialer import DialerEntry, DialerList
from models.schema.leads import Lead
from models.schema.users import User

logger = logging.getLogger(__name__)

IDLE, RUNNING, PAUSED, STOPPED, FINISHED = "idle", "running", "paused", "stopped", "finished"
PENDING, DIALING, DONE, SKIPPED = "pending", "dialing", "done", "skipped"
RESULTS = ("answered", "no_answer", "busy", "failed", "invalid")
# Call.result (as the tracker stores it) -> the dialer entry's result.
CALL_RESULTS = {
    "answered": "answered",
    "no_answer": "no_answer",
    "missed": "no_answer",
    "busy": "busy",
    "failed": "failed",
}
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Target:
    """One number to put on a list, with whom it belongs to."""

    number: str
    name: str = ""
    client_id: int | None = None
    lead_id: int | None = None


@dataclass(frozen=True)
class ListView:
    """A list as front-ends show it: its state and how far it got."""

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


# -- building ----------------------------------------------------------------------------


async def _targets_of_owners(
    model: type[Client] | type[Lead], ids: Iterable[int], user: User, right: str
) -> list[Target]:
    """The numbers of the selected clients or leads the user may see, honouring G4."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    all_numbers = (await get_telephony()).is_dial_all_numbers
    rows = {r.id: r for r in await model.filter(id__in=ids)}
    key = "client_id" if model is Client else "lead_id"
    phones: dict[int, list[Phone]] = {}
    for phone in await Phone.filter(**{f"{key}__in": list(rows)}).order_by("position", "id"):
        phones.setdefault(getattr(phone, key), []).append(phone)
    targets: list[Target] = []
    for owner_id in ids:
        row = rows.get(owner_id)
        if row is None:
            continue
        if not can_see_owned(user, row.responsible_id, right):  # type: ignore[attr-defined]
            raise PermissionDenied(f"you may not call {row.name}")
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

    With "dial all numbers" off (G4) a client or lead gives its first number only. A number
    that cannot be dialed is kept on the list as `invalid` with the reason, and is never dialed.
    """
    targets = await _targets_of_owners(Client, client_ids, user, "clients.view_all")
    targets += await _targets_of_owners(Lead, lead_ids, user, "leads.view_all")
    targets += [Target(n.strip()) for n in numbers if n.strip()]
    if len(targets) > MAX_ENTRIES:
        raise ValidationFailed({"numbers": f"a list holds at most {MAX_ENTRIES} numbers"})
    region = (await get_company()).default_region
    now = clock.now()
    async with in_transaction():
        dialer = await DialerList.create(
            name=(name.strip() or f"List of {now:%Y-%m-%d %H:%M}")[:200],
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
                entry.state, entry.result, entry.reason = SKIPPED, "invalid", "no phone number"
            else:
                e164 = parse_phone(target.number, region).e164
                if e164 is None:
                    entry.state, entry.result = SKIPPED, "invalid"
                    entry.reason = f"{target.number!r} is not a valid phone number"
                entry.e164 = e164
            entries.append(entry)
        if entries:
            await DialerEntry.bulk_create(entries)
    logger.info("dialer list %s of user %s: %d numbers", dialer.id, user.id, len(entries))
    return dialer


# -- the agent's controls ----------------------------------------------------------------


async def _own_list(user: User, list_id: int) -> DialerList:
    dialer = await DialerList.get_or_none(id=list_id)
    if dialer is None:
        raise NotFound(f"dialer list {list_id} does not exist")
    if dialer.owner_id != user.id and not has_right(user, "calls.view_all"):  # type: ignore[attr-defined]
        raise PermissionDenied("this dialer list belongs to another agent")
    return dialer


async def _set_status(dialer: DialerList, allowed: tuple[str, ...], status: str, **more) -> None:
    """Change the status only if nobody changed it meanwhile (a conditional update)."""
    updated = await DialerList.filter(id=dialer.id, status__in=allowed).update(
        status=status, **more
    )
    if not updated:
        current = await DialerList.get(id=dialer.id)
        raise Conflict(f"the list is {current.status}: it cannot become {status}")
    dialer.status = status


async def start_list(user: User, list_id: int, *, clock: Clock) -> DialerList:
    """Start dialing. An agent runs one list at a time; an empty list cannot start."""
    dialer = await _own_list(user, list_id)
    if not await DialerEntry.filter(dialer_list_id=list_id, state=PENDING).exists():
        raise ValidationFailed({"list": "the list has no number left to dial"})
    if not (await User.get(id=dialer.owner_id)).extension:
        raise ValidationFailed({"list": "the agent has no extension to dial from"})
    other = await DialerList.filter(
        owner_id=dialer.owner_id, status=RUNNING, id__not=list_id
    ).first()
    if other is not None:
        raise Conflict(f"the list {other.name!r} is already running: pause or stop it first")
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
        raise Conflict(f"the list is {dialer.status}: only a paused list resumes")
    return await start_list(user, list_id, clock=clock)


async def stop_list(user: User, list_id: int, *, clock: Clock) -> DialerList:
    """End the list for good: the numbers not dialed yet are skipped."""
    dialer = await _own_list(user, list_id)
    async with in_transaction():
        await _set_status(dialer, (IDLE, RUNNING, PAUSED), STOPPED, finished_at=clock.now())
        await DialerEntry.filter(dialer_list_id=list_id, state=PENDING).update(
            state=SKIPPED, reason="the list was stopped"
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
        raise Conflict("there is no pending number to skip")
    updated = await DialerEntry.filter(id=entry.id, state=PENDING).update(
        state=SKIPPED, reason="skipped by the agent"
    )
    if not updated:
        raise Conflict("this number is being dialed already")
    entry.state, entry.reason = SKIPPED, "skipped by the agent"
    return entry


async def view_list(user: User, list_id: int) -> ListView:
    dialer = await _own_list(user, list_id)
    entries = list(await DialerEntry.filter(dialer_list_id=list_id).order_by("position"))
    by_state = {s: sum(1 for e in entries if e.state == s) for s in (PENDING, DONE, SKIPPED)}
    dialing = next((e for e in entries if e.state == DIALING), None)
    return ListView(
        dialer.id,
        dialer.name,
        dialer.owner_id,
        dialer.status,
        len(entries),
        by_state[PENDING],
        by_state[DONE],
        by_state[SKIPPED],
        dialing,
        entries,
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
    return list(await DialerList.filter(status=RUNNING).values_list("id", flat=True))


async def get_list(list_id: int) -> DialerList | None:
    return await DialerList.get_or_none(id=list_id).prefetch_related("owner")


async def dialing_entry(list_id: int) -> DialerEntry | None:
    """The entry whose call was placed and whose result is not known yet (at most one)."""
    return await DialerEntry.filter(dialer_list_id=list_id, state=DIALING).first()


async def claim_next(list_id: int, request_id: str, *, clock: Clock) -> DialerEntry | None:
    """Take the next pending entry for dialing, if the list is still running.

    The conditional update makes the claim atomic: two runners (or a runner and a user
    skipping the number) never both get it. The request id is stored before the call is
    placed, so that a restart finds the call again.
    """
    for _ in range(5):
        if not await DialerList.filter(id=list_id, status=RUNNING).exists():
            return None
        entry = (
            await DialerEntry.filter(dialer_list_id=list_id, state=PENDING)
            .order_by("position")
            .first()
        )
        if entry is None:
            return None
        updated = await DialerEntry.filter(id=entry.id, state=PENDING).update(
            state=DIALING, request_id=request_id, dialed_at=clock.now()
        )
        if updated:
            entry.state, entry.request_id = DIALING, request_id
            return entry
    return None


async def set_linkedid(entry_id: int, linkedid: str) -> None:
    await DialerEntry.filter(id=entry_id, linkedid__isnull=True).update(linkedid=linkedid)


def result_of_call(call: Call) -> str:
    return CALL_RESULTS.get(call.result, "failed")


async def call_of_entry(entry: DialerEntry, extension: str) -> Call | None:
    """The stored call placed for `entry`: by the request id, else by the linked id, else by
    the agent's extension and the number around the time it was dialed (a call the PBX
    carried on with while the daemon was down may have lost the request id)."""
    if entry.request_id:
        call = await Call.filter(action_id=entry.request_id).first()
        if call is not None:
            return call
    if entry.linkedid:
        call = await Call.filter(linkedid=entry.linkedid).first()
        if call is not None:
            return call
    if entry.e164 and entry.dialed_at is not None and extension:
        return (
            await Call.filter(
                Q(peer_e164=entry.e164) | Q(to_number=entry.e164),
                agent_extension=extension,
                started_at__gte=entry.dialed_at - timedelta(seconds=5),
            )
            .order_by("started_at")
            .first()
        )
    return None


async def record_result(
    entry_id: int,
    result: str,
    *,
    reason: str = "",
    call_id: int | None = None,
    linkedid: str | None = None,
    ended_at: datetime,
) -> bool:
    """Store the outcome of a dialed entry and when the list's last call ended (once)."""
    changes: dict = {"state": DONE, "result": result, "reason": reason[:255], "ended_at": ended_at}
    if call_id is not None:
        changes["call_id"] = call_id
    if linkedid:
        changes["linkedid"] = linkedid
    async with in_transaction():
        updated = await DialerEntry.filter(id=entry_id, state=DIALING).update(**changes)
        if updated:
            entry = await DialerEntry.get(id=entry_id)
            await DialerList.filter(id=entry.dialer_list_id).update(last_ended_at=ended_at)
    return bool(updated)


async def finish_if_done(list_id: int, *, clock: Clock) -> bool:
    """A running list with nothing pending or being dialed is finished."""
    if await DialerEntry.filter(dialer_list_id=list_id, state__in=(PENDING, DIALING)).exists():
        return False
    updated = await DialerList.filter(id=list_id, status__in=(RUNNING, PAUSED)).update(
        status=FINISHED, finished_at=clock.now()
    )
    return bool(updated)
