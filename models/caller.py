"""Who is calling, what the agent sees when it rings, and storing the call once it ends.

`CallerDirectory` is created once by the daemon (it keeps the company's region, so a lookup
is one indexed query on Phone.e164, not two) and shared by the AMI path and the bot/web.
It also serialises auto-lead creation per number, so that two calls from the same unknown
number arriving together make one lead, not two.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.calls import CallRecord
from models.clock import Clock, SystemClock
from models.deals import OPEN_STATUSES
from models.events import CallerCard
from models.leads import create_auto_lead
from models.phones import digits, tail_range, to_e164
from models.schema.activity import Note, TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client, Phone
from models.schema.company import SourceTag
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.schema.users import User
from models.timeline import add_entry
from models.users import get_company, get_telephony

logger = logging.getLogger(__name__)

# An unreadable number matches others by its last digits only when it has at least this many.
_MIN_TAIL = 7

RESULT_LABELS = {
    "answered": "answered",
    "missed": "missed",
    "busy": "busy",
    "failed": "failed",
    "no_answer": "not answered",
}


@dataclass(frozen=True)
class RecordedCall:
    """What `record_call` did: the stored call, and the lead it created if any."""

    call: Call
    created: bool  # False when the linkedid was already stored (an update)
    lead_created: Lead | None = None

    @property
    def client_id(self) -> int | None:
        return self.call.client_id  # type: ignore[attr-defined]

    @property
    def lead_id(self) -> int | None:
        return self.call.lead_id  # type: ignore[attr-defined]


class CallerDirectory:
    """Caller lookup and call recording with the company's region read once."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._number_locks: dict[str, asyncio.Lock] = {}

    @classmethod
    async def load(cls) -> CallerDirectory:
        company = await get_company()
        return cls(company.default_region)

    async def reload(self) -> None:
        """Read the company's region again (after an admin changed it)."""
        self.region = (await get_company()).default_region

    def e164(self, number: str) -> str | None:
        return to_e164(number, self.region)

    async def find_by_phone(self, number: str) -> tuple[Client | None, Lead | None]:
        """The client (preferred) or open lead with this number, by indexed E.164 equality.

        Only a number that cannot be normalised falls back to its last digits.
        """
        e164 = self.e164(number)
        if e164:
            phones = await Phone.filter(e164=e164).order_by("id").limit(10)
        else:
            number_digits = digits(number)
            if not number_digits:
                return None, None
            # Same digits as typed first (indexed equality), then, for a long enough number
            # in an odd format, its last digits.
            phones = await Phone.filter(digits_rev=number_digits[::-1]).order_by("id").limit(10)
            if not phones and len(number_digits) >= _MIN_TAIL:
                low, high = tail_range(number_digits)
                phones = (
                    await Phone.filter(digits_rev__gte=low, digits_rev__lt=high)
                    .order_by("id")
                    .limit(10)
                )
        client_ids = [p.client_id for p in phones if p.client_id]  # type: ignore[attr-defined]
        if client_ids:
            return await Client.get_or_none(id=client_ids[0]), None
        lead_ids = [p.lead_id for p in phones if p.lead_id]  # type: ignore[attr-defined]
        if lead_ids:
            lead = (
                await Lead.filter(id__in=lead_ids)
                .exclude(status="converted")
                .order_by("id")
                .first()
            )
            return None, lead
        return None, None

    async def caller_card(self, number: str) -> CallerCard:
        """The pop-up card (name, company, open deals, last note, last call)."""
        client, lead = await self.find_by_phone(number)
        e164 = self.e164(number)
        if client is None and lead is None:
            return CallerCard(number=number, e164=e164)
        if client is not None:
            owner = {"client_id": client.id}
            deals = (
                await Deal.filter(client_id=client.id, status__in=OPEN_STATUSES)
                .order_by("-id")
                .limit(5)
            )
            open_deals = tuple(
                {
                    "id": d.id,
                    "title": d.title,
                    "amount": str(d.amount),
                    "currency": d.currency,
                    "status": d.status,
                }
                for d in deals
            )
            name, company_name = client.name, client.company_name
        else:
            assert lead is not None
            owner = {"lead_id": lead.id}
            open_deals = ()
            name, company_name = lead.name, lead.company_name
        note = await Note.filter(**owner).order_by("-created_at", "-id").first()
        last_call = await Call.filter(**owner).order_by("-started_at", "-id").first()
        return CallerCard(
            number=number,
            e164=e164,
            client_id=client.id if client else None,
            lead_id=lead.id if lead else None,
            name=name,
            company=company_name,
            open_deals=open_deals,
            last_note=note.text if note else "",
            last_call_at=last_call.started_at if last_call else None,
            last_call_result=last_call.result if last_call else "",
        )

    async def _source_tag(self, did: str) -> SourceTag | None:
        if not did:
            return None
        candidates = {did}
        did_e164 = self.e164(did)
        if did_e164:
            candidates.add(did_e164)
        return await SourceTag.filter(did__in=list(candidates)).first()

    async def record_call(self, rec: CallRecord, *, clock: Clock | None = None) -> RecordedCall:
        """Store a call once per linkedid, match it to a client or lead, auto-create a lead.

        A second record with the same linkedid (a resync, or the tracker's final word after an
        early save) updates the stored call; it never duplicates it nor its lead.
        """
        clock = clock or SystemClock()
        peer = rec.peer_number if rec.direction in ("in", "out") else ""
        if not digits(peer):
            peer = ""  # "anonymous", "unknown": nobody to match, never a lead
        peer_e164 = self.e164(peer) if peer else None
        # Serialise per number: the lookup-then-create of an auto-lead must not interleave.
        lock_key = peer_e164 or peer or rec.linkedid
        lock = self._number_locks.setdefault(lock_key, asyncio.Lock())
        try:
            async with lock:
                return await self._record(rec, peer, peer_e164, clock)
        finally:
            if not lock.locked() and self._number_locks.get(lock_key) is lock:
                del self._number_locks[lock_key]

    async def _record(
        self, rec: CallRecord, peer: str, peer_e164: str | None, clock: Clock
    ) -> RecordedCall:
        agent = (
            await User.get_or_none(extension=rec.agent_extension) if rec.agent_extension else None
        )
        values = {
            "action_id": rec.action_id,
            "direction": rec.direction,
            "from_number": rec.from_number[:64],
            "to_number": rec.to_number[:64],
            "peer_e164": peer_e164,
            "did": (rec.did or (rec.to_number if rec.direction == "in" else ""))[:64],
            "agent_id": agent.id if agent else None,
            "agent_extension": rec.agent_extension[:20],
            "result": rec.result,
            "started_at": rec.started_at,
            "answered_at": rec.answered_at,
            "ended_at": rec.ended_at,
            "wait_seconds": max(0, rec.wait_seconds),
            "talk_seconds": max(0, rec.talk_seconds),
            "hangup_cause": rec.hangup_cause,
            "transfers": list(rec.transfers),
        }
        if rec.recording_path:
            values["recording_path"] = rec.recording_path[:500]
        call = await Call.get_or_none(linkedid=rec.linkedid)
        created = call is None
        previous_start = None if call is None else call.started_at
        lead_created: Lead | None = None
        async with in_transaction():
            if call is None:
                try:
                    async with in_transaction():  # a savepoint: PostgreSQL survives the clash
                        call = await Call.create(linkedid=rec.linkedid, **values)
                except IntegrityError:
                    # Another process stored this linkedid between our read and write.
                    call = await Call.get(linkedid=rec.linkedid)
                    created = False
                    previous_start = call.started_at
            if not created:
                await call.update_from_dict(values).save()
            if peer and call.client_id is None and call.lead_id is None:  # type: ignore[attr-defined]
                client, lead = await self.find_by_phone(peer)
                if client is None and lead is None and await self._wants_autolead(rec):
                    lead = lead_created = await self._auto_lead(rec, peer, agent, clock)
                call.client_id = client.id if client else None  # type: ignore[attr-defined]
                call.lead_id = lead.id if lead else None  # type: ignore[attr-defined]
                await call.save(update_fields=["client_id", "lead_id"])
            await self._timeline(call, agent, None if created else previous_start)
        logger.info(
            "call %s %s (%s) %s: client=%s lead=%s%s",
            rec.linkedid,
            "stored" if created else "updated",
            rec.direction,
            rec.result,
            call.client_id,
            call.lead_id,  # type: ignore[attr-defined]
            f" auto-lead {lead_created.id}" if lead_created else "",
        )
        return RecordedCall(call=call, created=created, lead_created=lead_created)

    async def contact_for_sms(
        self,
        number: str,
        *,
        responsible_id: int | None = None,
        clock: Clock | None = None,
    ) -> tuple[Client | None, Lead | None, bool]:
        """The client or lead an SMS from `number` belongs to; an unknown number becomes a lead
        when the telephony setting "auto-lead on SMS" is on (E3, G4).

        Returns (client, lead, created); serialised per number like calls, so an SMS and a call
        from the same new number at the same moment still make one lead.
        """
        clock = clock or SystemClock()
        key = self.e164(number) or number
        lock = self._number_locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                client, lead = await self.find_by_phone(number)
                if client is not None or lead is not None or not digits(number):
                    return client, lead, False
                if not (await get_telephony()).is_autolead_sms:
                    return None, None, False
                lead = await create_auto_lead(
                    number,
                    source="sms",
                    responsible_id=responsible_id,
                    clock=clock,
                    region=self.region,
                )
                return None, lead, True
        finally:
            if not lock.locked() and self._number_locks.get(key) is lock:
                del self._number_locks[key]

    async def _wants_autolead(self, rec: CallRecord) -> bool:
        telephony = await get_telephony()
        if rec.direction == "in":
            return telephony.is_autolead_inbound
        if rec.direction == "out":
            return telephony.is_autolead_outbound
        return False

    async def _auto_lead(
        self, rec: CallRecord, peer: str, agent: User | None, clock: Clock
    ) -> Lead:
        tag = await self._source_tag(rec.did or rec.to_number) if rec.direction == "in" else None
        # Inbound: the agent who answered takes it; nobody answered leaves it unhandled (E1).
        # Outbound: the agent who dialed it.
        if rec.direction == "in" and rec.result != "answered":
            responsible_id = None
        else:
            responsible_id = agent.id if agent else None
        return await create_auto_lead(
            peer,
            source="call",
            source_tag_id=tag.id if tag else None,
            responsible_id=responsible_id,
            clock=clock,
            region=self.region,
        )

    async def _timeline(self, call: Call, agent: User | None, entry_at: datetime | None) -> None:
        """Add the call to the timeline, or refresh its entry when the call was stored before.

        The entry is found by its time (indexed) and the call id, never by a scan of ref_id.
        """
        client_id = call.client_id  # type: ignore[attr-defined]
        lead_id = call.lead_id  # type: ignore[attr-defined]
        if client_id is None and lead_id is None:
            return
        summary = _call_summary(call, agent)
        entry = None
        if entry_at is not None:
            entry = await TimelineEntry.filter(at=entry_at, kind="call", ref_id=call.id).first()
        if entry is None:
            await add_entry(
                "call",
                call.started_at,
                client_id=client_id,
                lead_id=lead_id,
                ref_id=call.id,
                summary=summary,
                user_id=agent.id if agent else None,
            )
        else:
            entry.summary = summary[:500]
            entry.client_id = client_id  # type: ignore[attr-defined]
            entry.lead_id = lead_id  # type: ignore[attr-defined]
            entry.user_id = agent.id if agent else None  # type: ignore[attr-defined]
            entry.at = call.started_at
            await entry.save()


def _call_summary(call: Call, agent: User | None) -> str:
    direction = {"in": "Inbound", "out": "Outbound"}.get(call.direction, "Internal")
    text = f"{direction} call {RESULT_LABELS.get(call.result, call.result)}"
    if agent is not None:
        text += f" ({agent})"
    if call.talk_seconds:
        minutes, seconds = divmod(call.talk_seconds, 60)
        text += f", {minutes}:{seconds:02d}"
    return text


async def find_by_phone(number: str) -> tuple[Client | None, Lead | None]:
    """One-off lookup; long-lived callers should keep a `CallerDirectory`."""
    return await (await CallerDirectory.load()).find_by_phone(number)


async def caller_card(number: str) -> CallerCard:
    return await (await CallerDirectory.load()).caller_card(number)


async def record_call(rec: CallRecord, *, clock: Clock | None = None) -> RecordedCall:
    return await (await CallerDirectory.load()).record_call(rec, clock=clock)
