"""`load_demo_data`: realistic demo data, written in bulk (one transaction per chunk)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from tortoise import connections

from daemon.demo import vocab
from daemon.demo.activity import call_batch, deal_batch, note_batch, task_batch
from daemon.demo.bulk import BulkWriter, link_spec, table_spec
from daemon.demo.context import ID_TABLES, Agent, DemoContext
from daemon.demo.people import client_batch, lead_batch
from models.core.clock import Clock, SystemClock
from models.people import users as user_ops
from models.schema.activity import Note, TimelineEntry
from models.schema.calls import Call
from models.schema.clients import Client, Email, Phone, Tag
from models.schema.company import SourceTag
from models.schema.deals import Deal, DealHistory
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User

logger = logging.getLogger(__name__)

MAX_CLIENTS = 5_000_000  # keeps phone ids inside the blocks' unique range (numbers.py)
# Rows generated and sent at a time: big enough that round trips cost nothing, small enough
# to keep memory flat and show progress.
CHUNK = 20_000
# From this many clients (and more than the database holds) indexes are rebuilt, not updated.
BULK_INDEX_THRESHOLD = 20_000
DEMO_EXTRA_CURRENCIES = ["USD", "GBP"]
DEMO_SOURCE_TAGS = (("Google Ads", "+34910000100"), ("Web", "+34910000200"), ("Feria", None))

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoCounts:
    """How much to generate; None means proportional to the clients."""

    clients: int
    leads: int | None = None
    deals: int | None = None
    tasks: int | None = None
    calls: int | None = None
    notes: int | None = None

    def resolved(self) -> DemoCounts:
        n = self.clients
        return replace(
            self,
            leads=n // 10 if self.leads is None else self.leads,
            deals=n // 5 if self.deals is None else self.deals,
            tasks=n // 10 if self.tasks is None else self.tasks,
            calls=n if self.calls is None else self.calls,
            notes=n // 5 if self.notes is None else self.notes,
        )

    def problems(self) -> dict[str, str]:
        errors = {}
        if not 1 <= self.clients <= MAX_CLIENTS:
            errors["clients"] = f"between 1 and {MAX_CLIENTS:,}"
        for name in ("leads", "deals", "tasks", "calls", "notes"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 20 * MAX_CLIENTS:
                errors[name] = f"between 0 and {20 * MAX_CLIENTS:,}"
        return errors


@dataclass
class DemoReport:
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    seconds: float = 0.0
    created_agents: list[tuple[str, str]] = field(default_factory=list)  # (username, password)
    currencies: list[str] = field(default_factory=list)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


async def _agents(report: DemoReport) -> list[Agent]:
    """Users to spread the data over; a few demo agents when the team is too small."""
    await user_ops.ensure_standard_groups()
    users = await User.filter(is_active=True).order_by("id")
    taken = {u.extension for u in users if u.extension}
    extension = 200
    for username, full_name in vocab.DEMO_AGENTS:
        if len(users) >= 4:
            break
        if await User.filter(username=username).exists():
            continue
        extension += 1
        while str(extension) in taken:
            extension += 1
        # The password is shown once by the command; nobody else knows it.
        password = secrets.token_urlsafe(9)
        user = await user_ops.create_user(
            username,
            password,
            extension=str(extension),
            full_name=full_name,
            email=f"{username}@demo.invalid",
        )
        report.created_agents.append((username, password))
        users.append(user)
    return [Agent(u.id, u.extension or "", str(u)) for u in users]


async def _company_setup(report: DemoReport) -> tuple[str, list[str]]:
    company = await user_ops.get_company()
    extras = [c for c in company.extra_currencies if c != company.default_currency]
    if not extras:
        # A demo shows deals in several currencies (A3): give the company two extra ones.
        extras = [c for c in DEMO_EXTRA_CURRENCIES if c != company.default_currency]
        company.extra_currencies = extras
        await company.save(update_fields=["extra_currencies"])
    report.currencies = [company.default_currency, *extras]
    return company.default_currency, extras


async def _source_tags() -> list[tuple[int, str | None]]:
    if not await SourceTag.exists():
        for name, did in DEMO_SOURCE_TAGS:
            await SourceTag.create(name=name, did=did)
    return [(t.id, t.did) for t in await SourceTag.all().order_by("id")]


async def _tag_ids() -> list[int]:
    for name in vocab.TAGS:
        await Tag.get_or_create(name=name)
    return [t.id for t in await Tag.filter(name__in=vocab.TAGS).order_by("id")]


def _specs(now) -> dict:
    return {
        "client": table_spec(
            Client,
            (
                "id",
                "name",
                "name_key",
                "status",
                "type",
                "company_name",
                "company_key",
                "responsible_id",
                "created_by_id",
                "source_tag_id",
                "created_at",
                "updated_at",
            ),
            now,
        ),
        "phone": table_spec(
            Phone,
            ("id", "typed", "e164", "digits_rev", "is_valid", "position", "client_id", "lead_id"),
            now,
        ),
        "email": table_spec(Email, ("id", "address", "position", "client_id", "lead_id"), now),
        "client_tag": link_spec("client_tag", ("client_id", "tag_id")),
        "lead": table_spec(
            Lead,
            (
                "id",
                "name",
                "name_key",
                "company_name",
                "company_key",
                "status",
                "source",
                "source_tag_id",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "responsible_id",
                "created_by_id",
                "converted_client_id",
                "converted_at",
                "created_at",
                "updated_at",
            ),
            now,
        ),
        "timeline_entry": table_spec(
            TimelineEntry,
            ("id", "client_id", "lead_id", "kind", "ref_id", "summary", "detail", "user_id", "at"),
            now,
        ),
        "deal": table_spec(
            Deal,
            (
                "id",
                "title",
                "client_id",
                "responsible_id",
                "status",
                "amount",
                "currency",
                "position",
                "created_at",
                "updated_at",
                "closed_at",
            ),
            now,
        ),
        "deal_history": table_spec(
            DealHistory,
            ("id", "deal_id", "user_id", "kind", "from_status", "to_status", "detail", "at"),
            now,
        ),
        "task": table_spec(
            Task,
            (
                "id",
                "title",
                "kind",
                "due_at",
                "duration_minutes",
                "author_id",
                "client_id",
                "lead_id",
                "deal_id",
                "sms_text",
                "is_done",
                "done_at",
                "done_by_id",
                "remind_minutes_before",
                "reminded_at",
                "created_at",
                "updated_at",
            ),
            now,
        ),
        "task_assignee": link_spec("task_assignee", ("task_id", "user_id")),
        "call": table_spec(
            Call,
            (
                "id",
                "linkedid",
                "direction",
                "from_number",
                "to_number",
                "peer_e164",
                "did",
                "agent_id",
                "agent_extension",
                "client_id",
                "lead_id",
                "result",
                "started_at",
                "answered_at",
                "ended_at",
                "wait_seconds",
                "talk_seconds",
                "hangup_cause",
                "created_at",
            ),
            now,
        ),
        "note": table_spec(
            Note,
            ("id", "text", "author_id", "client_id", "lead_id", "deal_id", "call_id", "created_at"),
            now,
        ),
    }


def _chunks(plan) -> Iterator[tuple[str, int, int, Callable]]:
    for label, total, make in plan:
        done = 0
        while done < total:
            size = min(CHUNK, total - done)
            done += size
            yield label, done, total, lambda ctx, make=make, size=size: make(ctx, size)


async def _generate_and_write(ctx, writer, plan, report, progress) -> None:
    """Build chunk n+1 in a worker thread while chunk n is being written.

    The event loop mostly waits on the database meanwhile, so the two overlap; chunks are
    still built one after the other from the same random source, so a seed gives the same
    data. The next write starts only after the previous one finished (same transaction).
    """
    pending: asyncio.Task | None = None
    try:
        for label, done, total, build in _chunks(plan):
            batch = await asyncio.to_thread(build, ctx)
            if pending is not None:
                await pending
            pending = asyncio.create_task(writer.write(batch), name="demo-data-write")
            for spec, rows in batch:
                report.rows[spec.table] = report.rows.get(spec.table, 0) + len(rows)
            if progress:
                progress(label, done, total)
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pending


async def load_demo_data(
    counts: DemoCounts,
    *,
    seed: int = 1,
    clock: Clock | None = None,
    progress: Progress | None = None,
) -> DemoReport:
    """Generate clients, leads, deals, tasks, calls and notes; the same seed on the same
    database gives the same data. Meant for an offline database: ids are chosen up front."""
    counts = counts.resolved()
    clock = clock or SystemClock()
    rng = random.Random(seed)
    report = DemoReport()
    started = time.perf_counter()
    now = clock.now()
    agents = await _agents(report)
    default_currency, extras = await _company_setup(report)
    source_tags = await _source_tags()
    writer = BulkWriter(connections.get("default"))
    ctx = DemoContext(
        rng=rng,
        now=int(now.timestamp()),
        agents=agents,
        default_currency=default_currency,
        extra_currencies=extras,
        source_tags=source_tags,
        tag_ids=await _tag_ids(),
        company_did=next((did for _, did in source_tags if did), ""),
        specs=_specs(now),
        next_ids={t: await writer.next_id(t) for t in ID_TABLES},
        calls_planned=counts.calls or 0,
    )
    plan = (
        ("clients", counts.clients, client_batch),
        ("leads", counts.leads, lead_batch),
        ("deals", counts.deals, deal_batch),
        ("tasks", counts.tasks, task_batch),
        ("calls", counts.calls, call_batch),
        ("notes", counts.notes, note_batch),
    )
    # A load bigger than what is there rebuilds the indexes once instead of updating them.
    bulk = counts.clients >= BULK_INDEX_THRESHOLD and counts.clients > await writer.count("client")
    tables = [spec.table for spec in ctx.specs.values()]
    async with writer.loading(tables, drop_indexes=bulk):
        await _generate_and_write(ctx, writer, plan, report, progress)
        if progress and bulk:
            progress("indexes", 0, 1)
    if progress and bulk:
        progress("indexes", 1, 1)
    await writer.finish(ID_TABLES)
    report.seconds = time.perf_counter() - started
    logger.info(
        "demo data: %d rows in %.1f s (%.0f rows/s)",
        report.total_rows,
        report.seconds,
        report.rows_per_second,
    )
    return report
