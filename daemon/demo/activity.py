"""Deals with their history, tasks, calls and notes, each with its timeline entries."""

from __future__ import annotations

import json
from decimal import Decimal

from daemon.demo import vocab
from daemon.demo.context import DAY, DemoContext, at, cumulate, entry_text, pick, weighted
from daemon.demo.numbers import e164_of, make_phone
from models.sales.deals import FINAL_STATUSES, STATUSES

_DEAL_STATUS = cumulate(
    ("new", 20),
    ("in_progress", 20),
    ("awaiting_decision", 15),
    ("awaiting_payment", 10),
    ("won", 25),
    ("cancelled", 10),
)
_TASK_KIND = cumulate(("task", 40), ("call", 35), ("video", 15), ("sms", 10))
_IN_RESULT = cumulate(("answered", 72), ("missed", 22), ("busy", 4), ("failed", 2))
_OUT_RESULT = cumulate(("answered", 60), ("no_answer", 25), ("busy", 10), ("failed", 5))
_HANGUP_CAUSE = {"answered": 16, "missed": 16, "no_answer": 19, "busy": 17, "failed": 34}
_OPEN_PATH = STATUSES[1:4]  # in_progress, awaiting_decision, awaiting_payment
# Numbers of callers who are nobody's: phone ids far above any real one, in a block big enough.
_STRANGER_BASE = 50_000_000
Batch = list


def _funnel_path(ctx: DemoContext, status: str) -> list[str]:
    """The statuses a deal went through after "new" to reach `status`."""
    if status == "new":
        return []
    if status in _OPEN_PATH:
        return list(_OPEN_PATH[: _OPEN_PATH.index(status) + 1])
    steps = [s for s in _OPEN_PATH if ctx.rng.random() < 0.7]
    if status == "cancelled":
        steps = steps[: int(ctx.rng.random() * (len(steps) + 1))]
    return steps + [status]


def deal_batch(ctx: DemoContext, count: int) -> Batch:
    """`count` deals over the generated clients, across the funnel, in the company's currencies."""
    rng = ctx.rng
    r = rng.random
    deals, history, timeline = [], [], []
    made, clients = ctx.deals, ctx.clients
    if not len(made):
        made.first_id = ctx.next_ids["deal"]
    for _ in range(count):
        did = ctx.take_id("deal")
        index = int(r() * len(clients))
        client_id = clients.first_id + index
        responsible = clients.responsible[index] if r() < 0.8 else ctx.agent().id
        status = weighted(rng, _DEAL_STATUS)
        if ctx.extra_currencies and r() < 0.3:
            currency = pick(rng, ctx.extra_currencies)
        else:
            currency = ctx.default_currency
        amount = Decimal(rng.randrange(5_000, 5_000_000)).scaleb(-2)
        title = pick(rng, vocab.DEAL_SUBJECTS)
        created = ctx.between(max(clients.created[index], ctx.now - 2 * 365 * DAY))
        history.append(
            (
                ctx.take_id("deal_history"),
                did,
                responsible,
                "created",
                "",
                "new",
                json.dumps({"amount": str(amount), "currency": currency}),
                at(created),
            )
        )
        timeline.append(
            (
                ctx.take_id("timeline_entry"),
                client_id,
                None,
                "deal",
                did,
                *entry_text("deal_created", title=title, amount=amount, currency=currency),
                responsible,
                at(created),
            )
        )
        moment, previous = created, "new"
        horizon = min(ctx.now, created + 120 * DAY)
        for step in _funnel_path(ctx, status):
            moment = ctx.between(moment, horizon)
            history.append(
                (
                    ctx.take_id("deal_history"),
                    did,
                    responsible,
                    "status",
                    previous,
                    step,
                    "{}",
                    at(moment),
                )
            )
            timeline.append(
                (
                    ctx.take_id("timeline_entry"),
                    client_id,
                    None,
                    "deal",
                    did,
                    *entry_text("deal_moved", title=title, from_status=previous, to_status=step),
                    responsible,
                    at(moment),
                )
            )
            previous = step
        closed = at(moment) if status in FINAL_STATUSES else None
        deals.append(
            (
                did,
                title,
                client_id,
                responsible,
                status,
                amount,
                currency,
                did,
                at(created),
                at(moment),
                closed,
            )
        )
        made.created.append(created)
        made.responsible.append(responsible)
        made.parent.append(client_id)
    s = ctx.specs
    return [(s["deal"], deals), (s["deal_history"], history), (s["timeline_entry"], timeline)]


def task_batch(ctx: DemoContext, count: int) -> Batch:
    """Tasks of the four kinds, for oneself or colleagues; some done, some overdue."""
    rng = ctx.rng
    r = rng.random
    tasks, assignees, timeline = [], [], []
    clients, leads, deals = ctx.clients, ctx.leads, ctx.deals
    for _ in range(count):
        tid = ctx.take_id("task")
        kind = weighted(rng, _TASK_KIND)
        title = pick(rng, vocab.TASK_TITLES[kind])
        client_id = lead_id = deal_id = None
        link = r()
        if link < 0.15 and len(deals):
            i = int(r() * len(deals))
            deal_id, client_id = deals.first_id + i, deals.parent[i]
        elif link < 0.70 and len(clients):
            client_id = clients.first_id + int(r() * len(clients))
        elif link < 0.80 and len(leads):
            lead_id = leads.first_id + int(r() * len(leads))
        author = ctx.agent()
        assignee = author if r() < 0.6 else ctx.agent()
        # Due on a quarter hour between 60 days ago and 30 days ahead.
        due = ctx.now + int((r() * 90 - 60) * DAY)
        due -= due % 900
        created = min(ctx.now, due - int(r() * 20 * DAY))
        done = r() < (0.75 if due < ctx.now else 0.05)
        finished = ctx.between(created, min(ctx.now, due + DAY))  # drawn either way
        done_at = finished if done else None
        remind = 15 if r() < 0.5 else None
        reminded = at(due - 900) if remind and due - 900 < ctx.now else None
        tasks.append(
            (
                tid,
                title,
                kind,
                at(due),
                pick(rng, (15, 30, 30, 60)),
                author.id,
                client_id,
                lead_id,
                deal_id,
                pick(rng, vocab.SMS_TEXTS) if kind == "sms" else "",
                done,
                at(done_at) if done_at else None,
                assignee.id if done else None,
                remind,
                reminded,
                at(created),
                at(done_at or created),
            )
        )
        assignees.append((tid, assignee.id))
        if r() < 0.15:
            other = ctx.agent()
            if other.id != assignee.id:
                assignees.append((tid, other.id))
        if client_id is not None or lead_id is not None:
            timeline.append(
                (
                    ctx.take_id("timeline_entry"),
                    client_id,
                    lead_id,
                    "task",
                    tid,
                    *entry_text("task_planned", kind=kind, title=title, due=at(due)),
                    author.id,
                    at(created),
                )
            )
    s = ctx.specs
    return [(s["task"], tasks), (s["task_assignee"], assignees), (s["timeline_entry"], timeline)]


def call_batch(ctx: DemoContext, count: int) -> Batch:
    """Inbound and outbound calls of clients, leads and strangers, with their outcomes."""
    rng = ctx.rng
    r = rng.random
    calls, timeline = [], []
    made, clients, leads = ctx.calls, ctx.clients, ctx.leads
    if not len(made):
        made.first_id = ctx.next_ids["call"]
    span = 365 * DAY
    year_ago = ctx.now - span
    planned = max(ctx.calls_planned, len(made) + count)
    for _ in range(count):
        cid = ctx.take_id("call")
        # Calls come in time order, as ids and linkedids do in a real PBX, and get more
        # frequent towards today (the density of sqrt(u) grows linearly).
        started = year_ago + int(span * ((len(made) + r()) / planned) ** 0.5)
        who = r()
        client_id = lead_id = None
        owner = 0
        if who < 0.05 and len(leads):
            i = int(r() * len(leads))
            if leads.phone_id[i] and leads.created[i] <= started:
                lead_id = leads.first_id + i
                peer = e164_of(leads.phone_block[i], leads.phone_id[i])
                owner = leads.responsible[i]
        if lead_id is None and who < 0.90 and len(clients):
            for _attempt in range(3):
                i = int(r() * len(clients))
                if clients.created[i] <= started:
                    client_id = clients.first_id + i
                    peer = e164_of(clients.phone_block[i], clients.phone_id[i])
                    owner = clients.responsible[i]
                    break
        if client_id is None and lead_id is None:
            peer = make_phone(rng, _STRANGER_BASE + cid, "ES", mobile=True).e164
        agent = ctx.agent_by_id(owner) if owner and r() < 0.7 else ctx.agent()
        inbound = r() < 0.6
        result = weighted(rng, _IN_RESULT if inbound else _OUT_RESULT)
        if result == "answered":
            wait = 2 + int(r() * 25)
            talk = min(3600, 5 + int(rng.expovariate(1 / 180)))
        else:
            wait = 0 if result in ("busy", "failed") else 15 + int(r() * 30)
            talk = 0
        answered = at(started + wait) if result == "answered" else None
        ended = at(started + wait + talk)
        if inbound:
            did = (
                ctx.source_tags[int(r() * len(ctx.source_tags))][1]
                if (ctx.source_tags and r() < 0.3)
                else ctx.company_did
            )
            from_number, to_number = peer, did or ""
        else:
            did, from_number, to_number = "", agent.extension, peer
        calls.append(
            (
                cid,
                f"{started}.{cid}",
                "in" if inbound else "out",
                from_number,
                to_number,
                peer,
                did or "",
                agent.id,
                agent.extension,
                client_id,
                lead_id,
                result,
                at(started),
                answered,
                ended,
                wait,
                talk,
                _HANGUP_CAUSE[result],
                ended,
            )
        )
        if client_id is not None or lead_id is not None:
            timeline.append(
                (
                    ctx.take_id("timeline_entry"),
                    client_id,
                    lead_id,
                    "call",
                    cid,
                    *entry_text(
                        "call",
                        direction="in" if inbound else "out",
                        result=result,
                        agent=agent.display,
                        talk_seconds=talk,
                    ),
                    agent.id,
                    at(started),
                )
            )
        made.created.append(started)
        made.responsible.append(agent.id)
        made.parent.append(client_id or 0)
        made.lead.append(lead_id or 0)
    s = ctx.specs
    return [(s["call"], calls), (s["timeline_entry"], timeline)]


def note_batch(ctx: DemoContext, count: int) -> Batch:
    """Notes on clients, deals, leads and calls; each on its client's or lead's timeline."""
    rng = ctx.rng
    r = rng.random
    notes, timeline = [], []
    clients, leads, deals, calls = ctx.clients, ctx.leads, ctx.deals, ctx.calls
    for _ in range(count):
        nid = ctx.take_id("note")
        client_id = lead_id = deal_id = call_id = None
        since = ctx.now - 365 * DAY
        target = r()
        if target < 0.10 and len(calls):
            i = int(r() * len(calls))
            call_id = calls.first_id + i
            client_id = calls.parent[i] or None
            lead_id = calls.lead[i] or None
            since = calls.created[i]
        elif target < 0.25 and len(deals):
            i = int(r() * len(deals))
            deal_id, client_id, since = deals.first_id + i, deals.parent[i], deals.created[i]
        elif target < 0.35 and len(leads):
            i = int(r() * len(leads))
            lead_id, since = leads.first_id + i, leads.created[i]
        elif len(clients):
            i = int(r() * len(clients))
            client_id, since = clients.first_id + i, clients.created[i]
        author = ctx.agent()
        created = ctx.between(since)
        text = pick(rng, vocab.NOTES)
        notes.append((nid, text, author.id, client_id, lead_id, deal_id, call_id, at(created)))
        if client_id is not None or lead_id is not None:
            timeline.append(
                (
                    ctx.take_id("timeline_entry"),
                    client_id,
                    lead_id,
                    "note",
                    nid,
                    text,
                    "{}",  # a note is the user's own words: nothing to translate
                    author.id,
                    at(created),
                )
            )
    s = ctx.specs
    return [(s["note"], notes), (s["timeline_entry"], timeline)]
