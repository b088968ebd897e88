"""Writing finished calls in batches: the engine behind `CallerDirectory.record_calls`.

A batch is stored in one transaction: the lookups it needs are done once for all of its
calls (stored linkedids, phone owners, telephony settings), its new leads, their phones, its
calls and the timeline entries are written with one INSERT per table (primary keys reserved
in one query, so the rows can refer to each other); agents come from the extension directory
and source tags by DID from a short-lived cache. A batch costs about ten statements and one commit
whatever its size, where a call alone used to cost fifteen and a commit. The per-number
locks of every number in the batch are held until the commit, so a lead made in the batch is
visible before anyone else may look for that number.

When a batch fails (a clash with another process storing the same linkedid, a bad record)
it is rolled back and each call is stored alone, so one bad call never loses the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.contacts import timeline_text
from models.contacts.phones import digits
from models.core.clock import Clock
from models.core.db import is_database_busy
from models.core.labels import CALL_RESULT_LABELS
from models.people.users import get_telephony
from models.sales.auto_lead import CALL, AutoLead, auto_lead_for, caller_id_name
from models.schema.activity import TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client, Phone
from models.schema.company import SourceTag, TelephonySettings
from models.schema.leads import Lead
from models.telephony.call_record import CallRecord
from models.telephony.extensions import ExtensionDirectory
from models.telephony.number_locks import NumberLocks

logger = logging.getLogger(__name__)

_CACHE_TTL = 60.0  # seconds a cached source tag is trusted

RESULT_LABELS = CALL_RESULT_LABELS  # their English names (models/core/labels.py)


@dataclass(frozen=True)
class RecordedCall:
    """What `record_call` did: the stored call, and the lead it created if any."""

    call: Call
    created: bool  # False when the linkedid was already stored (an update)
    lead_created: Lead | None = None

    @property
    def client_id(self) -> int | None:
        return self.call.client_id

    @property
    def lead_id(self) -> int | None:
        return self.call.lead_id


@dataclass
class Pending:
    """A call waiting for a writer, and where its caller waits for the outcome."""

    rec: CallRecord
    clock: Clock
    done: asyncio.Future[RecordedCall]

    def settle(self, result: RecordedCall | None, error: BaseException | None = None) -> None:
        if self.done.done():  # its caller was cancelled meanwhile
            return
        if error is not None:
            self.done.set_exception(error)
        else:
            self.done.set_result(result)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Agent:
    """The user behind an extension, as much of it as a stored call needs."""

    id: int
    label: str

    def __str__(self) -> str:
        return self.label


class Directory(Protocol):
    region: str
    number_locks: NumberLocks
    extensions: ExtensionDirectory

    def e164(self, number: str) -> str | None: ...

    async def find_by_phone(self, number: str) -> tuple[Client | None, Lead | None]: ...


@dataclass
class _Batch:
    """What one transaction has learnt so far, shared by its calls."""

    calls: dict[str, Call]  # linkedid -> stored call
    owners: dict[str, tuple[int | None, int | None]]  # e164 -> (client_id, lead_id)
    conn: BaseDBAsyncClient | None = None  # the transaction, once begun
    entries: list[TimelineEntry] = field(default_factory=list)  # in order, ids filled at flush
    telephony: TelephonySettings | None = None
    # Rows written together at the end, ids reserved in one query per table:
    new_leads: list[tuple[Lead, Phone | None, TimelineEntry]] = field(default_factory=list)
    planned: dict[str, Lead] = field(default_factory=dict)  # number -> lead of this batch
    new_calls: list[tuple[Call, Lead | None, TimelineEntry | None]] = field(default_factory=list)


class CallStore:
    """Stores batches of finished calls for a `CallerDirectory`."""

    def __init__(
        self, directory: Directory, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.directory = directory
        self._monotonic = monotonic
        self._tags: dict[str, int | None] = {}
        self._cached_at = float("-inf")
        # Committed transactions and the calls they stored (calls per commit, for benches).
        self.transactions = 0
        self.calls_stored = 0

    def forget_cached(self) -> None:
        self._tags.clear()
        self._cached_at = float("-inf")

    # -- batches ----------------------------------------------------------------------

    async def store(self, batch: list[Pending]) -> None:
        """Store the batch and settle every call's future (result or error)."""
        try:
            results = await self._together(batch)
        except asyncio.CancelledError:
            for item in batch:
                if not item.done.done():
                    item.done.cancel()
            raise
        except Exception as err:
            if is_database_busy(err):
                # Busy or unreachable: one by one would only wait as long again per call.
                for item in batch:
                    item.settle(None, err)
            elif len(batch) > 1:
                logger.warning(
                    "storing %d calls together failed (%s); storing them one by one",
                    len(batch),
                    err,
                )
                for item in batch:
                    await self._alone(item)
            elif isinstance(err, IntegrityError):
                await self._alone(batch[0])
            else:
                batch[0].settle(None, err)
            return
        for item, result in zip(batch, results, strict=True):
            item.settle(result)

    async def _alone(self, item: Pending) -> None:
        """Store one call in its own transaction; a linkedid clash (another process stored
        it between our read and write) is retried once, as the update it now is."""
        for attempt in range(2):
            try:
                (result,) = await self._together([item])
            except IntegrityError as err:
                if attempt == 0:
                    continue
                item.settle(None, err)
            except Exception as err:
                item.settle(None, err)
            else:
                item.settle(result)
            return

    async def _together(self, batch: list[Pending]) -> list[RecordedCall]:
        directory = self.directory
        prepared = []
        for item in batch:
            rec = item.rec
            peer = rec.peer_number if rec.direction in ("in", "out") else ""
            if not digits(peer):
                peer = ""  # "anonymous", "unknown": nobody to match, never a lead
            peer_e164 = directory.e164(peer) if peer else None
            prepared.append((item, peer, peer_e164))
        # Serialise per number: the lookup-then-create of an auto-lead must not interleave.
        keys = [peer_e164 or peer or item.rec.linkedid for item, peer, peer_e164 in prepared]
        results: list[RecordedCall] = []
        async with directory.number_locks.hold(keys):
            # Reads first, outside the transaction: on SQLite a transaction keeps the one
            # connection from everyone else (pop-up lookups included) until it commits. The
            # number locks (and the unique linkedid) keep what was read true meanwhile.
            agents = await self._agents_for({i.rec.agent_extension for i in batch})
            linkedids = [item.rec.linkedid for item in batch]
            state = _Batch(
                calls={c.linkedid or "": c for c in await Call.filter(linkedid__in=linkedids)},
                owners=await _owners_of({e for _, _, e in prepared if e}),
            )
            if any(p and (not e or e not in state.owners) for _, p, e in prepared):
                state.telephony = await get_telephony()  # someone may need an auto-lead
            async with in_transaction() as conn:
                state.conn = conn
                for item, peer, peer_e164 in prepared:
                    agent = agents.get(item.rec.agent_extension)
                    results.append(
                        await self._record(state, item.rec, peer, peer_e164, agent, item.clock)
                    )
                await _flush(conn, state)
        self.transactions += 1
        self.calls_stored += len(results)
        for result in results:
            call = result.call
            logger.info(
                "call %s %s (%s) %s: client=%s lead=%s%s",
                call.linkedid,
                "stored" if result.created else "updated",
                call.direction,
                call.result,
                call.client_id,
                call.lead_id,
                f" auto-lead {result.lead_created.id}" if result.lead_created else "",
            )
        return results

    # -- one call ---------------------------------------------------------------------

    async def _record(
        self,
        state: _Batch,
        rec: CallRecord,
        peer: str,
        peer_e164: str | None,
        agent: Agent | None,
        clock: Clock,
    ) -> RecordedCall:
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
        name = caller_id_name(rec.caller_name, peer) if peer else ""
        if name:  # a later word without the name (a resync) keeps the one stored
            values["caller_name"] = name
        call = state.calls.get(rec.linkedid)
        if call is None:
            client_id, lead_id, lead_created = await self._match(
                state, rec, peer, peer_e164, agent, clock, defer=True
            )
            # Written at the end with the batch's other new calls (one INSERT for all).
            call = Call(linkedid=rec.linkedid, client_id=client_id, lead_id=lead_id, **values)
            state.calls[rec.linkedid] = call
            pending_lead = None
            if client_id is None and lead_id is None and peer:
                pending_lead = state.planned.get(peer_e164 or digits(peer))
            entry = None
            if client_id is not None or lead_id is not None or pending_lead is not None:
                detail = _call_detail(call, agent)
                entry = TimelineEntry(
                    kind="call",
                    at=call.started_at,
                    client_id=client_id,
                    lead_id=lead_id,
                    summary=timeline_text.english(detail)[:500],
                    detail=detail,
                    user_id=agent.id if agent else None,
                )
                state.entries.append(entry)
            state.new_calls.append((call, pending_lead, entry))
            return RecordedCall(call=call, created=True, lead_created=lead_created)
        # Stored before (a resync, or the tracker's final word): update it and its entry.
        previous_start = call.started_at
        await call.update_from_dict(values).save()
        lead_created = None
        if peer and call.client_id is None and call.lead_id is None:
            client_id, lead_id, lead_created = await self._match(
                state, rec, peer, peer_e164, agent, clock
            )
            call.client_id = client_id
            call.lead_id = lead_id
            await call.save(update_fields=["client_id", "lead_id"])
        await _refresh_entry(call, agent, previous_start)
        return RecordedCall(call=call, created=False, lead_created=lead_created)

    async def _match(
        self,
        state: _Batch,
        rec: CallRecord,
        peer: str,
        peer_e164: str | None,
        agent: Agent | None,
        clock: Clock,
        *,
        defer: bool = False,
    ) -> tuple[int | None, int | None, Lead | None]:
        """(client_id, lead_id, the lead made now if any) for the call's other party.

        With `defer` a new lead is only planned (its id comes at the flush, lead_id is None
        then): a later call of the batch from the same number gets the same planned lead.
        """
        if not peer:
            return None, None, None
        key = peer_e164 or digits(peer)
        planned = state.planned.get(key)
        if planned is not None:
            if planned.id is None and not defer:  # a call being updated needs the id now
                assert state.conn is not None
                await _flush_leads(state, state.conn)
            return None, planned.id, None
        if peer_e164:
            client_id, lead_id = state.owners.get(peer_e164, (None, None))
        else:
            client, lead = await self.directory.find_by_phone(peer)
            client_id, lead_id = (client.id if client else None), (lead.id if lead else None)
        if client_id is not None or lead_id is not None:
            return client_id, lead_id, None
        if state.telephony is None:
            state.telephony = await get_telephony()
        plan = auto_lead_for(
            peer,
            region=self.directory.region,
            switches=state.telephony,
            source=CALL,
            direction=rec.direction,
            answered=rec.result == "answered",
            agent_id=agent.id if agent else None,
            caller_name=rec.caller_name,
        )
        if plan is None:
            return None, None, None
        if rec.direction == "in":  # the tracking number it was dialed on names its source
            plan = replace(plan, source_tag_id=await self._tag_for(rec.did or rec.to_number))
        lead = await _auto_lead(state, plan, clock, defer=defer)
        state.planned[key] = lead
        if defer:
            return None, None, lead
        if peer_e164:
            state.owners[peer_e164] = (None, lead.id)  # a later call of the batch finds it
        return None, lead.id, lead

    # -- cached lookups ---------------------------------------------------------------

    def _fresh(self) -> None:
        if self._monotonic() - self._cached_at > _CACHE_TTL:
            self.forget_cached()
            self._cached_at = self._monotonic()

    async def _agents_for(self, extensions: set[str]) -> dict[str, Agent]:
        """Agents by extension, from the extension directory."""
        agents = {}
        for extension in extensions:
            user = await self.directory.extensions.user(extension)
            if user is not None:
                agents[extension] = Agent(user.id, str(user))
        return agents

    async def _tag_for(self, did: str) -> int | None:
        if not did:
            return None
        self._fresh()
        if did not in self._tags:
            candidates = {did}
            did_e164 = self.directory.e164(did)
            if did_e164:
                candidates.add(did_e164)
            tag = await SourceTag.filter(did__in=list(candidates)).first()
            self._tags[did] = tag.id if tag else None
        return self._tags[did]


async def _auto_lead(state: _Batch, plan: AutoLead, clock: Clock, *, defer: bool) -> Lead:
    """Write the auto-lead rule's plan inside the batch's transaction: with `defer`, by the
    flush's bulk INSERTs, otherwise at once (two INSERTs; the timeline entry always joins the
    flush)."""
    now = clock.now()
    lead = Lead(**plan.lead_values(now))
    row = None
    if plan.phone is not None:
        row = Phone(
            typed=plan.phone.typed[:64],
            e164=plan.phone.e164,
            digits_rev=plan.phone.digits_rev[:32],
            is_valid=plan.phone.is_valid,
            position=0,
        )
    entry = TimelineEntry(
        kind="lead", at=now, summary=timeline_text.english(plan.detail)[:500], detail=plan.detail
    )
    state.entries.append(entry)
    if defer:
        state.new_leads.append((lead, row, entry))
        return lead
    await lead.save()
    entry.lead_id = entry.ref_id = lead.id
    if row is not None:
        row.lead_id = lead.id
        await row.save()
    logger.info("auto-lead %s created for %s (source call)", lead.id, plan.name)
    return lead


async def _flush(conn: BaseDBAsyncClient, state: _Batch) -> None:
    """Write the batch's new leads, their phones, its new calls and all timeline entries:
    one INSERT per table, with ids reserved beforehand so the rows can refer to each other.

    Setting `_custom_generated_pk` is how Tortoise's bulk_create is told to write the ids we
    reserved instead of leaving them to the database (which would not report them back).
    """
    await _flush_leads(state, conn)
    if state.new_calls:
        ids = await _reserve_ids(conn, Call, len(state.new_calls))
        for (call, lead, entry), call_id in zip(state.new_calls, ids, strict=True):
            call.id = call_id
            call._custom_generated_pk = True
            if lead is not None:
                call.lead_id = lead.id
            if entry is not None:
                entry.ref_id = call_id
                entry.lead_id = call.lead_id
        await Call.bulk_create([call for call, _, _ in state.new_calls], using_db=conn)
        for call, _, _ in state.new_calls:
            call._saved_in_db = True
    if state.entries:
        await TimelineEntry.bulk_create(state.entries, using_db=conn)


async def _flush_leads(state: _Batch, conn: BaseDBAsyncClient) -> None:
    """Write the leads planned so far (and their phones); their timeline entries follow."""
    if not state.new_leads:
        return
    ids = await _reserve_ids(conn, Lead, len(state.new_leads))
    phones = []
    for (lead, phone, entry), lead_id in zip(state.new_leads, ids, strict=True):
        lead.id = lead_id
        lead._custom_generated_pk = True
        entry.lead_id = entry.ref_id = lead_id
        if phone is not None:
            phone.lead_id = lead_id
            phones.append(phone)
    await Lead.bulk_create([lead for lead, _, _ in state.new_leads], using_db=conn)
    if phones:
        await Phone.bulk_create(phones, using_db=conn)
    for lead, _, _ in state.new_leads:
        lead._saved_in_db = True
        logger.info("auto-lead %s created for %s (source call)", lead.id, lead.name)
    state.new_leads = []


async def _reserve_ids(conn: BaseDBAsyncClient, model: type[Model], count: int) -> list[int]:
    """`count` fresh primary keys of `model`'s table, in one query.

    PostgreSQL hands them out from the table's sequence. SQLite continues from its
    AUTOINCREMENT counter: our transaction is the only writer on the connection, and another
    process inserting meanwhile makes our INSERT fail on the key, which the batch's
    one-by-one retry absorbs.
    """
    table = model._meta.db_table
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) AS id FROM generate_series(1, $2)",
            [f'"{table}"', count],
        )
        return [int(row["id"]) for row in rows]
    rows = await conn.execute_query_dict(
        f'SELECT MAX(COALESCE((SELECT MAX(id) FROM "{table}"), 0), '
        "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)) AS top",
        [table],
    )
    top = int(rows[0]["top"])
    return list(range(top + 1, top + 1 + count))


async def _owners_of(numbers: set[str]) -> dict[str, tuple[int | None, int | None]]:
    """For each E.164 number: its client (preferred) or its open lead, in two queries at most
    for the whole batch. The lowest phone id wins, as in `find_by_phone`."""
    if not numbers:
        return {}
    rows = (
        await Phone.filter(e164__in=list(numbers))
        .order_by("id")
        .values_list("e164", "client_id", "lead_id")
    )
    owners: dict[str, tuple[int | None, int | None]] = {}
    lead_ids: dict[str, list[int]] = {}
    for e164, client_id, lead_id in rows:
        if client_id is not None and e164 not in owners:
            owners[e164] = (client_id, None)
        elif lead_id is not None:
            lead_ids.setdefault(e164, []).append(lead_id)
    wanted = {lid for e164, ids in lead_ids.items() if e164 not in owners for lid in ids}
    if wanted:
        open_ids = set(
            cast(
                list[int],
                await Lead.filter(id__in=list(wanted))
                .exclude(status="converted")
                .values_list("id", flat=True),
            )
        )
        for e164, ids in lead_ids.items():
            alive = sorted(i for i in ids if i in open_ids)
            if e164 not in owners and alive:
                owners[e164] = (None, alive[0])
    return owners


async def _refresh_entry(call: Call, agent: Agent | None, entry_at: datetime) -> None:
    """Refresh the timeline entry of a call stored before (or add it if it had none).

    The entry is found by its time (indexed) and the call id, never by a scan of ref_id.
    """
    client_id = call.client_id
    lead_id = call.lead_id
    if client_id is None and lead_id is None:
        return
    detail = _call_detail(call, agent)
    summary = timeline_text.english(detail)[:500]
    entry = await TimelineEntry.filter(at=entry_at, kind="call", ref_id=call.id).first()
    if entry is None:
        await TimelineEntry.create(
            kind="call",
            at=call.started_at,
            client_id=client_id,
            lead_id=lead_id,
            ref_id=call.id,
            summary=summary,
            detail=detail,
            user_id=agent.id if agent else None,
        )
        return
    entry.summary = summary
    entry.detail = detail
    entry.client_id = client_id
    entry.lead_id = lead_id
    entry.user_id = agent.id if agent else None
    entry.at = call.started_at
    await entry.save()


def _call_detail(call: Call, agent: Agent | None) -> dict[str, Any]:
    """The call's timeline entry: "Inbound call answered (Ana), 1:05" in the reader's words."""
    return timeline_text.detail(
        "call",
        direction=call.direction if call.direction in ("in", "out") else "internal",
        result=call.result,
        agent=str(agent) if agent is not None else "",
        talk_seconds=call.talk_seconds or 0,
    )
