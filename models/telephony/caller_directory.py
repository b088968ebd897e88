"""Who is calling, what the agent sees when it rings, and storing the call once it ends.

`CallerDirectory` is created once by the daemon (it keeps the company's region, so a lookup
is one indexed query on Phone.e164, not two) and shared by the AMI path and the bot/web, with
the extension directory and the per-number locks: everything that may make a lead of a number
(a finished call, an SMS, an agent saving the caller) takes that number's lock, so two of them
at the same moment make one lead, not two.
"""

from __future__ import annotations

import asyncio
import logging

from tortoise import connections

from models.contacts.phones import digits, tail_range, to_e164
from models.core.clock import Clock, SystemClock
from models.core.events import CallerCard
from models.people.users import get_company, get_telephony
from models.sales.auto_lead import SMS, auto_lead_for, caller_id_name
from models.sales.deals import OPEN_STATUSES
from models.sales.leads import create_auto_lead
from models.schema.activity import Note
from models.schema.calls import Call
from models.schema.clients import Client, Phone
from models.schema.deals import Deal
from models.schema.leads import Lead
from models.telephony.call_record import CallRecord
from models.telephony.call_store import CallStore, Pending, RecordedCall
from models.telephony.extensions import ExtensionDirectory
from models.telephony.number_locks import NumberLocks

logger = logging.getLogger(__name__)

# An unreadable number matches others by its last digits only when it has at least this many.
_MIN_TAIL = 7
# Numbers whose E.164 form is remembered (then forgotten all at once: a simple bound).
_E164_CACHE = 4096


class CallerDirectory:
    """Caller lookup and call recording with the company's region read once."""

    def __init__(
        self,
        region: str,
        *,
        extensions: ExtensionDirectory | None = None,
        writers: int = 1,
    ) -> None:
        self.region = region
        # One lock per number for everything that may make a lead of it: a finished call's
        # auto-lead, an SMS's, and an agent saving the caller from the widget or the bot.
        self.number_locks = NumberLocks()
        self.extensions = extensions or ExtensionDirectory()
        # Batches written at once: SQLite has one connection that a transaction holds whole,
        # so one; PostgreSQL writes in parallel.
        self._writers = asyncio.Semaphore(max(1, writers))
        # Batches being written, kept until they end even when their caller was cancelled.
        self._writing: set[asyncio.Task[None]] = set()
        self.store = CallStore(self)
        self._e164: dict[str, str | None] = {}

    @classmethod
    async def load(cls, extensions: ExtensionDirectory | None = None) -> CallerDirectory:
        company = await get_company()
        return cls(company.default_region, extensions=extensions, writers=_writers_for_database())

    def forget_cached(self) -> None:
        """Drop the cached DID -> source tag map (it also expires on its own after a minute)."""
        self.store.forget_cached()

    async def reload(self) -> None:
        """Read the company's region again (after an admin changed it)."""
        self.region = (await get_company()).default_region
        self._e164.clear()

    def lock_key(self, number: str) -> str:
        """The key of a number's lock: its E.164 form, else the number as given."""
        return self.e164(number) or number

    def e164(self, number: str) -> str | None:
        """The number in E.164 for the company's region. Remembered: a call's number is
        normalised at ringing, on storing and for the missed-call card, and parsing is the
        costliest Python step of the path (about 0.2 ms)."""
        try:
            return self._e164[number]
        except KeyError:
            pass
        if len(self._e164) >= _E164_CACHE:
            self._e164.clear()
        found = self._e164[number] = to_e164(number, self.region)
        return found

    async def find_by_phone(self, number: str) -> tuple[Client | None, Lead | None]:
        """The client (preferred) or open lead with this number, by indexed E.164 equality.

        Only a number that cannot be normalised falls back to its last digits.
        """
        e164 = self.e164(number)
        if e164:
            # One round trip for a client and for an unknown number; a lead needs a second.
            client, lead_ids = await _owners_with_e164(e164)
            if client is not None or not lead_ids:
                return client, None
            return None, await _first_open_lead(lead_ids)
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
        client_ids = [p.client_id for p in phones if p.client_id]
        if client_ids:
            return await Client.get_or_none(id=client_ids[0]), None
        lead_ids = [p.lead_id for p in phones if p.lead_id]
        return None, (await _first_open_lead(lead_ids) if lead_ids else None)

    async def caller_card(self, number: str, caller_name: str = "") -> CallerCard:
        """The pop-up card (name, company, open deals, last note, last call), with the name
        the PBX gave (`caller_name`, CallerIDName) when it names someone."""
        client, lead = await self.find_by_phone(number)
        e164 = self.e164(number)
        pbx_name = caller_id_name(caller_name, number)
        if client is None and lead is None:
            return CallerCard(number=number, e164=e164, caller_name=pbx_name)
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
            caller_name=pbx_name,
        )

    async def record_calls(
        self, records: list[CallRecord], *, clock: Clock | None = None
    ) -> list[RecordedCall | Exception]:
        """Store finished calls in one transaction: each once per linkedid, matched to a client
        or lead, with an auto-lead for an unknown number (one per number, under its lock).

        A second record with the same linkedid (a resync, or the tracker's final word after an
        early save) updates the stored call; it never duplicates it nor its lead. The result
        holds, in order, each call's outcome or the error that kept it from being stored (a
        failed batch is retried call by call, so one bad call never loses the others).
        The caller batches (the calls service hands over every call that ended meanwhile);
        this writes. Cancelling the caller neither cancels nor rolls back a batch under way.
        """
        clock = clock or SystemClock()
        loop = asyncio.get_running_loop()
        batch = [Pending(rec, clock, loop.create_future()) for rec in records]
        if not batch:
            return []
        # The writer slot is held by the batch, not by its caller: a cancelled caller leaves
        # its batch writing, and the next batch still waits for a free slot.
        await self._writers.acquire()
        writing = loop.create_task(self.store.store(batch), name="caller-directory-store")
        self._writing.add(writing)
        writing.add_done_callback(self._written)
        await asyncio.shield(writing)
        results: list[RecordedCall | Exception] = []
        for item in batch:
            error = item.done.exception()
            results.append(error if isinstance(error, Exception) else item.done.result())
        return results

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writing.discard(task)
        self._writers.release()

    async def wait_for_writes(self) -> None:
        """Wait until every batch under way is written, also those whose caller was cancelled
        (a stopping daemon calls it before it closes the database)."""
        while self._writing:
            await asyncio.wait(set(self._writing))

    async def record_call(self, rec: CallRecord, *, clock: Clock | None = None) -> RecordedCall:
        """Store one finished call (see `record_calls`); raises what kept it from being stored."""
        (result,) = await self.record_calls([rec], clock=clock)
        if isinstance(result, Exception):
            raise result
        return result

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
        async with self.number_locks.hold([self.lock_key(number)]):
            client, lead = await self.find_by_phone(number)
            if client is not None or lead is not None:
                return client, lead, False
            plan = auto_lead_for(
                number,
                region=self.region,
                switches=await get_telephony(),
                source=SMS,
                agent_id=responsible_id,
            )
            if plan is None:
                return None, None, False
            return None, await create_auto_lead(plan, clock=clock), True


# The phones with this number, a client's first (its columns then filled), then the leads'.
_OWNERS_BY_E164 = (
    "SELECT c.*, p.lead_id AS owner_lead_id FROM phone p "
    "LEFT JOIN client c ON c.id = p.client_id "
    "WHERE p.e164 = {param} ORDER BY p.client_id IS NULL, p.id LIMIT 10"
)


async def _owners_with_e164(e164: str) -> tuple[Client | None, list[int]]:
    """The first client owning this E.164 number, else the ids of the leads that have it, in
    one parameterised query.

    Written once instead of built by the query builder on every ringing call: building the
    SQL cost more than running it (bench/bench_lookup.py).
    """
    conn = connections.get("default")
    param = "$1" if conn.capabilities.dialect == "postgres" else "?"
    rows = await conn.execute_query_dict(_OWNERS_BY_E164.format(param=param), [e164])
    if rows and rows[0]["id"] is not None:
        row = dict(rows[0])
        del row["owner_lead_id"]
        return Client._init_from_db(**row), []
    return None, [int(r["owner_lead_id"]) for r in rows if r["owner_lead_id"] is not None]


async def _first_open_lead(lead_ids: list[int]) -> Lead | None:
    """The oldest of these leads that is not converted yet."""
    return await Lead.filter(id__in=lead_ids).exclude(status="converted").order_by("id").first()


async def find_by_phone(number: str) -> tuple[Client | None, Lead | None]:
    """One-off lookup; long-lived callers should keep a `CallerDirectory`."""
    return await (await CallerDirectory.load()).find_by_phone(number)


async def caller_card(number: str, caller_name: str = "") -> CallerCard:
    return await (await CallerDirectory.load()).caller_card(number, caller_name)


async def record_call(rec: CallRecord, *, clock: Clock | None = None) -> RecordedCall:
    return await (await CallerDirectory.load()).record_call(rec, clock=clock)


def _writers_for_database() -> int:
    """SQLite writes one transaction at a time on its one connection; PostgreSQL stores
    batches in parallel."""
    try:
        dialect = connections.get("default").capabilities.dialect
    except Exception:  # no database opened yet: be conservative
        return 1
    return 1 if dialect == "sqlite" else 4


__all__ = ["CallerDirectory", "RecordedCall", "caller_card", "find_by_phone", "record_call"]
