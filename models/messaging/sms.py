"""SMS (C8, T2, G4): single sends, scheduled SMS tasks, inbound SMS, delivery reports (bulk
sends: models/messaging/bulk_sms.py).

Every outgoing SMS is one `Sms` row plus one outbox row of kind "sms" written in the same
transaction, so that a gateway outage only delays it and a restart neither loses nor repeats
it; the daemon's sender (daemon/sms) hands it to the configured gateway and records the
gateway's reference, and delivery reports move it to sent, delivered or failed. Every SMS,
in or out, is on the client's or lead's timeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.contacts import timeline_text
from models.contacts.phones import parse_phone
from models.contacts.timeline import add_entry
from models.core.clock import Clock
from models.core.errors import FeatureOff, NotFound, ValidationFailed, msg
from models.core.events import TaskDone
from models.core.hub import Hub
from models.messaging import outbox
from models.people.permissions import CLIENTS, LEADS, visible_record
from models.people.users import get_company
from models.schema.activity import Sms
from models.schema.clients import Client, Phone
from models.schema.leads import Lead
from models.schema.tasks import Task
from models.schema.users import User
from models.telephony.caller_directory import CallerDirectory, find_by_phone
from models.work.tasks import due_sms_tasks

logger = logging.getLogger(__name__)

KIND = "sms"
QUEUED, SENT, DELIVERED, FAILED, RECEIVED = "queued", "sent", "delivered", "failed", "received"
_ORDER = {QUEUED: 0, SENT: 1, DELIVERED: 2, FAILED: 2}


@dataclass(frozen=True)
class SmsPolicy:
    """What the gateway takes: the longest message and what to do with a longer one; whether
    there is a gateway at all (`[sms] driver` other than "none")."""

    max_length: int = 160
    long_messages: str = "split"  # split | refuse
    is_enabled: bool = True


def require_gateway(policy: SmsPolicy) -> None:
    """Refuse to queue an SMS nobody would send: without a gateway it would wait forever."""
    if not policy.is_enabled:
        raise FeatureOff(msg("SMS is not configured on this CRM"))


def split_text(text: str, policy: SmsPolicy) -> list[str]:
    """The parts the gateway sends; a message too long for a gateway that refuses is refused."""
    text = text.strip()
    if not text:
        raise ValidationFailed({"text": msg("the message is empty")})
    if len(text) <= policy.max_length:
        return [text]
    if policy.long_messages == "refuse":
        raise ValidationFailed(
            {
                "text": msg(
                    "the message has %(length)s characters and the gateway takes at most %(max)s",
                    length=len(text),
                    max=policy.max_length,
                )
            }
        )
    size = policy.max_length
    return [text[i : i + size] for i in range(0, len(text), size)]


async def _owner_of(e164: str) -> tuple[int | None, int | None]:
    """The client (preferred) or open lead with this number: the caller card's own lookup."""
    client, lead = await find_by_phone(e164)
    return (client.id if client else None), (lead.id if lead else None)


async def queue_sms(
    number: str,
    text: str,
    *,
    policy: SmsPolicy,
    clock: Clock,
    user_id: int | None,
    client_id: int | None,
    lead_id: int | None,
    region: str,
) -> Sms:
    """One Sms row, its outbox row and its timeline entry (in the caller's transaction)."""
    e164 = parse_phone(number, region).e164
    if e164 is None:
        raise ValidationFailed(
            {"number": msg("%(number)s is not a valid phone number", number=repr(number))}
        )
    parts = split_text(text, policy)
    if client_id is None and lead_id is None:
        client_id, lead_id = await _owner_of(e164)
    now = clock.now()
    sms = await Sms.create(
        direction="out",
        number=e164,
        text=text.strip(),
        status=QUEUED,
        user_id=user_id,
        client_id=client_id,
        lead_id=lead_id,
        created_at=now,
    )
    await outbox.enqueue(
        KIND,
        {"sms_id": sms.id, "to": e164, "parts": parts},
        clock=clock,
        dedupe_key=f"sms:{sms.id}",
    )
    await add_entry(
        "sms",
        now,
        client_id=client_id,
        lead_id=lead_id,
        ref_id=sms.id,
        detail=timeline_text.detail("sms_out", number=e164, text=text.strip()[:500]),
        user_id=user_id,
    )
    return sms


async def send_sms(
    user: User,
    number: str,
    text: str,
    *,
    clock: Clock,
    policy: SmsPolicy,
    client_id: int | None = None,
    lead_id: int | None = None,
) -> Sms:
    """One SMS from the card or the widget; queued at once, sent by the daemon.

    The client or lead it is written to must be one the user may see (else NotFound, as if
    there were none)."""
    require_gateway(policy)
    if client_id is not None:
        await visible_record(user, CLIENTS, Client, client_id)
    if lead_id is not None:
        await visible_record(user, LEADS, Lead, lead_id)
    region = (await get_company()).default_region
    async with in_transaction():
        return await queue_sms(
            number,
            text,
            policy=policy,
            clock=clock,
            user_id=user.id,
            client_id=client_id,
            lead_id=lead_id,
            region=region,
        )


async def sms_of(
    user: User, *, client_id: int | None = None, lead_id: int | None = None
) -> list[Sms]:
    """The SMS exchanged with a client or a lead, newest first."""
    if client_id is not None:
        await visible_record(user, CLIENTS, Client, client_id)
        return list(await Sms.filter(client_id=client_id).order_by("-created_at", "-id"))
    if lead_id is None:
        raise NotFound(msg("no such lead"))
    await visible_record(user, LEADS, Lead, lead_id)
    return list(await Sms.filter(lead_id=lead_id).order_by("-created_at", "-id"))


# -- the daemon's side -------------------------------------------------------------------


async def mark_sent(sms_id: int, gateway_ref: str, *, clock: Clock) -> None:
    """The gateway took the message; a delivery report may already have moved it further."""
    updated = await Sms.filter(id=sms_id, status=QUEUED).update(
        status=SENT, gateway_ref=gateway_ref[:100], sent_at=clock.now()
    )
    if not updated:
        await Sms.filter(id=sms_id, gateway_ref="").update(gateway_ref=gateway_ref[:100])


async def mark_failed(sms_id: int, error: str) -> None:
    await Sms.filter(id=sms_id).exclude(status=DELIVERED).update(status=FAILED, error=error[:255])


async def apply_status(
    status: str,
    *,
    clock: Clock,
    sms_id: int | None = None,
    gateway_ref: str | None = None,
    error: str = "",
) -> bool:
    """A delivery report: sent, delivered or failed, by our id or the gateway's reference.

    Reports may arrive out of order or twice: a message never goes back (delivered stays).
    """
    if status not in (SENT, DELIVERED, FAILED):
        raise ValidationFailed(
            {
                "status": msg(
                    "expected sent, delivered or failed, not %(status)s", status=repr(status)
                )
            }
        )
    if sms_id is not None:
        sms = await Sms.get_or_none(id=sms_id, direction="out")
    elif gateway_ref:
        sms = await Sms.filter(gateway_ref=gateway_ref, direction="out").first()
    else:
        raise ValidationFailed({"ref": msg("the report names no message")})
    if sms is None:
        return False
    if _ORDER.get(sms.status, 0) >= _ORDER[status] and sms.status != QUEUED:
        return sms.status == status
    changes: dict[str, Any] = {"status": status}
    if status == DELIVERED:
        changes["delivered_at"] = clock.now()
    if status in (SENT, DELIVERED) and sms.sent_at is None:
        changes["sent_at"] = clock.now()
    if status == FAILED:
        changes["error"] = (error or "the gateway reported a failure")[:255]
    await Sms.filter(id=sms.id).update(**changes)
    return True


async def receive_sms(
    number: str,
    text: str,
    *,
    clock: Clock,
    at: datetime | None = None,
    callers: CallerDirectory | None = None,
) -> Sms:
    """An inbound SMS: stored, on the sender's timeline; from an unknown number it creates a
    lead when the telephony settings say so (G4), under the number's lock shared with calls
    (`callers`, the daemon's caller directory)."""
    callers = callers or await CallerDirectory.load()
    e164 = callers.e164(number)
    client, lead, _ = await callers.contact_for_sms(number, clock=clock)
    client_id, lead_id = (client.id if client else None), (lead.id if lead else None)
    now = at or clock.now()
    async with in_transaction():
        sms = await Sms.create(
            direction="in",
            number=(e164 or number)[:32],
            text=text,
            status=RECEIVED,
            client_id=client_id,
            lead_id=lead_id,
            created_at=now,
        )
        await add_entry(
            "sms",
            now,
            client_id=client_id,
            lead_id=lead_id,
            ref_id=sms.id,
            detail=timeline_text.detail("sms_in", number=e164 or number, text=text[:500]),
        )
    return sms


async def send_due_sms_tasks(clock: Clock, policy: SmsPolicy, *, hub: Hub | None = None) -> int:
    """SMS tasks (T2) whose time has come: each sends its text once, then is done.

    Called by the scheduler every minute. Sending and closing the task are one transaction,
    and the outbox key is the task's, so a crash in between cannot send it twice. With a
    `hub`, each task closed publishes TaskDone once its transaction is committed (webhooks).
    """
    sent = 0
    closed: list[int] = []
    region = (await get_company()).default_region
    for task in await due_sms_tasks(clock):
        number = await _task_number(task)
        async with in_transaction():
            updated = await Task.filter(id=task.id, is_done=False).update(
                is_done=True, done_at=clock.now()
            )
            if not updated:
                continue
            closed.append(task.id)
            if number is None:
                await add_entry(
                    "sms",
                    clock.now(),
                    client_id=task.client_id,
                    lead_id=task.lead_id,
                    ref_id=task.id,
                    detail=timeline_text.detail("sms_task_no_phone", title=task.title),
                )
                continue
            try:
                await queue_sms(
                    number,
                    task.sms_text or task.title,
                    policy=policy,
                    clock=clock,
                    user_id=task.author_id,
                    client_id=task.client_id,
                    lead_id=task.lead_id,
                    region=region,
                )
            except ValidationFailed as err:
                logger.warning("SMS task %s not sent: %s", task.id, err.fields)
                continue
            sent += 1
    if hub is not None:
        for task_id in closed:  # every transaction above is committed by now
            hub.publish(TaskDone(task_id, None))
    return sent


async def _task_number(task: Task) -> str | None:
    owner = {"client_id": task.client_id} if task.client_id else {"lead_id": task.lead_id}
    if not any(owner.values()):
        return None
    phone = await Phone.filter(**owner).order_by("position", "id").first()
    return (phone.e164 or phone.typed) if phone else None
