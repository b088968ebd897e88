"""Domain events (past tense) and commands published on the hub.

Events are frozen dataclasses with plain values (ids, strings, datetimes),
so that any subscriber (web socket, bot, webhooks) can serialise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CallerCard:
    """What an agent sees when the phone rings."""

    number: str
    e164: str | None = None
    client_id: int | None = None
    lead_id: int | None = None
    name: str = ""
    company: str = ""
    open_deals: tuple[dict[str, Any], ...] = ()
    last_note: str = ""
    last_call_at: datetime | None = None
    last_call_result: str = ""
    # The name the PBX gave (CallerIDName), shown while the number is nobody's in the CRM.
    caller_name: str = ""

    @property
    def is_known(self) -> bool:
        return self.client_id is not None or self.lead_id is not None


@dataclass(frozen=True)
class CallRang:
    """A call rings (or is being dialed) for one agent's extension."""

    linkedid: str
    direction: str
    extension: str
    user_id: int | None
    card: CallerCard
    did: str = ""
    at: datetime | None = None
    action_id: str | None = None


@dataclass(frozen=True)
class CallAnswered:
    linkedid: str
    extension: str
    user_id: int | None
    at: datetime | None = None


@dataclass(frozen=True)
class CallStoppedRinging:
    """The call stopped ringing for this extension (a colleague answered, or it moved on)."""

    linkedid: str
    extension: str
    user_id: int | None
    answered_by: str = ""


@dataclass(frozen=True)
class CallEnded:
    linkedid: str
    call_id: int | None
    extension: str
    user_id: int | None
    result: str
    talk_seconds: int = 0
    wait_seconds: int = 0
    at: datetime | None = None


@dataclass(frozen=True)
class CallMissed:
    linkedid: str
    call_id: int | None
    extension: str
    user_id: int | None
    card: CallerCard = field(default_factory=lambda: CallerCard(number=""))


@dataclass(frozen=True)
class CallTransferred:
    linkedid: str
    from_extension: str
    to_extension: str


@dataclass(frozen=True)
class ClickToCallProgress:
    """Progress of a click-to-call request: ringing_agent, dialing, connected, failed."""

    request_id: str
    user_id: int
    stage: str
    reason: str = ""
    linkedid: str | None = None


@dataclass(frozen=True)
class LeadCreated:
    lead_id: int
    source: str
    responsible_id: int | None


@dataclass(frozen=True)
class ClientCreated:
    client_id: int
    responsible_id: int | None


@dataclass(frozen=True)
class DealMoved:
    """A deal changed status (kanban drag or edit); to a final status it is also closed."""

    deal_id: int
    from_status: str
    to_status: str
    user_id: int | None


@dataclass(frozen=True)
class TaskDone:
    task_id: int
    user_id: int | None


@dataclass(frozen=True)
class NoteAdded:
    note_id: int
    client_id: int | None
    lead_id: int | None
    call_id: int | None
    author_id: int | None


@dataclass(frozen=True)
class MailArrived:
    """Mail from a known client or lead, or from a sender who just became a lead, was stored:
    the users who may use the mailbox (its owner and those it is shared with) are told."""

    email_id: int
    account_id: int
    user_ids: tuple[int, ...]
    client_id: int | None
    lead_id: int | None
    sender: str  # "Name <address>" or the address
    subject: str
    lead_created: bool = False


@dataclass(frozen=True)
class MailSkipped:
    """A message of a mailbox was not stored (too big, unreadable): its users are told."""

    account_id: int
    user_ids: tuple[int, ...]
    folder: str
    uid: int
    reason: str  # "too_big" | "broken"
    size: int | None = None


@dataclass(frozen=True)
class TaskDue:
    task_id: int
    user_ids: tuple[int, ...]


@dataclass(frozen=True)
class TaskReminderDue:
    """A task's reminder time came for one assignee (T3): the panel shows it on their pages.

    Carries the assignee's language and time zone so that a subscriber renders it unaided."""

    task_id: int
    user_id: int
    title: str
    due_at: datetime
    minutes: int
    about: str = ""  # the client's or lead's name
    language: str = "es"
    time_zone: str = "UTC"


@dataclass(frozen=True)
class UsersChanged:
    """A user was created, edited, deactivated or given another extension: whoever keeps the
    extension -> user directory reloads it (models/telephony/extensions.py)."""

    user_id: int | None = None


@dataclass(frozen=True)
class ExtensionStateChanged:
    """A device or extension changed state (free, ringing, busy, unavailable)."""

    extension: str
    state: str


@dataclass(frozen=True)
class MailAccountsChanged:
    """A mailbox was added, edited, shared or removed (models/messaging/mail_accounts.py): the
    mail sync starts, restarts or stops watching it. `account_id` None: look at all of them."""

    account_id: int | None = None


# Commands: requests that an adapter (the AMI link) carries out.


@dataclass(frozen=True)
class ClickToCall:
    user_id: int
    extension: str
    number: str
    request_id: str


@dataclass(frozen=True)
class TransferCall:
    linkedid: str
    extension: str
    to_extension: str


@dataclass(frozen=True)
class HangupCall:
    linkedid: str
    extension: str


@dataclass(frozen=True)
class CalendarSyncRequested:
    """Sync a user's Google Calendar now: Google said it changed (push channel), the user
    asked, or the connection's settings changed. `user_id` None: every connected calendar."""

    user_id: int | None = None
