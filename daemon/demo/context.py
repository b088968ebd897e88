"""What every demo generator shares: the seeded random source, the clock, the users,
the company's currencies, the next ids, and compact facts about rows already made."""

from __future__ import annotations

import json
import random
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

from daemon.demo.bulk import TableSpec
from models.contacts import timeline_text

DAY = 86_400

# Tables whose ids the generator assigns.
ID_TABLES = (
    "client",
    "phone",
    "email",
    "lead",
    "deal",
    "deal_history",
    "task",
    "note",
    "call",
    "timeline_entry",
)


@dataclass(frozen=True)
class Agent:
    id: int
    extension: str
    display: str  # as str(User): full name, else username


@dataclass
class Made:
    """Facts about generated rows that later generators link to, in compact arrays.

    Index i describes the i-th generated row (its id is first_id + i).
    """

    first_id: int = 0
    created: array = field(default_factory=lambda: array("q"))  # epoch seconds
    responsible: array = field(default_factory=lambda: array("l"))  # user id, 0 = none
    phone_id: array = field(default_factory=lambda: array("l"))  # first phone, 0 = none
    phone_block: array = field(default_factory=lambda: array("b"))  # its numbering block
    parent: array = field(default_factory=lambda: array("l"))  # e.g. a deal's client id
    lead: array = field(default_factory=lambda: array("l"))  # e.g. a call's lead id, 0 = none

    def __len__(self) -> int:
        return len(self.created)


@dataclass
class DemoContext:
    rng: random.Random
    now: int  # epoch seconds
    agents: list[Agent]
    default_currency: str
    extra_currencies: list[str]
    source_tags: list[tuple[int, str | None]]  # (id, did)
    tag_ids: list[int]
    company_did: str
    specs: dict[str, TableSpec]
    next_ids: dict[str, int]
    calls_planned: int = 0  # spreads the calls over the last year in id order
    clients: Made = field(default_factory=Made)
    leads: Made = field(default_factory=Made)
    deals: Made = field(default_factory=Made)
    calls: Made = field(default_factory=Made)

    def take_id(self, table: str) -> int:
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def agent(self) -> Agent:
        return self.agents[int(self.rng.random() * len(self.agents))]

    def agent_by_id(self, user_id: int) -> Agent:
        for agent in self.agents:
            if agent.id == user_id:
                return agent
        return self.agents[0]

    def between(self, start: int, end: int | None = None) -> int:
        """A random second in [start, end] (end defaults to now)."""
        # Draw even when the span is empty: the random stream must not depend on the clock,
        # so that a seed gives the same data whenever it runs.
        fraction = self.rng.random()
        end = self.now if end is None else end
        return start + int(fraction * (end - start)) if end > start else start


def entry_text(msg: str, **params: object) -> tuple[str, str]:
    """A timeline entry's summary and detail (JSON) as `models.contacts.timeline.add_entry`
    writes them,
    so that demo entries read in each user's language too."""
    detail = timeline_text.detail(msg, **params)
    return timeline_text.english(detail)[:500], json.dumps(detail, separators=(",", ":"))


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def pick(rng: random.Random, items: tuple | list) -> object:
    return items[int(rng.random() * len(items))]


def weighted(rng: random.Random, cumulative: tuple[tuple[float, str], ...]) -> str:
    """A choice from ((cumulative weight in [0,1], value), ...) ordered by weight."""
    r = rng.random()
    for bound, value in cumulative:
        if r < bound:
            return value
    return cumulative[-1][1]


def cumulate(*pairs: tuple[str, float]) -> tuple[tuple[float, str], ...]:
    total = sum(w for _, w in pairs)
    acc = 0.0
    out = []
    for value, w in pairs:
        acc += w / total
        out.append((acc, value))
    return tuple(out)
