"""Calls in progress as the front-ends see them, and what an agent does with a call (L1-L4).

`LiveBoard` is the in-memory picture of the calls ringing or under way and of every extension's
state, kept up to date from the hub's call events. It does no I/O: a front-end owns one and feeds
it every event it receives, so the pop-ups, the team tab and the permission checks agree.

The rest are the domain operations of the widget and the calls page: save an unknown caller as a
client or a lead during the call (reusing the auto-lead), a note during the call, and the call
list with its filters, visibility rule and recording file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.contacts import timeline_text
from models.contacts.clients import ClientInput, create_client
from models.contacts.contact_details import not_a_phone, search_key
from models.contacts.notes import add_note
from models.contacts.phones import NotAPhoneError, phone_text, to_e164
from models.contacts.timeline import add_entry
from models.core.clock import Clock, SystemClock
from models.core.errors import PermissionDenied, ValidationFailed, msg
from models.core.events import (
    CallAnswered,
    CallEnded,
    CallerCard,
    CallMissed,
    CallRang,
    CallStoppedRinging,
    CallTransferred,
    ExtensionStateChanged,
)
from models.core.hub import Hub
from models.people.permissions import CALLS, LEADS, has_right, may_edit, may_see
from models.people.schedule import is_working
from models.people.users import get_company
from models.sales.leads import LeadInput, convert_lead, create_lead
from models.schema.activity import Note, TimelineEntry
from models.schema.calls import Call
from models.schema.leads import Lead
from models.schema.users import User
from models.telephony.caller_directory import CallerDirectory

logger = logging.getLogger(__name__)

# What the PBX may call a device state, and what the team tab shows for it.
_DEVICE_STATES = {
    "free": "free",
    "not_inuse": "free",
    "idle": "free",
    "ringing": "ringing",
    "ringinuse": "on_call",
    "busy": "on_call",
    "inuse": "on_call",
    "onhold": "on_call",
    "unavailable": "offline",
    "invalid": "offline",
    "unknown": "free",
}
STALE_CALL_SECONDS = 6 * 3600


@dataclass
class LiveCall:
    """One call under way: who it rings or talks to, and the caller's card."""

    linkedid: str
    direction: str
    card: CallerCard
    did: str = ""
    started_at: datetime | None = None
    answered_at: datetime | None = None
    # extension -> "ringing" | "talking"
    legs: dict[str, str] = field(default_factory=dict)
    seen: float = field(default_factory=time.monotonic)

    @property
    def number(self) -> str:
        return self.card.number


class LiveBoard:
    """Calls ringing or under way, and the device state of every extension."""

    def __init__(self) -> None:
        self.calls: dict[str, LiveCall] = {}
        self.devices: dict[str, str] = {}

    def apply(self, event: Any) -> LiveCall | None:
        """Take one hub event into account; returns the call it concerns (before removal)."""
        if isinstance(event, ExtensionStateChanged):
            state = event.state.strip().lower().replace(" ", "_")
            self.devices[event.extension] = _DEVICE_STATES.get(state, "free")
            return None
        if isinstance(event, CallRang):
            call = self.calls.get(event.linkedid)
            if call is None:
                self._forget_stale()
                call = self.calls[event.linkedid] = LiveCall(
                    event.linkedid, event.direction, event.card, event.did, event.at
                )
            elif event.card.is_known or not call.card.is_known:
                call.card = event.card
            call.legs[event.extension] = "ringing"
            return call
        call = self.calls.get(getattr(event, "linkedid", ""))
        if call is None:
            return None
        if isinstance(event, CallAnswered):
            call.answered_at = call.answered_at or event.at
            call.legs = {event.extension: "talking"}
        elif isinstance(event, CallStoppedRinging):
            call.legs.pop(event.extension, None)
        elif isinstance(event, CallTransferred):
            state = call.legs.pop(event.from_extension, "talking")
            call.legs[event.to_extension] = state
        elif isinstance(event, CallEnded | CallMissed):
            call.legs.pop(event.extension, None)
            if not call.legs or isinstance(event, CallEnded):
                self.calls.pop(call.linkedid, None)
        return call

    def _forget_stale(self) -> None:
        """A call whose end was never reported (a lost link) must not ring forever."""
        oldest = time.monotonic() - STALE_CALL_SECONDS
        for linkedid in [k for k, c in self.calls.items() if c.seen < oldest]:
            del self.calls[linkedid]

    def state_of(self, extension: str) -> str:
        """free, ringing, on_call or offline: live calls first, then the device state."""
        states = {c.legs.get(extension) for c in self.calls.values()}
        if "talking" in states:
            return "on_call"
        if "ringing" in states:
            return "ringing"
        return self.devices.get(extension, "free")

    def calls_of(self, extension: str) -> list[LiveCall]:
        return [c for c in self.calls.values() if extension in c.legs]

    def set_card(self, linkedid: str, card: CallerCard) -> None:
        call = self.calls.get(linkedid)
        if call is not None:
            call.card = card


def may_handle_call(user: User, call: LiveCall | None, stored: Call | None) -> bool:
    """An agent acts on a call that rings or rang for them; calls.view_all acts on any."""
    if call is not None and user.extension and user.extension in call.legs:
        return True
    if stored is not None:
        return may_see(user, CALLS, stored.agent_id)
    return has_right(user, "calls.view_all")


@dataclass(frozen=True)
class SavedCaller:
    client_id: int | None
    lead_id: int | None
    reused: bool  # an existing lead (the auto-lead) was used rather than a new one made
    call_id: int | None  # the stored call it was linked to, when the call is already stored


async def save_caller(
    user: User,
    *,
    linkedid: str,
    number: str,
    kind: str,
    name: str,
    company_name: str = "",
    clock: Clock | None = None,
    callers: CallerDirectory | None = None,
    hub: Hub | None = None,
) -> SavedCaller:
    """Save the caller of a call under way as a client or a lead (L3), and link the call to it.

    An open lead with the number (the auto-lead the PBX link made for this call, or an earlier
    one) is reused: renamed, taken by the agent, or converted when a client is asked for. A call
    not stored yet is matched to the saved caller by its number when it is recorded.
    `callers` is the daemon's caller directory, whose per-number lock the call store holds too.
    With a `hub`, a client or lead made here is published (webhooks).
    """
    clock = clock or SystemClock()
    if kind not in ("client", "lead"):
        raise ValidationFailed({"kind": msg("choose client or lead")})
    name = (name or "").strip()
    if kind == "client" and not name:
        raise ValidationFailed({"name": msg("the client needs a name")})
    try:
        phone_text(number)  # the rule of the client and lead forms
    except NotAPhoneError as err:
        raise ValidationFailed({"number": not_a_phone(err)}) from None
    callers = callers or await CallerDirectory.load()
    e164 = callers.e164(number)  # the company's region, as the call store reads the number
    if e164 is None:
        raise ValidationFailed(
            {"number": msg("Phone: “%(value)s” is not a complete number", value=number.strip())}
        )
    # The number's lock, shared with the call store: the call ending meanwhile (and its
    # auto-lead) waits until this caller is saved, and then finds it.
    async with callers.number_locks.hold([e164]):
        stored = await Call.get_or_none(linkedid=linkedid)
        client, lead = await callers.find_by_phone(e164)
        if client is not None:
            # Known meanwhile (a colleague saved it): link, never duplicate.
            client_id, lead_id, reused = client.id, None, True
        else:
            lead = await _lead_of(stored) or lead
            reused = lead is not None
            if lead is not None:
                lead = await _take_lead(user, lead, name, company_name)
                if kind == "client":
                    converted = await convert_lead(user, lead.id, clock=clock, hub=hub)
                    client_id, lead_id = converted.id, lead.id
                else:
                    client_id, lead_id = None, lead.id
            elif kind == "client":
                made_client = await create_client(
                    user,
                    ClientInput(name=name, phones=[e164], company_name=company_name),
                    clock=clock,
                    hub=hub,
                )
                client_id, lead_id = made_client.id, None
            else:
                made = await create_lead(
                    user,
                    LeadInput(name=name, phones=[e164], company_name=company_name, source="call"),
                    clock=clock,
                    hub=hub,
                )
                client_id, lead_id = None, made.id
        if stored is not None:
            await _link(stored, client_id, lead_id, clock)
    logger.info(
        "caller %s of call %s saved by %s as %s (client=%s lead=%s reused=%s)",
        e164,
        linkedid,
        user.username,
        kind,
        client_id,
        lead_id,
        reused,
    )
    return SavedCaller(client_id, lead_id, reused, stored.id if stored else None)


async def _lead_of(stored: Call | None) -> Lead | None:
    if stored is None or stored.lead_id is None:
        return None
    return await Lead.get_or_none(id=stored.lead_id, status="open")


async def _take_lead(user: User, lead: Lead, name: str, company_name: str) -> Lead:
    """The agent names the lead and takes it when nobody has it (an unhandled auto-lead)."""
    if not may_edit(user, LEADS, lead.responsible_id):
        raise PermissionDenied(msg("this number is a lead of another user"))
    changed = []
    if name and name != lead.name:
        lead.name = name[:200]
        changed.append("name")
    if company_name and company_name != lead.company_name:
        lead.company_name = company_name[:200]
        lead.company_key = search_key(lead.company_name)[:200]
        changed += ["company_name", "company_key"]
    if lead.responsible_id is None:
        lead.responsible_id = user.id
        changed.append("responsible_id")
    if changed:
        if "name" in changed:
            lead.name_key = search_key(lead.name)[:200]
            changed.append("name_key")
        await lead.save(update_fields=changed)
    return lead


async def _link(call: Call, client_id: int | None, lead_id: int | None, clock: Clock) -> None:
    if call.client_id == client_id and call.lead_id == lead_id:
        return
    call.client_id = client_id
    call.lead_id = lead_id
    await call.save(update_fields=["client_id", "lead_id"])
    updated = await TimelineEntry.filter(kind="call", ref_id=call.id).update(
        client_id=client_id, lead_id=lead_id
    )
    if not updated:
        await add_entry(
            "call",
            call.started_at or clock.now(),
            client_id=client_id,
            lead_id=lead_id,
            ref_id=call.id,
            user_id=call.agent_id,
            detail=timeline_text.detail("call_with", number=call.peer_e164 or call.from_number),
        )


async def add_call_note(
    user: User,
    text: str,
    *,
    linkedid: str,
    card: CallerCard | None,
    clock: Clock | None = None,
) -> Note:
    """A note typed during the call: on the stored call if there is one, else on its caller."""
    stored = await Call.get_or_none(linkedid=linkedid)
    if stored is not None and (stored.client_id or stored.lead_id):
        return await add_note(user, text, call_id=stored.id, clock=clock)
    client_id = card.client_id if card else None
    lead_id = card.lead_id if card else None
    if client_id is None and lead_id is None:
        raise ValidationFailed({"text": msg("save the caller as a client or a lead first")})
    return await add_note(
        user,
        text,
        client_id=client_id,
        lead_id=None if client_id else lead_id,
        call_id=stored.id if stored else None,
        clock=clock,
    )


def check_may_place_call(user: User, widget_mode: str, now: datetime) -> None:
    """Calls need the agent's extension, and working hours when the widget mode says so."""
    if not user.extension:
        raise ValidationFailed({"extension": msg("set your PBX extension in your profile to call")})
    if widget_mode == "working_hours" and not is_working(user, now):
        raise PermissionDenied(
            msg("outside your working hours the web phone is off: calls cannot be placed now")
        )


async def dial_target(number: str) -> str:
    """What the widget asks the PBX to dial: a colleague's extension as is, else E.164."""
    text = (number or "").strip()
    if not text:
        raise ValidationFailed({"number": msg("type a number to call")})
    if (
        text.isdigit()
        and len(text) <= 6
        and await User.filter(extension=text, is_active=True).exists()
    ):
        return text
    e164 = to_e164(text, (await get_company()).default_region)
    if e164 is None:
        raise ValidationFailed({"number": msg("%(number)s is not a phone number", number=text)})
    return e164


async def stored_call(linkedid: str) -> Call | None:
    return await Call.get_or_none(linkedid=linkedid)


async def colleague_with_extension(extension: str) -> User | None:
    return await User.get_or_none(extension=extension, is_active=True)
