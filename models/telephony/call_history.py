"""The calls page (L1) and the widget's history tab: listings with filters, who may see a call,
and its recording file inside the recordings folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.core.errors import NotFound, PermissionDenied, ValidationFailed, msg
from models.core.ordering import Sort, SortKeys, sorted_page
from models.people.permissions import CALLS, visible, visible_record
from models.schema.calls import Call
from models.schema.users import User

logger = logging.getLogger(__name__)

DIRECTIONS = ("in", "out", "internal")
RESULTS = ("answered", "missed", "busy", "failed", "no_answer")
# The list's total is exact up to this; a bigger one is reported as COUNT_CAP + 1.
COUNT_CAP = 10_000
# The list's orders (models/core/ordering.py): by start time (indexed), or by agent through
# the (agent_id, started_at) index, each agent's latest first.
SORTS = SortKeys(
    orders={"started": ("started_at", "id")},
    default=Sort("started", descending=True),
    by_user={"agent": "agent_id"},
    within=("-started_at", "-id"),
)


@dataclass
class CallFilter:
    user_id: int | None = None
    direction: str = ""
    result: str = ""
    since: datetime | None = None
    until: datetime | None = None
    client_id: int | None = None
    # Words in the transcript, or part of a number or of the caller's name.
    text: str = ""

    def check(self) -> None:
        errors: dict[str, str] = {}
        if self.direction and self.direction not in DIRECTIONS:
            errors["direction"] = msg("must be one of: %(choices)s", choices=", ".join(DIRECTIONS))
        if self.result and self.result not in RESULTS:
            errors["result"] = msg("must be one of: %(choices)s", choices=", ".join(RESULTS))
        if self.since and self.until and self.until < self.since:
            errors["until"] = msg("the end of the period is before its start")
        if errors:
            raise ValidationFailed(errors)


def _visible_calls(user: User) -> QuerySet[Call]:
    return visible(user, CALLS, Call.all())


async def list_calls(
    user: User,
    filters: CallFilter,
    *,
    limit: int = 50,
    offset: int = 0,
    sort: Sort | None = None,
) -> tuple[list[Call], int]:
    """One page of the calls this user may see (own calls, or all with calls.view_all) in
    `sort` order (one of SORTS; the latest first by default), and how many match in all
    (COUNT_CAP + 1 standing for "more than COUNT_CAP")."""
    qs = calls_matching(user, filters)
    # Two million calls take a PostgreSQL COUNT over 100 ms: read at most COUNT_CAP + 1 ids
    # instead (exact below the cap; the page says "more than" above it).
    total = len(await qs.limit(COUNT_CAP + 1).values_list("id", flat=True))
    rows = await sorted_page(
        qs.prefetch_related("agent", "client", "lead"),
        SORTS,
        sort,
        offset=offset,
        limit=max(1, min(limit, 200)),
        total=total if total <= COUNT_CAP else None,
    )
    return rows, total


def calls_matching(user: User, filters: CallFilter) -> QuerySet[Call]:
    """The calls a list's filters select among those the user may see (the calls page and
    the dashboard count the same); `since` and `until` bound the start [since, until)."""
    filters.check()
    qs = _visible_calls(user)
    if filters.user_id is not None:
        qs = qs.filter(agent_id=filters.user_id)
    if filters.direction:
        qs = qs.filter(direction=filters.direction)
    if filters.result:
        qs = qs.filter(result=filters.result)
    if filters.since is not None:
        qs = qs.filter(started_at__gte=filters.since)
    if filters.until is not None:
        qs = qs.filter(started_at__lt=filters.until)
    if filters.client_id is not None:
        qs = qs.filter(client_id=filters.client_id)
    for word in filters.text.split()[:8]:  # every word, anywhere in the call's texts
        qs = qs.filter(
            Q(transcript__icontains=word)
            | Q(from_number__icontains=word)
            | Q(to_number__icontains=word)
            | Q(caller_name__icontains=word)
        )
    return qs


async def recent_calls(user: User, limit: int = 20) -> list[Call]:
    """The user's own latest calls (the widget's history tab)."""
    return list(
        await Call.filter(agent_id=user.id)
        .order_by("-started_at", "-id")
        .limit(max(1, min(limit, 100)))
        .prefetch_related("client", "lead")
    )


async def get_call(user: User, call_id: int) -> Call:
    """A call the user may see: their own, or any with calls.view_all."""
    call = await visible_record(user, CALLS, Call, call_id)
    await call.fetch_related("agent", "client", "lead")
    return call


def recording_file(call: Call, recordings_dir: Path) -> Path:
    """The call's recording inside the recordings folder, or NotFound.

    A relative name is read inside the folder; an absolute path must lie inside it too, so a
    stored path (or a tampered row) can never serve another file of the machine.
    """
    if not call.recording_path:
        raise NotFound(msg("this call has no recording"))
    root = recordings_dir.resolve()
    raw = Path(call.recording_path)
    path = (raw if raw.is_absolute() else root / raw).resolve()
    if not path.is_relative_to(root):
        logger.warning("call %s: recording %r is outside %s; refused", call.id, str(raw), root)
        raise PermissionDenied(msg("the recording is outside the recordings folder"))
    if not path.is_file():
        raise NotFound(msg("the recording file is missing"))
    return path
